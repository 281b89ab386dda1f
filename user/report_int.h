/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What `report` adds up, shared by the terminal tables (report.c) and the
 * HTML page (report_html.c). Everything is bounded: REPORT_ROWS rows per
 * table (the rest counted as "other"), REPORT_BINS time bins whose width
 * doubles as the logs reach further, fixed histograms for percentiles.
 */
#ifndef SOCKAUDIT_REPORT_INT_H
#define SOCKAUDIT_REPORT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "lathist.h"

#define REPORT_ROWS	200
#define REPORT_BINS	60
#define REPORT_GAPS	20		/* seq gaps listed (all are counted) */
#define REPORT_SUB	6		/* per-row histograms: 1.6 % */
#define REPORT_BIN_SUB	3		/* per-row, per-bin histograms: 6 % */

struct report_row {
	char *key;			/* what the row is */
	char *sel;			/* the search selector that drills down */
	uint64_t hash;
	uint64_t n, errors, noresp, sum;	/* sum: loss counts */
	uint64_t over;			/* of n, inherited from rows it replaced (upper bound) */
	struct lathist h;
	uint32_t *bins;			/* REPORT_BINS coarse histograms, or NULL */
};

enum report_table { RT_ENDPOINT, RT_STATUS, RT_TOOL, RT_PEER, RT_PROCESS, RT_REDACTION,
		    RT_LOSS, RT_TYPE, RT__N };

struct report_tab {
	const char *title;
	bool latency;			/* rows carry latency and rates */
	bool timeseries;		/* rows carry per-bin histograms */
	struct report_row row[REPORT_ROWS];
	int n;
	uint64_t other;			/* records whose row could not be made (no memory) */
	uint64_t replaced;		/* rows given over to a new key (Space-Saving) */
};

struct report_gap {
	char set[128];
	uint64_t after, before;		/* seq after..before missing: (after, before) exclusive */
};

struct report_chain {
	char *name;			/* the set */
	int rc;				/* VERIFY_OK / _BAD / _USAGE; -1: not a file set */
	char *text;			/* verify's lines */
};

struct report {
	struct report_tab tab[RT__N];
	uint64_t records, exchanges, errors, noresp, unparsable, files;
	int64_t ts_min, ts_max;
	struct lathist all;		/* every exchange's duration */
	/* time bins: [origin + i * width, origin + (i + 1) * width) */
	int64_t origin, width;
	bool clock_set;
	uint64_t req[REPORT_BINS], err[REPORT_BINS], loss[REPORT_BINS];
	/* seq continuity, per set */
	uint64_t last_seq, gaps, missing, restarts;
	struct report_gap gap[REPORT_GAPS];
	char cur_set[128];
	struct report_chain *chain;
	int nchain;
};

/* Records of the row itself (n without what it inherited): the base of its rates. */
static inline uint64_t report__own(const struct report_row *r)
{
	return r->n > r->over ? r->n - r->over : 1;
}

/* The row's p-quantile over its time bin b (0 when the bin is empty). */
uint64_t report__bin_quantile(const struct report_row *row, int b, double q);
/* ns since the epoch as UTC text (strftime's fmt). */
void report__ts(int64_t ns, const char *fmt, char *out, size_t n);
/* "850us", "12.3ms", "1.20s" */
void report__dur(uint64_t us, char *out, size_t n);
/* The page: every table, the charts, the chain per file. 0 or -errno. */
int report__html(const struct report *rp, FILE *f);

#endif /* SOCKAUDIT_REPORT_INT_H */
