// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON-RPC 2.0 message extraction and newline-delimited framing. */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "jsonrpc.h"
#include "correlate.h"
#include "proto.h"

/* A longer id keeps its first bytes, "~" and a hash of the whole (16 hex digits). */
#define ID_HASH_LEN 17

/* A cursor over a JSON text that may end early (cut). */
struct jscan {
	const uint8_t *p;
	const uint8_t *end;
	bool cut;	/* the text ended inside a value */
	bool bad;	/* not JSON */
};

static const char *const kind_names[] = {
	[RPC_NONE] = "none",
	[RPC_REQUEST] = "request",
	[RPC_NOTIFICATION] = "notification",
	[RPC_RESULT] = "result",
	[RPC_ERROR] = "error",
};

const char *rpc_kind__name(int kind)
{
	return kind >= RPC_NONE && kind <= RPC_ERROR ? kind_names[kind] : "none";
}

static void skip_ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* Look at the next non-blank byte; 0 when the text ended (and mark it cut). */
static int peek(struct jscan *s)
{
	skip_ws(s);
	if (s->p >= s->end) {
		s->cut = true;
		return 0;
	}
	return *s->p;
}

static bool expect(struct jscan *s, int c)
{
	int got = peek(s);

	if (got == c) {
		s->p++;
		return true;
	}
	if (got)
		s->bad = true;
	return false;
}

/* Append one byte to a bounded C string. */
static void put_ch(char *out, size_t cap, size_t *n, int c)
{
	if (out && *n + 1 < cap)
		out[(*n)++] = (char)c;
}

static int simple_escape(int c)
{
	switch (c) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'b': return '\b';
	case 'f': return '\f';
	case '"': case '\\': case '/': return c;
	}
	return -1;
}

/*
 * A string value, decoded into out (cut to fit; out may be NULL to skip).
 * \uXXXX escapes are kept as written: the record escapes whatever they hold.
 */
static bool scan_string(struct jscan *s, char *out, size_t cap)
{
	size_t n = 0;

	if (!expect(s, '"'))
		return false;
	while (s->p < s->end) {
		int c = *s->p++;

		if (c == '"') {
			if (out)
				out[n] = '\0';
			return true;
		}
		if (c == '\\') {
			int e;

			if (s->p >= s->end)
				break;
			e = simple_escape(*s->p);
			if (e < 0 && *s->p != 'u') {
				s->bad = true;
				return false;
			}
			put_ch(out, cap, &n, e < 0 ? '\\' : e);
			if (e < 0)
				put_ch(out, cap, &n, 'u');
			s->p++;
			continue;
		}
		if (c < 0x20) {
			s->bad = true;
			return false;
		}
		put_ch(out, cap, &n, c);
	}
	s->cut = true;
	if (out)
		out[n] = '\0';
	return false;
}

/* A number's text, copied as written (ids keep their spelling). */
static bool scan_number(struct jscan *s, char *out, size_t cap)
{
	size_t n = 0;

	skip_ws(s);
	if (s->p >= s->end || !(*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))) {
		s->bad = s->p < s->end;
		s->cut = s->p >= s->end;
		return false;
	}
	while (s->p < s->end && strchr("+-0123456789.eE", *s->p) && *s->p)
		put_ch(out, cap, &n, *s->p++);
	if (out)
		out[n] = '\0';
	if (s->p >= s->end)
		s->cut = true;
	return true;
}

static bool scan_literal(struct jscan *s, const char *lit)
{
	size_t n = strlen(lit), have = (size_t)(s->end - s->p);

	if (have < n) {
		if (memcmp(s->p, lit, have))
			s->bad = true;
		s->cut = !s->bad;
		s->p = s->end;
		return false;
	}
	if (memcmp(s->p, lit, n)) {
		s->bad = true;
		return false;
	}
	s->p += n;
	return true;
}

/*
 * Skip any value, nested ones included, without recursion and without a
 * depth limit: 100,000 nested brackets in params must not hide the id and
 * method that came before them (the text is bounded by the line excerpt).
 */
static bool skip_value(struct jscan *s)
{
	size_t depth = 0;
	int c = peek(s);

	if (c == '"')
		return scan_string(s, NULL, 0);
	if (c == 't' || c == 'f' || c == 'n')
		return scan_literal(s, c == 't' ? "true" : c == 'f' ? "false" : "null");
	if (c != '{' && c != '[')
		return c && scan_number(s, NULL, 0);
	while (s->p < s->end) {
		c = *s->p;
		if (c == '"') {
			if (!scan_string(s, NULL, 0))
				return false;
			continue;
		}
		s->p++;
		if (c == '{' || c == '[') {
			depth++;
		} else if ((c == '}' || c == ']') && --depth == 0) {
			return true;
		}
	}
	s->cut = true;
	return false;
}

static uint64_t fnv1a(uint64_t h, uint8_t c)
{
	return (h ^ c) * 0x100000001b3ull;
}

/*
 * The id's JSON text as written, blanks outside strings dropped (a request
 * and its answer may space it differently), bounded: a longer id keeps its
 * first bytes and a hash of all of it, so two long ids stay apart.
 */
static void id_text(struct rpc_msg *m, const uint8_t *p, const uint8_t *end, bool cut)
{
	const size_t keep = RPC_ID_MAX - 1 - ID_HASH_LEN;
	uint64_t h = 0xcbf29ce484222325ull;
	bool str = false, esc = false;
	size_t n = 0;

	for (; p < end; p++) {
		uint8_t c = *p;

		if (!str && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
			continue;
		if (str && esc)
			esc = false;
		else if (str && c == '\\')
			esc = true;
		else if (c == '"')
			str = !str;
		h = fnv1a(h, c);
		if (n < RPC_ID_MAX - 1)
			m->id[n] = (char)c;
		n++;
	}
	if (cut && n > RPC_ID_CUT_KEEP)
		n = RPC_ID_CUT_KEEP;
	if (cut)
		n += (size_t)snprintf(m->id + n, RPC_ID_MAX - n, "%s", RPC_ID_CUT);
	else if (n > RPC_ID_MAX - 1)
		snprintf(m->id + keep, RPC_ID_MAX - keep, "~%016llx", (unsigned long long)h);
	m->id[n < RPC_ID_MAX - 1 ? n : RPC_ID_MAX - 1] = '\0';
}

void jsonrpc__skimmed(struct rpc_msg *m, const struct rpc_line *l)
{
	if (!m->cut)
		return;
	if (l->method && l->method[0] && !m->method[0]) {
		snprintf(m->method, sizeof(m->method), "%s", l->method);
		m->kind = m->has_id ? RPC_REQUEST : RPC_NOTIFICATION;
		m->guessed = false;
	} else if (m->guessed && (l->result || l->error)) {
		m->kind = l->error ? RPC_ERROR : RPC_RESULT;
		m->has_error = l->error;
		m->guessed = false;
	}
}

/*
 * Do two id texts name the same id? Equal, or one was cut (the text ended
 * inside it: a capture or excerpt limit) and their first bytes agree.
 */
bool jsonrpc__id_match(const char *a, size_t an, const char *b, size_t bn)
{
	const size_t cl = sizeof(RPC_ID_CUT) - 1;
	bool ac = an >= cl && !memcmp(a + an - cl, RPC_ID_CUT, cl);
	bool bc = bn >= cl && !memcmp(b + bn - cl, RPC_ID_CUT, cl);
	size_t n;

	if (!ac && !bc)
		return an == bn && !memcmp(a, b, an);
	an -= ac ? cl : 0;
	bn -= bc ? cl : 0;
	/* a whole id shorter than the cut one's first bytes cannot be it */
	if ((ac && !bc && bn < an) || (bc && !ac && an < bn))
		return false;
	n = an < bn ? an : bn;
	return n > 1 && !memcmp(a, b, n);
}

/*
 * The id, of any type: JSON-RPC allows a string, a number or null; an
 * object, an array or a boolean is still recorded (so the request is not
 * lost), flagged. Kept as JSON text, so 1 and "1" differ.
 */
static void scan_id(struct jscan *s, struct rpc_msg *m)
{
	const uint8_t *start;
	int c = peek(s);

	m->has_id = true;
	start = s->p;
	if (!skip_value(s) && s->bad)
		return;
	id_text(m, start, s->p, s->cut);
	if (c == '{' || c == '[' || c == 't' || c == 'f')
		m->malformed = "id_type";
}

typedef void (*member_fn)(struct jscan *s, const char *key, void *arg);

/* Walk an object's members, handing each key's value to fn (which must consume it). */
static bool scan_object(struct jscan *s, member_fn fn, void *arg)
{
	char key[48];	/* "io.modelcontextprotocol/protocolVersion" fits */

	if (!expect(s, '{'))
		return false;
	if (peek(s) == '}') {
		s->p++;
		return true;
	}
	while (!s->bad && !s->cut) {
		const uint8_t *before;

		if (!scan_string(s, key, sizeof(key)) || !expect(s, ':'))
			return false;
		before = s->p;
		fn(s, key, arg);
		if (s->bad || s->cut)
			return false;
		if (s->p == before)	/* fn did not consume the value */
			skip_value(s);
		if (peek(s) == ',') {
			s->p++;
			continue;
		}
		return expect(s, '}');
	}
	return false;
}

const char *jsonrpc__error_class(int64_t code)
{
	switch (code) {
	case -32700: return "parse_error";
	case -32600: return "invalid_request";
	case -32601: return "method_not_found";
	case -32602: return "invalid_params";
	case -32603: return "internal_error";
	}
	if (code >= -32099 && code <= -32000)
		return "server_error";
	if (code >= -32768 && code <= -32000)
		return "reserved";
	return "application_error";
}

/* A string member's value into out, when it is a string. */
static void string_into(struct jscan *s, char *out, size_t cap)
{
	if (peek(s) == '"')
		scan_string(s, out, cap);
}

struct info_arg {
	char *name, *ver;
	size_t name_cap, ver_cap;
};

/* clientInfo / serverInfo: {"name", "version", ...}. */
static void info_member(struct jscan *s, const char *key, void *arg)
{
	struct info_arg *a = arg;

	if (strcmp(key, "name") == 0)
		string_into(s, a->name, a->name_cap);
	else if (strcmp(key, "version") == 0)
		string_into(s, a->ver, a->ver_cap);
}

static void scan_info(struct jscan *s, struct rpc_msg *m, bool client)
{
	struct mcp_ident *id = &m->ident;
	struct info_arg a = {
		client ? id->client_name : id->server_name, client ? id->client_ver : id->server_ver,
		MCP_NAME_MAX, MCP_VER_MAX,
	};

	if (peek(s) == '{')
		scan_object(s, info_member, &a);
}

#define MCP_META_PREFIX "io.modelcontextprotocol/"

/* Members of MCP identity, in params or result, or under _meta with the prefix. */
static bool ident_member(struct jscan *s, const char *key, struct rpc_msg *m)
{
	if (strcmp(key, "protocolVersion") == 0)
		string_into(s, m->ident.proto, sizeof(m->ident.proto));
	else if (strcmp(key, "clientInfo") == 0)
		scan_info(s, m, true);
	else if (strcmp(key, "serverInfo") == 0)
		scan_info(s, m, false);
	else
		return false;
	return true;
}

static void meta_member(struct jscan *s, const char *key, void *arg)
{
	struct rpc_msg *m = arg;
	size_t n = sizeof(MCP_META_PREFIX) - 1;

	if (strcmp(key, "traceparent") == 0)
		string_into(s, m->traceparent, sizeof(m->traceparent));
	else if (!strncmp(key, MCP_META_PREFIX, n))
		ident_member(s, key + n, m);
}

/* params and result alike: the MCP facts a record names. */
static void params_member(struct jscan *s, const char *key, void *arg)
{
	struct rpc_msg *m = arg;

	if (strcmp(key, "name") == 0)
		string_into(s, m->tool, sizeof(m->tool));
	else if (strcmp(key, "uri") == 0)
		string_into(s, m->uri, sizeof(m->uri));
	else if (strcmp(key, "_meta") == 0 && peek(s) == '{')
		scan_object(s, meta_member, m);
	else
		ident_member(s, key, m);
}

static void error_member(struct jscan *s, const char *key, void *arg)
{
	struct rpc_msg *m = arg;
	char num[32];

	if (strcmp(key, "code") == 0 && scan_number(s, num, sizeof(num)))
		m->err_code = strtoll(num, NULL, 10);
	else if (strcmp(key, "message") == 0 && peek(s) == '"')
		scan_string(s, m->err_msg, sizeof(m->err_msg));
	else
		skip_value(s);
}

/* A result: only its identity members and _meta matter here. */
static void result_member(struct jscan *s, const char *key, void *arg)
{
	struct rpc_msg *m = arg;

	if (strcmp(key, "_meta") == 0 && peek(s) == '{')
		scan_object(s, meta_member, m);
	else
		ident_member(s, key, m);
}

struct msg_scan {
	struct rpc_msg *m;
	bool version, result;
};

static void message_member(struct jscan *s, const char *key, void *arg)
{
	struct msg_scan *ms = arg;
	struct rpc_msg *m = ms->m;
	char v[8];

	if (strcmp(key, "jsonrpc") == 0) {
		ms->version = peek(s) == '"' && scan_string(s, v, sizeof(v)) && !strcmp(v, "2.0");
	} else if (strcmp(key, "id") == 0) {
		scan_id(s, m);
	} else if (strcmp(key, "method") == 0 && peek(s) == '"') {
		scan_string(s, m->method, sizeof(m->method));
	} else if (strcmp(key, "params") == 0 && peek(s) == '{') {
		scan_object(s, params_member, m);
	} else if (strcmp(key, "error") == 0 && peek(s) == '{') {
		m->has_error = true;
		scan_object(s, error_member, m);
	} else if (strcmp(key, "result") == 0) {
		ms->result = true;
		if (peek(s) == '{')
			scan_object(s, result_member, m);
	} else {
		skip_value(s);
	}
}

static void classify(struct rpc_msg *m, const struct msg_scan *ms)
{
	if (!ms->version && !m->cut && !m->malformed)
		m->malformed = "version";
	if (m->method[0])
		m->kind = m->has_id ? RPC_REQUEST : RPC_NOTIFICATION;
	else if (m->has_error)
		m->kind = RPC_ERROR;
	else if (ms->result || (m->has_id && m->cut))
		m->kind = RPC_RESULT;
	m->guessed = m->kind == RPC_RESULT && !ms->result;
	/* the subject of the call: a tool, a prompt, a resource */
	if (strcmp(m->method, "tools/call") != 0 && strcmp(m->method, "prompts/get") != 0)
		m->tool[0] = '\0';
	if (strcmp(m->method, "resources/read") != 0)
		m->uri[0] = '\0';
}

/* One message object; false when it is not JSON-RPC. */
static bool parse_message(struct jscan *s, struct rpc_msg *m)
{
	struct msg_scan ms = { .m = m };

	memset(m, 0, sizeof(*m));
	scan_object(s, message_member, &ms);
	m->cut = s->cut;
	if (s->bad)
		return false;
	classify(m, &ms);
	return m->kind != RPC_NONE && (ms.version || m->cut || m->method[0]);
}

int jsonrpc__parse(const uint8_t *buf, size_t len, struct rpc_msg *out, int max)
{
	struct jscan s = { .p = buf, .end = buf + len };
	int n = 0;

	if (peek(&s) == '{')
		return parse_message(&s, &out[0]) ? 1 : -EPROTO;
	if (!expect(&s, '['))
		return -EPROTO;
	while (n < max && peek(&s) == '{') {
		if (!parse_message(&s, &out[n]))
			return n ? n : -EPROTO;
		n++;
		if (s.cut || peek(&s) != ',')
			break;
		s.p++;
	}
	return n ? n : (s.cut ? 0 : -EPROTO);
}

bool jsonrpc__looks_like(const uint8_t *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	return i < len && (buf[i] == '{' || buf[i] == '[');
}

/* ---- inside HTTP ---- */

/* Keep the better of two candidates: the answer to want_id, else the first. */
static void choose(struct rpc_msg *best, int *have, const struct rpc_msg *m, const char *want_id)
{
	bool answers = want_id && (m->kind == RPC_RESULT || m->kind == RPC_ERROR) &&
		       !strcmp(m->id, want_id);
	bool best_answers = *have && want_id && !strcmp(best->id, want_id) &&
			    (best->kind == RPC_RESULT || best->kind == RPC_ERROR);

	if (!*have || (answers && !best_answers))
		*best = *m;
	(*have)++;
}

static void take_text(const uint8_t *p, size_t n, const char *want_id, struct rpc_msg *out,
		      int *have)
{
	struct rpc_msg msgs[8];
	int i, k = jsonrpc__parse(p, n, msgs, 8);

	for (i = 0; i < k; i++)
		choose(out, have, &msgs[i], want_id);
}

/* Each "data:" line of an event stream holds one message (MCP sends one per event). */
static void take_sse(const uint8_t *p, size_t len, const char *want_id, struct rpc_msg *out,
		     int *have)
{
	const uint8_t *end = p + len;

	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', end - p);
		const uint8_t *eol = nl ? nl : end;

		if (eol - p > 5 && !memcmp(p, "data:", 5))
			take_text(p + 5, eol - p - 5, want_id, out, have);
		p = nl ? nl + 1 : end;
	}
}

/*
 * A content type that may name JSON or an event stream: one pass for a 'j'
 * ("json") or a 'v' ("event-stream"), so text/html, images and the like
 * cost no string search (the searches below are case-sensitive too).
 */
static bool ctype_may_carry(const char *ct)
{
	for (; *ct; ct++)
		if (*ct == 'j' || *ct == 'v')
			return true;
	return false;
}

/*
 * A body that may carry JSON-RPC, read. Out of line: the registers and the
 * stack canary its readers need are paid by such bodies only, not by every
 * message jsonrpc__from_http turns away.
 */
static __attribute__((noinline)) int from_http_body(const char *content_type,
						    const uint8_t *body, size_t len,
						    const char *want_id, struct rpc_msg *out)
{
	int have = 0;

	if (strstr(content_type, "text/event-stream"))
		take_sse(body, len, want_id, out, &have);
	else if (strstr(content_type, "json") && jsonrpc__looks_like(body, len))
		take_text(body, len, want_id, out, &have);
	return have;
}

int jsonrpc__from_http(const char *content_type, const uint8_t *body, size_t len,
		       const char *want_id, struct rpc_msg *out)
{
	if (!content_type || !len || !ctype_may_carry(content_type))
		return 0;
	return from_http_body(content_type, body, len, want_id, out);
}

/* ---- framing ---- */

enum rs_mode {
	RS_START,	/* a line has not shown its first non-blank byte */
	RS_LINE,	/* a line that is one message */
	RS_BATCH,	/* a batch line, between its messages */
	RS_ELEM,	/* a batch line, inside one of its messages */
	RS_REST,	/* a batch line after its closing bracket: up to the newline */
};

int rpc_stream__init(struct rpc_stream *s, size_t keep, rpc_line_fn fn, void *ctx)
{
	memset(s, 0, sizeof(*s));
	s->keep = keep ? keep : 1;
	s->fn = fn;
	s->ctx = ctx;
	s->mode = RS_START;
	return 0;
}

/*
 * Room for n more kept bytes, allocated as lines need it: ten thousand idle
 * connections must not hold two full-size line buffers each. On ENOMEM the
 * excerpt just stops growing.
 */
static size_t reserve(struct rpc_stream *s, size_t n)
{
	size_t want = s->len + n < s->keep ? s->len + n : s->keep;
	size_t cap = s->cap ? s->cap : 256;
	uint8_t *nb;

	if (want <= s->cap)
		return want - s->len;
	while (cap < want)
		cap *= 2;
	if (cap > s->keep)
		cap = s->keep;
	nb = realloc(s->buf, cap);
	if (!nb)
		return s->cap - s->len;
	s->buf = nb;
	s->cap = cap;
	return want - s->len;
}

void rpc_stream__free(struct rpc_stream *s)
{
	free(s->buf);
	s->buf = NULL;
	s->cap = s->len = 0;
}

static bool blank(const uint8_t *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++, n--;
	return n == 0;
}

/* ---- skimming a line past its kept bytes ---- */

enum { SK_KEY, SK_INKEY, SK_COLON, SK_VALUE, SK_OTHER };

/* A top-level member's value starts: note what its key says. */
static void skim_member(struct rpc_skim *k, bool string)
{
	bool is = k->klen <= sizeof(k->key);

	if (is && k->klen == 6 && !memcmp(k->key, "method", 6) && string)
		k->in_method = !k->has_method;
	else if (is && k->klen == 6 && !memcmp(k->key, "result", 6))
		k->result = true;
	else if (is && k->klen == 5 && !memcmp(k->key, "error", 5))
		k->error = true;
	k->state = SK_OTHER;
}

static void skim_str_byte(struct rpc_skim *k, uint8_t c)
{
	if (k->esc) {
		k->esc = false;
	} else if (c == '\\') {
		k->esc = true;
	} else if (c == '"') {
		k->in_str = false;
		if (k->depth == 1 && k->state == SK_INKEY)
			k->state = SK_COLON;
		if (k->in_method) {
			k->in_method = false;
			k->has_method = true;
		}
		return;
	}
	if (k->depth == 1 && k->state == SK_INKEY) {
		if (k->klen < sizeof(k->key))
			k->key[k->klen] = (char)c;
		if (k->klen < 255)
			k->klen++;
	} else if (k->in_method && k->mlen < sizeof(k->method) - 1)
		k->method[k->mlen++] = (char)c;
}

static void skim_byte(struct rpc_skim *k, uint8_t c)
{
	if (k->in_str) {
		skim_str_byte(k, c);
		return;
	}
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
		return;
	if (c == '"') {
		k->in_str = true;
		if (k->depth == 1 && k->state == SK_KEY) {
			k->state = SK_INKEY;
			k->klen = 0;
		} else if (k->depth == 1 && k->state == SK_VALUE) {
			skim_member(k, true);
		}
		return;
	}
	if (k->depth == 1 && k->state == SK_VALUE)
		skim_member(k, false);
	if (c == '{' || c == '[')
		k->depth++;
	else if ((c == '}' || c == ']') && k->depth)
		k->depth--;
	else if (c == ':' && k->depth == 1 && k->state == SK_COLON)
		k->state = SK_VALUE;
	else if (c == ',' && k->depth == 1)
		k->state = SK_KEY;
}

static void skim(struct rpc_skim *k, const uint8_t *p, size_t n)
{
	while (n--)
		skim_byte(k, *p++);
}

/*
 * The kept bytes of a line are full: follow its structure from its start
 * (what was kept) so the members past the limit are still seen.
 */
static void skim_start(struct rpc_stream *s)
{
	memset(&s->skim, 0, sizeof(s->skim));
	s->skim.active = true;
	skim(&s->skim, s->buf, s->len);
}

/*
 * The current message is over: hand it on, unless it is blank or only lost
 * bytes (counted as a gap already). Seen bytes after a hole are handed on
 * even when none were kept, so the pipeline counts them.
 */
static void emit_msg(struct rpc_stream *s)
{
	struct rpc_line l = {
		.text = s->buf, .text_len = s->len, .bytes = s->bytes, .lost = s->lost,
		.ts_first = s->ts_first, .ts_last = s->ts_last,
	};

	if (s->skim.active) {
		s->skim.method[s->skim.mlen] = '\0';
		l.method = s->skim.has_method ? s->skim.method : NULL;
		l.result = s->skim.result;
		l.error = s->skim.error;
		s->skim.active = false;
	}

	if (l.text_len && l.text[l.text_len - 1] == '\r')
		l.text_len--;
	if (!blank(l.text, l.text_len) || (s->hole && s->bytes > s->lost))
		s->fn(s->ctx, &l);
	if (s->cap > 4096) {
		/* a long message grew the buffer: idle connections must stay small */
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
	s->len = 0;
	s->bytes = 0;
	s->lost = 0;
	s->hole = false;
}

static void take(struct rpc_stream *s, const uint8_t *p, size_t n, uint64_t ts)
{
	if (!s->bytes && !s->lost)
		s->ts_first = ts;
	s->ts_last = ts;
	if (!s->hole && n) {
		size_t room = reserve(s, n);

		memcpy(s->buf + s->len, p, n < room ? n : room);
		s->len += n < room ? n : room;
		if (s->skim.active)
			skim(&s->skim, p, n);
		else if (room < n && s->len == s->keep && s->mode == RS_LINE)
			skim_start(s), skim(&s->skim, p + room, n - room);
	}
	s->bytes += n;
}

/* A line (or its start): returns bytes used; a '[' first makes it a batch line. */
static size_t line_feed(struct rpc_stream *s, const uint8_t *b, size_t len, uint64_t ts)
{
	const uint8_t *nl = memchr(b, '\n', len);
	size_t n = nl ? (size_t)(nl - b) + 1 : len, i = 0;

	if (s->mode == RS_START) {
		/* blanks before the text: counted, not kept, however the line is split */
		while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r'))
			i++;
		if (i < n && b[i] == '[' && !s->lost) {
			s->bytes = 0;
			s->mode = RS_BATCH;	/* the blanks and '[' are the batch's framing */
			return i + 1;
		}
		if (i && !s->bytes && !s->lost)
			s->ts_first = ts;
		s->bytes += i;
		s->ts_last = ts;
		if (i < n && b[i] != '\n')
			s->mode = RS_LINE;
	}
	take(s, b + i, (nl ? n - 1 : n) - i, ts);
	if (nl) {
		s->bytes++;	/* the newline */
		emit_msg(s);
		s->mode = RS_START;
	}
	return n;
}

/* Between a batch's messages: blanks and commas, its end, or the next message. */
static size_t batch_feed(struct rpc_stream *s, const uint8_t *b, size_t len)
{
	size_t i = 0;

	while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == ','))
		i++;
	if (i == len)
		return i;
	if (b[i] == '\n') {
		s->mode = RS_START;
		return i + 1;
	}
	if (b[i] == ']') {
		s->mode = RS_REST;
		return i + 1;
	}
	s->mode = RS_ELEM;
	s->depth = 0;
	s->in_str = s->esc = false;
	return i;
}

/* Where the current batch message ends in b (len: not yet). */
static size_t elem_end(struct rpc_stream *s, const uint8_t *b, size_t len, bool *done)
{
	size_t i;

	*done = true;
	for (i = 0; i < len; i++) {
		uint8_t c = b[i];

		if (c == '\n')
			return i;
		if (s->in_str) {
			if (s->esc)
				s->esc = false;
			else if (c == '\\')
				s->esc = true;
			else if (c == '"')
				s->in_str = false;
			continue;
		}
		if (c == '"') {
			s->in_str = true;
		} else if (c == '{' || c == '[') {
			s->depth++;
		} else if (c == '}' || c == ']') {
			if (s->depth == 0)	/* the batch's own ']' after a scalar; a stray '}' */
				return c == ']' ? i : i + 1;
			if (--s->depth == 0)
				return i + 1;
		} else if (c == ',' && s->depth == 0) {
			return i;
		}
	}
	*done = false;
	return len;
}

static size_t elem_feed(struct rpc_stream *s, const uint8_t *b, size_t len, uint64_t ts)
{
	bool done;
	size_t n = elem_end(s, b, len, &done);

	take(s, b, n, ts);
	if (done) {
		emit_msg(s);
		s->mode = RS_BATCH;
	}
	return n;
}

/* After a batch's ']': nothing more of it matters up to the newline. */
static size_t rest_feed(struct rpc_stream *s, const uint8_t *b, size_t len)
{
	const uint8_t *nl = memchr(b, '\n', len);

	if (!nl)
		return len;
	s->mode = RS_START;
	return (size_t)(nl - b) + 1;
}

/* The first byte after a gap: '{' or '[' starts a message, whatever was cut before it. */
static void after_gap(struct rpc_stream *s, uint8_t c)
{
	s->after_gap = false;
	if (c != '{' && c != '[')
		return;
	if (s->bytes || s->lost)
		emit_msg(s);
	s->mode = RS_START;
}

void rpc_stream__feed(struct rpc_stream *s, const uint8_t *buf, size_t len, uint64_t ts)
{
	size_t n;

	if (len && s->after_gap)
		after_gap(s, buf[0]);
	while (len) {
		switch (s->mode) {
		case RS_BATCH:
			n = batch_feed(s, buf, len);
			break;
		case RS_ELEM:
			n = elem_feed(s, buf, len, ts);
			break;
		case RS_REST:
			n = rest_feed(s, buf, len);
			break;
		default:
			n = line_feed(s, buf, len, ts);
			break;
		}
		buf += n;
		len -= n;
	}
}

void rpc_stream__gap(struct rpc_stream *s, uint64_t n, uint64_t ts)
{
	if (!s->bytes && !s->lost)
		s->ts_first = ts;
	s->ts_last = ts;
	s->lost += n;
	s->bytes += n;
	s->hole = true;		/* the excerpt stops at the hole, and the skim */
	s->after_gap = true;
	/* inside a batch the nesting is unknown now: the rest of the line is one message */
	s->mode = RS_LINE;
}

void rpc_stream__end_cut(struct rpc_stream *s)
{
	if (!s->after_gap)
		return;
	s->after_gap = false;
	if (s->bytes || s->lost)
		emit_msg(s);
	s->mode = RS_START;
}

void rpc_stream__close(struct rpc_stream *s)
{
	if (s->bytes)
		emit_msg(s);
}

/* ---- the protocol (proto.h): newline-delimited JSON-RPC on a stream ---- */

struct rpc_side {
	struct rpc_state *st;
	uint8_t dir;
};

struct rpc_state {
	const struct proto_env *env;
	struct conn *c;
	struct rpc_stream rs[2];	/* line framing, per direction */
	struct rpc_side side[2];
};

/* One message of a line as a record's message: sizes, times, excerpt. */
static void line_message(struct message *m, const struct rpc_line *l, size_t excerpt)
{
	size_t keep = excerpt ? excerpt + HTTP_BODY_AHEAD : 0;

	m->ts_first_ns = l->ts_first;
	m->ts_last_ns = l->ts_last;
	m->wire_bytes = l->bytes;
	m->body_bytes = l->bytes;
	m->lost_bytes = l->lost;
	m->body = l->text;
	m->body_len = l->text_len < excerpt ? l->text_len : excerpt;
	m->body_ahead = l->text_len - m->body_len;
	if (m->body_ahead > keep - m->body_len)
		m->body_ahead = keep - m->body_len;
	m->body_cut = m->body_len < l->bytes - (l->bytes > l->text_len ? 1 : 0);
	m->incomplete = l->lost > 0;
}

/* Every message of a line (a batch has several) goes to the correlator. */
static void rpc_on_line(void *ctx, const struct rpc_line *l)
{
	struct rpc_side *side = ctx;
	struct rpc_state *st = side->st;
	struct rpc_msg msgs[RPC_BATCH_MAX];
	int i, n = jsonrpc__parse(l->text, l->text_len, msgs, RPC_BATCH_MAX);

	if (n <= 0) {
		proto__unparsed(st->env, l->bytes - l->lost);	/* the lost ones are a gap */
		return;
	}
	if (n == 1)
		jsonrpc__skimmed(&msgs[0], l);
	for (i = 0; i < n; i++) {
		struct msg_copy mc = { .tid = st->env->tid, .dir = side->dir, .rpc = msgs[i] };

		line_message(&mc.m, l, st->env->body_excerpt);
		mc.m.malformed = msgs[i].malformed;
		mc.body = (uint8_t *)l->text;
		correlator__rpc(st->env->cr, st->c, &mc);
	}
}

static bool rpc_detect(const struct conn *c, int dir, const uint8_t *buf, size_t len)
{
	(void)c;
	(void)dir;
	return jsonrpc__looks_like(buf, len);
}

static void rpc_free(struct conn *c)
{
	struct rpc_state *st = c->ps;

	if (!st)
		return;
	rpc_stream__free(&st->rs[0]);
	rpc_stream__free(&st->rs[1]);
	free(st);
	c->ps = NULL;
}

/*
 * Line framing per direction; each line keeps enough to parse and excerpt:
 * 16 KiB, so the method after a long id or params is still seen (the
 * buffer grows only for such lines and shrinks after them). Who speaks
 * first is the client, unless accept/connect said otherwise.
 */
static int rpc_start(const struct proto_env *env, struct conn *c, int dir, const uint8_t *buf,
		     size_t len)
{
	size_t keep = env->body_excerpt > RPC_KEEP_MIN ? env->body_excerpt : RPC_KEEP_MIN;
	struct rpc_state *st = calloc(1, sizeof(*st));

	(void)buf;
	(void)len;
	if (!st)
		return -ENOMEM;
	if (c->role == SA_ROLE_UNKNOWN)
		c->role = dir == SA_DIR_EGRESS ? SA_ROLE_CLIENT : SA_ROLE_SERVER;
	st->env = env;
	st->c = c;
	c->ps = st;
	c->ops = &proto_jsonrpc_ops;
	c->proto = PROTO_JSONRPC;
	for (int d = 0; d < 2; d++) {
		st->side[d] = (struct rpc_side){ st, d };
		if (rpc_stream__init(&st->rs[d], keep, rpc_on_line, &st->side[d]))
			return -ENOMEM;
	}
	return 0;
}

static void rpc_feed(struct conn *c, int dir, const uint8_t *buf, size_t len, uint64_t ts)
{
	struct rpc_state *st = c->ps;

	rpc_stream__end_cut(&st->rs[!dir]);
	rpc_stream__feed(&st->rs[dir], buf, len, ts);
}

static void rpc_gap(struct conn *c, int dir, uint64_t n, uint64_t ts)
{
	struct rpc_state *st = c->ps;

	rpc_stream__gap(&st->rs[dir], n, ts);
}

static void rpc_close(struct conn *c, int outcome, uint64_t ts)
{
	struct rpc_state *st = c->ps;

	(void)outcome;
	(void)ts;
	rpc_stream__close(&st->rs[0]);
	rpc_stream__close(&st->rs[1]);
}

const struct proto_ops proto_jsonrpc_ops = {
	.name = "jsonrpc",
	.proto = PROTO_JSONRPC,
	.detect = rpc_detect,
	.start = rpc_start,
	.feed = rpc_feed,
	.gap = rpc_gap,
	.close = rpc_close,
	.free = rpc_free,
};
