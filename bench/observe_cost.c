// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What watching itself costs the reader thread (issue 18): the time of one
 * observer__cycle (a snapshot of every figure and its publication, done
 * once per drain cycle) and of one slow pass (process figures, loss
 * window; no BPF maps here), with NSINKS sinks, and what that makes per
 * second at the default 20 ms drain period. No kernel: a pipeline and
 * sinks writing into DIR.
 *
 *   observe_cost DIR [NSINKS] [CYCLES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "observe.h"
#include "pipeline.h"
#include "sink.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int open_sinks(const char *dir, struct sink **s, int n)
{
	struct sink_config cfg;
	char path[512], err[256];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/observe-%d.log", dir, i);
		remove(path);
		sink_config__defaults(&cfg);
		if (sink_config__set_output(&cfg, path, err, sizeof(err)) ||
		    sink__create(&s[i], &cfg, 0, err, sizeof(err))) {
			fprintf(stderr, "observe_cost: %s\n", err);
			return 1;
		}
		sink_config__free(&cfg);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int nsinks = argc > 2 ? atoi(argv[2]) : 1, cycles = argc > 3 ? atoi(argv[3]) : 20000, i;
	struct observer_opts oo = { .stats_interval_s = 86400 };	/* on, no record due */
	struct pipeline_opts po = { 0 };
	struct sink *s[CONFIG_MAX_SINKS];
	uint64_t kcnt[SA_CNT_MAX] = { 0 }, t0, fast, slow;
	struct snapshot_src src;
	struct observer *ob;
	struct pipeline *pl;

	if (argc < 2 || nsinks < 1 || nsinks > CONFIG_MAX_SINKS || cycles < 1) {
		fprintf(stderr, "usage: observe_cost DIR [NSINKS 1..%d] [CYCLES]\n", CONFIG_MAX_SINKS);
		return 2;
	}
	pl = pipeline__new(&po, NULL);
	if (!pl || open_sinks(argv[1], s, nsinks) || pipeline__set_sinks(pl, s, nsinks) ||
	    observer__start(&ob, &oo))
		return 1;
	src = (struct snapshot_src){ .pl = pl, .sinks = s, .nsinks = nsinks, .kcnt = kcnt,
				     .attach = "none" };
	observer__cycle(ob, &src, mono_ns());	/* the first one does the slow part too */
	/* fast path: cycles within the same second */
	t0 = mono_ns();
	for (i = 0; i < cycles; i++)
		observer__cycle(ob, &src, t0);
	fast = (mono_ns() - t0) / cycles;
	/* slow path: every cycle a second later */
	t0 = mono_ns();
	for (i = 0; i < cycles / 10; i++)
		observer__cycle(ob, &src, t0 + (i + 2) * 1000000000ULL);
	slow = (mono_ns() - t0) / (cycles / 10) - fast;
	printf("observer, %d sink(s): %llu ns per drain cycle, %llu ns more once a second: "
	       "%.1f us of CPU per second at 50 cycles/s (%.3f%% of one core)\n", nsinks,
	       (unsigned long long)fast, (unsigned long long)slow, (50.0 * fast + slow) / 1000,
	       (50.0 * fast + slow) / 1e7);
	observer__stop(ob);
	pipeline__free(pl);
	for (i = 0; i < nsinks; i++)
		sink__close(s[i]);
	return 0;
}
