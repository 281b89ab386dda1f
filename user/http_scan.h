/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The short way through an HTTP header line: nearly every line names one of
 * a few dozen common headers and has a printable value. hname_probe knows
 * such a name from its first letter, a probe for its colon and a word
 * compare or two, without walking it byte by byte; value_printable checks
 * the rest of the line 16 bytes a test. A line that passes both is valid,
 * and proto_http.c takes what it gives at once; any other line goes its
 * careful byte-by-byte way (header_split), which decides the same for a
 * line that passes (tests/test_http_scan.c).
 */
#ifndef SOCKAUDIT_HTTP_SCAN_H
#define SOCKAUDIT_HTTP_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "ascii.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The header names the parser takes something from; HN_OTHER: any other. */
enum hname {
	HN_OTHER,
	HN_CONTENT_LENGTH,
	HN_TRANSFER_ENCODING,
	HN_CONNECTION,
	HN_CONTENT_TYPE,
	HN_HOST,
	HN_MCP_SESSION,
	HN_MCP_METHOD,
	HN_MCP_NAME,
	HN_TRACEPARENT,
};

static inline uint32_t hname_load32(const void *s)
{
	uint32_t w;

	memcpy(&w, s, sizeof(w));
	return w;
}

/*
 * A word of a line against the same word of a name literal, case-blind:
 * the literal is [a-z-], so 0x20 is ORed in only where it has a letter
 * (letters have bit 0x40, '-' has not). That is exact: only 'A'-'Z' and
 * 'a'-'z' become a letter that way, and only '-' itself stays '-'.
 */
#define HNAME_WORD_EQ(w, l, bit40) (((w) | (((l) & (bit40)) >> 1)) == (l))

/*
 * s[0..len) is the lower-case literal lit of [a-z-] (len >= 4) in any case:
 * a header name, or a token such as "keep-alive". Always inlined with a
 * string literal: its words and masks become constants.
 */
static inline __attribute__((always_inline)) bool lower_lit_eq(const uint8_t *s, const char *lit,
							       size_t len)
{
	const uint8_t *l = (const uint8_t *)lit;
	const uint64_t b64 = 0x4040404040404040ULL;
	const uint32_t b32 = 0x40404040u;
	size_t i;

	if (len < 8)
		return HNAME_WORD_EQ(hname_load32(s), hname_load32(lit), b32) &&
		       HNAME_WORD_EQ(hname_load32(s + len - 4), hname_load32(lit + len - 4), b32);
	for (i = 0; i + 8 < len; i += 8)
		if (!HNAME_WORD_EQ(swar_load(s + i), swar_load(l + i), b64))
			return false;
	return HNAME_WORD_EQ(swar_load(s + len - 8), swar_load(l + len - 8), b64);
}

/* What hname_probe found: id -1 (none), or the enum hname of a name nl bytes long. */
struct hname_hit {
	int id;
	size_t nl;
};

/*
 * The names hname_probe knows: every one the parser takes something from
 * and the common ones it does not (HPACK's static table, RFC 7541 Appendix
 * A, and a few more), by first letter, the likelier first. X(name, enum
 * hname); the unit test walks them all.
 */
#define HNAMES_A(X) \
	X("accept", HN_OTHER) \
	X("accept-ranges", HN_OTHER) \
	X("accept-encoding", HN_OTHER) \
	X("accept-language", HN_OTHER) \
	X("authorization", HN_OTHER) \
	X("allow", HN_OTHER) \
	X("accept-charset", HN_OTHER) \
	X("access-control-allow-origin", HN_OTHER)
#define HNAMES_C(X) \
	X("content-type", HN_CONTENT_TYPE) \
	X("content-length", HN_CONTENT_LENGTH) \
	X("connection", HN_CONNECTION) \
	X("cache-control", HN_OTHER) \
	X("cookie", HN_OTHER) \
	X("content-encoding", HN_OTHER) \
	X("content-language", HN_OTHER) \
	X("content-location", HN_OTHER) \
	X("content-range", HN_OTHER) \
	X("content-disposition", HN_OTHER)
#define HNAMES_D(X) \
	X("date", HN_OTHER)
#define HNAMES_E(X) \
	X("etag", HN_OTHER) \
	X("expires", HN_OTHER) \
	X("expect", HN_OTHER)
#define HNAMES_F(X) \
	X("from", HN_OTHER) \
	X("forwarded", HN_OTHER)
#define HNAMES_H(X) \
	X("host", HN_HOST)
#define HNAMES_I(X) \
	X("if-modified-since", HN_OTHER) \
	X("if-none-match", HN_OTHER) \
	X("if-match", HN_OTHER) \
	X("if-range", HN_OTHER) \
	X("if-unmodified-since", HN_OTHER)
#define HNAMES_K(X) \
	X("keep-alive", HN_OTHER)
#define HNAMES_L(X) \
	X("last-modified", HN_OTHER) \
	X("location", HN_OTHER) \
	X("link", HN_OTHER)
#define HNAMES_M(X) \
	X("mcp-session-id", HN_MCP_SESSION) \
	X("mcp-method", HN_MCP_METHOD) \
	X("mcp-name", HN_MCP_NAME) \
	X("max-forwards", HN_OTHER)
#define HNAMES_O(X) \
	X("origin", HN_OTHER)
#define HNAMES_P(X) \
	X("pragma", HN_OTHER) \
	X("proxy-authenticate", HN_OTHER) \
	X("proxy-authorization", HN_OTHER)
#define HNAMES_R(X) \
	X("referer", HN_OTHER) \
	X("range", HN_OTHER) \
	X("retry-after", HN_OTHER) \
	X("refresh", HN_OTHER)
#define HNAMES_S(X) \
	X("server", HN_OTHER) \
	X("set-cookie", HN_OTHER) \
	X("strict-transport-security", HN_OTHER)
#define HNAMES_T(X) \
	X("transfer-encoding", HN_TRANSFER_ENCODING) \
	X("traceparent", HN_TRACEPARENT) \
	X("tracestate", HN_OTHER) \
	X("trailer", HN_OTHER)
#define HNAMES_U(X) \
	X("user-agent", HN_OTHER) \
	X("upgrade", HN_OTHER)
#define HNAMES_V(X) \
	X("vary", HN_OTHER)
#define HNAMES_W(X) \
	X("www-authenticate", HN_OTHER)
#define HNAMES_X(X) \
	X("x-forwarded-for", HN_OTHER) \
	X("x-request-id", HN_OTHER)
#define HNAMES_ALL(X)                                                                      \
	HNAMES_A(X) HNAMES_C(X) HNAMES_D(X) HNAMES_E(X) HNAMES_F(X) HNAMES_H(X) HNAMES_I(X) \
	HNAMES_K(X) HNAMES_L(X) HNAMES_M(X) HNAMES_O(X) HNAMES_P(X) HNAMES_R(X) HNAMES_S(X) \
	HNAMES_T(X) HNAMES_U(X) HNAMES_V(X) HNAMES_W(X) HNAMES_X(X)

/* The line s[0..n) starts with the name lit, in any case, and a colon. */
#define HNAME_TRY(lit, hn)                                                    \
	if (n > sizeof(lit) - 1 && s[sizeof(lit) - 1] == ':' &&                \
	    lower_lit_eq(s, lit, sizeof(lit) - 1))                             \
		return (struct hname_hit){ (hn), sizeof(lit) - 1 };

/*
 * The header a line s[0..n) names, when it starts with one of HNAMES_ALL
 * and its colon: its enum hname and the name's length; id -1 when it names
 * another (or is no header line): the caller then walks it byte by byte.
 * A known name costs a jump on its first letter, a probe for its colon per
 * name tried and a word compare or two.
 */
static inline __attribute__((always_inline)) struct hname_hit hname_probe(const uint8_t *s,
									  size_t n)
{
	if (n < 5)
		return (struct hname_hit){ -1, 0 };
	switch (s[0] | 0x20) {
	case 'a':
		HNAMES_A(HNAME_TRY)
		break;
	case 'c':
		HNAMES_C(HNAME_TRY)
		break;
	case 'd':
		HNAMES_D(HNAME_TRY)
		break;
	case 'e':
		HNAMES_E(HNAME_TRY)
		break;
	case 'f':
		HNAMES_F(HNAME_TRY)
		break;
	case 'h':
		HNAMES_H(HNAME_TRY)
		break;
	case 'i':
		HNAMES_I(HNAME_TRY)
		break;
	case 'k':
		HNAMES_K(HNAME_TRY)
		break;
	case 'l':
		HNAMES_L(HNAME_TRY)
		break;
	case 'm':
		HNAMES_M(HNAME_TRY)
		break;
	case 'o':
		HNAMES_O(HNAME_TRY)
		break;
	case 'p':
		HNAMES_P(HNAME_TRY)
		break;
	case 'r':
		HNAMES_R(HNAME_TRY)
		break;
	case 's':
		HNAMES_S(HNAME_TRY)
		break;
	case 't':
		HNAMES_T(HNAME_TRY)
		break;
	case 'u':
		HNAMES_U(HNAME_TRY)
		break;
	case 'v':
		HNAMES_V(HNAME_TRY)
		break;
	case 'w':
		HNAMES_W(HNAME_TRY)
		break;
	case 'x':
		HNAMES_X(HNAME_TRY)
		break;
	}
	return (struct hname_hit){ -1, 0 };
}

/*
 * Every byte after the name s[0..nl) of a line s[0..n) is printable ASCII
 * (0x20-0x7e), the name being one hname_probe knew (so printable too): 16
 * or 8 bytes a test, the bytes tested reaching back into the name to make
 * up a whole block.
 */
static inline bool value_printable(const uint8_t *s, size_t n, size_t nl)
{
	size_t block = n >= 16 ? 16 : n >= 8 ? 8 : n;
	size_t k = nl < n - block ? nl : n - block;

#if defined(__SSE2__)
	/* a value within the line's last 16 bytes (most are): one test */
	if (n >= 16 && k == n - 16)
		return sse2_all_printable(_mm_loadu_si128((const __m128i *)(const void *)(s + k)));
#endif
	return ascii_printable_all(s + k, n - k);
}

/*
 * Where the next LF at or after b + at is, as an offset into b[0..n), or n
 * when there is none. A head line is a few dozen bytes: with SSE2 (and
 * n >= 16) 16 bytes a test, inline, the last test reading the last 16
 * bytes of b rather than past them (the lanes before at shifted out);
 * else memchr.
 */
static inline __attribute__((always_inline)) size_t lf_find(const uint8_t *b, size_t n, size_t at)
{
	const uint8_t *lf;

#if defined(__SSE2__)
	if (n >= 16) {
		const __m128i nl = _mm_set1_epi8('\n');
		unsigned m;

		/* 32 bytes a step while they fit: most head lines are shorter */
		for (; at + 32 <= n; at += 32) {
			m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
				    _mm_loadu_si128((const __m128i *)(const void *)(b + at)), nl)) |
			    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
				    _mm_loadu_si128((const __m128i *)(const void *)(b + at + 16)), nl))
				    << 16;
			if (m)
				return at + (size_t)__builtin_ctz(m);
		}
		for (; at + 16 <= n; at += 16) {
			m = (unsigned)_mm_movemask_epi8(
				_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(b + at)), nl));
			if (m)
				return at + (size_t)__builtin_ctz(m);
		}
		if (at >= n)
			return n;
		m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
			    _mm_loadu_si128((const __m128i *)(const void *)(b + n - 16)), nl)) >>
		    (16 - (n - at));
		return m ? at + (size_t)__builtin_ctz(m) : n;
	}
#endif
	lf = memchr(b + at, '\n', n - at);
	return lf ? (size_t)(lf - b) : n;
}

#endif /* SOCKAUDIT_HTTP_SCAN_H */
