// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Event dispatch: validation -> conntrack + reassembly -> HTTP parser or raw
 * exchange -> correlator -> one rendering per group of sinks (format.h) -> sinks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "conntrack.h"
#include "correlate.h"
#include "format.h"
#include "http.h"
#include "json.h"
#include "jsonrpc.h"
#include "mcp.h"
#include "log.h"
#include "pipeline.h"
#include "pipeline_tls.h"
#include "tls.h"
#include "proc.h"
#include "redact.h"
#include "config.h"
#include "sink.h"

/*
 * The sinks that take the same bytes: one formatter with one set of options
 * (max_message_length, redactor). Each record is rendered once per group.
 */
struct out_group {
	const struct formatter *f;
	struct format_opts o;
	struct jbuf jb;			/* this batch's records, rendered for the group */
	size_t crit;			/* bytes of jb up to the end of its last critical record */
	uint32_t *end;			/* where each record of jb ends: the writer needs no scan */
	uint32_t end_cap;
	struct sink *sinks[PIPELINE_MAX_SINKS];
	int nsinks;
	int prep;			/* its slot in pipeline.preps */
};

/*
 * One prepared exchange per distinct (max_message_length, redactor) of
 * the groups: texts are sanitized and redacted once however many formats
 * render them.
 */
struct prep_slot {
	struct format_prep *fp;
	struct format_opts o;
};

/* Unknown protocol: what one side said until the other answered. */
struct raw_acc {
	struct http_msg msg[2];		/* per direction: sizes, times, excerpt */
	uint8_t *buf[2];
	uint32_t tid[2];
};

struct pipeline {
	struct pipeline_opts o;
	struct sink *sinks[PIPELINE_MAX_SINKS];	/* distinct writers */
	int nsinks;
	struct out_group groups[PIPELINE_MAX_SINKS];	/* the sinks by rendering */
	int ngroups;
	struct prep_slot preps[PIPELINE_MAX_SINKS];	/* what the groups render from */
	int npreps;
	const struct critical_rules *rules;	/* hybrid sinks sync these at once */
	uint64_t sink_reported[PIPELINE_MAX_SINKS][SINK_LOST_MAX + 1];
	struct conntrack *ct;
	struct correlator *cr;
	struct proc_cache *pc;
	struct mcp_memory *mcp;		/* MCP identity per HTTP session */
	uint64_t seq;
	uint32_t batch_records;		/* records rendered, not yet given to the sinks */
	uint64_t last_ts;		/* newest event timestamp */
	uint32_t cur_tid;		/* thread of the event being processed */
	uint64_t cnt[PL_CNT_MAX];
	uint64_t cnt_reported[PL_CNT_MAX];
	uint64_t kcnt_reported[SA_CNT_MAX];
	struct pipeline_stats st;
	struct pipeline_metrics m;	/* by transport, proto and outcome (metrics) */
	proc_exit_fn exit_fn;
	void *exit_ctx;
	struct tls_state *tls;		/* TLS plaintext streams (tls.c) */
};

static const char *const pl_counter_names[PL_CNT_MAX] = {
	[PL_STREAM_GAP_BYTES] = "stream_gap_bytes",
	[PL_TRUNCATED_BYTES] = "capture_truncated_bytes",
	[PL_UNPARSED_BYTES] = "unparsed_bytes",
	[PL_INVALID_EVENTS] = "invalid_events",
	[PL_QUEUE_FULL_RECORDS] = "queue_full_records",
	[PL_REORDERED_EVENTS] = "reordered_events",
	[PL_EVICTED_REQUESTS] = "evicted_requests",
	[PL_EVICTED_CONNS] = "evicted_connections",
	[PL_STDIO_SKIPPED_BYTES] = "stdio_not_jsonrpc_bytes",
	[PL_STDIO_HOST_END_BYTES] = "stdio_host_end_bytes",
	[PL_MCP_SESSIONS_EVICTED] = "mcp_sessions_evicted",
};

static const char *const k_counter_names[SA_CNT_MAX] = {
	[SA_CNT_RB_FULL] = "ringbuf_full_events",
	[SA_CNT_RB_FULL_BYTES] = "ringbuf_full_bytes",
	[SA_CNT_STASH_FULL] = "stash_full",
	[SA_CNT_CONN_FULL] = "conn_map_full",
	[SA_CNT_TARGET_FULL] = "target_map_full",
	[SA_CNT_READ_FAIL] = "user_read_failed",
	[SA_CNT_MMSG_TRUNC] = "mmsg_truncated",
	[SA_CNT_EVENTS] = "events",
};

const char *pipeline__counter_name(int idx)
{
	return idx >= 0 && idx < PL_CNT_MAX ? pl_counter_names[idx] : "unknown";
}

const char *kernel_counter_name(int idx)
{
	return idx >= 0 && idx < SA_CNT_MAX ? k_counter_names[idx] : "unknown";
}

/* ---- records ---- */

/*
 * Records accumulate in one buffer per group and reach the sinks as one
 * batch per drain cycle (or per PIPELINE_BATCH_BYTES): one lock and one
 * writer wakeup for many records. With one group (the common case: one
 * sink, or sinks of one type) each record is rendered once, as before.
 */

/* A group's batch to each of its sinks; false when one refused it (queue full). */
static bool put_group(const struct out_group *g, uint32_t nrec)
{
	bool ok = true;
	int i;

	for (i = 0; i < g->nsinks; i++)
		if (sink__put_recs(g->sinks[i], g->jb.buf, g->jb.len, g->end, nrec, g->crit))
			ok = false;
	return ok;
}

/* Every group's batch to its sinks; false when one was refused or not rendered. */
static bool put_all_sinks(struct pipeline *p)
{
	bool ok = true;
	int i;

	for (i = 0; i < p->ngroups; i++) {
		struct out_group *g = &p->groups[i];

		if (g->jb.oom) {
			log_err("out of memory formatting records %llu..%llu as %s",
				(unsigned long long)(p->seq - p->batch_records + 1),
				(unsigned long long)p->seq, g->f->type);
			ok = false;
		} else if (!put_group(g, p->batch_records)) {
			ok = false;
		}
		jbuf__reset(&g->jb);
		g->crit = 0;
	}
	return ok;
}

bool pipeline__flush_batch(struct pipeline *p)
{
	bool ok;

	if (!p->batch_records)
		return true;
	ok = put_all_sinks(p);
	if (ok)
		p->st.records += p->batch_records;
	else
		p->cnt[PL_QUEUE_FULL_RECORDS] += p->batch_records;
	p->batch_records = 0;
	return ok;
}

/* The record just rendered into every group is in the batch. */
static void put_record(struct pipeline *p)
{
	int i;

	p->batch_records++;
	for (i = 0; i < p->ngroups; i++) {
		if (p->groups[i].jb.len >= PIPELINE_BATCH_BYTES || p->groups[i].jb.oom) {
			pipeline__flush_batch(p);
			return;
		}
	}
}

/*
 * The record just rendered into g ends here (record n of the batch);
 * critical: hybrid sinks must sync it at once.
 */
static void group_mark(struct out_group *g, uint32_t n, bool critical)
{
	if (n >= g->end_cap) {
		uint32_t cap = g->end_cap ? 2 * g->end_cap : 1024;
		uint32_t *e = realloc(g->end, cap * sizeof(*e));

		if (!e) {
			g->jb.oom = true;	/* the batch is refused and counted lost */
			return;
		}
		g->end = e;
		g->end_cap = cap;
	}
	g->end[n] = (uint32_t)g->jb.len;
	if (critical)
		g->crit = g->jb.len;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Built-in critical exchanges (auth failures) and the configured rules. */
static bool record_critical(const struct pipeline *p, const struct exchange *x)
{
	const struct critical_rules *r = p->rules;
	int i;

	if (!r)
		return false;
	for (i = 0; x->resp && i < r->n_status; i++)
		if (x->resp->m.status == r->http_status[i])
			return true;
	for (i = 0; x->req && i < r->n_methods; i++)
		if (!strcmp(x->req->m.method, r->methods[i]))
			return true;
	for (i = 0; x->req && i < r->n_prefixes; i++)
		if (has_prefix(x->req->m.target, r->target_prefixes[i]))
			return true;
	return false;
}

void pipeline__set_rules(struct pipeline *p, const struct critical_rules *rules)
{
	p->rules = rules;
}

static bool same_rendering(const struct out_group *g, const struct formatter *f,
			   const struct format_opts *o)
{
	return g->f == f && g->o.max_message_length == o->max_message_length &&
	       g->o.redactor == o->redactor;
}

static bool same_prep(const struct format_opts *a, const struct format_opts *b)
{
	return a->max_message_length == b->max_message_length && a->redactor == b->redactor;
}

/* The prep slot for options o, made when no group had them yet. */
static int prep_slot(struct pipeline *p, const struct format_opts *o)
{
	int i;

	for (i = 0; i < p->npreps && !same_prep(&p->preps[i].o, o); i++)
		;
	if (i == p->npreps) {
		if (!p->preps[i].fp && !(p->preps[i].fp = format_prep__new()))
			return -ENOMEM;
		p->preps[i].o = *o;
		p->npreps++;
	}
	return i;
}

/* Put sink s in the group that renders as it wants, or in a new one. */
static int group_add(struct pipeline *p, struct sink *s)
{
	struct format_opts o;
	const struct formatter *f = sink__formatter(s, &o);
	struct out_group *g;
	int i;

	for (i = 0; i < p->ngroups && !same_rendering(&p->groups[i], f, &o); i++)
		;
	g = &p->groups[i];
	if (i == p->ngroups) {
		p->ngroups++;
		g->f = f;
		g->o = o;
		g->nsinks = 0;
		g->crit = 0;
		g->prep = prep_slot(p, &o);
		if (g->prep < 0)
			return g->prep;
		jbuf__reset(&g->jb);
		/*
		 * The built-in rules compile in ~0.1 s of CPU: do it now, before
		 * the collector says it has started, not while the first
		 * records wait (and the audited service with them).
		 */
		if (!o.redactor)
			redactor__default();
	}
	g->sinks[g->nsinks++] = s;
	return 0;
}

int pipeline__set_sinks(struct pipeline *p, struct sink *const *sinks, int n)
{
	int i, err;

	pipeline__flush_batch(p);
	if (n > PIPELINE_MAX_SINKS)
		return -E2BIG;
	p->ngroups = p->npreps = 0;
	for (i = 0; i < n; i++) {
		p->sinks[i] = sinks[i];
		err = group_add(p, sinks[i]);
		if (err)
			return err;
	}
	p->nsinks = n;
	memset(p->sink_reported, 0, sizeof(p->sink_reported));
	return 0;
}

int pipeline__ngroups(const struct pipeline *p)
{
	return p->ngroups;
}

static void on_exchange(void *ctx, const struct exchange *x)
{
	struct pipeline *p = ctx;
	const struct proc_info *pi = proc_cache__get(p->pc, x->conn->tgid);
	bool own = exchange__critical(x), rule = record_critical(p, x);
	uint64_t seq = ++p->seq;
	int i, err[PIPELINE_MAX_SINKS];

	for (i = 0; i < p->npreps; i++)
		err[i] = format__prepare(p->preps[i].fp, &p->preps[i].o, seq, x, pi,
					 p->o.mono_to_real, own);
	for (i = 0; i < p->ngroups; i++) {
		struct out_group *g = &p->groups[i];
		const struct format_prep *fp = p->preps[g->prep].fp;

		/* out of memory: the batch is not given to the sinks, and that is counted */
		if (err[g->prep] || format__render(g->f, &g->jb, &g->o, fp))
			g->jb.oom = true;
		group_mark(g, p->batch_records, rule || format_prep__critical(fp));
	}
	p->st.exchanges++;
	if (x->conn->proto < PL_PROTOS && x->outcome >= 0 && x->outcome < PL_OUTCOMES)
		p->m.exchanges[x->conn->proto][x->outcome]++;
	put_record(p);
}

/* A record of another type, in every group's format; always critical (rare, it matters). */
static void put_event(struct pipeline *p, const char *type, const struct format_field *f,
		      size_t nf, uint64_t now_ns)
{
	uint64_t seq = ++p->seq, real = now_ns + p->o.mono_to_real;
	int i;

	for (i = 0; i < p->ngroups; i++) {
		struct out_group *g = &p->groups[i];

		g->f->event(&g->jb, &g->o, seq, real, type, f, nf);
		group_mark(g, p->batch_records, true);
	}
	put_record(p);
}

void pipeline__lifecycle(struct pipeline *p, const char *type, const struct format_field *f,
			 size_t nf, uint64_t now_ns)
{
	put_event(p, type, f, nf, now_ns);
	pipeline__flush_batch(p);
}

/* A loss record goes out alone, so we know whether it was accepted. */
/* sink: the audit log that lost the records (NULL: all of them). */
static bool write_loss_at(struct pipeline *p, const char *source, const char *sink,
			  const char *name, uint64_t delta, uint64_t total, uint64_t now_ns)
{
	struct format_field f[5];
	size_t n = 0;

	f[n++] = (struct format_field){ .key = "source", .kind = FF_STR, .s = source };
	if (sink)
		f[n++] = (struct format_field){ .key = "sink", .kind = FF_STR, .s = sink };
	f[n++] = (struct format_field){ .key = "counter", .kind = FF_STR, .s = name };
	f[n++] = (struct format_field){ .key = "count", .kind = FF_U64, .u = delta };
	f[n++] = (struct format_field){ .key = "total", .kind = FF_U64, .u = total };
	pipeline__flush_batch(p);
	put_event(p, "loss", f, n, now_ns);
	return pipeline__flush_batch(p);
}

static bool write_loss(struct pipeline *p, const char *source, const char *name,
		       uint64_t delta, uint64_t total, uint64_t now_ns)
{
	return write_loss_at(p, source, NULL, name, delta, total, now_ns);
}

/* Records a sink refused (queue full) or lost after taking them. */
static void report_sink_loss(struct pipeline *p, int si, uint64_t now_ns)
{
	struct sink *s = p->sinks[si];
	uint64_t *rep = p->sink_reported[si];
	int i;

	for (i = 0; i <= SINK_LOST_MAX; i++) {
		uint64_t total = i == SINK_LOST_MAX ? sink__dropped(s) : sink__lost(s, i);
		const char *name = i == SINK_LOST_MAX ? "queue_full_records" : sink__lost_name(i);

		if (total != rep[i] && write_loss_at(p, "sink", sink__path(s), name,
						     total - rep[i], total, now_ns))
			rep[i] = total;
	}
}

void pipeline__report_loss(struct pipeline *p, const uint64_t *kcnt, uint64_t now_ns)
{
	int i;

	if (!now_ns)
		now_ns = p->last_ts;
	/* evictions since the last tick (a batch just before a stop) count too */
	p->cnt[PL_EVICTED_REQUESTS] = correlator__evicted(p->cr);
	p->cnt[PL_MCP_SESSIONS_EVICTED] = mcp_memory__evicted(p->mcp);
	for (i = 0; kcnt && i < SA_CNT_MAX; i++) {
		if (i == SA_CNT_EVENTS || kcnt[i] == p->kcnt_reported[i])
			continue;
		if (write_loss(p, "kernel", k_counter_names[i], kcnt[i] - p->kcnt_reported[i],
			       kcnt[i], now_ns))
			p->kcnt_reported[i] = kcnt[i];
	}
	for (i = 0; i < PL_CNT_MAX; i++) {
		uint64_t total = p->cnt[i];

		if (total == p->cnt_reported[i])
			continue;
		/* a refused loss record moves its own counter: report it next time */
		if (write_loss(p, "collector", pl_counter_names[i], total - p->cnt_reported[i],
			       total, now_ns))
			p->cnt_reported[i] = total;
	}
	for (i = 0; i < p->nsinks; i++)
		report_sink_loss(p, i, now_ns);
}

/* ---- raw exchanges (protocol not recognised) ---- */

/* Body bytes kept for a record: the excerpt, then what redaction looks ahead at. */
static size_t excerpt_keep(const struct pipeline *p)
{
	return p->o.body_excerpt ? p->o.body_excerpt + HTTP_BODY_AHEAD : 0;
}

/* A raw side's kept bytes as excerpt plus look-ahead. */
static void raw_split(struct http_msg *m, size_t excerpt)
{
	m->body_ahead = m->body_len > excerpt ? m->body_len - excerpt : 0;
	m->body_len -= m->body_ahead;
	m->body_cut = m->body_len < m->body_bytes;
}

static void raw_reset_side(struct raw_acc *r, int dir)
{
	uint8_t *buf = r->buf[dir];

	memset(&r->msg[dir], 0, sizeof(r->msg[dir]));
	r->msg[dir].body = buf;
}

static void raw_emit(struct pipeline *p, struct conn *c, int dflt_outcome)
{
	struct raw_acc *r = c->raw;
	int i = c->raw_init_dir;
	struct msg_copy req = { .m = r->msg[i], .tid = r->tid[i] };
	struct msg_copy resp = { .m = r->msg[!i], .tid = r->tid[!i] };
	bool has_req = r->msg[i].wire_bytes || r->msg[i].lost_bytes;
	bool has_resp = r->msg[!i].wire_bytes || r->msg[!i].lost_bytes;
	struct exchange x = { .conn = c };

	if (!has_req && !has_resp)
		return;
	conn__name(c);	/* once per connection, as the correlator does for its exchanges */
	raw_split(&req.m, p->o.body_excerpt);
	raw_split(&resp.m, p->o.body_excerpt);
	x.req = has_req ? &req : NULL;
	x.resp = has_resp ? &resp : NULL;
	x.outcome = has_req && has_resp ? OUTCOME_OK : has_req ? dflt_outcome : OUTCOME_NO_REQUEST;
	on_exchange(p, &x);
	raw_reset_side(r, 0);
	raw_reset_side(r, 1);
}

static int raw_init(struct pipeline *p, struct conn *c, int dir)
{
	struct raw_acc *r = calloc(1, sizeof(*r) + 2 * excerpt_keep(p));

	if (!r)
		return -ENOMEM;
	r->buf[0] = (uint8_t *)(r + 1);
	r->buf[1] = r->buf[0] + excerpt_keep(p);
	raw_reset_side(r, 0);
	raw_reset_side(r, 1);
	c->raw = r;
	c->raw_init_dir = dir;
	return 0;
}

/* Bytes (or, with buf NULL, a gap) on one direction of a raw connection. */
static void raw_data(struct pipeline *p, struct conn *c, int dir, const uint8_t *buf,
		     size_t len, uint64_t ts)
{
	struct raw_acc *r = c->raw;
	struct http_msg *m = &r->msg[dir];

	if (dir == c->raw_init_dir && r->msg[!dir].wire_bytes)
		raw_emit(p, c, OUTCOME_OK);	/* the initiator speaks again: next exchange */
	if (!m->wire_bytes && !m->lost_bytes) {
		m->ts_first_ns = ts;
		r->tid[dir] = p->cur_tid;
	}
	m->ts_last_ns = ts;
	if (!buf) {
		m->lost_bytes += len;
		return;
	}
	if (m->body_len < excerpt_keep(p)) {
		size_t n = len < excerpt_keep(p) - m->body_len ? len : excerpt_keep(p) - m->body_len;

		memcpy(r->buf[dir] + m->body_len, buf, n);
		m->body_len += n;
	}
	m->wire_bytes += len;
	m->body_bytes += len;
	m->body_cut = m->body_len < m->body_bytes;
}

/* ---- HTTP glue ---- */

static void http_on_message(void *ctx, const struct http_msg *msg)
{
	struct conn_side *side = ctx;
	struct conn *c = side->conn;
	struct pipeline *p = c->owner;

	if (msg->is_request)
		correlator__request(p->cr, c, msg, p->cur_tid);
	else
		correlator__response(p->cr, c, msg, p->cur_tid,
				     http_parser__busy(c->hp[!side->dir]));
	if (!msg->is_request && msg->status == 101)
		c->upgraded = true;	/* WebSocket and the like: raw from here on */
}

static bool http_answers_head(void *ctx)
{
	struct conn_side *side = ctx;

	return correlator__answers_head(side->conn);
}

static const struct http_parser_ops http_ops = {
	.on_message = http_on_message,
	.answers_head = http_answers_head,
};

/* ---- JSON-RPC glue ---- */

/* Every message of a line (a batch has several) goes to the correlator. */
static void rpc_on_line(void *ctx, const struct rpc_line *l)
{
	struct conn_side *side = ctx;
	struct conn *c = side->conn;
	struct pipeline *p = c->owner;
	struct rpc_msg msgs[RPC_BATCH_MAX];
	int i, n = jsonrpc__parse(l->text, l->text_len, msgs, RPC_BATCH_MAX);

	if (n <= 0) {
		p->cnt[PL_UNPARSED_BYTES] += l->bytes - l->lost;	/* the lost ones are a gap */
		return;
	}
	if (n == 1)
		jsonrpc__skimmed(&msgs[0], l);
	for (i = 0; i < n; i++) {
		struct msg_copy mc = { .tid = p->cur_tid, .dir = side->dir, .rpc = msgs[i] };
		struct http_msg *m = &mc.m;

		m->ts_first_ns = l->ts_first;
		m->ts_last_ns = l->ts_last;
		m->wire_bytes = l->bytes;
		m->body_bytes = l->bytes;
		m->lost_bytes = l->lost;
		m->body = l->text;
		m->body_len = l->text_len < p->o.body_excerpt ? l->text_len : p->o.body_excerpt;
		m->body_ahead = l->text_len - m->body_len;
		if (m->body_ahead > excerpt_keep(p) - m->body_len)
			m->body_ahead = excerpt_keep(p) - m->body_len;
		m->body_cut = m->body_len < l->bytes - (l->bytes > l->text_len ? 1 : 0);
		m->incomplete = l->lost > 0;
		m->malformed = msgs[i].malformed;
		mc.body = (uint8_t *)l->text;
		correlator__rpc(p->cr, c, &mc);
	}
}

/*
 * Line framing per direction; each line keeps enough to parse and excerpt:
 * 16 KiB, so the method after a long id or params is still seen (the
 * buffer grows only for such lines and shrinks after them).
 */
static int rpc_init(struct pipeline *p, struct conn *c)
{
	size_t keep = p->o.body_excerpt > RPC_KEEP_MIN ? p->o.body_excerpt : RPC_KEEP_MIN;
	int d;

	for (d = 0; d < 2; d++) {
		c->rs[d] = calloc(1, sizeof(*c->rs[d]));
		if (!c->rs[d] || rpc_stream__init(c->rs[d], keep, rpc_on_line, &c->side[d]))
			return -ENOMEM;
	}
	c->proto = PROTO_JSONRPC;
	return 0;
}

/*
 * MCP over HTTP: the request body is a JSON-RPC message and the answer is
 * JSON or an event stream; note what they hold, and an error answer makes
 * the outcome "error". Copies are made only when there is something to note.
 */
static void http_rpc(struct exchange *x, struct msg_copy *req, struct msg_copy *resp)
{
	const char *want = NULL;
	struct rpc_msg m;

	if (x->req && jsonrpc__from_http(x->req->m.content_type, x->req->m.body,
					 x->req->m.body_len, NULL, &m) > 0) {
		*req = *x->req;
		req->rpc = m;
		x->req = req;
		want = m.kind == RPC_REQUEST ? req->rpc.id : NULL;
	}
	if (x->resp && jsonrpc__from_http(x->resp->m.content_type, x->resp->m.body,
					  x->resp->m.body_len, want, &m) > 0) {
		*resp = *x->resp;
		resp->rpc = m;
		x->resp = resp;
		if (m.kind == RPC_ERROR && x->outcome == OUTCOME_OK)
			x->outcome = OUTCOME_ERROR;
	}
}

/*
 * Every exchange the correlator completes: HTTP ones may carry JSON-RPC;
 * JSON-RPC ones get the MCP identity their stream or session said.
 */
static void on_correlated(void *ctx, const struct exchange *x0)
{
	struct pipeline *p = ctx;
	struct msg_copy req, resp;
	struct exchange x = *x0;
	struct mcp_view v;

	if (x.conn->proto == PROTO_HTTP)
		http_rpc(&x, &req, &resp);
	/* the conn is ours (the correlator only hands it on): it remembers the identity */
	if (mcp__view(p->mcp, (struct conn *)x.conn, &x, &v))
		x.mcp = &v;
	on_exchange(ctx, &x);
}

/* stdio bytes that start no message, before a stream is called "not JSON-RPC" */
#define STDIO_DETECT_MAX (64u << 10)

/*
 * Decide the protocol (and, when unknown, the role) from a stream's first
 * bytes: 0 when decided, 1 when buf was counted and the stream is still
 * undecided, -ENOMEM.
 */
static int detect(struct pipeline *p, struct conn *c, int dir, const uint8_t *buf, size_t len)
{
	bool req = http_looks_like_request(buf, len);
	int d;

	if (c->tls && tls__h2_preface(p->tls, c, buf, len)) {
		c->proto = PROTO_RAW;	/* HTTP/2 is not parsed yet: raw, named h2 */
		return raw_init(p, c, dir);
	}

	if (req || http_looks_like_response(buf, len)) {
		c->proto = PROTO_HTTP;
		if (c->role == SA_ROLE_UNKNOWN)
			c->role = (req == (dir == SA_DIR_INGRESS)) ? SA_ROLE_SERVER : SA_ROLE_CLIENT;
		for (d = 0; d < 2; d++) {
			bool requests = (c->role == SA_ROLE_SERVER) == (d == SA_DIR_INGRESS);

			c->hp[d] = http_parser__new(requests, p->o.body_excerpt, &http_ops,
						    &c->side[d]);
			if (!c->hp[d])
				return -ENOMEM;
		}
		return 0;
	}
	if (jsonrpc__looks_like(buf, len)) {
		/* who speaks first is the client, unless accept/connect said otherwise */
		if (c->role == SA_ROLE_UNKNOWN)
			c->role = dir == SA_DIR_EGRESS ? SA_ROLE_CLIENT : SA_ROLE_SERVER;
		return rpc_init(p, c);
	}
	if (c->transport == SA_TRANSPORT_PIPE) {
		/*
		 * stdio is audited for MCP (JSON-RPC); other programs' stdout
		 * (shell wrappers, command substitutions) is counted, not recorded.
		 * A server's banner line before its first message is not enough
		 * to say so: up to STDIO_DETECT_MAX bytes wait for a message.
		 */
		p->cnt[PL_STDIO_SKIPPED_BYTES] += len;
		c->stdio_undecided += len;
		if (c->stdio_undecided >= STDIO_DETECT_MAX)
			c->proto = PROTO_SKIPPED;
		return 1;
	}
	c->proto = PROTO_RAW;
	return raw_init(p, c, dir);
}

static void upgrade_to_raw(struct pipeline *p, struct conn *c);
static void gap(struct pipeline *p, struct conn *c, int dir, uint64_t n, uint64_t ts);

/* Unrecognised bytes held back after a gap, before a connection is called raw. */
#define PRE_GAP_HOLD_MAX (1u << 20)

/*
 * A connection whose first bytes were lost: bytes that start no message we
 * know are held back (counted unparsed) rather than read as the start of a
 * raw stream, until a message start shows up or PRE_GAP_HOLD_MAX is reached.
 * True when buf was held back.
 */
static bool hold_after_gap(struct pipeline *p, struct conn *c, int dir, const uint8_t *buf,
			   size_t len)
{
	if (!c->pre_gap[0] && !c->pre_gap[1])
		return false;
	if (http_looks_like_request(buf, len) || http_looks_like_response(buf, len) ||
	    jsonrpc__looks_like(buf, len) || c->pre_gap_held >= PRE_GAP_HOLD_MAX)
		return false;
	c->pre_gap[dir] += len;
	c->pre_gap_held += len;
	p->cnt[PL_UNPARSED_BYTES] += len;
	return true;
}

/* The protocol is known now: hand the parsers what was lost before it was. */
static void replay_pre_gap(struct pipeline *p, struct conn *c, uint64_t ts)
{
	for (int d = 0; d < 2; d++) {
		uint64_t n = c->pre_gap[d];

		c->pre_gap[d] = 0;
		if (n)
			gap(p, c, d, n, ts);
	}
}

static void feed(struct pipeline *p, struct conn *c, int dir, const uint8_t *buf, size_t len,
		 uint64_t ts)
{
	if (!len)
		return;
	if (c->proto == PROTO_UNKNOWN) {
		if (hold_after_gap(p, c, dir, buf, len))
			return;
		int r = detect(p, c, dir, buf, len);

		if (r) {
			if (r < 0)
				p->cnt[PL_UNPARSED_BYTES] += len;
			return;
		}
		replay_pre_gap(p, c, ts);
	}
	if (c->proto == PROTO_RAW) {
		raw_data(p, c, dir, buf, len, ts);
		return;
	}
	if (c->proto == PROTO_SKIPPED) {
		p->cnt[PL_STDIO_SKIPPED_BYTES] += len;
		return;
	}
	if (c->proto == PROTO_STDIO_PEER) {
		p->cnt[PL_STDIO_HOST_END_BYTES] += len;
		return;
	}
	if (c->proto == PROTO_JSONRPC) {
		rpc_stream__end_cut(c->rs[!dir]);
		rpc_stream__feed(c->rs[dir], buf, len, ts);
		return;
	}
	if (c->upgraded) {
		upgrade_to_raw(p, c);
		raw_data(p, c, dir, buf, len, ts);
		return;
	}
	if (http_parser__feed(c->hp[dir], buf, len, ts) == -EPROTO && !c->upgraded)
		p->cnt[PL_UNPARSED_BYTES] += len;
}

/* After 101 Switching Protocols the client speaks first in raw exchanges. */
static void upgrade_to_raw(struct pipeline *p, struct conn *c)
{
	int client_dir = c->role == SA_ROLE_SERVER ? SA_DIR_INGRESS : SA_DIR_EGRESS;

	correlator__flush_conn(p->cr, c, OUTCOME_CONN_CLOSED);
	if (raw_init(p, c, client_dir))
		return;
	c->proto = PROTO_RAW;
	c->upgraded = false;
}

/* n bytes of a direction are missing (lost events or capture cut short). */
static void gap(struct pipeline *p, struct conn *c, int dir, uint64_t n, uint64_t ts)
{
	if (c->proto == PROTO_UNKNOWN)
		c->pre_gap[dir] += n;	/* given to the parsers once the protocol is known */
	else if (c->proto == PROTO_RAW)
		raw_data(p, c, dir, NULL, n, ts);
	else if (c->proto == PROTO_HTTP)
		http_parser__gap(c->hp[dir], n, ts);
	else if (c->proto == PROTO_JSONRPC)
		rpc_stream__gap(c->rs[dir], n, ts);
}

/* ---- connections ---- */

/* The connection ends: finish parsers, write what is pending, free it. */
static void conn_end(struct pipeline *p, struct conn *c, int outcome, uint64_t ts)
{
	if (c->proto == PROTO_HTTP) {
		int resp_dir = c->role == SA_ROLE_SERVER ? SA_DIR_EGRESS : SA_DIR_INGRESS;

		/* a close-delimited response completes first and pairs with its request */
		http_parser__close(c->hp[resp_dir], ts);
		http_parser__close(c->hp[!resp_dir], ts);
	} else if (c->proto == PROTO_RAW) {
		raw_emit(p, c, outcome);
	} else if (c->proto == PROTO_JSONRPC) {
		rpc_stream__close(c->rs[0]);
		rpc_stream__close(c->rs[1]);
	}
	correlator__flush_conn(p->cr, c, outcome);
}

static void conn_drop(struct pipeline *p, struct conn *c, int outcome, uint64_t ts)
{
	conn_end(p, c, outcome, ts);
	conntrack__remove(p->ct, c);
	conntrack__release(c);
}

/*
 * Over max_connections: the least recently active connection goes (its
 * waiting requests written as evicted), never the one just opened.
 */
static void evict_conns(struct pipeline *p, const struct conn *keep, uint64_t ts)
{
	while (conntrack__count(p->ct) > p->o.max_connections) {
		struct conn *old = conntrack__oldest(p->ct);

		if (!old || old == keep)
			return;
		p->cnt[PL_EVICTED_CONNS]++;
		conn_drop(p, old, OUTCOME_EVICTED, ts);
	}
}

/* Connection state idle longer than idle_ns is freed (the kernel keeps its own). */
static void expire_idle(struct pipeline *p, uint64_t now_ns)
{
	struct conn *c;

	while ((c = conntrack__oldest(p->ct)) && c->last_ts + p->o.idle_ns <= now_ns)
		conn_drop(p, c, OUTCOME_NO_RESPONSE, now_ns);
}

static struct conn *conn_for(struct pipeline *p, const struct sa_event_hdr *h, int32_t fd,
			     uint32_t gen)
{
	struct conn *stale, *c = conntrack__get(p->ct, h->tgid, fd, gen, &stale);

	if (stale) {
		/* the fd now names another socket: the old one was closed unseen */
		conn_end(p, stale, OUTCOME_CONN_CLOSED, h->ts_ns);
		conntrack__release(stale);
	}
	if (!c) {
		log_err("out of memory tracking connection %u:%d", h->tgid, fd);
		return NULL;
	}
	if (!c->first_ts) {
		c->owner = p;
		c->first_ts = h->ts_ns;
		memcpy(c->comm, h->comm, sizeof(c->comm));
		evict_conns(p, c, h->ts_ns);
	}
	c->last_ts = h->ts_ns;
	c->tid = h->pid;
	conntrack__touch(p->ct, c);
	return c;
}

/* stdin carries what a stdio server is asked, stdout its answers. */
static int stdio_dir(int32_t fd)
{
	return fd == 0 ? SA_DIR_INGRESS : SA_DIR_EGRESS;
}

/*
 * A target's stdin or stdout pipe: both are one logical stream keyed
 * (tgid, stdio). Each direction follows its own pipe's generation, so a
 * pipe replaced by dup2 restarts that direction's positions.
 */
static struct conn *stdio_conn(struct pipeline *p, const struct sa_event_hdr *h, int dir,
			       uint32_t gen, uint64_t pos)
{
	struct conn *c = conn_for(p, h, CONN_STDIO_FD, 0);

	if (!c)
		return NULL;
	if (!c->transport) {
		c->transport = SA_TRANSPORT_PIPE;
		c->role = SA_ROLE_SERVER;
	}
	if (c->pipe_gen[dir] != gen) {
		c->pipe_gen[dir] = gen;
		c->expect[dir] = pos;
		c->pipe_closed[dir] = false;
	}
	return c;
}

/* ---- both ends of a stdio channel audited ---- */

/*
 * A host that spawns a stdio server on socketpairs holds the other end of
 * the server's stdin/stdout. When both are targets, the exchange is
 * recorded once, at the server's PID:stdio stream (it pairs requests and
 * answers on one stream, whatever the host gave as fd 0 and fd 1); the
 * host's end is counted (stdio_host_end_bytes), not recorded again.
 */
static void host_end(struct pipeline *p, struct conn *c)
{
	if (c->proto == PROTO_STDIO_PEER)
		return;
	p->cnt[PL_STDIO_HOST_END_BYTES] += c->expect[0] + c->expect[1];
	correlator__forget_conn(p->cr, c);	/* recorded at the server's end */
	c->proto = PROTO_STDIO_PEER;
}

struct inode_arg {
	struct pipeline *p;
	uint64_t inode;
	struct conn *found;
};

static void mark_if_peer(void *arg, struct conn *c)
{
	struct inode_arg *a = arg;

	if (c->transport == SA_TRANSPORT_UNIX && c->peer_inode == a->inode)
		host_end(a->p, c);
}

static void find_stdio(void *arg, struct conn *c)
{
	struct inode_arg *a = arg;

	if (c->fd == CONN_STDIO_FD && (c->stdio_inode[0] == a->inode ||
				       c->stdio_inode[1] == a->inode))
		a->found = c;
}

/* A target's stdin or stdout is a socketpair end: its host's end may be open already. */
static void stdio_socket_open(struct pipeline *p, struct conn *c, const struct sa_conn_event *ev)
{
	struct inode_arg a = { p, ev->inode, NULL };

	if (ev->local.family != AF_UNIX || !ev->inode)
		return;
	c->stdio_inode[stdio_dir(ev->fd)] = ev->inode;
	conntrack__each(p->ct, mark_if_peer, &a);
}

/* A socketpair end that is not stdio: is its other end a target's stdio? */
static void socketpair_open(struct pipeline *p, struct conn *c, const struct sa_conn_event *ev)
{
	struct inode_arg a = { p, 0, NULL };

	if (c->transport != SA_TRANSPORT_UNIX || c->unix_path[0])
		return;
	memcpy(&c->peer_inode, ev->peer.addr, sizeof(c->peer_inode));
	a.inode = c->peer_inode;
	if (!a.inode)
		return;
	conntrack__each(p->ct, find_stdio, &a);
	if (a.found)
		host_end(p, c);
}

/* ---- one socket on fd 0 and fd 1 (inetd-style) ---- */

/*
 * An inetd-style server (inetd, systemd Accept=yes, socat EXEC) reads its
 * connection on fd 0 and writes it on fd 1. The kernel tracks each fd, but
 * it is one connection: the fd opened second is an alias of the first
 * one's conn (alias_gen), so requests and answers pair there.
 */
static bool inetd_alias(struct pipeline *p, const struct sa_conn_event *ev)
{
	struct conn *o;

	if ((ev->fd != 0 && ev->fd != 1) || !ev->inode)
		return false;
	o = conntrack__lookup(p->ct, ev->hdr.tgid, !ev->fd);
	if (!o || o->inode != ev->inode || o->transport != ev->transport)
		return false;
	o->alias_gen = ev->gen;
	return true;
}

/* The conn an event of fd 0/1 of generation gen belongs to when fd is an alias, else NULL. */
static struct conn *inetd_conn(struct pipeline *p, const struct sa_event_hdr *h, int32_t fd,
			       uint32_t gen)
{
	struct conn *o;

	if ((fd != 0 && fd != 1) || !gen)
		return NULL;
	o = conntrack__lookup(p->ct, h->tgid, !fd);
	if (!o || o->alias_gen != gen)
		return NULL;
	o->last_ts = h->ts_ns;
	o->tid = h->pid;
	conntrack__touch(p->ct, o);
	return o;
}

static void on_conn_open(struct pipeline *p, const struct sa_conn_event *ev)
{
	struct conn *c;

	if (ev->transport == SA_TRANSPORT_PIPE) {
		c = stdio_conn(p, &ev->hdr, stdio_dir(ev->fd), ev->gen, 0);
		if (c) {
			c->uid = ev->uid;
			stdio_socket_open(p, c, ev);
		}
		proc_cache__get(p->pc, ev->hdr.tgid);
		return;
	}
	if (inetd_alias(p, ev))
		return;
	c = conn_for(p, &ev->hdr, ev->fd, ev->gen);
	if (!c)
		return;
	c->role = ev->role;
	c->transport = ev->transport;
	c->uid = ev->uid;
	c->inode = ev->inode;
	c->local = ev->local;
	c->peer = ev->peer;
	memcpy(c->unix_path, ev->unix_path, sizeof(c->unix_path));
	c->unix_path[sizeof(c->unix_path) - 1] = '\0';
	c->addrs_known = true;
	socketpair_open(p, c, ev);
	proc_cache__get(p->pc, ev->hdr.tgid);	/* read exe while the process lives */
}

/* Bytes the kernel counted on direction d that never reached us: a tail gap. */
static void tail_gap(struct pipeline *p, struct conn *c, int d, uint64_t total, uint64_t ts)
{
	if (total > c->expect[d]) {
		p->cnt[PL_STREAM_GAP_BYTES] += total - c->expect[d];
		gap(p, c, d, total - c->expect[d], ts);
		c->expect[d] = total;
	}
}

/* stdin or stdout closed: the stdio stream ends once both are. */
static void stdio_close(struct pipeline *p, const struct sa_conn_event *ev)
{
	struct conn *c = conntrack__lookup(p->ct, ev->hdr.tgid, CONN_STDIO_FD);
	int d = stdio_dir(ev->fd);

	if (!c || c->pipe_gen[d] != ev->gen)
		return;
	tail_gap(p, c, d, d == SA_DIR_EGRESS ? ev->sent : ev->recv, ev->hdr.ts_ns);
	c->pipe_closed[d] = true;
	if (c->pipe_closed[!d])
		conn_drop(p, c, OUTCOME_CONN_CLOSED, ev->hdr.ts_ns);
}

static void on_conn_close(struct pipeline *p, const struct sa_conn_event *ev)
{
	struct conn *c;

	if (ev->transport == SA_TRANSPORT_PIPE) {
		stdio_close(p, ev);
		return;
	}
	c = inetd_conn(p, &ev->hdr, ev->fd, ev->gen);
	if (c) {
		c->alias_gen = 0;	/* the other fd still holds the connection */
		return;
	}
	c = conntrack__lookup(p->ct, ev->hdr.tgid, ev->fd);
	if (!c || c->gen != ev->gen)
		return;
	if (!c->tls) {	/* the kernel's totals count ciphertext, not the stream we parsed */
		tail_gap(p, c, SA_DIR_EGRESS, ev->sent, ev->hdr.ts_ns);
		tail_gap(p, c, SA_DIR_INGRESS, ev->recv, ev->hdr.ts_ns);
	}
	conn_drop(p, c, OUTCOME_CONN_CLOSED, ev->hdr.ts_ns);
}

static void on_data(struct pipeline *p, const struct sa_data_event *ev, const uint8_t *payload)
{
	struct conn *c = ev->flags & SA_DATA_F_PIPE ?
		stdio_conn(p, &ev->hdr, ev->dir, ev->gen, ev->pos) :
		inetd_conn(p, &ev->hdr, ev->fd, ev->gen);

	if (!c && !(ev->flags & SA_DATA_F_PIPE))
		c = conn_for(p, &ev->hdr, ev->fd, ev->gen);
	if (!c)
		return;
	p->m.data_events[c->transport < PL_TRANSPORTS ? c->transport : 0]++;
	p->m.data_bytes[c->transport < PL_TRANSPORTS ? c->transport : 0] += ev->cap_len;
	/* the ciphertext of a captured TLS stream is counted, not parsed */
	if (p->tls && tls__socket_data(p->tls, c, ev, payload))
		return;
	pipeline__stream_data(p, c, ev->hdr.ts_ns, ev->pos, ev->orig_len, ev->cap_len, ev->dir,
			      payload);
}

/* Bytes at stream position pos of direction dir of c: gaps, reordering, parsing. */
void pipeline__stream_data(struct pipeline *p, struct conn *c, uint64_t ts, uint64_t pos,
			   uint32_t orig, uint32_t cap, int dir, const uint8_t *payload)
{
	if (pos > c->expect[dir]) {
		p->cnt[PL_STREAM_GAP_BYTES] += pos - c->expect[dir];
		gap(p, c, dir, pos - c->expect[dir], ts);
	} else if (pos < c->expect[dir]) {
		/* delivered out of order after a later event: skip what overlaps */
		uint64_t skip = c->expect[dir] - pos;

		p->cnt[PL_REORDERED_EVENTS]++;
		if (skip >= orig)
			return;
		payload += skip < cap ? skip : cap;
		cap = skip < cap ? cap - skip : 0;
		orig -= skip;
		pos += skip;
	}
	feed(p, c, dir, payload, cap, ts);
	if (orig > cap) {
		p->cnt[PL_TRUNCATED_BYTES] += orig - cap;
		gap(p, c, dir, orig - cap, ts);
	}
	c->expect[dir] = pos + orig;
}

struct tgid_arg {
	struct pipeline *p;
	uint32_t tgid;
	int outcome;
	uint64_t ts;
};

static void end_if_tgid(void *arg, struct conn *c)
{
	struct tgid_arg *a = arg;

	if (a->tgid == 0 || c->tgid == a->tgid)
		conn_drop(a->p, c, a->outcome, a->ts);
}

static void on_proc_exit(struct pipeline *p, const struct sa_proc_event *ev)
{
	struct tgid_arg a = { p, ev->hdr.tgid, OUTCOME_PROC_EXIT, ev->hdr.ts_ns };

	conntrack__each(p->ct, end_if_tgid, &a);
	proc_cache__forget(p->pc, ev->hdr.tgid);
	if (p->exit_fn)
		p->exit_fn(p->exit_ctx, ev->hdr.tgid);
}

/* ---- validation and dispatch ---- */

static bool event_valid(const void *data, size_t size)
{
	const struct sa_event_hdr *h = data;
	const struct sa_data_event *d = data;

	if (size < sizeof(*h) || h->size != size)
		return false;
	switch (h->type) {
	case SA_EV_DATA:
		return size >= sizeof(*d) && d->cap_len <= SA_MAX_CAPTURE &&
		       size == sizeof(*d) + d->cap_len && d->cap_len <= d->orig_len &&
		       d->dir <= SA_DIR_INGRESS;
	case SA_EV_CONN_OPEN:
	case SA_EV_CONN_CLOSE:
		return size == sizeof(struct sa_conn_event);
	case SA_EV_PROC_FORK:
	case SA_EV_PROC_EXIT:
	case SA_EV_TLS_MAPPED:
		return size == sizeof(struct sa_proc_event);
	case SA_EV_TLS_DATA:
	case SA_EV_TLS_END:
	case SA_EV_TLS_CIPHER:
		return tls__event_valid(data, size);
	}
	return false;
}

int pipeline__event(struct pipeline *p, const void *data, size_t size)
{
	const struct sa_event_hdr *h = data;

	if (!event_valid(data, size)) {
		p->cnt[PL_INVALID_EVENTS]++;
		return 0;
	}
	p->st.events++;
	p->cur_tid = h->pid;
	if (h->ts_ns > p->last_ts)
		p->last_ts = h->ts_ns;
	switch (h->type) {
	case SA_EV_DATA:
		on_data(p, data, (const uint8_t *)data + sizeof(struct sa_data_event));
		break;
	case SA_EV_CONN_OPEN:
		on_conn_open(p, data);
		break;
	case SA_EV_CONN_CLOSE:
		on_conn_close(p, data);
		break;
	case SA_EV_PROC_EXIT:
		on_proc_exit(p, data);
		if (p->tls)
			tls__proc_exit(p->tls, h->tgid);
		break;
	case SA_EV_TLS_DATA:
	case SA_EV_TLS_END:
	case SA_EV_TLS_CIPHER:
		if (p->tls)
			tls__event(p->tls, data);
		break;
	}
	return 0;
}

void pipeline__tick(struct pipeline *p, uint64_t now_ns)
{
	correlator__expire(p->cr, now_ns);
	expire_idle(p, now_ns);
	p->cnt[PL_EVICTED_REQUESTS] = correlator__evicted(p->cr);
}

void pipeline__finish(struct pipeline *p)
{
	struct tgid_arg a = { p, 0, OUTCOME_SHUTDOWN, p->last_ts };

	conntrack__each(p->ct, end_if_tgid, &a);
	pipeline__flush_batch(p);
}

/* ---- life ---- */

struct pipeline *pipeline__new(const struct pipeline_opts *opts, struct sink *sink)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	int i;

	if (!p)
		return NULL;
	p->o = *opts;
	if (!p->o.idle_ns)
		p->o.idle_ns = PIPELINE_DEFAULT_IDLE_NS;
	if (!p->o.max_connections)
		p->o.max_connections = PIPELINE_DEFAULT_MAX_CONNS;
	for (i = 0; i < PIPELINE_MAX_SINKS; i++)
		jbuf__init(&p->groups[i].jb);
	if (sink)
		pipeline__set_sinks(p, &sink, 1);
	p->ct = conntrack__new();
	p->cr = correlator__new(opts->ttl_ns, on_correlated, p);
	p->pc = proc_cache__new(opts->live);
	p->mcp = mcp_memory__new(0);
	p->tls = tls__new(p);
	if (p->cr)
		correlator__set_bounds(p->cr, &(struct corr_bounds){
			.max_pending = opts->max_pending,
			.max_pending_per_conn = opts->max_pending_per_conn });
	if (!p->ct || !p->cr || !p->pc || !p->mcp || !p->tls) {
		pipeline__free(p);
		return NULL;
	}
	return p;
}

void pipeline__free(struct pipeline *p)
{
	int i;

	if (!p)
		return;
	conntrack__free(p->ct);
	tls__free(p->tls);
	correlator__free(p->cr);
	proc_cache__free(p->pc);
	mcp_memory__free(p->mcp);
	for (i = 0; i < PIPELINE_MAX_SINKS; i++) {
		jbuf__free(&p->groups[i].jb);
		free(p->groups[i].end);
		format_prep__free(p->preps[i].fp);
	}
	free(p);
}

void pipeline__on_proc_exit(struct pipeline *p, proc_exit_fn fn, void *ctx)
{
	p->exit_fn = fn;
	p->exit_ctx = ctx;
}

void pipeline__stats(const struct pipeline *p, struct pipeline_stats *st)
{
	*st = p->st;
	st->pending = correlator__pending(p->cr);
	st->conns = conntrack__count(p->ct);
}

void pipeline__set_clock(struct pipeline *p, int64_t mono_to_real)
{
	p->o.mono_to_real = mono_to_real;
}

const uint64_t *pipeline__counters(const struct pipeline *p)
{
	return p->cnt;
}

/* ---- figures for metrics (issue 18) ---- */

_Static_assert(OUTCOME_MAX <= PL_OUTCOMES, "PL_OUTCOMES must cover every outcome");
_Static_assert(PROTO_SKIPPED < PL_PROTOS, "PL_PROTOS must cover every proto");

void pipeline__metrics(const struct pipeline *p, struct pipeline_metrics *m)
{
	*m = p->m;
	m->pending_limit = p->o.max_pending ? p->o.max_pending : CORR_DEFAULT_MAX_PENDING;
	m->conns_limit = p->o.max_connections ? p->o.max_connections : PIPELINE_DEFAULT_MAX_CONNS;
}

const char *pipeline__transport_name(int transport)
{
	static const char *const names[PL_TRANSPORTS] = {
		[0] = "unknown", [SA_TRANSPORT_TCP] = "tcp", [SA_TRANSPORT_UNIX] = "unix",
		[SA_TRANSPORT_PIPE] = "pipe",
	};

	return transport >= 0 && transport < PL_TRANSPORTS ? names[transport] : "unknown";
}

const char *pipeline__proto_name(int proto)
{
	static const char *const names[PL_PROTOS] = {
		[PROTO_UNKNOWN] = "unknown", [PROTO_HTTP] = "http", [PROTO_RAW] = "raw",
		[PROTO_JSONRPC] = "jsonrpc", [PROTO_SKIPPED] = "skipped",
	};

	return proto >= 0 && proto < PL_PROTOS ? names[proto] : "unknown";
}

/* ---- TLS streams (tls.c) ---- */

struct conn *pipeline__conn(struct pipeline *p, uint32_t tgid, int32_t fd, uint32_t gen)
{
	struct conn *c = conntrack__lookup(p->ct, tgid, fd);

	return c && c->gen == gen ? c : NULL;
}

void pipeline__tls_begin(struct pipeline *p, struct conn *c)
{
	correlator__flush_conn(p->cr, c, OUTCOME_CONN_CLOSED);	/* nothing, for ciphertext */
	for (int d = 0; d < 2; d++) {
		http_parser__free(c->hp[d]);
		c->hp[d] = NULL;
		if (c->rs[d])
			rpc_stream__free(c->rs[d]);
		free(c->rs[d]);
		c->rs[d] = NULL;
		c->expect[d] = 0;
		c->pre_gap[d] = 0;
	}
	free(c->raw);
	c->raw = NULL;
	c->pre_gap_held = 0;
	c->proto = PROTO_UNKNOWN;
	c->upgraded = false;
	c->tls = true;
}

struct conn *pipeline__tls_orphan(struct pipeline *p, const struct sa_event_hdr *h, int32_t fd)
{
	struct conn *c = conn_for(p, h, fd, 0);

	if (c && !c->tls) {
		c->transport = SA_TRANSPORT_TCP;
		c->tls = true;
		proc_cache__get(p->pc, h->tgid);
	}
	return c;
}

void pipeline__tls_orphan_end(struct pipeline *p, struct conn *c, uint64_t ts)
{
	conn_drop(p, c, OUTCOME_CONN_CLOSED, ts);
}

const uint64_t *pipeline__tls_counters(const struct pipeline *p)
{
	return tls__counters(p->tls);
}
