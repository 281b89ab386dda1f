/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Shared by the formatters (format_*.c), not by their callers: the
 * prepared exchange every format renders from, and small helpers.
 *
 * format__prepare() makes every text of an exchange safe once: sanitized
 * (sanitize.h) and, for payload-bearing fields, redacted (redact.h). A
 * renderer then writes the record with its own escaping only. If the
 * record comes out longer than max_message_length, format__render() cuts
 * the longest texts of a copy, marks them "...[truncated]" and renders again.
 */
#ifndef SOCKAUDIT_FORMAT_INT_H
#define SOCKAUDIT_FORMAT_INT_H

#include <stddef.h>
#include "format.h"
#include "redact.h"
#include "sanitize.h"

enum prep_field {
	PF_COMM = 0, PF_EXE, PF_LOCAL, PF_PEER,
	PF_METHOD, PF_TARGET, PF_HOST, PF_REQ_CTYPE, PF_REQ_BODY,
	PF_REASON, PF_RESP_CTYPE, PF_RESP_BODY,
	PF_RPC_METHOD, PF_RPC_ID, PF_RPC_TOOL, PF_RPC_ERRMSG,	/* JSON-RPC, when any */
	PF_RPC_URI,
	/* MCP identity (exchange.mcp), when any */
	PF_MCP_PROTO, PF_MCP_CLIENT, PF_MCP_CLIENT_VER, PF_MCP_SERVER, PF_MCP_SERVER_VER,
	PF_MCP_SESSION, PF_MCP_METHOD_HDR, PF_MCP_NAME_HDR, PF_MCP_TRACE,
	PF_MAX,
};

_Static_assert(PF_MAX < 32, "struct prep's used mask has a bit per field");

struct prep {
	uint64_t seq;
	int64_t off;			/* event clock to wall clock, ns */
	const struct exchange *x;
	const struct message *req, *resp;	/* NULL when that side is missing */
	const struct rpc_msg *rpc_req, *rpc_resp; /* JSON-RPC facts of each side, or NULL */
	const struct proc_info *pi;
	const struct redactor *r;
	uint64_t rid;			/* redactor__id(r), 0 without one */
	/*
	 * The safe texts, NUL-terminated, "" when absent: each made here (in
	 * f[], its storage) or, when it needs no work, the memo's or the
	 * connection's own bytes, not copied. Valid until the next prepare.
	 */
	const char *s[PF_MAX];
	size_t n[PF_MAX];
	struct jbuf f[PF_MAX];
	size_t text;			/* the sum of n[]: the record's texts before escaping */
	uint32_t used;			/* bit f: s[f] set since the last reset */
	uint32_t owned;			/* bit f: s[f] is in f[f] */
	uint32_t plain;			/* bit f: s[f] is ascii_json_plain_all (as "" is) */
	/*
	 * bit f: js[f], jn[f] bytes, is text f as a JSON string value, quotes
	 * included: a remembered text that is not plain is quoted once, when
	 * remembered, not for every record (json_lines is the default format).
	 */
	uint32_t json;
	const char *js[PF_MAX];
	uint32_t jn[PF_MAX];
	int kind[2];			/* payload kind of the request, response body */
	struct redact_hits hits;
	bool critical;			/* as the caller of format__prepare decided */
	bool truncated;			/* a text was cut for max_message_length */
	bool redact_failed;		/* a text was withheld because the scan failed */
};

static inline const char *prep__s(const struct prep *p, int f)
{
	return p->s[f];
}

static inline size_t prep__n(const struct prep *p, int f)
{
	return p->n[f];
}

/* Text f needs no escaping in JSON (nor a check for it): printable ASCII but '"' and '\\'. */
static inline bool prep__plain(const struct prep *p, int f)
{
	return p->plain >> f & 1;
}

/* Text f as a JSON string value, quotes included, when known (prep.json); NULL when not. */
static inline const char *prep__json(const struct prep *p, int f, size_t *len)
{
	if (!(p->json >> f & 1))
		return NULL;
	*len = p->jn[f];
	return p->js[f];
}

/* Critical: what the caller passed (auth failure, JSON-RPC error), or a secret redacted from it. */
static inline bool prep__critical(const struct prep *p)
{
	return p->critical || p->hits.mask;	/* a secret was seen */
}

/*
 * The longest of our own names a record writes unescaped (role, transport,
 * proto, outcome, payload kind, JSON-RPC error class and direction): the
 * JSON record's fixed room counts each as this long. test_format_all checks them.
 */
#define FORMAT_NAME_MAX 24

/* "tcp", "unix", "pipe" */
const char *prep__transport(const struct prep *p);

/* A field of a non-exchange record made safe (sanitized, bounded); valid until the next call. */
const char *format__safe_cstr(const char *s, size_t *len);

/*
 * The value of a non-exchange record's field as text: strings sanitized
 * (valid until the next call), numbers in decimal into num, booleans as
 * true/false. For the text formats, which write every value the same way.
 */
const char *format__field_text(const struct format_field *f, char num[24], size_t *len);

/* RFC 3339 UTC; frac_digits 9 (ns) or 6 (us, RFC 5424). Returns the length written. */
size_t format__ts_text(char out[40], uint64_t real_ns, int frac_digits);

/* This host's name (o->hostname, or gethostname once), never NULL. */
const char *format__hostname(const struct format_opts *o);

/* Names of the rules that fired, comma-separated, into out. */
void format__redactions_csv(struct jbuf *out, const struct prep *p, const char *sep);

/* "u64" as decimal text appended raw. */
void format__u64(struct jbuf *jb, uint64_t v);

/* Milliseconds with 3 decimals, as jbuf__ms writes them, appended raw. */
void format__ms(struct jbuf *jb, uint64_t ns);

/* Duration of a paired exchange in ns, 0 when one-sided. */
static inline uint64_t prep__duration_ns(const struct prep *p)
{
	if (!p->req || !p->resp || p->resp->ts_last_ns <= p->req->ts_first_ns)
		return 0;
	return p->resp->ts_last_ns - p->req->ts_first_ns;
}

/*
 * 0-10 (CEF scale): 3 for a normal exchange, 5 for a server error or a
 * one-sided exchange (no response, closed, incomplete...), 8 for a
 * critical one (authentication refused), 9 when a text had to be withheld.
 */
int prep__severity(const struct prep *p);

const char *prep__role(const struct prep *p);
const char *prep__proto(const struct prep *p);

/* A connection endpoint "addr:port" split at its last ':' (unix paths: no port). */
void format__split_endpoint(const char *ep, char *addr, size_t alen, uint32_t *port);

extern const struct formatter format_json_lines, format_cef, format_syslog, format_line,
	format_csv;

#endif /* SOCKAUDIT_FORMAT_INT_H */
