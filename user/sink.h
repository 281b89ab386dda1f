/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An output file fed through a bounded in-memory queue and written by its
 * own thread, so the reader never waits on the disk. When the queue is full
 * the record is refused and counted; the caller turns the count into a loss
 * record once there is room again.
 */
#ifndef SOCKAUDIT_SINK_H
#define SOCKAUDIT_SINK_H

#include <stddef.h>
#include <stdint.h>

#define SINK_DEFAULT_QUEUE_BYTES (64u << 20)

struct sink;

/* Open (create, mode 0600) path for appending and start the writer thread. */
int sink__open(struct sink **out, const char *path, size_t queue_bytes);
/* Queue one whole record (ends with '\n'). 0, or -ENOBUFS when the queue is full. */
int sink__write(struct sink *s, const char *rec, size_t len);
/* Wait until everything queued is written and fdatasync'ed. 0 or -errno. */
int sink__flush(struct sink *s);
/* Flush, stop the thread, close. Returns the first write error, if any. */
int sink__close(struct sink *s);

uint64_t sink__dropped(const struct sink *s);	/* records refused (queue full) */
const char *sink__path(const struct sink *s);

#endif /* SOCKAUDIT_SINK_H */
