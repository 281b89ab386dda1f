// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness for user/http.c.
 *
 * Input: a 4-byte header, then the stream.
 *   byte 0: bit 0 requests, bit 1 answers HEAD, bits 2-7 excerpt size
 *   bytes 1, 2: two cut points (scaled to the stream)
 *   byte 3: gap size for the third run (0: none); capture budget of the fourth
 * Four parsers see the stream: whole; cut in three; cut in three with a
 * gap after the first piece; as writes of about the capture budget (budget
 * - 1, budget, budget + 1 bytes, and the three cuts) each captured up to the
 * budget, the rest of each a gap, as the kernel side reports a syscall
 * larger than its budget. The first two must report exactly the same
 * messages (nothing depends on where input is split); every message of all
 * must hold the invariants of struct message, and no byte may be counted
 * in two messages.
 *
 * Linked with all the user modules: everything but the entry point is static.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "fuzz_split.h"

#define MAX_MSGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	size_t excerpt_max;
	bool requests;
	bool head;
	uint64_t ts;		/* current feed's timestamp */
	int n;
	int errors;
	uint64_t wire;		/* wire_bytes of every message reported */
	uint64_t fed;		/* bytes fed and lost: no more can be reported */
	uint64_t hash[MAX_MSGS];
};

/*
 * The message member by member, strings up to their NUL: the bytes after
 * it (and padding) are not part of the message. Timestamps differ with
 * the cuts and are left out.
 */
static uint64_t msg_hash(const struct message *m)
{
	const struct http_part *hp = msg_http(m);
	const char *strs[] = { hp->method, hp->target, hp->reason, hp->content_type, hp->host };
	uint64_t h = 0xcbf29ce484222325ull;
	int64_t nums[] = { (int64_t)m->wire_bytes, (int64_t)m->body_bytes, (int64_t)m->lost_bytes,
			   (int64_t)m->body_len, hp->status, hp->version, m->is_request, hp->chunked,
			   hp->conn_close, m->body_cut, m->incomplete };
	size_t i;

	h = fnv(h, nums, sizeof(nums));
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		h = fnv(h, strs[i], strlen(strs[i]) + 1);
	return fnv(h, m->body, m->body_len);
}

static void check_cstr(const char *s, size_t size)
{
	if (!memchr(s, '\0', size))
		abort();
}

static void on_message(void *ctx, const struct message *m)
{
	struct run *r = ctx;
	volatile uint8_t sink = 0;
	size_t i;

	if (m->body_len > r->excerpt_max || m->body_len > m->body_bytes)
		abort();
	if (m->body_len && !m->body)
		abort();
	for (i = 0; i < m->body_len; i++)	/* ASan: the excerpt is readable */
		sink ^= m->body[i];
	(void)sink;
	if (m->body_cut != (m->body_len < m->body_bytes))
		abort();
	/* lost bytes may be head bytes (a gap in a head, a placeholder) */
	if (m->lost_bytes > m->wire_bytes || (m->lost_bytes && !m->incomplete && !m->body_bytes))
		abort();
	if (m->body_bytes > m->wire_bytes)	/* the body is on the wire, lost or not */
		abort();
	if (m->ts_first_ns > m->ts_last_ns || m->ts_last_ns > r->ts)
		abort();
	if (m->is_request != r->requests || (m->is_request && msg_http(m)->status))
		abort();
	if (!m->incomplete && msg_http(m)->version != 10 && msg_http(m)->version != 11 && !m->malformed)
		abort();
	for (i = 0; m->malformed && m->malformed[i]; i++)	/* a static word: [a-z_]+ */
		if (!(m->malformed[i] >= 'a' && m->malformed[i] <= 'z') && m->malformed[i] != '_')
			abort();
	if (m->malformed && !i)
		abort();
	if (!m->incomplete && !m->is_request && (msg_http(m)->status < 100 || msg_http(m)->status > 999))
		abort();
	check_cstr(msg_http(m)->method, sizeof(msg_http(m)->method));
	check_cstr(msg_http(m)->target, sizeof(msg_http(m)->target));
	check_cstr(msg_http(m)->reason, sizeof(msg_http(m)->reason));
	check_cstr(msg_http(m)->content_type, sizeof(msg_http(m)->content_type));
	check_cstr(msg_http(m)->host, sizeof(msg_http(m)->host));
	if (m->is_request && !m->incomplete && !msg_http(m)->method[0])
		abort();

	r->wire += m->wire_bytes;
	if (r->n < MAX_MSGS)
		r->hash[r->n] = msg_hash(m);
	r->n++;
}

static bool answers_head(void *ctx)
{
	struct run *r = ctx;

	return r->head;
}

static const struct http_parser_ops ops = {
	.on_message = on_message,
	.answers_head = answers_head,
};

static void feed(struct http_parser *p, struct run *r, const uint8_t *b, size_t n)
{
	r->ts++;
	r->fed += n;
	if (http_parser__feed(p, b, n, r->ts) < 0)
		r->errors++;
}

static void gap(struct http_parser *p, struct run *r, uint64_t n)
{
	r->ts++;
	r->fed += n;
	http_parser__gap(p, n, r->ts);
}

/* Every byte reported once at most: held and placeholder messages included. */
static void check_accounting(const struct run *r)
{
	if (r->wire > r->fed)
		abort();
}

/* Feed s cut at c1 <= c2, with a gap of lost bytes after the first piece. */
static void run_stream(struct run *r, const uint8_t *s, size_t n, size_t c1, size_t c2,
		       uint64_t lost)
{
	struct http_parser *p = http_parser__new(r->requests, r->excerpt_max, &ops, r);

	if (!p)
		return;
	feed(p, r, s, c1);
	if (lost)
		gap(p, r, lost);
	feed(p, r, s + c1, c2 - c1);
	feed(p, r, s + c2, n - c2);
	gap(p, r, 1);
	feed(p, r, s, n);
	r->ts++;
	http_parser__close(p, r->ts);
	if (http_parser__busy(p))
		abort();
	http_parser__free(p);
	check_accounting(r);
}

/* One write of len bytes, captured up to budget: the rest is a gap. */
static void write_captured(struct http_parser *p, struct run *r, const uint8_t *s, size_t len,
			   size_t budget)
{
	feed(p, r, s, len < budget ? len : budget);
	if (len > budget)
		gap(p, r, len - budget);
}

/*
 * The stream as writes around the capture budget: budget - 1, budget,
 * budget + 1 bytes in turn, cut also at c1 and c2; each write past the
 * budget loses its tail, as a syscall bigger than its capture does.
 */
static void run_budget(struct run *r, const uint8_t *s, size_t n, size_t c1, size_t c2,
		       size_t budget)
{
	struct http_parser *p = http_parser__new(r->requests, r->excerpt_max, &ops, r);
	size_t at = 0, len, k = 0;

	if (!p)
		return;
	while (at < n) {
		len = split_len(at, n, budget, k++, c1, c2);
		write_captured(p, r, s + at, len, budget);
		at += len;
	}
	r->ts++;
	http_parser__close(p, r->ts);
	if (http_parser__busy(p))
		abort();
	http_parser__free(p);
	check_accounting(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a = { 0 }, b, c, d;
	const uint8_t *s = data + 4;
	size_t n, c1, c2;

	if (size < 4)
		return 0;
	n = size - 4;
	a.requests = data[0] & 1;
	a.head = data[0] & 2;
	a.excerpt_max = data[0] >> 2;
	b = a;
	c = a;
	d = a;
	split_points(n, data[1], data[2], &c1, &c2);

	(void)http_looks_like_request(s, n);
	(void)http_looks_like_response(s, n);

	run_stream(&a, s, n, 0, 0, 0);
	run_stream(&b, s, n, c1, c2, 0);
	if (a.n != b.n || !a.errors != !b.errors)
		abort();
	for (int i = 0; i < a.n && i < MAX_MSGS; i++)
		if (a.hash[i] != b.hash[i])
			abort();
	run_stream(&c, s, n, c1, c2, data[3]);
	run_budget(&d, s, n, c1, c2, 2 + data[3]);
	return 0;
}
