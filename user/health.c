// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The health checks. Each writes its figures and its own "status" and
 * returns it; the page's status is the worst. Adding a check (a forward
 * sink's connection, say) is a function and a line in `checks`.
 */
#include <string.h>
#include "health.h"

struct hctx {
	const struct snapshot *s;
	uint64_t now;		/* CLOCK_REALTIME ns */
	struct jbuf *out;
};

static const char *const status_names[] = { "ok", "degraded", "failing" };

const char *health__status_name(enum health_status st)
{
	return st <= HEALTH_FAILING ? status_names[st] : "unknown";
}

static void key_u64(struct jbuf *o, const char *k, uint64_t v)
{
	jbuf__key(o, k);
	jbuf__u64(o, v);
}

static void key_str(struct jbuf *o, const char *k, const char *v)
{
	jbuf__key(o, k);
	jbuf__cstr(o, v);
}

/* Seconds since t (CLOCK_REALTIME ns), or null when it never happened. */
static void key_age(struct hctx *h, const char *k, uint64_t t)
{
	jbuf__key(h->out, k);
	if (!t)
		jbuf__null(h->out);
	else
		jbuf__ms(h->out, h->now > t ? h->now - t : 0);
}

static bool over(uint64_t v, uint64_t limit, double frac)
{
	return limit && (double)v >= frac * (double)limit;
}

static enum health_status check_snapshot(struct hctx *h)
{
	uint64_t age = h->now > h->s->taken_ns ? h->now - h->s->taken_ns : 0;

	key_age(h, "age_ms", h->s->taken_ns);
	return age >= HEALTH_STALE_NS ? HEALTH_FAILING : HEALTH_OK;
}

static enum health_status check_capture(struct hctx *h)
{
	const struct snapshot *s = h->s;

	jbuf__key(h->out, "attached");
	jbuf__bool(h->out, s->attached);
	key_str(h->out, "attach", s->attach);
	key_u64(h->out, "ringbuf_used_bytes", s->ringbuf_used);
	key_u64(h->out, "ringbuf_size_bytes", s->ringbuf_size);
	if (!s->attached)
		return HEALTH_FAILING;
	return over(s->ringbuf_used, s->ringbuf_size, HEALTH_RINGBUF_FILL) ? HEALTH_DEGRADED :
									      HEALTH_OK;
}

static enum health_status check_loss(struct hctx *h)
{
	const struct snapshot *s = h->s;

	key_u64(h->out, "window_s", s->loss_window_s);
	key_u64(h->out, "kernel", s->kernel_loss_window);
	key_u64(h->out, "pipeline", s->pipeline_loss_window);
	key_u64(h->out, "sinks", s->sink_loss_window);
	return s->kernel_loss_window || s->pipeline_loss_window || s->sink_loss_window ?
		       HEALTH_DEGRADED : HEALTH_OK;
}

/* One sink: its state decides (critical: failing; other: degraded), then its queue. */
static enum health_status one_sink(struct hctx *h, const struct snap_sink *ss)
{
	const struct sink_stats *st = &ss->st;
	enum health_status v = HEALTH_OK;

	if (st->state != SINK_WRITING)
		v = st->critical ? HEALTH_FAILING : HEALTH_DEGRADED;
	else if (over(st->queued_bytes, st->queue_limit, HEALTH_BOUND_FILL) ||
		 (st->queued_bytes && st->last_write_ns &&
		  h->now > st->last_write_ns + HEALTH_STALL_NS))
		v = HEALTH_DEGRADED;
	jbuf__key(h->out, ss->path);
	jbuf__obj_open(h->out);
	key_str(h->out, "status", health__status_name(v));
	key_str(h->out, "state", sink__state_name(st->state));
	jbuf__key(h->out, "critical");
	jbuf__bool(h->out, st->critical);
	jbuf__key(h->out, "last_error");
	if (st->last_errno)
		jbuf__cstr(h->out, strerror(st->last_errno));
	else
		jbuf__null(h->out);
	key_age(h, "last_error_age_ms", st->last_error_ns);
	key_age(h, "last_sync_age_ms", st->last_sync_ns);
	key_age(h, "last_write_age_ms", st->last_write_ns);
	key_u64(h->out, "queue_bytes", st->queued_bytes);
	key_u64(h->out, "queue_limit_bytes", st->queue_limit);
	if (st->chain_seq) {
		key_u64(h->out, "chain_records", st->chain_seq);
		key_u64(h->out, "chain_checkpoints", st->checkpoints);
		key_age(h, "chain_last_checkpoint_age_ms", st->last_ckpt_ns);
	}
	jbuf__obj_close(h->out);
	return v;
}

/* The worst of one() over the sinks (only the forwarded ones: forwarded_only). */
static enum health_status each_sink(struct hctx *h, bool forwarded_only,
				    enum health_status (*one)(struct hctx *, const struct snap_sink *))
{
	enum health_status worst = HEALTH_OK, v;
	int i;

	for (i = 0; i < h->s->nsinks; i++) {
		if (forwarded_only && !h->s->sinks[i].forwarding)
			continue;
		v = one(h, &h->s->sinks[i]);
		if (v > worst)
			worst = v;
	}
	return worst;
}

static enum health_status check_sinks(struct hctx *h)
{
	return each_sink(h, false, one_sink);
}

/*
 * Each forwarded sink: degraded while its link is down or its oldest
 * unshipped record is older than HEALTH_FORWARD_LAG_S (the local log still
 * has everything: nothing is lost yet), and once the spool limit cost
 * records.
 */
static enum health_status one_forward(struct hctx *h, const struct snap_sink *ss)
{
	const struct forward_stats *f = &ss->fwd;
	enum health_status v = !f->connected || f->spool_lost_records ||
			       f->oldest_unshipped_s > HEALTH_FORWARD_LAG_S ?
			       HEALTH_DEGRADED : HEALTH_OK;

	jbuf__key(h->out, ss->path);
	jbuf__obj_open(h->out);
	key_str(h->out, "status", health__status_name(v));
	key_str(h->out, "link", f->connected ? "up" : "down");
	key_u64(h->out, "unshipped_bytes", f->unshipped_bytes);
	key_u64(h->out, "unshipped_records", f->unshipped_records);
	jbuf__key(h->out, "oldest_unshipped_ms");
	jbuf__ms(h->out, (uint64_t)(f->oldest_unshipped_s * 1e9));
	key_u64(h->out, "acked_records", f->acked_records);
	key_u64(h->out, "reconnects", f->reconnects);
	key_u64(h->out, "spool_lost_records", f->spool_lost_records);
	jbuf__obj_close(h->out);
	return v;
}

static enum health_status check_forward(struct hctx *h)
{
	return each_sink(h, true, one_forward);
}

static enum health_status check_pending(struct hctx *h)
{
	const struct snapshot *s = h->s;

	key_u64(h->out, "requests", s->pl.pending);
	key_u64(h->out, "requests_limit", s->pm.pending_limit);
	key_u64(h->out, "connections", s->pl.conns);
	key_u64(h->out, "connections_limit", s->pm.conns_limit);
	return over(s->pl.pending, s->pm.pending_limit, HEALTH_BOUND_FILL) ||
		       over(s->pl.conns, s->pm.conns_limit, HEALTH_BOUND_FILL) ?
		       HEALTH_DEGRADED : HEALTH_OK;
}

/* The age of the last record: a figure only (an idle target writes nothing). */
static enum health_status check_last_record(struct hctx *h)
{
	key_age(h, "age_ms", h->s->last_record_ns);
	key_u64(h->out, "records", h->s->pl.records);
	return HEALTH_OK;
}

static const struct {
	const char *name;
	enum health_status (*run)(struct hctx *h);
} checks[] = {
	{ "snapshot", check_snapshot },
	{ "capture", check_capture },
	{ "loss", check_loss },
	{ "sinks", check_sinks },
	{ "forward", check_forward },
	{ "pending", check_pending },
	{ "last_record", check_last_record },
};

/*
 * The checks go first into their own buffer: the status, which comes first
 * in the page, is known only once they all ran.
 */
enum health_status health__render(const struct snapshot *s, uint64_t now_ns, struct jbuf *out)
{
	struct hctx h = { .s = s, .now = now_ns };
	enum health_status worst = HEALTH_OK, v;
	struct jbuf body;
	size_t i;

	jbuf__init(&body);
	h.out = &body;
	jbuf__obj_open(&body);
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {

		jbuf__key(&body, checks[i].name);
		jbuf__obj_open(&body);
		v = checks[i].run(&h);
		/* the check's own verdict, after its figures */
		key_str(&body, "status", health__status_name(v));
		jbuf__obj_close(&body);
		if (v > worst)
			worst = v;
	}
	jbuf__obj_close(&body);
	jbuf__obj_open(out);
	key_str(out, "status", health__status_name(worst));
	jbuf__key(out, "checks");
	jbuf__value_raw(out, body.buf ? body.buf : "{}", body.len);
	jbuf__obj_close(out);
	jbuf__free(&body);
	return worst;
}
