/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Output formats, one interface, chosen by a sink's `type`:
 * json_lines (default), cef, syslog, line, csv.
 *
 * Every formatter renders from the same prepared exchange (format.c):
 * its texts sanitized (sanitize.h) and redacted (redact.h) by
 * format__prepare, once per exchange for each distinct pair of
 * max_message_length and redactor, however many formats render it; a
 * formatter applies only its own escaping. Each call appends exactly one
 * record, newline included, to a jbuf (json.h is a growable byte buffer;
 * non-JSON formats write through jbuf__raw).
 *
 * Usage (the output stage):
 *	struct format_prep *fp = format_prep__new();
 *	format__prepare(fp, &fo, seq, x, pi, mono_to_real, exchange__critical(x));
 *	critical = rule || format_prep__critical(fp);
 *	format__render(f, &jb, &fo, fp);	(for each format of that prep)
 *	f->event(&jb, &fo, seq, real_ns, "rotate", fields, nfields);
 */
#ifndef SOCKAUDIT_FORMAT_H
#define SOCKAUDIT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "correlate.h"
#include "json.h"
#include "proc.h"

struct redactor;
struct prep;		/* format_int.h: the formatters' view of a prepared exchange */

#define FORMAT_MAX_MESSAGE_DEFAULT	10000u	/* bytes per serialized record */
#define FORMAT_MAX_MESSAGE_MIN		2048u	/* below this a record skeleton may not fit */

/* Per-sink options; zero-initialized means defaults. */
struct format_opts {
	uint32_t max_message_length;	/* sink config max_message_length; 0: default */
	const struct redactor *redactor; /* NULL: the built-in default rules */
	const char *hostname;		/* syslog HOSTNAME, CEF dvchost; NULL: gethostname */
	const char *app_name;		/* syslog APP-NAME; NULL: "sockaudit" */
};

/* One member of a non-exchange record (loss, collector_start, rotate...). */
enum format_field_kind { FF_STR, FF_U64, FF_I64, FF_BOOL };

struct format_field {
	const char *key;		/* identifier characters only */
	enum format_field_kind kind;
	union {
		const char *s;		/* FF_STR: NUL-terminated, sanitized here */
		uint64_t u;
		int64_t i;
		bool b;
	};
};

struct formatter {
	const char *type;		/* the sink `type` that selects it */
	/* Append one exchange record made from prepared texts (format__render calls it). */
	void (*render)(struct jbuf *jb, const struct prep *p, const struct format_opts *o);
	/* One record of another type (`type` names it: "loss", "rotate", ...). */
	int (*event)(struct jbuf *jb, const struct format_opts *o, uint64_t seq,
		     uint64_t real_ns, const char *type, const struct format_field *f,
		     size_t nf);
	/*
	 * True when a record on a stream transport must be framed (syslog:
	 * RFC 6587 octet counting, see format__frame_octets).
	 */
	bool stream_framed;
	/* A line to write at the top of each new file (csv: the columns), or NULL. */
	const char *file_header;
};

/* The formatter for a sink type, or NULL when the type is unknown. */
const struct formatter *formatter__find(const char *type);

/*
 * An exchange prepared for rendering: its texts made safe once, for one
 * max_message_length and one redactor. Owned by its caller (one per
 * distinct pair of options); reused from exchange to exchange, so a record
 * costs no allocation once its buffers have grown.
 */
struct format_prep;

struct format_prep *format_prep__new(void);
void format_prep__free(struct format_prep *fp);

/*
 * Make every text of x safe for o (sanitized, redacted, bounded by
 * o->max_message_length). critical: what the caller decided (an auth
 * failure, a JSON-RPC error); a secret seen while redacting adds to it.
 * 0, or -ENOMEM.
 */
int format__prepare(struct format_prep *fp, const struct format_opts *o, uint64_t seq,
		    const struct exchange *x, const struct proc_info *pi, int64_t mono_to_real,
		    bool critical);

/* The critical flag passed to format__prepare, or a secret was redacted from the exchange. */
bool format_prep__critical(const struct format_prep *fp);

/*
 * Append fp's exchange as one record of format f, cut to
 * o->max_message_length (o: the options fp was prepared with). fp is not
 * changed: a record that must be cut is cut in a copy. 0, or -ENOMEM.
 */
int format__render(const struct formatter *f, struct jbuf *jb, const struct format_opts *o,
		   const struct format_prep *fp);

/*
 * prepare + render for a caller with one format (tests, benchmarks), on
 * this thread's own prep; critical as exchange__critical(x) says.
 */
int format__exchange_once(const struct formatter *f, struct jbuf *jb,
			  const struct format_opts *o, uint64_t seq, const struct exchange *x,
			  const struct proc_info *pi, int64_t mono_to_real);

/* Names of every format, NULL-terminated (for error messages and help). */
extern const char *const format_types[];

/*
 * RFC 6587 octet-counting: replace the record that starts at jb->buf[start]
 * (ending in '\n') with "LEN SP MSG", newline dropped. For syslog over TCP.
 */
void format__frame_octets(struct jbuf *jb, size_t start);

/*
 * Free the calling thread's formatting scratch (every formatter keeps
 * per-thread buffers): a thread that formatted records calls it before it
 * exits, or the buffers are lost with the thread.
 */
void format__thread_free(void);

#endif /* SOCKAUDIT_FORMAT_H */
