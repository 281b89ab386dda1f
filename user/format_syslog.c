// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * RFC 5424 syslog with structured data:
 *	<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID PARAM="VALUE"...] MSG
 * Facility 13 (log audit). PARAM-VALUE escapes '"', '\' and ']' (RFC 5424
 * 6.3.3); SD-NAMEs keep only their alphabet (printable US-ASCII without
 * '=', ' ', ']', '"', at most 32); empty header fields are the NILVALUE
 * '-'; TIMESTAMP has microseconds (TIME-SECFRAC is at most 6 digits). On a
 * stream the sink frames each record with format__frame_octets (RFC 6587).
 * The SD-ID uses the documentation enterprise number 32473 (RFC 5612).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "format_int.h"

#define FACILITY_LOG_AUDIT 13
#define SD_ID "sockaudit@32473"
#define SD_NAME_MAX 32

static bool sd_name_char(char c)
{
	return c > 32 && c < 127 && c != '=' && c != ']' && c != '"';
}

/* A header field: printable US-ASCII only (others become '_'), '-' when empty. */
static void put_header_field(struct jbuf *jb, const char *s, size_t max)
{
	size_t i, n = s ? strnlen(s, max) : 0;

	if (!n) {
		jbuf__raw(jb, "-", 1);
		return;
	}
	for (i = 0; i < n; i++) {
		char c = s[i] > 32 && s[i] < 127 ? s[i] : '_';

		jbuf__raw(jb, &c, 1);
	}
}

static void put_param_name(struct jbuf *jb, const char *key)
{
	size_t i, n = 0;

	for (i = 0; key[i] && n < SD_NAME_MAX; i++)
		if (sd_name_char(key[i])) {
			jbuf__raw(jb, &key[i], 1);
			n++;
		}
	if (!n)
		jbuf__raw(jb, "_", 1);
}

static void put_param_value(struct jbuf *jb, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '"' && s[i] != '\\' && s[i] != ']')
			continue;
		jbuf__raw(jb, s + start, i - start);
		jbuf__raw(jb, "\\", 1);
		start = i;
	}
	jbuf__raw(jb, s + start, n - start);
}

static void param(struct jbuf *jb, const char *key, const char *v, size_t n)
{
	jbuf__raw(jb, " ", 1);
	put_param_name(jb, key);
	jbuf__raw(jb, "=\"", 2);
	put_param_value(jb, v, n);
	jbuf__raw(jb, "\"", 1);
}

static void param_cstr(struct jbuf *jb, const char *key, const char *v)
{
	param(jb, key, v, strlen(v));
}

static void param_u64(struct jbuf *jb, const char *key, uint64_t v)
{
	jbuf__raw(jb, " ", 1);
	put_param_name(jb, key);
	jbuf__raw(jb, "=\"", 2);
	format__u64(jb, v);
	jbuf__raw(jb, "\"", 1);
}

static void param_text(struct jbuf *jb, const struct prep *p, const char *key, int f)
{
	if (prep__n(p, f))
		param(jb, key, prep__s(p, f), prep__n(p, f));
}

/* Syslog severity from the 0-10 scale: info, notice, warning, error. */
static int syslog_severity(int sev)
{
	return sev >= 9 ? 3 : sev >= 8 ? 4 : sev >= 5 ? 5 : 6;
}

static void header(struct jbuf *jb, const struct format_opts *o, int sev, uint64_t real_ns,
		   const char *msgid)
{
	char ts[40];

	jbuf__raw(jb, "<", 1);
	format__u64(jb, FACILITY_LOG_AUDIT * 8 + (uint64_t)syslog_severity(sev));
	jbuf__raw(jb, ">1 ", 3);
	jbuf__raw(jb, ts, format__ts_text(ts, real_ns, 6));
	jbuf__raw(jb, " ", 1);
	put_header_field(jb, format__hostname(o), 255);
	jbuf__raw(jb, " ", 1);
	put_header_field(jb, o && o->app_name ? o->app_name : "sockaudit", 48);
	jbuf__raw(jb, " ", 1);
	format__u64(jb, (uint64_t)getpid());
	jbuf__raw(jb, " ", 1);
	put_header_field(jb, msgid, 32);
	jbuf__raw(jb, " [" SD_ID, 2 + sizeof(SD_ID) - 1);
}

static void sd_exchange(struct jbuf *jb, const struct prep *p)
{
	param_u64(jb, "seq", p->seq);
	param_u64(jb, "pid", p->x->conn->tgid);
	param_text(jb, p, "comm", PF_COMM);
	param_text(jb, p, "exe", PF_EXE);
	param_u64(jb, "uid", p->x->conn->uid);
	param_cstr(jb, "conn", p->x->conn->names.id);
	param_cstr(jb, "role", prep__role(p));
	param_text(jb, p, "local", PF_LOCAL);
	param_text(jb, p, "peer", PF_PEER);
	param_cstr(jb, "proto", prep__proto(p));
	param_cstr(jb, "tls", p->x->conn->tls ? "true" : "false");
	param_cstr(jb, "outcome", outcome__name(p->x->outcome));
	param_cstr(jb, "critical", prep__critical(p) ? "true" : "false");
	param_u64(jb, "duration_us", prep__duration_ns(p) / 1000);
	if (p->req) {
		param_text(jb, p, "method", PF_METHOD);
		param_text(jb, p, "target", PF_TARGET);
		param_text(jb, p, "host", PF_HOST);
		param_u64(jb, "req_bytes", p->req->wire_bytes);
		param_text(jb, p, "req_body", PF_REQ_BODY);
		if (p->req->malformed)
			param_cstr(jb, "req_malformed", p->req->malformed);
	}
	if (p->resp) {
		param_u64(jb, "status", (uint64_t)msg_http(p->resp)->status);
		param_u64(jb, "resp_bytes", p->resp->wire_bytes);
		param_text(jb, p, "resp_body", PF_RESP_BODY);
		if (p->resp->malformed)
			param_cstr(jb, "resp_malformed", p->resp->malformed);
	}
	if (p->hits.mask) {
		jbuf__raw(jb, " redactions=\"", 13);
		format__redactions_csv(jb, p, ",");
		jbuf__raw(jb, "\"", 1);
	}
	if (p->truncated)
		param_cstr(jb, "truncated", "true");
}

/* MSG: one short human line; the texts in it are sanitized and redacted. */
static void msg_exchange(struct jbuf *jb, const struct prep *p)
{
	jbuf__raw(jb, " ", 1);
	if (p->req) {
		jbuf__raw(jb, prep__s(p, PF_METHOD), prep__n(p, PF_METHOD));
		jbuf__raw(jb, " ", 1);
		jbuf__raw(jb, prep__s(p, PF_TARGET), prep__n(p, PF_TARGET));
	} else {
		jbuf__raw(jb, "-", 1);
	}
	jbuf__raw(jb, " -> ", 4);
	if (p->resp)
		format__u64(jb, (uint64_t)msg_http(p->resp)->status);
	else
		jbuf__raw(jb, "-", 1);
	jbuf__raw(jb, " ", 1);
	jbuf__raw(jb, outcome__name(p->x->outcome), strlen(outcome__name(p->x->outcome)));
}

static void render_syslog(struct jbuf *jb, const struct prep *p, const struct format_opts *o)
{
	uint64_t ts = p->req ? p->req->ts_first_ns : p->resp->ts_first_ns;

	header(jb, o, prep__severity(p), ts + (uint64_t)p->off, "exchange");
	sd_exchange(jb, p);
	jbuf__raw(jb, "]", 1);
	msg_exchange(jb, p);
	jbuf__raw(jb, "\n", 1);
}

static void param_field(struct jbuf *jb, const struct format_field *f)
{
	char num[24];
	size_t len;
	const char *s = format__field_text(f, num, &len);

	param(jb, f->key, s, len);
}

static int syslog_event(struct jbuf *jb, const struct format_opts *o, uint64_t seq,
			uint64_t real_ns, const char *type, const struct format_field *f, size_t nf)
{
	size_t i, len;
	const char *t = format__safe_cstr(type, &len);
	char msgid[33];

	snprintf(msgid, sizeof(msgid), "%.*s", (int)len, t);
	header(jb, o, strcmp(type, "loss") ? 3 : 5, real_ns, msgid);
	param_u64(jb, "seq", seq);
	for (i = 0; i < nf; i++)
		param_field(jb, &f[i]);
	jbuf__raw(jb, "] ", 2);
	jbuf__raw(jb, msgid, strlen(msgid));
	jbuf__raw(jb, "\n", 1);
	return jb->oom ? -ENOMEM : 0;
}

const struct formatter format_syslog = {
	.type = "syslog",
	.render = render_syslog,
	.event = syslog_event,
	.stream_framed = true,
};
