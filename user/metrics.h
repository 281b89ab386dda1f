/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Prometheus text exposition, format 0.0.4: a small writer (families with
 * their # HELP and # TYPE once, samples with escaped label values,
 * cumulative histograms) and the rendering of a collector snapshot with it.
 * Names follow the Prometheus conventions: sockaudit_ prefix, base units
 * (seconds, bytes), _total for counters, _info for build facts.
 */
#ifndef SOCKAUDIT_METRICS_H
#define SOCKAUDIT_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "json.h"
#include "snapshot.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One label: name (identifier characters) and any value (escaped here). */
struct expo_label {
	const char *name;
	const char *value;
};

/* # HELP and # TYPE of a family: call once, before its samples. */
void expo__family(struct jbuf *out, const char *name, const char *type, const char *help);
/* name{labels} value; nl labels (0: none). */
void expo__u64(struct jbuf *out, const char *name, const struct expo_label *l, int nl, uint64_t v);
void expo__f64(struct jbuf *out, const char *name, const struct expo_label *l, int nl, double v);
/*
 * A histogram's samples: per-bucket counts (not cumulative, nb + 1 with the
 * +Inf bucket last) become cumulative _bucket{le=...} lines, then _sum and
 * _count. le_s: the nb upper bounds in seconds.
 */
void expo__histogram(struct jbuf *out, const char *name, const struct expo_label *l, int nl,
		     const double *le_s, const uint64_t *counts, int nb, double sum);

/* The whole /metrics page of a snapshot. */
void metrics__render(const struct snapshot *s, struct jbuf *out);

#endif /* SOCKAUDIT_METRICS_H */
