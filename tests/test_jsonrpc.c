// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON-RPC extraction (requests, notifications, results, errors, batches,
 * cut texts, non-JSON-RPC) and newline framing split at every byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "jsonrpc.h"

static int parse(const char *text, struct rpc_msg *m, int max)
{
	return jsonrpc__parse((const uint8_t *)text, strlen(text), m, max);
}

static void test_request_with_tool(void **state)
{
	struct rpc_msg m[1];

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\","
			       "\"params\":{\"arguments\":{\"name\":\"inner\"},\"name\":\"get_weather\"}}",
			       m, 1), 1);
	assert_int_equal(m[0].kind, RPC_REQUEST);
	assert_string_equal(m[0].id, "7");
	assert_string_equal(m[0].method, "tools/call");
	assert_string_equal(m[0].tool, "get_weather");
}

static void test_params_before_method_and_string_id(void **state)
{
	struct rpc_msg m[1];

	assert_int_equal(parse(" {\"params\":{\"name\":\"x\"},\"method\":\"tools/call\",\"id\":\"a-1\","
			       "\"jsonrpc\":\"2.0\"}\n", m, 1), 1);
	assert_string_equal(m[0].id, "\"a-1\"");
	assert_string_equal(m[0].tool, "x");
	/* the tool name is kept only for tools/call */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\","
			       "\"params\":{\"name\":\"y\"}}", m, 1), 1);
	assert_string_equal(m[0].tool, "");
}

static void test_notification_result_error(void **state)
{
	struct rpc_msg m[1];

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", m, 1), 1);
	assert_int_equal(m[0].kind, RPC_NOTIFICATION);
	assert_false(m[0].has_id);
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"content\":[{\"t\":\"}\"}]}}",
			       m, 1), 1);
	assert_int_equal(m[0].kind, RPC_RESULT);
	assert_string_equal(m[0].id, "3");
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,"
			       "\"message\":\"Parse \\\"error\\\"\"}}", m, 1), 1);
	assert_int_equal(m[0].kind, RPC_ERROR);
	assert_string_equal(m[0].id, "null");
	assert_int_equal(m[0].err_code, -32700);
	assert_string_equal(m[0].err_msg, "Parse \"error\"");
}

static void test_batch(void **state)
{
	struct rpc_msg m[4];

	assert_int_equal(parse("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"},"
			       " {\"jsonrpc\":\"2.0\",\"method\":\"b\"},"
			       "{\"jsonrpc\":\"2.0\",\"id\":\"z\",\"method\":\"c\"}]", m, 4), 3);
	assert_string_equal(m[0].method, "a");
	assert_int_equal(m[1].kind, RPC_NOTIFICATION);
	assert_string_equal(m[2].id, "\"z\"");
	/* more than max: the first max are taken */
	assert_int_equal(parse("[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1},"
			       "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":2}]", m, 1), 1);
}

static void test_cut_text(void **state)
{
	struct rpc_msg m[1];

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"tools/call\",\"params\":"
			       "{\"name\":\"sea", m, 1), 1);
	assert_true(m[0].cut);
	assert_int_equal(m[0].kind, RPC_REQUEST);
	assert_string_equal(m[0].tool, "sea");
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":12,\"result\":{\"big\":\"aaaa", m, 1), 1);
	assert_int_equal(m[0].kind, RPC_RESULT);
}

static void test_not_jsonrpc(void **state)
{
	struct rpc_msg m[1];

	assert_int_equal(parse("GET / HTTP/1.1", m, 1), -EPROTO);
	assert_int_equal(parse("{\"hello\":\"world\"}", m, 1), -EPROTO);
	assert_int_equal(parse("{\"a\" 1}", m, 1), -EPROTO);
	assert_int_equal(parse("[1,2]", m, 1), -EPROTO);
	assert_true(jsonrpc__looks_like((const uint8_t *)"  {", 3));
	assert_false(jsonrpc__looks_like((const uint8_t *)"PING", 4));
	assert_string_equal(rpc_kind__name(RPC_ERROR), "error");
}

struct lines {
	int n;
	char text[8][128];
	uint64_t bytes[8];
	uint64_t lost[8];
};

static void on_line(void *ctx, const struct rpc_line *l)
{
	struct lines *ls = ctx;

	assert_true(ls->n < 8);
	snprintf(ls->text[ls->n], 128, "%.*s", (int)l->text_len, (const char *)l->text);
	ls->bytes[ls->n] = l->bytes;
	ls->lost[ls->n] = l->lost;
	ls->n++;
}

static const char STREAM[] = "{\"id\":1}\r\n\n{\"id\":2,\"x\":\"long line\"}\n{\"id\":3}";

static void check_stream(const struct lines *ls)
{
	assert_int_equal(ls->n, 3);
	assert_string_equal(ls->text[0], "{\"id\":1}");
	assert_int_equal(ls->bytes[0], 10);
	assert_string_equal(ls->text[1], "{\"id\":2,\"x\":");	/* keep = 12 */
	assert_int_equal(ls->bytes[1], 25);
	assert_string_equal(ls->text[2], "{\"id\":3}");
}

static void test_framing_every_split(void **state)
{
	size_t len = strlen(STREAM), cut;

	for (cut = 0; cut <= len; cut++) {
		struct lines ls = { 0 };
		struct rpc_stream s;

		assert_int_equal(rpc_stream__init(&s, 12, on_line, &ls), 0);
		rpc_stream__feed(&s, (const uint8_t *)STREAM, cut, 1);
		rpc_stream__feed(&s, (const uint8_t *)STREAM + cut, len - cut, 2);
		rpc_stream__close(&s);
		rpc_stream__free(&s);
		check_stream(&ls);
	}
}

static void test_framing_gap(void **state)
{
	struct lines ls = { 0 };
	struct rpc_stream s;

	assert_int_equal(rpc_stream__init(&s, 64, on_line, &ls), 0);
	rpc_stream__feed(&s, (const uint8_t *)"{\"id\":", 6, 1);
	rpc_stream__gap(&s, 5, 2);
	rpc_stream__feed(&s, (const uint8_t *)"tail}\n{\"id\":9}\n", 15, 3);
	rpc_stream__free(&s);
	assert_int_equal(ls.n, 2);
	assert_string_equal(ls.text[0], "{\"id\":");	/* excerpt stops at the hole */
	assert_int_equal(ls.lost[0], 5);
	assert_int_equal(ls.bytes[0], 6 + 5 + 6);
	assert_string_equal(ls.text[1], "{\"id\":9}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_with_tool),
		cmocka_unit_test(test_params_before_method_and_string_id),
		cmocka_unit_test(test_notification_result_error),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_cut_text),
		cmocka_unit_test(test_not_jsonrpc),
		cmocka_unit_test(test_framing_every_split),
		cmocka_unit_test(test_framing_gap),
	};

	return cmocka_run_group_tests_name("jsonrpc", tests, NULL, NULL);
}
