/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An audit sink: one output file, a bounded queue and a writer thread, so
 * the reader never waits on the disk. The writer does the flush mode
 * (immediate = group commit, batched, hybrid), rotation, early-event
 * buffering while the output cannot be set up, and failure handling. Sinks
 * whose outputs are the same file (device and inode) share one writer.
 */
#ifndef SOCKAUDIT_SINK_H
#define SOCKAUDIT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "format.h"

#define SINK_DEFAULT_QUEUE_BYTES (64u << 20)

/* Records a sink lost after accepting them: each becomes a loss record. */
enum sink_lost {
	SINK_LOST_WRITE = 0,		/* a write failed (ENOSPC, EIO) */
	SINK_LOST_EARLY,		/* early buffer overflow (oldest dropped) */
	SINK_LOST_OVERSIZE,		/* longer than max_message_length */
	SINK_LOST_SUSPEND,		/* space_left_action: suspend */
	SINK_LOST_UNSET,		/* still buffered when the sink closed unset */
	SINK_LOST_UNLINKED,		/* written to the file after it was deleted under us */
	SINK_LOST_STUCK,		/* queued to a writer stuck in I/O when the collector stopped */
	SINK_LOST_FORWARD_SPOOL,	/* unshipped rotated files removed past forward's spool limit */
	SINK_LOST_MAX,
};

struct sink;

/* A critical sink with default settings writing path (the plain -o case). */
int sink__open(struct sink **out, const char *path, size_t queue_bytes);
/*
 * Open cfg's output and start (or share) its writer. A non-critical sink
 * whose output cannot be set up yet buffers records and retries; a critical
 * one fails: -errno with one line in err.
 */
int sink__create(struct sink **out, const struct sink_config *cfg, size_t queue_bytes,
		 char *err, size_t errlen);

/*
 * Queue nrec whole records (buf ends with '\n'); crit_len: bytes of buf up
 * to the end of its last critical record (0: none). 0, or -ENOBUFS when the
 * queue is full (nothing queued; the caller counts the loss).
 */
int sink__put(struct sink *s, const char *buf, size_t len, uint32_t nrec, size_t crit_len);
/*
 * sink__put with the records' boundaries from the producer, which knows
 * them: end[i] is the offset in buf just past record i's '\n' (increasing,
 * end[nrec - 1] == len). The writer then never scans the batch for
 * newlines (sink__put scans it once, here, for callers without them).
 */
int sink__put_recs(struct sink *s, const char *buf, size_t len, const uint32_t *end,
		   uint32_t nrec, size_t crit_len);
/*
 * sink__put_recs of the batch in *buf (of *cap bytes, allocated with
 * malloc): the sink keeps that buffer and gives *buf, *cap a written one
 * of its own (possibly NULL, 0) instead of copying the batch; a batch
 * that fills less than half of its buffer is copied (batchq.h). *buf's
 * content is undefined afterwards either way.
 */
int sink__give_recs(struct sink *s, char **buf, size_t *cap, size_t len, const uint32_t *end,
		    uint32_t nrec, size_t crit_len);
/* sink__put of whole records, counted here, none critical. */
int sink__write(struct sink *s, const char *rec, size_t len);
/* Wait until everything queued is written and fdatasync'ed. 0 or -errno. */
int sink__flush(struct sink *s);
/*
 * Drop one reference; the last flushes, stops the writer and closes. The
 * wait is bounded: a writer that makes no progress for a while (stuck in
 * I/O) is interrupted, then left behind (-EIO, its queue counted lost).
 */
int sink__close(struct sink *s);

/* Ask the writer to rotate now (SIGUSR1). */
void sink__rotate(struct sink *s);

/*
 * Nonzero (-errno) once the sink asks the collector to stop: a critical sink
 * cannot go on, or space_left_action exit fired (any sink); reason says why.
 */
int sink__failed(const struct sink *s, const char **reason);
bool sink__critical(const struct sink *s);
bool sink__is_set_up(const struct sink *s);
/* Wait up to timeout_ms for an unset output to be set up; true once it is. */
bool sink__wait_set_up(struct sink *s, int timeout_ms);

uint64_t sink__dropped(const struct sink *s);	/* records refused (queue full) */
uint64_t sink__lost(const struct sink *s, enum sink_lost what);
const char *sink__lost_name(enum sink_lost what);
const char *sink__path(const struct sink *s);
/*
 * The formatter of the sink's type and its options (max_message_length,
 * redactor): what records for it must be rendered with.
 */
const struct formatter *sink__formatter(const struct sink *s, struct format_opts *o);
uint32_t sink__refs(const struct sink *s);

/* ---- figures for health and metrics (issue 18) ---- */

/* What the writer is doing, worst first in sink__stats's order of checks. */
enum sink_state {
	SINK_WRITING = 0,	/* set up, the last write and sync succeeded */
	SINK_RETRYING,		/* not set up yet, or the last write failed (non-critical) */
	SINK_SUSPENDED,		/* space_left_action suspend: records counted lost */
	SINK_FAILED,		/* the sink asked the collector to stop */
	SINK_STATE_MAX,
};

/* fdatasync latency histogram: upper bounds, ns (the last bucket is +Inf). */
#define SINK_FSYNC_BUCKETS 12
extern const uint64_t sink_fsync_le_ns[SINK_FSYNC_BUCKETS];

/*
 * Cumulative since the sink opened. The writer updates them with atomic
 * stores, so a reader takes no lock the writer holds (times: CLOCK_REALTIME
 * ns, 0 = never).
 */
struct sink_stats {
	uint64_t records, bytes, fsyncs, fsync_ns_sum, rotations, checkpoints;
	uint64_t fsync_hist[SINK_FSYNC_BUCKETS + 1];	/* per bucket, not cumulative */
	uint64_t last_write_ns, last_sync_ns, last_ckpt_ns, last_error_ns;
	uint64_t chain_seq;		/* records sealed so far (0: no chain) */
	uint64_t queued_bytes, queue_limit, dropped;
	uint64_t lost[SINK_LOST_MAX];
	int last_errno;			/* of the last failed write, sync or setup */
	enum sink_state state;
	bool critical;
};

void sink__stats(const struct sink *s, struct sink_stats *out);
const char *sink__state_name(enum sink_state st);

struct rotator;
/*
 * The forwarder (forward.h) takes the sink's rotator: it holds unshipped
 * rotated files, and outlives the sink's close so the last records the
 * writer puts in the file are shipped too. The taker frees it. NULL when
 * it was taken already (two forwarders on one shared file).
 */
struct rotator *sink__take_rotator(struct sink *s);
/*
 * When ino is the sink's current file: true, and *size is how much of it
 * is durable (fdatasync'ed). The forwarder ships no further than that.
 */
bool sink__durable(struct sink *s, uint64_t ino, uint64_t *size);

#endif /* SOCKAUDIT_SINK_H */
