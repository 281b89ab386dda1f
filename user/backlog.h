/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Raw events the reader sets aside while a config reload swaps the sinks:
 * copied in order into one growing buffer up to a byte limit, then fed to
 * the pipeline in the same order. Past the limit an event is not kept but
 * counted, for a loss record: the ring buffer is drained either way.
 */
#ifndef SOCKAUDIT_BACKLOG_H
#define SOCKAUDIT_BACKLOG_H

#include <stddef.h>
#include <stdint.h>

struct backlog {
	char *buf;		/* [u32 size, pad to 8][data, padded to 8]... */
	size_t len, cap, limit;
	uint64_t events;	/* held since the last drain */
	uint64_t dropped;	/* not held (over limit, or no memory) since the last drain */
};

void backlog__init(struct backlog *b, size_t limit);
/* Hold a copy of one event, or count it as dropped. */
void backlog__put(struct backlog *b, const void *data, size_t size);
/*
 * fn(ctx, event, size) for each held event in order; then the backlog is
 * empty (events and dropped back to 0; a buffer grown past 4 MiB is freed).
 */
void backlog__drain(struct backlog *b, void (*fn)(void *ctx, const void *data, size_t size),
		    void *ctx);
void backlog__free(struct backlog *b);

#endif /* SOCKAUDIT_BACKLOG_H */
