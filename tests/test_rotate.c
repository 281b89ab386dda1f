// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Rotated names, backup_count, background gzip (read back with zlib), max_age_days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>
#include <zlib.h>
#include "rotate.h"

static char dir[64], path[96];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sa-rotate.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.log", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void make_log(const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);

	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static bool exists(const char *suffix)
{
	char p[128];

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return access(p, F_OK) == 0;
}

static void test_names_and_count(void **state)
{
	struct rotator *r = rotator__new(path, 2, false, 0);

	make_log("one\n");
	assert_int_equal(rotator__rotate(r), 0);
	make_log("two\n");
	assert_int_equal(rotator__rotate(r), 0);
	make_log("three\n");
	assert_int_equal(rotator__rotate(r), 0);
	assert_true(exists(".1") && exists(".2"));
	assert_false(exists(".3"));	/* beyond backup_count: gone */
	assert_false(exists(""));
	rotator__free(r);
}

static void gz_content(const char *suffix, char *out, int n)
{
	char p[128];
	gzFile gz;
	int got;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	gz = gzopen(p, "rb");
	assert_non_null(gz);
	got = gzread(gz, out, n - 1);
	assert_true(got >= 0);
	out[got] = 0;
	gzclose(gz);
}

static void test_compress(void **state)
{
	struct rotator *r = rotator__new(path, 3, true, 0);
	char buf[64];

	make_log("first\n");
	assert_int_equal(rotator__rotate(r), 0);
	make_log("second\n");
	assert_int_equal(rotator__rotate(r), 0);	/* may shift .1 while it compresses */
	rotator__wait_idle(r);
	assert_true(exists(".1.gz") && exists(".2.gz"));
	assert_false(exists(".1") || exists(".2"));
	gz_content(".1.gz", buf, sizeof(buf));
	assert_string_equal(buf, "second\n");
	gz_content(".2.gz", buf, sizeof(buf));
	assert_string_equal(buf, "first\n");
	rotator__free(r);
}

/* A compressed file keeps the log's mode (0640 with log_group), never more. */
static void test_compress_keeps_mode(void **state)
{
	struct rotator *r = rotator__new(path, 3, true, 0);
	char gz[160];
	struct stat st;

	make_log("one\n");
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(rotator__rotate(r), 0);
	rotator__wait_idle(r);
	snprintf(gz, sizeof(gz), "%s.1.gz", path);
	assert_int_equal(stat(gz, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	make_log("two\n");	/* created 0600 */
	assert_int_equal(rotator__rotate(r), 0);
	rotator__wait_idle(r);
	assert_int_equal(stat(gz, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	rotator__free(r);
}

static void test_max_age(void **state)
{
	struct rotator *r = rotator__new(path, 5, false, 1);
	struct utimbuf old = { .actime = time(NULL) - 3 * 86400, .modtime = time(NULL) - 3 * 86400 };
	char p[128];

	make_log("old\n");
	assert_int_equal(rotator__rotate(r), 0);
	snprintf(p, sizeof(p), "%s.1", path);
	assert_int_equal(utime(p, &old), 0);
	make_log("new\n");
	assert_int_equal(rotator__rotate(r), 0);	/* prunes after shifting */
	assert_true(exists(".1"));
	assert_false(exists(".2"));			/* three days old: gone */
	rotator__free(r);
}

static void test_drop_oldest(void **state)
{
	struct rotator *r = rotator__new(path, 3, false, 0);

	make_log("a\n");
	rotator__rotate(r);
	make_log("b\n");
	rotator__rotate(r);
	rotator__drop_oldest(r);
	assert_true(exists(".1"));
	assert_false(exists(".2"));
	rotator__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names_and_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compress_keeps_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drop_oldest, setup, teardown),
	};

	return cmocka_run_group_tests_name("rotate", tests, NULL, NULL);
}
