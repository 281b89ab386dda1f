/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Rotated files of one audit log: FILE.1 (newest) .. FILE.N, or FILE.k.gz
 * with compress. The writer renames (fast, under a lock) and goes on; a
 * compressor thread gzips FILE.1 in the background and follows the file's
 * index as later rotations shift it, so the writer never waits for zlib.
 */
#ifndef SOCKAUDIT_ROTATE_H
#define SOCKAUDIT_ROTATE_H

#include <stdbool.h>
#include <stdint.h>

struct rotator;
struct outpath_req;

/*
 * log: the log's path and how its directory is checked (outpath.h); every
 * rotation works in that directory, checked again, through its fd, and
 * makes its gzip copies through outpath. NULL on ENOMEM or when the
 * compressor thread cannot start (logged).
 */
struct rotator *rotator__new(const struct outpath_req *log, uint32_t backup_count,
			     bool compress, uint32_t max_age_days);
/* Wait for pending compressions, stop the thread, free. NULL is fine. */
void rotator__free(struct rotator *r);

/*
 * Shift FILE.k -> FILE.k+1 (dropping the one beyond backup_count), rename
 * FILE -> FILE.1 and queue its compression. The caller then opens a new FILE.
 * 0 or -errno (logged).
 */
int rotator__rotate(struct rotator *r);

/* Remove rotated files (ours only) older than max_age_days (no-op when 0). */
void rotator__prune_age(struct rotator *r);

/* Delete the oldest rotated file of ours, if any (space_left_action: rotate). */
void rotator__drop_oldest(struct rotator *r);

/*
 * Hold for a follower (the forwarder, forward.h): rotated files from
 * FILE.hold on are still needed, so neither backup_count nor max_age_days
 * removes them; each rotation moves the hold one up. Beyond backup_count
 * the held files may take spool_limit bytes: past that the oldest goes
 * (its records after the follower's acknowledged offset counted lost; the
 * follower leaves it). gen changes when the held file went that way.
 */
void rotator__hold_start(struct rotator *r, uint32_t hold, uint64_t spool_limit);
/* Open the held file (FILE when hold is 0), read-only; *gz: it is FILE.k.gz. fd or -errno. */
int rotator__open_held(struct rotator *r, bool *gz, uint32_t *hold, uint32_t *gen);
/* Open FILE.k (FILE for 0) or FILE.k.gz to look at it (finding a cursor). fd or -errno. */
int rotator__open_index(struct rotator *r, uint32_t k, bool *gz);
/* The follower's acknowledged offset in the held file: a drop counts the records after it. */
void rotator__hold_offset(struct rotator *r, uint64_t off);
/* The follower finished the held file opened at gen: the hold moves to the next newer one. */
void rotator__advance(struct rotator *r, uint32_t gen);
/* Where the hold is now and the records/files dropped past the spool limit so far. */
void rotator__hold_state(struct rotator *r, uint32_t *hold, uint32_t *gen,
			 uint64_t *lost_records, uint64_t *lost_files);

/* The log's path as the rotator works on it. */
const char *rotator__path(const struct rotator *r);

/* Block until no compression is pending (tests, shutdown). */
void rotator__wait_idle(struct rotator *r);

#endif /* SOCKAUDIT_ROTATE_H */
