// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Correlator: in-order pairing, interim responses, TTL expiry, flush on close. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "correlate.h"

#define MAX_SEEN 64

struct seen {
	int n;
	int outcome[MAX_SEEN];
	char req_target[MAX_SEEN][32];
	int status[MAX_SEEN];
	char body[MAX_SEEN][32];
};

static void collect(void *ctx, const struct exchange *x)
{
	struct seen *s = ctx;

	assert_true(s->n < MAX_SEEN);
	s->outcome[s->n] = x->outcome;
	snprintf(s->req_target[s->n], 32, "%.31s", x->req ? msg_http(&x->req->m)->target : "-");
	s->status[s->n] = x->resp ? msg_http(&x->resp->m)->status : 0;
	snprintf(s->body[s->n], 32, "%.*s", x->req ? (int)x->req->m.body_len : 0,
		 x->req && x->req->m.body ? (const char *)x->req->m.body : "");
	s->n++;
}

struct fixture {
	struct seen seen;
	struct correlator *cr;
	struct conn conn;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->cr = correlator__new(1000, collect, &f->seen);
	*state = f;
	return f->cr ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	correlator__flush_conn(f->cr, &f->conn, OUTCOME_SHUTDOWN);
	assert_int_equal(correlator__pending(f->cr), 0);
	correlator__free(f->cr);
	free(f);
	return 0;
}

/* The HTTP parts of the messages a test makes (a test makes fewer than this many). */
static struct http_part *part(void)
{
	static struct http_part parts[16];
	static unsigned next;
	struct http_part *h = &parts[next++ % 16];

	memset(h, 0, sizeof(*h));
	return h;
}

static struct message req(const char *method, const char *target, uint64_t ts)
{
	struct message m = { .is_request = true, .ts_first_ns = ts, .ts_last_ns = ts,
			     .http = part() };

	snprintf(m.http->method, sizeof(m.http->method), "%s", method);
	snprintf(m.http->target, sizeof(m.http->target), "%s", target);
	return m;
}

static struct message resp(int status, uint64_t ts)
{
	struct message m = { .ts_first_ns = ts, .ts_last_ns = ts, .http = part() };

	m.http->status = status;
	return m;
}

static void test_pairs_in_order(void **state)
{
	struct fixture *f = *state;
	struct message a = req("GET", "/a", 1), b = req("GET", "/b", 2);
	struct message r1 = resp(200, 3), r2 = resp(404, 4);

	correlator__request(f->cr, &f->conn, &a, NULL, 1);
	correlator__request(f->cr, &f->conn, &b, NULL, 1);
	assert_int_equal(correlator__pending(f->cr), 2);
	correlator__response(f->cr, &f->conn, &r1, NULL, 1, false);
	correlator__response(f->cr, &f->conn, &r2, NULL, 1, false);
	assert_int_equal(f->seen.n, 2);
	assert_string_equal(f->seen.req_target[0], "/a");
	assert_int_equal(f->seen.status[0], 200);
	assert_string_equal(f->seen.req_target[1], "/b");
	assert_int_equal(f->seen.status[1], 404);
	assert_int_equal(f->seen.outcome[1], OUTCOME_OK);
}

static void test_interim_response_skipped(void **state)
{
	struct fixture *f = *state;
	struct message a = req("POST", "/up", 1), cont = resp(100, 2), fin = resp(201, 3);

	correlator__request(f->cr, &f->conn, &a, NULL, 1);
	correlator__response(f->cr, &f->conn, &cont, NULL, 1, false);
	assert_int_equal(f->seen.n, 0);
	correlator__response(f->cr, &f->conn, &fin, NULL, 1, false);
	assert_int_equal(f->seen.n, 1);
	assert_int_equal(f->seen.status[0], 201);
}

static void test_response_without_request(void **state)
{
	struct fixture *f = *state;
	struct message r = resp(200, 5);

	struct message a = req("GET", "/next", 6);

	/*
	 * Issue 13: a lost request event shows only when the next request
	 * arrives, so the response waits for it; a request seen whole means
	 * the answer had no request we could know of: no_request, before it.
	 */
	correlator__response(f->cr, &f->conn, &r, NULL, 1, false);
	assert_int_equal(f->seen.n, 0);
	correlator__request(f->cr, &f->conn, &a, NULL, 1);
	assert_int_equal(f->seen.n, 1);
	assert_int_equal(f->seen.outcome[0], OUTCOME_NO_REQUEST);
	assert_string_equal(f->seen.req_target[0], "-");
	assert_int_equal(correlator__pending(f->cr), 1);
	/* and at the connection's end, alone */
	correlator__response(f->cr, &f->conn, &r, NULL, 1, false);
	assert_int_equal(f->seen.n, 2);
	correlator__response(f->cr, &f->conn, &r, NULL, 1, false);
	correlator__flush_conn(f->cr, &f->conn, OUTCOME_CONN_CLOSED);
	assert_int_equal(f->seen.n, 3);
	assert_int_equal(f->seen.outcome[2], OUTCOME_NO_REQUEST);
}

/* The placeholder for a lost request takes the answer that came before the gap showed. */
static void test_orphan_pairs_with_lost_request(void **state)
{
	struct fixture *f = *state;
	struct message r = resp(200, 5), lost = req("", "", 4), b = req("GET", "/b", 6);

	lost.incomplete = true;
	lost.lost_bytes = lost.wire_bytes = 28;
	correlator__response(f->cr, &f->conn, &r, NULL, 1, false);
	correlator__request(f->cr, &f->conn, &lost, NULL, 1);
	assert_int_equal(f->seen.n, 1);
	assert_int_equal(f->seen.outcome[0], OUTCOME_INCOMPLETE);
	assert_int_equal(f->seen.status[0], 200);
	correlator__request(f->cr, &f->conn, &b, NULL, 1);
	correlator__response(f->cr, &f->conn, &r, NULL, 1, false);
	assert_int_equal(f->seen.n, 2);
	assert_string_equal(f->seen.req_target[1], "/b");
	assert_int_equal(f->seen.outcome[1], OUTCOME_OK);
}

static void test_ttl_expiry(void **state)
{
	struct fixture *f = *state;
	struct conn other = { 0 };
	struct message a = req("GET", "/slow", 100), b = req("GET", "/other", 600);

	correlator__request(f->cr, &f->conn, &a, NULL, 1);
	correlator__request(f->cr, &other, &b, NULL, 1);
	correlator__expire(f->cr, 1099);
	assert_int_equal(f->seen.n, 0);
	correlator__expire(f->cr, 1100);	/* 100 + ttl 1000 */
	assert_int_equal(f->seen.n, 1);
	assert_string_equal(f->seen.req_target[0], "/slow");
	assert_int_equal(f->seen.outcome[0], OUTCOME_NO_RESPONSE);
	correlator__expire(f->cr, 1600);
	assert_int_equal(f->seen.n, 2);
	assert_int_equal(correlator__pending(f->cr), 0);
}

static void test_flush_on_close(void **state)
{
	struct fixture *f = *state;
	struct message a = req("GET", "/1", 1), b = req("GET", "/2", 2);

	correlator__request(f->cr, &f->conn, &a, NULL, 1);
	correlator__request(f->cr, &f->conn, &b, NULL, 1);
	correlator__flush_conn(f->cr, &f->conn, OUTCOME_CONN_CLOSED);
	assert_int_equal(f->seen.n, 2);
	assert_int_equal(f->seen.outcome[0], OUTCOME_CONN_CLOSED);
	assert_string_equal(f->seen.req_target[1], "/2");
}

static void test_head_answer_and_body_copy(void **state)
{
	struct fixture *f = *state;
	uint8_t body[] = "payload";
	struct message a = req("HEAD", "/h", 1), r = resp(200, 2);
	struct message p = req("POST", "/p", 3);

	/* whether the answer is HEAD's: proto_http's own notes now (test_proto_http) */
	correlator__request(f->cr, &f->conn, &a, NULL, 1);
	correlator__response(f->cr, &f->conn, &r, NULL, 1, false);
	p.body = body;
	p.body_len = 7;
	correlator__request(f->cr, &f->conn, &p, NULL, 1);
	memset(body, 'X', 7);	/* the parser reuses its buffer: we must have copied */
	correlator__flush_conn(f->cr, &f->conn, OUTCOME_CONN_CLOSED);
	assert_string_equal(f->seen.body[1], "payload");
}

static void test_incomplete_side(void **state)
{
	struct fixture *f = *state;
	struct message a = req("GET", "/cut", 1), r = resp(200, 2);

	r.incomplete = true;
	correlator__request(f->cr, &f->conn, &a, NULL, 1);
	correlator__response(f->cr, &f->conn, &r, NULL, 1, false);
	assert_int_equal(f->seen.outcome[0], OUTCOME_INCOMPLETE);
	assert_string_equal(outcome__name(OUTCOME_INCOMPLETE), "incomplete");
	assert_string_equal(outcome__name(99), "unknown");
}

static void test_early_response_waits_for_request(void **state)
{
	struct fixture *f = *state;
	struct message a = req("POST", "/upload", 1), r = resp(413, 2), b = req("GET", "/next", 4);
	struct message r2 = resp(200, 5);

	/* the server answered before the request body was all read */
	correlator__response(f->cr, &f->conn, &r, NULL, 1, true);
	assert_int_equal(f->seen.n, 0);
	correlator__request(f->cr, &f->conn, &a, NULL, 1);
	assert_int_equal(f->seen.n, 1);
	assert_string_equal(f->seen.req_target[0], "/upload");
	assert_int_equal(f->seen.status[0], 413);
	correlator__request(f->cr, &f->conn, &b, NULL, 1);
	correlator__response(f->cr, &f->conn, &r2, NULL, 1, false);
	assert_string_equal(f->seen.req_target[1], "/next");
	assert_int_equal(f->seen.status[1], 200);
	/* an early response whose request never completes: no_request on close */
	correlator__response(f->cr, &f->conn, &r, NULL, 1, true);
	correlator__flush_conn(f->cr, &f->conn, OUTCOME_CONN_CLOSED);
	assert_int_equal(f->seen.n, 3);
	assert_int_equal(f->seen.outcome[2], OUTCOME_NO_REQUEST);
}

/* Pairs checked one by one: request i's target and excerpt with response 200 + i. */
struct order_check {
	int n;
	bool ok;
};

static void check_order(void *ctx, const struct exchange *x)
{
	struct order_check *oc = ctx;
	char want[32];

	snprintf(want, sizeof(want), "/r%d", oc->n);
	oc->ok = oc->ok && x->req && x->resp && x->outcome == OUTCOME_OK &&
		 !strcmp(msg_http(&x->req->m)->target, want) &&
		 msg_http(&x->resp->m)->status == 200 + oc->n % 300 &&
		 x->req->m.body_len == strlen(want) && !memcmp(x->req->m.body, want, strlen(want));
	oc->n++;
}

/*
 * Requests built in the correlator's report buffer wait there (no copy) up
 * to its slot bound, and are packed past it; a big excerpt is packed too.
 * Every one must come out whole and in order although the parser's
 * excerpt buffer is overwritten after each message.
 */
static void test_requests_kept_in_report_slots(void **state)
{
	struct order_check oc = { .ok = true };
	struct correlator *cr = correlator__new(UINT64_MAX / 2, check_order, &oc);
	struct conn c = { 0 };
	static uint8_t excerpt[1024];
	struct msg_copy *mc, *first;
	int i, n = 400;

	(void)state;
	assert_non_null(cr);
	first = correlator__report_buf(cr);
	assert_non_null(first);
	assert_ptr_equal(correlator__report_buf(cr), first);	/* not kept: lent again */
	for (i = 0; i < n; i++) {
		mc = correlator__report_buf(cr);
		if (!mc) {
			static struct msg_copy own;

			mc = &own;
		}
		mc->m = req("GET", "", (uint64_t)i + 1);
		mc->http = *mc->m.http;	/* built in place, as the HTTP parser does */
		mc->m.http = &mc->http;
		snprintf(mc->http.target, sizeof(mc->http.target), "/r%d", i);
		memset(excerpt, 'x', sizeof(excerpt));
		memcpy(excerpt, mc->http.target, strlen(mc->http.target));
		mc->m.body = excerpt;
		mc->m.body_len = strlen(mc->http.target);
		mc->m.body_ahead = i == 7 ? 900 : 0;	/* past a slot's excerpt: packed */
		mc->rpc.kind = RPC_NONE;
		correlator__request_copy(cr, &c, mc);
		memset(excerpt, 'Z', sizeof(excerpt));	/* the parser reuses it */
	}
	assert_int_equal(correlator__pending(cr), n);
	for (i = 0; i < n; i++) {
		struct message r = resp(200 + i % 300, (uint64_t)n + i + 1);

		correlator__response(cr, &c, &r, NULL, 1, false);
	}
	assert_int_equal(oc.n, n);
	assert_true(oc.ok);
	assert_int_equal(correlator__pending(cr), 0);
	correlator__flush_conn(cr, &c, OUTCOME_SHUTDOWN);
	correlator__free(cr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pairs_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interim_response_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_without_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphan_pairs_with_lost_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ttl_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_on_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head_answer_and_body_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_early_response_waits_for_request, setup, teardown),
		cmocka_unit_test(test_requests_kept_in_report_slots),
	};

	return cmocka_run_group_tests_name("correlate", tests, NULL, NULL);
}
