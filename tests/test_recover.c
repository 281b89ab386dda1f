// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Crash recovery of the chain (recover.c): a state saved some records
 * back catches up over the current file and, after a rotation, over the
 * newest rotated one into the current; an edited record after the head,
 * or a head that is nowhere, is not caught up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "chain.h"
#include "recover.h"

static char dir[] = "/var/tmp/sa-recover.XXXXXX";
static char log_path[256], rot_path[256];

/* n sealed records appended to path, numbered from *next; the chain moves on. */
static void append_sealed(struct chain *c, const char *path, int n, int *next)
{
	char in[128], *out = NULL;
	size_t cap = 0, len = 0;
	FILE *f = fopen(path, "a");
	int i;

	assert_non_null(f);
	for (i = 0; i < n; i++, (*next)++) {
		snprintf(in, sizeof(in), "{\"v\":1,\"seq\":%d,\"type\":\"exchange\"}\n", *next);
		assert_int_equal(chain__seal(c, in, strlen(in), &out, &cap, &len), 0);
		assert_int_equal(fwrite(out, 1, len, f), len);
	}
	fclose(f);
	free(out);
}

static struct chain *new_chain(void)
{
	struct chain_state st = { .seq = 0, .key = { 7, 7, 7 } };
	struct chain *c = chain__new(CHAIN_FMT_JSON, &st);

	assert_non_null(c);
	return c;
}

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(log_path, sizeof(log_path), "%s/a.log", dir);
	snprintf(rot_path, sizeof(rot_path), "%s/a.log.1", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(log_path);
	unlink(rot_path);
	return 0;
}

static bool catch_up(struct chain_state *st, uint64_t *n)
{
	int fd = open(log_path, O_RDONLY);
	bool ok;

	assert_true(fd >= 0);
	ok = recover__catch_up(log_path, fd, st, n);
	close(fd);
	return ok;
}

/* The state of 2 records in, 3 more in the current file: caught up to the chain's end. */
static void test_current_file(void **state)
{
	struct chain *c = new_chain();
	struct chain_state saved;
	uint64_t n = 99;
	int next = 0;

	append_sealed(c, log_path, 2, &next);
	chain__save(c, &saved);
	append_sealed(c, log_path, 3, &next);
	assert_true(catch_up(&saved, &n));
	assert_int_equal(n, 3);
	assert_int_equal(saved.seq, chain__state(c)->seq);
	assert_memory_equal(saved.head, chain__state(c)->head, CHAIN_MAC_LEN);
	assert_memory_equal(saved.key, chain__state(c)->key, CHAIN_KEY_LEN);
	chain__free(c);
}

/* Saved before a rotation: the head is in LOG.1, the check runs on into LOG. */
static void test_across_rotation(void **state)
{
	struct chain *c = new_chain();
	struct chain_state saved;
	uint64_t n = 0;
	int next = 0;

	append_sealed(c, rot_path, 4, &next);
	chain__save(c, &saved);
	append_sealed(c, rot_path, 1, &next);
	append_sealed(c, log_path, 2, &next);
	assert_true(catch_up(&saved, &n));
	assert_int_equal(n, 3);
	assert_int_equal(saved.seq, 7);
	assert_memory_equal(saved.head, chain__state(c)->head, CHAIN_MAC_LEN);
	chain__free(c);
}

/* A record edited after the head: not caught up (the writer starts a chain_gap). */
static void test_edit_after_head(void **state)
{
	struct chain *c = new_chain();
	struct chain_state saved;
	char cmd[512];
	uint64_t n = 5;
	int next = 0;

	append_sealed(c, log_path, 2, &next);
	chain__save(c, &saved);
	append_sealed(c, log_path, 3, &next);
	snprintf(cmd, sizeof(cmd), "sed -i '4s/\"seq\":3/\"seq\":9/' %s", log_path);
	assert_int_equal(system(cmd), 0);
	assert_false(catch_up(&saved, &n));
	assert_int_equal(n, 0);
	chain__free(c);
}

/* A state from another log: its head is nowhere. */
static void test_head_nowhere(void **state)
{
	struct chain *c = new_chain();
	struct chain_state other = { .seq = 1, .head = { 1 } };
	uint64_t n = 5;
	int next = 0;

	append_sealed(c, log_path, 3, &next);
	assert_false(catch_up(&other, &n));
	assert_int_equal(n, 0);
	chain__free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_current_file, NULL, teardown),
		cmocka_unit_test_setup_teardown(test_across_rotation, NULL, teardown),
		cmocka_unit_test_setup_teardown(test_edit_after_head, NULL, teardown),
		cmocka_unit_test_setup_teardown(test_head_nowhere, NULL, teardown),
	};
	int rc;

	setup(NULL);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
