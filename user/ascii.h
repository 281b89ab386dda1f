/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Eight bytes at a time: how much of a text is printable ASCII that needs
 * no escaping. Almost every byte of a record (methods, paths, headers,
 * JSON bodies) is; scanning words instead of bytes keeps the sanitizer and
 * the JSON writer off the per-byte path for them.
 *
 * The word tests are the classic SWAR forms (Hacker's Delight 6-1,
 * "Bit Twiddling Hacks"): each is nonzero exactly when some byte of the
 * word matches, which is all a prefix scan needs.
 */
#ifndef SOCKAUDIT_ASCII_H
#define SOCKAUDIT_ASCII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define SWAR_ONES	0x0101010101010101ULL
#define SWAR_HIGH	0x8080808080808080ULL

static inline uint64_t swar_load(const uint8_t *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return w;
}

/* Nonzero when some byte of w is 0. */
static inline uint64_t swar_has_zero(uint64_t w)
{
	return (w - SWAR_ONES) & ~w & SWAR_HIGH;
}

/* Nonzero when some byte of w is below 0x20 or above 0x7e. */
static inline uint64_t swar_not_printable(uint64_t w)
{
	uint64_t below = (w - SWAR_ONES * 0x20) & ~w & SWAR_HIGH;
	uint64_t above = ((w + SWAR_ONES * (0x7f - 0x7e)) | w) & SWAR_HIGH;

	return below | above;
}

/* Nonzero when some byte of w is not printable, or is '"' or '\\'. */
static inline uint64_t swar_json_special(uint64_t w)
{
	return swar_not_printable(w) | swar_has_zero(w ^ (SWAR_ONES * '"')) |
	       swar_has_zero(w ^ (SWAR_ONES * '\\'));
}

#if defined(__SSE2__)
/* Lanes of v that JSON copies as they are set to 0xff: one compare set for 16 bytes. */
static inline __m128i sse2_json_plain(__m128i v)
{
	/* signed: 0x20..0x7f compare above 0x1f, bytes from 0x80 are negative */
	__m128i ok = _mm_cmpgt_epi8(v, _mm_set1_epi8(0x1f));
	__m128i bad = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)),
				   _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
						_mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

	return _mm_andnot_si128(bad, ok);
}
#endif

/*
 * True when all 16 bytes at s are ones JSON copies as they are. On x86-64
 * SSE2 is baseline, so one vector test replaces two word tests on the hot
 * quoting path; elsewhere it is the two word tests.
 */
static inline bool ascii_json_plain16(const uint8_t *s)
{
#if defined(__SSE2__)
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);

	return _mm_movemask_epi8(sse2_json_plain(v)) == 0xffff;
#else
	return !(swar_json_special(swar_load(s)) | swar_json_special(swar_load(s + 8)));
#endif
}

/* The same for 8 bytes: the vector test is shorter than the word one (three word tests in one). */
static inline bool ascii_json_plain8(const uint8_t *s)
{
#if defined(__SSE2__)
	__m128i v = _mm_loadl_epi64((const __m128i *)(const void *)s);

	return (_mm_movemask_epi8(sse2_json_plain(v)) & 0xff) == 0xff;
#else
	return !swar_json_special(swar_load(s));
#endif
}

/*
 * Index of the first byte of the word w (bytes in memory order), from
 * byte `from` on, that JSON must escape (not printable ASCII, or '"' or
 * '\\'); 8 when there is none. The bytes below `from` must be plain: then
 * the word test flags the first such byte exactly (a borrow or carry only
 * reaches the bytes above a flagged one).
 */
static inline unsigned ascii_json_first_special_word(uint64_t w, unsigned from)
{
#if defined(__SSE2__)
	unsigned bits = ~(unsigned)_mm_movemask_epi8(sse2_json_plain(_mm_cvtsi64_si128((long long)w)));

	return (unsigned)__builtin_ctz((bits & 0xffu << from) | 0x100);
#else
	uint64_t m = swar_json_special(w) & ~0ULL << 8 * from;

	return m ? (unsigned)__builtin_ctzll(m) / 8 : 8;
#endif
}

/* The same for the 8 bytes at s, from their first. */
static inline unsigned ascii_json_first_special8(const uint8_t *s)
{
	return ascii_json_first_special_word(swar_load(s), 0);
}

/* The same for s[0..16): 16 when there is none. */
static inline unsigned ascii_json_first_special16(const uint8_t *s)
{
#if defined(__SSE2__)
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);

	return (unsigned)__builtin_ctz(~(unsigned)_mm_movemask_epi8(sse2_json_plain(v)) | 0x10000);
#else
	unsigned k = ascii_json_first_special8(s);

	return k < 8 ? k : 8 + ascii_json_first_special8(s + 8);
#endif
}

/* A byte JSON copies as it is: printable ASCII but '"' and '\\'. */
static inline bool ascii_json_plain_byte(uint8_t c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/*
 * The length of the NUL-terminated s, in an array of max bytes that may
 * all be read, when all of it is plain (ascii_json_plain_all); max when it
 * is not or has no NUL. One pass finds both, as the NUL is a byte JSON
 * must escape: 16 bytes a test, then bytes.
 */
static inline size_t ascii_json_plain_cstr(const uint8_t *s, size_t max)
{
	size_t i;
	unsigned k;

	for (i = 0; i + 16 <= max; i += 16) {
		k = ascii_json_first_special16(s + i);
		if (k < 16)
			return s[i + k] ? max : i + k;
	}
	for (; i < max; i++)
		if (!ascii_json_plain_byte(s[i]))
			return s[i] ? max : i;
	return max;
}

/* Bytes at the start of s that are printable ASCII (0x20-0x7e), whole words only. */
static inline size_t ascii_printable_words(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i + 8 <= n && !swar_not_printable(swar_load(s + i)))
		i += 8;
	return i;
}

/* Bytes at the start of s JSON copies as they are, whole words only. */
static inline size_t ascii_json_words(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i + 8 <= n && !swar_json_special(swar_load(s + i)))
		i += 8;
	return i;
}

/* Length of the printable ASCII prefix of s. */
static inline size_t ascii_printable_prefix(const uint8_t *s, size_t n)
{
	size_t i = ascii_printable_words(s, n);

	/* the last word, overlapping the ones seen: a printable text ends without a byte loop */
	if (i < n && n >= 8 && i + 8 > n && !swar_not_printable(swar_load(s + n - 8)))
		return n;
	while (i < n && s[i] >= 0x20 && s[i] < 0x7f)
		i++;
	return i;
}

#if defined(__SSE2__)
/* All 16 bytes of v in 0x20-0x7e (signed: bytes from 0x80 are negative). */
static inline bool sse2_all_printable(__m128i v)
{
	return _mm_movemask_epi8(_mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)),
						  _mm_cmpgt_epi8(v, _mm_set1_epi8(0x1f)))) == 0xffff;
}
#endif

/*
 * Whether all of s is printable ASCII, as ascii_printable_prefix(s, n) == n.
 * With SSE2, texts of 8 bytes or more take 16 (or 8) bytes a test, the last
 * block overlapping the ones before it; shorter ones, and all elsewhere,
 * go the prefix way.
 */
static inline bool ascii_printable_all(const uint8_t *s, size_t n)
{
#if defined(__SSE2__)
	size_t i;

	if (n >= 16) {
		for (i = 0; i + 16 <= n; i += 16) {
			if (!sse2_all_printable(_mm_loadu_si128((const __m128i *)(const void *)(s + i))))
				return false;
		}
		return i == n ||
		       sse2_all_printable(_mm_loadu_si128((const __m128i *)(const void *)(s + n - 16)));
	}
	if (n >= 8) {
		/* two 8-byte halves, overlapping when n < 16, in one register */
		return sse2_all_printable(
			_mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)s),
					   _mm_loadl_epi64((const __m128i *)(const void *)(s + n - 8))));
	}
#endif
	return ascii_printable_prefix(s, n) == n;
}

/*
 * The bytes of s (0 < n < 8) in one word for a word test: overlapping
 * 4-byte loads, or the first, middle and last byte with a plain letter in
 * the rest. Every byte of s is in it, and no byte past s is read.
 */
static inline uint64_t ascii_short_word(const uint8_t *s, size_t n)
{
	uint32_t lo, hi;

	if (n >= 4) {
		memcpy(&lo, s, 4);
		memcpy(&hi, s + n - 4, 4);
		return lo | (uint64_t)hi << 32;
	}
	return s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16 | SWAR_ONES * 'a' << 24;
}

/*
 * Whether JSON copies all of s as it is (printable ASCII but '"' and
 * '\\'): such a text is written between quotes with a plain copy. Blocks
 * of 16 or 8 bytes, the last overlapping the ones before it; shorter
 * texts in one word.
 */
static inline bool ascii_json_plain_all(const uint8_t *s, size_t n)
{
	size_t i;

	if (n >= 16) {
		for (i = 0; i + 16 <= n; i += 16)
			if (!ascii_json_plain16(s + i))
				return false;
		return i == n || ascii_json_plain16(s + n - 16);
	}
	if (n >= 8)
		return ascii_json_plain8(s) && ascii_json_plain8(s + n - 8);
	return !n || ascii_json_first_special_word(ascii_short_word(s, n), 0) == 8;
}

/*
 * a[0..n) equals b[0..n), for the short texts of a record: words compared
 * (the last one overlapping), no call, and no byte read past either's n.
 */
static inline bool bytes_eq(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	uint32_t p, q, r, t;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 <= n; i += 8)
			if (swar_load(x + i) != swar_load(y + i))
				return false;
		return swar_load(x + n - 8) == swar_load(y + n - 8);
	}
	if (n >= 4) {
		memcpy(&p, x, 4);
		memcpy(&q, y, 4);
		memcpy(&r, x + n - 4, 4);
		memcpy(&t, y + n - 4, 4);
		return p == q && r == t;
	}
	for (i = 0; i < n; i++)
		if (x[i] != y[i])
			return false;
	return true;
}

static inline uint8_t ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/*
 * s[0..n) equals lower[0..n), ASCII letters in s compared case-blind;
 * lower is all lowercase. Inline: strncasecmp goes through the locale and a
 * call for names of four to twenty bytes, many times per message.
 */
static inline bool ascii_caseeq(const uint8_t *s, const char *lower, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ascii_lower(s[i]) != (uint8_t)lower[i])
			return false;
	return true;
}

#endif /* SOCKAUDIT_ASCII_H */
