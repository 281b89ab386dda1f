/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the parser fuzzers share: a hash to compare messages member by
 * member, and the lengths of the writes fed around the capture budget.
 */
#ifndef SOCKAUDIT_FUZZ_SPLIT_H
#define SOCKAUDIT_FUZZ_SPLIT_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

/*
 * The k-th write at offset at of an n-byte input: budget-1, budget or
 * budget+1 bytes in turn, cut at the split points c1 and c2 so that they
 * fall on write boundaries too, and never past the end.
 */
static inline size_t split_len(size_t at, size_t n, size_t budget, size_t k, size_t c1,
			       size_t c2)
{
	size_t len = budget - 1 + k % 3;

	if (at < c1 && at + len > c1)
		len = c1 - at;
	else if (at < c2 && at + len > c2)
		len = c2 - at;
	if (!len || len > n - at)
		len = n - at;
	return len;
}

/* Two split points in an n-byte input, from two header bytes, in order. */
static inline void split_points(size_t n, uint8_t b1, uint8_t b2, size_t *c1, size_t *c2)
{
	size_t x = n * b1 / 255, y = n * b2 / 255;

	*c1 = x < y ? x : y;
	*c2 = x < y ? y : x;
}

#endif /* SOCKAUDIT_FUZZ_SPLIT_H */
