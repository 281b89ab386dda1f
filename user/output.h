/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The output stage: exchanges and records of other types (loss, lifecycle)
 * rendered once per group of sinks that render alike, batched, marked
 * critical where hybrid sinks must sync at once, and handed to the sinks.
 *
 * It owns the rendering groups, the prepared texts, the batch and its
 * record ends, the record sequence numbers and what each loss counter has
 * reported; it calls format.h to render and sink.h to queue.
 */
#ifndef SOCKAUDIT_OUTPUT_H
#define SOCKAUDIT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pipeline.h"

struct exchange;
struct format_field;
struct proc_cache;
struct sink;
struct critical_rules;
struct output;

struct output_stats {
	uint64_t exchanges;		/* exchange records rendered */
	uint64_t records;		/* records the sinks took */
	uint64_t by_outcome[PL_PROTOS][PL_OUTCOMES];	/* exchanges by protocol and outcome */
};

/*
 * pc: the process facts each record shows; queue_full: the loss counter
 * moved by records the sinks refused.
 */
struct output *output__new(struct proc_cache *pc, uint64_t *queue_full);
void output__free(struct output *o);

/* See pipeline__set_sinks: distinct writers, grouped by rendering. */
int output__set_sinks(struct output *o, struct sink *const *sinks, int n);
int output__ngroups(const struct output *o);
void output__set_rules(struct output *o, const struct critical_rules *rules);
void output__set_clock(struct output *o, int64_t mono_to_real);

/* One exchange (an exchange_fn of correlate.h: ctx is the output). */
void output__exchange(void *ctx, const struct exchange *x);

/* A lifecycle record (collector_start, collector_stop, ...), flushed at once. */
void output__lifecycle(struct output *o, const char *type, const struct format_field *f,
		       size_t nf, uint64_t now_ns);

/*
 * A loss record for each counter cnt[i] that moved since reported[i]
 * (source "kernel" or "collector"), then one for each sink's own losses.
 * A record that was refused leaves its counter to be reported next time.
 */
void output__report_counters(struct output *o, const char *source, const char *const *names,
			     const uint64_t *cnt, uint64_t *reported, int n, uint64_t now_ns);
void output__report_sinks(struct output *o, uint64_t now_ns);

/* Hand the records rendered so far to the sinks (once per drain cycle). */
bool output__flush(struct output *o);

void output__stats(const struct output *o, struct output_stats *st);

#endif /* SOCKAUDIT_OUTPUT_H */
