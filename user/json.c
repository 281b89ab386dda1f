// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * JSON writer into a growable buffer (see json.h).
 *
 * Every write goes through jbuf__grow, which sets jb->oom and turns all
 * later writes into no-ops when the buffer cannot grow: a caller checks oom
 * once per record instead of after every call. The buffer is kept
 * NUL-terminated so a record can be handed to string functions as is.
 *
 * Commas come from the first[] stack alone: jbuf__key writes one unless it is
 * the first member and leaves first[depth] set, so the value that follows
 * writes none and clears it; array elements write one unless first.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "json.h"

#define JBUF_MIN_CAP 256

void jbuf__init(struct jbuf *jb)
{
	memset(jb, 0, sizeof(*jb));
	jb->first[0] = true;
}

void jbuf__free(struct jbuf *jb)
{
	if (!jb)
		return;
	free(jb->buf);
	jbuf__init(jb);
}

/* A new record: clears oom too, so one failed record does not poison the next. */
/* Room for n more bytes and the NUL; false (and oom set) when there is none. */
bool jbuf__grow(struct jbuf *jb, size_t n)
{
	size_t need, cap;
	char *nb;

	if (jb->oom)
		return false;
	if (n < jb->cap - jb->len)
		return true;
	if (n > SIZE_MAX / 4 - jb->len)
		goto out_oom;
	need = jb->len + n + 1;
	cap = jb->cap ? jb->cap : JBUF_MIN_CAP;
	while (cap < need)
		cap *= 2;
	nb = realloc(jb->buf, cap);
	if (!nb)
		goto out_oom;
	jb->buf = nb;
	jb->cap = cap;
	return true;

out_oom:
	jb->oom = true;
	return false;
}

static bool json_safe(uint8_t c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static inline __attribute__((always_inline)) void jbuf__putc(struct jbuf *jb, char c)
{
	jbuf__raw(jb, &c, 1);
}

/*
 * Before a value: a comma when an earlier element or member precedes it at
 * this depth. Top-level values never get one (records are separated by the
 * caller, usually with a newline).
 */
static void jbuf__sep(struct jbuf *jb)
{
	if (jb->depth <= 0 || jb->depth >= JBUF_MAX_DEPTH)
		return;
	if (!jb->first[jb->depth])
		jbuf__putc(jb, ',');
	jb->first[jb->depth] = false;
}

/* Deeper than first[] can track: the commas would be wrong, so give up the record. */
static void jbuf__open(struct jbuf *jb, char c)
{
	jbuf__sep(jb);
	jbuf__putc(jb, c);
	if (jb->depth + 1 >= JBUF_MAX_DEPTH) {
		jb->oom = true;
		return;
	}
	jb->depth++;
	jb->first[jb->depth] = true;
}

static void jbuf__close(struct jbuf *jb, char c)
{
	jbuf__putc(jb, c);
	if (jb->depth > 0)
		jb->depth--;
}

void jbuf__obj_open(struct jbuf *jb)
{
	jbuf__open(jb, '{');
}

void jbuf__obj_close(struct jbuf *jb)
{
	jbuf__close(jb, '}');
}

void jbuf__arr_open(struct jbuf *jb)
{
	jbuf__open(jb, '[');
}

void jbuf__arr_close(struct jbuf *jb)
{
	jbuf__close(jb, ']');
}

/*
 * s of fewer than 8 bytes (names, methods, short values) copied to o when
 * JSON takes all of it as it is: one word test instead of a byte loop.
 * The word is made of overlapping loads (4 + 4 bytes, or the first,
 * middle and last byte), the rest of it filled with a plain letter.
 */
static inline bool copy_short_plain(char *o, const uint8_t *s, size_t n)
{
	uint32_t lo, hi;
	uint64_t w;

	if (n >= 4) {
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		w = lo | (uint64_t)hi << 32;
	} else {
		w = s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16 |
		    SWAR_ONES * 'a' << 24;
	}
	if (swar_json_special(w))
		return false;
	if (n >= 4) {
		memcpy(o, &lo, 4);
		memcpy(o + n - 4, &hi, 4);
	} else {
		o[0] = (char)s[0];
		o[n / 2] = (char)s[n / 2];
		o[n - 1] = (char)s[n - 1];
	}
	return true;
}

/* The bytes from s[*i] on that JSON copies as they are, copied to o; returns o past them. */
static inline __attribute__((always_inline)) char *copy_plain(char *o, const uint8_t *s,
							     size_t n, size_t *i)
{
	size_t k = *i;

	/* 16 bytes a test first: most texts worth a loop (paths, bodies) are longer than 16 */
	for (; k + 16 <= n && ascii_json_plain16(s + k); k += 16, o += 16)
		memcpy(o, s + k, 16);
	for (; k + 8 <= n && ascii_json_plain8(s + k); k += 8, o += 8)
		memcpy(o, s + k, 8);
	if (k < n && n >= 8 && k + 8 > n && ascii_json_plain8(s + n - 8)) {
		/* the last word, overlapping the ones copied: a plain tail in one step */
		memcpy(o + (n - k) - 8, s + n - 8, 8);
		o += n - k;
		k = n;
	}
	while (k < n && json_safe(s[k]))
		*o++ = (char)s[k++];
	*i = k;
	return o;
}

static void jbuf__quoted_cold(struct jbuf *jb, const uint8_t *s, size_t n, size_t room);
static void jbuf__quoted_rest(struct jbuf *jb, const uint8_t *s, size_t n, size_t i, char *o);

/*
 * "s", escaped, into one reservation of two bytes per byte of s: plain
 * runs are copied and \" and \\ (the backslashes of a sanitized text's
 * \xNN) written in place. Other bytes, rare, go to the escaper with the rest.
 * Growing and escaping are tail calls out of line: with no call to come
 * back from, this path keeps its values in scratch registers and saves none.
 */
void jbuf__quoted(struct jbuf *jb, const uint8_t *s, size_t n)
{
	size_t room = jbuf__quoted_room(n);

	if (room >= jb->cap - jb->len) {
		jbuf__quoted_cold(jb, s, n, room);
		return;
	}
	jbuf__quoted_reserved(jb, s, n);
}

void jbuf__quoted_reserved(struct jbuf *jb, const uint8_t *s, size_t n)
{
	size_t i = 0;
	char *o = jb->buf + jb->len;

	*o++ = '"';
	if (n < 8 && n && copy_short_plain(o, s, n)) {
		o[n] = '"';
		o[n + 1] = '\0';
		jb->len += n + 2;
		return;
	}
	for (o = copy_plain(o, s, n, &i); i < n && (s[i] == '"' || s[i] == '\\');
	     o = copy_plain(o, s, n, &i)) {
		*o++ = '\\';
		*o++ = (char)s[i++];
	}
	if (i == n) {	/* the common case: nothing else to escape, the room was reserved */
		*o++ = '"';
		*o = '\0';
		jb->len = (size_t)(o - jb->buf);
		return;
	}
	jbuf__quoted_rest(jb, s, n, i, o);
}

/* No room yet: grow once, after which the reservation holds and quoting goes as usual. */
static __attribute__((noinline, cold)) void jbuf__quoted_cold(struct jbuf *jb, const uint8_t *s,
							      size_t n, size_t room)
{
	if (jbuf__grow(jb, room))
		jbuf__quoted(jb, s, n);
}

/* A byte other than \" or \\ needs escaping at s[i]: the escaper writes the rest. */
static __attribute__((noinline)) void jbuf__quoted_rest(struct jbuf *jb, const uint8_t *s,
							size_t n, size_t i, char *o)
{
	jb->len = (size_t)(o - jb->buf);
	jb->buf[jb->len] = '\0';
	jbuf__escape(jb, s + i, n - i);
	jbuf__putc(jb, '"');
}

void jbuf__key(struct jbuf *jb, const char *key)
{
	jbuf__key_raw(jb, "", 0);
	jbuf__quoted(jb, (const uint8_t *)key, strlen(key));
	jbuf__putc(jb, ':');
}

void jbuf__value_raw(struct jbuf *jb, const char *json, size_t n)
{
	jbuf__sep(jb);
	jbuf__raw(jb, json, n);
}

void jbuf__str(struct jbuf *jb, const uint8_t *s, size_t n)
{
	jbuf__sep(jb);
	jbuf__quoted(jb, s, n);
}

/* NULL is written as null, so optional fields need no test at the caller. */
void jbuf__cstr(struct jbuf *jb, const char *s)
{
	if (!s) {
		jbuf__null(jb);
		return;
	}
	jbuf__str(jb, (const uint8_t *)s, strlen(s));
}

/* "00" to "99": two digits per division, half the divisions of a digit loop. */
static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

char *jbuf__digits(char *end, uint64_t v)
{
	while (v >= 100) {
		end -= 2;
		memcpy(end, digit_pairs + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, digit_pairs + v * 2, 2);
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

void jbuf__digits9(char *out, uint32_t v)
{
	/* fixed places: a digit and four pairs, no loop and no test per digit */
	uint32_t low = v % 100000000, hi = low / 10000, lo = low % 10000;

	out[0] = (char)('0' + v / 100000000 % 10);
	memcpy(out + 1, digit_pairs + hi / 100 * 2, 2);
	memcpy(out + 3, digit_pairs + hi % 100 * 2, 2);
	memcpy(out + 5, digit_pairs + lo / 100 * 2, 2);
	memcpy(out + 7, digit_pairs + lo % 100 * 2, 2);
}

void jbuf__u64(struct jbuf *jb, uint64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p;

	p = jbuf__digits(end, v);
	jbuf__sep(jb);
	jbuf__raw(jb, p, (size_t)(end - p));
}

void jbuf__i64(struct jbuf *jb, int64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p;

	/* Negate in unsigned arithmetic: -INT64_MIN does not fit an int64_t. */
	p = jbuf__digits(end, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	jbuf__sep(jb);
	jbuf__raw(jb, p, (size_t)(end - p));
}

/* Truncated to the microsecond: 1999999 ns is 1.999, as a duration never rounds up. */
void jbuf__ms(struct jbuf *jb, uint64_t ns)
{
	char tmp[32], *end = tmp + sizeof(tmp), *p;
	uint64_t us = ns / 1000;

	p = end - 4;
	p[0] = '.';
	p[1] = (char)('0' + us / 100 % 10);
	p[2] = (char)('0' + us / 10 % 10);
	p[3] = (char)('0' + us % 10);
	p = jbuf__digits(p, us / 1000);
	jbuf__sep(jb);
	jbuf__raw(jb, p, (size_t)(end - p));
}

void jbuf__bool(struct jbuf *jb, bool v)
{
	jbuf__sep(jb);
	if (v)
		jbuf__raw(jb, "true", 4);
	else
		jbuf__raw(jb, "false", 5);
}

void jbuf__null(struct jbuf *jb)
{
	jbuf__sep(jb);
	jbuf__raw(jb, "null", 4);
}


/*
 * Length of the well-formed UTF-8 sequence at s (Unicode table 3-7), or 0:
 * overlongs, surrogates, code points above U+10FFFF and truncated sequences
 * are all rejected by the second-byte ranges and the continuation test.
 */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

static const char hexdig[] = "0123456789abcdef";

/* One byte that cannot be copied: a short escape, \u00XX, or \\xNN if not UTF-8. */
static void escape_byte(struct jbuf *jb, uint8_t c)
{
	char e[6] = { '\\', 'u', '0', '0', hexdig[c >> 4], hexdig[c & 15] };
	char s = 0;

	switch (c) {
	case '"': s = '"'; break;
	case '\\': s = '\\'; break;
	case '\n': s = 'n'; break;
	case '\r': s = 'r'; break;
	case '\t': s = 't'; break;
	case '\b': s = 'b'; break;
	case '\f': s = 'f'; break;
	}
	if (s) {
		e[1] = s;
		jbuf__raw(jb, e, 2);
	} else if (c < 0x80) {
		jbuf__raw(jb, e, 6);
	} else {
		char x[5] = { '\\', '\\', 'x', hexdig[c >> 4], hexdig[c & 15] };

		jbuf__raw(jb, x, 5);
	}
}

/* Runs of bytes that need no escape (ASCII or valid UTF-8) go out in one copy. */
void jbuf__escape(struct jbuf *jb, const uint8_t *s, size_t n)
{
	size_t i = 0, start, k;

	while (i < n) {
		start = i;
		while (i < n) {
			i += ascii_json_words(s + i, n - i);
			if (i >= n)
				break;
			if (json_safe(s[i]))
				i++;
			else if (s[i] >= 0x80 && (k = utf8_len(s + i, n - i)))
				i += k;
			else
				break;
		}
		if (i > start)
			jbuf__raw(jb, (const char *)s + start, i - start);
		if (i < n)
			escape_byte(jb, s[i++]);
	}
}
