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
/* The last nine decimal digits of v, zero-padded, at out[0..9) (nanoseconds of a second). */
void jbuf__digits9(char *out, uint32_t v);

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
/* The room jbuf__quoted reserves for n bytes (two per byte and the quotes); huge: grow refuses. */
static inline size_t jbuf__quoted_room(size_t n)
{
	return n > SIZE_MAX / 4 ? SIZE_MAX / 2 : 2 * n + 2;
}
/*
 * jbuf__quoted once jbuf__quoted_room(n) bytes are known free: a caller that
 * writes a constant piece before the text reserves for both in one test.
 */
void jbuf__quoted_reserved(struct jbuf *jb, const uint8_t *s, size_t n);

#endif /* SOCKAUDIT_JSON_H */
