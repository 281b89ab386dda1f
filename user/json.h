/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small JSON writer into a growable buffer. Every string goes through
 * jbuf__str, which makes it one valid JSON string whatever bytes it holds:
 * control bytes and DEL as \u00XX (\n \r \t \" \\ as short escapes), valid
 * UTF-8 kept, each byte of an invalid UTF-8 sequence written as the text
 * \xNN (a backslash escaped as \\ in JSON). So a record is always one line.
 */
#ifndef SOCKAUDIT_JSON_H
#define SOCKAUDIT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JBUF_MAX_DEPTH 16

struct jbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool oom;			/* an allocation failed: content is unusable */
	int depth;
	bool first[JBUF_MAX_DEPTH];	/* no member written yet at this depth */
};

void jbuf__init(struct jbuf *jb);
void jbuf__free(struct jbuf *jb);

/* Room for n more bytes and the NUL; false (and oom set) when there is none. */
bool jbuf__grow(struct jbuf *jb, size_t n);

/* Empty again, keeping the allocation (inline: a record resets a dozen texts). */
static inline void jbuf__reset(struct jbuf *jb)
{
	jb->len = 0;
	jb->oom = false;
	jb->depth = 0;
	jb->first[0] = true;
	if (jb->buf)
		jb->buf[0] = '\0';
}

/* Unescaped bytes. Inline: records are built from many short pieces. */
static inline void jbuf__raw(struct jbuf *jb, const char *s, size_t n)
{
	if (__builtin_expect(n >= jb->cap - jb->len || jb->oom, 0) && !jbuf__grow(jb, n))
		return;
	memcpy(jb->buf + jb->len, s, n);
	jb->len += n;
	jb->buf[jb->len] = '\0';
}

/* Decimal digits of v written to end just before end (room for 20); returns their start. */
char *jbuf__digits(char *end, uint64_t v);
/* "00" to "99" at [2 * i]: numbers are written two digits per division. */
extern const char json_digit_pairs[201];

/* v < 10000 as four digits, zero-padded, at out[0..4). */
static inline void json_digits4(char *out, uint32_t v)
{
	memcpy(out, json_digit_pairs + v / 100 * 2, 2);
	memcpy(out + 2, json_digit_pairs + v % 100 * 2, 2);
}

/* The last nine decimal digits of v, zero-padded, at out[0..9) (nanoseconds of a second). */
static inline void jbuf__digits9(char *out, uint32_t v)
{
	/* fixed places: a digit and two fours, no loop and no test per digit */
	uint32_t low = v % 100000000, hi = low / 10000;

	out[0] = (char)('0' + v / 100000000 % 10);
	json_digits4(out + 1, hi);
	json_digits4(out + 5, low - hi * 10000);
}

void jbuf__obj_open(struct jbuf *jb);		/* { (as a value) */
void jbuf__obj_close(struct jbuf *jb);		/* } */
void jbuf__arr_open(struct jbuf *jb);		/* [ */
void jbuf__arr_close(struct jbuf *jb);		/* ] */
void jbuf__key(struct jbuf *jb, const char *key); /* ,"key": (comma when needed) */
/*
 * The same for a key that is a string literal made of identifier characters:
 * written with one copy, no strlen and no escaping (the hot path of records).
 */
#define JBUF_KEY(jb, k) jbuf__key_raw((jb), "\"" k "\":", sizeof("\"" k "\":") - 1)
/* Leaves first[depth] set so the value after it writes no comma (see json.c). */
static inline void jbuf__key_raw(struct jbuf *jb, const char *quoted_key_colon, size_t n)
{
	if (jb->depth > 0 && jb->depth < JBUF_MAX_DEPTH) {
		if (!jb->first[jb->depth])
			jbuf__raw(jb, ",", 1);
		jb->first[jb->depth] = true;
	}
	jbuf__raw(jb, quoted_key_colon, n);
}

/* Values: after a key, or as array elements (commas handled). */
void jbuf__str(struct jbuf *jb, const uint8_t *s, size_t n);
/* A value already encoded as JSON (a quoted timestamp, a cached fragment). */
void jbuf__value_raw(struct jbuf *jb, const char *json, size_t n);
void jbuf__cstr(struct jbuf *jb, const char *s);
void jbuf__u64(struct jbuf *jb, uint64_t v);
void jbuf__i64(struct jbuf *jb, int64_t v);
void jbuf__ms(struct jbuf *jb, uint64_t ns);	/* ns as milliseconds, 3 decimals */
void jbuf__bool(struct jbuf *jb, bool v);
void jbuf__null(struct jbuf *jb);

/* Escape n bytes as the inside of a JSON string (no quotes). */
void jbuf__escape(struct jbuf *jb, const uint8_t *s, size_t n);
/* "s" with s escaped (jbuf__escape): a JSON string value without the comma logic. */
void jbuf__quoted(struct jbuf *jb, const uint8_t *s, size_t n);

/*
 * Writing at a cursor. A writer that knows an upper bound of what it will
 * write (a record: its constant pieces, the json_quoted_max of its texts)
 * reserves it once with jbuf__grow, then writes through a char pointer
 * with no room test per piece, and sets jb->len (and the NUL) at the end.
 * These write no NUL.
 */

/* The most json_quoted_at writes for n bytes: six per byte (\u00XX), two quotes; huge: grow refuses. */
static inline size_t json_quoted_max(size_t n)
{
	return n > SIZE_MAX / 8 ? SIZE_MAX / 2 : 6 * n + 2;
}

/* "s", escaped as jbuf__escape does, at o (json_quoted_max(n) bytes free); returns o past it. */
char *json_quoted_at(char *o, const uint8_t *s, size_t n);

/* The most json_u64_at writes. */
#define JSON_U64_MAX 20

/* v < 10000 in 1 to 4 digits at o; returns o past them. */
static inline char *json_small_at(char *o, uint32_t v)
{
	if (v < 10) {
		*o = (char)('0' + v);
		return o + 1;
	}
	if (v < 100) {
		memcpy(o, json_digit_pairs + v * 2, 2);
		return o + 2;
	}
	if (v < 1000) {
		*o = (char)('0' + v / 100);
		memcpy(o + 1, json_digit_pairs + v % 100 * 2, 2);
		return o + 3;
	}
	json_digits4(o, v);
	return o + 4;
}

char *json_u64_big_at(char *o, uint64_t v);

/*
 * v in decimal at o; returns o past it. The numbers of a record (sizes,
 * ids, status) mostly have four digits or fewer: those inline, with no
 * loop; up to eight take one 32-bit split, longer ones count their digits.
 */
static inline char *json_u64_at(char *o, uint64_t v)
{
	return v < 10000 ? json_small_at(o, (uint32_t)v) : json_u64_big_at(o, v);
}

/* The most json_ms_at writes. */
#define JSON_MS_MAX (JSON_U64_MAX + 4)
/* ns as milliseconds with 3 decimals (jbuf__ms) at o; returns o past it. */
char *json_ms_at(char *o, uint64_t ns);

/*
 * n bytes at o; returns o past them. Texts of a record are short: up to 32
 * bytes they go in two overlapping moves of one width, with no call and no
 * byte read or written outside either range.
 */
static inline __attribute__((always_inline)) char *json_copy_at(char *o, const char *s, size_t n)
{
	uint64_t a, b;
	uint32_t c, d;

	if (n > 32) {
		memcpy(o, s, n);
	} else if (n >= 16) {
		char x[16], y[16];

		memcpy(x, s, 16);
		memcpy(y, s + n - 16, 16);
		memcpy(o, x, 16);
		memcpy(o + n - 16, y, 16);
	} else if (n >= 8) {
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(o, &a, 8);
		memcpy(o + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&c, s, 4);
		memcpy(&d, s + n - 4, 4);
		memcpy(o, &c, 4);
		memcpy(o + n - 4, &d, 4);
	} else if (n) {
		o[0] = s[0];
		o[n / 2] = s[n / 2];
		o[n - 1] = s[n - 1];
	}
	return o + n;
}

/* "s" for a text known to need no escaping (ascii_json_plain_all): the bytes between quotes. */
static inline __attribute__((always_inline)) char *json_plain_at(char *o, const char *s, size_t n)
{
	*o = '"';
	o = json_copy_at(o + 1, s, n);
	*o = '"';
	return o + 1;
}

/* Where the cursor starts: the end of jb's content (room reserved with jbuf__grow). */
static inline char *jbuf__at(const struct jbuf *jb)
{
	return jb->buf + jb->len;
}

/* The cursor's writes become jb's content, NUL-terminated again. */
static inline void jbuf__end_at(struct jbuf *jb, char *o)
{
	*o = '\0';
	jb->len = (size_t)(o - jb->buf);
}

/* n bytes at o; returns o past them (a literal's constant n makes it a few moves). */
static inline char *json_put(char *o, const void *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

#endif /* SOCKAUDIT_JSON_H */
