// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/proto_http.c: framing of requests and responses,
 * streams split at every byte, gaps, garbage, limits and detection; then
 * the protocol on a connection (proto.h): HEAD answers, JSON-RPC bodies,
 * the switch to raw after 101, what it hands the correlator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "http.h"
#include "proto.h"

#define MAX_RECS	256
#define EXCERPT		64

/* A message as the callback saw it, with its excerpt copied out. */
struct rec {
	struct message m;		/* m.http: &http */
	struct http_part http;
	uint8_t body[EXCERPT];
};

/* What a parser reported; also the answers_head replies, in order. */
struct col {
	struct rec *recs;
	int n;
	const bool *heads;
	int nheads;
	int head_calls;
	int errors;		/* feeds that returned < 0 */
	struct http_parser *p;
};

static void on_message(void *ctx, const struct message *m)
{
	struct col *c = ctx;
	struct rec *r;

	assert_true(c->n < MAX_RECS);
	r = &c->recs[c->n++];
	memcpy(&r->m, m, sizeof(*m));
	assert_non_null(m->http);	/* every HTTP message has its HTTP part */
	r->http = *m->http;
	r->m.http = &r->http;
	assert_true(m->body_len <= EXCERPT);
	if (m->body_len)
		memcpy(r->body, m->body, m->body_len);
	r->m.body = NULL;
}

static bool answers_head(void *ctx)
{
	struct col *c = ctx;
	int i = c->head_calls++;

	return i < c->nheads && c->heads[i];
}

static const struct http_parser_ops ops = {
	.on_message = on_message,
	.answers_head = answers_head,
};

static void col_reset(struct col *c)
{
	http_parser__free(c->p);
	c->p = NULL;
	c->n = 0;
	c->heads = NULL;
	c->nheads = 0;
	c->head_calls = 0;
	c->errors = 0;
}

static struct col *col_new(void)
{
	struct col *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->recs = calloc(MAX_RECS, sizeof(*c->recs));
	if (!c->recs) {
		free(c);
		return NULL;
	}
	return c;
}

static void col_free(struct col *c)
{
	if (!c)
		return;
	http_parser__free(c->p);
	free(c->recs);
	free(c);
}

static int setup(void **state)
{
	*state = col_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	col_free(*state);
	return 0;
}

/* A fresh parser for this test (the previous one, if any, is freed). */
static struct http_parser *parser(struct col *c, bool requests, size_t excerpt)
{
	col_reset(c);
	c->p = http_parser__new(requests, excerpt, &ops, c);
	assert_non_null(c->p);
	return c->p;
}

static int feed(struct col *c, const void *b, size_t n, uint64_t ts)
{
	int err = http_parser__feed(c->p, b, n, ts);

	if (err)
		c->errors++;
	return err;
}

static int feed_str(struct col *c, const char *s, uint64_t ts)
{
	return feed(c, s, strlen(s), ts);
}

static void assert_body(const struct rec *r, const char *want)
{
	assert_int_equal(r->m.body_len, strlen(want));
	assert_memory_equal(r->body, want, strlen(want));
}

/* ---- the reference streams ---- */

static const char req_stream[] =
	"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"
	"POST /api/v1/items?x=1 HTTP/1.1\r\nhost: api.example.com\r\n"
	"CONTENT-TYPE: application/json\r\nContent-Length: 17\r\n\r\n{\"name\":\"widget\"}"
	"PUT /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	"4;name=val\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
	"Expires: never\r\nX-Sum: 1\r\n\r\n"
	"\r\n"
	"DELETE /items/7 HTTP/1.0\nHost: h\n\n"
	"OPTIONS * HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
	"X-Folded: a\r\n b\r\nContent-Length: 0\r\n\r\n";

static const char resp_stream[] =
	"HTTP/1.1 100 Continue\r\n\r\n"
	"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
	"Content-Length: 12\r\n\r\nhello world!"
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	"1a; ext=\"q\"\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer-A: 1\r\n\r\n"
	"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
	"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"
	"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nTransfer-Encoding: chunked\r\n\r\n"
	"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\nnah"
	"HTTP/1.0 200\r\nContent-Type: text/plain\r\n\r\nclose-delimited body";

/* answers_head for the final responses of resp_stream: the sixth answers HEAD. */
static const bool resp_heads[] = { false, false, false, false, true, false, false };

static void stream_begin(struct col *c, bool requests)
{
	parser(c, requests, EXCERPT);
	if (!requests) {
		c->heads = resp_heads;
		c->nheads = 7;
	}
}

/* Feed a stream cut at the given offsets (ascending), then close it. */
static void run_cuts(struct col *c, bool requests, const char *s, size_t len,
		     const size_t *cuts, size_t ncuts)
{
	size_t i, from = 0, to;

	stream_begin(c, requests);
	for (i = 0; i <= ncuts; i++) {
		to = i < ncuts ? cuts[i] : len;
		feed(c, s + from, to - from, 7);
		from = to;
	}
	http_parser__close(c->p, 9);
}

static void check_req_stream(struct col *c)
{
	struct rec *r = c->recs;

	assert_int_equal(c->errors, 0);
	assert_int_equal(c->n, 5);

	assert_string_equal(r[0].http.method, "GET");
	assert_string_equal(r[0].http.target, "/index.html");
	assert_string_equal(r[0].http.host, "example.com");
	assert_int_equal(r[0].http.version, 11);
	assert_true(r[0].m.is_request);
	assert_false(r[0].http.conn_close);
	assert_int_equal(r[0].m.body_bytes, 0);
	assert_int_equal(r[0].m.wire_bytes,
			 strlen("GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n"));

	assert_string_equal(r[1].http.method, "POST");
	assert_string_equal(r[1].http.target, "/api/v1/items?x=1");
	assert_string_equal(r[1].http.host, "api.example.com");
	assert_string_equal(r[1].http.content_type, "application/json");
	assert_int_equal(r[1].m.body_bytes, 17);
	assert_body(&r[1], "{\"name\":\"widget\"}");
	assert_false(r[1].m.body_cut);

	assert_string_equal(r[2].http.method, "PUT");
	assert_true(r[2].http.chunked);
	assert_int_equal(r[2].m.body_bytes, 23);
	assert_body(&r[2], "Wikipedia in\r\n\r\nchunks.");

	assert_string_equal(r[3].http.method, "DELETE");
	assert_int_equal(r[3].http.version, 10);
	assert_true(r[3].http.conn_close);
	assert_int_equal(r[3].m.wire_bytes, strlen("DELETE /items/7 HTTP/1.0\nHost: h\n\n"));

	assert_string_equal(r[4].http.method, "OPTIONS");
	assert_string_equal(r[4].http.target, "*");
	assert_false(r[4].http.conn_close);
	for (int i = 0; i < 5; i++) {
		assert_false(r[i].m.incomplete);
		assert_int_equal(r[i].m.lost_bytes, 0);
		assert_int_equal(r[i].http.status, 0);
	}
}

static void check_resp_stream(struct col *c)
{
	struct rec *r = c->recs;
	uint64_t wire = 0;
	int i;

	assert_int_equal(c->errors, 0);
	assert_int_equal(c->n, 8);
	assert_int_equal(c->head_calls, 7);

	assert_int_equal(r[0].http.status, 100);
	assert_string_equal(r[0].http.reason, "Continue");
	assert_int_equal(r[1].http.status, 200);
	assert_string_equal(r[1].http.content_type, "text/html; charset=utf-8");
	assert_body(&r[1], "hello world!");
	assert_true(r[2].http.chunked);
	assert_int_equal(r[2].m.body_bytes, 26);
	assert_body(&r[2], "abcdefghijklmnopqrstuvwxyz");
	assert_int_equal(r[3].http.status, 204);
	assert_int_equal(r[3].m.body_bytes, 0);
	assert_int_equal(r[4].http.status, 304);
	assert_int_equal(r[5].http.status, 200);		/* answers HEAD */
	assert_int_equal(r[5].m.body_bytes, 0);
	assert_false(r[5].http.chunked);
	assert_int_equal(r[6].http.status, 404);
	assert_string_equal(r[6].http.reason, "Not Found");
	assert_true(r[6].http.conn_close);
	assert_body(&r[6], "nah");
	assert_int_equal(r[7].http.status, 200);
	assert_int_equal(r[7].http.version, 10);
	assert_string_equal(r[7].http.reason, "");
	assert_true(r[7].http.conn_close);
	assert_body(&r[7], "close-delimited body");
	for (i = 0; i < 8; i++) {
		assert_false(r[i].m.incomplete);
		assert_false(r[i].m.is_request);
		assert_int_equal(r[i].m.ts_first_ns, 7);
		assert_int_equal(r[i].m.ts_last_ns, 7);
		wire += r[i].m.wire_bytes;
	}
	assert_int_equal(wire, sizeof(resp_stream) - 1);
}

static void test_request_stream(void **state)
{
	struct col *c = *state;

	run_cuts(c, true, req_stream, sizeof(req_stream) - 1, NULL, 0);
	check_req_stream(c);
}

static void test_response_stream(void **state)
{
	struct col *c = *state;

	run_cuts(c, false, resp_stream, sizeof(resp_stream) - 1, NULL, 0);
	check_resp_stream(c);
}

/* ---- split anywhere ---- */

/* Member by member: bytes past a string's NUL (and padding) are not part of a message. */
static bool msg_same(const struct message *a, const struct message *b)
{
	const struct http_part *ha = msg_http(a), *hb = msg_http(b);

	return a->ts_first_ns == b->ts_first_ns && a->ts_last_ns == b->ts_last_ns &&
	       a->wire_bytes == b->wire_bytes && a->body_bytes == b->body_bytes &&
	       a->lost_bytes == b->lost_bytes && a->body_len == b->body_len &&
	       ha->status == hb->status && ha->version == hb->version &&
	       a->is_request == b->is_request && ha->chunked == hb->chunked &&
	       ha->conn_close == hb->conn_close && a->body_cut == b->body_cut &&
	       a->incomplete == b->incomplete && !strcmp(ha->method, hb->method) &&
	       !strcmp(ha->target, hb->target) && !strcmp(ha->reason, hb->reason) &&
	       !strcmp(ha->content_type, hb->content_type) && !strcmp(ha->host, hb->host);
}

static void assert_same(const struct col *a, const struct col *b, const char *what, size_t at)
{
	int i;

	if (a->n != b->n || a->errors != b->errors || a->head_calls != b->head_calls)
		fail_msg("%s at %zu: %d/%d messages, %d/%d errors", what, at, a->n, b->n,
			 a->errors, b->errors);
	for (i = 0; i < a->n; i++) {
		if (!msg_same(&a->recs[i].m, &b->recs[i].m) ||
		    memcmp(a->recs[i].body, b->recs[i].body, a->recs[i].m.body_len))
			fail_msg("%s at %zu: message %d differs", what, at, i);
	}
}

static void check_all_splits(bool requests, const char *s, size_t len)
{
	struct col *whole = col_new(), *cut = col_new();
	size_t k, *every;

	assert_non_null(whole);
	assert_non_null(cut);
	run_cuts(whole, requests, s, len, NULL, 0);
	for (k = 0; k <= len; k++) {
		run_cuts(cut, requests, s, len, &k, 1);
		assert_same(whole, cut, "two pieces", k);
	}
	every = calloc(len, sizeof(*every));
	assert_non_null(every);
	for (k = 0; k < len; k++)
		every[k] = k + 1;
	run_cuts(cut, requests, s, len, every, len - 1);
	assert_same(whole, cut, "byte by byte", 0);
	free(every);
	col_free(whole);
	col_free(cut);
}

static void test_split_requests(void **state)
{
	check_all_splits(true, req_stream, sizeof(req_stream) - 1);
}

static void test_split_responses(void **state)
{
	check_all_splits(false, resp_stream, sizeof(resp_stream) - 1);
}

/* Random three-way cuts of both streams, and of a stream that turns to garbage. */
static void test_split_random(void **state)
{
	static const char bad[] = "GET / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\nContent-Length: 1\r\n\r\n"
				  "xGET /y HTTP/1.1\r\n\r\nHELLO THERE\r\n\r\n";
	struct col *whole = col_new(), *cut = col_new();
	const char *s[] = { req_stream, resp_stream, bad };
	size_t lens[] = { sizeof(req_stream) - 1, sizeof(resp_stream) - 1, sizeof(bad) - 1 };
	bool reqs[] = { true, false, true };
	size_t cuts[2];
	int i, k;

	srand(4242);
	for (k = 0; k < 3; k++) {
		run_cuts(whole, reqs[k], s[k], lens[k], NULL, 0);
		for (i = 0; i < 300; i++) {
			cuts[0] = (size_t)rand() % (lens[k] + 1);
			cuts[1] = (size_t)rand() % (lens[k] + 1);
			if (cuts[0] > cuts[1]) {
				size_t t = cuts[0];

				cuts[0] = cuts[1];
				cuts[1] = t;
			}
			run_cuts(cut, reqs[k], s[k], lens[k], cuts, 2);
			if (k == 2) {
				/* when the error is returned depends on the cut; that it is does not */
				assert_int_equal(cut->n, whole->n);
				assert_true(cut->errors >= 1);
				continue;
			}
			assert_same(whole, cut, "random", cuts[0]);
		}
	}
	assert_int_equal(whole->n, 3);
	col_free(whole);
	col_free(cut);
}

/* ---- framing ---- */

static void test_keepalive_many(void **state)
{
	struct col *c = *state;
	char msg[256], fill[64];
	int i, n;

	memset(fill, 'x', sizeof(fill));

	parser(c, true, EXCERPT);
	for (i = 0; i < 200; i++) {
		if (i % 3 == 0)
			n = snprintf(msg, sizeof(msg), "GET /r/%d HTTP/1.1\r\nHost: h%d\r\n\r\n", i, i);
		else if (i % 3 == 1)
			n = snprintf(msg, sizeof(msg),
				     "POST /r/%d HTTP/1.1\r\nContent-Length: %d\r\n\r\n%.*s",
				     i, i % 50 + 1, i % 50 + 1, fill);
		else
			n = snprintf(msg, sizeof(msg),
				     "PATCH /r/%d HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
				     "3\r\n%03d\r\n0\r\n\r\n", i, i % 1000);
		assert_int_equal(feed(c, msg, (size_t)n, (uint64_t)i), 0);
		assert_int_equal(c->n, i + 1);
		assert_false(http_parser__busy(c->p));
		assert_int_equal(c->recs[i].m.wire_bytes, (uint64_t)n);
		assert_int_equal(c->recs[i].m.ts_first_ns, (uint64_t)i);
		snprintf(msg, sizeof(msg), "/r/%d", i);
		assert_string_equal(c->recs[i].http.target, msg);
	}
}

static void test_pipelining(void **state)
{
	struct col *c = *state;
	static const char reqs[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
				   "HEAD /2 HTTP/1.1\r\nHost: a\r\n\r\n"
				   "POST /3 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
				   "GET /4 HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char resps[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
				    "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
				    "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"
				    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n";
	static const bool heads[] = { false, true, false, false };

	parser(c, true, EXCERPT);
	assert_int_equal(feed(c, reqs, sizeof(reqs) - 1, 1), 0);
	assert_int_equal(c->n, 4);
	assert_string_equal(c->recs[1].http.method, "HEAD");
	assert_body(&c->recs[2], "abc");
	assert_string_equal(c->recs[3].http.target, "/4");

	parser(c, false, EXCERPT);
	c->heads = heads;
	c->nheads = 4;
	assert_int_equal(feed(c, resps, sizeof(resps) - 1, 1), 0);
	assert_int_equal(c->n, 4);
	assert_int_equal(c->head_calls, 4);
	assert_body(&c->recs[0], "ok");
	assert_int_equal(c->recs[1].m.body_bytes, 0);
	assert_int_equal(c->recs[2].http.status, 201);
	assert_body(&c->recs[3], "hi");
	assert_false(http_parser__busy(c->p));
}

static void test_continue_then_final(void **state)
{
	struct col *c = *state;

	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 100 Continue\r\n\r\n", 1), 0);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->head_calls, 0);	/* interim responses answer nothing */
	assert_false(http_parser__busy(c->p));
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 2), 0);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->head_calls, 1);
	assert_int_equal(c->recs[1].http.status, 200);
}

static void test_close_delimited(void **state)
{
	struct col *c = *state;

	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart one, ", 10), 0);
	assert_int_equal(feed_str(c, "part two", 20), 0);
	assert_true(http_parser__busy(c->p));
	assert_int_equal(c->n, 0);
	http_parser__close(c->p, 30);
	assert_int_equal(c->n, 1);
	assert_false(c->recs[0].m.incomplete);
	assert_true(c->recs[0].http.conn_close);
	assert_body(&c->recs[0], "part one, part two");
	assert_int_equal(c->recs[0].m.ts_first_ns, 10);
	assert_int_equal(c->recs[0].m.ts_last_ns, 20);
	assert_false(http_parser__busy(c->p));
}

static void test_close_incomplete(void **state)
{
	struct col *c = *state;

	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345", 1), 0);
	http_parser__close(c->p, 2);
	assert_int_equal(c->n, 1);
	assert_true(c->recs[0].m.incomplete);
	assert_int_equal(c->recs[0].m.body_bytes, 5);

	/* a head cut short still says what it can */
	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "GET /partial HTTP/1.1\r\nHost: x\r\nAcc", 1), 0);
	assert_true(http_parser__busy(c->p));
	http_parser__close(c->p, 2);
	assert_int_equal(c->n, 1);
	assert_true(c->recs[0].m.incomplete);
	assert_string_equal(c->recs[0].http.method, "GET");
	assert_string_equal(c->recs[0].http.target, "/partial");
	assert_string_equal(c->recs[0].http.host, "x");

	/* nothing started: nothing reported */
	parser(c, true, EXCERPT);
	http_parser__close(c->p, 2);
	assert_int_equal(c->n, 0);
}

static void test_timestamps(void **state)
{
	struct col *c = *state;

	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "\r\n", 50), 0);	/* belongs to no message */
	assert_int_equal(feed_str(c, "POST / HTTP/1.1\r\nContent-", 100), 0);
	assert_int_equal(feed_str(c, "Length: 4\r\n\r\nab", 200), 0);
	assert_int_equal(feed_str(c, "cdGET", 300), 0);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->recs[0].m.ts_first_ns, 100);
	assert_int_equal(c->recs[0].m.ts_last_ns, 300);
	assert_int_equal(feed_str(c, " / HTTP/1.1\r\n\r\n", 400), 0);
	assert_int_equal(c->recs[1].m.ts_first_ns, 300);
	assert_int_equal(c->recs[1].m.ts_last_ns, 400);
}

static void test_connection_header(void **state)
{
	struct col *c = *state;

	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"
				     "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
				     "GET / HTTP/1.0\r\n\r\n"
				     "GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n", 1), 0);
	assert_int_equal(c->n, 4);
	assert_true(c->recs[0].http.conn_close);
	assert_false(c->recs[1].http.conn_close);
	assert_true(c->recs[2].http.conn_close);
	assert_true(c->recs[3].http.conn_close);
}

/* MCP Streamable HTTP headers and trace context are kept, the first of each. */
static void test_mcp_headers(void **state)
{
	struct col *c = *state;

	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "POST /mcp HTTP/1.1\r\nMcp-Session-Id: s-1\r\n"
				     "MCP-Method: tools/call\r\nMcp-Name: echo\r\nMcp-Name: other\r\n"
				     "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
				     "Content-Length: 0\r\n\r\n"
				     "POST /mcp HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 1), 0);
	assert_int_equal(c->n, 2);
	assert_string_equal(c->recs[0].http.mcp_session, "s-1");
	assert_string_equal(c->recs[0].http.mcp_method, "tools/call");
	assert_string_equal(c->recs[0].http.mcp_name, "echo");
	assert_string_equal(c->recs[0].http.traceparent,
			    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	/* the next message on the connection starts with none of them */
	assert_string_equal(c->recs[1].http.mcp_session, "");
	assert_string_equal(c->recs[1].http.mcp_name, "");
}

static void test_long_fields_cut(void **state)
{
	struct col *c = *state;
	char *req = malloc(4096);
	size_t n;

	assert_non_null(req);
	n = (size_t)sprintf(req, "GET /");
	memset(req + n, 'a', 2000);
	n += 2000;
	n += (size_t)sprintf(req + n, " HTTP/1.1\r\nHost: ");
	memset(req + n, 'h', 400);
	n += 400;
	n += (size_t)sprintf(req + n, "\r\n\r\n");
	parser(c, true, EXCERPT);
	assert_int_equal(feed(c, req, n, 1), 0);
	assert_int_equal(c->n, 1);
	assert_int_equal(strlen(c->recs[0].http.target), HTTP_TARGET_MAX - 1);
	assert_int_equal(strlen(c->recs[0].http.host), HTTP_HOST_MAX - 1);
	free(req);
}

static void test_excerpt_cut(void **state)
{
	struct col *c = *state;

	parser(c, false, 8);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n"
				     "0123456789abcdefghij", 1), 0);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->recs[0].m.body_bytes, 20);
	assert_body(&c->recs[0], "01234567");
	assert_true(c->recs[0].m.body_cut);

	parser(c, false, 0);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", 1), 0);
	assert_int_equal(c->recs[0].m.body_len, 0);
	assert_true(c->recs[0].m.body_cut);

	/* a body exactly the size of the excerpt is not cut */
	parser(c, false, 8);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nabcdefgh", 1), 0);
	assert_false(c->recs[0].m.body_cut);
}

/* ---- gaps ---- */

static void test_gap_in_body(void **state)
{
	struct col *c = *state;
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
	char b[40];

	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, head, 1), 0);
	assert_int_equal(feed_str(c, "aaaaaaaaaa", 2), 0);
	http_parser__gap(c->p, 50, 3);
	assert_true(http_parser__busy(c->p));
	memset(b, 'b', sizeof(b));
	assert_int_equal(feed(c, b, sizeof(b), 4), 0);
	assert_int_equal(c->n, 1);
	assert_false(c->recs[0].m.incomplete);
	assert_int_equal(c->recs[0].m.lost_bytes, 50);
	assert_int_equal(c->recs[0].m.body_bytes, 100);
	assert_int_equal(c->recs[0].m.wire_bytes, sizeof(head) - 1 + 100);
	assert_body(&c->recs[0], "aaaaaaaaaa");	/* nothing after the hole */
	assert_true(c->recs[0].m.body_cut);
	assert_int_equal(c->recs[0].m.ts_last_ns, 4);
	/* and the next message is in step */
	assert_int_equal(feed_str(c, "HTTP/1.1 204 No Content\r\n\r\n", 5), 0);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->recs[1].m.lost_bytes, 0);
}

static void test_gap_ends_body(void **state)
{
	struct col *c = *state;

	/* the gap covers exactly the rest of the body */
	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", 1), 0);
	http_parser__gap(c->p, 5, 2);
	assert_int_equal(c->n, 1);
	assert_false(c->recs[0].m.incomplete);
	assert_int_equal(c->recs[0].m.lost_bytes, 5);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3), 0);
	assert_int_equal(c->n, 2);

	/*
	 * more than the rest: the message completes, the stream resyncs, and
	 * the 25 bytes past it (a response we did not see) are written as a
	 * placeholder at once, so the request it answered is not left waiting
	 */
	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", 1), 0);
	http_parser__gap(c->p, 30, 2);
	assert_int_equal(c->n, 2);
	assert_false(c->recs[0].m.incomplete);
	assert_int_equal(c->recs[0].m.lost_bytes, 5);
	assert_true(c->recs[1].m.incomplete);
	assert_int_equal(c->recs[1].m.lost_bytes, 25);
	assert_int_equal(c->recs[1].m.wire_bytes, 25);
	assert_int_equal(c->recs[1].http.status, 0);
	assert_int_equal(feed_str(c, "ost bytes\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", 3), 0);
	assert_int_equal(c->n, 3);
	assert_int_equal(c->recs[2].http.status, 201);
	assert_int_equal(c->recs[2].m.ts_first_ns, 3);
}

static void test_gap_in_chunk(void **state)
{
	struct col *c = *state;

	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				     "10\r\n0123", 1), 0);
	http_parser__gap(c->p, 12, 2);		/* exactly the rest of the chunk */
	assert_int_equal(feed_str(c, "\r\n3\r\nxyz\r\n0\r\n\r\n", 3), 0);
	assert_int_equal(c->n, 1);
	assert_false(c->recs[0].m.incomplete);
	assert_int_equal(c->recs[0].m.lost_bytes, 12);
	assert_int_equal(c->recs[0].m.body_bytes, 19);
	assert_body(&c->recs[0], "0123");

	/* beyond the chunk: where the next size line is is unknown */
	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				     "10\r\n0123", 1), 0);
	http_parser__gap(c->p, 40, 2);
	assert_int_equal(c->n, 1);
	assert_true(c->recs[0].m.incomplete);
	assert_false(http_parser__busy(c->p));
}

static void test_gap_in_head(void **state)
{
	struct col *c = *state;

	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "GET /a HTTP/1.1\r\nHost: x", 1), 0);
	http_parser__gap(c->p, 30, 2);
	/*
	 * held until the next request line proves where it ended: its answer
	 * (which may come first) pairs with it, and its bytes are all its own
	 */
	assert_int_equal(c->n, 0);
	assert_true(http_parser__busy(c->p));
	/* resync: only a method at a line start counts */
	assert_int_equal(feed_str(c, "ail\r\nmore GET /x HTTP/1.1\r\n", 3), 0);
	assert_int_equal(feed_str(c, "GE", 4), 0);
	assert_int_equal(c->n, 0);
	assert_int_equal(feed_str(c, "T /b HTTP/1.1\r\nHost: y\r\n\r\n", 5), 0);
	assert_int_equal(c->n, 2);
	assert_true(c->recs[0].m.incomplete);
	assert_string_equal(c->recs[0].http.method, "GET");
	assert_string_equal(c->recs[0].http.target, "/a");
	assert_int_equal(c->recs[0].m.lost_bytes, 30);
	assert_int_equal(c->recs[0].m.wire_bytes,
			 strlen("GET /a HTTP/1.1\r\nHost: x") + 30 +
			 strlen("ail\r\nmore GET /x HTTP/1.1\r\n"));
	assert_false(c->recs[1].m.incomplete);
	assert_string_equal(c->recs[1].http.target, "/b");
	assert_string_equal(c->recs[1].http.host, "y");
	assert_int_equal(c->recs[1].m.ts_first_ns, 4);
	assert_int_equal(c->recs[1].m.wire_bytes, strlen("GET /b HTTP/1.1\r\nHost: y\r\n\r\n"));
}

static void test_gap_resync(void **state)
{
	struct col *c = *state;

	/* right after a gap counts as a line start */
	/* the lost bytes are a placeholder request, written before the next one */
	parser(c, true, EXCERPT);
	http_parser__gap(c->p, 100, 1);
	assert_int_equal(c->n, 0);
	assert_true(http_parser__busy(c->p));
	assert_int_equal(feed_str(c, "POST /c HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", 2), 0);
	assert_int_equal(c->n, 2);
	assert_true(c->recs[0].m.incomplete);
	assert_int_equal(c->recs[0].m.lost_bytes, 100);
	assert_int_equal(c->recs[0].m.wire_bytes, 100);
	assert_string_equal(c->recs[0].http.method, "");
	assert_body(&c->recs[1], "hi");

	/* a method word that is not a request line is skipped, quietly (into the placeholder) */
	parser(c, true, EXCERPT);
	http_parser__gap(c->p, 100, 1);
	assert_int_equal(feed_str(c, "GET is a word\r\nDELETE\r\nGET /ok HTTP/1.1\r\n\r\n", 2), 0);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->recs[0].m.wire_bytes, 100 + strlen("GET is a word\r\nDELETE\r\n"));
	assert_string_equal(c->recs[1].http.target, "/ok");

	/* responses resync on HTTP/1.; their placeholder is written at once */
	parser(c, false, EXCERPT);
	http_parser__gap(c->p, 100, 1);
	assert_int_equal(c->n, 1);
	assert_true(c->recs[0].m.incomplete);
	assert_int_equal(feed_str(c, "<html>HTTP/1.1 200\r\n</html>\r\nHTTP/1.1 204 No\r\n\r\n", 2), 0);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->recs[1].http.status, 204);
}

/*
 * After a gap in a body whose head was lost, the body is glued to the next
 * request line (no CRLF between): no line start follows, but the next
 * write does start a request (a client that waits for each answer).
 */
static void test_gap_resync_at_write_boundary(void **state)
{
	struct col *c = *state;
	char body[200];

	memset(body, 'x', sizeof(body));
	parser(c, true, EXCERPT);
	http_parser__gap(c->p, 1000, 1);
	assert_int_equal(feed(c, body, sizeof(body), 2), 0);
	assert_int_equal(feed_str(c, "POST /a HTTP/1.1\r\nContent-Length: 200\r\n\r\n", 3), 0);
	assert_int_equal(feed(c, body, sizeof(body), 4), 0);
	assert_int_equal(c->n, 2);
	assert_true(c->recs[0].m.incomplete);
	assert_int_equal(c->recs[0].m.wire_bytes, 1000 + sizeof(body));
	assert_string_equal(c->recs[1].http.target, "/a");
	assert_int_equal(c->recs[1].m.body_bytes, 200);
	/* once in step, write boundaries are nothing special */
	assert_int_equal(feed_str(c, "\x01junk", 5), -EPROTO);
	assert_int_equal(feed_str(c, "GET /b HTTP/1.1\r\n\r\n", 6), -EPROTO);
	assert_int_equal(c->n, 2);
}

/* ---- issue 13: lenient, flagged ---- */

struct lenient_case {
	const char *line;	/* request line, without CRLF */
	size_t len;
	const char *method, *target, *malformed;
	int version;
};

#define LC(l, m, t, why, v) { l, sizeof(l) - 1, m, t, why, v }
static const struct lenient_case lenient_cases[] = {
	LC("GET /t\tab HTTP/1.1", "GET", "/t\tab", "control_char", 11),
	LC("GET /t\0ab HTTP/1.1", "GET", "/t", "control_char", 11),	/* the NUL ends the C string */
	LC("GET /t\x1b" "ab HTTP/1.1", "GET", "/t\x1b" "ab", "control_char", 11),
	LC("GET /t\x7f" "ab HTTP/1.1", "GET", "/t\x7f" "ab", "control_char", 11),
	LC("GET /t\rab HTTP/1.1", "GET", "/t\rab", "bare_cr", 11),
	LC("GET  /tab HTTP/1.1", "GET", "/tab", "whitespace", 11),
	LC("GET /tab  HTTP/1.1", "GET", "/tab", "whitespace", 11),
	LC("GET /t ab HTTP/1.1", "GET", "/t ab", "whitespace", 11),
	LC("GET /tab HTTP/2.0", "GET", "/tab", "version", 20),
	LC("GET /tab HTTP/0.9", "GET", "/tab", "version", 9),
	LC("GET /tab HTTP/1.1x", "GET", "/tab", "version", 0),
	LC("GET /tab", "GET", "/tab", "no_version", 0),
	LC("GE{T /tab HTTP/1.1", "GE{T", "/tab", "method", 11),
	LC("ABCDEFGHIJKLMNOPQRSTUVWXYZABCD /tab HTTP/1.1", "ABCDEFGHIJKLMNOPQRSTUVW", "/tab",
	   "method_length", 11),
	LC("GET HTTP/1.1", "GET", "", "target", 11),
	LC("get /tab HTTP/1.1", "get", "/tab", NULL, 11),
	LC("PROPFIND /tab HTTP/1.1", "PROPFIND", "/tab", NULL, 11),
};

/* Each odd request line, first and after a good request: recorded as seen, the next one too. */
static void test_lenient_request_lines(void **state)
{
	struct col *c = *state;
	size_t i, n = sizeof(lenient_cases) / sizeof(lenient_cases[0]);
	char buf[256];

	for (i = 0; i < n; i++) {
		const struct lenient_case *lc = &lenient_cases[i];
		size_t len = lc->len;

		for (int second = 0; second < 2; second++) {
			struct rec *r;

			parser(c, true, EXCERPT);
			if (second)
				assert_int_equal(feed_str(c, "GET /a HTTP/1.1\r\n\r\n", 1), 0);
			memcpy(buf, lc->line, len);
			memcpy(buf + len, "\r\nHost: h\r\n\r\n", 13);
			assert_int_equal(feed(c, buf, len + 13, 2), 0);
			assert_int_equal(feed_str(c, "DELETE /secret HTTP/1.1\r\n\r\n", 3), 0);
			assert_int_equal(c->n, 2 + second);
			r = &c->recs[second];
			assert_string_equal(r->http.method, lc->method);
			assert_string_equal(r->http.target, lc->target);
			assert_string_equal(r->http.host, "h");
			assert_int_equal(r->http.version, lc->version);
			assert_int_equal(r->m.wire_bytes, len + 13);
			if (lc->malformed)
				assert_string_equal(r->m.malformed, lc->malformed);
			else
				assert_null(r->m.malformed);
			assert_string_equal(c->recs[1 + second].http.target, "/secret");
			assert_null(c->recs[1 + second].m.malformed);
		}
	}
}

/* Header lines that are not strict: flagged, the message and the next parsed. */
/* Names of any tchar, short and long, are valid; the headers after them are read. */
static void test_header_names_tchar(void **state)
{
	struct col *c = *state;

	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "POST /p HTTP/1.1\r\nX_Long.Header~Name|With!Tchars#$%&'*+^`: v\r\n"
				 "ab: 1\r\nContent-Type: text/x\r\n0123456789-ABCDEFabcdef: 2\r\n"
				 "Content-Length: 2\r\n\r\nhi", 1), 0);
	assert_int_equal(c->n, 1);
	assert_null(c->recs[0].m.malformed);
	assert_string_equal(c->recs[0].http.content_type, "text/x");
	assert_body(&c->recs[0], "hi");
}

/* RFC 9110 5.6.2 token bytes, written out here as the reference. */
static bool ref_tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* What a "Content-Type: <value>" line with byte c at place at gives: the reason, and the type kept. */
static const char *ref_ctype_line(const uint8_t *line, size_t n, size_t at, char *ctype)
{
	const size_t nl = 12;	/* "Content-Type" */
	uint8_t c = line[at];
	size_t a = nl + 1, b = n;

	ctype[0] = '\0';
	if (at < nl && (c >= 'A' && c <= 'Z' ? c + 32 : c) != "content-type"[at]) {
		/* another name: a token, a colon cutting it short, or no name at all */
		if (ref_tchar(c) || (c == ':' && at > 0))
			return NULL;
		if (at == 0 && (c == ' ' || c == '\t'))
			return "obs_fold";
		return c == '\r' ? "bare_cr" : "header";
	}
	if (at >= nl + 1 && ((c < 0x20 && c != '\t') || c == 0x7f)) {
		if (c == '\r')
			return "bare_cr";
	}
	while (a < b && (line[a] == ' ' || line[a] == '\t'))
		a++;
	while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t'))
		b--;
	memcpy(ctype, line + a, b - a);
	ctype[b - a] = '\0';
	return at >= nl + 1 && ((c < 0x20 && c != '\t') || c == 0x7f) ? "control_char" : NULL;
}

/*
 * A known header name takes a short way (http_scan.h) when its value is
 * printable: every byte value at every place of a Content-Type line, for
 * values shorter and longer than the 8- and 16-byte blocks tested, gives
 * what the byte-by-byte reading gives (the reference above), whole and
 * split at every byte.
 */
static void test_known_header_every_byte(void **state)
{
	static const size_t value_lens[] = { 1, 3, 4, 9, 17, 30 };
	struct col *c = *state;
	char req[128], want_ctype[64];
	uint8_t line[64];
	size_t v, at, n, k;
	unsigned b;

	for (v = 0; v < sizeof(value_lens) / sizeof(value_lens[0]); v++) {
		n = (size_t)snprintf((char *)line, sizeof(line), "Content-Type: %.*s",
				     (int)value_lens[v], "text/plain;charset=utf-8;q=0.5xx");
		for (at = 0; at < n; at++)
			for (b = 0; b < 256; b++) {
				const char *why;
				uint8_t keep = line[at];
				size_t len;

				if (b == '\n' || (at == 12 && b != ':'))
					continue;	/* a line split in two; the colon (checked as a name byte) */
				line[at] = (uint8_t)b;
				why = ref_ctype_line(line, n, at, want_ctype);
				len = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n");
				memcpy(req + len, line, n);
				len += n;
				len += (size_t)snprintf(req + len, sizeof(req) - len, "\r\n\r\n");
				for (k = 0; k < 2; k++) {
					size_t i;

					parser(c, true, EXCERPT);
					if (k == 0)
						assert_int_equal(feed(c, req, len, 1), 0);
					for (i = 0; k == 1 && i < len; i++)
						assert_int_equal(feed(c, req + i, 1, 1), 0);
					assert_int_equal(c->n, 1);
					if (why)
						assert_string_equal(c->recs[0].m.malformed, why);
					else
						assert_null(c->recs[0].m.malformed);
					assert_string_equal(c->recs[0].http.content_type, want_ctype);
				}
				line[at] = keep;
			}
	}
}

/* What a parse reported, to compare one way of feeding with another. */
struct seen {
	int n;
	bool skipped;
	struct rec recs[4];
};

/* msg (a whole message, or garbage) fed in one piece, or one byte a feed. */
static void parse_into(struct col *c, bool requests, const uint8_t *msg, size_t len, bool bytewise,
		       struct seen *out)
{
	size_t i;

	parser(c, requests, EXCERPT);
	if (!bytewise)
		feed(c, msg, len, 1);
	for (i = 0; bytewise && i < len; i++)
		feed(c, msg + i, 1, 1);
	http_parser__close(c->p, 2);
	assert_true(c->n <= 4);
	out->n = c->n;
	out->skipped = c->errors > 0;
	memcpy(out->recs, c->recs, (size_t)c->n * sizeof(*c->recs));
}

static void assert_same_parse(const struct seen *a, const struct seen *b)
{
	int i;

	assert_int_equal(a->n, b->n);
	assert_int_equal(a->skipped, b->skipped);
	for (i = 0; i < a->n; i++) {
		const struct rec *x = &a->recs[i], *y = &b->recs[i];

		assert_ptr_equal(x->m.malformed, y->m.malformed);	/* the same static word */
		assert_string_equal(x->http.method, y->http.method);
		assert_string_equal(x->http.target, y->http.target);
		assert_string_equal(x->http.reason, y->http.reason);
		assert_int_equal(x->http.status, y->http.status);
		assert_int_equal(x->http.version, y->http.version);
		assert_int_equal(x->m.wire_bytes, y->m.wire_bytes);
		assert_int_equal(x->m.incomplete, y->m.incomplete);
		assert_int_equal(x->http.conn_close, y->http.conn_close);
	}
}

/*
 * A start line that arrives whole may be taken by a quick reading
 * (reqline_quick, statusline_quick); one put together from pieces is read
 * the careful way. Every byte value at every place of common start lines
 * (and each line cut short) must give the same messages both ways.
 */
static void test_startline_quick_same(void **state)
{
	static const struct {
		bool requests;
		const char *line, *rest;
	} lines[] = {
		{ true, "GET /index.html HTTP/1.1\r", "\nHost: h\r\n\r\n" },
		{ true, "POST /a/b?c=d&e=f HTTP/1.0\r", "\nContent-Length: 0\r\n\r\n" },
		{ true, "GET / HTTP/1.1\r", "\n\r\n" },
		{ true, "OPTIONS * HTTP/1.1\r", "\n\r\n" },
		{ true, "DELETE /items/7 HTTP/1.1\r", "\n\r\n" },
		/* targets of 6, 7, 16 and 17 bytes: around the one-block test */
		{ true, "GET /abcde HTTP/1.1\r", "\n\r\n" },
		{ true, "GET /abcdef HTTP/1.1\r", "\n\r\n" },
		{ true, "GET /abcdefghijklmno HTTP/1.1\r", "\n\r\n" },
		{ true, "PUT /abcdefghijklmnop HTTP/1.1\r", "\n\r\n" },
		{ false, "HTTP/1.1 200 OK\r", "\nContent-Length: 0\r\n\r\n" },
		{ false, "HTTP/1.0 404 Not Found\r", "\nContent-Length: 0\r\n\r\n" },
		{ false, "HTTP/1.1 204 \r", "\n\r\n" },
		{ false, "HTTP/1.1 304\r", "\n\r\n" },
	};
	struct col *c = *state;
	struct seen *whole = calloc(1, sizeof(*whole)), *bytes = calloc(1, sizeof(*bytes));
	uint8_t msg[96];
	size_t l, at, ll, len, cut;
	unsigned b;

	assert_non_null(whole);
	assert_non_null(bytes);
	for (l = 0; l < sizeof(lines) / sizeof(lines[0]); l++) {
		ll = strlen(lines[l].line);
		len = (size_t)snprintf((char *)msg, sizeof(msg), "%s%s", lines[l].line, lines[l].rest);
		for (at = 0; at < ll; at++)
			for (b = 0; b < 256; b++) {
				uint8_t keep = msg[at];

				if (b == '\n')
					continue;
				msg[at] = (uint8_t)b;
				parse_into(c, lines[l].requests, msg, len, false, whole);
				parse_into(c, lines[l].requests, msg, len, true, bytes);
				assert_same_parse(whole, bytes);
				msg[at] = keep;
			}
		for (cut = 0; cut < ll; cut++) {
			len = (size_t)snprintf((char *)msg, sizeof(msg), "%.*s%s", (int)cut, lines[l].line,
					       lines[l].rest);
			parse_into(c, lines[l].requests, msg, len, false, whole);
			parse_into(c, lines[l].requests, msg, len, true, bytes);
			assert_same_parse(whole, bytes);
		}
	}
	free(whole);
	free(bytes);
}

static void test_lenient_headers(void **state)
{
	static const struct {
		const char *hdr, *why;
	} hs[] = {
		{ "X-A: a\x01b", "control_char" },
		{ "X-A: a\rb", "bare_cr" },
		{ "no colon here", "header" },
		{ ": empty name", "header" },
		{ "X A: b", "header" },
		{ " folded", "obs_fold" },
		/* past a name's first eight bytes (read a word at a time) */
		{ "X-Long-Header\x01Name: v", "header" },
		{ "X-Long-Header\rName: v", "bare_cr" },
		{ "X-Long-Header\x80Name: v", "header" },
		{ "X-Long-Header Name: v", "header" },
		{ "X-Long-Header-Name-: a\x7f", "control_char" },
	};
	struct col *c = *state;
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++) {
		parser(c, true, EXCERPT);
		snprintf(buf, sizeof(buf), "POST /p HTTP/1.1\r\n%s\r\nContent-Length: 2\r\n\r\nhi"
			 "GET /next HTTP/1.1\r\n\r\n", hs[i].hdr);
		assert_int_equal(feed_str(c, buf, 1), 0);
		assert_int_equal(c->n, 2);
		assert_string_equal(c->recs[0].m.malformed, hs[i].why);
		assert_body(&c->recs[0], "hi");
		assert_string_equal(c->recs[1].http.target, "/next");
	}
}

/* ---- protocol errors and limits ---- */

static void test_garbage(void **state)
{
	struct col *c = *state;

	parser(c, true, EXCERPT);
	assert_int_equal(feed(c, "\x16\x03\x01\x00\xa5", 5, 1), -EPROTO);
	assert_int_equal(c->n, 0);
	assert_false(http_parser__busy(c->p));
	/* the rest of the garbage line, up to its LF, is skipped too */
	assert_int_equal(feed_str(c, "GET / HTTP/1.1\r\n\r\n", 2), -EPROTO);
	assert_int_equal(c->n, 0);
	/* not sticky: the next line that is a request is one */
	assert_int_equal(feed_str(c, "GET /next HTTP/1.1\r\n\r\n", 3), 0);
	assert_int_equal(c->n, 1);
	assert_string_equal(c->recs[0].http.target, "/next");
	/* a gap gives a placeholder for what it hid, then the next request */
	http_parser__gap(c->p, 1, 3);
	assert_int_equal(feed_str(c, "GET / HTTP/1.1\r\n\r\n", 4), 0);
	assert_int_equal(c->n, 3);
	assert_true(c->recs[1].m.incomplete);
	assert_int_equal(c->recs[1].m.lost_bytes, 1);
	assert_string_equal(c->recs[2].http.method, "GET");

	/* garbage after a good message */
	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nSSH-2.0-OpenSSH\r\n", 1),
			 -EPROTO);
	assert_int_equal(c->n, 1);

	/* a token line that is no request line */
	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "HELLO world\r\n", 1), -EPROTO);
	/* issue 13: an unknown version is recorded as seen, flagged */
	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "GET / HTTP/2.0\r\n\r\n", 1), 0);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->recs[0].http.version, 20);
	assert_string_equal(c->recs[0].m.malformed, "version");
	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 2000 OK\r\n\r\n", 1), -EPROTO);
	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 099 Low\r\n\r\n", 1), -EPROTO);

	/* found by fuzz_http: a second CR before the LF, whole or cut after it */
	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\r\n\r\n", 1), -EPROTO);
	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\r", 1), -EPROTO);
	assert_int_equal(c->n, 0);
}

/*
 * Issue 13: bad framing no longer stops the parser. The message is written
 * with `malformed`, takes the bytes up to the next request (or status)
 * line at a line start, and the next message is parsed as usual.
 */
static void test_bad_framing(void **state)
{
	struct col *c = *state;
	static const char bad_cl[] = "POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\nbody\r\n";

	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, bad_cl, 1), 0);
	assert_int_equal(c->n, 0);		/* held: its end is unknown */
	assert_true(http_parser__busy(c->p));
	assert_int_equal(feed_str(c, "DELETE /secret HTTP/1.1\r\n\r\n", 2), 0);
	assert_int_equal(c->n, 2);
	assert_string_equal(c->recs[0].http.method, "POST");
	assert_string_equal(c->recs[0].m.malformed, "content_length");
	assert_false(c->recs[0].m.incomplete);
	assert_int_equal(c->recs[0].m.wire_bytes, strlen(bad_cl));
	assert_int_equal(c->recs[0].m.body_bytes, strlen("body\r\n"));
	assert_string_equal(c->recs[1].http.method, "DELETE");
	assert_string_equal(c->recs[1].http.target, "/secret");
	assert_null(c->recs[1].m.malformed);

	/* two lengths that differ; ended by close */
	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "POST / HTTP/1.1\r\nContent-Length: 1\r\n"
				     "Content-Length: 2\r\n\r\nxy", 1), 0);
	http_parser__close(c->p, 2);
	assert_int_equal(c->n, 1);
	assert_string_equal(c->recs[0].m.malformed, "content_length");
	assert_int_equal(c->recs[0].m.body_bytes, 2);

	/* a bad chunk size: resync at the next status line */
	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				     "zz\r\nmore\r\nHTTP/1.1 204 No Content\r\n\r\n", 1), 0);
	assert_int_equal(c->n, 2);
	assert_string_equal(c->recs[0].m.malformed, "chunk_size");
	assert_int_equal(c->recs[1].http.status, 204);

	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				     "3\r\nabcX", 1), 0);
	http_parser__close(c->p, 2);
	assert_int_equal(c->n, 1);
	assert_string_equal(c->recs[0].m.malformed, "chunk_framing");

	/* identical duplicates are fine */
	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "POST / HTTP/1.1\r\nContent-Length: 1\r\n"
				     "Content-Length: 1\r\n\r\nz", 1), 0);
	assert_int_equal(c->n, 1);
	assert_null(c->recs[0].m.malformed);

	/* Content-Length with chunked: chunked decides (RFC 9112 6.3), flagged */
	parser(c, true, EXCERPT);
	assert_int_equal(feed_str(c, "POST / HTTP/1.1\r\nContent-Length: 100\r\n"
				     "Transfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"
				     "GET /after HTTP/1.1\r\n\r\n", 1), 0);
	assert_int_equal(c->n, 2);
	assert_string_equal(c->recs[0].m.malformed, "content_length_and_transfer_encoding");
	assert_string_equal(c->recs[1].http.target, "/after");
}

static void test_switching_protocols(void **state)
{
	struct col *c = *state;

	parser(c, false, EXCERPT);
	assert_int_equal(feed_str(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 1), 0);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->recs[0].http.status, 101);
	assert_int_equal(feed(c, "\x81\x05hello", 7, 2), -EPROTO);
	assert_int_equal(c->n, 1);
}

static size_t build_head(char *b, size_t size)
{
	size_t n;

	n = (size_t)snprintf(b, 64, "GET /big HTTP/1.1\r\nX-Big: ");
	memset(b + n, 'x', size - n - 4);
	memcpy(b + size - 4, "\r\n\r\n", 4);
	return size;
}

/*
 * Issue 13: a head bigger than the parser keeps is parsed to its end (its
 * framing headers too), and `bytes` is its length on the wire.
 */
static void test_oversize_head(void **state)
{
	struct col *c = *state;
	size_t big = 1u << 20, n, i;
	char *b = malloc(big + 200);
	static const char tail[] = "\r\nContent-Length: 3\r\n\r\nabcGET /next HTTP/1.1\r\n\r\n";

	assert_non_null(b);
	n = build_head(b, HTTP_HEAD_MAX);
	parser(c, true, EXCERPT);
	assert_int_equal(feed(c, b, n, 1), 0);
	assert_int_equal(c->n, 1);
	assert_false(c->recs[0].m.incomplete);
	assert_int_equal(c->recs[0].m.wire_bytes, HTTP_HEAD_MAX);
	assert_string_equal(c->recs[0].m.malformed, "header_too_long");

	n = build_head(b, HTTP_HEAD_MAX + 1);
	parser(c, true, EXCERPT);
	assert_int_equal(feed(c, b, n, 1), 0);
	assert_int_equal(c->n, 1);
	assert_false(c->recs[0].m.incomplete);
	assert_string_equal(c->recs[0].http.method, "GET");
	assert_string_equal(c->recs[0].http.target, "/big");
	assert_int_equal(c->recs[0].m.wire_bytes, HTTP_HEAD_MAX + 1);

	/* 1 MiB of header, then Content-Length: in small pieces, then whole */
	n = build_head(b, big) - 4;
	memcpy(b + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	for (int whole = 0; whole < 2; whole++) {
		parser(c, true, EXCERPT);
		for (i = 0; i < n; i += whole ? n : 100)
			assert_int_equal(feed(c, b + i, whole || n - i > 100 ? (whole ? n : 100) : n - i, 1), 0);
		assert_int_equal(c->n, 2);
		assert_false(c->recs[0].m.incomplete);
		assert_int_equal(c->recs[0].m.wire_bytes, n - strlen("GET /next HTTP/1.1\r\n\r\n"));
		assert_int_equal(c->recs[0].m.body_bytes, 3);
		assert_body(&c->recs[0], "abc");
		assert_string_equal(c->recs[1].http.target, "/next");
	}
	free(b);
}

/* ---- detection ---- */

static bool req(const char *s)
{
	return http_looks_like_request((const uint8_t *)s, strlen(s));
}

static bool resp(const char *s)
{
	return http_looks_like_response((const uint8_t *)s, strlen(s));
}

static void test_looks_like(void **state)
{
	assert_true(req("G"));
	assert_true(req("GE"));
	assert_true(req("GET"));
	assert_true(req("GET "));
	assert_true(req("GET /index.html HT"));
	assert_true(req("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
	assert_true(req("OPTIONS * HTTP/1.0\r\n"));
	assert_true(req("CONNECT"));
	assert_true(req("DEL"));
	assert_false(req(""));
	assert_false(req("GETX"));
	/*
	 * Issue 13: a connection that starts with a request that is merely
	 * not strict (lowercase method, double space, unknown method or
	 * version) is HTTP, so its requests are recorded as requests.
	 */
	assert_true(req("get /"));
	assert_true(req("get / HTTP/1.1\r\n"));
	assert_true(req("GET  /"));
	assert_true(req("PROPFIND / HTTP/1.1"));
	assert_true(req("GET / HTTP/2\r\n"));
	assert_true(req("GET / HTTP/1.1 extra\r\n"));
	assert_true(req("GET /t\tab HTTP/1.1\r\n"));
	assert_true(req("GET /a\nb HTTP/1.1\r\n"));
	assert_true(req("ABCDEFGHIJKLMNOPQRSTUVWXYZABCD /a HTTP/1.1\r\n"));
	/* but not memcached, TLS, HTTP/2's preface, or a word */
	assert_false(req("get key\r\n"));
	assert_false(req("GET key\r\n"));
	assert_false(req("HELLO world\r\n"));
	assert_false(req("\x16\x03\x01"));
	assert_false(req("PRI * HTTP/2.0\r\n"));

	assert_true(resp("H"));
	assert_true(resp("HTTP/"));
	assert_true(resp("HTTP/1.1"));
	assert_true(resp("HTTP/1.1 2"));
	assert_true(resp("HTTP/1.1 200 OK\r\n"));
	assert_true(resp("HTTP/1.0 404\r\n\r\n"));
	assert_false(resp(""));
	assert_false(resp("HTTP/2 200"));
	assert_true(resp("HTTP/2.0 200 OK\r\n"));	/* as seen, flagged by the parser */
	assert_false(resp("HTTP/1.1 2x"));
	assert_false(resp("HTTP/1.1 200OK"));
	assert_false(resp("http/1.1 200 OK"));
	assert_false(resp("GET / HTTP/1.1"));
}

/* ---- the protocol on a connection (proto.h) ---- */

#define MAX_X 16

struct xcol {
	int n;
	int outcome[MAX_X];
	char method[MAX_X][16];
	char rpc_method[MAX_X][32];
	int status[MAX_X];
	uint64_t resp_body[MAX_X];
	int proto[MAX_X];
};

static void x_collect(void *ctx, const struct exchange *x)
{
	struct xcol *c = ctx;

	assert_true(c->n < MAX_X);
	/* an HTTP message's part is its copy's own (it stays valid while the copy lives) */
	if (x->conn->proto == PROTO_HTTP && x->req)
		assert_ptr_equal(x->req->m.http, &x->req->http);
	if (x->conn->proto == PROTO_HTTP && x->resp)
		assert_ptr_equal(x->resp->m.http, &x->resp->http);
	c->outcome[c->n] = x->outcome;
	snprintf(c->method[c->n], 16, "%.15s", x->req ? msg_http(&x->req->m)->method : "-");
	snprintf(c->rpc_method[c->n], 32, "%.31s", x->req ? x->req->rpc.method : "-");
	c->status[c->n] = x->resp ? msg_http(&x->resp->m)->status : 0;
	c->resp_body[c->n] = x->resp ? x->resp->m.body_bytes : 0;
	c->proto[c->n] = x->conn->proto;
	c->n++;
}

struct cfix {
	struct xcol seen;
	uint64_t unparsed;
	struct proto_env env;
	struct conn c;
};

/* A server connection whose first bytes (a request) started the HTTP protocol. */
static struct cfix *cfix_new(const char *first)
{
	struct cfix *f = calloc(1, sizeof(*f));

	f->env.cr = correlator__new(1000000000ULL, x_collect, &f->seen);
	f->env.unparsed = &f->unparsed;
	f->env.body_excerpt = EXCERPT;
	f->c.role = SA_ROLE_SERVER;
	assert_true(proto_http_ops.detect(&f->c, SA_DIR_INGRESS, (const uint8_t *)first,
					  strlen(first)));
	assert_int_equal(proto_http_ops.start(&f->env, &f->c, SA_DIR_INGRESS,
					      (const uint8_t *)first, strlen(first)), 0);
	assert_ptr_equal(f->c.ops, &proto_http_ops);
	return f;
}

static void cfeed(struct cfix *f, int dir, const char *s)
{
	f->c.ops->feed(&f->c, dir, (const uint8_t *)s, strlen(s), 1);
}

static void cfix_free(struct cfix *f)
{
	f->c.ops->close(&f->c, OUTCOME_CONN_CLOSED, 2);
	correlator__flush_conn(f->env.cr, &f->c, OUTCOME_CONN_CLOSED);
	proto__release(&f->c);
	correlator__free(f->env.cr);
	free(f);
}

/* A HEAD request's answer has no body: the protocol knows it without asking the correlator. */
static void test_conn_answers_head(void **state)
{
	const char *head = "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n";
	struct cfix *f = cfix_new(head);

	(void)state;
	assert_false(proto_http__answers_head(&f->c));
	cfeed(f, SA_DIR_INGRESS, head);
	assert_true(proto_http__answers_head(&f->c));
	cfeed(f, SA_DIR_EGRESS, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
	assert_false(proto_http__answers_head(&f->c));
	cfeed(f, SA_DIR_INGRESS, "GET /p HTTP/1.1\r\nHost: a\r\n\r\n");
	cfeed(f, SA_DIR_EGRESS, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	assert_int_equal(f->seen.n, 2);
	assert_string_equal(f->seen.method[0], "HEAD");
	assert_int_equal(f->seen.resp_body[0], 0);	/* Content-Length 5, but HEAD's */
	assert_string_equal(f->seen.method[1], "GET");
	assert_int_equal(f->seen.resp_body[1], 2);
	assert_int_equal(f->seen.outcome[1], OUTCOME_OK);
	cfix_free(f);
}

/* MCP over HTTP: the bodies' JSON-RPC is read once, as the messages complete; an error answer is "error". */
static void test_conn_jsonrpc_body(void **state)
{
	const char *rq = "POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
			 "Content-Length: 62\r\n\r\n"
			 "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{}}    ";
	const char *rs = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 68\r\n\r\n"
			 "{\"jsonrpc\":\"2.0\",\"id\":7,\"error\":{\"code\":-32601,\"message\":\"none\"}}   ";
	struct cfix *f = cfix_new(rq);

	(void)state;
	assert_int_equal(strlen(strstr(rq, "\r\n\r\n") + 4), 62);
	assert_int_equal(strlen(strstr(rs, "\r\n\r\n") + 4), 68);
	cfeed(f, SA_DIR_INGRESS, rq);
	cfeed(f, SA_DIR_EGRESS, rs);
	assert_int_equal(f->seen.n, 1);
	assert_string_equal(f->seen.rpc_method[0], "tools/call");
	assert_int_equal(f->seen.outcome[0], OUTCOME_ERROR);
	cfix_free(f);
}

/* After 101 the stream is raw exchanges, the client speaking first; the HTTP state is gone. */
static void test_conn_upgrade_to_raw(void **state)
{
	const char *up = "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
	struct cfix *f = cfix_new(up);

	(void)state;
	cfeed(f, SA_DIR_INGRESS, up);
	cfeed(f, SA_DIR_EGRESS, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
	assert_int_equal(f->seen.n, 1);
	assert_int_equal(f->seen.status[0], 101);
	cfeed(f, SA_DIR_INGRESS, "\x81\x02hi");
	assert_ptr_equal(f->c.ops, &proto_raw_ops);
	assert_int_equal(f->c.proto, PROTO_RAW);
	cfeed(f, SA_DIR_EGRESS, "\x81\x03hey");
	cfeed(f, SA_DIR_INGRESS, "\x81\x02yo");	/* the client again: the first raw exchange is written */
	assert_int_equal(f->seen.n, 2);
	assert_int_equal(f->seen.proto[1], PROTO_RAW);
	assert_int_equal(f->seen.resp_body[1], 5);
	assert_int_equal(f->unparsed, 0);
	cfix_free(f);
}

int main(void)
{
	const struct CMUnitTest framing_tests[] = {
		cmocka_unit_test(test_request_stream),
		cmocka_unit_test(test_response_stream),
		cmocka_unit_test(test_keepalive_many),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_continue_then_final),
		cmocka_unit_test(test_close_delimited),
		cmocka_unit_test(test_close_incomplete),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_connection_header),
		cmocka_unit_test(test_mcp_headers),
		cmocka_unit_test(test_long_fields_cut),
		cmocka_unit_test(test_excerpt_cut),
	};
	const struct CMUnitTest split_tests[] = {
		cmocka_unit_test(test_split_requests),
		cmocka_unit_test(test_split_responses),
		cmocka_unit_test(test_split_random),
	};
	const struct CMUnitTest gap_tests[] = {
		cmocka_unit_test(test_gap_in_body),
		cmocka_unit_test(test_gap_ends_body),
		cmocka_unit_test(test_gap_in_chunk),
		cmocka_unit_test(test_gap_in_head),
		cmocka_unit_test(test_gap_resync),
		cmocka_unit_test(test_gap_resync_at_write_boundary),
		cmocka_unit_test(test_lenient_request_lines),
		cmocka_unit_test(test_lenient_headers),
		cmocka_unit_test(test_header_names_tchar),
		cmocka_unit_test(test_known_header_every_byte),
		cmocka_unit_test(test_startline_quick_same),
	};
	const struct CMUnitTest error_tests[] = {
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_bad_framing),
		cmocka_unit_test(test_switching_protocols),
		cmocka_unit_test(test_oversize_head),
		cmocka_unit_test(test_looks_like),
	};
	const struct CMUnitTest conn_tests[] = {
		cmocka_unit_test(test_conn_answers_head),
		cmocka_unit_test(test_conn_jsonrpc_body),
		cmocka_unit_test(test_conn_upgrade_to_raw),
	};
	int fails = 0;

	fails += cmocka_run_group_tests_name("http_conn", conn_tests, NULL, NULL);
	fails += cmocka_run_group_tests_name("http_framing", framing_tests, setup, teardown);
	fails += cmocka_run_group_tests_name("http_split", split_tests, setup, teardown);
	fails += cmocka_run_group_tests_name("http_gap", gap_tests, setup, teardown);
	fails += cmocka_run_group_tests_name("http_errors", error_tests, setup, teardown);
	return fails ? 1 : 0;
}
