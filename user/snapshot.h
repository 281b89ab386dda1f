/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The collector's state as plain figures, taken once per drain cycle by the
 * reader thread and published so that other threads (the metrics endpoint,
 * later `sockaudit status`) read a whole, consistent copy without taking any
 * lock the pipeline or a writer holds. Two slots: the reader fills the one
 * nobody reads and flips an index; a slot still being read is skipped (the
 * next cycle publishes instead), so neither side ever waits.
 */
#ifndef SOCKAUDIT_SNAPSHOT_H
#define SOCKAUDIT_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include "capture.h"
#include "config.h"
#include "forward.h"
#include "pipeline.h"
#include "redact.h"
#include "sink.h"

#define SNAP_PATH_LEN	256
#define SNAP_NAME_LEN	32
#define SNAP_WINDOW_MAX	3600	/* seconds of loss history kept at most */

struct snap_sink {
	char path[SNAP_PATH_LEN];
	struct sink_stats st;
	bool forwarding;		/* the sink has a forward: section; fwd holds its figures */
	struct forward_stats fwd;
};

struct snap_map {
	char name[SNAP_NAME_LEN];
	uint64_t entries, capacity;
};

struct snap_rule {
	char name[SNAP_NAME_LEN];
	uint64_t count;
};

struct snapshot {
	uint64_t taken_ns;		/* CLOCK_REALTIME of this snapshot */
	uint64_t start_ns;		/* CLOCK_REALTIME when the collector started */
	const char *version, *attach;	/* static strings */
	bool attached;
	uint64_t ringbuf_used, ringbuf_size;
	uint64_t kcnt[SA_CNT_MAX];	/* kernel loss counters (loss record names) */
	uint64_t pcnt[PL_CNT_MAX];	/* pipeline loss counters */
	uint32_t loss_window_s;		/* what the *_loss_window figures cover */
	uint64_t kernel_loss_window, pipeline_loss_window, sink_loss_window;
	struct pipeline_stats pl;
	struct pipeline_metrics pm;
	int nsinks;
	struct snap_sink sinks[CONFIG_MAX_SINKS];
	int nmaps;
	struct snap_map maps[CAPTURE_MAX_MAPS];
	int nrules;
	struct snap_rule rules[REDACT_MAX_RULES];
	double cpu_seconds;		/* user + system of this process */
	uint64_t rss_bytes;
	uint64_t open_fds;
	uint64_t last_record_ns;	/* newest write of any sink (CLOCK_REALTIME) */
};

/* The published copy: see the head of this file. */
struct snapshot_pub {
	struct snapshot slot[2];
	int cur;			/* the slot readers take */
	int readers[2];
	uint64_t published;		/* snapshots published so far (0: none yet) */
};

/* Reader thread: publish s; false when skipped (the other slot is being read). */
bool snapshot__publish(struct snapshot_pub *p, const struct snapshot *s);
/* Any thread: copy the newest snapshot into out; false when none was published yet. */
bool snapshot__read(struct snapshot_pub *p, struct snapshot *out);

/*
 * Gathering (reader thread). The loss window keeps one total per second so
 * "lost in the last N seconds" is a difference of two totals.
 */
struct snapshot_src {
	struct pipeline *pl;
	struct capture *cap;		/* NULL: replay, no kernel */
	struct sink *const *sinks;
	struct forwarder *const *fwd;	/* per sink, NULL entries (or NULL): not forwarded */
	int nsinks;
	const uint64_t *kcnt;		/* SA_CNT_MAX kernel counters, as last read */
	const char *attach;
	uint64_t start_ns;
};

struct loss_window {
	uint64_t hist[SNAP_WINDOW_MAX][3];	/* kernel, pipeline, sink totals, one per second */
	uint32_t seconds, filled, head;
};

void loss_window__init(struct loss_window *w, uint32_t seconds);

/* Every figure but the slow ones (maps, process, window): once per drain cycle. */
void snapshot__gather(struct snapshot *s, const struct snapshot_src *src);
/* The slow ones, once a second: map entries, process CPU/RSS, the loss window. */
void snapshot__gather_slow(struct snapshot *s, const struct snapshot_src *src,
			   struct loss_window *w);

#endif /* SOCKAUDIT_SNAPSHOT_H */
