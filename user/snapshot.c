// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The collector's figures, gathered on the reader thread and published lock-free. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "format.h"
#include "snapshot.h"
#include "version.h"

/* ---- publication ---- */

bool snapshot__publish(struct snapshot_pub *p, const struct snapshot *s)
{
	int w = !__atomic_load_n(&p->cur, __ATOMIC_SEQ_CST);

	if (__atomic_load_n(&p->readers[w], __ATOMIC_SEQ_CST))
		return false;	/* a reader is late on the old copy: publish next cycle */
	p->slot[w] = *s;
	__atomic_store_n(&p->cur, w, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&p->published, 1, __ATOMIC_RELEASE);
	return true;
}

/*
 * A reader announces itself on a slot, then checks the slot is still the
 * current one: if it is, the publisher (which only writes the other slot,
 * and only with no reader on it) cannot touch it until the reader leaves.
 */
bool snapshot__read(struct snapshot_pub *p, struct snapshot *out)
{
	int r;

	if (!__atomic_load_n(&p->published, __ATOMIC_ACQUIRE))
		return false;
	for (;;) {
		r = __atomic_load_n(&p->cur, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&p->readers[r], 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&p->cur, __ATOMIC_SEQ_CST) == r)
			break;
		__atomic_sub_fetch(&p->readers[r], 1, __ATOMIC_SEQ_CST);
	}
	*out = p->slot[r];
	__atomic_sub_fetch(&p->readers[r], 1, __ATOMIC_SEQ_CST);
	return true;
}

/* ---- gathering ---- */

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void gather_sinks(struct snapshot *s, const struct snapshot_src *src)
{
	int i;

	s->nsinks = 0;
	s->last_record_ns = 0;
	for (i = 0; i < src->nsinks && i < CONFIG_MAX_SINKS; i++) {
		struct snap_sink *ss;
		int j;

		for (j = 0; j < i && src->sinks[j] != src->sinks[i]; j++)
			;
		if (j < i)
			continue;	/* sinks sharing a file share one writer: its figures once */
		ss = &s->sinks[s->nsinks++];

		snprintf(ss->path, sizeof(ss->path), "%s", sink__path(src->sinks[i]));
		sink__stats(src->sinks[i], &ss->st);
		ss->forwarding = src->fwd && src->fwd[i];
		if (ss->forwarding)	/* a short lock of the forwarder's, never held over I/O */
			forward__stats(src->fwd[i], &ss->fwd);
		if (ss->st.last_write_ns > s->last_record_ns)
			s->last_record_ns = ss->st.last_write_ns;
	}
}

static void add_rule(struct snapshot *s, const char *name, uint64_t count)
{
	int i;

	for (i = 0; i < s->nrules && strcmp(s->rules[i].name, name); i++)
		;
	if (i == s->nrules) {
		if (s->nrules == REDACT_MAX_RULES)
			return;
		snprintf(s->rules[s->nrules++].name, SNAP_NAME_LEN, "%s", name);
		s->rules[i].count = 0;
	}
	s->rules[i].count += count;
}

/* Redactions by rule, summed over the distinct redactors of the sinks. */
static void gather_rules(struct snapshot *s, const struct snapshot_src *src)
{
	const struct redactor *seen[CONFIG_MAX_SINKS];
	int i, j, nseen = 0;

	s->nrules = 0;
	for (i = 0; i < src->nsinks && nseen < CONFIG_MAX_SINKS; i++) {
		struct format_opts fo;
		const struct redactor *r;
		size_t k;

		sink__formatter(src->sinks[i], &fo);
		r = fo.redactor ? fo.redactor : redactor__default();
		for (j = 0; j < nseen && seen[j] != r; j++)
			;
		if (j < nseen || !r)
			continue;
		seen[nseen++] = r;
		for (k = 0; k < redactor__nrules(r); k++)
			if (redactor__rule_on(r, k))
				add_rule(s, redactor__rule_name(r, k), redactor__count(r, k));
	}
}

void snapshot__gather(struct snapshot *s, const struct snapshot_src *src)
{
	s->taken_ns = real_ns();
	s->start_ns = src->start_ns;
	s->version = SOCKAUDIT_VERSION;
	s->attach = src->attach ? src->attach : "none";
	s->attached = capture__attached(src->cap);
	if (!src->cap || capture__ringbuf_usage(src->cap, &s->ringbuf_used, &s->ringbuf_size))
		s->ringbuf_used = s->ringbuf_size = 0;
	if (src->kcnt)
		memcpy(s->kcnt, src->kcnt, sizeof(s->kcnt));
	memcpy(s->pcnt, pipeline__counters(src->pl), sizeof(s->pcnt));
	pipeline__stats(src->pl, &s->pl);
	pipeline__metrics(src->pl, &s->pm);
	gather_sinks(s, src);
	gather_rules(s, src);
}

/* ---- once a second ---- */

void loss_window__init(struct loss_window *w, uint32_t seconds)
{
	memset(w, 0, sizeof(*w));
	w->seconds = seconds < 1 ? 1 : seconds > SNAP_WINDOW_MAX - 1 ? SNAP_WINDOW_MAX - 1 :
		     seconds;
}

static uint64_t kernel_loss(const struct snapshot *s)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < SA_CNT_MAX; i++)
		if (i != SA_CNT_EVENTS && i != SA_CNT_RB_FULL_BYTES)	/* events, not bytes */
			n += s->kcnt[i];
	return n;
}

static uint64_t pipeline_loss(const struct snapshot *s)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < PL_CNT_MAX; i++)
		n += s->pcnt[i];
	return n;
}

static uint64_t sink_loss(const struct snapshot *s)
{
	uint64_t n = 0;
	int i, w;

	/* refused records (queue full) are the pipeline's queue_full_records already */
	for (i = 0; i < s->nsinks; i++)
		for (w = 0; w < SINK_LOST_MAX; w++)
			n += s->sinks[i].st.lost[w];
	return n;
}

/* Totals now against the totals w->seconds ago (or at the start, while younger). */
static void window_push(struct snapshot *s, struct loss_window *w)
{
	static const uint64_t zero[3];
	uint64_t now[3] = { kernel_loss(s), pipeline_loss(s), sink_loss(s) };
	const uint64_t *base;

	memcpy(w->hist[w->head], now, sizeof(now));
	w->head = (w->head + 1) % (w->seconds + 1);
	if (w->filled < w->seconds + 1)
		w->filled++;
	/* younger than the window: everything since the start (the counters began at 0) */
	base = w->filled <= w->seconds ? zero : w->hist[w->head];
	s->loss_window_s = w->seconds;
	s->kernel_loss_window = now[0] - base[0];
	s->pipeline_loss_window = now[1] - base[1];
	s->sink_loss_window = now[2] - base[2];
}

/* utime + stime (clock ticks) and RSS (pages) from /proc/self/stat. */
static void gather_process(struct snapshot *s)
{
	unsigned long ut = 0, st = 0;
	long rss = 0;
	char buf[1024], *p;
	struct dirent *d;
	FILE *f = fopen("/proc/self/stat", "re");
	DIR *dir;
	size_t n;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
				"%*d %*d %*d %*d %*d %*d %*u %*u %ld", &ut, &st, &rss) == 3) {
			s->cpu_seconds = (double)(ut + st) / sysconf(_SC_CLK_TCK);
			s->rss_bytes = (uint64_t)rss * sysconf(_SC_PAGESIZE);
		}
	}
	s->open_fds = 0;
	dir = opendir("/proc/self/fd");
	if (!dir)
		return;
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			s->open_fds++;
	closedir(dir);
	if (s->open_fds)
		s->open_fds--;	/* the directory's own */
}

static void gather_maps(struct snapshot *s, const struct snapshot_src *src)
{
	struct capture_map_stat ms[CAPTURE_MAX_MAPS];
	int i;

	s->nmaps = src->cap ? capture__map_stats(src->cap, ms, CAPTURE_MAX_MAPS) : 0;
	for (i = 0; i < s->nmaps; i++) {
		snprintf(s->maps[i].name, SNAP_NAME_LEN, "%s", ms[i].name);
		s->maps[i].entries = ms[i].entries;
		s->maps[i].capacity = ms[i].capacity;
	}
}

void snapshot__gather_slow(struct snapshot *s, const struct snapshot_src *src,
			   struct loss_window *w)
{
	gather_maps(s, src);
	gather_process(s);
	window_push(s, w);
}
