/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A run of whole records in a batch, with their boundaries as the
 * producer knew them: the writer, the chain and the early buffer walk
 * records by these offsets and never scan the bytes for newlines.
 *
 * Record i (first <= i < first + n) is buf[recs__start(r, i) .. end[i]),
 * its '\n' included.
 */
#ifndef SOCKAUDIT_RECS_H
#define SOCKAUDIT_RECS_H

#include <stddef.h>
#include <stdint.h>

struct recs {
	const char *buf;	/* the batch the offsets count from */
	const uint32_t *end;	/* end[i]: offset in buf just past record i's newline */
	uint32_t first, n;	/* the records first .. first + n - 1 */
};

static inline size_t recs__start(const struct recs *r, uint32_t i)
{
	return i ? r->end[i - 1] : 0;
}

/* Bytes of record i. */
static inline size_t recs__len(const struct recs *r, uint32_t i)
{
	return r->end[i] - recs__start(r, i);
}

/* The first byte of the run. */
static inline const char *recs__ptr(const struct recs *r)
{
	return r->buf + recs__start(r, r->first);
}

/* Bytes of the whole run. */
static inline size_t recs__bytes(const struct recs *r)
{
	return r->n ? r->end[r->first + r->n - 1] - recs__start(r, r->first) : 0;
}

/* The n records that follow the first skip of r. */
static inline struct recs recs__sub(const struct recs *r, uint32_t skip, uint32_t n)
{
	return (struct recs){ .buf = r->buf, .end = r->end, .first = r->first + skip, .n = n };
}

#endif /* SOCKAUDIT_RECS_H */
