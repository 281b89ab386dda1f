/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The collector's life: open the output, load capture, start or attach to
 * the targets, drain on a timer, expire and report loss once a second, and
 * on SIGINT/SIGTERM (or when the targets are gone) stop capture, drain what
 * is left, write pending exchanges, flush and exit.
 */
#ifndef SOCKAUDIT_COLLECTOR_H
#define SOCKAUDIT_COLLECTOR_H

#include <sys/types.h>
#include "capture.h"
#include "config.h"
#include "pipeline.h"

#define COLLECTOR_MAX_PIDS 64

struct collector_opts {
	struct capture_opts cap;
	struct pipeline_opts pl;
	const char *output;		/* -o: audit log (JSON Lines), or NULL */
	const char *config_path;	/* -c: YAML config, or NULL */
	int flush_mode;			/* --flush-mode, or -1 */
	struct config *cfg;		/* sinks after CLI overrides (NULL: no output) */
	const char *record_path;	/* raw event file, or NULL */
	pid_t pids[COLLECTOR_MAX_PIDS];	/* run: targets */
	int npids;
	char **argv;			/* exec: command to start */
	struct target_set targets;	/* run: --cgroup, --unit, --exe */
	const char *state_file;		/* --state-file (sockaudit status), or NULL */
	int drain_ms;			/* ring buffer drain period */
	/* issue 18: health and metrics endpoint, stats record (0/NULL: off) */
	const char *listen;		/* --listen / metrics.listen */
	bool allow_remote;
	gid_t listen_gid;		/* unix socket group, or (gid_t)-1 */
	uint32_t stats_interval_s;	/* --stats-interval / metrics.stats_interval_s */
	bool has_stats_interval;	/* --stats-interval given */
	uint32_t loss_window_s;		/* metrics.loss_window_s (0: 60) */
};

/*
 * Returns the process exit status: 0, 1 on error, or the command's status.
 * SIGUSR1 rotates every sink; SIGHUP reopens them and reloads config_path.
 */
int collector__run(const struct collector_opts *o);

/* Replay a raw event file through the pipeline into o->output. */
int collector__replay(const struct collector_opts *o, const char *events_path);

/* check-config: load path and check every output path. 0 or 1 (printed). */
int collector__check_config(const char *path);

#endif /* SOCKAUDIT_COLLECTOR_H */
