/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A sink's queue of rendered batches, oldest first. A producer's batch
 * buffer is taken as it is (the producer gets an empty recycled buffer
 * back), so the records are never copied between the producer and the
 * writer; a small batch is copied into the newest queued buffer instead,
 * so a queue of many tiny batches does not hold a large buffer for each.
 * The writer takes every queued batch at once and gives the buffers back
 * to a pool (up to pool_max bytes of buffers, the sink's queue bound: no
 * more than the queue held): they stay allocated and their pages stay
 * mapped, so a producer never grows a fresh buffer page by page.
 *
 * No locking here: the sink holds its lock around every call.
 */
#ifndef SOCKAUDIT_BATCHQ_H
#define SOCKAUDIT_BATCHQ_H

#include <stddef.h>
#include <stdint.h>
#include "recs.h"

struct batch {
	char *buf;
	size_t len, cap;
	uint32_t *end;		/* where each record ends in buf (recs.h) */
	uint32_t nrec, end_cap;
	uint32_t crit;		/* records up to the last critical one (0: none) */
};

struct batch_list {
	struct batch *b;
	uint32_t n, cap;
};

struct batchq {
	struct batch_list queued, pool;
	size_t bytes;		/* of every queued batch */
	uint32_t recs;		/* records of every queued batch */
	size_t pool_bytes;	/* capacity of the pooled buffers */
	size_t pool_max;	/* more than this is freed, not pooled (0: no pool) */
};

/*
 * Queue nrec records of len bytes whose ends are end[] (recs.h); crit_len:
 * bytes up to the end of the last critical record (0: none). give takes
 * *buf (of *cap bytes, malloc'd) and leaves a buffer from the pool in its
 * place, or a new one of the same size (NULL and 0 without memory); when
 * the batch is small against its buffer it is copied instead and *buf
 * stays. -ENOMEM: nothing queued.
 */
int batchq__give(struct batchq *q, char **buf, size_t *cap, size_t len, const uint32_t *end,
		 uint32_t nrec, size_t crit_len);
int batchq__copy(struct batchq *q, const char *buf, size_t len, const uint32_t *end,
		 uint32_t nrec, size_t crit_len);

/* Every queued batch moved to run (which must be empty); the queue is empty after. */
void batchq__take(struct batchq *q, struct batch_list *run);
/* run's buffers back to the pool (or freed); run is empty after. */
void batchq__recycle(struct batchq *q, struct batch_list *run);
/* The queue, its pool and run freed. */
void batchq__free(struct batchq *q, struct batch_list *run);

/* *end holds at least n offsets; -ENOMEM when it cannot grow. */
int batch__ends_reserve(uint32_t **end, uint32_t *cap, uint64_t n);

/* The records of one batch. */
static inline struct recs batch__recs(const struct batch *b)
{
	return (struct recs){ .buf = b->buf, .end = b->end, .n = b->nrec };
}

#endif /* SOCKAUDIT_BATCHQ_H */
