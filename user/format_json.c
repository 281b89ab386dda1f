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

/* The most ts_put writes: its copy of the whole cached text, then the quote; or the timestamp. */
#define TS_ROOM 48

/* The date and time of one second, kept: most records share it with the last. */
struct ts_cache {
	time_t secs;
	char text[32];		/* "2026-11-23T15:36:01." */
	size_t len;
};

static __thread struct ts_cache ts_cache = { .secs = -1 };

/* A new second: its date and time made once (gmtime and strftime are slow). */
static __attribute__((noinline)) void ts_second(time_t secs)
{
	struct tm tm;

	gmtime_r(&secs, &tm);
	ts_cache.len = strftime(ts_cache.text, sizeof(ts_cache.text), "%Y-%m-%dT%H:%M:%S.", &tm);
	ts_cache.secs = secs;
}

/* "2026-11-23T15:36:01.123456789Z" with its quotes at w (TS_ROOM free); returns w past it. */
static char *ts_put(char *w, uint64_t real_ns)
{
	time_t secs = real_ns / 1000000000ULL;
	uint32_t frac = real_ns % 1000000000ULL;

	_Static_assert(1 + sizeof(ts_cache.text) <= TS_ROOM &&
		       1 + sizeof(ts_cache.text) - 1 + 11 <= TS_ROOM, "TS_ROOM holds what ts_put writes");
	if (secs != ts_cache.secs)
		ts_second(secs);
	w[0] = '"';
	/* the whole 32-byte array: moves, not a memcpy call */
	memcpy(w + 1, ts_cache.text, sizeof(ts_cache.text));
	w += 1 + ts_cache.len;
	jbuf__digits9(w, frac);		/* nine digits of nanoseconds */
	w[9] = 'Z';
	w[10] = '"';
	return w + 11;
}

void format__ts(struct jbuf *jb, uint64_t real_ns)
{
	char buf[TS_ROOM];

	/* digits and punctuation only: nothing to escape */
	jbuf__value_raw(jb, buf, (size_t)(ts_put(buf, real_ns) - buf));
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
 * pieces with their commas included and values appended at a cursor. Its
 * room is reserved once (record_room), so no piece tests for room, and the
 * cursor stays in a register: a store through a char pointer would make
 * the compiler reload jb->buf and jb->len after each piece. Only texts go
 * through the escaper. Lifecycle and other records, whose members vary,
 * use the general writer in json.c.
 */
#define PUT(w, lit) json_put((w), (lit), sizeof(lit) - 1)

/* Bytes of the record written already, to be written again. */
struct span {
	const char *s;
	size_t n;
};

/* One of our own names ("tcp", "ok", ...): nothing in it to escape. */
static inline char *put_name(char *w, const char *name)
{
	*w++ = '"';
	while (*name)	/* a few letters: copied as they are measured, no strlen call */
		*w++ = *name++;
	*w = '"';
	return w + 1;
}

/*
 * A text made safe by the prepare step: only JSON's own escaping is left,
 * none when the prepare step found it plain, and done already for a text
 * it remembered.
 */
static inline __attribute__((always_inline)) char *put_text(char *w, const struct prep *p,
							   int f)
{
	const char *js;
	size_t jn;

	if (prep__plain(p, f))
		return json_plain_at(w, prep__s(p, f), prep__n(p, f));
	js = prep__json(p, f, &jn);
	if (js)
		return json_copy_at(w, js, jn);
	return json_quoted_at(w, (const uint8_t *)prep__s(p, f), prep__n(p, f));
}

static char *put_bool(char *w, bool v)
{
	return v ? PUT(w, "true") : PUT(w, "false");
}

static char *put_proc(char *w, const struct prep *p)
{
	const struct conn *c = p->x->conn;
	const struct msg_copy *m = p->x->req ? p->x->req : p->x->resp;

	w = PUT(w, ",\"proc\":{\"pid\":");
	w = json_u64_at(w, c->tgid);
	w = PUT(w, ",\"tid\":");
	w = json_u64_at(w, m ? m->tid : c->tid);
	w = PUT(w, ",\"comm\":");
	w = put_text(w, p, PF_COMM);
	w = PUT(w, ",\"exe\":");
	w = prep__n(p, PF_EXE) ? put_text(w, p, PF_EXE) : PUT(w, "null");
	w = PUT(w, ",\"uid\":");
	w = json_u64_at(w, c->uid);
	return PUT(w, "}");
}

static char *put_conn(char *w, const struct prep *p)
{
	const struct conn *c = p->x->conn;

	w = PUT(w, ",\"conn\":{\"id\":\"");
	/* digits and colons, or "tgid:stdio" */
	w = json_put(w, c->names.id, strnlen(c->names.id, sizeof(c->names.id)));
	w = PUT(w, "\",\"role\":");
	w = put_name(w, role_names[c->role <= SA_ROLE_CLIENT ? c->role : 0]);
	w = PUT(w, ",\"transport\":");
	w = put_name(w, prep__transport(p));
	w = PUT(w, ",\"local\":");
	w = put_text(w, p, PF_LOCAL);
	w = PUT(w, ",\"peer\":");
	w = put_text(w, p, PF_PEER);
	return c->tls ? PUT(w, ",\"tls\":true}") : PUT(w, ",\"tls\":false}");
}

/* ,"version":"HTTP/x.y" as seen: HTTP/2.0 or HTTP/0.9 written in a request line stay so. */
static char *put_version(char *w, int version)
{
	const char *d = json_digit_pairs + (unsigned)version % 100 * 2;	/* its two digits */

	w = PUT(w, ",\"version\":\"HTTP/");
	w[0] = d[0];
	w[1] = '.';
	w[2] = d[1];
	w[3] = '"';
	return w + 4;
}

/*
 * Members common to both sides: time, sizes, excerpt, completeness.
 * first: nothing precedes them in the side's object. ts: the side's time
 * as written already (the request's is the record's), or NULL.
 */
static char *put_side_common(char *w, const struct prep *p, const struct message *m, int side,
			     bool first, const struct span *ts)
{
	int ctype = side ? PF_RESP_CTYPE : PF_REQ_CTYPE;

	w = first ? PUT(w, "\"ts\":") : PUT(w, ",\"ts\":");
	w = ts ? json_copy_at(w, ts->s, ts->n) : ts_put(w, m->ts_first_ns + p->off);
	if (p->x->conn->proto == PROTO_HTTP && m->http && m->http->version)
		w = put_version(w, m->http->version);
	if (prep__n(p, ctype)) {
		w = PUT(w, ",\"content_type\":");
		w = put_text(w, p, ctype);
	}
	w = PUT(w, ",\"bytes\":");
	w = json_u64_at(w, m->wire_bytes);
	w = PUT(w, ",\"body_bytes\":");
	w = json_u64_at(w, m->body_bytes);
	if (p->kind[side] != PK_TEXT) {
		w = PUT(w, ",\"body_kind\":");
		w = put_name(w, sanitize__kind_name(p->kind[side]));
	}
	w = PUT(w, ",\"body\":");
	w = put_text(w, p, side ? PF_RESP_BODY : PF_REQ_BODY);
	if (m->body_cut)
		w = PUT(w, ",\"body_truncated\":true");
	if (m->lost_bytes) {
		w = PUT(w, ",\"lost_bytes\":");
		w = json_u64_at(w, m->lost_bytes);
	}
	if (m->incomplete)
		w = PUT(w, ",\"incomplete\":true");
	if (m->malformed) {
		w = PUT(w, ",\"malformed\":");
		w = put_name(w, m->malformed);	/* counted by record_room */
	}
	return w;
}

/* Only HTTP messages have a start line; JSON-RPC and raw get the common members. */
static bool http_fields(const struct prep *p)
{
	return p->x->conn->proto == PROTO_HTTP;
}

/* ts: the record's time, which is the request's. */
static char *put_request(char *w, const struct prep *p, const struct span *ts)
{
	w = PUT(w, ",\"request\":{");
	if (http_fields(p)) {
		w = PUT(w, "\"method\":");
		w = put_text(w, p, PF_METHOD);
		w = PUT(w, ",\"target\":");
		w = put_text(w, p, PF_TARGET);
		if (prep__n(p, PF_HOST)) {
			w = PUT(w, ",\"host\":");
			w = put_text(w, p, PF_HOST);
		}
	}
	w = put_side_common(w, p, p->req, 0, !http_fields(p), ts);
	return PUT(w, "}");
}

static char *put_response(char *w, const struct prep *p)
{
	w = PUT(w, ",\"response\":{");
	if (http_fields(p)) {
		w = PUT(w, "\"status\":");
		w = json_u64_at(w, msg_http(p->resp)->status);
		if (prep__n(p, PF_REASON)) {
			w = PUT(w, ",\"reason\":");
			w = put_text(w, p, PF_REASON);
		}
	}
	w = put_side_common(w, p, p->resp, 1, !http_fields(p), NULL);
	return PUT(w, "}");
}

/* A member of an object whose first member is not known in advance. */
static char *put_member_key(char *w, bool *first, const char *key)
{
	if (!*first)
		*w++ = ',';
	*first = false;
	w = put_name(w, key);
	*w = ':';
	return w + 1;
}

static char *put_rpc_text(char *w, const struct prep *p, bool *first, const char *key, int f)
{
	if (!prep__n(p, f))
		return w;
	w = put_member_key(w, first, key);
	return put_text(w, p, f);
}

static bool is_prompt(const struct prep *p)
{
	return p->rpc_req && !strcmp(p->rpc_req->method, "prompts/get");
}

/* {"name":..,"version":..} of an MCP client or server, when its name is known. */
static char *put_peer_info(char *w, const struct prep *p, bool *first, const char *key,
			   int name, int ver)
{
	bool inner = true;

	if (!prep__n(p, name))
		return w;
	w = put_member_key(w, first, key);
	*w++ = '{';
	w = put_rpc_text(w, p, &inner, "name", name);
	w = put_rpc_text(w, p, &inner, "version", ver);
	*w = '}';
	return w + 1;
}

/*
 * MCP identity: "mcp":{"protocol_version","client":{"name","version"},
 * "server":{...},"session_id","method_header","name_header","traceparent"},
 * each member only when known.
 */
static char *put_mcp(char *w, const struct prep *p)
{
	bool first = true;

	if (!p->x->mcp)
		return w;
	w = PUT(w, ",\"mcp\":{");
	w = put_rpc_text(w, p, &first, "protocol_version", PF_MCP_PROTO);
	w = put_peer_info(w, p, &first, "client", PF_MCP_CLIENT, PF_MCP_CLIENT_VER);
	w = put_peer_info(w, p, &first, "server", PF_MCP_SERVER, PF_MCP_SERVER_VER);
	w = put_rpc_text(w, p, &first, "session_id", PF_MCP_SESSION);
	w = put_rpc_text(w, p, &first, "method_header", PF_MCP_METHOD_HDR);
	w = put_rpc_text(w, p, &first, "name_header", PF_MCP_NAME_HDR);
	w = put_rpc_text(w, p, &first, "traceparent", PF_MCP_TRACE);
	return PUT(w, "}");
}

/* "error":{"code","class","message"} of a JSON-RPC error response. */
static char *put_rpc_error(char *w, const struct prep *p, bool *first)
{
	int64_t code = p->rpc_resp->err_code;

	w = put_member_key(w, first, "error");
	w = PUT(w, "{\"code\":");
	if (code < 0)
		*w++ = '-';
	w = json_u64_at(w, code < 0 ? (uint64_t)0 - (uint64_t)code : (uint64_t)code);
	w = PUT(w, ",\"class\":");
	w = put_name(w, jsonrpc__error_class(code));
	w = PUT(w, ",\"message\":");
	w = put_text(w, p, PF_RPC_ERRMSG);
	return PUT(w, "}");
}

/*
 * JSON-RPC facts, over a stream or inside HTTP bodies:
 * "rpc":{"method","id","tool","direction","error":{"code","message"}}.
 * direction says who sent the request: inbound = to the audited process.
 */
static char *put_rpc(char *w, const struct prep *p)
{
	const struct msg_copy *rq = p->rpc_req ? p->x->req : NULL;
	bool first = true;

	if (!p->rpc_req && !p->rpc_resp)
		return w;
	w = PUT(w, ",\"rpc\":{");
	w = put_rpc_text(w, p, &first, "method", PF_RPC_METHOD);
	w = put_rpc_text(w, p, &first, "id", PF_RPC_ID);
	/* the subject: params.name is a tool for tools/call, a prompt for prompts/get */
	w = put_rpc_text(w, p, &first, is_prompt(p) ? "prompt" : "tool", PF_RPC_TOOL);
	w = put_rpc_text(w, p, &first, "uri", PF_RPC_URI);
	if (rq && p->x->conn->proto == PROTO_JSONRPC) {
		w = put_member_key(w, &first, "direction");
		w = put_name(w, rq->dir == SA_DIR_INGRESS ? "inbound" : "outbound");
	}
	if (p->rpc_resp && p->rpc_resp->kind == RPC_ERROR)
		w = put_rpc_error(w, p, &first);
	return PUT(w, "}");
}

/* The names of the rules that fired, each quoted with a comma: what put_redactions adds to the bound. */
static size_t redactions_room(const struct prep *p)
{
	size_t i, n = redactor__nrules(p->r), room = 0;

	for (i = 0; i < n; i++)
		if (p->hits.mask & (1ULL << i))
			room += strlen(redactor__rule_name(p->r, i)) + 3;
	return room;
}

/* "redactions":["bearer_token",...] in rule order, only when one fired. */
static char *put_redactions(char *w, const struct prep *p)
{
	size_t i, n;
	bool first = true;

	if (!p->hits.mask)
		return w;
	n = redactor__nrules(p->r);
	w = PUT(w, ",\"redactions\":[");
	for (i = 0; i < n; i++) {
		if (!(p->hits.mask & (1ULL << i)))
			continue;
		if (!first)
			*w++ = ',';
		first = false;
		w = put_name(w, redactor__rule_name(p->r, i));	/* [a-z0-9_] */
	}
	*w = ']';
	return w + 1;
}

/*
 * An upper bound of the record: RECORD_FIXED_ROOM, the texts escaped at
 * the worst, the connection id and the names of unbounded length.
 */
static size_t record_room(const struct prep *p)
{
	size_t room = RECORD_FIXED_ROOM + json_quoted_max(p->text) + sizeof(p->x->conn->names.id);

	if (p->req && p->req->malformed)
		room += strlen(p->req->malformed);
	if (p->resp && p->resp->malformed)
		room += strlen(p->resp->malformed);
	if (p->hits.mask)
		room += redactions_room(p);
	return room;
}

/* ts gets where the record's time was written. */
static char *put_head(char *w, const struct prep *p, struct span *ts)
{
	const struct exchange *x = p->x;
	uint64_t t = p->req ? p->req->ts_first_ns : p->resp->ts_first_ns;

	w = PUT(w, "{\"v\":" RECORD_VERSION_TEXT ",\"seq\":");
	w = json_u64_at(w, p->seq);
	w = PUT(w, ",\"ts\":");
	ts->s = w;
	w = ts_put(w, t + p->off);
	ts->n = (size_t)(w - ts->s);
	w = PUT(w, ",\"type\":\"exchange\"");
	w = put_proc(w, p);
	w = put_conn(w, p);
	w = PUT(w, ",\"proto\":");
	w = put_name(w, prep__proto(p));
	w = PUT(w, ",\"outcome\":");
	w = put_name(w, outcome__name(x->outcome));
	w = PUT(w, ",\"critical\":");
	w = put_bool(w, prep__critical(p));
	if (p->req && p->resp) {
		w = PUT(w, ",\"duration_ms\":");
		w = json_ms_at(w, prep__duration_ns(p));
	}
	return w;
}

static void render_json(struct jbuf *jb, const struct prep *p, const struct format_opts *o)
{
	struct span ts;
	char *w;

	(void)o;
	if (!jbuf__grow(jb, record_room(p)))
		return;		/* oom set: the batch is refused and counted */
	w = put_head(jbuf__at(jb), p, &ts);
	w = put_rpc(w, p);
	w = put_mcp(w, p);
	if (p->req)
		w = put_request(w, p, &ts);
	if (p->resp)
		w = put_response(w, p);
	w = put_redactions(w, p);
	if (p->truncated)
		w = PUT(w, ",\"truncated\":true");
	if (p->redact_failed)
		w = PUT(w, ",\"redaction_failed\":true");
	jbuf__end_at(jb, PUT(w, "}\n"));
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
