// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Exchange and lifecycle records as JSON Lines. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "format_json.h"
#include "format_int.h"

static const char *const role_names[] = { "unknown", "server", "client" };

/* The date and time of one second, kept: most records share it with the last. */
struct ts_cache {
	time_t secs;
	char text[32];		/* "2026-11-23T15:36:01." */
	size_t len;
};

static __thread struct ts_cache ts_cache = { .secs = -1 };

void format__ts(struct jbuf *jb, uint64_t real_ns)
{
	time_t secs = real_ns / 1000000000ULL;
	uint32_t frac = real_ns % 1000000000ULL;
	char buf[48];
	int i;

	buf[0] = '"';
	if (secs != ts_cache.secs) {
		struct tm tm;

		gmtime_r(&secs, &tm);
		ts_cache.len = strftime(ts_cache.text, sizeof(ts_cache.text),
					"%Y-%m-%dT%H:%M:%S.", &tm);
		ts_cache.secs = secs;
	}
	memcpy(buf + 1, ts_cache.text, ts_cache.len);
	for (i = 9; i >= 1; i--, frac /= 10)
		buf[ts_cache.len + i] = '0' + frac % 10;
	buf[ts_cache.len + 10] = 'Z';
	buf[ts_cache.len + 11] = '"';
	/* digits and punctuation only: nothing to escape */
	jbuf__value_raw(jb, buf, ts_cache.len + 12);
}

void format__begin(struct jbuf *jb, uint64_t seq, uint64_t real_ns, const char *type)
{
	jbuf__obj_open(jb);
	JBUF_KEY(jb, "v");
	jbuf__u64(jb, RECORD_VERSION);
	JBUF_KEY(jb, "seq");
	jbuf__u64(jb, seq);
	JBUF_KEY(jb, "ts");
	format__ts(jb, real_ns);
	JBUF_KEY(jb, "type");
	jbuf__cstr(jb, type);
}

void format__end(struct jbuf *jb)
{
	jbuf__obj_close(jb);
	jbuf__raw(jb, "\n", 1);
}

bool exchange__critical(const struct exchange *x)
{
	return (x->resp && (x->resp->m.status == 401 || x->resp->m.status == 403)) ||
	       x->outcome == OUTCOME_ERROR;	/* a JSON-RPC error answer */
}

/* A text made safe by the prepare step: only JSON's own escaping is left. */
static void put_text(struct jbuf *jb, const struct prep *p, int f)
{
	jbuf__str(jb, (const uint8_t *)prep__s(p, f), prep__n(p, f));
}

static void put_opt_text(struct jbuf *jb, const struct prep *p, const char *key, int f)
{
	if (!prep__n(p, f))
		return;
	jbuf__key(jb, key);
	put_text(jb, p, f);
}

static void put_proc(struct jbuf *jb, const struct prep *p)
{
	const struct conn *c = p->x->conn;
	const struct msg_copy *m = p->x->req ? p->x->req : p->x->resp;

	JBUF_KEY(jb, "proc");
	jbuf__obj_open(jb);
	JBUF_KEY(jb, "pid");
	jbuf__u64(jb, c->tgid);
	JBUF_KEY(jb, "tid");
	jbuf__u64(jb, m ? m->tid : c->tid);
	JBUF_KEY(jb, "comm");
	put_text(jb, p, PF_COMM);
	JBUF_KEY(jb, "exe");
	if (prep__n(p, PF_EXE))
		put_text(jb, p, PF_EXE);
	else
		jbuf__null(jb);
	JBUF_KEY(jb, "uid");
	jbuf__u64(jb, c->uid);
	jbuf__obj_close(jb);
}

static void put_conn(struct jbuf *jb, const struct prep *p)
{
	const struct conn *c = p->x->conn;

	JBUF_KEY(jb, "conn");
	jbuf__obj_open(jb);
	JBUF_KEY(jb, "id");
	jbuf__cstr(jb, c->names.id);
	JBUF_KEY(jb, "role");
	jbuf__cstr(jb, role_names[c->role <= SA_ROLE_CLIENT ? c->role : 0]);
	JBUF_KEY(jb, "transport");
	jbuf__cstr(jb, prep__transport(p));
	JBUF_KEY(jb, "local");
	put_text(jb, p, PF_LOCAL);
	JBUF_KEY(jb, "peer");
	put_text(jb, p, PF_PEER);
	JBUF_KEY(jb, "tls");
	jbuf__bool(jb, false);
	jbuf__obj_close(jb);
}

/* Members common to both sides: time, sizes, excerpt, completeness. */
static void put_side_common(struct jbuf *jb, const struct prep *p, const struct http_msg *m,
			    int side)
{
	JBUF_KEY(jb, "ts");
	format__ts(jb, m->ts_first_ns + p->off);
	if (p->x->conn->proto == PROTO_HTTP) {
		JBUF_KEY(jb, "version");
		jbuf__cstr(jb, m->version == 10 ? "HTTP/1.0" : "HTTP/1.1");
	}
	put_opt_text(jb, p, "content_type", side ? PF_RESP_CTYPE : PF_REQ_CTYPE);
	JBUF_KEY(jb, "bytes");
	jbuf__u64(jb, m->wire_bytes);
	JBUF_KEY(jb, "body_bytes");
	jbuf__u64(jb, m->body_bytes);
	if (p->kind[side] != PK_TEXT) {
		JBUF_KEY(jb, "body_kind");
		jbuf__cstr(jb, sanitize__kind_name(p->kind[side]));
	}
	JBUF_KEY(jb, "body");
	put_text(jb, p, side ? PF_RESP_BODY : PF_REQ_BODY);
	if (m->body_cut) {
		JBUF_KEY(jb, "body_truncated");
		jbuf__bool(jb, true);
	}
	if (m->lost_bytes) {
		JBUF_KEY(jb, "lost_bytes");
		jbuf__u64(jb, m->lost_bytes);
	}
	if (m->incomplete) {
		JBUF_KEY(jb, "incomplete");
		jbuf__bool(jb, true);
	}
}

/* Only HTTP messages have a start line; JSON-RPC and raw get the common members. */
static bool http_fields(const struct prep *p)
{
	return p->x->conn->proto == PROTO_HTTP;
}

static void put_request(struct jbuf *jb, const struct prep *p)
{
	JBUF_KEY(jb, "request");
	jbuf__obj_open(jb);
	if (!http_fields(p)) {
		put_side_common(jb, p, p->req, 0);
		jbuf__obj_close(jb);
		return;
	}
	JBUF_KEY(jb, "method");
	put_text(jb, p, PF_METHOD);
	JBUF_KEY(jb, "target");
	put_text(jb, p, PF_TARGET);
	put_opt_text(jb, p, "host", PF_HOST);
	put_side_common(jb, p, p->req, 0);
	jbuf__obj_close(jb);
}

static void put_response(struct jbuf *jb, const struct prep *p)
{
	JBUF_KEY(jb, "response");
	jbuf__obj_open(jb);
	if (!http_fields(p)) {
		put_side_common(jb, p, p->resp, 1);
		jbuf__obj_close(jb);
		return;
	}
	JBUF_KEY(jb, "status");
	jbuf__u64(jb, p->resp->status);
	put_opt_text(jb, p, "reason", PF_REASON);
	put_side_common(jb, p, p->resp, 1);
	jbuf__obj_close(jb);
}

/*
 * JSON-RPC facts, over a stream or inside HTTP bodies:
 * "rpc":{"method","id","tool","direction","error":{"code","message"}}.
 * direction says who sent the request: inbound = to the audited process.
 */
static void put_rpc(struct jbuf *jb, const struct prep *p)
{
	const struct msg_copy *rq = p->rpc_req ? p->x->req : NULL;

	if (!p->rpc_req && !p->rpc_resp)
		return;
	JBUF_KEY(jb, "rpc");
	jbuf__obj_open(jb);
	put_opt_text(jb, p, "method", PF_RPC_METHOD);
	put_opt_text(jb, p, "id", PF_RPC_ID);
	put_opt_text(jb, p, "tool", PF_RPC_TOOL);
	if (rq && p->x->conn->proto == PROTO_JSONRPC) {
		JBUF_KEY(jb, "direction");
		jbuf__cstr(jb, rq->dir == SA_DIR_INGRESS ? "inbound" : "outbound");
	}
	if (p->rpc_resp && p->rpc_resp->kind == RPC_ERROR) {
		JBUF_KEY(jb, "error");
		jbuf__obj_open(jb);
		JBUF_KEY(jb, "code");
		jbuf__i64(jb, p->rpc_resp->err_code);
		JBUF_KEY(jb, "message");
		put_text(jb, p, PF_RPC_ERRMSG);
		jbuf__obj_close(jb);
	}
	jbuf__obj_close(jb);
}

/* "redactions":["bearer_token",...] in rule order, only when one fired. */
static void put_redactions(struct jbuf *jb, const struct prep *p)
{
	size_t i, n;

	if (!p->hits.mask)
		return;
	n = redactor__nrules(p->r);
	JBUF_KEY(jb, "redactions");
	jbuf__arr_open(jb);
	for (i = 0; i < n; i++)
		if (p->hits.mask & (1ULL << i))
			jbuf__cstr(jb, redactor__rule_name(p->r, i));
	jbuf__arr_close(jb);
}

static void render_json(struct jbuf *jb, const struct prep *p, const struct format_opts *o)
{
	const struct exchange *x = p->x;
	uint64_t ts = p->req ? p->req->ts_first_ns : p->resp->ts_first_ns;

	format__begin(jb, p->seq, ts + p->off, "exchange");
	put_proc(jb, p);
	put_conn(jb, p);
	JBUF_KEY(jb, "proto");
	jbuf__cstr(jb, prep__proto(p));
	JBUF_KEY(jb, "outcome");
	jbuf__cstr(jb, outcome__name(x->outcome));
	JBUF_KEY(jb, "critical");
	jbuf__bool(jb, prep__critical(p));
	if (p->req && p->resp) {
		JBUF_KEY(jb, "duration_ms");
		jbuf__ms(jb, prep__duration_ns(p));
	}
	put_rpc(jb, p);
	if (p->req)
		put_request(jb, p);
	if (p->resp)
		put_response(jb, p);
	put_redactions(jb, p);
	if (p->truncated) {
		JBUF_KEY(jb, "truncated");
		jbuf__bool(jb, true);
	}
	if (p->redact_failed) {
		JBUF_KEY(jb, "redaction_failed");
		jbuf__bool(jb, true);
	}
	format__end(jb);
}

static int json_exchange(struct jbuf *jb, const struct format_opts *o, uint64_t seq,
			 const struct exchange *x, const struct proc_info *pi, int64_t off)
{
	return format__run(jb, o, render_json, seq, x, pi, off);
}

static int json_event(struct jbuf *jb, const struct format_opts *o, uint64_t seq,
		      uint64_t real_ns, const char *type, const struct format_field *f, size_t nf)
{
	size_t i, len;
	const char *s;

	format__begin(jb, seq, real_ns, type);
	for (i = 0; i < nf; i++) {
		jbuf__key(jb, f[i].key);
		switch (f[i].kind) {
		case FF_STR:
			s = format__safe_cstr(f[i].s, &len);
			jbuf__str(jb, (const uint8_t *)s, len);
			break;
		case FF_U64:
			jbuf__u64(jb, f[i].u);
			break;
		case FF_I64:
			jbuf__i64(jb, f[i].i);
			break;
		case FF_BOOL:
			jbuf__bool(jb, f[i].b);
			break;
		}
	}
	format__end(jb);
	return jb->oom ? -ENOMEM : 0;
}

const struct formatter format_json_lines = {
	.type = "json_lines",
	.exchange = json_exchange,
	.event = json_event,
};

/* The pipeline's entry point: json_lines with the default options. */
void format__exchange(struct jbuf *jb, uint64_t seq, const struct exchange *x,
		      const struct proc_info *pi, int64_t off)
{
	json_exchange(jb, NULL, seq, x, pi, off);
}
