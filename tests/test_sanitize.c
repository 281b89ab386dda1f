// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/sanitize.c: every control byte, CR/LF in all mixes,
 * ANSI/VT sequences, NUL, bidi and invisible characters, invalid UTF-8,
 * binary detection, cutting at safe boundaries, and a 100 MB payload in
 * bounded memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "format.h"
#include "sanitize.h"
#include "format_fixture.h"

/* strip then escape, as the prepare step does, into a NUL-terminated string */
static char *clean(const void *in, size_t n, size_t limit)
{
	static struct jbuf out;
	uint8_t *tmp = malloc(n + 1);
	size_t used, m;

	assert_non_null(tmp);
	m = sanitize__strip(tmp, n + 1, in, n, &used);
	assert_int_equal(used, n);
	jbuf__reset(&out);
	jbuf__raw(&out, "", 0);
	sanitize__escape(&out, tmp, m, limit);
	free(tmp);
	assert_true(sanitize__is_safe((const uint8_t *)out.buf, out.len));
	return out.buf;
}

#define CLEAN(s) clean(s, sizeof(s) - 1, 1 << 20)

static void test_every_control_byte(void **state)
{
	char in[2], want[8];
	int c;

	for (c = 0; c < 0x20; c++) {
		if (c == 0x1b)
			continue;	/* ESC starts a sequence: see the ANSI tests */
		in[0] = (char)c;
		in[1] = 'a';
		if (c == '\t')
			snprintf(want, sizeof(want), "\ta");
		else
			snprintf(want, sizeof(want), "\\x%02xa", c);
		assert_string_equal(clean(in, 2, 100), want);
	}
	assert_string_equal(CLEAN("\x7f"), "\\x7f");
	assert_string_equal(CLEAN("a\0b"), "a\\x00b");
}

/*
 * Printable ASCII is scanned a word at a time: a byte that must be escaped
 * is found at every position of a 24-byte text, and a limit that falls in
 * the middle of a word cuts exactly there.
 */
static void test_escape_any_position(void **state)
{
	static const uint8_t bytes[] = { 0x00, 0x01, 0x0a, 0x0d, 0x1f, 0x7f, 0x80, 0xff };
	char want[64];
	size_t i, pos;
	struct jbuf out;

	(void)state;
	for (i = 0; i < sizeof(bytes); i++) {
		for (pos = 0; pos < 24; pos++) {
			uint8_t in[24];

			memset(in, 'a', sizeof(in));
			in[pos] = bytes[i];
			snprintf(want, sizeof(want), "%.*s\\x%02x%.*s", (int)pos,
				 "aaaaaaaaaaaaaaaaaaaaaaaa", bytes[i], (int)(23 - pos),
				 "aaaaaaaaaaaaaaaaaaaaaaaa");
			assert_string_equal(clean(in, sizeof(in), 100), want);
		}
	}
	jbuf__init(&out);
	for (pos = 0; pos <= 24; pos++) {
		jbuf__reset(&out);
		jbuf__raw(&out, "", 0);
		assert_int_equal(sanitize__escape(&out, (const uint8_t *)"abcdefghijklmnopqrstuvwx",
						  24, pos), pos);
		assert_int_equal(out.len, pos);
	}
	jbuf__free(&out);
}

static void test_crlf_never_raw(void **state)
{
	assert_string_equal(CLEAN("a\r\nb"), "a\\x0d\\x0ab");
	assert_string_equal(CLEAN("a\nb"), "a\\x0ab");
	assert_string_equal(CLEAN("a\rb\n\r\nc\n\n"), "a\\x0db\\x0a\\x0d\\x0ac\\x0a\\x0a");
	assert_null(strpbrk(CLEAN("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "\r\n"));
}

static void test_ansi_removed(void **state)
{
	assert_string_equal(CLEAN("\x1b[31mred\x1b[0m plain"), "red plain");
	assert_string_equal(CLEAN("\x1b[1;31;42mx\x1b[m"), "x");
	assert_string_equal(CLEAN("a\x1b[2J\x1b[Hb\x1b[10;20Hc\x1b[?25l"), "abc");
	assert_string_equal(CLEAN("\x1b]0;evil title\x07" "after"), "after");
	assert_string_equal(CLEAN("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), "link");
	assert_string_equal(CLEAN("\x1bPqdata\x1b\\z"), "z");
	assert_string_equal(CLEAN("a\x1b" "cb\x1b" "7c\x1b" "8d"), "abcd");	/* RIS, DECSC, DECRC */
	assert_string_equal(CLEAN("\x1b(Bx\x1b#8y"), "xy");
	assert_string_equal(CLEAN("\xc2\x9b" "31mC1\xc2\x9d" "0;t\x07!"), "C1!");
	assert_string_equal(CLEAN("end\x1b"), "end");
	/* unterminated OSC: only the introducer goes, the rest stays visible */
	assert_string_equal(CLEAN("\x1b]0;no end here"), "0;no end here");
}

static void test_bidi_and_invisible(void **state)
{
	assert_string_equal(CLEAN("a\xe2\x80\xae" "b"), "a\\u202eb");	/* RLO */
	assert_string_equal(CLEAN("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");
	assert_string_equal(CLEAN("z\xe2\x80\x8bw"), "z\\u200bw");	/* ZWSP */
	assert_string_equal(CLEAN("\xef\xbb\xbfq"), "\\ufeffq");	/* BOM */
	assert_string_equal(CLEAN("\xe2\x80\xa8"), "\\u2028");	/* LINE SEPARATOR */
	assert_string_equal(CLEAN("\xc2\x85"), "\\u0085");		/* NEL (C1) */
	assert_string_equal(CLEAN("\xf3\xa0\x81\x81"), "\\U000e0041");	/* TAG A */
}

static void test_utf8(void **state)
{
	assert_string_equal(CLEAN("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80"),
			    "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80");
	assert_string_equal(CLEAN("\xff"), "\\xff");
	assert_string_equal(CLEAN("\xc0\xaf"), "\\xc0\\xaf");		/* overlong '/' */
	assert_string_equal(CLEAN("\xed\xa0\x80"), "\\xed\\xa0\\x80");	/* surrogate */
	assert_string_equal(CLEAN("\xe2\x82"), "\\xe2\\x82");		/* truncated */
	assert_string_equal(CLEAN("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); /* > U+10FFFF */
	assert_string_equal(CLEAN("back\\slash \"q\""), "back\\slash \"q\"");
}

static void test_limit_never_splits(void **state)
{
	static const char three[] = "\xe2\x9c\x93";	/* 3 bytes */
	struct jbuf jb;
	char in[30];
	size_t i, used;

	for (i = 0; i < 10; i++)
		memcpy(in + 3 * i, three, 3);
	for (i = 0; i < 12; i++) {
		jbuf__init(&jb);
		used = sanitize__escape(&jb, (const uint8_t *)in, 30, i);
		assert_true(jb.len <= i);
		assert_int_equal(jb.len % 3, 0);
		assert_int_equal(used, jb.len);
		jbuf__free(&jb);
	}
	jbuf__init(&jb);
	used = sanitize__escape(&jb, (const uint8_t *)"ab\x01", 3, 5);
	assert_int_equal(used, 2);		/* \x01 needs 4 bytes, only 3 left */
	assert_int_equal(jb.len, 2);
	jbuf__free(&jb);
}

static void test_cut(void **state)
{
	struct jbuf jb;

	jbuf__init(&jb);
	jbuf__raw(&jb, "0123456789abcdef\\x1bZZ", 22);
	sanitize__cut(&jb, 30);
	assert_int_equal(jb.len, 22);		/* fits: untouched */
	sanitize__cut(&jb, 32 - 14);		/* cut would land inside \x1b */
	assert_string_equal(jb.buf, "0123" SANITIZE_TRUNC_MARK);
	jbuf__reset(&jb);
	jbuf__raw(&jb, "ab[REDACTED:email]cdefghijklmnop", 32);
	sanitize__cut(&jb, 14 + 8);
	assert_string_equal(jb.buf, "ab" SANITIZE_TRUNC_MARK);
	jbuf__reset(&jb);
	jbuf__raw(&jb, "\xe2\x9c\x93\xe2\x9c\x93\xe2\x9c\x93xxxxxxxxxxxxxxxxxx", 27);
	sanitize__cut(&jb, 14 + 5);		/* 5 lands in the second check mark */
	assert_string_equal(jb.buf, "\xe2\x9c\x93" SANITIZE_TRUNC_MARK);
	jbuf__free(&jb);
}

static void test_detect_binary(void **state)
{
	static const uint8_t gz[] = { 0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 'x' };
	static const uint8_t png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
	static const uint8_t pb[] = { 0x08, 0x96, 0x01, 0x12, 0x04, 't', 'e', 's', 't' };
	uint8_t rnd[256];
	struct jbuf jb;
	size_t i;

	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)(i * 37 + 11);
	assert_int_equal(sanitize__detect(gz, sizeof(gz), NULL), PK_GZIP);
	assert_int_equal(sanitize__detect(png, sizeof(png) - 1, "image/png"), PK_PNG);
	assert_int_equal(sanitize__detect(pb, sizeof(pb), "application/x-protobuf"), PK_PROTOBUF);
	assert_int_equal(sanitize__detect(pb, sizeof(pb), "application/grpc+proto"), PK_GRPC);
	assert_int_equal(sanitize__detect(rnd, sizeof(rnd), NULL), PK_BINARY);
	assert_int_equal(sanitize__detect((const uint8_t *)"{\"a\":1}\n", 8, NULL), PK_TEXT);
	assert_int_equal(sanitize__detect((const uint8_t *)"x^2 + y", 7, NULL), PK_TEXT);
	assert_int_equal(sanitize__detect((const uint8_t *)"\x1b[31mred\x1b[0m", 12, NULL),
			 PK_TEXT);
	jbuf__init(&jb);
	sanitize__binary_summary(&jb, PK_GZIP, gz, sizeof(gz), 5000);
	assert_string_equal(jb.buf, "[binary gzip 5000 bytes hex=1f8b080000000000000378]");
	/* text in the bytes a preview would show: kind and length only (issue 13) */
	jbuf__reset(&jb);
	sanitize__binary_summary(&jb, PK_BINARY, (const uint8_t *)"password=hunter2xyz", 19, 19);
	assert_string_equal(jb.buf, "[binary binary 19 bytes]");
	jbuf__reset(&jb);
	sanitize__binary_summary(&jb, PK_BINARY, (const uint8_t *)"\0\x01\xffpwd\x80", 7, 7);
	/* three letters are not text: a magic number or a length field may spell them */
	assert_string_equal(jb.buf, "[binary binary 7 bytes hex=0001ff70776480]");
	jbuf__free(&jb);
}

/* A 100 MB message: one bounded record, and memory that does not follow the size. */
static void test_100mb_payload(void **state)
{
	size_t n = 100u << 20, i;
	uint8_t *big = malloc(n);
	struct format_opts o = { .max_message_length = 10000 };
	const struct formatter *f = formatter__find("json_lines");
	struct rusage before, after;
	struct fixture fx;
	struct jbuf jb;

	assert_non_null(big);
	for (i = 0; i < n; i++)
		big[i] = (uint8_t)("abc\r\n\x1b[0m\xe2\x80\xae" "4111 1111 1111 1111 "[i % 31]);
	fixture__init(&fx, big, n, "ok", 2);
	jbuf__init(&jb);
	/* a first small record builds the redactor and grows the buffers */
	fx.req.m.body_len = 20000;
	assert_int_equal(format__exchange_once(f, &jb, &o, 1, &fx.x, NULL, FIXTURE_OFF), 0);
	jbuf__reset(&jb);
	fx.req.m.body_len = n;
	getrusage(RUSAGE_SELF, &before);
	assert_int_equal(format__exchange_once(f, &jb, &o, 1, &fx.x, NULL, FIXTURE_OFF), 0);
	getrusage(RUSAGE_SELF, &after);
	assert_true(jb.len <= 10000);
	assert_non_null(strstr(jb.buf, "\"truncated\":true"));
	assert_non_null(strstr(jb.buf, SANITIZE_TRUNC_MARK));
	assert_ptr_equal(strchr(jb.buf, '\n'), jb.buf + jb.len - 1);	/* one line */
	assert_true(after.ru_maxrss - before.ru_maxrss < 8 * 1024);	/* KiB */
	jbuf__free(&jb);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_control_byte),
		cmocka_unit_test(test_escape_any_position),
		cmocka_unit_test(test_crlf_never_raw),
		cmocka_unit_test(test_ansi_removed),
		cmocka_unit_test(test_bidi_and_invisible),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_limit_never_splits),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_detect_binary),
		cmocka_unit_test(test_100mb_payload),
	};

	return cmocka_run_group_tests_name("sanitize", tests, NULL, NULL);
}
