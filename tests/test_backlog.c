// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Events held during a reload: order, sizes, alignment, the limit counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>
#include "backlog.h"

struct seen {
	size_t n;
	size_t sizes[64];
	unsigned char first[64];
	int misaligned;
};

static void collect(void *ctx, const void *data, size_t size)
{
	struct seen *s = ctx;

	if ((uintptr_t)data % 8)
		s->misaligned++;
	s->sizes[s->n] = size;
	s->first[s->n] = size ? *(const unsigned char *)data : 0;
	s->n++;
}

/* Every event comes back once, in order, with its size and bytes, 8-aligned. */
static void test_order_and_sizes(void **state)
{
	static const size_t sizes[] = { 1, 7, 8, 9, 0, 4096, 33 };
	unsigned char buf[4096];
	struct seen seen = { 0 };
	struct backlog b;
	size_t i;

	backlog__init(&b, 1u << 20);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(buf, 'a' + i, sizeof(buf));
		backlog__put(&b, buf, sizes[i]);
	}
	assert_int_equal(b.events, 7);
	assert_int_equal(b.dropped, 0);
	backlog__drain(&b, collect, &seen);
	assert_int_equal(seen.n, 7);
	assert_int_equal(seen.misaligned, 0);
	for (i = 0; i < seen.n; i++) {
		assert_int_equal(seen.sizes[i], sizes[i]);
		if (sizes[i])
			assert_int_equal(seen.first[i], 'a' + i);
	}
	assert_int_equal(b.events, 0);
	assert_int_equal(b.len, 0);
	/* drained means empty: a second drain feeds nothing */
	seen.n = 0;
	backlog__drain(&b, collect, &seen);
	assert_int_equal(seen.n, 0);
	backlog__free(&b);
}

/* Past the limit nothing is kept and every event is counted; what fit stays whole. */
static void test_limit_counted(void **state)
{
	static char big[8192];
	char ev[1000] = { 0 };
	struct seen seen = { 0 };
	struct backlog b;
	int i;

	backlog__init(&b, 4096);	/* room for 4 events of 1008 bytes with their headers */
	for (i = 0; i < 10; i++) {
		ev[0] = (char)i;
		backlog__put(&b, ev, sizeof(ev));
	}
	assert_int_equal(b.events, 4);
	assert_int_equal(b.dropped, 6);
	assert_true(b.cap <= 4096);
	backlog__drain(&b, collect, &seen);
	assert_int_equal(seen.n, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(seen.first[i], i);
	assert_int_equal(b.dropped, 0);
	/* an event larger than the whole limit is counted, not kept */
	backlog__put(&b, big, sizeof(big));
	assert_int_equal(b.dropped, 1);
	assert_int_equal(b.events, 0);
	backlog__free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_sizes),
		cmocka_unit_test(test_limit_counted),
	};

	return cmocka_run_group_tests_name("backlog", tests, NULL, NULL);
}
