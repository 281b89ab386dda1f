// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests for user/http_scan.h, the short way through a header line:
 * hname_probe and lower_lit_eq against a byte-by-byte reference for every
 * known name in every case, every byte value at every place of it and
 * every place of its colon; value_printable against a byte loop for every
 * byte value at every place of lines of every length up to 48 and every
 * name length; lf_find against memchr.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "http_scan.h"

struct known {
	const char *name;
	int id;
};

#define KNOWN_ROW(lit, hn) { lit, hn },
static const struct known known[] = { HNAMES_ALL(KNOWN_ROW) };
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* The reference: which known name s[0..n) starts with, followed by its colon, byte by byte. */
static struct hname_hit ref_probe(const uint8_t *s, size_t n)
{
	size_t i, j, len;

	for (i = 0; i < N_KNOWN; i++) {
		len = strlen(known[i].name);
		if (n <= len || s[len] != ':')
			continue;
		for (j = 0; j < len && lower(s[j]) == (uint8_t)known[i].name[j]; j++)
			;
		if (j == len)
			return (struct hname_hit){ known[i].id, len };
	}
	return (struct hname_hit){ -1, 0 };
}

static void check_probe(const uint8_t *s, size_t n)
{
	struct hname_hit got = hname_probe(s, n), want = ref_probe(s, n);

	assert_int_equal(got.id, want.id);
	if (want.id >= 0)
		assert_int_equal(got.nl, want.nl);
}

/* "name: value" in buf, the name's case given per byte by mask bits; its length. */
static size_t line_of(uint8_t *buf, const char *name, uint64_t upper_mask, const char *value)
{
	size_t len = strlen(name), i;

	for (i = 0; i < len; i++) {
		uint8_t c = (uint8_t)name[i];

		buf[i] = (upper_mask >> (i % 64)) & 1 && c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
	}
	buf[len] = ':';
	memcpy(buf + len + 1, value, strlen(value));
	return len + 1 + strlen(value);
}

/* The names are walked from a table made of HNAMES_ALL too: each is lower case [a-z-], 4 to 32 bytes, once. */
static void test_names_well_formed(void **state)
{
	size_t i, j;

	(void)state;
	assert_true(N_KNOWN > 40);
	for (i = 0; i < N_KNOWN; i++) {
		size_t len = strlen(known[i].name);

		assert_true(len >= 4 && len <= 32);
		for (j = 0; j < len; j++)
			assert_true((known[i].name[j] >= 'a' && known[i].name[j] <= 'z') ||
				    known[i].name[j] == '-');
		for (j = 0; j < i; j++)
			assert_string_not_equal(known[i].name, known[j].name);
	}
}

/* Every name the parser takes something from is known, under its own id. */
static void test_parser_names_known(void **state)
{
	static const struct known used[] = {
		{ "content-length", HN_CONTENT_LENGTH }, { "transfer-encoding", HN_TRANSFER_ENCODING },
		{ "connection", HN_CONNECTION }, { "content-type", HN_CONTENT_TYPE },
		{ "host", HN_HOST }, { "mcp-session-id", HN_MCP_SESSION },
		{ "mcp-method", HN_MCP_METHOD }, { "mcp-name", HN_MCP_NAME },
		{ "traceparent", HN_TRACEPARENT },
	};
	uint8_t buf[64];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		struct hname_hit h;

		n = line_of(buf, used[i].name, 0x5555, " v");
		h = hname_probe(buf, n);
		assert_int_equal(h.id, used[i].id);
		assert_int_equal(h.nl, strlen(used[i].name));
	}
}

/* Each name in lower, upper and mixed case, with values of every short length. */
static void test_every_name_every_case(void **state)
{
	static const uint64_t masks[] = { 0, ~0ULL, 0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL, 1 };
	uint8_t buf[96];
	size_t i, m, v, n;

	(void)state;
	for (i = 0; i < N_KNOWN; i++)
		for (m = 0; m < sizeof(masks) / sizeof(masks[0]); m++)
			for (v = 0; v <= 20; v++) {
				char value[24];

				memset(value, 'x', v);
				value[v] = '\0';
				n = line_of(buf, known[i].name, masks[m], value);
				assert_int_equal(hname_probe(buf, n).id, known[i].id);
				assert_int_equal(hname_probe(buf, n).nl, strlen(known[i].name));
				check_probe(buf, n);
				/* the line cut before its colon names nothing */
				assert_int_equal(hname_probe(buf, strlen(known[i].name)).id, -1);
			}
}

/*
 * Every byte value at every place of every name and of its colon: known
 * exactly when the reference says so (only the other case of a letter
 * keeps it; '-' has no other case, and no byte ORed with 0x20 turns into
 * a letter or '-' that is not one).
 */
static void test_every_byte_every_place(void **state)
{
	uint8_t buf[96];
	size_t i, at, n;
	unsigned c;

	(void)state;
	for (i = 0; i < N_KNOWN; i++) {
		size_t len = strlen(known[i].name);

		for (at = 0; at <= len; at++)
			for (c = 0; c < 256; c++) {
				n = line_of(buf, known[i].name, 0x0f0f0f0f0f0f0f0fULL, " value");
				buf[at] = (uint8_t)c;
				check_probe(buf, n);
			}
	}
}

/* Names that are not known, also prefixes and extensions of known ones, and lines too short to probe. */
static void test_unknown_names(void **state)
{
	static const char *const lines[] = {
		"X-Custom: v", "Hostname: v", "Hos: v", "Content-Typ: v", "Content-Types: v",
		"Accept-: v", "Connectio: v", "ETa: v", "Server : v", " Host: v", "Host:",
		"H:", "", ":", "Date", "Cookie2: v", "Set-Cookie2: v", "Content_Type: v",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const uint8_t *s = (const uint8_t *)lines[i];

		check_probe(s, strlen(lines[i]));
		if (strcmp(lines[i], "Host:") && strcmp(lines[i], "Set-Cookie2: v"))
			assert_int_equal(hname_probe(s, strlen(lines[i])).id, -1);
	}
	/* "Host:" alone is a Host header with an empty value */
	assert_int_equal(hname_probe((const uint8_t *)"Host:", 5).id, HN_HOST);
}

/* lower_lit_eq with a token: exactly the two cases of each letter match. */
static void test_lit_every_byte(void **state)
{
	static const char lit[] = "keep-alive";
	uint8_t buf[16];
	size_t at;
	unsigned c;

	(void)state;
	for (at = 0; at < 10; at++)
		for (c = 0; c < 256; c++) {
			bool want;

			memcpy(buf, lit, 10);
			buf[at] = (uint8_t)c;
			want = lower((uint8_t)c) == (uint8_t)lit[at];
			assert_int_equal(lower_lit_eq(buf, "keep-alive", 10), want);
		}
	assert_true(lower_lit_eq((const uint8_t *)"CLOSE", "close", 5));
	assert_false(lower_lit_eq((const uint8_t *)"clos\r", "close", 5));
}

static bool ref_printable(const uint8_t *s, size_t from, size_t n)
{
	size_t i;

	for (i = from; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/*
 * value_printable looks at whole blocks that may reach back into the name:
 * for every line length, name length and place, every byte value after the
 * name decides as the byte loop does (the name itself printable, as a
 * known one is).
 */
static void test_value_printable_every_byte(void **state)
{
	uint8_t buf[48];
	size_t n, nl, at;
	unsigned c;

	(void)state;
	for (n = 5; n <= sizeof(buf); n++)
		for (nl = 4; nl < n; nl++) {
			memset(buf, 'a', sizeof(buf));
			buf[nl] = ':';
			assert_true(value_printable(buf, n, nl));
			for (at = nl + 1; at < n; at++)
				for (c = 0; c < 256; c++) {
					buf[at] = (uint8_t)c;
					assert_int_equal(value_printable(buf, n, nl),
							 ref_printable(buf, nl, n));
					buf[at] = 'a';
				}
		}
}

/*
 * lf_find agrees with memchr for an LF at every place of buffers of every
 * length up to 70, from every start, among every other byte value (its
 * 16-byte tests, and the last one moved back to stay inside the buffer,
 * must see exactly the lanes from the start on).
 */
static void test_lf_find_every_place(void **state)
{
	uint8_t buf[70];
	size_t n, at, lf;
	unsigned c;

	(void)state;
	for (n = 1; n <= sizeof(buf); n++)
		for (lf = 0; lf <= n; lf++)	/* lf == n: none */
			for (c = 0; c < 256; c += 17) {
				memset(buf, c == '\n' ? 'x' : (int)c, sizeof(buf));
				if (lf < n)
					buf[lf] = '\n';
				for (at = 0; at < n; at++) {
					const uint8_t *want = memchr(buf + at, '\n', n - at);

					assert_int_equal(lf_find(buf, n, at),
							 want ? (size_t)(want - buf) : n);
				}
			}
	/* LFs before the start are not seen, also inside the last, moved-back test */
	memset(buf, '\n', sizeof(buf));
	for (n = 16; n <= 40; n++)
		for (at = 0; at < n; at++) {
			memset(buf + at, 'a', n - at);
			assert_int_equal(lf_find(buf, n, at), n);
			memset(buf, '\n', sizeof(buf));
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_well_formed),
		cmocka_unit_test(test_parser_names_known),
		cmocka_unit_test(test_every_name_every_case),
		cmocka_unit_test(test_every_byte_every_place),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_lit_every_byte),
		cmocka_unit_test(test_value_printable_every_byte),
		cmocka_unit_test(test_lf_find_every_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
