// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The report as one self-contained HTML page: inline CSS and SVG, no
 * script, nothing fetched. Each chart is an <svg class="chart"> whose marks
 * carry their numbers (data-n), so a test can check the picture against
 * the logs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "report_int.h"
#include "verify.h"

#define W	760	/* the viewBox; the page scales it to its width */
#define H	200
#define PAD_L	56
#define PAD_B	28
#define PAD_T	12
#define TOP_CHARTS 4	/* percentile charts per table (endpoints, tools) */

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void ts_text(int64_t ns, char *out, size_t n)
{
	report__ts(ns, "%Y-%m-%d %H:%M:%SZ", out, n);
}

/* Bins up to the last one holding anything (at least one). */
static int bins_used(const struct report *rp)
{
	int i, last = 0;

	for (i = 0; i < REPORT_BINS; i++)
		if (rp->req[i] || rp->loss[i])
			last = i;
	return last + 1;
}

static void axes(FILE *f, const struct report *rp, int nb, const char *ymax)
{
	char a[32], b[32];

	ts_text(rp->origin, a, sizeof(a));
	ts_text(rp->origin + (int64_t)nb * rp->width, b, sizeof(b));
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", PAD_L,
		H - PAD_B, W - 4, H - PAD_B);
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", PAD_L, PAD_T,
		PAD_L, H - PAD_B);
	fprintf(f, "<text x=\"%d\" y=\"%d\">%s</text>", PAD_L, H - 8, a);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", W - 4, H - 8, b);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", PAD_L - 4, PAD_T + 10,
		ymax);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>", PAD_L - 4, H - PAD_B);
}

/* Bars of a[0..nb) (and b over them, when given), scaled to their max. */
static void bars(FILE *f, const uint64_t *a, const char *ca, const uint64_t *b, const char *cb,
		 int nb)
{
	double bw = (double)(W - 4 - PAD_L) / nb, ph = H - PAD_B - PAD_T;
	uint64_t max = 1;
	int i;

	for (i = 0; i < nb; i++)
		max = a[i] > max ? a[i] : max;
	for (i = 0; i < nb; i++) {
		double h = ph * a[i] / max;

		fprintf(f, "<rect class=\"%s\" data-n=\"%" PRIu64 "\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\"><title>%" PRIu64 "</title></rect>", ca, a[i], PAD_L + i * bw,
			H - PAD_B - h, bw * 0.9, h, a[i]);
		if (!b)
			continue;
		h = ph * b[i] / max;
		fprintf(f, "<rect class=\"%s\" data-n=\"%" PRIu64 "\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\"><title>%" PRIu64 " errors</title></rect>", cb, b[i],
			PAD_L + i * bw, H - PAD_B - h, bw * 0.9, h, b[i]);
	}
}

static void chart_open(FILE *f, const char *kind, const char *title, const char *legend)
{
	fprintf(f, "<figure><figcaption>");
	esc(f, title);
	fprintf(f, " <span class=\"legend\">%s</span></figcaption>\n<svg class=\"chart\" "
		"data-kind=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\">", legend, kind, W, H);
}

static void chart_close(FILE *f)
{
	fprintf(f, "</svg></figure>\n");
}

/* The largest of v[0..n), at least lo. */
static uint64_t series_max(const uint64_t *v, int n, uint64_t lo)
{
	int i;

	for (i = 0; i < n; i++)
		lo = v[i] > lo ? v[i] : lo;
	return lo;
}

static void requests_chart(FILE *f, const struct report *rp, int nb)
{
	uint64_t max = series_max(rp->req, nb, 1);
	char ymax[32];

	snprintf(ymax, sizeof(ymax), "%" PRIu64, max);
	chart_open(f, "requests", "Exchanges and errors over time",
		   "<i class=\"req\"></i>exchanges <i class=\"err\"></i>errors");
	axes(f, rp, nb, ymax);
	bars(f, rp->req, "req", rp->err, "err", nb);
	chart_close(f);
}

static void loss_chart(FILE *f, const struct report *rp, int nb)
{
	uint64_t max = series_max(rp->loss, nb, 0);
	char ymax[32];

	snprintf(ymax, sizeof(ymax), "%" PRIu64, max);
	chart_open(f, "loss", "Loss over time (sum of loss records' counts)",
		   "<i class=\"loss\"></i>lost events, bytes or records");
	axes(f, rp, nb, ymax);
	if (!max)
		fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no loss recorded in "
			"this time range</text>", (W + PAD_L) / 2, H / 2);
	bars(f, rp->loss, "loss", NULL, NULL, nb);
	chart_close(f);
}

/* One bar per power of two of microseconds, from the smallest to the largest seen. */
static void latency_chart(FILE *f, const struct report *rp)
{
	uint64_t oct[41] = { 0 }, lo;
	const struct lathist *h = &rp->all;
	int first = -1, last = 0, i, n;
	double bw, ph = H - PAD_B - PAD_T;
	uint64_t max = 1;
	uint32_t k;
	char a[16];

	for (k = 0; k < h->nbuckets; k++) {
		if (!h->count[k])
			continue;
		lo = lathist__lower(h->sub_bits, k);
		i = lo ? 64 - __builtin_clzll(lo) : 0;	/* 0: 0us, i: [2^(i-1), 2^i) */
		oct[i] += h->count[k];
		first = first < 0 ? i : first;
		last = i;
	}
	chart_open(f, "latency", "Latency histogram (all exchanges with a duration)",
		   "<i class=\"lat\"></i>exchanges per power of two");
	if (first < 0)
		first = 0;
	n = last - first + 1;
	bw = (double)(W - 4 - PAD_L) / n;
	for (i = first; i <= last; i++)
		max = oct[i] > max ? oct[i] : max;
	fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", PAD_L,
		H - PAD_B, W - 4, H - PAD_B);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%" PRIu64 "</text>", PAD_L - 4,
		PAD_T + 10, max);
	for (i = first; i <= last; i++) {
		double hh = ph * oct[i] / max;

		report__dur(i ? 1ULL << (i - 1) : 0, a, sizeof(a));
		fprintf(f, "<rect class=\"lat\" data-n=\"%" PRIu64 "\" x=\"%.1f\" y=\"%.1f\" "
			"width=\"%.1f\" height=\"%.1f\"><title>&gt;= %s: %" PRIu64 "</title></rect>",
			oct[i], PAD_L + (i - first) * bw, H - PAD_B - hh, bw * 0.9, hh, a, oct[i]);
		if (n <= 24 || !((i - first) % 2))
			fprintf(f, "<text x=\"%.1f\" y=\"%d\">%s</text>", PAD_L + (i - first) * bw,
				H - 8, a);
	}
	chart_close(f);
}

static bool bin_has(const struct report_row *row, int b)
{
	uint32_t nb = lathist__nbuckets(REPORT_BIN_SUB), k;

	for (k = 0; row->bins && k < nb; k++)
		if (row->bins[(size_t)b * nb + k])
			return true;
	return false;
}

/* p50, p90, p99 of one row per time bin, as three lines (bins without data skipped). */
static void pct_chart(FILE *f, const struct report *rp, const struct report_row *row,
		      const char *what, int nb)
{
	static const struct { double q; const char *cls; } qs[] = {
		{ 0.5, "p50" }, { 0.9, "p90" }, { 0.99, "p99" } };
	double bw = (double)(W - 4 - PAD_L) / nb, ph = H - PAD_B - PAD_T;
	uint64_t max = 1, v;
	char title[400], ymax[16];
	size_t q;
	int i;

	for (i = 0; i < nb; i++) {
		v = report__bin_quantile(row, i, 0.99);
		max = v > max ? v : max;
	}
	snprintf(title, sizeof(title), "Percentiles over time: %s %s", what, row->key);
	report__dur(max, ymax, sizeof(ymax));
	chart_open(f, "percentiles", title, "<i class=\"p50\"></i>p50 <i class=\"p90\"></i>p90 "
		   "<i class=\"p99\"></i>p99");
	axes(f, rp, nb, ymax);
	/* a line per quantile, and a dot on each bin that has data (one bin: no line to see) */
	for (q = 0; q < sizeof(qs) / sizeof(qs[0]); q++) {
		fprintf(f, "<polyline class=\"%s\" points=\"", qs[q].cls);
		for (i = 0; i < nb; i++)
			if (bin_has(row, i))
				fprintf(f, "%.1f,%.1f ", PAD_L + (i + 0.5) * bw, H - PAD_B -
					ph * report__bin_quantile(row, i, qs[q].q) / max);
		fprintf(f, "\"/>");
		for (i = 0; i < nb; i++)
			if (bin_has(row, i))
				fprintf(f, "<circle class=\"%s\" r=\"3\" cx=\"%.1f\" cy=\"%.1f\"/>",
					qs[q].cls, PAD_L + (i + 0.5) * bw, H - PAD_B -
					ph * report__bin_quantile(row, i, qs[q].q) / max);
	}
	chart_close(f);
}

static void pct_charts(FILE *f, const struct report *rp, enum report_table t, const char *what,
		       int nb)
{
	const struct report_tab *tb = &rp->tab[t];
	int i, shown = 0;

	for (i = 0; i < tb->n && shown < TOP_CHARTS; i++)
		if (tb->row[i].h.n && tb->row[i].bins) {
			pct_chart(f, rp, &tb->row[i], what, nb);
			shown++;
		}
}

static void table(FILE *f, const struct report_tab *t)
{
	char p[4][16];
	int i;

	if (!t->n)
		return;
	fprintf(f, "<h2>");
	esc(f, t->title);
	fprintf(f, "</h2>\n<table><tr><th>row</th><th>n</th>");
	if (t->latency)
		fprintf(f, "<th>err %%</th><th>no resp %%</th><th>p50</th><th>p90</th><th>p99</th>"
			"<th>max</th>");
	fprintf(f, "<th>drill down: sockaudit search &hellip;</th></tr>\n");
	for (i = 0; i < t->n; i++) {
		const struct report_row *r = &t->row[i];

		fprintf(f, "<tr><td>");
		esc(f, r->key);
		fprintf(f, "</td><td class=\"num\">%" PRIu64 "%s</td>", r->n, r->over ? "~" : "");
		if (t->latency) {
			report__dur(lathist__quantile(&r->h, 0.5), p[0], sizeof(p[0]));
			report__dur(lathist__quantile(&r->h, 0.9), p[1], sizeof(p[1]));
			report__dur(lathist__quantile(&r->h, 0.99), p[2], sizeof(p[2]));
			report__dur(r->h.max, p[3], sizeof(p[3]));
			fprintf(f, "<td class=\"num\">%.1f</td><td class=\"num\">%.1f</td>"
				"<td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s"
				"</td><td class=\"num\">%s</td>", 100.0 * r->errors / report__own(r),
				100.0 * r->noresp / report__own(r), r->h.n ? p[0] : "-", r->h.n ? p[1] : "-",
				r->h.n ? p[2] : "-", r->h.n ? p[3] : "-");
		} else if (r->sum) {
			fprintf(f, "<td class=\"num\">%" PRIu64 " counted</td>", r->sum);
		}
		fprintf(f, "<td><code>");
		esc(f, r->sel);
		fprintf(f, "</code></td></tr>\n");
	}
	if (t->replaced)
		fprintf(f, "<tr><td colspan=\"3\">more than %d rows: %" PRIu64 " times a new one took "
			"over the smallest; n~ is an upper bound</td></tr>", REPORT_ROWS, t->replaced);
	fprintf(f, "</table>\n");
}

static void chains(FILE *f, const struct report *rp)
{
	int i;

	fprintf(f, "<h2>Chain verification per file</h2>\n<table class=\"chain\">"
		"<tr><th>log</th><th>result</th><th>verify says</th></tr>\n");
	for (i = 0; i < rp->nchain; i++) {
		const struct report_chain *c = &rp->chain[i];
		const char *res = c->rc < 0 ? "not verified (stdin)" :
			c->rc == VERIFY_OK ? "verified" :
			c->text && strstr(c->text, "no chain value on the first line") ?
			"no chain (integrity off)" : c->rc == VERIFY_BAD ? "FAILED" : "unreadable";

		fprintf(f, "<tr class=\"%s\"><td>", c->rc == VERIFY_OK ? "ok" : "bad");
		esc(f, c->name);
		fprintf(f, "</td><td>%s</td><td><pre>", res);
		esc(f, c->text);
		fprintf(f, "</pre></td></tr>\n");
	}
	fprintf(f, "</table>\n");
}

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:16px auto;max-width:1280px;padding:0 12px;"
	"color:#222}h1{font-size:20px}h2{font-size:16px;margin-top:24px}"
	".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:12px}"
	"figure{margin:0;border:1px solid #ddd;border-radius:4px;padding:6px}"
	"figcaption{font-weight:600;font-size:13px}.legend{font-weight:400;color:#555}"
	".legend i{display:inline-block;width:10px;height:10px;margin:0 3px 0 8px}"
	"svg.chart{width:100%;height:auto;display:block}svg text{font-size:11px;fill:#555}"
	".axis{stroke:#999}rect.req,i.req{fill:#4c78a8;background:#4c78a8}"
	"rect.err,i.err{fill:#e45756;background:#e45756}rect.loss,i.loss{fill:#f58518;"
	"background:#f58518}rect.lat,i.lat{fill:#54a24b;background:#54a24b}"
	"polyline{fill:none;stroke-width:2}circle.p50{fill:#4c78a8}circle.p90{fill:#f58518}"
	"circle.p99{fill:#e45756}.p50{stroke:#4c78a8;background:#4c78a8}"
	".p90{stroke:#f58518;background:#f58518}.p99{stroke:#e45756;background:#e45756}"
	"table{border-collapse:collapse;font-size:13px;width:100%}td,th{border-bottom:1px solid #eee;"
	"padding:2px 6px;text-align:left;vertical-align:top}td.num{text-align:right;"
	"font-variant-numeric:tabular-nums}code{font-size:12px;word-break:break-all}"
	"tr.bad td:nth-child(2){color:#c00;font-weight:600}tr.ok td:nth-child(2){color:#080}"
	"pre{margin:0;white-space:pre-wrap;font-size:12px}.summary{color:#444}";

int report__html(const struct report *rp, FILE *f)
{
	char a[32], b[32], w[32];
	int nb = bins_used(rp), t;

	ts_text(rp->ts_min, a, sizeof(a));
	ts_text(rp->ts_max, b, sizeof(b));
	report__dur(rp->width / 1000, w, sizeof(w));
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
		"<title>sockaudit report</title><style>%s</style></head><body>\n", css);
	fprintf(f, "<h1>sockaudit report</h1>\n<p class=\"summary\">%" PRIu64 " records (%" PRIu64
		" exchanges) from %" PRIu64 " file(s), %s &ndash; %s; errors %.1f%%, no response "
		"%.1f%%; seq gaps %" PRIu64 " (%" PRIu64 " records missing); time bins of %s.</p>\n",
		rp->records, rp->exchanges, rp->files, rp->records ? a : "-", rp->records ? b : "-",
		rp->exchanges ? 100.0 * rp->errors / rp->exchanges : 0.0,
		rp->exchanges ? 100.0 * rp->noresp / rp->exchanges : 0.0, rp->gaps, rp->missing, w);
	fprintf(f, "<div class=\"grid\">\n");
	requests_chart(f, rp, nb);
	latency_chart(f, rp);
	loss_chart(f, rp, nb);
	pct_charts(f, rp, RT_ENDPOINT, "endpoint", nb);
	pct_charts(f, rp, RT_TOOL, "tool", nb);
	fprintf(f, "</div>\n");
	chains(f, rp);
	for (t = 0; t < RT__N; t++)
		table(f, &rp->tab[t]);
	fprintf(f, "</body></html>\n");
	return ferror(f) ? -EIO : 0;
}
