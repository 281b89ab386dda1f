// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The sink's batch queue (batchq.c): a full batch is taken without a copy
 * and the producer gets a recycled buffer back; a small one is copied into
 * the newest queued batch; the writer takes batches in order with their
 * record ends and critical marks; the pool keeps buffers up to its bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "batchq.h"

/* A producer's batch: n records "rNNN\n" numbered from first, in a buffer of cap bytes. */
struct prod {
	char *buf;
	size_t cap, len;
	uint32_t end[64], n;
};

static void produce(struct prod *p, size_t cap, uint32_t first, uint32_t n)
{
	uint32_t i;

	if (p->cap < cap) {
		p->buf = realloc(p->buf, cap);
		assert_non_null(p->buf);
		p->cap = cap;
	}
	p->len = 0;
	for (i = 0; i < n; i++) {
		p->len += (size_t)sprintf(p->buf + p->len, "r%03u\n", first + i);
		p->end[i] = (uint32_t)p->len;
	}
	p->n = n;
}

/* Every record of run, in order, is "rNNN\n" from 0 up; returns how many. */
static uint32_t check_run(const struct batch_list *run)
{
	uint32_t i, k, seen = 0;
	char want[16];

	for (i = 0; i < run->n; i++) {
		struct recs r = batch__recs(&run->b[i]);

		assert_int_equal(r.end[r.n - 1], run->b[i].len);
		for (k = 0; k < r.n; k++, seen++) {
			snprintf(want, sizeof(want), "r%03u\n", seen);
			assert_int_equal(recs__len(&r, k), strlen(want));
			assert_memory_equal(r.buf + recs__start(&r, k), want, strlen(want));
		}
	}
	return seen;
}

static void test_give_takes_full_batch(void **state)
{
	struct batchq q = { .pool_max = 1 << 20 };
	struct batch_list run = { 0 };
	struct prod p = { 0 };
	char *given;

	(void)state;
	produce(&p, 64, 0, 10);		/* 50 of 64 bytes: taken */
	given = p.buf;
	assert_int_equal(batchq__give(&q, &p.buf, &p.cap, p.len, p.end, p.n, 0), 0);
	/* the pool was empty: a new buffer as big as the one given */
	assert_non_null(p.buf);
	assert_ptr_not_equal(p.buf, given);
	assert_int_equal(p.cap, 64);
	free(p.buf);
	p.buf = NULL;
	assert_int_equal(q.queued.n, 1);
	assert_ptr_equal(q.queued.b[0].buf, given);
	assert_int_equal(q.bytes, 50);
	assert_int_equal(q.recs, 10);
	batchq__take(&q, &run);
	assert_int_equal(q.bytes, 0);
	assert_int_equal(q.recs, 0);
	assert_int_equal(check_run(&run), 10);
	batchq__recycle(&q, &run);
	assert_int_equal(run.n, 0);
	assert_int_equal(q.pool.n, 1);
	/* the next give gets the written buffer back */
	p.cap = 0;
	produce(&p, 64, 0, 10);
	assert_int_equal(batchq__give(&q, &p.buf, &p.cap, p.len, p.end, p.n, 0), 0);
	assert_ptr_equal(p.buf, given);
	assert_int_equal(p.cap, 64);
	free(p.buf);
	batchq__free(&q, &run);
}

static void test_small_batch_is_copied(void **state)
{
	struct batchq q = { .pool_max = 1 << 20 };
	struct batch_list run = { 0 };
	struct prod p = { 0 };
	char *kept;

	(void)state;
	produce(&p, 256, 0, 40);	/* 200 of 256: taken */
	assert_int_equal(batchq__give(&q, &p.buf, &p.cap, p.len, p.end, p.n, 0), 0);
	produce(&p, 256, 40, 2);	/* 10 of 256: copied after the first */
	kept = p.buf;
	assert_int_equal(batchq__give(&q, &p.buf, &p.cap, p.len, p.end, p.n, 0), 0);
	assert_ptr_equal(p.buf, kept);
	assert_int_equal(q.queued.n, 1);
	produce(&p, 256, 42, 20);	/* 100 of 256, 46 left in the queued one: a new batch */
	assert_int_equal(batchq__copy(&q, p.buf, p.len, p.end, p.n, 0), 0);
	assert_int_equal(q.queued.n, 2);
	assert_int_equal(q.recs, 62);
	batchq__take(&q, &run);
	assert_int_equal(check_run(&run), 62);
	free(p.buf);
	batchq__free(&q, &run);
}

static void test_crit_marks(void **state)
{
	struct batchq q = { .pool_max = 1 << 20 };
	struct batch_list run = { 0 };
	struct prod p = { 0 };

	(void)state;
	produce(&p, 64, 0, 4);
	/* the critical record is the second: up to its end */
	assert_int_equal(batchq__copy(&q, p.buf, p.len, p.end, p.n, p.end[1]), 0);
	assert_int_equal(q.queued.b[0].crit, 2);
	produce(&p, 64, 4, 3);
	assert_int_equal(batchq__copy(&q, p.buf, p.len, p.end, p.n, 0), 0);
	assert_int_equal(q.queued.b[0].crit, 2);	/* no later critical record */
	produce(&p, 64, 7, 2);
	assert_int_equal(batchq__copy(&q, p.buf, p.len, p.end, p.n, p.end[0]), 0);
	assert_int_equal(q.queued.b[0].crit, 8);	/* counted across the appended batches */
	batchq__take(&q, &run);
	assert_int_equal(check_run(&run), 9);
	free(p.buf);
	batchq__free(&q, &run);
}

static void test_pool_is_bounded(void **state)
{
	struct batchq q = { .pool_max = 3 * 64 };	/* three of the 64-byte buffers */
	struct batch_list run = { 0 };
	struct prod p = { 0 };
	uint32_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		produce(&p, 64, 10 * i, 10);
		assert_int_equal(batchq__give(&q, &p.buf, &p.cap, p.len, p.end, p.n, 0), 0);
		free(p.buf);	/* a new buffer while nothing was written */
		p.buf = NULL;
		p.cap = 0;
	}
	assert_int_equal(q.queued.n, 6);
	batchq__take(&q, &run);
	assert_int_equal(check_run(&run), 10 * (6));
	batchq__recycle(&q, &run);
	assert_int_equal(q.pool.n, 3);
	assert_int_equal(q.pool_bytes, 3 * 64);	/* the rest were freed (valgrind: no leak) */
	batchq__free(&q, &run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_give_takes_full_batch),
		cmocka_unit_test(test_small_batch_is_copied),
		cmocka_unit_test(test_crit_marks),
		cmocka_unit_test(test_pool_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
