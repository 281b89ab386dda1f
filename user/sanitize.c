// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Payload sanitizer (see sanitize.h). Everything here is a single forward
 * pass with bounded output, so a 100 MB payload costs time proportional to
 * what is kept, never memory proportional to its size.
 */
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "sanitize.h"

#define ESC 0x1b
#define BEL 0x07
#define DETECT_SAMPLE 512	/* bytes looked at to call a payload binary */
#define STRING_SEQ_MAX 4096	/* an OSC/DCS longer than this is not a sequence */

static const char hexdig[] = "0123456789abcdef";

static const char *const kind_names[PK_MAX] = {
	[PK_TEXT] = "text", [PK_GZIP] = "gzip", [PK_ZSTD] = "zstd", [PK_ZLIB] = "zlib",
	[PK_BZIP2] = "bzip2", [PK_XZ] = "xz", [PK_ZIP] = "zip", [PK_PNG] = "png",
	[PK_JPEG] = "jpeg", [PK_GIF] = "gif", [PK_WEBP] = "webp", [PK_PDF] = "pdf",
	[PK_PROTOBUF] = "protobuf", [PK_GRPC] = "grpc", [PK_BINARY] = "binary",
};

const char *sanitize__kind_name(int kind)
{
	return kind >= 0 && kind < PK_MAX ? kind_names[kind] : "binary";
}

/* ---- UTF-8 ---- */

/*
 * Length of the well-formed UTF-8 sequence at s (Unicode table 3-7), or 0;
 * *cp gets its code point. Overlongs, surrogates, values above U+10FFFF and
 * truncated sequences are rejected by the second-byte ranges.
 */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;
	uint32_t v;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, v = c & 0x0f;
		lo = c == 0xe0 ? 0xa0 : lo;
		hi = c == 0xed ? 0x9f : hi;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, v = c & 0x07;
		lo = c == 0xf0 ? 0x90 : lo;
		hi = c == 0xf4 ? 0x8f : hi;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	*cp = v;
	return len;
}

/*
 * Code points that change how text reads without being seen: C1 controls,
 * bidi embeddings/overrides/isolates (Trojan Source), zero-width and
 * joiner characters, line/paragraph separators (line breaks to JavaScript),
 * BOM, interlinear annotation, and the tag block used to smuggle text past
 * readers.
 */
static bool cp_invisible(uint32_t cp)
{
	if (cp < 0xa0)
		return cp >= 0x80;
	if (cp < 0x2000)
		return cp == 0xad || cp == 0x61c || cp == 0x115f || cp == 0x1160 ||
		       cp == 0x180e;
	if (cp < 0x2100)
		return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
		       (cp >= 0x2060 && cp <= 0x206f);
	return cp == 0x3164 || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
	       (cp >= 0xe0000 && cp <= 0xe007f);
}

/* ---- binary detection ---- */

static bool has_prefix(const uint8_t *s, size_t n, const char *magic, size_t m)
{
	return n >= m && !memcmp(s, magic, m);
}

/* First bytes of the magic numbers below: any other first byte is no known format. */
static const bool magic_first[256] = {
	[0x1f] = true, [0x28] = true, ['B'] = true, [0xfd] = true, ['P'] = true, [0x89] = true,
	[0xff] = true, ['G'] = true, ['R'] = true, ['%'] = true, [0x78] = true,
};

static int detect_magic(const uint8_t *s, size_t n)
{
	if (!n || !magic_first[s[0]])
		return PK_TEXT;
	if (has_prefix(s, n, "\x1f\x8b", 2))
		return PK_GZIP;
	if (has_prefix(s, n, "\x28\xb5\x2f\xfd", 4))
		return PK_ZSTD;
	if (has_prefix(s, n, "BZh", 3) && n > 3 && s[3] >= '1' && s[3] <= '9' && n > 4 &&
	    s[4] == 0x31)
		return PK_BZIP2;
	if (has_prefix(s, n, "\xfd" "7zXZ\0", 6))
		return PK_XZ;
	if (has_prefix(s, n, "PK\x03\x04", 4))
		return PK_ZIP;
	if (has_prefix(s, n, "\x89PNG\r\n\x1a\n", 8))
		return PK_PNG;
	if (has_prefix(s, n, "\xff\xd8\xff", 3))
		return PK_JPEG;
	if (has_prefix(s, n, "GIF87a", 6) || has_prefix(s, n, "GIF89a", 6))
		return PK_GIF;
	if (has_prefix(s, n, "RIFF", 4) && n >= 12 && !memcmp(s + 8, "WEBP", 4))
		return PK_WEBP;
	if (has_prefix(s, n, "%PDF-", 5))
		return PK_PDF;
	/* zlib: CM=8, header checksum; "x^" (0x785e) is left out: it is also text */
	if (n > 2 && s[0] == 0x78 && (s[1] == 0x01 || s[1] == 0x9c || s[1] == 0xda))
		return PK_ZLIB;
	return PK_TEXT;
}

/* ct starts with the lowercase prefix; the compare stops at ct's NUL, a mismatch. */
static bool ctype_is(const char *ct, const char *prefix)
{
	return ascii_caseeq((const uint8_t *)ct, prefix, strlen(prefix));
}

static int detect_ctype(const char *ct)
{
	/* every binary type below starts with a, f, i or v: text/... is settled at once */
	char c = ct ? (char)(ct[0] | 0x20) : 0;	/* lowercase for letters; only A-Z, a-z map to a-z */

	if (c != 'a' && c != 'f' && c != 'i' && c != 'v')
		return PK_TEXT;
	if (ctype_is(ct, "application/grpc"))
		return PK_GRPC;
	if (ctype_is(ct, "application/x-protobuf") || ctype_is(ct, "application/protobuf") ||
	    ctype_is(ct, "application/vnd.google.protobuf"))
		return PK_PROTOBUF;
	if (ctype_is(ct, "image/svg"))
		return PK_TEXT;
	if (ctype_is(ct, "image/") || ctype_is(ct, "audio/") || ctype_is(ct, "video/") ||
	    ctype_is(ct, "font/") || ctype_is(ct, "application/octet-stream") ||
	    ctype_is(ct, "application/gzip") || ctype_is(ct, "application/zip") ||
	    ctype_is(ct, "application/pdf") || ctype_is(ct, "application/zstd"))
		return PK_BINARY;
	return PK_TEXT;
}

/*
 * Mostly not text: more than one byte in eight of the sample is NUL, a
 * control other than tab/CR/LF/ESC, or not valid UTF-8. Escaped, such a
 * payload would be four times its size and unreadable anyway.
 */
static bool looks_binary(const uint8_t *s, size_t n)
{
	size_t i, bad = 0, k, lim = n < DETECT_SAMPLE ? n : DETECT_SAMPLE;
	uint32_t cp;

	i = ascii_printable_words(s, lim);	/* the plain-text start, a word at a time */
	while (i < lim) {
		uint8_t c = s[i];

		if (c >= 0x20 && c < 0x7f) {
			i++;
			continue;
		}
		if (c >= 0x80 && (k = utf8_decode(s + i, n - i, &cp))) {
			i += k;
			continue;
		}
		if (c != '\t' && c != '\r' && c != '\n' && c != ESC)
			bad++;
		i++;
	}
	return lim >= 8 && bad * 8 > lim;
}

int sanitize__detect(const uint8_t *s, size_t n, const char *content_type)
{
	int k = detect_magic(s, n);

	if (k != PK_TEXT)
		return k;
	k = detect_ctype(content_type);
	if (k != PK_TEXT)
		return k;
	return looks_binary(s, n) ? PK_BINARY : PK_TEXT;
}

static void put_u64(struct jbuf *out, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	jbuf__raw(out, p, (size_t)(tmp + sizeof(tmp) - p));
}

/*
 * Whether the bytes a hex preview would show hold text: SANITIZE_PREVIEW_TEXT
 * or more letters and digits among them. Hex is not redacted, so a
 * "binary" body that starts with "password=hunter2" (a content type is
 * only a claim) or its UTF-16 spelling would be written in clear; a
 * magic number, a length field and compressed bytes have few.
 */
static bool preview_has_text(const uint8_t *s, size_t n)
{
	size_t i, alnum = 0;

	for (i = 0; i < n; i++) {
		uint8_t lower = s[i] | 0x20;

		alnum += (s[i] >= '0' && s[i] <= '9') || (lower >= 'a' && lower <= 'z');
	}
	return alnum >= SANITIZE_PREVIEW_TEXT;
}

void sanitize__binary_summary(struct jbuf *out, int kind, const uint8_t *s, size_t n,
			      uint64_t total_bytes)
{
	size_t i, m = n < SANITIZE_PREFIX_BYTES ? n : SANITIZE_PREFIX_BYTES;
	const char *name = sanitize__kind_name(kind);

	jbuf__raw(out, "[binary ", 8);
	jbuf__raw(out, name, strlen(name));
	jbuf__raw(out, " ", 1);
	put_u64(out, total_bytes);
	if (preview_has_text(s, m)) {
		jbuf__raw(out, " bytes]", 7);
		return;
	}
	jbuf__raw(out, " bytes hex=", 11);
	for (i = 0; i < m; i++) {
		char h[2] = { hexdig[s[i] >> 4], hexdig[s[i] & 15] };

		jbuf__raw(out, h, 2);
	}
	jbuf__raw(out, "]", 1);
}

/* ---- escape sequences ---- */

/* Bytes of the CSI body from s (after the introducer), final byte included. */
static size_t csi_len(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= 0x20 && s[i] <= 0x3f)
		i++;
	if (i < n && s[i] >= 0x40 && s[i] <= 0x7e)
		i++;
	return i;
}

/*
 * Bytes of an OSC/DCS/SOS/PM/APC string body up to and including its
 * terminator (BEL, ESC \, or C1 ST), or 0 when unterminated within
 * STRING_SEQ_MAX: then only the introducer is dropped, so an unterminated
 * string cannot make the rest of a payload vanish from the record.
 */
static size_t string_seq_len(const uint8_t *s, size_t n)
{
	size_t i, lim = n < STRING_SEQ_MAX ? n : STRING_SEQ_MAX;

	for (i = 0; i < lim; i++) {
		if (s[i] == BEL)
			return i + 1;
		if (s[i] == ESC && i + 1 < n && s[i + 1] == '\\')
			return i + 2;
		if (s[i] == 0xc2 && i + 1 < n && s[i + 1] == 0x9c)
			return i + 2;
	}
	return 0;
}

/* Bytes of the sequence introduced by ESC at s[0] (ESC included). */
static size_t esc_seq_len(const uint8_t *s, size_t n)
{
	uint8_t c;
	size_t i;

	if (n < 2)
		return 1;
	c = s[1];
	if (c == '[')
		return 2 + csi_len(s + 2, n - 2);
	if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_')
		return 2 + string_seq_len(s + 2, n - 2);
	if (c >= 0x20 && c <= 0x2f) {	/* nF: intermediates, then a final byte */
		for (i = 1; i < n && s[i] >= 0x20 && s[i] <= 0x2f; i++)
			;
		return i < n && s[i] >= 0x30 && s[i] <= 0x7e ? i + 1 : i;
	}
	if (c >= 0x30 && c <= 0x7e)	/* Fp, Fe, Fs: one character */
		return 2;
	return 1;
}

/* Bytes of a C1 sequence in UTF-8 form (0xc2 0x9b CSI, 0xc2 0x9d OSC...), or 0. */
static size_t c1_seq_len(const uint8_t *s, size_t n)
{
	if (n < 2 || s[0] != 0xc2)
		return 0;
	switch (s[1]) {
	case 0x9b:
		return 2 + csi_len(s + 2, n - 2);
	case 0x9d: case 0x90: case 0x98: case 0x9e: case 0x9f:
		return 2 + string_seq_len(s + 2, n - 2);
	}
	return 0;
}

/* The next byte that may start a sequence (ESC, or 0xc2 of a C1 control), or n. */
static size_t next_intro(const uint8_t *s, size_t i, size_t n)
{
	const uint8_t *e = memchr(s + i, ESC, n - i);
	const uint8_t *c = memchr(s + i, 0xc2, (e ? (size_t)(e - s) : n) - i);

	return c ? (size_t)(c - s) : e ? (size_t)(e - s) : n;
}

size_t sanitize__strip(uint8_t *out, size_t cap, const uint8_t *s, size_t n, size_t *consumed)
{
	size_t i = 0, o = 0, run, k;

	while (i < n && o < cap) {
		/* the common case: no sequence at all, one copy (memchr is vectorised) */
		run = next_intro(s, i, n) - i;
		if (run > cap - o)
			run = cap - o;
		memcpy(out + o, s + i, run);
		i += run, o += run;
		if (i >= n || o >= cap)
			break;
		k = s[i] == ESC ? esc_seq_len(s + i, n - i) : c1_seq_len(s + i, n - i);
		if (k) {
			i += k;
			continue;
		}
		out[o++] = s[i++];	/* 0xc2 of an ordinary character */
	}
	*consumed = i;
	return o;
}

/* ---- escaping ---- */

static void put_byte_esc(struct jbuf *out, uint8_t c)
{
	char e[4] = { '\\', 'x', hexdig[c >> 4], hexdig[c & 15] };

	jbuf__raw(out, e, 4);
}

/* \uXXXX, or \UXXXXXXXX above the BMP. */
static size_t cp_esc(char *e, uint32_t cp)
{
	int digits = cp > 0xffff ? 8 : 4, i;

	e[0] = '\\';
	e[1] = cp > 0xffff ? 'U' : 'u';
	for (i = 0; i < digits; i++)
		e[2 + i] = hexdig[(cp >> (4 * (digits - 1 - i))) & 15];
	return 2 + (size_t)digits;
}

static bool plain(uint8_t c)
{
	return (c >= 0x20 && c < 0x7f) || c == '\t';
}

size_t sanitize__escape(struct jbuf *out, const uint8_t *s, size_t n, size_t limit)
{
	size_t i = 0, start, k;
	uint32_t cp;
	char e[10];

	while (i < n) {
		size_t room = limit > out->len ? limit - out->len : 0;

		start = i;
		while (i < n && i - start < room) {
			/* printable ASCII a word at a time, then one byte at a time */
			i += ascii_printable_words(s + i, n - i < room - (i - start) ?
							      n - i : room - (i - start));
			if (i >= n || i - start >= room)
				break;
			if (plain(s[i]))
				i++;
			else if (s[i] >= 0x80 && (k = utf8_decode(s + i, n - i, &cp)) &&
				 !cp_invisible(cp) && i - start + k <= room)
				i += k;
			else
				break;
		}
		jbuf__raw(out, (const char *)s + start, i - start);
		if (i >= n || out->oom)
			break;
		room = limit > out->len ? limit - out->len : 0;
		if (s[i] >= 0x80 && (k = utf8_decode(s + i, n - i, &cp))) {
			size_t el = cp_invisible(cp) ? cp_esc(e, cp) : k;

			if (el > room)
				break;
			if (cp_invisible(cp))
				jbuf__raw(out, e, el);
			else
				jbuf__raw(out, (const char *)s + i, k);
			i += k;
		} else {
			if (room < 4)
				break;
			put_byte_esc(out, s[i++]);
		}
	}
	return i;
}

bool sanitize__is_safe(const uint8_t *s, size_t n)
{
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		if (plain(s[i])) {
			i++;
		} else if (s[i] >= 0x80 && (k = utf8_decode(s + i, n - i, &cp)) &&
			   !cp_invisible(cp)) {
			i += k;
		} else {
			return false;
		}
	}
	return true;
}

/* Length of the [REDACTED:kind] marker at s, or 0 when it is not closed. */
static size_t marker_len(const uint8_t *s, size_t n)
{
	const uint8_t *end = memchr(s, ']', n);

	return end ? (size_t)(end - s) + 1 : 0;
}

/* Start of an escape (\xNN, \uXXXX, \UXXXXXXXX) or marker that covers pos, or pos. */
static size_t unit_start(const uint8_t *s, size_t len, size_t pos)
{
	size_t back = pos > 24 ? pos - 24 : 0, i;

	for (i = pos; i-- > back;) {
		size_t el = 0;

		if (s[i] == '\\' && i + 1 < len)
			el = s[i + 1] == 'x' ? 4 : s[i + 1] == 'u' ? 6 : s[i + 1] == 'U' ? 10 : 0;
		else if (s[i] == '[' && len - i > 10 && !memcmp(s + i, "[REDACTED:", 10))
			el = marker_len(s + i, len - i);
		if (el && i + el > pos)
			return i;
	}
	while (pos > 0 && pos < len && (s[pos] & 0xc0) == 0x80)
		pos--;
	return pos;
}

void sanitize__cut(struct jbuf *jb, size_t max)
{
	size_t keep;

	if (jb->len <= max || jb->oom)
		return;
	keep = max > SANITIZE_TRUNC_MARK_LEN ? max - SANITIZE_TRUNC_MARK_LEN : 0;
	keep = unit_start((const uint8_t *)jb->buf, jb->len, keep);
	jb->len = keep;
	jbuf__raw(jb, SANITIZE_TRUNC_MARK, SANITIZE_TRUNC_MARK_LEN);
}
