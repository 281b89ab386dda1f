// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include "lathist.h"

uint32_t lathist__bucket(unsigned s, uint64_t v)
{
	unsigned msb, shift;

	if (v >= LATHIST_MAX_US)
		v = LATHIST_MAX_US - 1;
	if (v < (1ULL << s))
		return (uint32_t)v;
	msb = 63 - __builtin_clzll(v);
	shift = msb - s + 1;
	/* v >> shift is in [2^(s-1), 2^s): 2^(s-1) buckets per power of two */
	return (1u << s) + (shift - 1) * (1u << (s - 1)) + (uint32_t)(v >> shift) - (1u << (s - 1));
}

uint64_t lathist__lower(unsigned s, uint32_t idx)
{
	uint32_t half = 1u << (s - 1), shift;

	if (idx < (1u << s))
		return idx;
	shift = (idx - (1u << s)) / half + 1;
	return (uint64_t)((idx - (1u << s)) % half + half) << shift;
}

uint32_t lathist__nbuckets(unsigned s)
{
	return lathist__bucket(s, LATHIST_MAX_US - 1) + 1;
}

int lathist__init(struct lathist *h, unsigned s)
{
	h->sub_bits = s;
	h->nbuckets = lathist__nbuckets(s);
	h->count = calloc(h->nbuckets, sizeof(*h->count));
	h->n = h->max = h->sum = 0;
	return h->count ? 0 : -ENOMEM;
}

void lathist__free(struct lathist *h)
{
	free(h->count);
	h->count = NULL;
}

void lathist__add(struct lathist *h, uint64_t us)
{
	h->count[lathist__bucket(h->sub_bits, us)]++;
	h->n++;
	h->sum += us;
	if (us > h->max)
		h->max = us;
}

void lathist__merge(struct lathist *h, const struct lathist *src)
{
	uint32_t i;

	for (i = 0; i < h->nbuckets; i++)
		h->count[i] += src->count[i];
	h->n += src->n;
	h->sum += src->sum;
	if (src->max > h->max)
		h->max = src->max;
}

uint64_t lathist__quantile(const struct lathist *h, double q)
{
	uint64_t rank, seen = 0, lo, hi, mid;
	uint32_t i;

	if (!h->n)
		return 0;
	rank = (uint64_t)(q * h->n + 0.999999999);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < h->nbuckets; i++) {
		seen += h->count[i];
		if (seen >= rank)
			break;
	}
	if (i >= h->nbuckets)
		return h->max;
	/* the middle of the bucket halves the worst error; never above the max seen */
	lo = lathist__lower(h->sub_bits, i);
	hi = i + 1 < h->nbuckets ? lathist__lower(h->sub_bits, i + 1) : lo + 1;
	mid = lo + (hi - lo - 1) / 2;
	return mid > h->max ? h->max : mid;
}
