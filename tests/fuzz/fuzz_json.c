// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness for user/json.c. Arbitrary bytes are written as strings
 * in an object and an array; the record must be valid JSON with no raw
 * control byte and valid UTF-8, and each string must equal what a slow,
 * independent reference escaper (decode the code point, then check it)
 * makes of the same bytes: the fast path of jbuf__escape is diffed against it.
 *
 * Linked with all the user modules: everything but the entry point is static.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reference: a well-formed sequence by decoding it; its length or 0. */
static size_t ref_utf8(const uint8_t *s, size_t n)
{
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len, i;
	uint32_t cp;

	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Reference escaper: one byte at a time, into out (6 bytes per input byte is enough). */
static size_t ref_escape(const uint8_t *s, size_t n, char *out)
{
	size_t i = 0, o = 0, k;

	out[o++] = '"';
	while (i < n) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)sprintf(out + o, "\\u%04x", c);
		} else if (c < 0x80) {
			out[o++] = (char)c;
		} else if ((k = ref_utf8(s + i, n - i))) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		} else {
			o += (size_t)sprintf(out + o, "\\\\x%02x", c);
		}
		i++;
	}
	out[o++] = '"';
	return o;
}

/* Whole-record check: no raw control byte, strict UTF-8, strings well formed. */
static void check_record(const char *buf, size_t len)
{
	const uint8_t *s = (const uint8_t *)buf;
	bool in_str = false;
	size_t i = 0, k;

	if (strlen(buf) != len)
		abort();
	while (i < len) {
		uint8_t c = s[i];

		if (c < 0x20)
			abort();
		if (c >= 0x80) {
			if (!in_str || !(k = ref_utf8(s + i, len - i)))
				abort();
			i += k;
			continue;
		}
		if (in_str && c == '\\') {
			if (i + 1 >= len)
				abort();
			c = s[i + 1];
			if (c == 'u') {
				if (i + 6 > len)
					abort();
				for (k = 2; k < 6; k++)
					if (!strchr("0123456789abcdef", s[i + k]) || !s[i + k])
						abort();
				i += 6;
				continue;
			}
			if (!strchr("\"\\bfnrt", c) || !c)
				abort();
			i += 2;
			continue;
		}
		if (c == '"')
			in_str = !in_str;
		else if (!in_str && !strchr("{}[],:0123456789.-truefalsn", c))
			abort();
		i++;
	}
	if (in_str)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jbuf jb;
	char *ref;
	size_t cut, n, start;

	if (size > 1 << 16)
		return 0;
	ref = malloc(size * 6 + 2);
	if (!ref)
		return 0;

	/* The whole input as one string: diffed against the reference. */
	jbuf__init(&jb);
	jbuf__str(&jb, data, size);
	if (jb.oom)
		abort();
	n = ref_escape(data, size, ref);
	if (n != jb.len || memcmp(ref, jb.buf, n))
		abort();
	check_record(jb.buf, jb.len);

	/* The same bytes cut in two, in a record with keys, arrays and numbers. */
	cut = size ? data[0] % (size + 1) : 0;
	jbuf__reset(&jb);
	jbuf__obj_open(&jb);
	jbuf__key(&jb, "a");
	jbuf__str(&jb, data, cut);
	jbuf__key(&jb, "b");
	jbuf__arr_open(&jb);
	jbuf__str(&jb, data + cut, size - cut);
	jbuf__u64(&jb, size);
	jbuf__ms(&jb, (uint64_t)size * 7919);
	jbuf__i64(&jb, -(int64_t)cut);
	jbuf__arr_close(&jb);
	jbuf__key(&jb, "c");
	jbuf__bool(&jb, cut & 1);
	jbuf__obj_close(&jb);
	if (jb.oom || jb.depth != 0)
		abort();
	check_record(jb.buf, jb.len);
	/* escape alone writes no quotes: the string part is the reference's inside */
	start = jb.len;
	jbuf__escape(&jb, data, size);
	if (jb.len - start != n - 2 || memcmp(jb.buf + start, ref + 1, n - 2))
		abort();

	jbuf__free(&jb);
	free(ref);
	return 0;
}
