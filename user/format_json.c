// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Exchange and lifecycle records as JSON Lines. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "format_int.h"
#include "format_json.h"
#include "mcp.h"

static const char *const role_names[] = { "unknown", "server", "client" };

/*
 * The date and time of one second, kept: most records share it with the
 * last. And the last whole timestamp: a record's own is its request's.
 */
struct ts_cache {
	time_t secs;
	char text[32];		/* "2026-11-23T15:36:01." */
	size_t len;
	uint64_t last_ns;
	size_t last_len;	/* 0: none yet */
	char last[48];		/* last_ns as ts_quoted wrote it */
};

static __thread struct ts_cache ts_cache = { .secs = -1 };

/* "2026-11-23T15:36:01.123456789Z" with its quotes into buf; returns the length. */
static size_t ts_quoted(char buf[48], uint64_t real_ns)
{
	time_t secs = real_ns / 1000000000ULL;
	uint32_t frac = real_ns % 1000000000ULL;

	_Static_assert(sizeof(ts_cache.text) + 1 + 12 <= 48, "ts_quoted's buf holds the copy");
	if (ts_cache.last_len && real_ns == ts_cache.last_ns) {
		memcpy(buf, ts_cache.last, sizeof(ts_cache.last));	/* moves, not a call */
		return ts_cache.last_len;
	}
	if (secs != ts_cache.secs) {
		struct tm tm;

		gmtime_r(&secs, &tm);
		ts_cache.len = strftime(ts_cache.text, sizeof(ts_cache.text),
					"%Y-%m-%dT%H:%M:%S.", &tm);
		ts_cache.secs = secs;
	}
	buf[0] = '"';
	/* whole 32-byte copies (text is 32 bytes, buf 48): moves, not a memcpy call */
	memcpy(buf + 1, ts_cache.text, sizeof(ts_cache.text));
	jbuf__digits9(buf + ts_cache.len + 1, frac);	/* nine digits of nanoseconds */
	buf[ts_cache.len + 10] = 'Z';
	buf[ts_cache.len + 11] = '"';
	memcpy(ts_cache.last, buf, sizeof(ts_cache.last));
	ts_cache.last_ns = real_ns;
	ts_cache.last_len = ts_cache.len + 12;
	return ts_cache.last_len;
}

void format__ts(struct jbuf *jb, uint64_t real_ns)
{
	char buf[48];

	/* digits and punctuation only: nothing to escape */
	jbuf__value_raw(jb, buf, ts_quoted(buf, real_ns));
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

/*
 * The exchange record has a fixed layout, so it is written as constant
 * pieces with their commas included (PUT) and values appended raw: no
 * comma bookkeeping per member, and a constant-size copy per key. Only
 * texts go through the escaper. Lifecycle and other records, whose
 * members vary, use the general writer in json.c.
 */
#define PUT(jb, lit) put_piece((jb), (lit), sizeof(lit) - 1)

/*
 * A constant piece: jbuf__raw without its NUL and without the oom test
 * (after a failed grow the record is dropped anyway, and the write stays
 * inside the buffer). The record's last piece goes through jbuf__raw, which
 * terminates it.
 */
static inline __attribute__((always_inline)) void put_piece(struct jbuf *jb, const char *s,
							     size_t n)
{
	if (__builtin_expect(n >= jb->cap - jb->len, 0) && !jbuf__grow(jb, n))
		return;
	memcpy(jb->buf + jb->len, s, n);
	jb->len += n;
}

/* A text made safe by the prepare step: only JSON's own escaping is left. */
static void put_text(struct jbuf *jb, const struct prep *p, int f)
{
	jbuf__quoted(jb, (const uint8_t *)prep__s(p, f), prep__n(p, f));
}

/*
 * A constant piece (a key) and then a prepared text: one room test covers
 * both, where PUT and put_text would test twice.
 */
static inline __attribute__((always_inline)) void put_keyed_text(struct jbuf *jb, const char *key,
								  size_t kn, const struct prep *p,
								  int f)
{
	size_t n = prep__n(p, f), room = kn + jbuf__quoted_room(n);

	if (__builtin_expect(room >= jb->cap - jb->len, 0) && !jbuf__grow(jb, room))
		return;
	memcpy(jb->buf + jb->len, key, kn);
	jb->len += kn;
	jbuf__quoted_reserved(jb, (const uint8_t *)prep__s(p, f), n);
}

#define PUT_TEXT(jb, key_lit, p, f) put_keyed_text((jb), (key_lit), sizeof(key_lit) - 1, (p), (f))

/* A constant piece and then a number, under one room test as put_keyed_text. */
static inline __attribute__((always_inline)) void put_keyed_u64(struct jbuf *jb, const char *key,
								 size_t kn, uint64_t v)
{
	if (__builtin_expect(kn + FORMAT_U64_ROOM >= jb->cap - jb->len, 0) &&
	    !jbuf__grow(jb, kn + FORMAT_U64_ROOM))
		return;
	memcpy(jb->buf + jb->len, key, kn);
	jb->len += kn;
	format__u64_reserved(jb, v);
}

#define PUT_U64(jb, key_lit, v) put_keyed_u64((jb), (key_lit), sizeof(key_lit) - 1, (v))

/* One of our own names ("tcp", "ok", ...): nothing in it to escape. Inline: a literal's length folds. */
static inline __attribute__((always_inline)) void put_keyed_name(struct jbuf *jb, const char *key,
								  size_t kn, const char *name)
{
	size_t n = strlen(name);
	char *o;

	/* the constant piece before it, if any, under the same room test */
	if (kn + n + 2 >= jb->cap - jb->len && !jbuf__grow(jb, kn + n + 2))
		return;
	o = jb->buf + jb->len;
	memcpy(o, key, kn);
	o += kn;
	*o = '"';
	memcpy(o + 1, name, n);
	o[n + 1] = '"';
	o[n + 2] = '\0';
	jb->len += kn + n + 2;
}

static inline __attribute__((always_inline)) void put_name(struct jbuf *jb, const char *name)
{
	put_keyed_name(jb, "", 0, name);
}

#define PUT_NAME(jb, key_lit, name) put_keyed_name((jb), (key_lit), sizeof(key_lit) - 1, (name))

static void put_bool(struct jbuf *jb, bool v)
{
	if (v)
		PUT(jb, "true");
	else
		PUT(jb, "false");
}

/*
 * A constant piece and a quoted timestamp made in place after it (ts_quoted
 * writes at most 48 bytes), under one room test.
 */
static inline __attribute__((always_inline)) void put_keyed_ts(struct jbuf *jb, const char *key,
								size_t kn, uint64_t real_ns)
{
	if (kn + 48 >= jb->cap - jb->len && !jbuf__grow(jb, kn + 48))
		return;
	memcpy(jb->buf + jb->len, key, kn);
	jb->len += kn;
	jb->len += ts_quoted(jb->buf + jb->len, real_ns);
	jb->buf[jb->len] = '\0';
}

#define PUT_TS(jb, key_lit, ns) put_keyed_ts((jb), (key_lit), sizeof(key_lit) - 1, (ns))

/* ,"key":"text" when the text is not empty; key_lit has the comma and colon. */
#define PUT_OPT_TEXT(jb, p, key_lit, f)				\
	do {							\
		if (prep__n((p), (f))) {			\
			PUT_TEXT((jb), key_lit, (p), (f));	\
		}						\
	} while (0)

static void put_proc(struct jbuf *jb, const struct prep *p)
{
	const struct conn *c = p->x->conn;
	const struct msg_copy *m = p->x->req ? p->x->req : p->x->resp;

	PUT_U64(jb, ",\"proc\":{\"pid\":", c->tgid);
	PUT_U64(jb, ",\"tid\":", m ? m->tid : c->tid);
	PUT_TEXT(jb, ",\"comm\":", p, PF_COMM);
	PUT(jb, ",\"exe\":");
	if (prep__n(p, PF_EXE))
		put_text(jb, p, PF_EXE);
	else
		PUT(jb, "null");
	PUT_U64(jb, ",\"uid\":", c->uid);
	PUT(jb, "}");
}

static void put_conn(struct jbuf *jb, const struct prep *p)
{
	const struct conn *c = p->x->conn;

	PUT(jb, ",\"conn\":{\"id\":\"");
	/* digits and colons, or "tgid:stdio" */
	jbuf__raw(jb, c->names.id, strnlen(c->names.id, sizeof(c->names.id)));
	PUT_NAME(jb, "\",\"role\":", role_names[c->role <= SA_ROLE_CLIENT ? c->role : 0]);
	PUT_NAME(jb, ",\"transport\":", prep__transport(p));
	PUT_TEXT(jb, ",\"local\":", p, PF_LOCAL);
	PUT_TEXT(jb, ",\"peer\":", p, PF_PEER);
	if (c->tls)
		PUT(jb, ",\"tls\":true}");
	else
		PUT(jb, ",\"tls\":false}");
}

/*
 * Members common to both sides: time, sizes, excerpt, completeness.
 * first: nothing precedes them in the side's object.
 */
static void put_side_common(struct jbuf *jb, const struct prep *p, const struct message *m,
			    int side, bool first)
{
	if (first)
		PUT_TS(jb, "\"ts\":", m->ts_first_ns + p->off);
	else
		PUT_TS(jb, ",\"ts\":", m->ts_first_ns + p->off);
	if (p->x->conn->proto == PROTO_HTTP && m->http && m->http->version) {
		/* as seen: HTTP/2.0 or HTTP/0.9 written in a request line stay so */
		char v[] = ",\"version\":\"HTTP/x.y\"";
		int version = m->http->version;

		v[17] = (char)('0' + version / 10 % 10);
		v[19] = (char)('0' + version % 10);
		jbuf__raw(jb, v, sizeof(v) - 1);
	}
	PUT_OPT_TEXT(jb, p, ",\"content_type\":", side ? PF_RESP_CTYPE : PF_REQ_CTYPE);
	PUT_U64(jb, ",\"bytes\":", m->wire_bytes);
	PUT_U64(jb, ",\"body_bytes\":", m->body_bytes);
	if (p->kind[side] != PK_TEXT) {
		PUT_NAME(jb, ",\"body_kind\":", sanitize__kind_name(p->kind[side]));
	}
	PUT_TEXT(jb, ",\"body\":", p, side ? PF_RESP_BODY : PF_REQ_BODY);
	if (m->body_cut)
		PUT(jb, ",\"body_truncated\":true");
	if (m->lost_bytes) {
		PUT_U64(jb, ",\"lost_bytes\":", m->lost_bytes);
	}
	if (m->incomplete)
		PUT(jb, ",\"incomplete\":true");
	if (m->malformed) {
		PUT_NAME(jb, ",\"malformed\":", m->malformed);
	}
}

/* Only HTTP messages have a start line; JSON-RPC and raw get the common members. */
static bool http_fields(const struct prep *p)
{
	return p->x->conn->proto == PROTO_HTTP;
}

static void put_request(struct jbuf *jb, const struct prep *p)
{
	PUT(jb, ",\"request\":{");
	if (http_fields(p)) {
		PUT_TEXT(jb, "\"method\":", p, PF_METHOD);
		PUT_TEXT(jb, ",\"target\":", p, PF_TARGET);
		PUT_OPT_TEXT(jb, p, ",\"host\":", PF_HOST);
	}
	put_side_common(jb, p, p->req, 0, !http_fields(p));
	PUT(jb, "}");
}

static void put_response(struct jbuf *jb, const struct prep *p)
{
	PUT(jb, ",\"response\":{");
	if (http_fields(p)) {
		PUT_U64(jb, "\"status\":", msg_http(p->resp)->status);
		PUT_OPT_TEXT(jb, p, ",\"reason\":", PF_REASON);
	}
	put_side_common(jb, p, p->resp, 1, !http_fields(p));
	PUT(jb, "}");
}

/* A member of an object whose first member is not known in advance. */
static void put_member_key(struct jbuf *jb, bool *first, const char *key)
{
	if (!*first)
		PUT(jb, ",");
	*first = false;
	put_name(jb, key);
	PUT(jb, ":");
}

static void put_rpc_text(struct jbuf *jb, const struct prep *p, bool *first, const char *key,
			 int f)
{
	if (!prep__n(p, f))
		return;
	put_member_key(jb, first, key);
	put_text(jb, p, f);
}

static bool is_prompt(const struct prep *p)
{
	return p->rpc_req && !strcmp(p->rpc_req->method, "prompts/get");
}

/* {"name":..,"version":..} of an MCP client or server, when its name is known. */
static void put_peer_info(struct jbuf *jb, const struct prep *p, bool *first, const char *key,
			  int name, int ver)
{
	bool inner = true;

	if (!prep__n(p, name))
		return;
	put_member_key(jb, first, key);
	PUT(jb, "{");
	put_rpc_text(jb, p, &inner, "name", name);
	put_rpc_text(jb, p, &inner, "version", ver);
	PUT(jb, "}");
}

/*
 * MCP identity: "mcp":{"protocol_version","client":{"name","version"},
 * "server":{...},"session_id","method_header","name_header","traceparent"},
 * each member only when known.
 */
static void put_mcp(struct jbuf *jb, const struct prep *p)
{
	bool first = true;

	if (!p->x->mcp)
		return;
	PUT(jb, ",\"mcp\":{");
	put_rpc_text(jb, p, &first, "protocol_version", PF_MCP_PROTO);
	put_peer_info(jb, p, &first, "client", PF_MCP_CLIENT, PF_MCP_CLIENT_VER);
	put_peer_info(jb, p, &first, "server", PF_MCP_SERVER, PF_MCP_SERVER_VER);
	put_rpc_text(jb, p, &first, "session_id", PF_MCP_SESSION);
	put_rpc_text(jb, p, &first, "method_header", PF_MCP_METHOD_HDR);
	put_rpc_text(jb, p, &first, "name_header", PF_MCP_NAME_HDR);
	put_rpc_text(jb, p, &first, "traceparent", PF_MCP_TRACE);
	PUT(jb, "}");
}

/*
 * JSON-RPC facts, over a stream or inside HTTP bodies:
 * "rpc":{"method","id","tool","direction","error":{"code","message"}}.
 * direction says who sent the request: inbound = to the audited process.
 */
static void put_rpc(struct jbuf *jb, const struct prep *p)
{
	const struct msg_copy *rq = p->rpc_req ? p->x->req : NULL;
	bool first = true;

	if (!p->rpc_req && !p->rpc_resp)
		return;
	PUT(jb, ",\"rpc\":{");
	put_rpc_text(jb, p, &first, "method", PF_RPC_METHOD);
	put_rpc_text(jb, p, &first, "id", PF_RPC_ID);
	/* the subject: params.name is a tool for tools/call, a prompt for prompts/get */
	put_rpc_text(jb, p, &first, is_prompt(p) ? "prompt" : "tool", PF_RPC_TOOL);
	put_rpc_text(jb, p, &first, "uri", PF_RPC_URI);
	if (rq && p->x->conn->proto == PROTO_JSONRPC) {
		put_member_key(jb, &first, "direction");
		put_name(jb, rq->dir == SA_DIR_INGRESS ? "inbound" : "outbound");
	}
	if (p->rpc_resp && p->rpc_resp->kind == RPC_ERROR) {
		int64_t code = p->rpc_resp->err_code;

		put_member_key(jb, &first, "error");
		PUT(jb, "{\"code\":");
		if (code < 0)
			PUT(jb, "-");
		format__u64(jb, code < 0 ? (uint64_t)0 - (uint64_t)code : (uint64_t)code);
		PUT_NAME(jb, ",\"class\":", jsonrpc__error_class(code));
		PUT_TEXT(jb, ",\"message\":", p, PF_RPC_ERRMSG);
		PUT(jb, "}");
	}
	PUT(jb, "}");
}

/* "redactions":["bearer_token",...] in rule order, only when one fired. */
static void put_redactions(struct jbuf *jb, const struct prep *p)
{
	size_t i, n;
	bool first = true;

	if (!p->hits.mask)
		return;
	n = redactor__nrules(p->r);
	PUT(jb, ",\"redactions\":[");
	for (i = 0; i < n; i++) {
		if (!(p->hits.mask & (1ULL << i)))
			continue;
		if (!first)
			PUT(jb, ",");
		first = false;
		put_name(jb, redactor__rule_name(p->r, i));	/* [a-z0-9_] */
	}
	PUT(jb, "]");
}

static void render_json(struct jbuf *jb, const struct prep *p, const struct format_opts *o)
{
	const struct exchange *x = p->x;
	uint64_t ts = p->req ? p->req->ts_first_ns : p->resp->ts_first_ns;

	(void)o;
	PUT_U64(jb, "{\"v\":" RECORD_VERSION_TEXT ",\"seq\":", p->seq);
	PUT_TS(jb, ",\"ts\":", ts + p->off);
	PUT(jb, ",\"type\":\"exchange\"");
	put_proc(jb, p);
	put_conn(jb, p);
	PUT_NAME(jb, ",\"proto\":", prep__proto(p));
	PUT_NAME(jb, ",\"outcome\":", outcome__name(x->outcome));
	PUT(jb, ",\"critical\":");
	put_bool(jb, prep__critical(p));
	if (p->req && p->resp) {
		PUT(jb, ",\"duration_ms\":");
		format__ms(jb, prep__duration_ns(p));
	}
	put_rpc(jb, p);
	put_mcp(jb, p);
	if (p->req)
		put_request(jb, p);
	if (p->resp)
		put_response(jb, p);
	put_redactions(jb, p);
	if (p->truncated)
		PUT(jb, ",\"truncated\":true");
	if (p->redact_failed)
		PUT(jb, ",\"redaction_failed\":true");
	jbuf__raw(jb, "}\n", 2);	/* NUL-terminated again */
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
	.render = render_json,
	.event = json_event,
};
