/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The members of the lifecycle records (collector_start, collector_stop,
 * config_reload) and of the state file, built by the output stage from the
 * facts the collector hands over: counters, reason, times, what is attached.
 * Every format renders a flat list, so nested counters become prefixed keys
 * (kernel_*, pipeline_*) and lists one text (targets "4451,4452") or
 * numbered keys (sink_1, sink_2).
 */
#ifndef SOCKAUDIT_OUTPUT_LIFECYCLE_H
#define SOCKAUDIT_OUTPUT_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct config;
struct format_field;
struct target_set;

enum lc_kind {
	LC_START,	/* collector_start */
	LC_STOP,	/* collector_stop */
	LC_RELOAD,	/* config_reload */
	LC_STATE,	/* the state file `sockaudit status` reads */
};

/* A set of counters and how each is named; skip: an index not written, or -1. */
struct lc_counters {
	const uint64_t *v;
	int n;
	int skip;
	const char *(*name)(int idx);
};

/* The facts; a record reads the ones of its kind (zero: absent or 0). */
struct lc_facts {
	/* which run, attached how, to what (start, reload, state) */
	const char *run_id;
	const char *attach;
	pid_t child;				/* exec: the command, or 0 */
	const pid_t *pids;			/* run: --pid values */
	int npids;
	const struct target_set *selectors;	/* run: selectors in force, or NULL */
	const char *caps;			/* run: capabilities left, or NULL */
	uint64_t max_capture_bytes, capture_budget_bytes, request_ttl_ms;
	const struct config *cfg;		/* NULL without -c */
	/* stop, state */
	const char *reason;
	int exit_status;			/* written when child */
	const char *command_signal;		/* or NULL */
	const char *state;
	uint64_t kernel_targets;
	uint64_t events, exchanges, records;
	struct lc_counters kernel, pipeline, tls;	/* tls.v NULL: TLS off */
	uint64_t tls_files, tls_swept;
	/* reload */
	const char *status;
	const char *error;			/* or NULL */
	uint64_t reload_ms, held_events;
};

/* pids a `targets` member names at most (the command and --pid values) */
#define LC_TARGETS_PIDS	65

struct lc_record;

/* The record's members, made from f (copied where needed); NULL: no memory (said). */
struct lc_record *lifecycle__build(enum lc_kind kind, const struct lc_facts *f);
const struct format_field *lifecycle__fields(const struct lc_record *r, size_t *n);
void lifecycle__free(struct lc_record *r);

#endif /* SOCKAUDIT_OUTPUT_LIFECYCLE_H */
