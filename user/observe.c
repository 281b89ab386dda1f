// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The collector's own figures: snapshot per drain cycle, slow figures per second, stats record. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "health.h"
#include "httpd.h"
#include "log.h"
#include "observe.h"

#define SLOW_NS			1000000000ULL	/* map entries, process figures, loss window */
#define DEFAULT_LOSS_WINDOW_S	60
#define STATS_PER_SINK		8
#define STATS_MAX_FIELDS	(24 + SA_CNT_MAX + PL_CNT_MAX + STATS_PER_SINK * CONFIG_MAX_SINKS)
#define STATS_KEY_LEN		48

struct observer {
	struct observer_opts o;
	struct snapshot snap;		/* built here, copied out by publish */
	struct snapshot_pub pub;
	struct loss_window win;
	struct httpd *httpd;
	uint64_t start_real;
	uint64_t next_slow, next_stats;	/* CLOCK_MONOTONIC ns */
	bool slow_done;			/* the slow figures were gathered once */
	/* the stats record's members and the keys and texts made for them */
	struct format_field f[STATS_MAX_FIELDS];
	char keys[STATS_MAX_FIELDS][STATS_KEY_LEN];
	size_t n;
	const char *health;
};

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int observer__start(struct observer **out, const struct observer_opts *o)
{
	struct observer *ob;
	int err;

	*out = NULL;
	if (!o->listen && !o->stats_interval_s)
		return 0;
	ob = calloc(1, sizeof(*ob));
	if (!ob) {
		log_err("no memory for the metrics snapshot; run without --listen/--stats-interval");
		return -ENOMEM;
	}
	ob->o = *o;
	ob->start_real = clock_ns(CLOCK_REALTIME);
	loss_window__init(&ob->win, o->loss_window_s ? o->loss_window_s : DEFAULT_LOSS_WINDOW_S);
	if (o->stats_interval_s)
		ob->next_stats = clock_ns(CLOCK_MONOTONIC) + o->stats_interval_s * 1000000000ULL;
	if (o->listen) {
		struct httpd_opts ho = { .listen = o->listen, .allow_remote = o->allow_remote,
					 .gid = o->listen_gid };

		int fd = o->has_listen_fd ? o->listen_fd : httpd__listen(&ho);

		err = fd < 0 ? fd : httpd__start(&ob->httpd, &ho, fd, &ob->pub);
		if (err) {
			free(ob);
			return err;
		}
	}
	*out = ob;
	return 0;
}

void observer__stop(struct observer *ob)
{
	if (!ob)
		return;
	httpd__stop(ob->httpd);	/* its thread reads ob->pub: stopped first */
	free(ob);
}

struct snapshot_pub *observer__pub(struct observer *ob)
{
	return ob ? &ob->pub : NULL;
}

bool observer__cycle(struct observer *ob, const struct snapshot_src *src, uint64_t now)
{
	struct snapshot_src s = *src;

	if (!ob)
		return false;
	s.start_ns = ob->start_real;
	snapshot__gather(&ob->snap, &s);
	if (!ob->slow_done || now >= ob->next_slow) {
		snapshot__gather_slow(&ob->snap, &s, &ob->win);
		ob->next_slow = now + SLOW_NS;
		ob->slow_done = true;
	}
	snapshot__publish(&ob->pub, &ob->snap);
	if (!ob->o.stats_interval_s || now < ob->next_stats)
		return false;
	ob->next_stats = now + ob->o.stats_interval_s * 1000000000ULL;
	return true;
}

/* ---- the stats record (docs/record-schema.md) ---- */

static void put_u64(struct observer *ob, const char *key, uint64_t v)
{
	if (ob->n < STATS_MAX_FIELDS)
		ob->f[ob->n++] = (struct format_field){ .key = key, .kind = FF_U64, .u = v };
}

static void put_str(struct observer *ob, const char *key, const char *v)
{
	if (ob->n < STATS_MAX_FIELDS)
		ob->f[ob->n++] = (struct format_field){ .key = key, .kind = FF_STR, .s = v };
}

/* A key made here (prefix + name, or sink_N_ + name), kept until the next record. */
static const char *key(struct observer *ob, const char *prefix, int num, const char *name)
{
	char *k = ob->keys[ob->n < STATS_MAX_FIELDS ? ob->n : 0];

	if (num)
		snprintf(k, STATS_KEY_LEN, "%s%d_%s", prefix, num, name);
	else
		snprintf(k, STATS_KEY_LEN, "%s%s", prefix, name);
	return k;
}

static void stats_counters(struct observer *ob)
{
	const struct snapshot *s = &ob->snap;
	int i;

	for (i = 0; i < SA_CNT_MAX; i++)
		if (i != SA_CNT_EVENTS)
			put_u64(ob, key(ob, "kernel_", 0, kernel_counter_name(i)), s->kcnt[i]);
	for (i = 0; i < PL_CNT_MAX; i++)
		put_u64(ob, key(ob, "pipeline_", 0, pipeline__counter_name(i)), s->pcnt[i]);
}

static void stats_sinks(struct observer *ob)
{
	const struct snapshot *s = &ob->snap;
	int i, w;

	for (i = 0; i < s->nsinks; i++) {
		const struct sink_stats *st = &s->sinks[i].st;
		uint64_t lost = 0;

		for (w = 0; w < SINK_LOST_MAX; w++)
			lost += st->lost[w];
		put_str(ob, key(ob, "sink_", i + 1, "path"), s->sinks[i].path);
		put_str(ob, key(ob, "sink_", i + 1, "state"), sink__state_name(st->state));
		put_u64(ob, key(ob, "sink_", i + 1, "records"), st->records);
		put_u64(ob, key(ob, "sink_", i + 1, "bytes"), st->bytes);
		put_u64(ob, key(ob, "sink_", i + 1, "fsyncs"), st->fsyncs);
		put_u64(ob, key(ob, "sink_", i + 1, "rotations"), st->rotations);
		put_u64(ob, key(ob, "sink_", i + 1, "queue_bytes"), st->queued_bytes);
		put_u64(ob, key(ob, "sink_", i + 1, "lost_records"), lost);
	}
}

const struct format_field *observer__stats_fields(struct observer *ob, size_t *n)
{
	const struct snapshot *s = &ob->snap;
	struct jbuf scratch;
	uint64_t redactions = 0;
	int i;

	jbuf__init(&scratch);
	ob->health = health__status_name(health__render(s, clock_ns(CLOCK_REALTIME), &scratch));
	jbuf__free(&scratch);
	for (i = 0; i < s->nrules; i++)
		redactions += s->rules[i].count;
	ob->n = 0;
	put_str(ob, "health", ob->health);
	put_u64(ob, "interval_s", ob->o.stats_interval_s);
	put_u64(ob, "events", s->pl.events);
	put_u64(ob, "exchanges", s->pl.exchanges);
	put_u64(ob, "records", s->pl.records);
	put_u64(ob, "pending_requests", s->pl.pending);
	put_u64(ob, "connections", s->pl.conns);
	put_u64(ob, "ringbuf_used_bytes", s->ringbuf_used);
	put_u64(ob, "ringbuf_size_bytes", s->ringbuf_size);
	put_u64(ob, "loss_window_s", s->loss_window_s);
	put_u64(ob, "loss_window_kernel", s->kernel_loss_window);
	put_u64(ob, "loss_window_pipeline", s->pipeline_loss_window);
	put_u64(ob, "loss_window_sinks", s->sink_loss_window);
	put_u64(ob, "redactions", redactions);
	put_u64(ob, "cpu_ms", (uint64_t)(s->cpu_seconds * 1000));
	put_u64(ob, "rss_bytes", s->rss_bytes);
	stats_counters(ob);
	stats_sinks(ob);
	*n = ob->n;
	return ob->f;
}
