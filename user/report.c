// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * report: one pass over the logs into bounded tables (report_int.h), then
 * the terminal tables or, with --html, the page (report_html.c). Every row
 * names the search selector that lists its records.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "loginput.h"
#include "logrec.h"
#include "logset.h"
#include "report.h"
#include "report_int.h"
#include "selector.h"
#include "verify.h"

struct ropts {
	struct selector sel;
	const char *html, *key, *config;
	bool verify;
	char **files;
	int nfiles;
};

/* ---- target normalization ---- */

static bool all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return n > 0;
}

/* A UUID, 16+ hex digits, or a 20+ character token holding digits: an item's id. */
static bool looks_id(const char *s, size_t n)
{
	size_t i, hex = 0, dig = 0, dash = 0;

	for (i = 0; i < n; i++) {
		hex += isxdigit((unsigned char)s[i]) != 0;
		dig += isdigit((unsigned char)s[i]) != 0;
		dash += s[i] == '-';
	}
	if (n == 36 && dash == 4 && hex == 32)
		return true;
	if (n >= 16 && hex == n && dig)
		return true;
	return n >= 20 && dig >= 2;
}

size_t report__normalize_target(const char *t, char *out, size_t cap)
{
	size_t tl = strcspn(t, "?#"), o = 0, i = 0;

	if (!cap)
		return 0;
	while (i < tl && o + 1 < cap) {
		size_t seg = strcspn(t + i, "/");
		const char *rep = NULL;

		if (seg > tl - i)
			seg = tl - i;
		if (all_digits(t + i, seg))
			rep = "{n}";
		else if (looks_id(t + i, seg))
			rep = "{id}";
		o += snprintf(out + o, cap - o, "%.*s", rep ? (int)strlen(rep) : (int)seg,
			      rep ? rep : t + i);
		if (o >= cap)
			o = cap - 1;
		i += seg;
		if (i < tl && o + 1 < cap)
			out[o++] = t[i++];	/* the slash */
	}
	out[o] = '\0';
	return o;
}

/* ---- tables ---- */

static const struct { const char *title; bool latency, timeseries; } tabs[RT__N] = {
	[RT_ENDPOINT] = { "By endpoint (method + normalized target; JSON-RPC method)", true, true },
	[RT_STATUS] = { "By status class", true, false },
	[RT_TOOL] = { "By MCP tool", true, true },
	[RT_PEER] = { "By peer", true, false },
	[RT_PROCESS] = { "By process", true, false },
	[RT_REDACTION] = { "Redactions by rule (records)", false, false },
	[RT_LOSS] = { "Loss records (source counter: sum of counts)", false, false },
	[RT_TYPE] = { "Records by type", false, false },
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/*
 * The table is full: the new key takes over the row with the smallest count
 * (Space-Saving, Metwally et al. 2005). It keeps that count as an upper
 * bound of what the new key may have had before (over); its rates and
 * percentiles start afresh from its own records.
 */
static struct report_row *take_over(struct report_tab *tb, const char *key, const char *sel,
				    uint64_t h)
{
	struct report_row *m = &tb->row[0];
	char *k = strdup(key), *se = strdup(sel);
	int i;

	if (!k || !se) {
		free(k);
		free(se);
		tb->other++;
		return NULL;
	}
	for (i = 1; i < tb->n; i++)
		if (tb->row[i].n < m->n)
			m = &tb->row[i];
	free(m->key);
	free(m->sel);
	m->key = k;
	m->sel = se;
	m->hash = h;
	m->over = m->n;
	m->errors = m->noresp = m->sum = 0;
	if (m->h.count) {
		memset(m->h.count, 0, m->h.nbuckets * sizeof(*m->h.count));
		m->h.n = m->h.max = m->h.sum = 0;
	}
	if (m->bins)
		memset(m->bins, 0, (size_t)REPORT_BINS * lathist__nbuckets(REPORT_BIN_SUB) *
		       sizeof(*m->bins));
	tb->replaced++;
	return m;
}

static struct report_row *row_for(struct report *rp, enum report_table t, const char *key,
				  const char *sel)
{
	struct report_tab *tb = &rp->tab[t];
	uint64_t h = fnv(key);
	struct report_row *r;
	int i;

	for (i = 0; i < tb->n; i++)
		if (tb->row[i].hash == h && !strcmp(tb->row[i].key, key))
			return &tb->row[i];
	if (tb->n == REPORT_ROWS)
		return take_over(tb, key, sel, h);
	r = &tb->row[tb->n];
	r->key = strdup(key);
	r->sel = strdup(sel);
	if (!r->key || !r->sel || (tb->latency && lathist__init(&r->h, REPORT_SUB))) {
		free(r->key);
		free(r->sel);
		tb->other++;
		return NULL;
	}
	r->hash = h;
	tb->n++;
	return r;
}

/* A value for a selector: quoted for the shell when it holds anything but [A-Za-z0-9_./:-]. */
static void shell_word(char *out, size_t n, const char *v)
{
	const char *p;
	size_t o;

	for (p = v; *p && (isalnum((unsigned char)*p) || strchr("_./:-{}", *p)); p++)
		;
	if (!*p && *v) {
		snprintf(out, n, "%s", v);
		return;
	}
	o = snprintf(out, n, "'");
	for (p = v; *p && o + 5 < n; p++)
		o += *p == '\'' ? snprintf(out + o, n - o, "'\\''") : snprintf(out + o, n - o, "%c", *p);
	snprintf(out + o, n - o, "'");
}

/* ---- the clock of the charts ---- */

static void rebin_row(struct report_row *r, uint32_t nb)
{
	int i;
	uint32_t k;

	if (!r->bins)
		return;
	for (i = 0; i < REPORT_BINS / 2; i++)
		for (k = 0; k < nb; k++)
			r->bins[i * nb + k] = r->bins[2 * i * nb + k] + r->bins[(2 * i + 1) * nb + k];
	memset(r->bins + (REPORT_BINS / 2) * nb, 0, (size_t)(REPORT_BINS / 2) * nb * sizeof(uint32_t));
}

static void rebin_arr(uint64_t *a)
{
	int i;

	for (i = 0; i < REPORT_BINS / 2; i++)
		a[i] = a[2 * i] + a[2 * i + 1];
	memset(a + REPORT_BINS / 2, 0, sizeof(*a) * (REPORT_BINS / 2));
}

/* The bin of ts: the width doubles (pairs merged) until it fits. */
static int bin_of(struct report *rp, int64_t ts)
{
	uint32_t nb = lathist__nbuckets(REPORT_BIN_SUB);
	int64_t i;
	int t, k;

	if (!rp->clock_set) {
		rp->clock_set = true;
		rp->width = 1000000000LL;
		rp->origin = ts - ts % rp->width;
	}
	if (ts < rp->origin)
		return 0;	/* records are written when complete: a little out of order */
	while ((i = (ts - rp->origin) / rp->width) >= REPORT_BINS) {
		rp->width *= 2;
		rebin_arr(rp->req);
		rebin_arr(rp->err);
		rebin_arr(rp->loss);
		for (t = 0; t < RT__N; t++)
			for (k = 0; k < rp->tab[t].n; k++)
				rebin_row(&rp->tab[t].row[k], nb);
	}
	return (int)i;
}

/* ---- adding up one record ---- */

static bool no_response(const struct logrec *r)
{
	static const char *const o[] = { "no_response", "conn_closed", "proc_exit", "shutdown",
					 "evicted" };
	size_t i;

	for (i = 0; i < sizeof(o) / sizeof(o[0]); i++)
		if (logrec__eq(r, LF_OUTCOME, o[i]))
			return true;
	return false;
}

struct exch {
	bool has_dur, err, noresp;
	uint64_t us;
	int bin;
};

static void row_add(struct report_row *row, const struct exch *x, bool timeseries)
{
	uint32_t nb = lathist__nbuckets(REPORT_BIN_SUB);

	if (!row)
		return;
	row->n++;
	row->errors += x->err;
	row->noresp += x->noresp;
	if (!x->has_dur)
		return;
	lathist__add(&row->h, x->us);
	if (timeseries && !row->bins)
		row->bins = calloc((size_t)REPORT_BINS * nb, sizeof(uint32_t));
	if (row->bins && x->bin >= 0)
		row->bins[x->bin * nb + lathist__bucket(REPORT_BIN_SUB, x->us)]++;
}

static void endpoint(struct report *rp, const struct logrec *r, const struct exch *x)
{
	char key[600], sel[1400], m[64], t[512], nt[512], w1[200], w2[600];

	if (logrec__has(r, LF_REQ_TARGET) && !logrec__eq(r, LF_PROTO, "raw")) {
		logrec__str(r, LF_REQ_METHOD, m, sizeof(m));
		logrec__str(r, LF_REQ_TARGET, t, sizeof(t));
		report__normalize_target(t, nt, sizeof(nt));
		snprintf(key, sizeof(key), "%s %s", m, nt);
		shell_word(w1, sizeof(w1), m);
		/* {n} and {id} become *, and a query may follow */
		for (char *p = nt; (p = strchr(p, '{')); ) {
			char *e = strchr(p, '}');

			if (!e)
				break;
			*p = '*';
			memmove(p + 1, e + 1, strlen(e + 1) + 1);
		}
		if (strchr(t, '?') && nt[0] && nt[strlen(nt) - 1] != '*')
			strncat(nt, "*", sizeof(nt) - strlen(nt) - 1);
		shell_word(w2, sizeof(w2), nt);
		snprintf(sel, sizeof(sel), "--method %s --target %s", w1, w2);
	} else if (logrec__has(r, LF_RPC_METHOD)) {
		logrec__str(r, LF_RPC_METHOD, m, sizeof(m));
		snprintf(key, sizeof(key), "rpc %s", m);
		shell_word(w1, sizeof(w1), m);
		snprintf(sel, sizeof(sel), "--rpc-method %s", w1);
	} else {
		logrec__str(r, LF_PROTO, m, sizeof(m));
		snprintf(key, sizeof(key), "(%s, no method)", m[0] ? m : "?");
		snprintf(sel, sizeof(sel), "--proto %s --type exchange", m[0] ? m : "raw");
	}
	row_add(row_for(rp, RT_ENDPOINT, key, sel), x, true);
}

static void status_class(struct report *rp, const struct logrec *r, const struct exch *x)
{
	char key[32], sel[128];
	int64_t st;

	if (x->noresp) {
		snprintf(key, sizeof(key), "no response");
		snprintf(sel, sizeof(sel), "--outcome no_response,conn_closed,proc_exit,shutdown,evicted");
	} else if (logrec__i64(r, LF_RESP_STATUS, &st) && st >= 100 && st <= 599) {
		snprintf(key, sizeof(key), "%dxx", (int)(st / 100));
		snprintf(sel, sizeof(sel), "--status %dxx", (int)(st / 100));
	} else if (logrec__has(r, LF_RPC_ERR_CODE)) {
		snprintf(key, sizeof(key), "rpc error");
		snprintf(sel, sizeof(sel), "--rpc-error any");
	} else {
		char oc[24];

		logrec__str(r, LF_OUTCOME, oc, sizeof(oc));
		logrec__str(r, LF_PROTO, key, sizeof(key));
		snprintf(sel, sizeof(sel), "--proto %s --outcome %s", key, oc);
		strncat(key, " ", sizeof(key) - strlen(key) - 1);
		strncat(key, oc, sizeof(key) - strlen(key) - 1);
	}
	row_add(row_for(rp, RT_STATUS, key, sel), x, false);
}

static void by_peer_process_tool(struct report *rp, const struct logrec *r, const struct exch *x)
{
	char key[300], sel[400], v[256], w[300], *c;
	int64_t pid;

	if (logrec__has(r, LF_RPC_TOOL)) {
		logrec__str(r, LF_RPC_TOOL, v, sizeof(v));
		shell_word(w, sizeof(w), v);
		snprintf(sel, sizeof(sel), "--tool %s", w);
		row_add(row_for(rp, RT_TOOL, v, sel), x, true);
	}
	logrec__str(r, LF_PEER, v, sizeof(v));
	if (!strncmp(v, "unix:", 5) || !strncmp(v, "pipe:", 5)) {
		snprintf(key, sizeof(key), "%.5s", v);
		snprintf(sel, sizeof(sel), "--transport %s", v[0] == 'u' ? "unix" : "pipe");
	} else {
		c = v[0] == '[' ? strchr(v, ']') : strrchr(v, ':');	/* the host, ports vary */
		if (c)
			c[v[0] == '['] = '\0';
		snprintf(key, sizeof(key), "%s", v[0] == '[' ? v + 1 : v);
		snprintf(sel, sizeof(sel), "--peer %s", key);
	}
	row_add(row_for(rp, RT_PEER, key, sel), x, false);
	logrec__str(r, LF_COMM, v, sizeof(v));
	if (logrec__i64(r, LF_PID, &pid)) {
		snprintf(key, sizeof(key), "%s[%" PRId64 "]", v, pid);
		snprintf(sel, sizeof(sel), "--pid %" PRId64, pid);
		row_add(row_for(rp, RT_PROCESS, key, sel), x, false);
	}
}

static void redaction(const char *rule, void *arg)
{
	struct report *rp = arg;
	struct report_row *row;
	char sel[300], w[260];

	shell_word(w, sizeof(w), rule);
	snprintf(sel, sizeof(sel), "--redacted %s", w);
	row = row_for(rp, RT_REDACTION, rule, sel);
	if (row)
		row->n++;
}

static void exchange(struct report *rp, const struct logrec *r, int bin)
{
	struct exch x = { .bin = bin };
	int64_t st;

	x.has_dur = logrec__dur_us(r, &x.us);
	x.err = logrec__eq(r, LF_OUTCOME, "error") ||
		(logrec__i64(r, LF_RESP_STATUS, &st) && st >= 500);
	x.noresp = no_response(r);
	rp->exchanges++;
	rp->errors += x.err;
	rp->noresp += x.noresp;
	if (bin >= 0) {
		rp->req[bin]++;
		rp->err[bin] += x.err;
	}
	if (x.has_dur)
		lathist__add(&rp->all, x.us);
	endpoint(rp, r, &x);
	status_class(rp, r, &x);
	by_peer_process_tool(rp, r, &x);
	logrec__arr_each(r, LF_REDACTIONS, redaction, rp);
}

static void loss(struct report *rp, const struct logrec *r, int bin)
{
	char src[32], ctr[64], key[100], sel[128];
	struct report_row *row;
	int64_t n = 0;

	logrec__str(r, LF_SOURCE, src, sizeof(src));
	logrec__str(r, LF_COUNTER, ctr, sizeof(ctr));
	logrec__i64(r, LF_COUNT, &n);
	snprintf(key, sizeof(key), "%s %s", src, ctr);
	snprintf(sel, sizeof(sel), "--type loss --counter %s", ctr);
	row = row_for(rp, RT_LOSS, key, sel);
	if (row) {
		row->n++;
		row->sum += n > 0 ? n : 0;
	}
	if (bin >= 0)
		rp->loss[bin] += n > 0 ? n : 0;
}

/*
 * seq numbers each run from 1; a jump means records lost before the sink
 * (queue full). Checked on every line, matched or not (a selector must not
 * make gaps), from the line's head: {"v":1,"seq":N,"ts":"...","type":"T"
 */
static void seq_check(struct report *rp, const char *line, size_t len)
{
	static const char head[] = "{\"v\":1,\"seq\":";
	const size_t hl = sizeof(head) - 1;
	uint64_t seq = 0;
	size_t i;
	bool start;

	if (len < hl || memcmp(line, head, hl))
		return;
	for (i = hl; i < len && i < hl + 20 && line[i] >= '0' && line[i] <= '9'; i++)
		seq = seq * 10 + (line[i] - '0');
	if (!seq)
		return;		/* the writer's own records are not numbered */
	start = memmem(line + i, len - i < 80 ? len - i : 80, "\"type\":\"collector_start\"", 25);
	if (start || seq <= rp->last_seq) {
		rp->restarts += start;
	} else if (rp->last_seq && seq > rp->last_seq + 1) {
		if (rp->gaps < REPORT_GAPS) {
			struct report_gap *g = &rp->gap[rp->gaps];

			snprintf(g->set, sizeof(g->set), "%s", rp->cur_set);
			g->after = rp->last_seq;
			g->before = seq;
		}
		rp->gaps++;
		rp->missing += seq - rp->last_seq - 1;
	}
	rp->last_seq = seq;
}

static void add_record(struct report *rp, const struct logrec *r)
{
	char type[32], sel[64];
	struct report_row *row;
	int64_t ts;
	int bin = -1;

	rp->records++;
	if (logrec__ts(r, &ts)) {
		if (rp->records == 1 || ts < rp->ts_min)
			rp->ts_min = ts;
		if (rp->records == 1 || ts > rp->ts_max)
			rp->ts_max = ts;
		bin = bin_of(rp, ts);
	}
	logrec__str(r, LF_TYPE, type, sizeof(type));
	snprintf(sel, sizeof(sel), "--type %s", type);
	row = row_for(rp, RT_TYPE, type, sel);
	if (row)
		row->n++;
	if (!strcmp(type, "exchange"))
		exchange(rp, r, bin);
	else if (!strcmp(type, "loss"))
		loss(rp, r, bin);
}

/* ---- reading ---- */

static int read_set(struct report *rp, const struct ropts *o, const struct loginput_set *s)
{
	struct logset_reader r;
	struct logrec rec;
	const char *line;
	size_t len;
	bool first;
	int e;

	if (logset__init(&r, s->paths, s->n))
		return -ENOMEM;
	snprintf(rp->cur_set, sizeof(rp->cur_set), "%s", s->name);
	rp->last_seq = 0;
	rp->files += s->n;
	while ((e = logset__next_line(&r, &line, &len, &first)) > 0) {
		seq_check(rp, line, len);
		if (!selector__prefilter(&o->sel, line, len))
			continue;
		if (logrec__parse(line, len, &rec)) {
			rp->unparsable++;
			continue;
		}
		if (selector__match(&o->sel, &rec))
			add_record(rp, &rec);
	}
	logset__close(&r);
	return e;
}

/* verify's verdict on each set, kept for the page (and printed with --verify). */
static void chain_of(struct report *rp, const struct loginput_set *s, const char *key)
{
	struct report_chain *c = realloc(rp->chain, (rp->nchain + 1) * sizeof(*c));
	size_t sz = 0;
	FILE *f;

	if (!c)
		return;
	rp->chain = c;
	c = &rp->chain[rp->nchain];
	c->name = strdup(s->name);
	c->text = NULL;
	c->rc = -1;
	if (!c->name)
		return;
	rp->nchain++;
	if (!strcmp(s->name, "-"))
		return;
	f = open_memstream(&c->text, &sz);
	if (!f)
		return;
	c->rc = verify__set(key, s->name, f);
	fclose(f);
}

/* ---- the terminal tables ---- */

void report__dur(uint64_t us, char *out, size_t n)
{
	if (us < 1000)
		snprintf(out, n, "%" PRIu64 "us", us);
	else if (us < 1000000)
		snprintf(out, n, "%.1fms", us / 1e3);
	else
		snprintf(out, n, "%.2fs", us / 1e6);
}

static int cmp_rows(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->key, y->key);
}

void report__ts(int64_t ns, const char *fmt, char *out, size_t n)
{
	time_t s = ns / 1000000000LL;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, n, fmt, &tm);
}

static void print_tab(FILE *f, const struct report_tab *t)
{
	char p50[16], p90[16], p99[16], mx[16];
	int i;

	if (!t->n)
		return;
	fprintf(f, "\n%s\n", t->title);
	if (t->latency)
		fprintf(f, "  %-44s %8s %6s %7s %8s %8s %8s %8s  %s\n", "", "n", "err%", "noresp%",
			"p50", "p90", "p99", "max", "drill down: sockaudit search ...");
	for (i = 0; i < t->n; i++) {
		const struct report_row *r = &t->row[i];

		if (!t->latency) {
			fprintf(f, "  %-44s %8" PRIu64 "%s", r->key, r->n, r->over ? "~" : "");
			if (r->sum)
				fprintf(f, " (sum of counts %" PRIu64 ")", r->sum);
			fprintf(f, "  %s\n", r->sel);
			continue;
		}
		report__dur(lathist__quantile(&r->h, 0.5), p50, sizeof(p50));
		report__dur(lathist__quantile(&r->h, 0.9), p90, sizeof(p90));
		report__dur(lathist__quantile(&r->h, 0.99), p99, sizeof(p99));
		report__dur(r->h.max, mx, sizeof(mx));
		fprintf(f, "  %-44s %8" PRIu64 "%s %6.1f %7.1f %8s %8s %8s %8s  %s\n", r->key, r->n,
			r->over ? "~" : "", 100.0 * r->errors / report__own(r),
			100.0 * r->noresp / report__own(r), r->h.n ? p50 : "-",
			r->h.n ? p90 : "-", r->h.n ? p99 : "-", r->h.n ? mx : "-", r->sel);
	}
	if (t->replaced)
		fprintf(f, "  (more than %d rows: %" PRIu64 " times a new one took over the smallest; "
			"n~ is an upper bound, its rates and latencies count only its own records)\n",
			REPORT_ROWS, t->replaced);
	if (t->other)
		fprintf(f, "  (%" PRIu64 " records not counted: out of memory)\n", t->other);
}

static const struct { const char *counter, *meaning; } loss_meaning[] = {
	{ "ringbuf_full_events", "the kernel ring buffer was full: events dropped (raise --ringbuf-mb)" },
	{ "ringbuf_full_bytes", "payload bytes dropped with those events" },
	{ "stream_gap_bytes", "bytes missing inside a connection's stream" },
	{ "capture_truncated_bytes", "bytes a syscall moved beyond what was captured" },
	{ "unparsed_bytes", "bytes a protocol parser could not read" },
	{ "queue_full_records", "records refused by a full queue: a gap in seq" },
	{ "evicted_requests", "requests written early (outcome evicted): a bound was hit" },
	{ "write_failed_records", "a write or sync failed (ENOSPC, EIO)" },
	{ "oversize_records", "a record over max_message_length replaced by a loss record" },
	{ "suspended_records", "not written: space_left_action suspend" },
	{ "stash_full", "syscalls not captured: no per-thread slot" },
	{ "conn_map_full", "sockets not tracked: the connection map was full" },
};

static void print_loss_meanings(FILE *f, const struct report_tab *t)
{
	size_t i;
	int k;

	for (k = 0; k < t->n; k++)
		for (i = 0; i < sizeof(loss_meaning) / sizeof(loss_meaning[0]); i++)
			if (strstr(t->row[k].key, loss_meaning[i].counter))
				fprintf(f, "  %s: %s\n", loss_meaning[i].counter, loss_meaning[i].meaning);
	if (t->n)
		fprintf(f, "  (every counter: docs/record-schema.md, section loss)\n");
}

static void print_report(FILE *f, const struct report *rp, bool chain)
{
	char a[32], b[32];
	uint64_t i;
	int t;

	report__ts(rp->ts_min, "%Y-%m-%dT%H:%M:%SZ", a, sizeof(a));
	report__ts(rp->ts_max, "%Y-%m-%dT%H:%M:%SZ", b, sizeof(b));
	fprintf(f, "sockaudit report: %" PRIu64 " records (%" PRIu64 " exchanges) from %" PRIu64
		" file(s); time %s .. %s\n", rp->records, rp->exchanges, rp->files,
		rp->records ? a : "-", rp->records ? b : "-");
	fprintf(f, "exchanges: errors %.1f%% (HTTP 5xx or JSON-RPC error), no response %.1f%% "
		"(no_response, conn_closed, proc_exit, shutdown, evicted)\n",
		rp->exchanges ? 100.0 * rp->errors / rp->exchanges : 0.0,
		rp->exchanges ? 100.0 * rp->noresp / rp->exchanges : 0.0);
	fprintf(f, "seq: %" PRIu64 " gap(s), %" PRIu64 " record(s) missing; %" PRIu64
		" collector start(s)\n", rp->gaps, rp->missing, rp->restarts);
	for (i = 0; i < rp->gaps && i < REPORT_GAPS; i++)
		fprintf(f, "  %s: seq %" PRIu64 " .. %" PRIu64 " missing (search --seq %" PRIu64
			"-%" PRIu64 " shows the records around it)\n", rp->gap[i].set,
			rp->gap[i].after + 1, rp->gap[i].before - 1, rp->gap[i].after,
			rp->gap[i].before);
	for (t = 0; t < RT__N; t++) {
		print_tab(f, &rp->tab[t]);
		if (t == RT_LOSS)
			print_loss_meanings(f, &rp->tab[t]);
	}
	if (rp->unparsable)
		fprintf(f, "\n%" PRIu64 " line(s) were not JSON objects (torn or edited): skipped\n",
			rp->unparsable);
	for (t = 0; chain && t < rp->nchain; t++)
		fprintf(f, "\nchain of %s:\n%s", rp->chain[t].name,
			rp->chain[t].text ? rp->chain[t].text : "  (stdin: not verified)\n");
}

/* ---- options ---- */

static int usage(const char *what)
{
	fprintf(stderr, "sockaudit: error: %s\nusage: sockaudit report [selectors] [--html "
		"OUT.html] [--verify] [--key FILE] [-c CONFIG] [LOG|DIR|- ...]\n"
		"       (sockaudit search --help lists the selectors)\n", what);
	return 2;
}

/* --help: the usage and the selectors on stdout; -1 tells the caller to exit 0. */
static int help(void)
{
	printf("usage: sockaudit report [selectors] [--html OUT.html] [--verify] [--key FILE] "
	       "[-c CONFIG] [LOG|DIR|- ...]\nexit status: 0 records matched, 1 none, 2 error "
	       "(docs/search.md)\n");
	selector__usage(stdout);
	return -1;
}

static int parse_opts(struct ropts *o, int argc, char **argv)
{
	char err[512];
	int i, e;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool val = !strcmp(a, "--html") || !strcmp(a, "--key") || !strcmp(a, "-c") ||
			   !strcmp(a, "--config");

		e = selector__parse_arg(&o->sel, argc, argv, &i, err, sizeof(err));
		if (e < 0)
			return usage(err);
		if (e)
			continue;
		if (val && i + 1 >= argc)
			return usage("an option wants a value");
		if (!strcmp(a, "--html"))
			o->html = argv[++i];
		else if (!strcmp(a, "--key"))
			o->key = argv[++i];
		else if (!strcmp(a, "-c") || !strcmp(a, "--config"))
			o->config = argv[++i];
		else if (!strcmp(a, "--verify"))
			o->verify = true;
		else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
			return help();
		else if (a[0] == '-' && a[1])
			return usage("unknown option (see the usage below)");
		else
			break;
	}
	o->files = argv + i;
	o->nfiles = argc - i;
	selector__finish(&o->sel);
	return 0;
}

static void report_free(struct report *rp)
{
	int t, i;

	for (t = 0; t < RT__N; t++)
		for (i = 0; i < rp->tab[t].n; i++) {
			free(rp->tab[t].row[i].key);
			free(rp->tab[t].row[i].sel);
			free(rp->tab[t].row[i].bins);
			lathist__free(&rp->tab[t].row[i].h);
		}
	for (i = 0; i < rp->nchain; i++) {
		free(rp->chain[i].name);
		free(rp->chain[i].text);
	}
	free(rp->chain);
	lathist__free(&rp->all);
}

static int write_html(const struct report *rp, const char *path)
{
	FILE *f = fopen(path, "we");
	int e;

	if (!f) {
		fprintf(stderr, "sockaudit: error: cannot write %s: %s; check the path\n", path,
			strerror(errno));
		return -errno;
	}
	e = report__html(rp, f);
	if (fclose(f) && !e)
		e = -errno;
	if (e)
		fprintf(stderr, "sockaudit: error: writing %s: %s\n", path, strerror(-e));
	return e;
}

int report__main(int argc, char **argv)
{
	struct ropts o = { 0 };
	struct loginput in;
	struct report *rp = calloc(1, sizeof(*rp));
	int i, t, e = 0;

	selector__init(&o.sel);
	if (!rp || lathist__init(&rp->all, REPORT_SUB)) {
		free(rp);
		return 2;
	}
	for (t = 0; t < RT__N; t++) {
		rp->tab[t].title = tabs[t].title;
		rp->tab[t].latency = tabs[t].latency;
		rp->tab[t].timeseries = tabs[t].timeseries;
	}
	t = parse_opts(&o, argc, argv);
	if (t || loginput__resolve(&in, o.files, o.nfiles, o.config)) {
		selector__free(&o.sel);
		report_free(rp);
		free(rp);
		return t < 0 ? 0 : 2;	/* -1: --help */
	}
	for (i = 0; !e && i < in.n; i++) {
		e = read_set(rp, &o, &in.set[i]);
		if (!e && (o.html || o.verify))
			chain_of(rp, &in.set[i], o.key ? o.key : in.key_file);
	}
	for (t = 0; t < RT__N; t++)
		qsort(rp->tab[t].row, rp->tab[t].n, sizeof(rp->tab[t].row[0]), cmp_rows);
	if (!e)
		print_report(stdout, rp, o.verify);
	if (!e && o.html)
		e = write_html(rp, o.html);
	t = e ? 2 : rp->records ? 0 : 1;
	loginput__free(&in);
	selector__free(&o.sel);
	report_free(rp);
	free(rp);
	return t;
}

uint64_t report__bin_quantile(const struct report_row *row, int b, double q)
{
	struct lathist h = { .sub_bits = REPORT_BIN_SUB, .max = row->h.max };
	uint32_t k;

	if (!row->bins)
		return 0;
	h.nbuckets = lathist__nbuckets(REPORT_BIN_SUB);
	h.count = row->bins + (size_t)b * h.nbuckets;
	for (k = 0; k < h.nbuckets; k++)
		h.n += h.count[k];
	return lathist__quantile(&h, q);
}
