/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Payload excerpts made safe, in one place. The output of the sanitizer is
 * "safe text": valid UTF-8 with no control byte other than tab, no raw CR
 * or LF, no terminal escape sequence, no bidi or invisible format
 * character. What cannot be kept is written as visible text (\xNN for a
 * byte, \uXXXX for a code point); a formatter then applies only its own
 * escaping, so nothing is escaped twice.
 *
 * Two passes, because redaction (redact.h) sits between them: it must see
 * the payload with escape sequences removed (so "Bearer\e[0m tok" is still
 * found) but with CR/LF still raw (so header names start at a boundary).
 *	sanitize__strip()  - drop ANSI/VT sequences, bounded copy
 *	redactor__redact() - replace secrets with [REDACTED:kind]
 *	sanitize__escape() - escape what is left, bounded output
 */
#ifndef SOCKAUDIT_SANITIZE_H
#define SOCKAUDIT_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "json.h"

#define SANITIZE_TRUNC_MARK	"...[truncated]"
#define SANITIZE_TRUNC_MARK_LEN	(sizeof(SANITIZE_TRUNC_MARK) - 1)
#define SANITIZE_PREFIX_BYTES	16	/* bytes of a binary payload shown in hex */
#define SANITIZE_PREVIEW_TEXT	4	/* letters and digits among them that stop the preview */

enum payload_kind {
	PK_TEXT = 0,
	PK_GZIP, PK_ZSTD, PK_ZLIB, PK_BZIP2, PK_XZ, PK_ZIP,
	PK_PNG, PK_JPEG, PK_GIF, PK_WEBP, PK_PDF,
	PK_PROTOBUF, PK_GRPC, PK_BINARY,
	PK_MAX,
};

const char *sanitize__kind_name(int kind);

/*
 * What a payload is, from its first bytes and the declared content type
 * (may be NULL or ""): PK_TEXT unless it is recognisably binary (magic
 * numbers, binary content types, or mostly bytes that are not text).
 */
int sanitize__detect(const uint8_t *s, size_t n, const char *content_type);

/*
 * "[binary gzip 1234 bytes hex=1f8b0800...]": length, kind and the first
 * SANITIZE_PREFIX_BYTES in hex, appended to out (already safe text). The
 * hex preview is left out ("[binary binary 1234 bytes]") when those bytes
 * hold text (SANITIZE_PREVIEW_TEXT letters or digits): hex would carry it
 * past redaction.
 */
void sanitize__binary_summary(struct jbuf *out, int kind, const uint8_t *s, size_t n,
			      uint64_t total_bytes);

/*
 * Copy s to out without ANSI/VT escape sequences (CSI, OSC/DCS/APC/PM/SOS
 * strings, single-character ESC forms, C1 CSI/OSC in UTF-8). Writes at most
 * cap bytes; returns the bytes written and sets *consumed to the input
 * bytes read (< n when cap stopped it).
 */
size_t sanitize__strip(uint8_t *out, size_t cap, const uint8_t *s, size_t n, size_t *consumed);

/*
 * Append s as safe text to out, stopping before out->len would pass limit.
 * Returns the input bytes consumed (< n when cut).
 */
size_t sanitize__escape(struct jbuf *out, const uint8_t *s, size_t n, size_t limit);

/* True when s is safe text (what sanitize__escape produces). For tests and fuzzers. */
bool sanitize__is_safe(const uint8_t *s, size_t n);

/*
 * Cut the safe text in jb to at most max bytes, mark included, at a
 * boundary that splits no UTF-8 sequence, no \xNN/\uXXXX escape and no
 * [REDACTED:kind] marker, and end it with SANITIZE_TRUNC_MARK.
 */
void sanitize__cut(struct jbuf *jb, size_t max);

#endif /* SOCKAUDIT_SANITIZE_H */
