// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ArcSight CEF (Common Event Format, rev 25):
 *	CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|Extension
 * Header fields escape '\' and '|'; extension values escape '\', '=' and
 * line breaks (\n, \r). Texts come sanitized from the prepare step, so no
 * other byte needs care here, and nothing is escaped twice.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "format_int.h"
#include "version.h"

static void put_escaped(struct jbuf *jb, const char *s, size_t n, bool header)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		const char *e = NULL;

		if (s[i] == '\\')
			e = "\\\\";
		else if (header ? s[i] == '|' : s[i] == '=')
			e = header ? "\\|" : "\\=";
		else if (s[i] == '\n')
			e = "\\n";
		else if (s[i] == '\r')
			e = "\\r";
		if (!e)
			continue;
		jbuf__raw(jb, s + start, i - start);
		jbuf__raw(jb, e, 2);
		start = i + 1;
	}
	jbuf__raw(jb, s + start, n - start);
}

/* " key=value", the value escaped for an extension. */
static void ext(struct jbuf *jb, const char *key, const char *v, size_t n)
{
	jbuf__raw(jb, " ", 1);
	jbuf__raw(jb, key, strlen(key));
	jbuf__raw(jb, "=", 1);
	put_escaped(jb, v, n, false);
}

static void ext_cstr(struct jbuf *jb, const char *key, const char *v)
{
	ext(jb, key, v, strlen(v));
}

static void ext_u64(struct jbuf *jb, const char *key, uint64_t v)
{
	jbuf__raw(jb, " ", 1);
	jbuf__raw(jb, key, strlen(key));
	jbuf__raw(jb, "=", 1);
	format__u64(jb, v);
}

static void ext_text(struct jbuf *jb, const struct prep *p, const char *key, int f)
{
	if (prep__n(p, f))
		ext(jb, key, prep__s(p, f), prep__n(p, f));
}

/* A labelled custom string: csN=value csNLabel=label. */
static void ext_cs(struct jbuf *jb, int n, const char *label, const char *v, size_t len)
{
	char key[16] = "cs0", lkey[16] = "cs0Label";

	key[2] = lkey[2] = (char)('0' + n);
	ext(jb, key, v, len);
	ext_cstr(jb, lkey, label);
}

static void header(struct jbuf *jb, const char *sig, const char *name, size_t nlen, int sev)
{
	jbuf__raw(jb, "CEF:0|sockaudit|sockaudit|" SOCKAUDIT_VERSION "|", 27 +
		  sizeof(SOCKAUDIT_VERSION) - 1);
	put_escaped(jb, sig, strlen(sig), true);
	jbuf__raw(jb, "|", 1);
	put_escaped(jb, name, nlen, true);
	jbuf__raw(jb, "|", 1);
	format__u64(jb, (uint64_t)sev);
	jbuf__raw(jb, "|", 1);
}

/* Source and destination from the role: a server's local end is the destination. */
static void endpoints(struct jbuf *jb, const struct prep *p)
{
	bool server = p->x->conn->role == SA_ROLE_SERVER;
	const char *src = prep__s(p, server ? PF_PEER : PF_LOCAL);
	const char *dst = prep__s(p, server ? PF_LOCAL : PF_PEER);
	char addr[256];
	uint32_t port;

	format__split_endpoint(src, addr, sizeof(addr), &port);
	ext_cstr(jb, "src", addr);
	if (port)
		ext_u64(jb, "spt", port);
	format__split_endpoint(dst, addr, sizeof(addr), &port);
	ext_cstr(jb, "dst", addr);
	if (port)
		ext_u64(jb, "dpt", port);
}

/* Why a side is not strict HTTP or JSON-RPC: flexString1, "request:<why>,response:<why>". */
static void malformed_ext(struct jbuf *jb, const struct prep *p)
{
	const char *rq = p->req ? p->req->malformed : NULL;
	const char *rs = p->resp ? p->resp->malformed : NULL;
	char v[128];

	if (!rq && !rs)
		return;
	snprintf(v, sizeof(v), "%s%s%s%s%s", rq ? "request:" : "", rq ? rq : "", rq && rs ? "," : "",
		 rs ? "response:" : "", rs ? rs : "");
	ext_cstr(jb, "flexString1", v);
	ext_cstr(jb, "flexString1Label", "malformed");
}

static void render_cef(struct jbuf *jb, const struct prep *p, const struct format_opts *o)
{
	const char *outcome = outcome__name(p->x->outcome);
	uint64_t ts = p->req ? p->req->ts_first_ns : p->resp->ts_first_ns;

	header(jb, "exchange", "HTTP exchange", 13, prep__severity(p));
	jbuf__raw(jb, "rt=", 3);	/* the first extension: no blank after the header */
	format__u64(jb, (ts + (uint64_t)p->off) / 1000000);
	ext_cstr(jb, "dvchost", format__hostname(o));
	ext_u64(jb, "externalId", p->seq);
	ext_u64(jb, "dpid", p->x->conn->tgid);
	ext_text(jb, p, "dproc", PF_COMM);
	ext_u64(jb, "duid", p->x->conn->uid);
	ext_cstr(jb, "app", prep__proto(p));
	ext_cstr(jb, "flexString2", p->x->conn->tls ? "true" : "false");
	ext_cstr(jb, "flexString2Label", "tls");
	endpoints(jb, p);
	ext_cstr(jb, "outcome", outcome);
	if (p->req) {
		ext_text(jb, p, "requestMethod", PF_METHOD);
		ext_text(jb, p, "request", PF_TARGET);
		ext_u64(jb, "in", p->req->wire_bytes);
	}
	if (p->resp) {
		ext_u64(jb, "out", p->resp->wire_bytes);
		ext_u64(jb, "cn1", (uint64_t)msg_http(p->resp)->status);
		ext_cstr(jb, "cn1Label", "status");
	}
	ext_u64(jb, "cn2", prep__duration_ns(p) / 1000);
	ext_cstr(jb, "cn2Label", "durationMicros");
	if (p->req)
		ext_cs(jb, 1, "requestBody", prep__s(p, PF_REQ_BODY), prep__n(p, PF_REQ_BODY));
	if (p->resp)
		ext_cs(jb, 2, "responseBody", prep__s(p, PF_RESP_BODY), prep__n(p, PF_RESP_BODY));
	if (p->hits.mask) {
		/* rule names are [a-z0-9_]: nothing to escape */
		jbuf__raw(jb, " cs3=", 5);
		format__redactions_csv(jb, p, ",");
		ext_cstr(jb, "cs3Label", "redactions");
	}
	if (prep__n(p, PF_HOST))
		ext_cs(jb, 4, "host", prep__s(p, PF_HOST), prep__n(p, PF_HOST));
	ext_cs(jb, 5, "conn", p->x->conn->names.id, strlen(p->x->conn->names.id));
	if (p->truncated)
		ext_cs(jb, 6, "truncated", "true", 4);
	malformed_ext(jb, p);
	jbuf__raw(jb, "\n", 1);
}

static int cef_event(struct jbuf *jb, const struct format_opts *o, uint64_t seq,
		     uint64_t real_ns, const char *type, const struct format_field *f, size_t nf)
{
	size_t i, len;
	char num[24];
	const char *s = format__safe_cstr(type, &len);

	header(jb, s, s, len, strcmp(type, "loss") ? 3 : 6);
	jbuf__raw(jb, "rt=", 3);
	format__u64(jb, real_ns / 1000000);
	ext_cstr(jb, "dvchost", format__hostname(o));
	ext_u64(jb, "externalId", seq);
	for (i = 0; i < nf; i++) {
		s = format__field_text(&f[i], num, &len);
		ext(jb, f[i].key, s, len);
	}
	jbuf__raw(jb, "\n", 1);
	return jb->oom ? -ENOMEM : 0;
}

const struct formatter format_cef = {
	.type = "cef",
	.render = render_cef,
	.event = cef_event,
};
