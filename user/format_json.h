/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * JSON Lines records (docs/record-schema.md). Each function appends one
 * whole record, newline included, to a jbuf.
 */
#ifndef SOCKAUDIT_FORMAT_JSON_H
#define SOCKAUDIT_FORMAT_JSON_H

#include <stdint.h>
#include "json.h"

#define RECORD_VERSION 1
#define RECORD_VERSION_TEXT "1"	/* the same, for records written as constant text */

/*
 * The exchange record reserves its room once: its texts escaped at the
 * worst (json_quoted_max), the connection id, the names of unbounded
 * length (malformed reasons, redaction rules), and this for the rest:
 * every constant piece of every member, the quotes of every text, numbers
 * of JSON_U64_MAX digits, timestamps, and our own names of up to
 * FORMAT_NAME_MAX (format_int.h). test_format_all checks a record with
 * every member and the largest numbers against it.
 */
#define RECORD_FIXED_ROOM 2048

/* Open a record: {"v":1,"seq":..,"ts":..,"type":.. — the caller adds members. */
void format__begin(struct jbuf *jb, uint64_t seq, uint64_t real_ns, const char *type);
/* Close the record opened by format__begin and end the line. */
void format__end(struct jbuf *jb);

/* RFC 3339 UTC with nanoseconds, as a JSON string value. */
void format__ts(struct jbuf *jb, uint64_t real_ns);


#endif /* SOCKAUDIT_FORMAT_JSON_H */
