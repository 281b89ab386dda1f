// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* MCP identity memory (user/mcp.c): per stream, per HTTP session, bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mcp.h"

/* A JSON-RPC message copy with the given identity members and session header. */
static void msg(struct msg_copy *mc, int kind, const char *client, const char *server,
		const char *session)
{
	memset(mc, 0, sizeof(*mc));
	mc->rpc.kind = kind;
	snprintf(mc->rpc.ident.client_name, sizeof(mc->rpc.ident.client_name), "%s", client);
	snprintf(mc->rpc.ident.server_name, sizeof(mc->rpc.ident.server_name), "%s", server);
	mc->m.http = &mc->http;
	snprintf(mc->http.mcp_session, sizeof(mc->http.mcp_session), "%s", session);
}

static bool view(struct mcp_memory *mm, struct conn *c, const struct msg_copy *rq,
		 const struct msg_copy *rs, struct mcp_view *v)
{
	struct exchange x = { .conn = c, .req = rq, .resp = rs };

	return mcp__view(mm, c, &x, v);
}

/* initialize says who talks once; later exchanges of the stream show it. */
static void test_stream_remembers(void **state)
{
	struct mcp_memory *mm = mcp_memory__new(4);
	struct conn *c = calloc(1, sizeof(*c));
	struct msg_copy rq, rs;
	struct mcp_view v;

	msg(&rq, RPC_REQUEST, "host", "", "");
	msg(&rs, RPC_RESULT, "", "srv", "");
	assert_true(view(mm, c, &rq, &rs, &v));
	msg(&rq, RPC_REQUEST, "", "", "");
	assert_true(view(mm, c, &rq, NULL, &v));
	assert_string_equal(v.id.client_name, "host");
	assert_string_equal(v.id.server_name, "srv");
	/* another stream knows nothing of it */
	struct conn *other = calloc(1, sizeof(*other));

	assert_false(view(mm, other, &rq, NULL, &v));
	/* not JSON-RPC: no view */
	msg(&rq, RPC_NONE, "", "", "");
	assert_false(view(mm, c, &rq, NULL, &v));
	free(c->mcp);
	free(other->mcp);
	free(c);
	free(other);
	mcp_memory__free(mm);
}

/* Streamable HTTP: the session id (from initialize's answer) carries identity across connections. */
static void test_session_across_connections(void **state)
{
	struct mcp_memory *mm = mcp_memory__new(2);
	struct conn *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct msg_copy rq, rs;
	struct mcp_view v;

	msg(&rq, RPC_REQUEST, "host", "", "");
	msg(&rs, RPC_RESULT, "", "srv", "sid-1");
	assert_true(view(mm, a, &rq, &rs, &v));
	assert_string_equal(v.session, "sid-1");
	msg(&rq, RPC_REQUEST, "", "", "sid-1");
	assert_true(view(mm, b, &rq, NULL, &v));
	assert_string_equal(v.id.client_name, "host");
	assert_string_equal(v.id.server_name, "srv");
	/* two more sessions over a bound of 2: the least recently used goes, counted */
	msg(&rq, RPC_REQUEST, "h2", "", "sid-2");
	view(mm, b, &rq, NULL, &v);
	msg(&rq, RPC_REQUEST, "h3", "", "sid-3");
	view(mm, b, &rq, NULL, &v);
	assert_int_equal(mcp_memory__evicted(mm), 1);
	msg(&rq, RPC_REQUEST, "", "", "sid-1");
	assert_true(view(mm, b, &rq, NULL, &v));	/* the session id alone is still shown */
	assert_string_equal(v.id.client_name, "");
	free(a->mcp);
	free(b->mcp);
	free(a);
	free(b);
	mcp_memory__free(mm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_remembers),
		cmocka_unit_test(test_session_across_connections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
