// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Raw exchanges (user/proto_raw.c): what the first speaker said until the
 * other answered is one exchange, handed to the correlator; gaps are lost
 * bytes of the side they hit; the end writes what is open.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "correlate.h"
#include "proto.h"

#define EXCERPT 8
#define MAX_X 8

struct side_seen {
	uint64_t wire, lost;
	size_t body_len, body_ahead;
	bool cut;
	char body[EXCERPT + 1];
};

struct fixture {
	int n;
	int outcome[MAX_X];
	struct side_seen req[MAX_X], resp[MAX_X];
	bool has_req[MAX_X], has_resp[MAX_X];
	uint64_t unparsed;
	struct proto_env env;
	struct conn c;
};

static void side_copy(struct side_seen *s, const struct msg_copy *m)
{
	s->wire = m->m.wire_bytes;
	s->lost = m->m.lost_bytes;
	s->body_len = m->m.body_len;
	s->body_ahead = m->m.body_ahead;
	s->cut = m->m.body_cut;
	snprintf(s->body, sizeof(s->body), "%.*s", (int)m->m.body_len, (const char *)m->m.body);
}

static void collect(void *ctx, const struct exchange *x)
{
	struct fixture *f = ctx;

	assert_true(f->n < MAX_X);
	/* raw messages carry no HTTP part */
	assert_null(x->req ? x->req->m.http : NULL);
	assert_null(x->resp ? x->resp->m.http : NULL);
	f->outcome[f->n] = x->outcome;
	f->has_req[f->n] = x->req != NULL;
	f->has_resp[f->n] = x->resp != NULL;
	if (x->req)
		side_copy(&f->req[f->n], x->req);
	if (x->resp)
		side_copy(&f->resp[f->n], x->resp);
	f->n++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->env.cr = correlator__new(1000, collect, f);
	f->env.unparsed = &f->unparsed;
	f->env.body_excerpt = EXCERPT;
	f->c.role = SA_ROLE_CLIENT;
	assert_int_equal(proto_raw_ops.start(&f->env, &f->c, SA_DIR_EGRESS, NULL, 0), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	correlator__flush_conn(f->env.cr, &f->c, OUTCOME_SHUTDOWN);
	proto__release(&f->c);
	assert_null(f->c.ps);
	correlator__free(f->env.cr);
	free(f);
	return 0;
}

static void feed(struct fixture *f, int dir, const char *s)
{
	f->c.ops->feed(&f->c, dir, (const uint8_t *)s, strlen(s), 1);
}

static void test_turns_make_exchanges(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->c.proto, PROTO_RAW);
	feed(f, SA_DIR_EGRESS, "PING ");
	feed(f, SA_DIR_EGRESS, "1\n");
	feed(f, SA_DIR_INGRESS, "PONG 1\n");
	assert_int_equal(f->n, 0);		/* the answer may go on */
	feed(f, SA_DIR_EGRESS, "PING 2\n");	/* the first speaker again: one exchange */
	assert_int_equal(f->n, 1);
	assert_int_equal(f->outcome[0], OUTCOME_OK);
	assert_string_equal(f->req[0].body, "PING 1\n");
	assert_int_equal(f->req[0].wire, 7);
	assert_string_equal(f->resp[0].body, "PONG 1\n");
	f->c.ops->close(&f->c, OUTCOME_CONN_CLOSED, 2);	/* unanswered: the close's outcome */
	assert_int_equal(f->n, 2);
	assert_true(f->has_req[1]);
	assert_false(f->has_resp[1]);
	assert_int_equal(f->outcome[1], OUTCOME_CONN_CLOSED);
}

/* Bytes past the excerpt are kept as look-ahead, then only counted. */
static void test_excerpt_and_gap(void **state)
{
	struct fixture *f = *state;

	feed(f, SA_DIR_EGRESS, "0123456789abcdef");
	f->c.ops->gap(&f->c, SA_DIR_EGRESS, 100, 1);
	feed(f, SA_DIR_INGRESS, "ok");
	f->c.ops->close(&f->c, OUTCOME_CONN_CLOSED, 2);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->req[0].body, "01234567");
	assert_int_equal(f->req[0].body_len, EXCERPT);
	assert_int_equal(f->req[0].body_ahead, 8);
	assert_true(f->req[0].cut);
	assert_int_equal(f->req[0].wire, 16);
	assert_int_equal(f->req[0].lost, 100);
	assert_int_equal(f->outcome[0], OUTCOME_OK);
}

/* The other side speaking first has no request: no_request. */
static void test_answer_alone(void **state)
{
	struct fixture *f = *state;

	feed(f, SA_DIR_INGRESS, "banner\n");
	f->c.ops->close(&f->c, OUTCOME_CONN_CLOSED, 2);
	assert_int_equal(f->n, 1);
	assert_false(f->has_req[0]);
	assert_int_equal(f->outcome[0], OUTCOME_NO_REQUEST);
	f->c.ops->close(&f->c, OUTCOME_CONN_CLOSED, 3);	/* nothing more was said: nothing */
	assert_int_equal(f->n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_turns_make_exchanges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_excerpt_and_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_alone, setup, teardown),
	};

	return cmocka_run_group_tests_name("proto_raw", tests, NULL, NULL);
}
