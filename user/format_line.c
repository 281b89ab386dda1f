// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One human-readable line per record, safe to print on a terminal:
 *	TS exchange seq=N pid=P comm="nginx" peer=.. local=.. GET "/x" -> 200 ok 0.143ms ...
 * logfmt-style key=value; text values are quoted with '"' and '\' escaped
 * by a backslash (this format's only escaping). The texts themselves are
 * already sanitized: no escape sequence, no CR/LF, no bidi control.
 */
#include <errno.h>
#include <string.h>

#include "format_int.h"

static void put_quoted(struct jbuf *jb, const char *s, size_t n)
{
	size_t i, start = 0;

	jbuf__raw(jb, "\"", 1);
	for (i = 0; i < n; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		jbuf__raw(jb, s + start, i - start);
		jbuf__raw(jb, "\\", 1);
		start = i;
	}
	jbuf__raw(jb, s + start, n - start);
	jbuf__raw(jb, "\"", 1);
}

static void kv_text(struct jbuf *jb, const char *key, const char *v, size_t n)
{
	jbuf__raw(jb, " ", 1);
	jbuf__raw(jb, key, strlen(key));
	jbuf__raw(jb, "=", 1);
	put_quoted(jb, v, n);
}

static void kv_u64(struct jbuf *jb, const char *key, uint64_t v)
{
	jbuf__raw(jb, " ", 1);
	jbuf__raw(jb, key, strlen(key));
	jbuf__raw(jb, "=", 1);
	format__u64(jb, v);
}

/* A bare word: identifiers and numbers we generate, never payload text. */
static void kv_word(struct jbuf *jb, const char *key, const char *v)
{
	jbuf__raw(jb, " ", 1);
	jbuf__raw(jb, key, strlen(key));
	jbuf__raw(jb, "=", 1);
	jbuf__raw(jb, v, strlen(v));
}

static void kv_field(struct jbuf *jb, const struct prep *p, const char *key, int f)
{
	if (prep__n(p, f))
		kv_text(jb, key, prep__s(p, f), prep__n(p, f));
}

static void put_ts(struct jbuf *jb, uint64_t real_ns)
{
	char ts[40];

	jbuf__raw(jb, ts, format__ts_text(ts, real_ns, 9));
}

static void render_line(struct jbuf *jb, const struct prep *p, const struct format_opts *o)
{
	uint64_t ts = p->req ? p->req->ts_first_ns : p->resp->ts_first_ns;

	put_ts(jb, ts + (uint64_t)p->off);
	jbuf__raw(jb, " exchange", 9);
	kv_u64(jb, "seq", p->seq);
	kv_u64(jb, "pid", p->x->conn->tgid);
	kv_field(jb, p, "comm", PF_COMM);
	kv_word(jb, "role", prep__role(p));
	kv_word(jb, "proto", prep__proto(p));
	kv_word(jb, "tls", p->x->conn->tls ? "true" : "false");
	kv_field(jb, p, "peer", PF_PEER);
	kv_field(jb, p, "local", PF_LOCAL);
	kv_word(jb, "outcome", outcome__name(p->x->outcome));
	if (prep__critical(p))
		kv_word(jb, "critical", "true");
	if (p->req && p->resp) {
		jbuf__raw(jb, " duration_ms=", 13);
		format__ms(jb, prep__duration_ns(p));
	}
	if (p->req) {
		kv_field(jb, p, "method", PF_METHOD);
		kv_field(jb, p, "target", PF_TARGET);
		kv_u64(jb, "req_bytes", p->req->wire_bytes);
		if (p->req->malformed)
			kv_word(jb, "req_malformed", p->req->malformed);
	}
	if (p->resp) {
		kv_u64(jb, "status", (uint64_t)msg_http(p->resp)->status);
		kv_u64(jb, "resp_bytes", p->resp->wire_bytes);
		if (p->resp->malformed)
			kv_word(jb, "resp_malformed", p->resp->malformed);
	}
	kv_field(jb, p, "req_body", PF_REQ_BODY);
	kv_field(jb, p, "resp_body", PF_RESP_BODY);
	if (p->hits.mask) {
		jbuf__raw(jb, " redactions=", 12);
		format__redactions_csv(jb, p, ",");
	}
	if (p->truncated)
		kv_word(jb, "truncated", "true");
	jbuf__raw(jb, "\n", 1);
}

static int line_event(struct jbuf *jb, const struct format_opts *o, uint64_t seq,
		      uint64_t real_ns, const char *type, const struct format_field *f, size_t nf)
{
	size_t i, len;
	char num[24];
	const char *s = format__safe_cstr(type, &len);

	put_ts(jb, real_ns);
	jbuf__raw(jb, " ", 1);
	put_quoted(jb, s, len);
	kv_u64(jb, "seq", seq);
	for (i = 0; i < nf; i++) {
		s = format__field_text(&f[i], num, &len);
		if (f[i].kind == FF_STR) {
			kv_text(jb, f[i].key, s, len);
		} else {	/* numbers and booleans: bare words */
			kv_word(jb, f[i].key, "");
			jbuf__raw(jb, s, len);
		}
	}
	jbuf__raw(jb, "\n", 1);
	return jb->oom ? -ENOMEM : 0;
}

const struct formatter format_line = {
	.type = "line",
	.render = render_line,
	.event = line_event,
};
