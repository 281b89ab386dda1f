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
#include "sanitize.h"
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
	assert_int_equal(f->exchange(&jb, o, 42, &fx.x, NULL, FIXTURE_OFF), 0);
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

static void test_binary_body(void **state)
{
	static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0x00, 0x01 };
	char *rec = render("json_lines", NULL, gz, sizeof(gz), "", 0);

	assert_non_null(strstr(rec, "\"body_kind\":\"gzip\""));
	assert_non_null(strstr(rec, "\"body\":\"[binary gzip 13 bytes hex=1f8b08"));
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
		fx.resp.m.version = 20;
		jbuf__reset(&jb);
		assert_int_equal(f->exchange(&jb, NULL, 42, &fx.x, NULL, FIXTURE_OFF), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_injection_every_format),
		cmocka_unit_test(test_grammars),
		cmocka_unit_test(test_one_backslash),
		cmocka_unit_test(test_truncation_every_format),
		cmocka_unit_test(test_binary_body),
		cmocka_unit_test(test_events_every_format),
		cmocka_unit_test(test_octet_framing),
		cmocka_unit_test(test_malformed_every_format),
	};

	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
