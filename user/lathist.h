/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A fixed log-linear histogram of latencies in microseconds (the idea of
 * HdrHistogram): values below 2^S are exact, above that each power of two
 * is cut into 2^(S-1) equal buckets, so a percentile read back is within
 * 2^-S of the true value (S = 6: 1.6 %) whatever the number of records.
 * Memory is fixed by S: the report keeps one per row, and coarse ones
 * (S = 3, 6 %) per row and time bin for the percentiles-over-time charts.
 */
#ifndef SOCKAUDIT_LATHIST_H
#define SOCKAUDIT_LATHIST_H

#include <stdint.h>

#define LATHIST_MAX_US	(1ULL << 40)	/* about 12.7 days; larger values count here */

struct lathist {
	uint8_t sub_bits;		/* S */
	uint32_t nbuckets;
	uint32_t *count;
	uint64_t n, max, sum;
};

/* 0 or -ENOMEM. */
int lathist__init(struct lathist *h, unsigned sub_bits);
void lathist__free(struct lathist *h);
void lathist__add(struct lathist *h, uint64_t us);
/* Add all of src (same sub_bits) to h. */
void lathist__merge(struct lathist *h, const struct lathist *src);
/* The q-quantile (0 < q <= 1), by the nearest-rank rule; 0 when empty. */
uint64_t lathist__quantile(const struct lathist *h, double q);

/* Bucket arithmetic, exposed for the tests and the HTML histogram. */
uint32_t lathist__bucket(unsigned sub_bits, uint64_t us);
uint64_t lathist__lower(unsigned sub_bits, uint32_t idx);	/* first value of the bucket */
uint32_t lathist__nbuckets(unsigned sub_bits);

#endif /* SOCKAUDIT_LATHIST_H */
