// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for the formatters (user/format*.c), the same exchanges in
 * every format: one line each; json_lines parsed by python's json module,
 * csv by its csv module (RFC 4180), cef and syslog matched against their
 * grammars; an injected payload (ANSI, CRLF and a forged record, a bearer
 * token, a card) leaves none of them intact; one backslash in a payload
 * comes out as one backslash once the format's own escaping is undone;
 * max_message_length is honoured with "truncated".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "format_int.h"
#include "redact.h"
#include "sanitize.h"
#include "format_json.h"
#include "jsonrpc.h"
#include "mcp.h"
#include "format_fixture.h"
#include "format_grammar.h"

static const char *const types[] = { "json_lines", "cef", "syslog", "line", "csv" };
#define NTYPES (sizeof(types) / sizeof(types[0]))

static const char injected[] =
	"\x1b[2J\x1b[31mPWNED\x1b[0m\r\n"
	"{\"v\":1,\"seq\":999,\"type\":\"exchange\",\"forged\":true}\r\n"
	"Authorization: Bearer tok3n.SECRET-value_123\r\n"
	"card 4111 1111 1111 1111\r\n";

static const char *const planted[] = {
	"\x1b", "\r", "tok3n.SECRET-value_123", "4111 1111 1111 1111", "4111111111111111",
};

static char *render(const char *type, const struct format_opts *o, const void *req, size_t rn,
		    const void *resp, size_t sn)
{
	static struct jbuf jb;
	const struct formatter *f = formatter__find(type);
	struct fixture fx;

	assert_non_null(f);
	fixture__init(&fx, req, rn, resp, sn);
	jbuf__reset(&jb);
	jbuf__raw(&jb, "", 0);
	assert_int_equal(format__exchange_once(f, &jb, o, 42, &fx.x, NULL, FIXTURE_OFF), 0);
	assert_false(jb.oom);
	return jb.buf;
}

static void assert_one_line(const char *rec)
{
	size_t n = strlen(rec);

	assert_true(n > 1);
	assert_int_equal(rec[n - 1], '\n');
	assert_ptr_equal(strchr(rec, '\n'), rec + n - 1);
	assert_null(strchr(rec, '\r'));
	assert_true(sanitize__is_safe((const uint8_t *)rec, n - 1));
}

static bool matches(const char *re, const char *s)
{
	regex_t rx;
	int rc;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&rx, s, 0, NULL, 0);
	regfree(&rx);
	return rc == 0;
}

/* python3 checks: json (one object, string members round-trip) or csv (one row, 26 cols). */
static void python_check(const char *rec, const char *kind, const char *want_body)
{
	char path[] = "/tmp/sa-test-format.XXXXXX", cmd[1024];
	FILE *fp;
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(rec, fp);
	fclose(fp);
	if (system("command -v python3 >/dev/null 2>&1")) {
		unlink(path);
		skip();
	}
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,csv,sys,os\n"
		 "t=open(sys.argv[1],newline=\"\").read()\n"
		 "if sys.argv[2]==\"json\":\n"
		 "  r=json.loads(t); b=r[\"request\"][\"body\"]\n"
		 "else:\n"
		 "  rows=list(csv.reader(t.splitlines())); assert len(rows)==1 and len(rows[0])==26, rows; b=rows[0][21]\n"
		 "sys.exit(0 if os.environ[\"WANT\"] in b else 3)' %s %s",
		 path, kind);
	setenv("WANT", want_body, 1);	/* not on the command line: it holds quotes */
	rc = system(cmd);
	unlink(path);
	assert_int_equal(rc, 0);
}

static void test_find(void **state)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		assert_string_equal(formatter__find(types[i])->type, types[i]);
	assert_null(formatter__find("json"));
	assert_null(formatter__find(NULL));
	assert_true(formatter__find("syslog")->stream_framed);
	assert_non_null(formatter__find("csv")->file_header);
}

static void test_injection_every_format(void **state)
{
	size_t i, k;

	for (i = 0; i < NTYPES; i++) {
		char *rec = render(types[i], NULL, injected, sizeof(injected) - 1, "ok", 2);

		assert_one_line(rec);
		for (k = 0; k < sizeof(planted) / sizeof(planted[0]); k++)
			if (strstr(rec, planted[k]))
				fail_msg("%s: planted \"%s\" survived: %s", types[i], planted[k], rec);
		assert_non_null(strstr(rec, "PWNED"));
		assert_non_null(strstr(rec, "bearer_token"));
		assert_non_null(strstr(rec, "credit_card"));
	}
}

static void test_grammars(void **state)
{
	char *rec;

	rec = render("syslog", NULL, injected, sizeof(injected) - 1, "a]b\"c\\d", 7);
	if (!matches(SYSLOG_RE, rec))
		fail_msg("not RFC 5424: %s", rec);
	assert_non_null(strstr(rec, "resp_body=\"a\\]b\\\"c\\\\d\""));
	rec = render("cef", NULL, "x=1|y\\z", 7, "ok", 2);
	if (!matches(CEF_RE, rec))
		fail_msg("not CEF: %s", rec);
	assert_non_null(strstr(rec, "cs1=x\\=1|y\\\\z "));
	rec = render("json_lines", NULL, injected, sizeof(injected) - 1, "ok", 2);
	python_check(rec, "json", "PWNED");
	rec = render("csv", NULL, "=HYPERLINK(\"http://x\")", 22, "ok", 2);
	python_check(rec, "csv", "'=HYPERLINK(\"http://x\")");
}

/* One backslash in, one out once each format's own escaping is undone. */
static void test_one_backslash(void **state)
{
	static const char body[] = "a\\b";

	assert_non_null(strstr(render("json_lines", NULL, body, 3, "", 0), "\"body\":\"a\\\\b\""));
	assert_non_null(strstr(render("cef", NULL, body, 3, "", 0), "cs1=a\\\\b "));
	assert_non_null(strstr(render("syslog", NULL, body, 3, "", 0), "req_body=\"a\\\\b\""));
	assert_non_null(strstr(render("line", NULL, body, 3, "", 0), "req_body=\"a\\\\b\""));
	assert_non_null(strstr(render("csv", NULL, body, 3, "", 0), ",\"a\\b\","));
	python_check(render("json_lines", NULL, body, 3, "", 0), "json", "a\\b");
	python_check(render("csv", NULL, body, 3, "", 0), "csv", "a\\b");
}

static void test_truncation_every_format(void **state)
{
	struct format_opts o = { .max_message_length = FORMAT_MAX_MESSAGE_MIN };
	size_t n = 50000, i;
	char *big = malloc(n);

	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = "ab\"\\\x01\xe2\x9c\x93 "[i % 9];
	for (i = 0; i < NTYPES; i++) {
		char *rec = render(types[i], &o, big, n, big, n);

		assert_one_line(rec);
		if (strlen(rec) > FORMAT_MAX_MESSAGE_MIN)
			fail_msg("%s: %zu bytes > max_message_length", types[i], strlen(rec));
		/* syslog escapes the mark's ']' in a PARAM-VALUE */
		if (!strstr(rec, "...[truncated") || !strstr(rec, "truncated"))
			fail_msg("%s: no truncation mark: %s", types[i], rec);
	}
	python_check(render("json_lines", &o, big, n, big, n), "json", SANITIZE_TRUNC_MARK);
	assert_null(strstr(render("json_lines", &o, "short", 5, "", 0), "truncated"));
	free(big);
}

/*
 * One prep, every format (issue 15): the texts are made safe once, and a
 * format whose record must be cut cuts a copy, so the next format and a
 * second rendering see the prep as it was.
 */
static void test_prepare_once_every_format(void **state)
{
	struct format_opts o = { .max_message_length = FORMAT_MAX_MESSAGE_MIN };
	struct format_prep *fp = format_prep__new();
	struct fixture fx;
	struct jbuf a, b;
	size_t n = 6000, i;
	char *big = malloc(n);

	assert_non_null(fp);
	assert_non_null(big);
	memset(big, 'x', n);
	fixture__init(&fx, "short", 5, big, n);
	assert_int_equal(format__prepare(fp, &o, 42, &fx.x, NULL, FIXTURE_OFF, false), 0);
	for (i = 0; i < NTYPES; i++) {
		jbuf__init(&a);
		jbuf__init(&b);
		assert_int_equal(format__render(formatter__find(types[i]), &a, &o, fp), 0);
		assert_int_equal(format__render(formatter__find(types[i]), &b, &o, fp), 0);
		assert_true(a.len <= FORMAT_MAX_MESSAGE_MIN);
		assert_non_null(strstr(a.buf, "truncated"));
		assert_string_equal(a.buf, b.buf);	/* the cut did not touch fp */
		jbuf__free(&a);
		jbuf__free(&b);
	}
	/* a larger limit gets its own prep: nothing cut */
	o.max_message_length = 20000;
	assert_int_equal(format__prepare(fp, &o, 42, &fx.x, NULL, FIXTURE_OFF, false), 0);
	jbuf__init(&a);
	assert_int_equal(format__render(formatter__find("json_lines"), &a, &o, fp), 0);
	assert_null(strstr(a.buf, "truncated"));
	jbuf__free(&a);
	format_prep__free(fp);
	free(big);
}

/* "critical" is what the caller decided, plus a secret seen; never a leftover of the last record. */
static void test_critical_passed_in(void **state)
{
	struct format_prep *fp = format_prep__new();
	const char *secret = "password=hunter2hunter2";
	struct fixture fx;
	struct jbuf jb;

	assert_non_null(fp);
	fixture__init(&fx, "plain", 5, "ok", 2);
	assert_int_equal(format__prepare(fp, NULL, 1, &fx.x, NULL, FIXTURE_OFF, true), 0);
	assert_true(format_prep__critical(fp));
	jbuf__init(&jb);
	assert_int_equal(format__render(formatter__find("json_lines"), &jb, NULL, fp), 0);
	assert_non_null(strstr(jb.buf, "\"critical\":true"));
	jbuf__reset(&jb);
	assert_int_equal(format__prepare(fp, NULL, 2, &fx.x, NULL, FIXTURE_OFF, false), 0);
	assert_false(format_prep__critical(fp));
	assert_int_equal(format__render(formatter__find("json_lines"), &jb, NULL, fp), 0);
	assert_non_null(strstr(jb.buf, "\"critical\":false"));
	jbuf__reset(&jb);
	fixture__init(&fx, secret, strlen(secret), "ok", 2);
	assert_int_equal(format__prepare(fp, NULL, 3, &fx.x, NULL, FIXTURE_OFF, false), 0);
	assert_true(format_prep__critical(fp));
	assert_int_equal(format__render(formatter__find("json_lines"), &jb, NULL, fp), 0);
	assert_null(strstr(jb.buf, "hunter2"));
	jbuf__free(&jb);
	format_prep__free(fp);
}

/* One exchange through fp under o, rendered as JSON into jb (reset first). */
static void prep_json(struct format_prep *fp, const struct format_opts *o, struct fixture *fx,
		      struct jbuf *jb)
{
	jbuf__reset(jb);
	assert_int_equal(format__prepare(fp, o, 1, &fx->x, NULL, FIXTURE_OFF, false), 0);
	assert_int_equal(format__render(formatter__find("json_lines"), jb, o, fp), 0);
}

/*
 * A side text found clean is copied as it is the next time (the prepare
 * step's memo): never once a different redactor is in force, even one at
 * the freed one's address, and never for a text that differs in a byte.
 */
static void test_clean_memo(void **state)
{
	const struct redact_custom rule = { .name = "host_rule", .regex = "internal[.]example" };
	struct redact_opts ro;
	struct format_opts o = { 0 };
	struct format_prep *fp = format_prep__new();
	struct redactor *plain, *strict;
	struct fixture fx;
	struct jbuf jb;
	char err[256];
	int round;

	redact_opts__defaults(&ro);
	plain = redactor__new(&ro, err, sizeof(err));
	assert_non_null(plain);
	jbuf__init(&jb);
	fixture__init(&fx, "ok", 2, "ok", 2);
	snprintf(fx.req.http.host, sizeof(fx.req.http.host), "db.internal.example");
	o.redactor = plain;
	for (round = 0; round < 2; round++) {	/* the second round comes from the memo */
		prep_json(fp, &o, &fx, &jb);
		assert_non_null(strstr(jb.buf, "\"host\":\"db.internal.example\""));
	}
	/* a byte changed: scanned again, and the secret in it is found */
	snprintf(fx.req.http.host, sizeof(fx.req.http.host), "db.internal.exampl3 password=hunter2");
	prep_json(fp, &o, &fx, &jb);
	assert_null(strstr(jb.buf, "hunter2"));
	snprintf(fx.req.http.host, sizeof(fx.req.http.host), "db.internal.example");
	prep_json(fp, &o, &fx, &jb);	/* clean again, remembered again */
	/* a reload's redactor with a rule for it, possibly at the old one's address */
	redactor__free(plain);
	ro.custom = &rule;
	ro.ncustom = 1;
	strict = redactor__new(&ro, err, sizeof(err));
	assert_non_null(strict);
	o.redactor = strict;
	prep_json(fp, &o, &fx, &jb);
	assert_null(strstr(jb.buf, "internal.example"));
	assert_non_null(strstr(jb.buf, "[REDACTED:host_rule]"));
	redactor__free(strict);
	jbuf__free(&jb);
	format_prep__free(fp);
}

/*
 * fx prepared through fp, whose memo holds what came before, gives in
 * every format the record a fresh prep (an empty memo) makes of it: one
 * line each, and forbid (when not NULL) in none.
 */
static void check_as_fresh(struct format_prep *fp, struct fixture *fx, const char *forbid)
{
	struct format_prep *once = format_prep__new();
	struct jbuf jb, fresh;
	size_t t;

	assert_non_null(once);
	jbuf__init(&jb);
	jbuf__init(&fresh);
	assert_int_equal(format__prepare(fp, NULL, 1, &fx->x, NULL, FIXTURE_OFF, false), 0);
	assert_int_equal(format__prepare(once, NULL, 1, &fx->x, NULL, FIXTURE_OFF, false), 0);
	for (t = 0; t < NTYPES; t++) {
		jbuf__reset(&jb);
		jbuf__reset(&fresh);
		assert_int_equal(format__render(formatter__find(types[t]), &jb, NULL, fp), 0);
		assert_int_equal(format__render(formatter__find(types[t]), &fresh, NULL, once), 0);
		assert_string_equal(jb.buf, fresh.buf);
		assert_one_line(jb.buf);
		if (forbid)
			assert_null(strstr(jb.buf, forbid));
	}
	jbuf__free(&jb);
	jbuf__free(&fresh);
	format_prep__free(once);
}

/*
 * Bodies repeat through the memo too: each record of a run through one
 * prep, in every format, is the record a fresh prep makes of the same
 * exchange, clean or with a secret (redacted, critical, every time), and
 * whether the body is written as it is or escaped.
 */
static void test_body_memo(void **state)
{
	static const char *const bodies[] = {
		"hello\n", "hello\n", "token password=hunter2\n", "token password=hunter2\n",
		"hello\n", "hello!", "hello!", "hello!", "hello!", "hello!", "hello\n",
		"", "", "", "", "hello\n", "",
		"{\"a\":\"b\\\\c\"}", "{\"a\":\"b\\\\c\"}", "a\tb", "a\tb", "{\"a\":\"b\\\\c\"}",
	};
	/* the same bytes under another content type: binary, then text again */
	static const char *const ctypes[sizeof(bodies) / sizeof(bodies[0])] = {
		[7] = "application/octet-stream", [8] = "application/octet-stream",
		[9] = "text/plain; charset=utf-8",
		[13] = "application/octet-stream", [14] = "text/plain; charset=utf-8",
	};
	struct format_prep *fp = format_prep__new();
	struct fixture fx;
	struct jbuf jb;
	size_t i;

	jbuf__init(&jb);
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		fixture__init(&fx, bodies[i], strlen(bodies[i]), bodies[i], strlen(bodies[i]));
		if (ctypes[i]) {
			snprintf(fx.req.http.content_type, sizeof(fx.req.http.content_type), "%s",
				 ctypes[i]);
			snprintf(fx.resp.http.content_type, sizeof(fx.resp.http.content_type), "%s",
				 ctypes[i]);
		}
		check_as_fresh(fp, &fx, "hunter2");
		assert_int_equal(format_prep__critical(fp), strstr(bodies[i], "hunter2") != NULL);
		if (i == 7) {
			jbuf__reset(&jb);
			assert_int_equal(format__render(formatter__find("json_lines"), &jb, NULL,
							fp), 0);
			assert_non_null(strstr(jb.buf, "\"body_kind\":\"binary\""));
		}
	}
	jbuf__free(&jb);
	format_prep__free(fp);
}

/*
 * Addresses are the connection's own strings when plain (no copy); any
 * other is made safe as before: quotes and backslashes escaped by each
 * format, a control byte written as \xNN, one that fills its array
 * without a NUL kept whole. Each record equals what a fresh prep makes.
 */
static void test_address_texts(void **state)
{
	static const char *const locals[] = {
		"127.0.0.1:8080", "/run/a\"b\\c.sock", "/run/\x01\x1b[31m.sock", "", NULL,
	};
	struct format_prep *fp = format_prep__new();
	struct fixture fx;
	struct jbuf jb;
	size_t i;

	(void)state;
	jbuf__init(&jb);
	for (i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
		fixture__init(&fx, "ok", 2, "ok", 2);
		if (locals[i])
			snprintf(fx.conn.names.local, sizeof(fx.conn.names.local), "%s", locals[i]);
		else	/* the whole array, no NUL in it */
			memset(fx.conn.names.local, 'u', sizeof(fx.conn.names.local));
		fx.conn.transport = locals[i] && locals[i][0] != '/' ? 0 : SA_TRANSPORT_UNIX;
		check_as_fresh(fp, &fx, NULL);
		jbuf__reset(&jb);
		assert_int_equal(format__render(formatter__find("json_lines"), &jb, NULL, fp), 0);
		if (i == 1)
			assert_non_null(strstr(jb.buf, "\"local\":\"/run/a\\\"b\\\\c.sock\""));
		if (i == 2)	/* sanitized: \x01 as text, the escape sequence dropped */
			assert_non_null(strstr(jb.buf, "\"local\":\"/run/\\\\x01.sock\""));
		if (!locals[i])
			assert_true(strspn(strstr(jb.buf, "\"local\":\"") + 9, "u") ==
				    sizeof(fx.conn.names.local));
	}
	jbuf__free(&jb);
	format_prep__free(fp);
}

/* Our own names a record writes unescaped fit FORMAT_NAME_MAX: the JSON record's fixed room counts them so. */
static void test_name_lengths(void **state)
{
	struct fixture fx;
	struct prep p = { 0 };
	int64_t code;
	int i;

	(void)state;
	for (i = -1; i <= OUTCOME_MAX; i++)
		assert_true(strlen(outcome__name(i)) <= FORMAT_NAME_MAX);
	for (i = -1; i <= PK_MAX; i++)
		assert_true(strlen(sanitize__kind_name(i)) <= FORMAT_NAME_MAX);
	for (code = -33000; code <= 1000; code++)
		assert_true(strlen(jsonrpc__error_class(code)) <= FORMAT_NAME_MAX);
	assert_true(strlen(jsonrpc__error_class(INT64_MIN)) <= FORMAT_NAME_MAX);
	fixture__init(&fx, "", 0, "", 0);
	p.x = &fx.x;
	for (i = -1; i <= 8; i++) {
		fx.conn.role = i;
		fx.conn.proto = i;
		fx.conn.transport = i;
		fx.conn.tls_h2 = i & 1;
		assert_true(strlen(prep__role(&p)) <= FORMAT_NAME_MAX);
		assert_true(strlen(prep__proto(&p)) <= FORMAT_NAME_MAX);
		assert_true(strlen(prep__transport(&p)) <= FORMAT_NAME_MAX);
	}
}

/*
 * A JSON record with every member there can be, the largest numbers, and
 * one-byte texts stays inside RECORD_FIXED_ROOM with room for the longest
 * names: the room reserved once per record holds all its fixed part.
 */
static void test_record_fixed_room(void **state)
{
	static const int protos[] = { PROTO_HTTP, PROTO_JSONRPC };
	struct format_prep *fp = format_prep__new();
	struct mcp_view v;
	struct fixture fx;
	struct jbuf jb;
	size_t i;

	(void)state;
	jbuf__init(&jb);
	memset(&v, 0, sizeof(v));
	snprintf(v.id.proto, sizeof(v.id.proto), "p");
	snprintf(v.id.client_name, sizeof(v.id.client_name), "c");
	snprintf(v.id.client_ver, sizeof(v.id.client_ver), "1");
	snprintf(v.id.server_name, sizeof(v.id.server_name), "s");
	snprintf(v.id.server_ver, sizeof(v.id.server_ver), "2");
	snprintf(v.session, sizeof(v.session), "x");
	snprintf(v.method_hdr, sizeof(v.method_hdr), "m");
	snprintf(v.name_hdr, sizeof(v.name_hdr), "n");
	snprintf(v.traceparent, sizeof(v.traceparent), "t");
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		struct msg_copy *side[2];
		int k;

		fixture__init(&fx, "b", 1, "c", 1);
		side[0] = &fx.req;
		side[1] = &fx.resp;
		fx.conn.proto = protos[i];
		fx.conn.tgid = fx.conn.uid = UINT32_MAX;
		fx.conn.tls = true;
		snprintf(fx.conn.comm, sizeof(fx.conn.comm), "n");
		snprintf(fx.conn.names.local, sizeof(fx.conn.names.local), "l");
		snprintf(fx.conn.names.peer, sizeof(fx.conn.names.peer), "p");
		memset(fx.conn.names.id, '9', sizeof(fx.conn.names.id) - 1);
		for (k = 0; k < 2; k++) {
			side[k]->tid = UINT32_MAX;
			side[k]->m.wire_bytes = side[k]->m.body_bytes = UINT64_MAX;
			side[k]->m.lost_bytes = UINT64_MAX;
			side[k]->m.body_cut = side[k]->m.incomplete = true;
			side[k]->m.malformed = "x";
			side[k]->m.ts_first_ns = (uint64_t)k << 40;	/* two different timestamps */
			snprintf(side[k]->http.content_type, sizeof(side[k]->http.content_type), "t");
		}
		snprintf(fx.req.http.method, sizeof(fx.req.http.method), "M");
		snprintf(fx.req.http.target, sizeof(fx.req.http.target), "/");
		snprintf(fx.req.http.host, sizeof(fx.req.http.host), "h");
		snprintf(fx.resp.http.reason, sizeof(fx.resp.http.reason), "r");
		fx.resp.http.status = 999;
		fx.req.rpc.kind = RPC_REQUEST;
		fx.req.rpc.has_id = true;
		snprintf(fx.req.rpc.method, sizeof(fx.req.rpc.method), "m");
		snprintf(fx.req.rpc.id, sizeof(fx.req.rpc.id), "1");
		snprintf(fx.req.rpc.tool, sizeof(fx.req.rpc.tool), "t");
		snprintf(fx.req.rpc.uri, sizeof(fx.req.rpc.uri), "u");
		fx.resp.rpc.kind = RPC_ERROR;
		fx.resp.rpc.err_code = INT64_MIN;
		snprintf(fx.resp.rpc.err_msg, sizeof(fx.resp.rpc.err_msg), "e");
		fx.x.mcp = &v;
		fx.x.outcome = OUTCOME_ERROR;
		assert_int_equal(format__prepare(fp, NULL, UINT64_MAX, &fx.x, NULL, FIXTURE_OFF,
						 true), 0);
		jbuf__reset(&jb);
		assert_int_equal(format__render(formatter__find("json_lines"), &jb, NULL, fp), 0);
		assert_non_null(strstr(jb.buf, "\"mcp\":{"));
		assert_non_null(strstr(jb.buf, "\"error\":{\"code\":-9223372036854775808"));
		assert_non_null(strstr(jb.buf, "\"lost_bytes\":18446744073709551615"));
		assert_true(jb.len + 8 * FORMAT_NAME_MAX <= RECORD_FIXED_ROOM);
	}
	jbuf__free(&jb);
	format_prep__free(fp);
}

/*
 * JSON-RPC texts with quotes and backslashes, remembered with their JSON
 * strings, and the method and tool a stream's record shows for its start
 * line (copies of them): the same records as a fresh prep's, every time.
 */
static void test_rpc_memo(void **state)
{
	struct format_prep *fp = format_prep__new();
	struct fixture fx;
	int round;

	(void)state;
	assert_non_null(fp);
	for (round = 0; round < 3; round++) {
		fixture__init(&fx, "{}", 2, "{}", 2);
		fx.conn.proto = round == 1 ? PROTO_HTTP : PROTO_JSONRPC;
		fx.req.rpc.kind = RPC_REQUEST;
		fx.req.rpc.has_id = true;
		snprintf(fx.req.rpc.method, sizeof(fx.req.rpc.method), "tools/\"call\"");
		snprintf(fx.req.rpc.id, sizeof(fx.req.rpc.id), "\"7\"");
		snprintf(fx.req.rpc.tool, sizeof(fx.req.rpc.tool), "a\\b\tc");
		fx.resp.rpc.kind = RPC_ERROR;
		fx.resp.rpc.err_code = -32601;
		snprintf(fx.resp.rpc.err_msg, sizeof(fx.resp.rpc.err_msg), "no \"such\" tool");
		check_as_fresh(fp, &fx, NULL);
	}
	format_prep__free(fp);
}

/* format__u64 at every digit count's edges: 9...9 and 10...0, 0 and the largest. */
static void test_u64_digits(void **state)
{
	struct jbuf jb;
	char want[32];
	uint64_t p = 1;
	int k;

	(void)state;
	jbuf__init(&jb);
	for (k = 0; k < 20; k++, p *= 10) {
		uint64_t v[] = { p - 1, p, p + 1, p * 5 };
		size_t i;

		for (i = 0; i < 4; i++) {
			jbuf__reset(&jb);
			format__u64(&jb, v[i]);
			snprintf(want, sizeof(want), "%llu", (unsigned long long)v[i]);
			assert_string_equal(jb.buf, want);
		}
	}
	jbuf__reset(&jb);
	format__u64(&jb, UINT64_MAX);
	assert_string_equal(jb.buf, "18446744073709551615");
	jbuf__free(&jb);
}

static void test_binary_body(void **state)
{
	static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0x00, 0x01 };
	char *rec = render("json_lines", NULL, gz, sizeof(gz), "", 0);

	assert_non_null(strstr(rec, "\"body_kind\":\"gzip\""));
	assert_non_null(strstr(rec, "\"body\":\"[binary gzip 13 bytes hex=1f8b08"));
}

/* The record of fx (with pi, may be NULL) in type, kept until the next call. */
static char *render_pi(const char *type, struct fixture *fx, const struct proc_info *pi)
{
	static struct jbuf jb;

	jbuf__reset(&jb);
	jbuf__raw(&jb, "", 0);
	assert_int_equal(format__exchange_once(formatter__find(type), &jb, NULL, 7, &fx->x, pi, FIXTURE_OFF),
			 0);
	assert_one_line(jb.buf);
	return jb.buf;
}

static char *render_fx(const char *type, struct fixture *fx)
{
	return render_pi(type, fx, NULL);
}

/* No secret in rec, and the rule that replaced it named; all leaks printed. */
static int count_leaks(const char *type, const char *rec, const char *const *secrets, size_t n)
{
	int bad = 0;
	size_t k;

	for (k = 0; k < n; k++)
		if (strstr(rec, secrets[k])) {
			print_error("%s: \"%s\" in clear: %s", type, secrets[k], rec);
			bad++;
		}
	if (!strstr(rec, "REDACTED:")) {
		print_error("%s: nothing redacted: %s", type, rec);
		bad++;
	}
	return bad;
}

/*
 * Issue 13: the texts outside the bodies. An HTTP exchange whose method,
 * target (percent-encoded), Host, both Content-Types and reason phrase
 * each carry a secret, then a JSON-RPC exchange whose method, id, tool
 * and error message do: in no format does any of them survive.
 */
static void test_every_text_redacted(void **state)
{
	static const char *const http_secrets[] = {
		"hunter2", "abcdefgh.IJKL", "4111%201111", "4111.1111", "jane@example.com",
		"AKIAIOSFODNN7EXAMPLE", "tok3nValue", "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB",
		"ann@ex.io", "ops@example.net",
	};
	struct proc_info pi = { .tgid = 4451 };
	static const char *const rpc_secrets[] = {
		"sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "5500 0000 0000 0004", "bob@example.org",
		"s3cretpw", "4111.1111.1111.1111",
	};
	struct fixture fx;
	int bad = 0;
	size_t i;
	char *rec;

	/* the audited process names itself (prctl) and its executable's path */
	snprintf(pi.exe, sizeof(pi.exe), "/srv/ops@example.net/bin/app");
	for (i = 0; i < NTYPES; i++) {
		fixture__init(&fx, "ok", 2, "ok", 2);
		snprintf(fx.conn.comm, sizeof(fx.conn.comm), "ann@ex.io");
		snprintf(fx.req.http.method, sizeof(fx.req.http.method), "AKIAIOSFODNN7EXAMPLE");
		snprintf(fx.req.http.target, sizeof(fx.req.http.target),
			 "/a?p%%61ssword=hunter2&t=Bearer%%20abcdefgh.IJKL&c=4111%%201111%%201111%%201111");
		snprintf(fx.req.http.host, sizeof(fx.req.http.host), "jane@example.com");
		snprintf(fx.req.http.content_type, sizeof(fx.req.http.content_type),
			 "text/plain; token=tok3nValue");
		snprintf(fx.resp.http.content_type, sizeof(fx.resp.http.content_type),
			 "text/plain; card=4111.1111.1111.1111");
		snprintf(fx.resp.http.reason, sizeof(fx.resp.http.reason),
			 "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB");
		bad += count_leaks(types[i], render_pi(types[i], &fx, &pi), http_secrets,
				   sizeof(http_secrets) / sizeof(http_secrets[0]));

		fixture__init(&fx, "{}", 2, "{}", 2);
		fx.conn.proto = PROTO_JSONRPC;
		fx.req.rpc.kind = RPC_REQUEST;
		fx.req.rpc.has_id = true;
		snprintf(fx.req.rpc.method, sizeof(fx.req.rpc.method),
			 "sk-ant-api03-abcdefghijklmnopqrstuvwxyz");
		snprintf(fx.req.rpc.id, sizeof(fx.req.rpc.id), "\"5500 0000 0000 0004\"");
		snprintf(fx.req.rpc.tool, sizeof(fx.req.rpc.tool), "mail:bob@example.org");
		fx.resp.rpc.kind = RPC_ERROR;
		fx.resp.rpc.has_id = true;
		fx.resp.rpc.err_code = -32000;
		snprintf(fx.resp.rpc.err_msg, sizeof(fx.resp.rpc.err_msg),
			 "bad password=s3cretpw for card 4111.1111.1111.1111");
		fx.x.outcome = OUTCOME_ERROR;
		bad += count_leaks(types[i], render_fx(types[i], &fx), rpc_secrets,
				   sizeof(rpc_secrets) / sizeof(rpc_secrets[0]));
	}
	if (bad)
		fail_msg("%d leaks (above)", bad);
	/* the rules that fired in the side texts are named */
	rec = render_fx("json_lines", &fx);
	assert_non_null(strstr(rec, "\"redactions\":[\"anthropic_key\",\"password\","
				    "\"credit_card\",\"email\"]"));
	/* the record keeps the target as written around the replaced secrets */
	fixture__init(&fx, "ok", 2, "ok", 2);
	snprintf(fx.req.http.target, sizeof(fx.req.http.target), "/a?p%%61ssword=hunter2&x=1");
	assert_non_null(strstr(render_fx("json_lines", &fx),
			       "\"target\":\"/a?p%61ssword=[REDACTED:password]&x=1\""));
}

/*
 * A body the content type calls binary but that holds text: no hex of it
 * (hex is not redacted), only its kind and length. A true binary body
 * keeps its preview.
 */
static void test_binary_text_no_hex(void **state)
{
	static const char body[] = "password=hunter2&user=bob";
	static const uint8_t utf16[] = { 'p', 0, 'w', 0, 'd', 0, '=', 0, 'h', 0, 'u', 0, 'n', 0,
					 't', 0, 'e', 0, 'r', 0, '2', 0 };
	static const uint8_t blob[] = { 0x00, 0x01, 0xfe, 0x80, 0x7f, 0x00, 0x10, 0x02, 0x03,
					0x04, 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0 };
	struct fixture fx;
	size_t i;
	char *rec;

	for (i = 0; i < NTYPES; i++) {
		fixture__init(&fx, body, sizeof(body) - 1, "ok", 2);
		snprintf(fx.req.http.content_type, sizeof(fx.req.http.content_type),
			 "application/octet-stream");
		rec = render_fx(types[i], &fx);
		if (strstr(rec, "70617373776f7264") || strstr(rec, "hex=") || strstr(rec, "hunter2"))
			fail_msg("%s: the text went out as hex: %s", types[i], rec);
		assert_non_null(strstr(rec, "[binary binary 25 bytes"));
	}
	fixture__init(&fx, utf16, sizeof(utf16), "ok", 2);
	rec = render_fx("json_lines", &fx);
	assert_null(strstr(rec, "hex="));
	fixture__init(&fx, blob, sizeof(blob), "ok", 2);
	snprintf(fx.req.http.content_type, sizeof(fx.req.http.content_type), "application/octet-stream");
	assert_non_null(strstr(render_fx("json_lines", &fx),
			       "[binary binary 17 bytes hex=0001fe807f0010020304"));
}

/*
 * A secret cut by --body-excerpt is redacted as if it were whole: the
 * bytes after the excerpt (body_ahead) are scanned, not written. Every
 * cut through the card and through the password value, in every format,
 * printable or with an escape sequence before the cut.
 */
/*
 * rec with the test's own pid blanked: the syslog header carries it as
 * PROCID, and a pid such as 31111 holds the "1111" a leak check looks for.
 */
static const char *without_own_pid(const char *rec)
{
	static char buf[65536];
	char pid[24];
	char *at;

	assert_true(strlen(rec) < sizeof(buf));	/* all of it is checked */
	snprintf(buf, sizeof(buf), "%s", rec);
	snprintf(pid, sizeof(pid), " %d ", (int)getpid());
	at = strstr(buf, pid);
	if (at)
		memset(at + 1, 'P', strlen(pid) - 2);
	return buf;
}

static void test_excerpt_cut_secret(void **state)
{
	static const char *const bodies[] = {
		"pay with 4111 1111 1111 1111 now",
		"pay with 4111.1111.1111.1111 now",
		"\x1b[31mred\x1b[0m 4111-1111-1111-1111 now",
		"{\"password\":\"hunter2xyz\"}",
	};
	static const char *const leaks[] = { "4111", "1111", "hunter", "xyz" };
	struct fixture fx;
	size_t b, keep, i, k, n;

	for (b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
		n = strlen(bodies[b]);
		for (keep = 1; keep < n; keep++) {
			for (i = 0; i < NTYPES; i++) {
				char *rec;

				fixture__init(&fx, bodies[b], n, "ok", 2);
				fx.req.m.body_len = keep;
				fx.req.m.body_ahead = n - keep;
				fx.req.m.body_cut = true;
				rec = render_fx(types[i], &fx);
				for (k = 0; k < sizeof(leaks) / sizeof(leaks[0]); k++)
					if (strstr(without_own_pid(rec), leaks[k]))
						fail_msg("%s, body \"%s\" cut at %zu: \"%s\" "
							 "left: %s", types[i], bodies[b], keep,
							 leaks[k], rec);
			}
		}
	}
	/* what follows the excerpt is never written */
	fixture__init(&fx, "hello world", 11, "ok", 2);
	fx.req.m.body_len = 5;
	fx.req.m.body_ahead = 6;
	assert_non_null(strstr(render_fx("json_lines", &fx), "\"body\":\"hello\""));
}

static void test_events_every_format(void **state)
{
	const struct format_field f[] = {
		{ .key = "counter", .kind = FF_STR, .s = "ringbuf\x1b[31m_full\n" },
		{ .key = "count", .kind = FF_U64, .u = 7 },
		{ .key = "delta", .kind = FF_I64, .i = -3 },
		{ .key = "critical", .kind = FF_BOOL, .b = true },
	};
	struct jbuf jb;
	size_t i;

	jbuf__init(&jb);
	for (i = 0; i < NTYPES; i++) {
		const struct formatter *fm = formatter__find(types[i]);

		jbuf__reset(&jb);
		assert_int_equal(fm->event(&jb, NULL, 9, 1795448161000000000ULL, "loss", f, 4), 0);
		assert_one_line(jb.buf);
		assert_non_null(strstr(jb.buf, "ringbuf_full"));
		assert_non_null(strstr(jb.buf, "-3"));
		if (!strcmp(types[i], "syslog") && !matches(SYSLOG_RE, jb.buf))
			fail_msg("not RFC 5424: %s", jb.buf);
		if (!strcmp(types[i], "cef") && !matches(CEF_RE, jb.buf))
			fail_msg("not CEF: %s", jb.buf);
	}
	jbuf__free(&jb);
}

static void test_octet_framing(void **state)
{
	struct jbuf jb;

	jbuf__init(&jb);
	jbuf__raw(&jb, "prev\n", 5);
	jbuf__raw(&jb, "<110>1 - - - - - -\n", 19);
	format__frame_octets(&jb, 5);
	assert_string_equal(jb.buf, "prev\n18 <110>1 - - - - - -");
	jbuf__free(&jb);
}

/* Issue 13: why a side is not strict is in every format, and the grammar holds. */
static void test_malformed_every_format(void **state)
{
	static const char *const want[NTYPES] = {
		"\"malformed\":\"control_char\"", "flexString1=request:control_char,response:version",
		"req_malformed=\"control_char\"", "req_malformed=control_char",
		"req_malformed=control_char;resp_malformed=version",
	};
	static struct jbuf jb;
	struct fixture fx;
	size_t i;

	for (i = 0; i < NTYPES; i++) {
		const struct formatter *f = formatter__find(types[i]);

		fixture__init(&fx, "a", 1, "b", 1);
		fx.req.m.malformed = "control_char";
		fx.resp.m.malformed = "version";
		fx.resp.http.version = 20;
		jbuf__reset(&jb);
		assert_int_equal(format__exchange_once(f, &jb, NULL, 42, &fx.x, NULL, FIXTURE_OFF), 0);
		jbuf__raw(&jb, "", 1);
		assert_one_line(jb.buf);
		if (!strstr(jb.buf, want[i]))
			fail_msg("%s: no %s in %s", types[i], want[i], jb.buf);
		if (i == 0)
			assert_non_null(strstr(jb.buf, "\"version\":\"HTTP/2.0\""));
		if (i == 1 && !matches(CEF_RE, jb.buf))
			fail_msg("not CEF: %s", jb.buf);
		if (i == 2 && !matches(SYSLOG_RE, jb.buf))
			fail_msg("not RFC 5424: %s", jb.buf);
	}
}

/* The same exchange as TLS plaintext over h2 and in clear: every format says which. */
static void test_tls_every_format(void **state)
{
	static const char *const want_tls[NTYPES] = {
		"\"tls\":true}", "app=h2 flexString2=true flexString2Label=tls",
		"proto=\"h2\" tls=\"true\"", "proto=h2 tls=true", ",h2,ok,",
	};
	static const char *const want_clear[NTYPES] = {
		"\"tls\":false}", "app=http flexString2=false flexString2Label=tls",
		"proto=\"http\" tls=\"false\"", "proto=http tls=false", ",http,",
	};
	static struct jbuf jb;
	struct fixture fx;
	size_t i;

	for (i = 0; i < NTYPES; i++) {
		for (int tls = 0; tls < 2; tls++) {
			const char *want = tls ? want_tls[i] : want_clear[i];

			fixture__init(&fx, "a", 1, "b", 1);
			fx.conn.tls = tls;
			fx.conn.tls_h2 = tls;
			fx.conn.proto = tls ? PROTO_RAW : PROTO_HTTP;
			jbuf__reset(&jb);
			assert_int_equal(format__exchange_once(formatter__find(types[i]), &jb, NULL, 42,
							       &fx.x, NULL, FIXTURE_OFF), 0);
			jbuf__raw(&jb, "", 1);
			assert_one_line(jb.buf);
			if (!strstr(jb.buf, want))
				fail_msg("%s: no %s in %s", types[i], want, jb.buf);
			if (i == 4 && !tls != !strstr(jb.buf, ",\"tls=true\""))
				fail_msg("csv: details and tls disagree: %s", jb.buf);
			if (i == 1 && !matches(CEF_RE, jb.buf))
				fail_msg("not CEF: %s", jb.buf);
			if (i == 2 && !matches(SYSLOG_RE, jb.buf))
				fail_msg("not RFC 5424: %s", jb.buf);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_injection_every_format),
		cmocka_unit_test(test_grammars),
		cmocka_unit_test(test_one_backslash),
		cmocka_unit_test(test_truncation_every_format),
		cmocka_unit_test(test_prepare_once_every_format),
		cmocka_unit_test(test_critical_passed_in),
		cmocka_unit_test(test_clean_memo),
		cmocka_unit_test(test_body_memo),
		cmocka_unit_test(test_u64_digits),
		cmocka_unit_test(test_address_texts),
		cmocka_unit_test(test_rpc_memo),
		cmocka_unit_test(test_name_lengths),
		cmocka_unit_test(test_record_fixed_room),
		cmocka_unit_test(test_binary_body),
		cmocka_unit_test(test_every_text_redacted),
		cmocka_unit_test(test_binary_text_no_hex),
		cmocka_unit_test(test_excerpt_cut_secret),
		cmocka_unit_test(test_events_every_format),
		cmocka_unit_test(test_octet_framing),
		cmocka_unit_test(test_malformed_every_format),
		cmocka_unit_test(test_tls_every_format),
	};

	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
