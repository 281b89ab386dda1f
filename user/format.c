// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The formatter table, the shared prepare step and the length cap
 * (format.h, format_int.h).
 *
 * Buffers of the prepare step are thread-local and reused: a record costs
 * no allocation once they have grown to the usual excerpt size.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ascii.h"
#include "format_int.h"
#include "log.h"
#include "mcp.h"

/* Bytes seen past the cut so a secret that straddles it is still found. */
#define CUT_LOOKAHEAD 1024
#define SHRINK_ROUNDS 8

_Static_assert(HTTP_BODY_AHEAD >= REDACT_LOOKAHEAD,
	       "a body excerpt keeps the look-ahead the redactor asks for");

const char *const format_types[] = { "json_lines", "cef", "syslog", "line", "csv", NULL };

static const struct formatter *const formatters[] = {
	&format_json_lines, &format_cef, &format_syslog, &format_line, &format_csv,
};

const struct formatter *formatter__find(const char *type)
{
	size_t i;

	if (!type)
		return NULL;
	for (i = 0; i < sizeof(formatters) / sizeof(formatters[0]); i++)
		if (!strcmp(formatters[i]->type, type))
			return formatters[i];
	return NULL;
}

/* ---- scratch ---- */

/* Buffers of the two text stages, kept from text to text. */
struct scratch {
	uint8_t *strip;			/* stage 1: escape sequences removed */
	size_t strip_len, strip_cap;
	struct jbuf redacted;		/* stage 2: secrets replaced */
};

/*
 * The last clean text of each field and what it became, kept per prep. The
 * side texts (process name, method, host, content types, reason, JSON-RPC
 * names) and short bodies repeat from one exchange to the next; one equal
 * byte for byte to the last, under the same redactor and limit, becomes
 * the same safe text again, so that is copied without the strip, the
 * redactor (whose own clean cache still costs a lock and a hash) and the
 * escaper. Only texts in which no secret was found are kept, and only
 * when nothing was cut: the copy has no effect but its bytes.
 */
#define MEMO_MAX 64
#define MEMO_OUT_MAX (2 * MEMO_MAX)	/* room for a few \xNN escapes */

struct memo {
	uint64_t epoch;			/* the prep's epoch it was kept in; 0: none */
	uint32_t len, keep;		/* text[0..len), of which keep were written */
	uint32_t out_len;
	bool plain;			/* out is ascii_json_plain_all */
	uint32_t json_len;		/* of json; 0 when out is plain */
	char text[MEMO_MAX];
	char out[MEMO_OUT_MAX + 1];	/* the safe text made of it, NUL-terminated */
	char json[6 * MEMO_OUT_MAX + 2];	/* out as a JSON string (json_quoted_max) */
};

/*
 * The content type a body's memo was kept under: what sanitize__detect
 * decides from besides the body's bytes, so a body that hits its memo
 * under the same one is text again without asking it.
 */
struct body_key {
	uint32_t len;
	char ctype[HTTP_CTYPE_MAX];
};

struct format_prep {
	struct prep p;
	struct scratch sc;
	struct memo memo[PF_MAX];
	struct body_key body_key[2];	/* of memo[PF_REQ_BODY], memo[PF_RESP_BODY] */
	/*
	 * The memos' epoch: a new one whenever the redactor or the limit
	 * changes, so a text kept under others is never hit, at the cost of
	 * one compare per text. MEMO_OFF while there is no redactor: then
	 * nothing is kept (the scan fails) and nothing is hit.
	 */
	uint64_t epoch, last_epoch;
	uint64_t epoch_rid;
	size_t epoch_limit;
};

#define MEMO_OFF UINT64_MAX

/* What this thread formats without a prep of its own: event fields, cut copies, one-shot exchanges. */
struct thread_scratch {
	struct scratch sc;
	struct jbuf cstr;		/* format__safe_cstr */
	struct prep cut;		/* format__render's copy of a record too long */
	struct format_prep *once;	/* format__exchange_once */
};

static __thread struct thread_scratch tls;

static atomic_bool warned_truncation;

static uint32_t max_len(const struct format_opts *o)
{
	uint32_t m = o && o->max_message_length ? o->max_message_length :
						  FORMAT_MAX_MESSAGE_DEFAULT;

	return m < FORMAT_MAX_MESSAGE_MIN ? FORMAT_MAX_MESSAGE_MIN : m;
}

/* sc->strip holds at least cap bytes; false when it cannot grow. */
static bool strip_reserve(struct scratch *sc, size_t cap)
{
	uint8_t *b;

	if (sc->strip_cap >= cap)
		return true;
	b = realloc(sc->strip, cap);
	if (!b)
		return false;
	/*
	 * Zeroed once: PCRE2's JIT reads whole vectors, a little past the
	 * end of the subject, and valgrind would flag the bytes it never uses.
	 */
	memset(b + sc->strip_cap, 0, cap - sc->strip_cap);
	sc->strip = b;
	sc->strip_cap = cap;
	return true;
}

/*
 * Stage 1 into sc->strip: at most limit + CUT_LOOKAHEAD bytes of the first
 * keep bytes of s with escape sequences removed, then up to
 * HTTP_BODY_AHEAD more from the rest of s (the look-ahead). *kept gets
 * the stripped length of the first part. Returns true when the first
 * keep bytes did not fit.
 */
static bool strip_bounded(struct scratch *sc, const uint8_t *s, size_t n, size_t keep,
			  size_t limit, size_t *kept)
{
	size_t cap = limit + CUT_LOOKAHEAD, used, rest;

	if (!strip_reserve(sc, cap + HTTP_BODY_AHEAD)) {
		sc->strip_len = *kept = 0;
		return true;
	}
	sc->strip_len = *kept = sanitize__strip(sc->strip, cap, s, keep, &used);
	if (used < keep)
		return true;	/* cut here for the length cap: CUT_LOOKAHEAD is its look-ahead */
	if (keep < n)
		sc->strip_len += sanitize__strip(sc->strip + *kept, HTTP_BODY_AHEAD, s + keep,
						 n - keep, &rest);
	return false;
}

static void scratch_free(struct scratch *sc)
{
	free(sc->strip);
	jbuf__free(&sc->redacted);
	memset(sc, 0, sizeof(*sc));
}

static void withhold(struct prep *p, struct jbuf *out)
{
	/* the scan could not run (or no redactor could be built): never leak */
	jbuf__raw(out, "[redaction failed]", 18);
	p->redact_failed = true;
}

/*
 * The NUL-terminated s (in an array of max bytes) is the memo's text: its
 * bytes, then the NUL or the end of the array. No strnlen first: the bytes
 * are compared before s[len] is read, so nothing past a shorter string's
 * NUL decides the answer.
 */
static inline __attribute__((always_inline)) bool memo_hit(const struct memo *m, uint64_t epoch,
							    const char *s, size_t max)
{
	return m->epoch == epoch && m->len <= max &&
	       bytes_eq(m->text, s, m->len) && (m->len == max || !s[m->len]);
}

/* s[0..n), of which keep are written, is the memo's text. */
static bool memo_hit_bytes(const struct memo *m, uint64_t epoch, const uint8_t *s, size_t n,
			   size_t keep)
{
	return m->epoch == epoch && m->len == n &&
	       m->keep == keep && bytes_eq(m->text, s, n);
}

/*
 * Text f is s[0..n), NUL-terminated, which stays as it is until the
 * record is rendered: not copied. plain: ascii_json_plain_all(s, n).
 */
static inline __attribute__((always_inline)) void prep_view(struct prep *p, int f, const char *s,
							     size_t n, bool plain)
{
	uint32_t bit = 1u << f;

	p->used |= bit;
	p->json &= ~bit;
	p->text += n - p->n[f];
	p->s[f] = s;
	p->n[f] = n;
	p->plain = (p->plain & ~bit) | (uint32_t)plain << f;
}

/* The storage of text f, emptied, for a text made here (prep_own ends it). */
static struct jbuf *prep_out(struct prep *p, int f)
{
	p->owned |= 1u << f;
	jbuf__reset(&p->f[f]);
	return &p->f[f];
}

/* Text f is what its storage holds now; plain when empty (a longer one is not scanned for it). */
static void prep_own(struct prep *p, int f)
{
	const struct jbuf *out = &p->f[f];

	prep_view(p, f, out->buf ? out->buf : "", out->len, !out->len);
}

/* The field f gets the memo's safe text, and its JSON string when it has one. */
static inline __attribute__((always_inline)) void memo_put(struct prep *p, int f,
							    const struct memo *m)
{
	prep_view(p, f, m->out, m->out_len, m->plain);
	if (m->json_len) {
		p->json |= 1u << f;
		p->js[f] = m->json;
		p->jn[f] = m->json_len;
	}
}

/* Secrets found in the record so far: a sum over the rules that fired, none usually. */
static uint64_t hits_total(const struct redact_hits *h)
{
	uint64_t t = 0, m = h->mask;

	for (; m; m &= m - 1)
		t += h->count[__builtin_ctzll(m)];
	return t;
}

/*
 * s became out with no secret found in it and nothing cut or withheld in
 * the record (hits: hits_total before it): remembered.
 */
static bool memo_keep(struct memo *m, uint64_t epoch, const struct prep *p,
		      const struct jbuf *out, const uint8_t *s, size_t n, size_t keep, uint64_t hits)
{
	size_t out_len = out->len;

	if (n > MEMO_MAX || out_len > MEMO_OUT_MAX || out->oom || p->truncated ||
	    p->redact_failed || hits_total(&p->hits) != hits)
		return false;
	if (n)	/* an absent body is NULL */
		memcpy(m->text, s, n);
	if (out_len)
		memcpy(m->out, out->buf, out_len);
	m->out[out_len] = '\0';
	m->plain = ascii_json_plain_all((const uint8_t *)m->out, out_len);
	m->json_len = m->plain ? 0 : (uint32_t)(json_quoted_at(m->json, (const uint8_t *)m->out,
								out_len) - m->json);
	m->len = (uint32_t)n;
	m->keep = (uint32_t)keep;
	m->out_len = (uint32_t)out_len;
	m->epoch = epoch;
	return true;
}

/* A redacted text in out (from `from` on) past limit: bounded as the escape step bounds any. */
static void bound_redacted(struct prep *p, struct scratch *sc, struct jbuf *out, size_t from,
			   size_t limit)
{
	jbuf__reset(&sc->redacted);
	jbuf__raw(&sc->redacted, out->buf + from, out->len - from);
	out->len = from;
	out->buf[from] = '\0';
	if (sanitize__escape(out, (const uint8_t *)sc->redacted.buf, sc->redacted.len, limit) <
	    sc->redacted.len) {
		sanitize__cut(out, limit);
		p->truncated = true;
	}
}

/*
 * One text of the record: stripped, redacted (when redact), escaped and
 * bounded by limit. Only its first keep bytes are written; the n - keep
 * after them are the look-ahead of a cut excerpt, seen by the redactor
 * only. A text the redactor could not scan is withheld, never written.
 */
static void text_into(struct format_prep *fp, struct jbuf *out, const uint8_t *s, size_t n,
		      size_t keep, bool redact, size_t limit)
{
	struct prep *p = &fp->p;
	struct scratch *sc = &fp->sc;
	/*
	 * Printable ASCII that fits is already safe text: nothing to strip or
	 * escape, and what the redactor makes of it is printable too (its
	 * markers are). Only the redaction scan may be left.
	 */
	bool printable, cut = false;
	const uint8_t *src = n ? s : (const uint8_t *)"";	/* an absent body is NULL */
	size_t len = n, from = out->len;

	if (!n && (p->r || !redact)) {
		/* an empty text (a missing header, no body): what the redactor would give back */
		jbuf__raw(out, "", 0);
		return;
	}
	printable = keep <= limit && ascii_printable_all(s, n);
	if (printable && !redact) {
		jbuf__raw(out, (const char *)s, keep);
		return;
	}
	if (printable && keep == n) {
		/* the redactor's output is the safe text itself: no copy in between */
		if (!p->r || redactor__redact_cut(p->r, src, n, n, out, &p->hits)) {
			withhold(p, out);
			return;
		}
		if (out->len - from > limit)
			bound_redacted(p, sc, out, from, limit);	/* markers made it longer */
		return;
	}
	if (!printable) {
		cut = strip_bounded(sc, s, n, keep, limit, &keep);
		src = sc->strip;
		len = sc->strip_len;
	}
	if (redact) {
		jbuf__reset(&sc->redacted);
		if (!p->r || redactor__redact_cut(p->r, src, len, keep, &sc->redacted, &p->hits) ||
		    sc->redacted.oom) {
			withhold(p, out);
			return;
		}
		src = (const uint8_t *)sc->redacted.buf;
		len = keep = sc->redacted.len;
	}
	if (printable && keep <= limit) {
		if (keep)
			jbuf__raw(out, (const char *)src, keep);
		return;
	}
	if (sanitize__escape(out, src, keep, limit) < keep || cut) {
		sanitize__cut(out, limit);
		p->truncated = true;
	}
}

/* text_into the storage of text f, which becomes its text. */
static void prep_text(struct format_prep *fp, int f, const uint8_t *s, size_t n, size_t keep,
		      bool redact, size_t limit)
{
	text_into(fp, prep_out(&fp->p, f), s, n, keep, redact, limit);
	prep_own(&fp->p, f);
}

/* prep_text of a redacted text, whose result the field's memo keeps when it can (true). */
static bool prep_remembered(struct format_prep *fp, int f, const uint8_t *s, size_t n,
			    size_t keep, size_t limit)
{
	uint64_t hits = hits_total(&fp->p.hits);

	prep_text(fp, f, s, n, keep, true, limit);
	return memo_keep(&fp->memo[f], fp->epoch, &fp->p, &fp->p.f[f], s, n, keep, hits);
}

/*
 * A NUL-terminated text of the record: everything the audited side can
 * write (start line, header values, JSON-RPC facts, its own name and
 * executable) is redacted; only addresses, which the kernel gives and
 * the ipv4/ipv6 rules would erase, are not.
 */
static __attribute__((noinline)) void prep_cstr_new(struct format_prep *fp, int f, const char *s,
						      size_t max, size_t limit)
{
	size_t n = strnlen(s, max);

	prep_remembered(fp, f, (const uint8_t *)s, n, n, limit);
}

/*
 * Inline: most side texts end in the memo's test, and a call to it would
 * cost as much again. A text that is not the memo's goes out of line.
 */
static inline __attribute__((always_inline)) void prep_cstr(struct format_prep *fp, int f,
							    const char *s, size_t max, size_t limit)
{
	if (!s)
		return;
	if (!s[0] && fp->p.r) {
		/* an absent header or exe: prep_text's empty text, without its entry */
		prep_view(&fp->p, f, "", 0, true);
		return;
	}
	if (memo_hit(&fp->memo[f], fp->epoch, s, max)) {
		/* here, not in prep_text: most side texts end here, before its heavier entry */
		memo_put(&fp->p, f, &fp->memo[f]);
		return;
	}
	prep_cstr_new(fp, f, s, max, limit);
}

/*
 * An address, not redacted. One the kernel gave as plain text, as almost
 * all are, is already what prep_text would make of it: the connection's
 * own string is the text, with no copy.
 */
static void prep_addr(struct format_prep *fp, int f, const char *s, size_t max, size_t limit)
{
	size_t n = ascii_json_plain_cstr((const uint8_t *)s, max);

	if (n < max && n <= limit) {
		prep_view(&fp->p, f, s, n, true);
		return;
	}
	n = strnlen(s, max);
	prep_text(fp, f, (const uint8_t *)s, n, n, false, limit);
}

/* ct (a content_type array) is the one k was kept under. */
static bool body_key_is(const struct body_key *k, const char *ct)
{
	return bytes_eq(k->ctype, ct, k->len) && (k->len == HTTP_CTYPE_MAX || !ct[k->len]);
}

/*
 * A body: its memo when the bytes and the content type are the last ones
 * kept (only text is kept, so it is text again); detected and prepared
 * otherwise, kept with its content type when it can be.
 */
static void prep_body(struct format_prep *fp, int side, int f, const struct message *m,
		      const char *content_type, size_t limit)
{
	struct prep *p = &fp->p;
	struct body_key *k = &fp->body_key[side];
	size_t n = m->body_len + m->body_ahead;
	int kind;

	if (memo_hit_bytes(&fp->memo[f], fp->epoch, m->body, n, m->body_len) &&
	    body_key_is(k, content_type)) {
		p->kind[side] = PK_TEXT;
		memo_put(p, f, &fp->memo[f]);
		return;
	}
	kind = sanitize__detect(m->body, m->body_len, content_type);
	p->kind[side] = kind;
	if (kind != PK_TEXT) {
		sanitize__binary_summary(prep_out(p, f), kind, m->body, m->body_len, m->body_bytes);
		prep_own(p, f);
	} else if (prep_remembered(fp, f, m->body, n, m->body_len, limit)) {
		k->len = (uint32_t)strnlen(content_type, HTTP_CTYPE_MAX);
		memcpy(k->ctype, content_type, k->len);
	}
}

static const char *const empty_texts[PF_MAX] = { [0 ... PF_MAX - 1] = "" };
static const size_t empty_lengths[PF_MAX];

static void prep_reset(struct prep *p)
{
	/* all at once: constant-size copies, cheaper than a loop over the fields set */
	memcpy(p->s, empty_texts, sizeof(p->s));
	memcpy(p->n, empty_lengths, sizeof(p->n));	/* moves: memset would be a rep stos */
	p->text = 0;
	p->used = p->owned = p->json = 0;
	p->plain = ~0u;
	/* a rule's count is set only with its bit (redact.c): clear those, not all 64 */
	for (uint64_t m = p->hits.mask; m; m &= m - 1)
		p->hits.count[__builtin_ctzll(m)] = 0;
	p->hits.mask = 0;
	p->kind[0] = p->kind[1] = PK_TEXT;
	p->truncated = p->redact_failed = false;
}

/* Field "to" becomes the text of field "from", already prepared: not scanned twice. */
static void prep_copy(struct prep *p, int to, int from)
{
	size_t jn;
	const char *js = prep__json(p, from, &jn);

	prep_view(p, to, prep__s(p, from), prep__n(p, from), prep__plain(p, from));
	if (js) {
		p->json |= 1u << to;
		p->js[to] = js;
		p->jn[to] = (uint32_t)jn;
	}
}

/* MCP identity, headers and trace context: texts from the wire, made safe like the rest. */
static void prep_mcp(struct format_prep *fp, size_t lim)
{
	const struct mcp_view *v = fp->p.x->mcp;

	if (!v)
		return;
	prep_cstr(fp, PF_MCP_PROTO, v->id.proto, sizeof(v->id.proto), lim);
	prep_cstr(fp, PF_MCP_CLIENT, v->id.client_name, sizeof(v->id.client_name), lim);
	prep_cstr(fp, PF_MCP_CLIENT_VER, v->id.client_ver, sizeof(v->id.client_ver), lim);
	prep_cstr(fp, PF_MCP_SERVER, v->id.server_name, sizeof(v->id.server_name), lim);
	prep_cstr(fp, PF_MCP_SERVER_VER, v->id.server_ver, sizeof(v->id.server_ver), lim);
	prep_cstr(fp, PF_MCP_SESSION, v->session, sizeof(v->session), lim);
	prep_cstr(fp, PF_MCP_METHOD_HDR, v->method_hdr, sizeof(v->method_hdr), lim);
	prep_cstr(fp, PF_MCP_NAME_HDR, v->name_hdr, sizeof(v->name_hdr), lim);
	prep_cstr(fp, PF_MCP_TRACE, v->traceparent, sizeof(v->traceparent), lim);
}

/*
 * JSON-RPC facts (method, id, tool, error message) made safe like every
 * other text; an error message can quote the input, so it is redacted.
 * On a JSON-RPC stream the HTTP start-line fields are empty: the method and
 * tool stand in for them, so formats without an "rpc" object still say
 * what was called.
 */
static void prep_rpc(struct format_prep *fp, size_t lim)
{
	struct prep *p = &fp->p;
	const struct exchange *x = p->x;
	const struct rpc_msg *rq, *rs, *id;

	rq = p->rpc_req = x->req && x->req->rpc.kind ? &x->req->rpc : NULL;
	rs = p->rpc_resp = x->resp && x->resp->rpc.kind ? &x->resp->rpc : NULL;
	id = rq && rq->has_id ? rq : rs && rs->has_id ? rs : NULL;
	if (rq) {
		prep_cstr(fp, PF_RPC_METHOD, rq->method, RPC_METHOD_MAX, lim);
		prep_cstr(fp, PF_RPC_TOOL, rq->tool, RPC_TOOL_MAX, lim);
	}
	if (id)
		prep_cstr(fp, PF_RPC_ID, id->id, RPC_ID_MAX, lim);
	if (rs && rs->kind == RPC_ERROR)
		prep_cstr(fp, PF_RPC_ERRMSG, rs->err_msg, RPC_ERRMSG_MAX, lim);
	if (rq)
		prep_cstr(fp, PF_RPC_URI, rq->uri, RPC_URI_MAX, lim);
	if (x->conn->proto == PROTO_JSONRPC && rq) {
		prep_copy(p, PF_METHOD, PF_RPC_METHOD);
		prep_copy(p, PF_TARGET, rq->uri[0] ? PF_RPC_URI : PF_RPC_TOOL);
	}
	prep_mcp(fp, lim);
}

struct format_prep *format_prep__new(void)
{
	struct format_prep *fp = calloc(1, sizeof(struct format_prep));

	if (!fp)
		return NULL;
	memcpy(fp->p.s, empty_texts, sizeof(fp->p.s));
	fp->p.plain = ~0u;
	return fp;
}

void format_prep__free(struct format_prep *fp)
{
	int i;

	if (!fp)
		return;
	for (i = 0; i < PF_MAX; i++)
		jbuf__free(&fp->p.f[i]);
	scratch_free(&fp->sc);
	free(fp);
}

static bool prep_oom(const struct prep *p)
{
	uint32_t m;

	for (m = p->owned; m; m &= m - 1)
		if (p->f[__builtin_ctz(m)].oom)
			return true;
	return false;
}

/* The memos' epoch for this record (see struct format_prep). */
static void memo_epoch(struct format_prep *fp, size_t limit)
{
	if (fp->p.rid != fp->epoch_rid || limit != fp->epoch_limit) {
		fp->epoch_rid = fp->p.rid;
		fp->epoch_limit = limit;
		fp->last_epoch++;
	}
	fp->epoch = fp->p.rid ? fp->last_epoch : MEMO_OFF;
}

int format__prepare(struct format_prep *fp, const struct format_opts *o, uint64_t seq,
		    const struct exchange *x, const struct proc_info *pi, int64_t off,
		    bool critical)
{
	struct prep *p = &fp->p;
	const struct conn *c = x->conn;
	size_t lim = max_len(o);

	prep_reset(p);
	p->seq = seq, p->off = off, p->x = x, p->pi = pi;
	p->critical = critical;
	p->req = x->req ? &x->req->m : NULL;
	p->resp = x->resp ? &x->resp->m : NULL;
	p->r = o && o->redactor ? o->redactor : redactor__default();
	p->rid = p->r ? redactor__id(p->r) : 0;
	memo_epoch(fp, lim);
	prep_cstr(fp, PF_COMM, c->comm, sizeof(c->comm), lim);
	prep_cstr(fp, PF_EXE, pi ? pi->exe : NULL, sizeof(pi->exe), lim);
	/* named by the correlator when it made x (conn__name) */
	prep_addr(fp, PF_LOCAL, c->names.local, sizeof(c->names.local), lim);
	prep_addr(fp, PF_PEER, c->names.peer, sizeof(c->names.peer), lim);
	if (p->req) {
		const struct http_part *h = msg_http(p->req);

		prep_cstr(fp, PF_METHOD, h->method, HTTP_METHOD_MAX, lim);
		prep_cstr(fp, PF_TARGET, h->target, HTTP_TARGET_MAX, lim);
		prep_cstr(fp, PF_HOST, h->host, HTTP_HOST_MAX, lim);
		prep_cstr(fp, PF_REQ_CTYPE, h->content_type, HTTP_CTYPE_MAX, lim);
		prep_body(fp, 0, PF_REQ_BODY, p->req, h->content_type, lim);
	}
	if (p->resp) {
		const struct http_part *h = msg_http(p->resp);

		prep_cstr(fp, PF_REASON, h->reason, HTTP_REASON_MAX, lim);
		prep_cstr(fp, PF_RESP_CTYPE, h->content_type, HTTP_CTYPE_MAX, lim);
		prep_body(fp, 1, PF_RESP_BODY, p->resp, h->content_type, lim);
	}
	prep_rpc(fp, lim);
	return prep_oom(p) ? -ENOMEM : 0;
}

bool format_prep__critical(const struct format_prep *fp)
{
	return prep__critical(&fp->p);
}

/*
 * Cut the longest texts by about `need` bytes in all. A text byte costs one
 * to two record bytes once a format has escaped it, so the caller asks for
 * half the excess first and renders again; the cut converges without
 * throwing away twice what it must. False when nothing is left to cut.
 */
static bool prep_shrink(struct prep *p, size_t need)
{
	bool cut = false;

	while (need) {
		int i, big = -1;
		size_t take, keep;

		for (i = 0; i < PF_MAX; i++)
			if (p->n[i] > 2 * SANITIZE_TRUNC_MARK_LEN && (big < 0 || p->n[i] > p->n[big]))
				big = i;
		if (big < 0)
			return cut;
		/* the mark replaces what is cut: take it back too */
		take = need + SANITIZE_TRUNC_MARK_LEN;
		keep = take < p->n[big] - SANITIZE_TRUNC_MARK_LEN ? p->n[big] - take :
								   SANITIZE_TRUNC_MARK_LEN;
		need -= need < p->n[big] - keep ? need : p->n[big] - keep;
		/* every text of the copy is in its own storage (prep_clone); a cut one stays as plain */
		sanitize__cut(&p->f[big], keep);
		p->text -= p->n[big] - p->f[big].len;
		p->s[big] = p->f[big].buf;
		p->n[big] = p->f[big].len;
		p->truncated = cut = true;
	}
	return cut;
}

/* Excess text to cut this round: half, then all of it on the last rounds. */
static size_t shrink_need(size_t excess, int round)
{
	/* "truncated":true and the marks add bytes the first time */
	size_t extra = round ? 0 : 24;

	return (round < SHRINK_ROUNDS - 2 ? excess / 2 + 1 : excess) + extra;
}

static void jbuf_rewind(struct jbuf *jb, size_t len)
{
	jb->len = len;
	if (jb->buf)
		jb->buf[len] = '\0';
	jb->depth = 0;
	jb->first[0] = true;
}

static void warn_truncated(const struct prep *p, uint32_t max)
{
	if (atomic_exchange(&warned_truncation, true))
		return;
	log_warn("record seq %llu cut to max_message_length=%u bytes (\"truncated\": true); "
		 "raise max_message_length in the sink config to keep longer excerpts "
		 "(this warning is shown once)", (unsigned long long)p->seq, max);
}

/* dst becomes a copy of src whose texts, each in dst's own storage, can be cut without touching src. */
static void prep_clone(struct prep *dst, const struct prep *src)
{
	struct jbuf keep[PF_MAX];
	uint32_t m;
	int i;

	memcpy(keep, dst->f, sizeof(keep));	/* dst's own buffers, reused */
	*dst = *src;
	memcpy(dst->f, keep, sizeof(keep));
	for (m = src->used; m; m &= m - 1) {
		i = __builtin_ctz(m);
		jbuf__reset(&dst->f[i]);
		jbuf__raw(&dst->f[i], prep__s(src, i), prep__n(src, i));
		dst->s[i] = dst->f[i].buf ? dst->f[i].buf : "";
		dst->n[i] = dst->f[i].len;
	}
	dst->owned = src->used;
	dst->json = 0;		/* its texts may be cut: quoted again */
}

/* Render p's copy again with its longest texts cut until the record fits max. */
static void render_cut(const struct formatter *f, struct jbuf *jb, const struct format_opts *o,
		       const struct prep *p, size_t start, size_t max)
{
	struct prep *cp = &tls.cut;
	int round;

	prep_clone(cp, p);
	if (prep_oom(cp)) {
		jb->oom = true;
		return;
	}
	for (round = 0; round < SHRINK_ROUNDS; round++) {
		if (!prep_shrink(cp, shrink_need(jb->len - start - max, round)))
			break;
		jbuf_rewind(jb, start);
		f->render(jb, cp, o);
		if (jb->oom || jb->len - start <= max)
			break;
	}
	if (cp->truncated)
		warn_truncated(cp, (uint32_t)max);
}

int format__render(const struct formatter *f, struct jbuf *jb, const struct format_opts *o,
		   const struct format_prep *fp)
{
	size_t start = jb->len, max = max_len(o);
	const struct prep *p = &fp->p;

	f->render(jb, p, o);
	if (!jb->oom && jb->len - start > max)
		render_cut(f, jb, o, p, start, max);	/* rare: p stays as it is for other formats */
	else if (p->truncated)
		warn_truncated(p, (uint32_t)max);
	return jb->oom ? -ENOMEM : 0;
}

int format__exchange_once(const struct formatter *f, struct jbuf *jb,
			  const struct format_opts *o, uint64_t seq, const struct exchange *x,
			  const struct proc_info *pi, int64_t off)
{
	if (!tls.once && !(tls.once = format_prep__new()))
		return -ENOMEM;
	if (format__prepare(tls.once, o, seq, x, pi, off, exchange__critical(x)))
		return -ENOMEM;
	return format__render(f, jb, o, tls.once);
}

const char *format__safe_cstr(const char *s, size_t *len)
{
	struct jbuf *b = &tls.cstr;
	struct scratch *sc = &tls.sc;
	size_t n = s ? strlen(s) : 0, kept;
	bool cut = strip_bounded(sc, (const uint8_t *)s, n, n, FORMAT_MAX_MESSAGE_MIN, &kept);

	jbuf__reset(b);
	jbuf__raw(b, "", 0);
	if (sanitize__escape(b, sc->strip, sc->strip_len, FORMAT_MAX_MESSAGE_MIN) <
	    sc->strip_len || cut)
		sanitize__cut(b, FORMAT_MAX_MESSAGE_MIN);
	*len = b->oom ? 0 : b->len;
	return b->oom || !b->buf ? "" : b->buf;
}

const char *format__field_text(const struct format_field *f, char num[24], size_t *len)
{
	bool neg = f->kind == FF_I64 && f->i < 0;
	uint64_t v = f->kind == FF_U64 ? f->u : neg ? (uint64_t)0 - (uint64_t)f->i : (uint64_t)f->i;
	char *p = num + 24;

	if (f->kind == FF_STR)
		return format__safe_cstr(f->s, len);
	if (f->kind == FF_BOOL) {
		*len = f->b ? 4 : 5;
		return f->b ? "true" : "false";
	}
	p = jbuf__digits(p, v);
	if (neg)
		*--p = '-';
	*len = (size_t)(num + 24 - p);
	return p;
}

/* ---- small helpers ---- */

size_t format__ts_text(char out[40], uint64_t real_ns, int frac_digits)
{
	time_t secs = (time_t)(real_ns / 1000000000ULL);
	uint32_t frac = real_ns % 1000000000ULL;
	struct tm tm;
	size_t len;
	int i;

	gmtime_r(&secs, &tm);
	len = strftime(out, 40, "%Y-%m-%dT%H:%M:%S.", &tm);
	for (i = 9; i > frac_digits; i--)
		frac /= 10;
	for (i = frac_digits - 1; i >= 0; i--, frac /= 10)
		out[len + (size_t)i] = (char)('0' + frac % 10);
	len += (size_t)frac_digits;
	out[len++] = 'Z';
	out[len] = '\0';
	return len;
}

static char host_name[256];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

/* Once per process: gethostname is a system call, records are many. */
static void host_resolve(void)
{
	if (gethostname(host_name, sizeof(host_name) - 1) || !host_name[0])
		snprintf(host_name, sizeof(host_name), "-");
}

const char *format__hostname(const struct format_opts *o)
{
	if (o && o->hostname && o->hostname[0])
		return o->hostname;
	pthread_once(&host_once, host_resolve);
	return host_name;
}

void format__redactions_csv(struct jbuf *out, const struct prep *p, const char *sep)
{
	size_t i, n = p->r ? redactor__nrules(p->r) : 0;
	bool first = true;

	for (i = 0; i < n; i++) {
		const char *name;

		if (!(p->hits.mask & (1ULL << i)))
			continue;
		name = redactor__rule_name(p->r, i);
		if (!first)
			jbuf__raw(out, sep, strlen(sep));
		jbuf__raw(out, name, strlen(name));
		first = false;
	}
}

void format__u64(struct jbuf *jb, uint64_t v)
{
	if (JSON_U64_MAX >= jb->cap - jb->len && !jbuf__grow(jb, JSON_U64_MAX))
		return;
	jbuf__end_at(jb, json_u64_at(jbuf__at(jb), v));
}

void format__ms(struct jbuf *jb, uint64_t ns)
{
	if (JSON_MS_MAX >= jb->cap - jb->len && !jbuf__grow(jb, JSON_MS_MAX))
		return;
	jbuf__end_at(jb, json_ms_at(jbuf__at(jb), ns));
}

int prep__severity(const struct prep *p)
{
	if (p->redact_failed)
		return 9;
	if (prep__critical(p))
		return 8;
	if (p->x->outcome != OUTCOME_OK || (p->resp && msg_http(p->resp)->status >= 500))
		return 5;
	return 3;
}

const char *prep__role(const struct prep *p)
{
	static const char *const names[] = { "unknown", "server", "client" };
	int r = p->x->conn->role;

	return names[r >= 0 && r <= SA_ROLE_CLIENT ? r : 0];
}

const char *prep__transport(const struct prep *p)
{
	return conn__transport_name(p->x->conn);
}

const char *prep__proto(const struct prep *p)
{
	static const char *const names[] = { "unknown", "http", "raw", "jsonrpc" };
	int pr = p->x->conn->proto;

	if (pr == PROTO_RAW && p->x->conn->tls_h2)
		return "h2";	/* TLS ALPN h2: written raw until HTTP/2 is parsed */

	return names[pr >= 0 && pr <= PROTO_JSONRPC ? pr : 0];
}

void format__split_endpoint(const char *ep, char *addr, size_t alen, uint32_t *port)
{
	const char *colon = strrchr(ep, ':');
	size_t n = colon ? (size_t)(colon - ep) : strlen(ep);
	char *end;
	unsigned long v;

	*port = 0;
	if (colon) {
		errno = 0;
		v = strtoul(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || v > 65535)
			n = strlen(ep);
		else
			*port = (uint32_t)v;
	}
	if (n >= alen)
		n = alen - 1;
	memcpy(addr, ep, n);
	addr[n] = '\0';
	/* [::1]:80 -> ::1 */
	if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
		memmove(addr, addr + 1, n - 2);
		addr[n - 2] = '\0';
	}
}

/* RFC 6587 3.4.1: the frame is the decimal length, a space, the message. */
void format__frame_octets(struct jbuf *jb, size_t start)
{
	char tmp[24], *p = tmp + sizeof(tmp) - 1;
	size_t len, pre;

	if (jb->oom || start >= jb->len)
		return;
	len = jb->len - start;
	if (jb->buf[jb->len - 1] == '\n')
		len--;
	*p = ' ';
	p = jbuf__digits(p, len);
	pre = (size_t)(tmp + sizeof(tmp) - p);
	jbuf__raw(jb, tmp, pre);	/* grow by the prefix, then move the message */
	if (jb->oom)
		return;
	memmove(jb->buf + start + pre, jb->buf + start, len);
	memcpy(jb->buf + start, p, pre);
	jb->len = start + pre + len;
	jb->buf[jb->len] = '\0';
}

/* This thread's scratch buffers freed (a writer thread, before it exits). */
void format__thread_free(void)
{
	int i;

	for (i = 0; i < PF_MAX; i++)
		jbuf__free(&tls.cut.f[i]);
	scratch_free(&tls.sc);
	jbuf__free(&tls.cstr);
	format_prep__free(tls.once);
	memset(&tls, 0, sizeof(tls));
}
