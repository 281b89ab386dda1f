/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Raw event files for `sockaudit record` and `sockaudit replay`: a header
 * (magic, version, clock offset) then each kernel event as it came from the
 * ring buffer, prefixed by its length. Replaying one feeds the same pipeline
 * as the live collector, deterministically and without BPF.
 */
#ifndef SOCKAUDIT_RECFILE_H
#define SOCKAUDIT_RECFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RECFILE_MAGIC	"SAREC\0\0\1"
/*
 * Version 2: the stream may hold TLS events (SA_EV_TLS_*, issue 16), which
 * a version-1 reader would count as invalid: it refuses the file instead.
 * Version 1 files (no TLS events, or TLS events with the same layout) are
 * still read.
 */
#define RECFILE_VERSION	2
#define RECFILE_MIN_VERSION	1

struct recfile {
	FILE *f;
	char *path;
	int64_t mono_to_real;
	uint64_t events;
};

int recfile__create(struct recfile *rf, const char *path, int64_t mono_to_real);
int recfile__append(struct recfile *rf, const void *data, uint32_t size);
int recfile__close(struct recfile *rf);

typedef int (*recfile_event_fn)(void *ctx, const void *data, size_t size);

/*
 * Read path, calling fn for each event. *mono_to_real gets the recorded clock
 * offset. 0 at a clean end; -EINVAL for a bad header or a truncated event
 * (everything before it was delivered), -errno on I/O errors.
 */
int recfile__replay(const char *path, int64_t *mono_to_real, recfile_event_fn fn, void *ctx);

#endif /* SOCKAUDIT_RECFILE_H */
