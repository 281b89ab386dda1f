// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Event dispatch: validation -> conntrack + reassembly -> the stream's
 * protocol (proto.h) -> correlator -> output (rendering groups, batches,
 * loss and lifecycle records) -> sinks. The pipeline keeps the events'
 * validation, the connections' life and which protocol each stream speaks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "conntrack.h"
#include "correlate.h"
#include "mcp.h"
#include "log.h"
#include "output.h"
#include "pipeline.h"
#include "pipeline_tls.h"
#include "proto.h"
#include "tls.h"
#include "proc.h"

struct pipeline {
	struct pipeline_opts o;
	struct conntrack *ct;
	struct correlator *cr;
	struct output *out;
	struct proto_env env;		/* what the protocols work with (env.tid: this event's thread) */
	struct proc_cache *pc;
	struct mcp_memory *mcp;		/* MCP identity per HTTP session */
	uint64_t last_ts;		/* newest event timestamp */
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

void pipeline__report_loss(struct pipeline *p, const uint64_t *kcnt, uint64_t now_ns)
{
	if (!now_ns)
		now_ns = p->last_ts;
	/* evictions since the last tick (a batch just before a stop) count too */
	p->cnt[PL_EVICTED_REQUESTS] = correlator__evicted(p->cr);
	p->cnt[PL_MCP_SESSIONS_EVICTED] = mcp_memory__evicted(p->mcp);
	if (kcnt) {
		p->kcnt_reported[SA_CNT_EVENTS] = kcnt[SA_CNT_EVENTS];	/* not a loss */
		output__report_counters(p->out, "kernel", k_counter_names, kcnt, p->kcnt_reported,
					SA_CNT_MAX, now_ns);
	}
	output__report_counters(p->out, "collector", pl_counter_names, p->cnt, p->cnt_reported,
				PL_CNT_MAX, now_ns);
	output__report_sinks(p->out, now_ns);
}

/* ---- the sinks (output.c) ---- */

int pipeline__set_sinks(struct pipeline *p, struct sink *const *sinks, int n)
{
	return output__set_sinks(p->out, sinks, n);
}

int pipeline__ngroups(const struct pipeline *p)
{
	return output__ngroups(p->out);
}

void pipeline__set_rules(struct pipeline *p, const struct critical_rules *rules)
{
	output__set_rules(p->out, rules);
}

bool pipeline__flush_batch(struct pipeline *p)
{
	return output__flush(p->out);
}

void pipeline__lifecycle(struct pipeline *p, const char *type, const struct format_field *f,
			 size_t nf, uint64_t now_ns)
{
	output__lifecycle(p->out, type, f, nf, now_ns);
}

/* stdio bytes that start no message, before a stream is called "not JSON-RPC" */
#define STDIO_DETECT_MAX (64u << 10)

/* Counted, not recorded: stdio that is not JSON-RPC, the host's end of audited stdio. */
static void count_feed(struct conn *c, int dir, const uint8_t *buf, size_t len, uint64_t ts)
{
	(void)dir, (void)buf, (void)ts;
	*(uint64_t *)c->ps += len;
}

static void count_gap(struct conn *c, int dir, uint64_t n, uint64_t ts)
{
	(void)c, (void)dir, (void)n, (void)ts;
}

static void count_close(struct conn *c, int outcome, uint64_t ts)
{
	(void)c, (void)outcome, (void)ts;
}

static void count_free(struct conn *c)
{
	c->ps = NULL;	/* c->ps is the counter, the pipeline's */
}

static const struct proto_ops skipped_ops = {
	.name = "skipped", .proto = PROTO_SKIPPED,
	.feed = count_feed, .gap = count_gap, .close = count_close, .free = count_free,
};

static const struct proto_ops stdio_peer_ops = {
	.name = "stdio_peer", .proto = PROTO_STDIO_PEER,
	.feed = count_feed, .gap = count_gap, .close = count_close, .free = count_free,
};

/* c's bytes from now on are counted in counter cnt, not parsed. */
static void count_only(struct pipeline *p, struct conn *c, const struct proto_ops *ops, int cnt)
{
	proto__release(c);
	c->ops = ops;
	c->ps = &p->cnt[cnt];
	c->proto = ops->proto;
}

/* The protocols a stream is tried against, in order; raw takes the rest. */
static const struct proto_ops *const detect_order[] = { &proto_http_ops, &proto_jsonrpc_ops };

/* The protocol whose message these first bytes start, or NULL. */
static const struct proto_ops *detect_known(const struct conn *c, int dir, const uint8_t *buf,
					    size_t len)
{
	for (size_t i = 0; i < sizeof(detect_order) / sizeof(detect_order[0]); i++)
		if (detect_order[i]->detect(c, dir, buf, len))
			return detect_order[i];
	return NULL;
}

/*
 * Decide the protocol (and, when unknown, the role) from a stream's first
 * bytes: 0 when decided, 1 when buf was counted and the stream is still
 * undecided, -ENOMEM.
 */
static int detect(struct pipeline *p, struct conn *c, int dir, const uint8_t *buf, size_t len)
{
	const struct proto_ops *ops;
	int err;

	if (c->tls && tls__h2_preface(p->tls, c, buf, len))
		return proto_raw__switch(&p->env, c, dir);	/* HTTP/2 is not parsed yet: raw, named h2 */
	ops = detect_known(c, dir, buf, len);
	if (!ops && c->transport == SA_TRANSPORT_PIPE) {
		/*
		 * stdio is audited for MCP (JSON-RPC); other programs' stdout
		 * (shell wrappers, command substitutions) is counted, not recorded.
		 * A server's banner line before its first message is not enough
		 * to say so: up to STDIO_DETECT_MAX bytes wait for a message.
		 */
		p->cnt[PL_STDIO_SKIPPED_BYTES] += len;
		c->stdio_undecided += len;
		if (c->stdio_undecided >= STDIO_DETECT_MAX)
			count_only(p, c, &skipped_ops, PL_STDIO_SKIPPED_BYTES);
		return 1;
	}
	if (!ops)
		ops = &proto_raw_ops;
	err = ops->start(&p->env, c, dir, buf, len);
	if (err)
		proto__release(c);
	return err;
}

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
	if (detect_known(c, dir, buf, len) || c->pre_gap_held >= PRE_GAP_HOLD_MAX)
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
	if (!c->ops) {
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
	c->ops->feed(c, dir, buf, len, ts);
}

/* n bytes of a direction are missing (lost events or capture cut short). */
static void gap(struct pipeline *p, struct conn *c, int dir, uint64_t n, uint64_t ts)
{
	(void)p;
	if (!c->ops)
		c->pre_gap[dir] += n;	/* given to the parsers once the protocol is known */
	else
		c->ops->gap(c, dir, n, ts);
}

/* ---- connections ---- */

/* The connection ends: its protocol reports what is open, what is pending is written. */
static void conn_end(struct pipeline *p, struct conn *c, int outcome, uint64_t ts)
{
	if (c->ops)
		c->ops->close(c, outcome, ts);
	correlator__flush_conn(p->cr, c, outcome);
	proto__release(c);
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

/*
 * A (tgid, fd) the table lacks, or holds at an older generation. Kept out
 * of line: &stale would give conn_for a stack canary on every event.
 */
static __attribute__((noinline)) struct conn *conn_new(struct pipeline *p,
						       const struct sa_event_hdr *h,
						       int32_t fd, uint32_t gen)
{
	struct conn *stale, *c = conntrack__get(p->ct, h->tgid, fd, gen, &stale);

	if (stale) {
		/* the fd now names another socket: the old one was closed unseen */
		conn_end(p, stale, OUTCOME_CONN_CLOSED, h->ts_ns);
		conntrack__release(stale);
	}
	if (!c)
		log_err("out of memory tracking connection %u:%d", h->tgid, fd);
	return c;
}

static struct conn *conn_for(struct pipeline *p, const struct sa_event_hdr *h, int32_t fd,
			     uint32_t gen)
{
	struct conn *c = conntrack__lookup(p->ct, h->tgid, fd);

	if (!c || c->gen != gen)	/* the common case, a known conn, skips conntrack__get */
		c = conn_new(p, h, fd, gen);
	if (!c)
		return NULL;
	if (!c->first_ts) {
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
	count_only(p, c, &stdio_peer_ops, PL_STDIO_HOST_END_BYTES);
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

/*
 * The conn an event of fd 0/1 of generation gen belongs to when fd is an
 * alias, else NULL. Inlined: every data event asks, nearly all are no fd 0/1.
 */
static inline __attribute__((always_inline)) struct conn *inetd_conn(struct pipeline *p,
								     const struct sa_event_hdr *h,
								     int32_t fd, uint32_t gen)
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

/* Kept out of line, like on_conn_close and on_proc_exit: their address-taken
 * locals would give pipeline__event a stack canary on every data event. */
static __attribute__((noinline)) void on_conn_open(struct pipeline *p,
						   const struct sa_conn_event *ev)
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

static __attribute__((noinline)) void on_conn_close(struct pipeline *p,
						    const struct sa_conn_event *ev)
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

static __attribute__((noinline)) void on_proc_exit(struct pipeline *p,
						   const struct sa_proc_event *ev)
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
	p->env.tid = h->pid;
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
	output__flush(p->out);
}

/* ---- life ---- */

struct pipeline *pipeline__new(const struct pipeline_opts *opts, struct sink *sink)
{
	struct pipeline *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->o = *opts;
	if (!p->o.idle_ns)
		p->o.idle_ns = PIPELINE_DEFAULT_IDLE_NS;
	if (!p->o.max_connections)
		p->o.max_connections = PIPELINE_DEFAULT_MAX_CONNS;
	p->ct = conntrack__new();
	p->pc = proc_cache__new(opts->live);
	p->out = output__new(p->pc, &p->cnt[PL_QUEUE_FULL_RECORDS]);
	p->cr = p->out ? correlator__new(opts->ttl_ns, output__exchange, p->out) : NULL;
	p->mcp = mcp_memory__new(0);
	p->tls = tls__new(p);
	if (p->cr) {
		correlator__set_bounds(p->cr, &(struct corr_bounds){
			.max_pending = opts->max_pending,
			.max_pending_per_conn = opts->max_pending_per_conn });
		correlator__set_mcp(p->cr, p->mcp);
	}
	p->env = (struct proto_env){ .cr = p->cr, .unparsed = &p->cnt[PL_UNPARSED_BYTES],
				     .body_excerpt = opts->body_excerpt };
	output__set_clock(p->out, opts->mono_to_real);
	if (p->out && sink)
		output__set_sinks(p->out, &sink, 1);
	if (!p->ct || !p->cr || !p->out || !p->pc || !p->mcp || !p->tls) {
		pipeline__free(p);
		return NULL;
	}
	return p;
}

/* Connections still tracked at the end: their protocol's and the correlator's state go. */
static void conn_forget(void *arg, struct conn *c)
{
	struct pipeline *p = arg;

	correlator__forget_conn(p->cr, c);
	proto__release(c);
}

void pipeline__free(struct pipeline *p)
{
	if (!p)
		return;
	if (p->ct && p->cr)
		conntrack__each(p->ct, conn_forget, p);
	conntrack__free(p->ct);
	tls__free(p->tls);
	correlator__free(p->cr);
	output__free(p->out);
	proc_cache__free(p->pc);
	mcp_memory__free(p->mcp);
	free(p);
}

void pipeline__on_proc_exit(struct pipeline *p, proc_exit_fn fn, void *ctx)
{
	p->exit_fn = fn;
	p->exit_ctx = ctx;
}

void pipeline__stats(const struct pipeline *p, struct pipeline_stats *st)
{
	struct output_stats os;

	output__stats(p->out, &os);
	*st = p->st;
	st->exchanges = os.exchanges;
	st->records = os.records;
	st->pending = correlator__pending(p->cr);
	st->conns = conntrack__count(p->ct);
}

void pipeline__set_clock(struct pipeline *p, int64_t mono_to_real)
{
	p->o.mono_to_real = mono_to_real;
	output__set_clock(p->out, mono_to_real);
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
	struct output_stats os;

	output__stats(p->out, &os);
	*m = p->m;
	memcpy(m->exchanges, os.by_outcome, sizeof(m->exchanges));
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
	proto__release(c);
	for (int d = 0; d < 2; d++) {
		c->expect[d] = 0;
		c->pre_gap[d] = 0;
	}
	c->pre_gap_held = 0;
	c->proto = PROTO_UNKNOWN;
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
