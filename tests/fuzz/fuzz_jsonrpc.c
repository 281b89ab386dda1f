// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness for user/jsonrpc.c: newline framing (batch lines split
 * into their messages) and message extraction.
 *
 * Input: a 4-byte header, then the stream.
 *   byte 0: bytes kept per message (1..256)
 *   bytes 1, 2: two cut points (scaled to the stream)
 *   byte 3: capture budget of the third run (2..257)
 * Three streams see the input: whole; cut in three; as writes of about the
 * capture budget (budget - 1, budget, budget + 1 bytes, and the cuts) each
 * captured up to the budget, the rest of each a gap. The first two must
 * give exactly the same messages (nothing depends on where input is split);
 * every message of all three must hold the invariants of struct rpc_line
 * and struct rpc_msg, and no byte may be counted in two messages.
 *
 * Linked with all the user modules: everything but the entry point is static.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "fuzz_split.h"

#define MAX_MSGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	size_t keep;
	int n;
	uint64_t bytes;		/* of every message handed on */
	uint64_t fed;		/* bytes fed and lost */
	uint64_t ts;
	uint64_t hash[MAX_MSGS];
};

static void check_word(const char *w)
{
	size_t i;

	for (i = 0; w && w[i]; i++)
		if (!(w[i] >= 'a' && w[i] <= 'z') && w[i] != '_')
			abort();
	if (w && !i)
		abort();
}

/* Every message the framing hands on is parsed, as the pipeline does. */
static void check_msgs(const struct rpc_line *l)
{
	struct rpc_msg m[4];
	int i, k = jsonrpc__parse(l->text, l->text_len, m, 4);

	if (k > 4)
		abort();
	if (k == 1)
		jsonrpc__skimmed(&m[0], l);	/* what the skim saw past the kept bytes */
	if (l->method && !memchr(l->method, '\0', RPC_METHOD_MAX))
		abort();
	for (i = 0; i < k; i++) {
		if (!memchr(m[i].id, '\0', sizeof(m[i].id)) ||
		    !memchr(m[i].method, '\0', sizeof(m[i].method)) ||
		    !memchr(m[i].tool, '\0', sizeof(m[i].tool)) ||
		    !memchr(m[i].err_msg, '\0', sizeof(m[i].err_msg)))
			abort();
		if (m[i].kind == RPC_NONE || m[i].kind > RPC_ERROR)
			abort();
		if (m[i].kind == RPC_REQUEST && (!m[i].has_id || !m[i].method[0]))
			abort();
		check_word(m[i].malformed);
	}
}

static void on_msg(void *ctx, const struct rpc_line *l)
{
	struct run *r = ctx;
	volatile uint8_t sink = 0;
	size_t i;

	if (l->text_len > r->keep || l->text_len > l->bytes || l->lost > l->bytes)
		abort();
	if (l->ts_first > l->ts_last || l->ts_last > r->ts)
		abort();
	for (i = 0; i < l->text_len; i++)	/* ASan: the text is readable */
		sink ^= l->text[i];
	(void)sink;
	if (memchr(l->text, '\n', l->text_len))
		abort();
	check_msgs(l);
	r->bytes += l->bytes;
	if (r->n < MAX_MSGS)
		r->hash[r->n] = fnv(fnv(0xcbf29ce484222325ull, l->text, l->text_len), &l->bytes,
				    sizeof(l->bytes));
	r->n++;
}

static void feed(struct rpc_stream *s, struct run *r, const uint8_t *b, size_t n)
{
	r->ts++;
	r->fed += n;
	rpc_stream__feed(s, b, n, r->ts);
}

static void finish(struct rpc_stream *s, struct run *r)
{
	rpc_stream__close(s);
	rpc_stream__free(s);
	if (r->bytes > r->fed)
		abort();
}

static void run_cuts(struct run *r, const uint8_t *b, size_t n, size_t c1, size_t c2)
{
	struct rpc_stream s;

	rpc_stream__init(&s, r->keep, on_msg, r);
	feed(&s, r, b, c1);
	feed(&s, r, b + c1, c2 - c1);
	feed(&s, r, b + c2, n - c2);
	finish(&s, r);
}

/* Writes around the capture budget, each losing what is past it. */
static void run_budget(struct run *r, const uint8_t *b, size_t n, size_t c1, size_t c2,
		       size_t budget)
{
	struct rpc_stream s;
	size_t at = 0, len, k = 0;

	rpc_stream__init(&s, r->keep, on_msg, r);
	while (at < n) {
		len = split_len(at, n, budget, k++, c1, c2);
		feed(&s, r, b + at, len < budget ? len : budget);
		if (len > budget) {
			r->ts++;
			r->fed += len - budget;
			rpc_stream__gap(&s, len - budget, r->ts);
		}
		at += len;
	}
	finish(&s, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run a = { 0 }, b, c;
	const uint8_t *s = data + 4;
	size_t n, c1, c2;
	int i;

	if (size < 4)
		return 0;
	n = size - 4;
	a.keep = 1 + data[0];
	b = a;
	c = a;
	split_points(n, data[1], data[2], &c1, &c2);
	(void)jsonrpc__looks_like(s, n);
	run_cuts(&a, s, n, 0, 0);
	run_cuts(&b, s, n, c1, c2);
	if (a.n != b.n || a.bytes != b.bytes)
		abort();
	for (i = 0; i < a.n && i < MAX_MSGS; i++)
		if (a.hash[i] != b.hash[i])
			abort();
	run_budget(&c, s, n, c1, c2, 2 + data[3]);
	return 0;
}
