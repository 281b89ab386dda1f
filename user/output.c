// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rendering groups, batching, critical marks, loss and lifecycle records
 * (output.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "correlate.h"
#include "format.h"
#include "json.h"
#include "log.h"
#include "output.h"
#include "proc.h"
#include "sink.h"

/*
 * The sinks that take the same bytes: one formatter with one set of options
 * (max_message_length, redactor). Each record is rendered once per group.
 */
struct out_group {
	const struct formatter *f;
	struct format_opts o;
	struct jbuf jb;			/* this batch's records, rendered for the group */
	size_t crit;			/* bytes of jb up to the end of its last critical record */
	uint32_t *end;			/* where each record of jb ends: the writer needs no scan */
	uint32_t end_cap;
	struct sink *sinks[PIPELINE_MAX_SINKS];
	int nsinks;
	int prep;			/* its slot in output.preps */
};

/*
 * One prepared exchange per distinct (max_message_length, redactor) of
 * the groups: texts are sanitized and redacted once however many formats
 * render them.
 */
struct prep_slot {
	struct format_prep *fp;
	struct format_opts o;
};

struct output {
	struct sink *sinks[PIPELINE_MAX_SINKS];	/* distinct writers */
	int nsinks;
	struct out_group groups[PIPELINE_MAX_SINKS];	/* the sinks by rendering */
	int ngroups;
	struct prep_slot preps[PIPELINE_MAX_SINKS];	/* what the groups render from */
	int npreps;
	const struct critical_rules *rules;	/* hybrid sinks sync these at once */
	uint64_t sink_reported[PIPELINE_MAX_SINKS][SINK_LOST_MAX + 1];
	struct proc_cache *pc;
	uint64_t *queue_full;		/* the loss counter of refused records */
	int64_t mono_to_real;
	uint64_t seq;
	uint32_t batch_records;		/* records rendered, not yet given to the sinks */
	struct output_stats st;
};

/* ---- the batch ---- */

/*
 * Records accumulate in one buffer per group and reach the sinks as one
 * batch per drain cycle (or per PIPELINE_BATCH_BYTES): one lock and one
 * writer wakeup for many records. With one group (the common case: one
 * sink, or sinks of one type) each record is rendered once.
 */

/*
 * A group's batch to each of its sinks; false when one refused it (queue
 * full). The last sink may take the buffer itself rather than a copy of
 * it: jb is reset after the put either way.
 */
static bool put_group(struct out_group *g, uint32_t nrec)
{
	bool ok = true;
	int i, err;

	for (i = 0; i < g->nsinks; i++) {
		if (i == g->nsinks - 1)
			err = sink__give_recs(g->sinks[i], &g->jb.buf, &g->jb.cap, g->jb.len,
					      g->end, nrec, g->crit);
		else
			err = sink__put_recs(g->sinks[i], g->jb.buf, g->jb.len, g->end, nrec,
					     g->crit);
		if (err)
			ok = false;
	}
	return ok;
}

/* Every group's batch to its sinks; false when one was refused or not rendered. */
static bool put_all_sinks(struct output *o)
{
	bool ok = true;
	int i;

	for (i = 0; i < o->ngroups; i++) {
		struct out_group *g = &o->groups[i];

		if (g->jb.oom) {
			log_err("out of memory formatting records %llu..%llu as %s",
				(unsigned long long)(o->seq - o->batch_records + 1),
				(unsigned long long)o->seq, g->f->type);
			ok = false;
		} else if (!put_group(g, o->batch_records)) {
			ok = false;
		}
		jbuf__reset(&g->jb);
		g->crit = 0;
	}
	return ok;
}

bool output__flush(struct output *o)
{
	bool ok;

	if (!o->batch_records)
		return true;
	ok = put_all_sinks(o);
	if (ok)
		o->st.records += o->batch_records;
	else
		*o->queue_full += o->batch_records;
	o->batch_records = 0;
	return ok;
}

/* The record just rendered into every group is in the batch. */
static void put_record(struct output *o)
{
	int i;

	o->batch_records++;
	for (i = 0; i < o->ngroups; i++) {
		if (o->groups[i].jb.len >= PIPELINE_BATCH_BYTES || o->groups[i].jb.oom) {
			output__flush(o);
			return;
		}
	}
}

/*
 * The record just rendered into g ends here (record n of the batch);
 * critical: hybrid sinks must sync it at once.
 */
static void group_mark(struct out_group *g, uint32_t n, bool critical)
{
	if (n >= g->end_cap) {
		uint32_t cap = g->end_cap ? 2 * g->end_cap : 1024;
		uint32_t *e = realloc(g->end, cap * sizeof(*e));

		if (!e) {
			g->jb.oom = true;	/* the batch is refused and counted lost */
			return;
		}
		g->end = e;
		g->end_cap = cap;
	}
	g->end[n] = (uint32_t)g->jb.len;
	if (critical)
		g->crit = g->jb.len;
}

/* ---- critical marks ---- */

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The configured rules (critical_rules) that make an exchange critical. */
static bool rule_critical(const struct output *o, const struct exchange *x)
{
	const struct critical_rules *r = o->rules;
	int i;

	if (!r)
		return false;
	for (i = 0; x->resp && i < r->n_status; i++)
		if (msg_http(&x->resp->m)->status == r->http_status[i])
			return true;
	for (i = 0; x->req && i < r->n_methods; i++)
		if (!strcmp(msg_http(&x->req->m)->method, r->methods[i]))
			return true;
	for (i = 0; x->req && i < r->n_prefixes; i++)
		if (has_prefix(msg_http(&x->req->m)->target, r->target_prefixes[i]))
			return true;
	return false;
}

void output__set_rules(struct output *o, const struct critical_rules *rules)
{
	o->rules = rules;
}

/* ---- groups ---- */

static bool same_rendering(const struct out_group *g, const struct formatter *f,
			   const struct format_opts *fo)
{
	return g->f == f && g->o.max_message_length == fo->max_message_length &&
	       g->o.redactor == fo->redactor;
}

static bool same_prep(const struct format_opts *a, const struct format_opts *b)
{
	return a->max_message_length == b->max_message_length && a->redactor == b->redactor;
}

/* The prep slot for options fo, made when no group had them yet. */
static int prep_slot(struct output *o, const struct format_opts *fo)
{
	int i;

	for (i = 0; i < o->npreps && !same_prep(&o->preps[i].o, fo); i++)
		;
	if (i == o->npreps) {
		if (!o->preps[i].fp && !(o->preps[i].fp = format_prep__new()))
			return -ENOMEM;
		o->preps[i].o = *fo;
		o->npreps++;
	}
	return i;
}

/* Put sink s in the group that renders as it wants, or in a new one. */
static int group_add(struct output *o, struct sink *s)
{
	struct format_opts fo;
	const struct formatter *f = sink__formatter(s, &fo);
	struct out_group *g;
	int i;

	for (i = 0; i < o->ngroups && !same_rendering(&o->groups[i], f, &fo); i++)
		;
	g = &o->groups[i];
	if (i == o->ngroups) {
		o->ngroups++;
		g->f = f;
		g->o = fo;
		g->nsinks = 0;
		g->crit = 0;
		g->prep = prep_slot(o, &fo);
		if (g->prep < 0)
			return g->prep;
		jbuf__reset(&g->jb);
	}
	g->sinks[g->nsinks++] = s;
	return 0;
}

int output__set_sinks(struct output *o, struct sink *const *sinks, int n)
{
	int i, err;

	output__flush(o);
	if (n > PIPELINE_MAX_SINKS)
		return -E2BIG;
	o->ngroups = o->npreps = 0;
	for (i = 0; i < n; i++) {
		o->sinks[i] = sinks[i];
		err = group_add(o, sinks[i]);
		if (err)
			return err;
	}
	o->nsinks = n;
	memset(o->sink_reported, 0, sizeof(o->sink_reported));
	return 0;
}

int output__ngroups(const struct output *o)
{
	return o->ngroups;
}

/* ---- records ---- */

void output__exchange(void *ctx, const struct exchange *x)
{
	struct output *o = ctx;
	const struct proc_info *pi = proc_cache__get(o->pc, x->conn->tgid);
	bool own = exchange__critical(x), rule = rule_critical(o, x);
	uint64_t seq = ++o->seq;
	int i, err[PIPELINE_MAX_SINKS];

	for (i = 0; i < o->npreps; i++)
		err[i] = format__prepare(o->preps[i].fp, &o->preps[i].o, seq, x, pi,
					 o->mono_to_real, own);
	for (i = 0; i < o->ngroups; i++) {
		struct out_group *g = &o->groups[i];
		const struct format_prep *fp = o->preps[g->prep].fp;

		/* out of memory: the batch is not given to the sinks, and that is counted */
		if (err[g->prep] || format__render(g->f, &g->jb, &g->o, fp))
			g->jb.oom = true;
		group_mark(g, o->batch_records, rule || format_prep__critical(fp));
	}
	o->st.exchanges++;
	if (x->conn->proto < PL_PROTOS && x->outcome >= 0 && x->outcome < PL_OUTCOMES)
		o->st.by_outcome[x->conn->proto][x->outcome]++;
	put_record(o);
}

/* A record of another type, in every group's format; always critical (rare, it matters). */
static void put_event(struct output *o, const char *type, const struct format_field *f,
		      size_t nf, uint64_t now_ns)
{
	uint64_t seq = ++o->seq, real = now_ns + o->mono_to_real;
	int i;

	for (i = 0; i < o->ngroups; i++) {
		struct out_group *g = &o->groups[i];

		g->f->event(&g->jb, &g->o, seq, real, type, f, nf);
		group_mark(g, o->batch_records, true);
	}
	put_record(o);
}

void output__lifecycle(struct output *o, const char *type, const struct format_field *f,
		       size_t nf, uint64_t now_ns)
{
	put_event(o, type, f, nf, now_ns);
	output__flush(o);
}

/* ---- loss records ---- */

/*
 * A loss record goes out alone, so we know whether it was accepted.
 * sink: the audit log that lost the records (NULL: all of them).
 */
static bool write_loss(struct output *o, const char *source, const char *sink,
		       const char *name, uint64_t delta, uint64_t total, uint64_t now_ns)
{
	struct format_field f[5];
	size_t n = 0;

	f[n++] = (struct format_field){ .key = "source", .kind = FF_STR, .s = source };
	if (sink)
		f[n++] = (struct format_field){ .key = "sink", .kind = FF_STR, .s = sink };
	f[n++] = (struct format_field){ .key = "counter", .kind = FF_STR, .s = name };
	f[n++] = (struct format_field){ .key = "count", .kind = FF_U64, .u = delta };
	f[n++] = (struct format_field){ .key = "total", .kind = FF_U64, .u = total };
	output__flush(o);
	put_event(o, "loss", f, n, now_ns);
	return output__flush(o);
}

void output__report_counters(struct output *o, const char *source, const char *const *names,
			     const uint64_t *cnt, uint64_t *reported, int n, uint64_t now_ns)
{
	for (int i = 0; i < n; i++) {
		uint64_t total = cnt[i];

		/* a refused loss record moves its own counter: report it next time */
		if (total != reported[i] &&
		    write_loss(o, source, NULL, names[i], total - reported[i], total, now_ns))
			reported[i] = total;
	}
}

/* Records a sink refused (queue full) or lost after taking them. */
static void report_sink_loss(struct output *o, int si, uint64_t now_ns)
{
	struct sink *s = o->sinks[si];
	uint64_t *rep = o->sink_reported[si];
	int i;

	for (i = 0; i <= SINK_LOST_MAX; i++) {
		uint64_t total = i == SINK_LOST_MAX ? sink__dropped(s) : sink__lost(s, i);
		const char *name = i == SINK_LOST_MAX ? "queue_full_records" : sink__lost_name(i);

		if (total != rep[i] && write_loss(o, "sink", sink__path(s), name,
						  total - rep[i], total, now_ns))
			rep[i] = total;
	}
}

void output__report_sinks(struct output *o, uint64_t now_ns)
{
	for (int i = 0; i < o->nsinks; i++)
		report_sink_loss(o, i, now_ns);
}

/* ---- life ---- */

struct output *output__new(struct proc_cache *pc, uint64_t *queue_full)
{
	struct output *o = calloc(1, sizeof(*o));
	int i;

	if (!o)
		return NULL;
	o->pc = pc;
	o->queue_full = queue_full;
	for (i = 0; i < PIPELINE_MAX_SINKS; i++)
		jbuf__init(&o->groups[i].jb);
	return o;
}

void output__free(struct output *o)
{
	int i;

	if (!o)
		return;
	for (i = 0; i < PIPELINE_MAX_SINKS; i++) {
		jbuf__free(&o->groups[i].jb);
		free(o->groups[i].end);
		format_prep__free(o->preps[i].fp);
	}
	free(o);
}

void output__set_clock(struct output *o, int64_t mono_to_real)
{
	o->mono_to_real = mono_to_real;
}

void output__stats(const struct output *o, struct output_stats *st)
{
	*st = o->st;
}
