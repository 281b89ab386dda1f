/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The userspace pipeline behind the reader: validates raw kernel events,
 * tracks connections, parses, correlates, formats (once per distinct
 * rendering of the sinks) and queues records on the sinks. Fed by the live ring buffer or by `replay`, the same way.
 */
#ifndef SOCKAUDIT_PIPELINE_H
#define SOCKAUDIT_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockaudit/events.h"

/* Userspace loss counters: each one, when it moves, becomes a loss record. */
enum pl_counter {
	PL_STREAM_GAP_BYTES = 0,	/* bytes missing between events of a stream */
	PL_TRUNCATED_BYTES,		/* bytes past max_capture_bytes */
	PL_UNPARSED_BYTES,		/* bytes of a stream the parser could not read */
	PL_INVALID_EVENTS,		/* malformed events (bad size, type, lengths) */
	PL_QUEUE_FULL_RECORDS,		/* records the sink queue refused */
	PL_REORDERED_EVENTS,		/* events older than their stream position */
	PL_EVICTED_REQUESTS,		/* written early: max_pending bounds hit */
	PL_EVICTED_CONNS,		/* connections dropped: max_connections hit */
	PL_STDIO_SKIPPED_BYTES,		/* stdin/stdout bytes of streams that are not JSON-RPC */
	PL_STDIO_HOST_END_BYTES,	/* a host's end of an audited stdio stream (recorded there) */
	PL_MCP_SESSIONS_EVICTED,	/* MCP HTTP sessions forgotten: over the table's bound */
	PL_CNT_MAX,
};

struct pipeline_opts {
	uint64_t ttl_ns;		/* request TTL (no_response after it) */
	uint64_t idle_ns;		/* connection state kept this long idle (0: 900 s) */
	uint32_t max_connections;	/* tracked at once (0: 65536, the kernel map's size) */
	uint32_t max_pending_per_conn;	/* (0: CORR_DEFAULT_MAX_PER_CONN) */
	uint64_t max_pending;		/* requests waiting overall (0: CORR_DEFAULT_MAX_PENDING) */
	uint32_t body_excerpt;		/* bytes of each body kept in a record */
	int64_t mono_to_real;		/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	bool live;			/* read /proc for process facts */
};

struct pipeline_stats {
	uint64_t events;
	uint64_t exchanges;
	uint64_t records;
	uint64_t pending;
	uint32_t conns;
};

struct sink;
struct pipeline;

/* Called when a target's last thread exited (to clean kernel maps). */
typedef void (*proc_exit_fn)(void *ctx, uint32_t tgid);

struct pipeline *pipeline__new(const struct pipeline_opts *opts, struct sink *sink);
void pipeline__free(struct pipeline *p);
void pipeline__on_proc_exit(struct pipeline *p, proc_exit_fn fn, void *ctx);

/* One raw kernel event. Malformed events are counted and skipped: returns 0. */
int pipeline__event(struct pipeline *p, const void *data, size_t size);

#define PIPELINE_DEFAULT_IDLE_NS	(900ULL * 1000000000ULL)
#define PIPELINE_DEFAULT_MAX_CONNS	65536

#define PIPELINE_BATCH_BYTES (256u << 10)
#define PIPELINE_MAX_SINKS 32

/*
 * Feed records to these sinks from now on (distinct writers; config reload).
 * Sinks that render alike (sink__formatter: same type, max_message_length
 * and redactor) share one rendering of each record.
 */
int pipeline__set_sinks(struct pipeline *p, struct sink *const *sinks, int n);
/* How many distinct renderings the sinks need (tests, metrics). */
int pipeline__ngroups(const struct pipeline *p);
/* Extra critical records for hybrid sinks (config critical_rules; may be NULL). */
struct critical_rules;
void pipeline__set_rules(struct pipeline *p, const struct critical_rules *rules);

/* Hand the records formatted so far to the sink (once per drain cycle). */
bool pipeline__flush_batch(struct pipeline *p);

/* Expire requests past their TTL; now_ns on the event clock (CLOCK_MONOTONIC). */
void pipeline__tick(struct pipeline *p, uint64_t now_ns);

/*
 * Write a loss record for every counter that moved since the last call:
 * kernel counters (kcnt[SA_CNT_MAX], may be NULL) and our own.
 * now_ns 0 means "the newest event's time" (replay).
 */
void pipeline__report_loss(struct pipeline *p, const uint64_t *kcnt, uint64_t now_ns);

/*
 * Lifecycle records (collector_start, collector_stop, config_reload) with
 * members f[0..nf), flat (format.h: every format renders a flat list), in
 * every sink's format.
 */
struct format_field;
void pipeline__lifecycle(struct pipeline *p, const char *type, const struct format_field *f,
			 size_t nf, uint64_t now_ns);

/* Write every pending exchange (collector stopping) with outcome shutdown. */
void pipeline__finish(struct pipeline *p);

/* Set the event-to-wall-clock offset (replay learns it from the file). */
void pipeline__set_clock(struct pipeline *p, int64_t mono_to_real);

void pipeline__stats(const struct pipeline *p, struct pipeline_stats *st);
const uint64_t *pipeline__counters(const struct pipeline *p);
const char *pipeline__counter_name(int idx);
const char *kernel_counter_name(int idx);

/* ---- figures for metrics (issue 18) ---- */

#define PL_TRANSPORTS	4	/* 0 (not known yet) and enum sa_transport */
#define PL_PROTOS	5	/* enum proto (conntrack.h) */
#define PL_OUTCOMES	12	/* at least OUTCOME_MAX (correlate.h) */

struct pipeline_metrics {
	uint64_t data_events[PL_TRANSPORTS];	/* data events read, by transport */
	uint64_t data_bytes[PL_TRANSPORTS];	/* payload bytes captured, by transport */
	uint64_t exchanges[PL_PROTOS][PL_OUTCOMES];
	uint64_t pending_limit;			/* max_pending in force */
	uint32_t conns_limit;			/* max_connections in force */
};

void pipeline__metrics(const struct pipeline *p, struct pipeline_metrics *m);
const char *pipeline__transport_name(int transport);
const char *pipeline__proto_name(int proto);

#endif /* SOCKAUDIT_PIPELINE_H */
