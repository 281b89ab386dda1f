// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * CSV (RFC 4180): one record per line, fixed columns (CSV_COLUMNS, written
 * once at the top of each file by the sink). Text fields are always quoted
 * with '"' doubled — this format's only escaping. A text that starts with
 * = + - @ or a tab would be run as a formula by spreadsheet programs (CSV
 * injection, OWASP): it gets a leading apostrophe. Other record types use
 * seq, ts, type and put their members in `details` as key=value;...
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "format_int.h"

#define CSV_COLUMNS "seq,ts,type,pid,comm,exe,uid,conn,role,local,peer,proto,outcome," \
		    "critical,duration_ms,method,target,host,status,req_bytes,resp_bytes," \
		    "req_body,resp_body,redactions,truncated,details"
#define CSV_NCOLS 26

static bool formula_start(char c)
{
	return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

static void put_quoted(struct jbuf *jb, const char *s, size_t n)
{
	size_t i, start = 0;

	jbuf__raw(jb, "\"", 1);
	if (n && formula_start(s[0]))
		jbuf__raw(jb, "'", 1);
	for (i = 0; i < n; i++) {
		if (s[i] != '"')
			continue;
		jbuf__raw(jb, s + start, i + 1 - start);	/* the quote, then its double */
		start = i;
	}
	jbuf__raw(jb, s + start, n - start);
	jbuf__raw(jb, "\"", 1);
}

static void col_text(struct jbuf *jb, const char *s, size_t n)
{
	jbuf__raw(jb, ",", 1);
	put_quoted(jb, s, n);
}

static void col_field(struct jbuf *jb, const struct prep *p, int f)
{
	col_text(jb, prep__s(p, f), prep__n(p, f));
}

static void col_u64(struct jbuf *jb, uint64_t v)
{
	jbuf__raw(jb, ",", 1);
	format__u64(jb, v);
}

static void col_word(struct jbuf *jb, const char *w)
{
	jbuf__raw(jb, ",", 1);
	jbuf__raw(jb, w, strlen(w));
}

/* seq,ts — the type column follows. */
static void put_head(struct jbuf *jb, uint64_t seq, uint64_t real_ns)
{
	char ts[40];

	format__u64(jb, seq);
	jbuf__raw(jb, ",", 1);
	jbuf__raw(jb, ts, format__ts_text(ts, real_ns, 9));
}

/*
 * details of an exchange: "tls=true" when made from TLS plaintext, and why
 * a side is not strict, "req_malformed=...;resp_malformed=..."
 */
static void malformed_details(struct jbuf *jb, const struct prep *p)
{
	const char *rq = p->req ? p->req->malformed : NULL;
	const char *rs = p->resp ? p->resp->malformed : NULL;
	bool tls = p->x->conn->tls;
	char v[160];
	int n;

	jbuf__raw(jb, ",", 1);
	if (!rq && !rs && !tls)
		return;
	n = snprintf(v, sizeof(v), "%s%s%s%s%s%s%s", tls ? "tls=true" : "",
		     tls && (rq || rs) ? ";" : "", rq ? "req_malformed=" : "", rq ? rq : "",
		     rq && rs ? ";" : "", rs ? "resp_malformed=" : "", rs ? rs : "");
	put_quoted(jb, v, n > 0 && (size_t)n < sizeof(v) ? (size_t)n : 0);
}

static void render_csv(struct jbuf *jb, const struct prep *p, const struct format_opts *o)
{
	uint64_t ts = p->req ? p->req->ts_first_ns : p->resp->ts_first_ns;

	put_head(jb, p->seq, ts + (uint64_t)p->off);
	col_word(jb, "exchange");
	col_u64(jb, p->x->conn->tgid);
	col_field(jb, p, PF_COMM);
	col_field(jb, p, PF_EXE);
	col_u64(jb, p->x->conn->uid);
	col_word(jb, p->x->conn->names.id);
	col_word(jb, prep__role(p));
	col_field(jb, p, PF_LOCAL);
	col_field(jb, p, PF_PEER);
	col_word(jb, prep__proto(p));
	col_word(jb, outcome__name(p->x->outcome));
	col_word(jb, prep__critical(p) ? "true" : "false");
	jbuf__raw(jb, ",", 1);
	if (p->req && p->resp)
		format__ms(jb, prep__duration_ns(p));
	col_field(jb, p, PF_METHOD);
	col_field(jb, p, PF_TARGET);
	col_field(jb, p, PF_HOST);
	jbuf__raw(jb, ",", 1);
	if (p->resp)
		format__u64(jb, (uint64_t)msg_http(p->resp)->status);
	jbuf__raw(jb, ",", 1);
	if (p->req)
		format__u64(jb, p->req->wire_bytes);
	jbuf__raw(jb, ",", 1);
	if (p->resp)
		format__u64(jb, p->resp->wire_bytes);
	col_field(jb, p, PF_REQ_BODY);
	col_field(jb, p, PF_RESP_BODY);
	jbuf__raw(jb, ",", 1);
	format__redactions_csv(jb, p, ";");
	col_word(jb, p->truncated ? "true" : "false");
	malformed_details(jb, p);
	jbuf__raw(jb, "\n", 1);
}

/* details: key=value;... built as text, then quoted once as one field. */
static void put_details(struct jbuf *jb, const struct format_field *f, size_t nf)
{
	struct jbuf d;
	size_t i, len;
	char num[24];
	const char *s;

	jbuf__init(&d);
	for (i = 0; i < nf; i++) {
		if (i)
			jbuf__raw(&d, ";", 1);
		jbuf__raw(&d, f[i].key, strlen(f[i].key));
		jbuf__raw(&d, "=", 1);
		s = format__field_text(&f[i], num, &len);
		jbuf__raw(&d, s, len);
	}
	if (d.oom)
		jb->oom = true;
	col_text(jb, d.buf ? d.buf : "", d.len);
	jbuf__free(&d);
}

static int csv_event(struct jbuf *jb, const struct format_opts *o, uint64_t seq,
		     uint64_t real_ns, const char *type, const struct format_field *f, size_t nf)
{
	size_t len, i;
	const char *s = format__safe_cstr(type, &len);

	put_head(jb, seq, real_ns);
	col_text(jb, s, len);
	for (i = 3; i < CSV_NCOLS - 1; i++)
		jbuf__raw(jb, ",", 1);
	put_details(jb, f, nf);
	jbuf__raw(jb, "\n", 1);
	return jb->oom ? -ENOMEM : 0;
}

const struct formatter format_csv = {
	.type = "csv",
	.render = render_csv,
	.event = csv_event,
	.file_header = CSV_COLUMNS "\n",
};
