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
 * s[0..n) copied to o up to the first byte JSON must escape; returns how
 * many were copied (n when none is). Blocks of 16 and 8 bytes are stored
 * whole and the count taken from where the first such byte is, so a text
 * with a quote or a backslash here and there costs no byte loop: o has
 * room for them (json_quoted_max), and what is stored past that byte is
 * written over by what follows. Below 8 bytes left, the last 8 bytes of s
 * are the block (those before the rest were copied as they are already);
 * a text shorter than 8 is one word test (ascii_short_word) when plain.
 */
static inline size_t copy_until_special(char *o, const uint8_t *s, size_t n)
{
	size_t i = 0;
	unsigned k;

	for (; i + 16 <= n; i += 16) {
		memcpy(o + i, s + i, 16);
		k = ascii_json_first_special16(s + i);
		if (k < 16)
			return i + k;
	}
	if (i + 8 <= n) {
		memcpy(o + i, s + i, 8);
		k = ascii_json_first_special8(s + i);
		if (k < 8)
			return i + k;
		i += 8;
	}
	if (i == n)
		return n;
	if (n >= 8) {
		memcpy(o + n - 8, s + n - 8, 8);
		return n - 8 + ascii_json_first_special_word(swar_load(s + n - 8),
							     (unsigned)(i - (n - 8)));
	}
	if (ascii_json_first_special_word(ascii_short_word(s, n), 0) == 8) {
		json_copy_at(o, (const char *)s, n);
		return n;
	}
	for (; i < n && ascii_json_plain_byte(s[i]); i++)
		o[i] = (char)s[i];
	return i;
}

static char *escape_at(char *o, const uint8_t *s, size_t n);

/*
 * "s", escaped: plain runs are copied and \" and \\ (the backslashes of a
 * sanitized text's \xNN) written in place; at any other byte that needs
 * escaping, rare, the escaper writes the rest.
 */
char *json_quoted_at(char *o, const uint8_t *s, size_t n)
{
	size_t i = 0, k;

	*o++ = '"';
	for (;;) {
		k = copy_until_special(o, s + i, n - i);
		o += k;
		i += k;
		if (i == n)
			break;
		if (s[i] != '"' && s[i] != '\\') {
			o = escape_at(o, s + i, n - i);
			break;
		}
		o[0] = '\\';
		o[1] = (char)s[i++];
		o += 2;
	}
	*o++ = '"';
	return o;
}

/* The bound reserved, then the cursor writer: one room test per string. */
void jbuf__quoted(struct jbuf *jb, const uint8_t *s, size_t n)
{
	if (!jbuf__grow(jb, json_quoted_max(n)))
		return;
	jbuf__end_at(jb, json_quoted_at(jbuf__at(jb), s, n));
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
const char json_digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

char *jbuf__digits(char *end, uint64_t v)
{
	while (v >= 100) {
		end -= 2;
		memcpy(end, json_digit_pairs + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, json_digit_pairs + v * 2, 2);
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

/*
 * Decimal digits of v, 1 to 20, without a loop: its bit length times
 * log10(2) (1233 / 4096) is the digit count or one short, which one
 * compare settles (Hacker's Delight 11-4).
 */
static unsigned dec_len(uint64_t v)
{
	static const uint64_t pow10[20] = {
		1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
		100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
		1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
		1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
		1000000000000000000ULL, 10000000000000000000ULL,
	};
	uint64_t x = v | 1;	/* 0 has one digit, as 1 has */
	unsigned t = (unsigned)(64 - __builtin_clzll(x)) * 1233 >> 12;

	return t + (x >= pow10[t]);
}

/* v >= 10000 (json_u64_at has the smaller ones). */
char *json_u64_big_at(char *o, uint64_t v)
{
	char *end;

	if (v < 100000000) {
		uint32_t hi = (uint32_t)v / 10000;

		o = json_small_at(o, hi);
		json_digits4(o, (uint32_t)v - hi * 10000);
		return o + 4;
	}
	end = o + dec_len(v);
	jbuf__digits(end, v);
	return end;
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
char *json_ms_at(char *o, uint64_t ns)
{
	uint64_t us = ns / 1000;
	uint32_t frac = (uint32_t)(us % 1000);

	o = json_u64_at(o, us / 1000);
	o[0] = '.';
	memcpy(o + 1, json_digit_pairs + frac / 10 * 2, 2);	/* hundreds and tens */
	o[3] = (char)('0' + frac % 10);
	return o + 4;
}

void jbuf__ms(struct jbuf *jb, uint64_t ns)
{
	jbuf__sep(jb);
	if (!jbuf__grow(jb, JSON_MS_MAX))
		return;
	jbuf__end_at(jb, json_ms_at(jbuf__at(jb), ns));
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

/* One byte that cannot be copied, at o: a short escape, \u00XX, or \\xNN if not UTF-8. */
static char *escape_byte_at(char *o, uint8_t c)
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
		return json_put(o, e, 2);
	}
	if (c < 0x80)
		return json_put(o, e, 6);
	return json_put(o, ((char[5]){ '\\', '\\', 'x', hexdig[c >> 4], hexdig[c & 15] }), 5);
}

/* Runs of bytes that need no escape (ASCII or valid UTF-8) go out in one copy; at most 6 bytes per byte. */
static char *escape_at(char *o, const uint8_t *s, size_t n)
{
	size_t i = 0, start, k;

	while (i < n) {
		start = i;
		while (i < n) {
			i += ascii_json_words(s + i, n - i);
			if (i >= n)
				break;
			if (ascii_json_plain_byte(s[i]))
				i++;
			else if (s[i] >= 0x80 && (k = utf8_len(s + i, n - i)))
				i += k;
			else
				break;
		}
		o = json_put(o, s + start, i - start);
		if (i < n)
			o = escape_byte_at(o, s[i++]);
	}
	return o;
}

void jbuf__escape(struct jbuf *jb, const uint8_t *s, size_t n)
{
	if (!jbuf__grow(jb, json_quoted_max(n)))
		return;
	jbuf__end_at(jb, escape_at(jbuf__at(jb), s, n));
}
