// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lifecycle record members from the collector's facts (output_lifecycle.h).
 * The order of the members is the record's: a change is a schema change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "config.h"
#include "format.h"
#include "log.h"
#include "output_lifecycle.h"
#include "targets.h"
#include "version.h"

/* Members every record may have besides counters and sinks (with room to spare). */
#define LC_FIXED_FIELDS	28
#define LC_KEY_LEN	40

/* Keys and texts made here live in the record until it is written. */
struct lc_record {
	struct format_field *f;
	size_t n;
	char (*keys)[LC_KEY_LEN];
	char targets[LC_TARGETS_PIDS * 12];
	char selectors[8192];
};

static void lc_str(struct lc_record *l, const char *key, const char *v)
{
	l->f[l->n++] = (struct format_field){ .key = key, .kind = FF_STR, .s = v };
}

static void lc_u64(struct lc_record *l, const char *key, uint64_t v)
{
	l->f[l->n++] = (struct format_field){ .key = key, .kind = FF_U64, .u = v };
}

/* A key made of a prefix and a name (or number), kept in l->keys. */
static const char *lc_key(struct lc_record *l, const char *prefix, const char *name, int num)
{
	char *k = l->keys[l->n];

	if (name)
		snprintf(k, LC_KEY_LEN, "%s%s", prefix, name);
	else
		snprintf(k, LC_KEY_LEN, "%s%d", prefix, num);
	return k;
}

/* Which config is in force (absent without -c) and where records go. */
static void put_config(struct lc_record *l, const struct lc_facts *f)
{
	int i, n = f->cfg ? f->cfg->n_sinks : 0;

	if (f->cfg && f->cfg->path) {
		lc_str(l, "config", f->cfg->path);
		lc_str(l, "config_digest", f->cfg->digest);
	}
	lc_u64(l, "sinks", n);
	for (i = 0; i < n; i++)
		lc_str(l, lc_key(l, "sink_", NULL, i + 1), f->cfg->sinks[i].output_file);
}

/* "4451,4452": the command's pid (exec) and the --pid values (run). */
static void put_targets(struct lc_record *l, const struct lc_facts *f)
{
	size_t off = 0, cap = sizeof(l->targets);
	int i;

	l->targets[0] = '\0';
	if (f->child)
		off += snprintf(l->targets, cap, "%d", (int)f->child);
	for (i = 0; i < f->npids && off < cap; i++)
		off += snprintf(l->targets + off, cap - off, "%s%d", off ? "," : "",
				(int)f->pids[i]);
	lc_str(l, "targets", l->targets);
}

/* run: each selector and how many processes it matched; what privileges are left. */
static void put_selectors(struct lc_record *l, const struct lc_facts *f)
{
	if (f->selectors && f->selectors->n) {
		targets__summary(f->selectors, l->selectors, sizeof(l->selectors));
		lc_str(l, "selectors", l->selectors);
	}
	if (f->caps) {
		lc_str(l, "capabilities", f->caps);
		lc_u64(l, "uid", geteuid());
	}
}

static void start_fields(struct lc_record *l, const struct lc_facts *f)
{
	lc_str(l, "run_id", f->run_id);
	lc_str(l, "version", SOCKAUDIT_VERSION);
	lc_str(l, "attach", f->attach);
	put_targets(l, f);
	put_selectors(l, f);
	lc_u64(l, "max_capture_bytes", f->max_capture_bytes);
	lc_u64(l, "capture_budget_bytes", f->capture_budget_bytes);
	lc_u64(l, "request_ttl_ms", f->request_ttl_ms);
	put_config(l, f);
}

/* prefix + name of each counter but the skipped one; the names are whole without prefix. */
static void put_set(struct lc_record *l, const char *prefix, const struct lc_counters *c)
{
	for (int i = 0; i < c->n; i++) {
		if (i == c->skip)
			continue;
		lc_u64(l, prefix ? lc_key(l, prefix, c->name(i), 0) : c->name(i), c->v[i]);
	}
}

static void put_counters(struct lc_record *l, const struct lc_facts *f)
{
	put_set(l, "kernel_", &f->kernel);
	put_set(l, "pipeline_", &f->pipeline);
	if (!f->tls.v)
		return;	/* TLS off */
	lc_u64(l, "tls_files_attached", f->tls_files);
	lc_u64(l, "tls_links_swept", f->tls_swept);
	put_set(l, NULL, &f->tls);
}

static void stop_fields(struct lc_record *l, const struct lc_facts *f)
{
	lc_str(l, "run_id", f->run_id);
	lc_str(l, "reason", f->reason);
	if (f->child)
		l->f[l->n++] = (struct format_field){ .key = "exit_status", .kind = FF_I64,
						      .i = f->exit_status };
	if (f->command_signal)
		lc_str(l, "command_signal", f->command_signal);
	lc_u64(l, "events", f->events);
	lc_u64(l, "exchanges", f->exchanges);
	put_counters(l, f);
}

static void reload_fields(struct lc_record *l, const struct lc_facts *f)
{
	lc_str(l, "status", f->status);
	if (f->error)
		lc_str(l, "error", f->error);
	lc_u64(l, "reload_ms", f->reload_ms);
	lc_u64(l, "held_events", f->held_events);
	put_config(l, f);
	put_selectors(l, f);
}

/* The state file: the start record's members, progress, counters. */
static void state_fields(struct lc_record *l, const struct lc_facts *f)
{
	lc_str(l, "state", f->state);
	lc_u64(l, "pid", getpid());
	lc_u64(l, "updated", time(NULL));
	start_fields(l, f);
	lc_u64(l, "kernel_targets", f->kernel_targets);
	lc_u64(l, "events", f->events);
	lc_u64(l, "exchanges", f->exchanges);
	lc_u64(l, "records", f->records);
	put_counters(l, f);
}

/* Room for every member the facts can give: the fixed ones, counters, sinks. */
static size_t max_fields(const struct lc_facts *f)
{
	return LC_FIXED_FIELDS + f->kernel.n + f->pipeline.n + f->tls.n +
	       (f->cfg ? f->cfg->n_sinks : 0);
}

struct lc_record *lifecycle__build(enum lc_kind kind, const struct lc_facts *f)
{
	static void (*const fill[])(struct lc_record *, const struct lc_facts *) = {
		[LC_START] = start_fields, [LC_STOP] = stop_fields,
		[LC_RELOAD] = reload_fields, [LC_STATE] = state_fields,
	};
	size_t max = max_fields(f);
	struct lc_record *l = calloc(1, sizeof(*l));

	if (l) {
		l->f = calloc(max, sizeof(*l->f));
		l->keys = calloc(max, sizeof(*l->keys));
	}
	if (!l || !l->f || !l->keys) {
		log_err("no memory for a lifecycle record; it is not written");
		lifecycle__free(l);
		return NULL;
	}
	fill[kind](l, f);
	return l;
}

const struct format_field *lifecycle__fields(const struct lc_record *r, size_t *n)
{
	*n = r->n;
	return r->f;
}

void lifecycle__free(struct lc_record *r)
{
	if (!r)
		return;
	free(r->f);
	free(r->keys);
	free(r);
}
