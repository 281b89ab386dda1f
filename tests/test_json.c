// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/json.c: escaping of every byte class, strict UTF-8,
 * commas and nesting, numbers, and random records checked by a strict JSON
 * validator (and by python3's json module when it is there).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "ascii.h"

static int setup(void **state)
{
	struct jbuf *jb = malloc(sizeof(*jb));

	if (!jb)
		return -1;
	jbuf__init(jb);
	*state = jb;
	return 0;
}

static int teardown(void **state)
{
	struct jbuf *jb = *state;

	jbuf__free(jb);
	free(jb);
	return 0;
}

/* jbuf__str of n bytes, compared with the expected JSON text. */
static void check_str(struct jbuf *jb, const void *in, size_t n, const char *want)
{
	jbuf__reset(jb);
	jbuf__str(jb, in, n);
	assert_false(jb->oom);
	assert_int_equal(jb->len, strlen(want));
	assert_string_equal(jb->buf, want);
}

/* ---- a strict JSON validator (RFC 8259, UTF-8 per Unicode table 3-7) ---- */

struct cursor {
	const uint8_t *s;
	size_t n;
	size_t i;
	int depth;
};

static bool v_value(struct cursor *c);

static void v_ws(struct cursor *c)
{
	while (c->i < c->n && strchr(" \t\r\n", c->s[c->i]) && c->s[c->i])
		c->i++;
}

static bool v_lit(struct cursor *c, const char *lit)
{
	size_t l = strlen(lit);

	if (c->n - c->i < l || memcmp(c->s + c->i, lit, l))
		return false;
	c->i += l;
	return true;
}

static size_t v_utf8(const uint8_t *s, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len, k;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	if (s[0] == 0xed)
		hi = 0x9f;
	if (s[0] == 0xf0)
		lo = 0x90;
	if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (k = 2; k < len; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	return len;
}

static bool v_string(struct cursor *c)
{
	size_t k;

	if (c->i >= c->n || c->s[c->i] != '"')
		return false;
	c->i++;
	while (c->i < c->n) {
		uint8_t b = c->s[c->i];

		if (b == '"') {
			c->i++;
			return true;
		}
		if (b < 0x20)
			return false;
		if (b == '\\') {
			if (++c->i >= c->n)
				return false;
			b = c->s[c->i++];
			if (b == 'u') {
				for (k = 0; k < 4; k++, c->i++)
					if (c->i >= c->n || !strchr("0123456789abcdefABCDEF", c->s[c->i]) ||
					    !c->s[c->i])
						return false;
			} else if (!strchr("\"\\/bfnrt", b) || !b) {
				return false;
			}
			continue;
		}
		if (b < 0x80) {
			c->i++;
			continue;
		}
		k = v_utf8(c->s + c->i, c->n - c->i);
		if (!k)
			return false;
		c->i += k;
	}
	return false;
}

static bool v_number(struct cursor *c)
{
	size_t start = c->i;

	if (c->i < c->n && c->s[c->i] == '-')
		c->i++;
	if (c->i >= c->n || c->s[c->i] < '0' || c->s[c->i] > '9')
		return false;
	if (c->s[c->i] == '0')
		c->i++;
	else
		while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
			c->i++;
	if (c->i < c->n && c->s[c->i] == '.') {
		c->i++;
		if (c->i >= c->n || c->s[c->i] < '0' || c->s[c->i] > '9')
			return false;
		while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
			c->i++;
	}
	return c->i > start;
}

static bool v_members(struct cursor *c, char close, bool keyed)
{
	c->i++;
	v_ws(c);
	if (c->i < c->n && c->s[c->i] == close) {
		c->i++;
		return true;
	}
	for (;;) {
		v_ws(c);
		if (keyed) {
			if (!v_string(c))
				return false;
			v_ws(c);
			if (c->i >= c->n || c->s[c->i++] != ':')
				return false;
		}
		if (!v_value(c))
			return false;
		v_ws(c);
		if (c->i >= c->n)
			return false;
		if (c->s[c->i] == close) {
			c->i++;
			return true;
		}
		if (c->s[c->i++] != ',')
			return false;
	}
}

static bool v_value(struct cursor *c)
{
	bool ok;

	v_ws(c);
	if (c->i >= c->n || c->depth > 64)
		return false;
	switch (c->s[c->i]) {
	case '{':
	case '[':
		c->depth++;
		ok = v_members(c, c->s[c->i] == '{' ? '}' : ']', c->s[c->i] == '{');
		c->depth--;
		return ok;
	case '"':
		return v_string(c);
	case 't':
		return v_lit(c, "true");
	case 'f':
		return v_lit(c, "false");
	case 'n':
		return v_lit(c, "null");
	default:
		return v_number(c);
	}
}

static bool json_valid(const char *s, size_t n)
{
	struct cursor c = { (const uint8_t *)s, n, 0, 0 };

	if (!v_value(&c))
		return false;
	v_ws(&c);
	return c.i == c.n;
}

/* ---- escaping ---- */

static void test_control_bytes(void **state)
{
	struct jbuf *jb = *state;
	char want[16];
	unsigned int c;

	for (c = 0; c < 0x80; c++) {
		uint8_t b = (uint8_t)c;

		if (c >= 0x20 && c < 0x7f)
			continue;
		switch (c) {
		case '\n': strcpy(want, "\"\\n\""); break;
		case '\r': strcpy(want, "\"\\r\""); break;
		case '\t': strcpy(want, "\"\\t\""); break;
		case '\b': strcpy(want, "\"\\b\""); break;
		case '\f': strcpy(want, "\"\\f\""); break;
		default: snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		}
		check_str(jb, &b, 1, want);
	}
	check_str(jb, "\x1f", 1, "\"\\u001f\"");
	check_str(jb, "\x7f", 1, "\"\\u007f\"");
	check_str(jb, "a\0b", 3, "\"a\\u0000b\"");
}

/*
 * The escaper reads whole 8-byte words where it can: every byte that needs
 * escaping (and one that does not) at every position of a 24-byte text
 * must come out exactly as it does alone, with the plain bytes around it
 * untouched.
 */
static void test_special_byte_any_position(void **state)
{
	static const uint8_t specials[] = { 0x00, 0x09, 0x0a, 0x1f, '"', '\\', 0x7f, 0x80, 0xff,
					    0x20, 0x7e };
	struct jbuf *jb = *state, alone;
	size_t i, pos;

	jbuf__init(&alone);
	for (i = 0; i < sizeof(specials); i++) {
		jbuf__reset(&alone);
		jbuf__str(&alone, &specials[i], 1);
		for (pos = 0; pos < 24; pos++) {
			uint8_t in[24];
			char want[128];

			memset(in, 'a', sizeof(in));
			in[pos] = specials[i];
			/* "aaa" + the byte's escape (without its quotes) + "aaa" */
			snprintf(want, sizeof(want), "\"%.*s%.*s%.*s\"", (int)pos,
				 "aaaaaaaaaaaaaaaaaaaaaaaa", (int)(alone.len - 2), alone.buf + 1,
				 (int)(23 - pos), "aaaaaaaaaaaaaaaaaaaaaaaa");
			check_str(jb, in, sizeof(in), want);
		}
	}
	jbuf__free(&alone);
}

static void test_printable_ascii(void **state)
{
	struct jbuf *jb = *state;
	char in[128], want[140];
	size_t n = 0, w = 0;
	unsigned int c;

	want[w++] = '"';
	for (c = 0x20; c < 0x7f; c++) {
		in[n++] = (char)c;
		if (c == '"' || c == '\\')
			want[w++] = '\\';
		want[w++] = (char)c;
	}
	want[w++] = '"';
	want[w] = '\0';
	check_str(jb, in, n, want);
}

static void test_quotes_backslashes(void **state)
{
	struct jbuf *jb = *state;

	check_str(jb, "\"", 1, "\"\\\"\"");
	check_str(jb, "\\", 1, "\"\\\\\"");
	check_str(jb, "say \"hi\" \\o/", 12, "\"say \\\"hi\\\" \\\\o/\"");
	check_str(jb, "", 0, "\"\"");
}

static void test_invalid_utf8(void **state)
{
	struct jbuf *jb = *state;

	check_str(jb, "\x80", 1, "\"\\\\x80\"");			/* lone continuation */
	check_str(jb, "a\xbf" "b", 3, "\"a\\\\xbfb\"");
	check_str(jb, "\xc0\x80", 2, "\"\\\\xc0\\\\x80\"");		/* overlong NUL */
	check_str(jb, "\xc1\xbf", 2, "\"\\\\xc1\\\\xbf\"");		/* overlong 2-byte */
	check_str(jb, "\xe0\x80\xaf", 3, "\"\\\\xe0\\\\x80\\\\xaf\"");	/* overlong 3-byte */
	check_str(jb, "\xf0\x80\x80\xaf", 4, "\"\\\\xf0\\\\x80\\\\x80\\\\xaf\"");
	check_str(jb, "\xed\xa0\x80", 3, "\"\\\\xed\\\\xa0\\\\x80\"");	/* surrogate D800 */
	check_str(jb, "\xed\xbf\xbf", 3, "\"\\\\xed\\\\xbf\\\\xbf\"");	/* surrogate DFFF */
	check_str(jb, "\xf4\x90\x80\x80", 4, "\"\\\\xf4\\\\x90\\\\x80\\\\x80\"");	/* > U+10FFFF */
	check_str(jb, "\xf5\x80\x80\x80", 4, "\"\\\\xf5\\\\x80\\\\x80\\\\x80\"");
	check_str(jb, "\xff\xfe", 2, "\"\\\\xff\\\\xfe\"");
	check_str(jb, "ok\xe2\x82", 4, "\"ok\\\\xe2\\\\x82\"");		/* truncated at end */
	check_str(jb, "\xf0\x9f\x98", 3, "\"\\\\xf0\\\\x9f\\\\x98\"");
	check_str(jb, "\xe2\x82" "A", 3, "\"\\\\xe2\\\\x82A\"");	/* cut by ASCII */
	/* A valid sequence right after an invalid lead byte is kept. */
	check_str(jb, "\xc3\xc3\xa9", 3, "\"\\\\xc3\xc3\xa9\"");
}

static void test_valid_utf8(void **state)
{
	struct jbuf *jb = *state;

	check_str(jb, "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"");
	check_str(jb, "\xc2\x80", 2, "\"\xc2\x80\"");			/* U+0080 */
	check_str(jb, "\xe2\x82\xac", 3, "\"\xe2\x82\xac\"");		/* euro */
	check_str(jb, "\xe0\xa0\x80", 3, "\"\xe0\xa0\x80\"");		/* U+0800 */
	check_str(jb, "\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\"");		/* U+D7FF */
	check_str(jb, "\xee\x80\x80", 3, "\"\xee\x80\x80\"");		/* U+E000 */
	check_str(jb, "\xef\xbf\xbf", 3, "\"\xef\xbf\xbf\"");		/* U+FFFF */
	check_str(jb, "\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"");	/* emoji */
	check_str(jb, "\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"");	/* U+10FFFF */
	check_str(jb, "\xe2\x82\xac\n\"", 5, "\"\xe2\x82\xac\\n\\\"\"");
}

/* ---- structure ---- */

static void test_nesting_commas(void **state)
{
	struct jbuf *jb = *state;
	const char *want = "{\"a\":1,\"b\":[1,\"x\",{\"c\":null,\"d\":-5},[],{}],"
			   "\"e\":{},\"f\":[[true],[false,0.143]],\"g\":\"z\"}";

	jbuf__reset(jb);
	jbuf__obj_open(jb);
	jbuf__key(jb, "a");
	jbuf__u64(jb, 1);
	jbuf__key(jb, "b");
	jbuf__arr_open(jb);
	jbuf__u64(jb, 1);
	jbuf__cstr(jb, "x");
	jbuf__obj_open(jb);
	jbuf__key(jb, "c");
	jbuf__cstr(jb, NULL);
	jbuf__key(jb, "d");
	jbuf__i64(jb, -5);
	jbuf__obj_close(jb);
	jbuf__arr_open(jb);
	jbuf__arr_close(jb);
	jbuf__obj_open(jb);
	jbuf__obj_close(jb);
	jbuf__arr_close(jb);
	jbuf__key(jb, "e");
	jbuf__obj_open(jb);
	jbuf__obj_close(jb);
	jbuf__key(jb, "f");
	jbuf__arr_open(jb);
	jbuf__arr_open(jb);
	jbuf__bool(jb, true);
	jbuf__arr_close(jb);
	jbuf__arr_open(jb);
	jbuf__bool(jb, false);
	jbuf__ms(jb, 143000);
	jbuf__arr_close(jb);
	jbuf__arr_close(jb);
	jbuf__key(jb, "g");
	jbuf__str(jb, (const uint8_t *)"z", 1);
	jbuf__obj_close(jb);
	assert_false(jb->oom);
	assert_int_equal(jb->depth, 0);
	assert_string_equal(jb->buf, want);
	assert_true(json_valid(jb->buf, jb->len));
}

/* Records one after another, with the caller's newline, need no reset. */
static void test_records_back_to_back(void **state)
{
	struct jbuf *jb = *state;

	jbuf__reset(jb);
	jbuf__obj_open(jb);
	jbuf__key(jb, "n");
	jbuf__u64(jb, 1);
	jbuf__obj_close(jb);
	jbuf__raw(jb, "\n", 1);
	jbuf__obj_open(jb);
	jbuf__key(jb, "n");
	jbuf__u64(jb, 2);
	jbuf__obj_close(jb);
	assert_string_equal(jb->buf, "{\"n\":1}\n{\"n\":2}");
}

static void test_key_escaped(void **state)
{
	struct jbuf *jb = *state;

	jbuf__reset(jb);
	jbuf__obj_open(jb);
	jbuf__key(jb, "a\"b\n");
	jbuf__bool(jb, true);
	jbuf__obj_close(jb);
	assert_string_equal(jb->buf, "{\"a\\\"b\\n\":true}");
}

static void test_too_deep(void **state)
{
	struct jbuf *jb = *state;
	int i;

	jbuf__reset(jb);
	for (i = 0; i < JBUF_MAX_DEPTH - 1; i++)
		jbuf__arr_open(jb);
	assert_false(jb->oom);
	jbuf__arr_open(jb);
	assert_true(jb->oom);
	/* reset makes the buffer usable again */
	jbuf__reset(jb);
	assert_false(jb->oom);
	jbuf__u64(jb, 7);
	assert_string_equal(jb->buf, "7");
}

static void test_reset_keeps_buffer(void **state)
{
	struct jbuf *jb = *state;
	char *before;
	size_t cap;

	jbuf__reset(jb);
	jbuf__cstr(jb, "some text long enough to allocate");
	before = jb->buf;
	cap = jb->cap;
	assert_non_null(before);
	jbuf__reset(jb);
	assert_int_equal(jb->len, 0);
	assert_ptr_equal(jb->buf, before);
	assert_int_equal(jb->cap, cap);
	assert_string_equal(jb->buf, "");
}

static void test_growth(void **state)
{
	struct jbuf *jb = *state;
	size_t n = 100000, i;
	uint8_t *in = malloc(n);

	assert_non_null(in);
	for (i = 0; i < n; i++)
		in[i] = (uint8_t)(i % 2 ? 'a' : '\n');
	jbuf__reset(jb);
	jbuf__str(jb, in, n);
	assert_false(jb->oom);
	assert_int_equal(jb->len, 2 + n / 2 * 3);
	assert_true(jb->cap > jb->len);
	assert_int_equal(jb->buf[jb->len], '\0');
	free(in);
}

/* ---- numbers ---- */

static void check_ms(struct jbuf *jb, uint64_t ns, const char *want)
{
	jbuf__reset(jb);
	jbuf__ms(jb, ns);
	assert_string_equal(jb->buf, want);
}

static void test_ms(void **state)
{
	struct jbuf *jb = *state;

	check_ms(jb, 0, "0.000");
	check_ms(jb, 999, "0.000");
	check_ms(jb, 1000, "0.001");
	check_ms(jb, 143000, "0.143");
	check_ms(jb, 1000000, "1.000");
	check_ms(jb, 1999999, "1.999");
	check_ms(jb, 12345678901ull, "12345.678");
	check_ms(jb, UINT64_MAX, "18446744073709.551");
}

static void test_integers(void **state)
{
	struct jbuf *jb = *state;

	jbuf__reset(jb);
	jbuf__arr_open(jb);
	jbuf__u64(jb, 0);
	jbuf__u64(jb, UINT64_MAX);
	jbuf__i64(jb, INT64_MIN);
	jbuf__i64(jb, INT64_MAX);
	jbuf__i64(jb, -1);
	jbuf__arr_close(jb);
	assert_string_equal(jb->buf, "[0,18446744073709551615,-9223372036854775808,"
				     "9223372036854775807,-1]");
}

static void test_digits9(void **state)
{
	static const uint32_t v[] = { 0, 7, 10, 99, 100, 12345678, 123456789, 999999999,
				      1000000007, UINT32_MAX };
	char got[10], want[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		got[9] = '\0';
		jbuf__digits9(got, v[i]);
		snprintf(want, sizeof(want), "%09u", v[i] % 1000000000u);
		assert_string_equal(got, want);
	}
}

/* bytes_eq agrees with memcmp for every length up to a few words and a difference anywhere. */
static void test_bytes_eq(void **state)
{
	uint8_t a[40], b[40];
	size_t n, at;

	(void)state;
	for (n = 0; n <= sizeof(a); n++) {
		memset(a, 'x', sizeof(a));
		memset(b, 'x', sizeof(b));
		assert_true(bytes_eq(a, b, n));
		for (at = 0; at < n; at++) {
			b[at] = 'y';
			assert_false(bytes_eq(a, b, n));
			assert_true(bytes_eq(a, b, at));
			b[at] = 'x';
		}
	}
}

/* ---- random records ---- */

/* Random bytes biased towards the interesting: controls, quotes, UTF-8 leads. */
static size_t random_bytes(uint8_t *b, size_t max)
{
	static const uint8_t pick[] = { 0, '\n', '"', '\\', 0x7f, 0x80, 0xbf, 0xc0, 0xc2,
					0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 'a' };
	size_t n = (size_t)rand() % max, i;

	for (i = 0; i < n; i++) {
		int r = rand() % 4;

		if (r == 0)
			b[i] = pick[rand() % (int)sizeof(pick)];
		else if (r == 1 && i + 1 < n && rand() % 2)
			b[i] = (uint8_t)(0x80 | rand() % 0x40);
		else
			b[i] = (uint8_t)rand();
	}
	return n;
}

static void random_record(struct jbuf *jb)
{
	uint8_t b[64];
	int k, members = 1 + rand() % 6;

	jbuf__reset(jb);
	jbuf__obj_open(jb);
	for (k = 0; k < members; k++) {
		jbuf__key(jb, k % 2 ? "s" : "arr");
		if (k % 2) {
			jbuf__str(jb, b, random_bytes(b, sizeof(b)));
			continue;
		}
		jbuf__arr_open(jb);
		jbuf__str(jb, b, random_bytes(b, sizeof(b)));
		jbuf__u64(jb, (uint64_t)rand());
		jbuf__str(jb, b, random_bytes(b, sizeof(b)));
		jbuf__arr_close(jb);
	}
	jbuf__obj_close(jb);
}

static void test_random_valid(void **state)
{
	struct jbuf *jb = *state;
	int i;

	srand(12345);
	for (i = 0; i < 20000; i++) {
		random_record(jb);
		assert_false(jb->oom);
		assert_int_equal(strlen(jb->buf), jb->len);	/* no NUL inside */
		if (!json_valid(jb->buf, jb->len))
			fail_msg("invalid JSON: %s", jb->buf);
	}
}

/* ---- the fast paths against the plain slow result ---- */

/* The well-formed UTF-8 sequence at s (Unicode table 3-7): its length, or 0. */
static size_t ref_utf8_len(const uint8_t *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2, i;
	uint8_t lo = 0x80, hi = 0xbf;

	if (s[0] < 0xc2 || s[0] > 0xf4 || n < len)
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* "s" escaped a byte at a time as json.h describes it: the reference for every fast path. */
static size_t ref_quoted(char *out, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, o = 0, k;

	out[o++] = '"';
	while (i < n) {
		uint8_t c = s[i];
		const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" :
				c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b" :
				c == '\f' ? "\\f" : NULL;

		if (e) {
			memcpy(out + o, e, 2);
			o += 2;
			i++;
		} else if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)s[i++];
		} else if (c >= 0x80 && (k = ref_utf8_len(s + i, n - i))) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		} else if (c < 0x80) {
			o += (size_t)sprintf(out + o, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			i++;
		} else {
			o += (size_t)sprintf(out + o, "\\\\x%c%c", hex[c >> 4], hex[c & 15]);
			i++;
		}
	}
	out[o++] = '"';
	return o;
}

/* A byte JSON copies as it is. */
static bool ref_json_plain(uint8_t c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

#define GUARD 32

/*
 * json_quoted_at and jbuf__quoted give the reference's bytes, and
 * json_quoted_at writes nothing past json_quoted_max(n) (what a record
 * reserves for the text).
 */
static void check_quoted(struct jbuf *jb, const uint8_t *s, size_t n)
{
	static char got[6 * 256 + 2 + GUARD], want[6 * 256 + 2];
	size_t wn = ref_quoted(want, s, n), max = json_quoted_max(n), i;
	char *end;

	assert_true(n <= 256);
	memset(got, 0x5a, sizeof(got));
	end = json_quoted_at(got, s, n);
	assert_int_equal((size_t)(end - got), wn);
	assert_memory_equal(got, want, wn);
	for (i = max; i < max + GUARD; i++)
		assert_int_equal(got[i], 0x5a);
	jbuf__reset(jb);
	jbuf__quoted(jb, s, n);
	assert_false(jb->oom);
	assert_int_equal(jb->len, wn);
	assert_memory_equal(jb->buf, want, wn + 0);
	assert_int_equal(jb->buf[jb->len], '\0');
}

/*
 * Every byte value at every position of texts up to 40 bytes (the 16- and
 * 8-byte blocks, the overlapping last word, the short word), alone and
 * with a quote or a backslash after it, then random texts.
 */
static void test_quoted_matches_reference(void **state)
{
	struct jbuf *jb = *state;
	uint8_t b[64];
	size_t n, at, i;
	unsigned c;

	for (n = 0; n <= 40; n++) {
		memset(b, 'a', sizeof(b));
		check_quoted(jb, b, n);
		for (at = 0; at < n; at++)
			for (c = 0; c < 256; c++) {
				memset(b, 'a', sizeof(b));
				b[at] = (uint8_t)c;
				check_quoted(jb, b, n);
				b[n - 1 - at] = c & 1 ? '\\' : '"';	/* a second one, elsewhere or the same */
				check_quoted(jb, b, n);
			}
	}
	srand(777);
	for (i = 0; i < 20000; i++)
		check_quoted(jb, b, random_bytes(b, sizeof(b)));
}

/* The escaper alone against the reference (it writes the inside, no quotes). */
static void test_escape_matches_reference(void **state)
{
	struct jbuf *jb = *state;
	char want[6 * 64 + 2];
	uint8_t b[64];
	size_t i, wn;

	srand(778);
	for (i = 0; i < 20000; i++) {
		size_t n = random_bytes(b, sizeof(b));

		wn = ref_quoted(want, b, n);
		jbuf__reset(jb);
		jbuf__escape(jb, b, n);
		assert_int_equal(jb->len, wn - 2);
		assert_memory_equal(jb->buf, want + 1, wn - 2);
	}
}

/* json_copy_at and json_plain_at: the bytes of a plain copy at every length, nothing around them. */
static void test_copy_at(void **state)
{
	char src[80], dst[80 + 2 * GUARD];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(src); i++)
		src[i] = (char)('A' + i % 26);
	for (n = 0; n <= 70; n++) {
		memset(dst, 0x5a, sizeof(dst));
		assert_ptr_equal(json_copy_at(dst + GUARD, src, n), dst + GUARD + n);
		assert_memory_equal(dst + GUARD, src, n);
		for (i = 0; i < GUARD; i++) {
			assert_int_equal(dst[i], 0x5a);
			assert_int_equal(dst[GUARD + n + i], 0x5a);
		}
		memset(dst, 0x5a, sizeof(dst));
		assert_ptr_equal(json_plain_at(dst + GUARD, src, n), dst + GUARD + n + 2);
		assert_int_equal(dst[GUARD], '"');
		assert_memory_equal(dst + GUARD + 1, src, n);
		assert_int_equal(dst[GUARD + n + 1], '"');
		assert_int_equal(dst[GUARD - 1], 0x5a);
		assert_int_equal(dst[GUARD + n + 2], 0x5a);
	}
}

static void check_u64_at(uint64_t v)
{
	char got[JSON_U64_MAX + 1], want[32];
	char *end = json_u64_at(got, v);

	*end = '\0';
	snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
	assert_string_equal(got, want);
}

/* json_u64_at as printf writes it: every value below 200000, each digit count's edges, random ones. */
static void test_u64_at(void **state)
{
	uint64_t v, p = 1;
	int k, i;

	(void)state;
	for (v = 0; v < 200000; v++)
		check_u64_at(v);
	for (k = 0; k < 20; k++, p *= 10) {
		check_u64_at(p - 1);
		check_u64_at(p);
		check_u64_at(p + 1);
		check_u64_at(p * 5);
	}
	check_u64_at(UINT64_MAX);
	srand(779);
	for (i = 0; i < 100000; i++)
		check_u64_at((uint64_t)rand() << 62 ^ (uint64_t)rand() << 31 ^ (uint64_t)rand());
}

/* json_ms_at: whole milliseconds and three decimals, truncated, for small and large values. */
static void test_ms_at(void **state)
{
	char got[JSON_MS_MAX + 1], want[48];
	uint64_t ns;
	int i;

	(void)state;
	srand(780);
	for (i = 0; i < 200000; i++) {
		ns = i < 100000 ? (uint64_t)i * 997 : (uint64_t)rand() << 33 ^ (uint64_t)rand();
		*json_ms_at(got, ns) = '\0';
		snprintf(want, sizeof(want), "%llu.%03llu", (unsigned long long)(ns / 1000000),
			 (unsigned long long)(ns / 1000 % 1000));
		assert_string_equal(got, want);
	}
	*json_ms_at(got, UINT64_MAX) = '\0';
	assert_string_equal(got, "18446744073709.551");
}

/*
 * ascii_json_plain_cstr: the length of a plain NUL-terminated text, else
 * the array's size, for arrays of sizes around the block size with the
 * NUL and any other byte anywhere (the bytes after the NUL do not count).
 */
static void test_json_plain_cstr(void **state)
{
	static const size_t sizes[] = { 1, 7, 8, 15, 16, 17, 31, 32, 40, 64 };
	uint8_t b[64];
	size_t z, i, nul, at, want, n;
	unsigned c;

	(void)state;
	for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		n = sizes[z];
		memset(b, 'a', sizeof(b));
		assert_int_equal(ascii_json_plain_cstr(b, n), n);	/* no NUL */
		for (nul = 0; nul < n; nul++)
			for (at = 0; at < n; at++)
				for (c = 1; c < 256; c += at == nul ? 255 : 1) {
					memset(b, 'a', sizeof(b));
					b[at] = (uint8_t)c;
					b[nul] = 0;
					for (want = nul, i = 0; i < nul; i++)
						if (!ref_json_plain(b[i]))
							want = n;
					assert_int_equal(ascii_json_plain_cstr(b, n), want);
				}
	}
}

/*
 * The first byte JSON must escape, from a position on, in a word and in 8
 * and 16 bytes: any byte at any place, the bytes before `from` plain, and
 * another special byte after it that must not be the answer.
 */
static void test_first_special_every_byte(void **state)
{
	uint8_t b[16];
	unsigned c, at, from, want;
	uint64_t w;

	(void)state;
	for (c = 0; c < 256; c++)
		for (at = 0; at < 16; at++) {
			memset(b, 'a', sizeof(b));
			b[at] = (uint8_t)c;
			if (at + 1 < 16)
				b[at + 1 + (c % (16 - at - 1))] = c & 1 ? 0xff : '"';
			want = ref_json_plain((uint8_t)c) ? at + 1 : at;
			if (want < 16 && b[want] == 'a')	/* c plain: the answer is the byte after it */
				for (; want < 16 && ref_json_plain(b[want]); want++)
					;
			assert_int_equal(ascii_json_first_special16(b), want);
			if (at < 8) {
				assert_int_equal(ascii_json_first_special8(b), want < 8 ? want : 8);
				memcpy(&w, b, 8);
				for (from = 0; from <= at; from++)
					assert_int_equal(ascii_json_first_special_word(w, from),
							 want < 8 ? want : 8);
			}
		}
}

/* The 16- and 8-byte tests (vector ones on x86-64) say plain exactly when every byte is. */
static void test_plain16_every_byte(void **state)
{
	uint8_t b[16];
	unsigned c, at;

	(void)state;
	for (c = 0; c < 256; c++)
		for (at = 0; at < sizeof(b); at++) {
			bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';

			memset(b, 'a', sizeof(b));
			b[at] = (uint8_t)c;
			assert_int_equal(ascii_json_plain16(b), plain);
			assert_int_equal(ascii_json_plain8(b + 8), at < 8 || plain);
		}
}

/*
 * ascii_printable_all agrees with the prefix scan, and ascii_json_plain_all
 * with a byte test, for any byte at any place of texts up to 40.
 */
static void test_printable_all_every_byte(void **state)
{
	uint8_t b[40];
	size_t n, at;
	unsigned c;

	(void)state;
	for (n = 0; n <= sizeof(b); n++) {
		memset(b, 'a', sizeof(b));
		assert_true(ascii_printable_all(b, n));
		assert_true(ascii_json_plain_all(b, n));
		for (at = 0; at < n; at++)
			for (c = 0; c < 256; c++) {
				memset(b, 'a', sizeof(b));
				b[at] = (uint8_t)c;
				assert_int_equal(ascii_printable_all(b, n),
						 ascii_printable_prefix(b, n) == n);
				assert_int_equal(ascii_json_plain_all(b, n), ref_json_plain((uint8_t)c));
			}
	}
}

/* The validator itself must refuse what it is meant to catch. */
static void test_validator_refuses(void **state)
{
	assert_false(json_valid("\"a\nb\"", strlen("\"a\nb\"")));
	assert_false(json_valid("\"\\x41\"", strlen("\"\\x41\"")));
	assert_false(json_valid("\"\xc0\x80\"", strlen("\"\xc0\x80\"")));
	assert_false(json_valid("\"\xed\xa0\x80\"", strlen("\"\xed\xa0\x80\"")));
	assert_false(json_valid("[1,]", strlen("[1,]")));
	assert_false(json_valid("{\"a\":1,}", strlen("{\"a\":1,}")));
	assert_false(json_valid("{\"a\" 1}", strlen("{\"a\" 1}")));
	assert_true(json_valid("{\"a\":[1,\"\\\\x80\",null]}", strlen("{\"a\":[1,\"\\\\x80\",null]}")));
}

/* python3's json.loads agrees, when python3 is installed (else SKIP). */
static void test_python_agrees(void **state)
{
	struct jbuf *jb = *state;
	FILE *f;
	int i, rc;

	if (system("python3 -c '' >/dev/null 2>&1")) {
		skip();
		return;
	}
	srand(777);
	for (i = 0; i < 5; i++) {
		random_record(jb);
		f = popen("python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read()"
			  ".decode(\"utf-8\", \"strict\"))'", "w");
		assert_non_null(f);
		assert_int_equal(fwrite(jb->buf, 1, jb->len, f), jb->len);
		rc = pclose(f);
		if (rc)
			fail_msg("python3 refused: %s", jb->buf);
	}
}

int main(void)
{
	const struct CMUnitTest escape_tests[] = {
		cmocka_unit_test(test_control_bytes),
		cmocka_unit_test(test_special_byte_any_position),
		cmocka_unit_test(test_printable_ascii),
		cmocka_unit_test(test_quotes_backslashes),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_valid_utf8),
		cmocka_unit_test(test_growth),
	};
	const struct CMUnitTest structure_tests[] = {
		cmocka_unit_test(test_nesting_commas),
		cmocka_unit_test(test_records_back_to_back),
		cmocka_unit_test(test_key_escaped),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_reset_keeps_buffer),
		cmocka_unit_test(test_ms),
		cmocka_unit_test(test_integers),
	};
	const struct CMUnitTest roundtrip_tests[] = {
		cmocka_unit_test(test_validator_refuses),
		cmocka_unit_test(test_random_valid),
		cmocka_unit_test(test_quoted_matches_reference),
		cmocka_unit_test(test_escape_matches_reference),
		cmocka_unit_test(test_copy_at),
		cmocka_unit_test(test_u64_at),
		cmocka_unit_test(test_ms_at),
		cmocka_unit_test(test_first_special_every_byte),
		cmocka_unit_test(test_json_plain_cstr),
		cmocka_unit_test(test_plain16_every_byte),
		cmocka_unit_test(test_printable_all_every_byte),
		cmocka_unit_test(test_digits9),
		cmocka_unit_test(test_bytes_eq),
		cmocka_unit_test(test_python_agrees),
	};
	int fails = 0;

	fails += cmocka_run_group_tests_name("json_escape", escape_tests, setup, teardown);
	fails += cmocka_run_group_tests_name("json_structure", structure_tests, setup, teardown);
	fails += cmocka_run_group_tests_name("json_roundtrip", roundtrip_tests, setup, teardown);
	return fails ? 1 : 0;
}
