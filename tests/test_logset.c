// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The log-set reader (logset.c): a gzip rotated file and a plain current
 * one read as one stream, first lines marked, a csv header skipped, a torn
 * tail told apart, a FIFO planted in the directory refused without
 * blocking, and the rotated names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "logset.h"

static char dir[] = "/var/tmp/sa-logset.XXXXXX";

static void put(const char *name, const char *text, bool gz, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", dir, name);
	if (gz) {
		gzFile g = gzopen(path, "wb");

		assert_non_null(g);
		assert_int_equal(gzwrite(g, text, strlen(text)), (int)strlen(text));
		gzclose(g);
	} else {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	}
}

static void test_set_in_order(void **state)
{
	char a[256], b[256], *paths[] = { a, b };
	const char *want[] = { "one", "two", "three", "four" };
	bool firsts[] = { true, false, true, false }, first;
	struct logset_reader r;
	const char *line;
	size_t len;
	int i = 0;

	put("x.log.1.gz", "seq,ts,type,proc\none\ntwo\n", true, a, sizeof(a));
	put("x.log", "three\nfour", false, b, sizeof(b));
	assert_int_equal(logset__init(&r, paths, 2), 0);
	while (logset__next_record(&r, &line, &len, &first) > 0) {
		assert_true(i < 4);
		assert_int_equal(len, strlen(want[i]));
		assert_memory_equal(line, want[i], len);
		assert_int_equal(first, firsts[i]);
		i++;
	}
	assert_int_equal(i, 4);
	assert_false(r.has_nl);		/* "four" has no newline: a torn tail */
	assert_string_equal(logset__cur_path(&r), b);
	logset__close(&r);
	unlink(a);
	unlink(b);
}

/* A FIFO where a rotated file should be: refused at once, never read from. */
static void test_fifo_refused(void **state)
{
	char p[256], *paths[] = { p };
	struct logset_reader r;
	const char *line;
	size_t len;
	bool first;

	snprintf(p, sizeof(p), "%s/x.log.2", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(logset__open_input(p), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(logset__input_error(errno), "not a regular file"));
	assert_int_equal(logset__init(&r, paths, 1), 0);
	assert_true(logset__next_line(&r, &line, &len, &first) < 0);
	logset__close(&r);
	unlink(p);
}

static void test_names(void **state)
{
	char buf[64], *p;

	logset__name(buf, sizeof(buf), "/var/log/a.log", 3, false);
	assert_string_equal(buf, "/var/log/a.log.3");
	logset__name(buf, sizeof(buf), "a.log", 1, true);
	assert_string_equal(buf, "a.log.1.gz");
	p = logset__name_alloc("a.log", 12, true);
	assert_string_equal(p, "a.log.12.gz");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_in_order),
		cmocka_unit_test(test_fifo_refused),
		cmocka_unit_test(test_names),
	};
	int rc;

	assert_non_null(mkdtemp(dir));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
