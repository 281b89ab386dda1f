// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON-RPC extraction (requests, notifications, results, errors, batches,
 * cut texts, non-JSON-RPC) and newline framing split at every byte; then
 * the protocol on a stream (proto.h): pairing by id, what is not JSON-RPC. */
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
#include "jsonrpc.h"
#include "proto.h"

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

/* initialize (2025 revisions): clientInfo and protocolVersion in params, serverInfo in result. */
static void test_mcp_initialize_identity(void **state)
{
	struct rpc_msg m[1];

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":"
			       "{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{\"x\":{\"name\":\"no\"}},"
			       "\"clientInfo\":{\"title\":\"T\",\"name\":\"claude-ai\",\"version\":\"0.1.0\"}}}",
			       m, 1), 1);
	assert_string_equal(m[0].ident.proto, "2025-06-18");
	assert_string_equal(m[0].ident.client_name, "claude-ai");
	assert_string_equal(m[0].ident.client_ver, "0.1.0");
	assert_string_equal(m[0].ident.server_name, "");
	assert_string_equal(m[0].tool, "");	/* not a tools/call */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"protocolVersion\":\"2025-03-26\","
			       "\"serverInfo\":{\"name\":\"weather\",\"version\":\"2.1\"}}}", m, 1), 1);
	assert_int_equal(m[0].kind, RPC_RESULT);
	assert_string_equal(m[0].ident.proto, "2025-03-26");
	assert_string_equal(m[0].ident.server_name, "weather");
	assert_string_equal(m[0].ident.server_ver, "2.1");
	/* a name or version that is not a string is not taken; the message still is */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"serverInfo\":"
			       "{\"name\":{\"a\":1},\"version\":7}}}", m, 1), 1);
	assert_string_equal(m[0].ident.server_name, "");
	assert_string_equal(m[0].ident.server_ver, "");
}

/* 2026-07-28: identity and trace context in _meta of every request and result. */
static void test_mcp_meta_identity(void **state)
{
	struct rpc_msg m[1];

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
			       "{\"name\":\"echo\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
			       "\"2026-07-28\",\"io.modelcontextprotocol/clientInfo\":{\"name\":\"h\","
			       "\"version\":\"9\"},\"traceparent\":\"00-aa-bb-01\",\"other/clientInfo\":"
			       "{\"name\":\"spoof\"}},\"arguments\":{\"clientInfo\":{\"name\":\"no\"}}}}",
			       m, 1), 1);
	assert_string_equal(m[0].tool, "echo");
	assert_string_equal(m[0].ident.proto, "2026-07-28");
	assert_string_equal(m[0].ident.client_name, "h");
	assert_string_equal(m[0].ident.client_ver, "9");
	assert_string_equal(m[0].traceparent, "00-aa-bb-01");
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":{\"content\":[],\"_meta\":"
			       "{\"io.modelcontextprotocol/serverInfo\":{\"name\":\"s\",\"version\":\"3\"}}}}",
			       m, 1), 1);
	assert_string_equal(m[0].ident.server_name, "s");
	assert_string_equal(m[0].ident.server_ver, "3");
	/* a name longer than the field is cut, not overflowed */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":"
			       "{\"clientInfo\":{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}}",
			       m, 1), 1);
	assert_int_equal(strlen(m[0].ident.client_name), MCP_NAME_MAX - 1);
}

/* The subject of a call: a tool, a prompt's name, a resource's uri. */
static void test_mcp_subject(void **state)
{
	struct rpc_msg m[1];

	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/get\","
			       "\"params\":{\"name\":\"summarize\"}}", m, 1), 1);
	assert_string_equal(m[0].tool, "summarize");
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\","
			       "\"params\":{\"uri\":\"file:///etc/hosts\"}}", m, 1), 1);
	assert_string_equal(m[0].uri, "file:///etc/hosts");
	assert_string_equal(m[0].tool, "");
	/* uri is kept only for resources/read */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
			       "\"params\":{\"name\":\"t\",\"uri\":\"x:y\"}}", m, 1), 1);
	assert_string_equal(m[0].uri, "");
}

static void test_error_classes(void **state)
{
	assert_string_equal(jsonrpc__error_class(-32700), "parse_error");
	assert_string_equal(jsonrpc__error_class(-32600), "invalid_request");
	assert_string_equal(jsonrpc__error_class(-32601), "method_not_found");
	assert_string_equal(jsonrpc__error_class(-32602), "invalid_params");
	assert_string_equal(jsonrpc__error_class(-32603), "internal_error");
	assert_string_equal(jsonrpc__error_class(-32000), "server_error");
	assert_string_equal(jsonrpc__error_class(-32099), "server_error");
	assert_string_equal(jsonrpc__error_class(-32100), "reserved");
	assert_string_equal(jsonrpc__error_class(-32768), "reserved");
	assert_string_equal(jsonrpc__error_class(-32769), "application_error");
	assert_string_equal(jsonrpc__error_class(-31999), "application_error");
	assert_string_equal(jsonrpc__error_class(1), "application_error");
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

	/* the start of a line lost: its seen tail is handed on (to be counted), no text kept */
	memset(&ls, 0, sizeof(ls));
	assert_int_equal(rpc_stream__init(&s, 64, on_line, &ls), 0);
	rpc_stream__gap(&s, 7, 1);
	rpc_stream__feed(&s, (const uint8_t *)"tail}\n", 6, 2);
	/* only lost bytes, then a message: nothing to hand on for the lost ones */
	rpc_stream__gap(&s, 7, 3);
	rpc_stream__feed(&s, (const uint8_t *)"{\"id\":4}\n", 9, 4);
	rpc_stream__free(&s);
	assert_int_equal(ls.n, 2);
	assert_string_equal(ls.text[0], "");
	assert_int_equal(ls.bytes[0], 13);
	assert_int_equal(ls.lost[0], 7);
	assert_string_equal(ls.text[1], "{\"id\":4}");
}

/* ---- issue 13: odd ids, deep nesting, batches, lines past the capture ---- */

static void test_any_id_type(void **state)
{
	static const struct {
		const char *id, *text, *malformed;
	} ids[] = {
		{ "{\"a\": [1, 2]}", "{\"a\":[1,2]}", "id_type" },
		{ "[1, \"x y\"]", "[1,\"x y\"]", "id_type" },
		{ "true", "true", "id_type" },
		{ "false", "false", "id_type" },
		{ "null", "null", NULL },
		{ "-1.5e3", "-1.5e3", NULL },
		{ "\"a\\\"b\"", "\"a\\\"b\"", NULL },
	};
	struct rpc_msg m[1];
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(text, sizeof(text), "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"m\"}", ids[i].id);
		assert_int_equal(parse(text, m, 1), 1);
		assert_int_equal(m[0].kind, RPC_REQUEST);
		assert_string_equal(m[0].id, ids[i].text);
		if (ids[i].malformed)
			assert_string_equal(m[0].malformed, ids[i].malformed);
		else
			assert_null(m[0].malformed);
	}
}

/* Huge ids are bounded, and two that share their first bytes stay apart. */
static void test_huge_ids_bounded(void **state)
{
	struct rpc_msg a[1], b[1], r[1];
	char *text = malloc(20100);
	size_t n;

	assert_non_null(text);
	n = (size_t)sprintf(text, "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":");
	memset(text + n, '7', 10000);
	strcpy(text + n + 10000, "1}");
	assert_int_equal(parse(text, a, 1), 1);
	assert_int_equal(strlen(a[0].id), RPC_ID_MAX - 1);
	assert_non_null(strchr(a[0].id, '~'));
	strcpy(text + n + 10000, "2}");
	assert_int_equal(parse(text, b, 1), 1);
	assert_string_not_equal(a[0].id, b[0].id);
	/* its answer, spaced otherwise, has the same id text */
	n = (size_t)sprintf(text, "{\"jsonrpc\":\"2.0\",\"result\":1,\"id\": ");
	memset(text + n, '7', 10000);
	strcpy(text + n + 10000, "2 }");
	assert_int_equal(parse(text, r, 1), 1);
	assert_string_equal(r[0].id, b[0].id);
	/* cut by the end of the text: kept short, marked, and still matched by its first bytes */
	n = (size_t)sprintf(text, "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":");
	memset(text + n, '7', 100);
	assert_int_equal(jsonrpc__parse((const uint8_t *)text, n + 100, a, 1), 1);
	assert_string_equal(a[0].id + RPC_ID_CUT_KEEP, RPC_ID_CUT);
	assert_true(jsonrpc__id_match(a[0].id, strlen(a[0].id), b[0].id, strlen(b[0].id)));
	assert_true(jsonrpc__id_match(b[0].id, strlen(b[0].id), a[0].id, strlen(a[0].id)));
	assert_false(jsonrpc__id_match(a[0].id, strlen(a[0].id), "77", 2));
	assert_false(jsonrpc__id_match("\"a", 2, "\"ab\"", 4));
	assert_true(jsonrpc__id_match("\"a~cut", 6, "\"ab\"", 4));
	assert_false(jsonrpc__id_match("\"b~cut", 6, "\"ab\"", 4));
	/* a huge string id too */
	n = (size_t)sprintf(text, "{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":\"");
	memset(text + n, 'x', 20000);
	strcpy(text + n + 20000, "\"}");
	assert_int_equal(parse(text, a, 1), 1);
	assert_int_equal(strlen(a[0].id), RPC_ID_MAX - 1);
	assert_int_equal(a[0].kind, RPC_REQUEST);
	free(text);
}

/* 100,000 nested brackets in params: the id and method before them are kept. */
static void test_deep_nesting(void **state)
{
	size_t depth = 100000, n;
	char *text = malloc(2 * depth + 100);
	struct rpc_msg m[1];

	assert_non_null(text);
	n = (size_t)sprintf(text, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"deep\",\"params\":");
	memset(text + n, '[', depth);
	memset(text + n + depth, ']', depth);
	strcpy(text + n + 2 * depth, "}");
	assert_int_equal(parse(text, m, 1), 1);
	assert_int_equal(m[0].kind, RPC_REQUEST);
	assert_string_equal(m[0].id, "5");
	assert_string_equal(m[0].method, "deep");
	assert_false(m[0].cut);
	/* and cut inside them (a line longer than the excerpt) */
	assert_int_equal(jsonrpc__parse((const uint8_t *)text, n + 1000, m, 1), 1);
	assert_true(m[0].cut);
	assert_string_equal(m[0].method, "deep");
	free(text);
}

struct many {
	int n;
	int bad;
	uint64_t bytes;
	uint64_t lost;
	char first[64];
	char last[64];
};

static void on_many(void *ctx, const struct rpc_line *l)
{
	struct many *m = ctx;
	struct rpc_msg msg[1];

	if (jsonrpc__parse(l->text, l->text_len, msg, 1) != 1)
		m->bad++;
	else
		snprintf(m->n ? m->last : m->first, 64, "%s", msg[0].id);
	m->n++;
	m->bytes += l->bytes;
	m->lost += l->lost;
}

/* A batch line of n requests, with nested brackets and strings holding , ] } */
static char *batch_text(int n, size_t *len)
{
	char *b = malloc((size_t)n * 100 + 16), *p = b;
	int i;

	*p++ = '[';
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"m\","
			     "\"params\":{\"a\":[1,{\"s\":\"],}\\\"\"}]}}", i ? ", " : "", i);
	p += sprintf(p, "]\n{\"jsonrpc\":\"2.0\",\"id\":\"after\",\"method\":\"n\"}\n");
	*len = (size_t)(p - b);
	return b;
}

/* A batch of 10,000 calls gives 10,000 messages, however the line is split. */
static void test_batch_stream(void **state)
{
	size_t len, cut, cuts[] = { 0, 1, 2, 77, 78, 79, 4096, 65536 };
	char *b = batch_text(10000, &len);
	unsigned i;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct many m = { 0 };
		struct rpc_stream s;

		cut = cuts[i] < len ? cuts[i] : len;
		assert_int_equal(rpc_stream__init(&s, 4096, on_many, &m), 0);
		rpc_stream__feed(&s, (const uint8_t *)b, cut, 1);
		rpc_stream__feed(&s, (const uint8_t *)b + cut, len - cut, 2);
		rpc_stream__close(&s);
		rpc_stream__free(&s);
		assert_int_equal(m.n, 10001);
		assert_int_equal(m.bad, 0);
		assert_string_equal(m.first, "0");
		assert_string_equal(m.last, "\"after\"");
	}
	free(b);
}

/* Every byte a cut: the batch splits the same way. */
static void test_batch_every_split(void **state)
{
	size_t len, cut;
	char *b = batch_text(3, &len);

	for (cut = 0; cut <= len; cut++) {
		struct many m = { 0 };
		struct rpc_stream s;

		assert_int_equal(rpc_stream__init(&s, 4096, on_many, &m), 0);
		rpc_stream__feed(&s, (const uint8_t *)b, cut, 1);
		rpc_stream__feed(&s, (const uint8_t *)b + cut, len - cut, 2);
		rpc_stream__close(&s);
		rpc_stream__free(&s);
		assert_int_equal(m.n, 4);
		assert_int_equal(m.bad, 0);
	}
	free(b);
}

/*
 * A line longer than the capture: its tail is a gap, and the next write
 * starts with '{': that is the next request, not more of the long line.
 */
static void test_overlong_line_then_next(void **state)
{
	struct many m = { 0 };
	struct rpc_stream s;
	char head[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"big\",\"params\":[[[[[[";
	const char next[] = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"next\"}\n";

	assert_int_equal(rpc_stream__init(&s, 64, on_many, &m), 0);
	rpc_stream__feed(&s, (const uint8_t *)head, strlen(head), 1);
	rpc_stream__gap(&s, 100000, 1);		/* the rest, newline included, not captured */
	rpc_stream__feed(&s, (const uint8_t *)next, strlen(next), 2);
	rpc_stream__close(&s);
	rpc_stream__free(&s);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.bad, 0);
	assert_string_equal(m.first, "1");
	assert_string_equal(m.last, "2");
	assert_int_equal(m.lost, 100000);

	/* 100,000 '[' with its newline captured: skipped to the newline, the next kept */
	memset(&m, 0, sizeof(m));
	{
		size_t n = 100000;
		char *line = malloc(n + sizeof(next) + 1);

		assert_non_null(line);
		memset(line, '[', n);
		line[n] = '\n';
		memcpy(line + n + 1, next, sizeof(next));
		assert_int_equal(rpc_stream__init(&s, 4096, on_many, &m), 0);
		rpc_stream__feed(&s, (const uint8_t *)line, n + 1 + strlen(next), 1);
		rpc_stream__close(&s);
		rpc_stream__free(&s);
		free(line);
		assert_int_equal(m.n, 2);
		assert_int_equal(m.bad, 1);
		assert_string_equal(m.last, "2");
	}
}

/* The answer came: a line cut by the capture ended in its lost bytes. */
static void test_end_cut(void **state)
{
	struct many m = { 0 };
	struct rpc_stream s;
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"m\",\"params\":\"xx";

	assert_int_equal(rpc_stream__init(&s, 64, on_many, &m), 0);
	rpc_stream__end_cut(&s);		/* nothing cut: nothing happens */
	rpc_stream__feed(&s, (const uint8_t *)head, strlen(head), 1);
	rpc_stream__end_cut(&s);
	assert_int_equal(m.n, 0);		/* not cut by a gap: still arriving */
	rpc_stream__gap(&s, 10, 2);
	rpc_stream__end_cut(&s);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.first, "3");
	assert_int_equal(m.lost, 10);
	rpc_stream__close(&s);
	rpc_stream__free(&s);
	assert_int_equal(m.n, 1);
}

struct skimmed {
	int n;
	struct rpc_msg m[4];
};

static void on_skim(void *ctx, const struct rpc_line *l)
{
	struct skimmed *k = ctx;

	assert_true(k->n < 4);
	assert_int_equal(jsonrpc__parse(l->text, l->text_len, &k->m[k->n], 1), 1);
	jsonrpc__skimmed(&k->m[k->n], l);
	k->n++;
}

/*
 * A method past the bytes kept of a line (after a huge id, or huge params)
 * is still found: an attacker cannot hide what a request asks behind the
 * limit. A result or error past it says what the message is.
 */
static void test_skim_past_keep(void **state)
{
	struct skimmed k = { 0 };
	struct rpc_stream s;
	char *line = malloc(40000);
	size_t n;

	assert_non_null(line);
	assert_int_equal(rpc_stream__init(&s, 64, on_skim, &k), 0);
	n = (size_t)sprintf(line, "{\"jsonrpc\":\"2.0\",\"id\":\"");
	memset(line + n, 'i', 20000);
	n += 20000;
	n += (size_t)sprintf(line + n, "\",\"params\":{\"method\":\"decoy\",\"a\":[\"}\"]},"
			     "\"me\\\"x\":1,\"method\":\"tools/call\"}\n");
	for (size_t i = 0; i < n; i += 1000)	/* however it is split */
		rpc_stream__feed(&s, (const uint8_t *)line + i, n - i < 1000 ? n - i : 1000, 1);
	n = (size_t)sprintf(line, "{\"jsonrpc\":\"2.0\",\"id\":\"");
	memset(line + n, 'i', 20000);
	n += 20000;
	n += (size_t)sprintf(line + n, "\",\"error\":{\"code\":1}}\n");
	rpc_stream__feed(&s, (const uint8_t *)line, n, 2);
	rpc_stream__close(&s);
	rpc_stream__free(&s);
	free(line);
	assert_int_equal(k.n, 2);
	assert_int_equal(k.m[0].kind, RPC_REQUEST);
	assert_string_equal(k.m[0].method, "tools/call");
	assert_false(k.m[0].guessed);
	assert_int_equal(k.m[1].kind, RPC_ERROR);
	assert_false(k.m[1].guessed);
	assert_true(jsonrpc__id_match(k.m[0].id, strlen(k.m[0].id), k.m[1].id, strlen(k.m[1].id)));
}

/* Found by fuzz_jsonrpc: a stray '}' in a batch looped forever. */
static void test_batch_stray_closer(void **state)
{
	static const char text[] = "[}, }}]\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"n\"}\n";
	struct many m = { 0 };
	struct rpc_stream s;

	assert_int_equal(rpc_stream__init(&s, 64, on_many, &m), 0);
	rpc_stream__feed(&s, (const uint8_t *)text, strlen(text), 1);
	rpc_stream__close(&s);
	rpc_stream__free(&s);
	assert_int_equal(m.n, 4);
	assert_int_equal(m.bad, 3);
	assert_string_equal(m.last, "2");
}

/* ---- the protocol on a stream (proto.h) ---- */

struct pairs {
	int n;
	int outcome[8];
	char method[8][32];
	bool has_resp[8];
};

static void pair_collect(void *ctx, const struct exchange *x)
{
	struct pairs *pr = ctx;

	assert_true(pr->n < 8);
	/* JSON-RPC over a stream carries no HTTP part */
	assert_null(x->req ? x->req->m.http : NULL);
	assert_null(x->resp ? x->resp->m.http : NULL);
	pr->outcome[pr->n] = x->outcome;
	snprintf(pr->method[pr->n], 32, "%.31s", x->req ? x->req->rpc.method : "-");
	pr->has_resp[pr->n] = x->resp != NULL;
	pr->n++;
}

static void rpc_line(struct conn *c, int dir, const char *s)
{
	c->ops->feed(c, dir, (const uint8_t *)s, strlen(s), 1);
}

/*
 * Answers pair by id in any order; a notification is written at once; a
 * line that is no JSON-RPC is counted unparsed; the state is the protocol's.
 */
static void test_stream_ops(void **state)
{
	const char *first = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}\n";
	struct pairs pr = { 0 };
	uint64_t unparsed = 0;
	struct proto_env env = { .unparsed = &unparsed, .body_excerpt = 64 };
	struct conn c = { 0 };

	(void)state;
	env.cr = correlator__new(1000000000ULL, pair_collect, &pr);
	assert_true(proto_jsonrpc_ops.detect(&c, SA_DIR_EGRESS, (const uint8_t *)first,
					     strlen(first)));
	assert_int_equal(proto_jsonrpc_ops.start(&env, &c, SA_DIR_EGRESS, (const uint8_t *)first,
						 strlen(first)), 0);
	assert_int_equal(c.role, SA_ROLE_CLIENT);	/* who speaks first asks */
	assert_int_equal(c.proto, PROTO_JSONRPC);
	rpc_line(&c, SA_DIR_EGRESS, first);
	rpc_line(&c, SA_DIR_EGRESS, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"b\"}\n");
	rpc_line(&c, SA_DIR_EGRESS, "{\"jsonrpc\":\"2.0\",\"method\":\"note\"}\n");
	assert_int_equal(pr.n, 1);
	assert_int_equal(pr.outcome[0], OUTCOME_NOTIFICATION);
	rpc_line(&c, SA_DIR_INGRESS, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n");
	rpc_line(&c, SA_DIR_INGRESS, "not json at all\n");
	rpc_line(&c, SA_DIR_INGRESS, "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-1}}\n");
	assert_int_equal(pr.n, 3);
	assert_string_equal(pr.method[1], "b");
	assert_int_equal(pr.outcome[1], OUTCOME_OK);
	assert_string_equal(pr.method[2], "a");
	assert_int_equal(pr.outcome[2], OUTCOME_ERROR);
	assert_int_equal(unparsed, strlen("not json at all\n"));
	c.ops->close(&c, OUTCOME_CONN_CLOSED, 2);
	correlator__flush_conn(env.cr, &c, OUTCOME_CONN_CLOSED);
	assert_int_equal(correlator__pending(env.cr), 0);
	proto__release(&c);
	assert_null(c.ps);
	assert_null(c.corr);
	correlator__free(env.cr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_with_tool),
		cmocka_unit_test(test_params_before_method_and_string_id),
		cmocka_unit_test(test_mcp_initialize_identity),
		cmocka_unit_test(test_mcp_meta_identity),
		cmocka_unit_test(test_mcp_subject),
		cmocka_unit_test(test_error_classes),
		cmocka_unit_test(test_notification_result_error),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_cut_text),
		cmocka_unit_test(test_not_jsonrpc),
		cmocka_unit_test(test_framing_every_split),
		cmocka_unit_test(test_framing_gap),
		cmocka_unit_test(test_any_id_type),
		cmocka_unit_test(test_huge_ids_bounded),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_batch_stream),
		cmocka_unit_test(test_batch_every_split),
		cmocka_unit_test(test_overlong_line_then_next),
		cmocka_unit_test(test_batch_stray_closer),
		cmocka_unit_test(test_end_cut),
		cmocka_unit_test(test_skim_past_keep),
		cmocka_unit_test(test_stream_ops),
	};

	return cmocka_run_group_tests_name("jsonrpc", tests, NULL, NULL);
}
