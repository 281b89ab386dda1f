// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A sink's queue of rendered batches (batchq.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "batchq.h"
#include "growbuf.h"

int batch__ends_reserve(uint32_t **end, uint32_t *cap, uint64_t n)
{
	uint64_t c = *cap ? *cap : 1024;
	uint32_t *e;

	if (n <= *cap)
		return 0;
	while (c < n)
		c *= 2;
	if (c > UINT32_MAX || !(e = realloc(*end, c * sizeof(*e))))
		return -ENOMEM;
	*end = e;
	*cap = (uint32_t)c;
	return 0;
}

static void batch_free(struct batch *b)
{
	free(b->buf);
	free(b->end);
	memset(b, 0, sizeof(*b));
}

/* A new slot at the end of l (its content undefined); NULL without memory. */
static struct batch *list_push(struct batch_list *l)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? 2 * l->cap : 8;
		struct batch *nb = realloc(l->b, cap * sizeof(*nb));

		if (!nb)
			return NULL;
		l->b = nb;
		l->cap = cap;
	}
	return &l->b[l->n++];
}

/* An empty batch kept for reuse while the pool is under its bytes, freed otherwise. */
static void to_pool(struct batchq *q, struct batch *b)
{
	struct batch *slot;

	b->len = 0;
	b->nrec = b->crit = 0;
	if (q->pool_bytes + b->cap <= q->pool_max && (slot = list_push(&q->pool))) {
		*slot = *b;
		q->pool_bytes += b->cap;
	} else {
		batch_free(b);
	}
}

/* A new empty batch at the end of the queue, with the last pooled buffer when there is one. */
static struct batch *push_batch(struct batchq *q)
{
	struct batch *b = list_push(&q->queued);

	if (!b)
		return NULL;
	if (q->pool.n) {
		*b = q->pool.b[--q->pool.n];
		q->pool_bytes -= b->cap;
	} else {
		memset(b, 0, sizeof(*b));
	}
	return b;
}

/* Undo push_batch: the batch (empty) goes back to the pool. */
static void pop_batch(struct batchq *q)
{
	to_pool(q, &q->queued.b[--q->queued.n]);
}

/* nrec record ends (offsets from the batch's own len) appended to b; the queue counts them. */
static void add_ends(struct batchq *q, struct batch *b, size_t len, const uint32_t *end,
		     uint32_t nrec, size_t crit_len)
{
	uint32_t i, base = (uint32_t)b->len;

	for (i = 0; i < nrec; i++) {
		b->end[b->nrec + i] = base + end[i];
		if (crit_len && end[i] <= crit_len)
			b->crit = b->nrec + i + 1;
	}
	b->nrec += nrec;
	b->len += len;
	q->bytes += len;
	q->recs += nrec;
}

int batchq__copy(struct batchq *q, const char *buf, size_t len, const uint32_t *end,
		 uint32_t nrec, size_t crit_len)
{
	struct batch *b = q->queued.n ? &q->queued.b[q->queued.n - 1] : NULL;
	bool fresh = false;

	if (len > UINT32_MAX)
		return -ENOMEM;
	/* the newest batch takes it while it has room: it is not grown (it may be a producer's) */
	if (!b || b->len + len > b->cap || b->len + len > UINT32_MAX) {
		if (!(b = push_batch(q)))
			return -ENOMEM;
		fresh = true;
	}
	if ((fresh && growbuf__reserve(&b->buf, &b->cap, len)) ||
	    batch__ends_reserve(&b->end, &b->end_cap, (uint64_t)b->nrec + nrec)) {
		if (fresh)
			pop_batch(q);
		return -ENOMEM;
	}
	memcpy(b->buf + b->len, buf, len);
	add_ends(q, b, len, end, nrec, crit_len);
	return 0;
}

int batchq__give(struct batchq *q, char **buf, size_t *cap, size_t len, const uint32_t *end,
		 uint32_t nrec, size_t crit_len)
{
	struct batch *b;
	char *spare;
	size_t spare_cap;

	/* a batch that fills less than half its buffer is cheaper to copy than to hold */
	if ((q->queued.n && len < *cap / 2) || len > UINT32_MAX)
		return batchq__copy(q, *buf, len, end, nrec, crit_len);
	if (!(b = push_batch(q)))
		return -ENOMEM;
	if (batch__ends_reserve(&b->end, &b->end_cap, nrec)) {
		pop_batch(q);
		return -ENOMEM;
	}
	spare = b->buf;
	spare_cap = b->cap;
	b->buf = *buf;
	b->cap = *cap;
	/*
	 * None written yet (the writer is behind): a new buffer as big as the
	 * one given, so the producer does not grow one from nothing again,
	 * copying at each doubling. Untouched until the producer writes.
	 */
	if (!spare && (spare = malloc(b->cap)))
		spare_cap = b->cap;
	*buf = spare;
	*cap = spare_cap;
	add_ends(q, b, len, end, nrec, crit_len);
	return 0;
}

void batchq__take(struct batchq *q, struct batch_list *run)
{
	struct batch_list empty = *run;

	*run = q->queued;
	q->queued = empty;
	q->queued.n = 0;
	q->bytes = 0;
	q->recs = 0;
	q->pool_bytes = 0;
}

void batchq__recycle(struct batchq *q, struct batch_list *run)
{
	uint32_t i;

	for (i = 0; i < run->n; i++)
		to_pool(q, &run->b[i]);
	run->n = 0;
}

static void list_free(struct batch_list *l)
{
	uint32_t i;

	for (i = 0; i < l->n; i++)
		batch_free(&l->b[i]);
	free(l->b);
	memset(l, 0, sizeof(*l));
}

void batchq__free(struct batchq *q, struct batch_list *run)
{
	list_free(&q->queued);
	list_free(&q->pool);
	if (run)
		list_free(run);
	q->bytes = 0;
	q->recs = 0;
	q->pool_bytes = 0;
}
