// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Raw event files (recfile.c): what is appended is replayed in order with
 * the recorded clock offset; a truncated last event and a bad header are
 * refused after delivering what came before.
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
#include "recfile.h"

static char dir[] = "/var/tmp/sa-recfile.XXXXXX";
static char path[256];

struct got {
	int n;
	char text[8][16];
};

static int collect(void *ctx, const void *data, size_t size)
{
	struct got *g = ctx;

	assert_true(g->n < 8 && size < 16);
	memcpy(g->text[g->n], data, size);
	g->text[g->n++][size] = '\0';
	return 0;
}

static void write_three(void)
{
	struct recfile rf;

	assert_int_equal(recfile__create(&rf, path, -1234567), 0);
	assert_int_equal(recfile__append(&rf, "one", 3), 0);
	assert_int_equal(recfile__append(&rf, "two!", 4), 0);
	assert_int_equal(recfile__append(&rf, "three", 5), 0);
	assert_int_equal(rf.events, 3);
	assert_int_equal(recfile__close(&rf), 0);
}

static void test_round_trip(void **state)
{
	struct got g = { 0 };
	int64_t off = 0;

	write_three();
	assert_int_equal(recfile__replay(path, &off, collect, &g), 0);
	assert_int_equal(off, -1234567);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.text[0], "one");
	assert_string_equal(g.text[2], "three");
	unlink(path);
}

/* A crash mid-event: what came before is delivered, then -EINVAL. */
static void test_truncated(void **state)
{
	struct got g = { 0 };
	struct stat st;
	int64_t off;

	write_three();
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 2), 0);
	assert_int_equal(recfile__replay(path, &off, collect, &g), -EINVAL);
	assert_int_equal(g.n, 2);
	unlink(path);
}

static void test_bad_header(void **state)
{
	struct got g = { 0 };
	FILE *f = fopen(path, "w");
	int64_t off;

	assert_non_null(f);
	fputs("not an event file at all, just text\n", f);
	fclose(f);
	assert_int_equal(recfile__replay(path, &off, collect, &g), -EINVAL);
	assert_int_equal(g.n, 0);
	unlink(path);
}

/* Rewrite the version field of the file write_three made (after the 8-byte magic). */
static void set_version(uint32_t v)
{
	FILE *f = fopen(path, "r+");

	assert_non_null(f);
	assert_int_equal(fseek(f, 8, SEEK_SET), 0);
	assert_int_equal(fwrite(&v, sizeof(v), 1, f), 1);
	assert_int_equal(fclose(f), 0);
}

/*
 * A file of a newer version (one with events this reader does not know) is
 * refused before any event, with one line naming both versions; an older
 * supported one is read.
 */
static void test_version(void **state)
{
	char errpath[300], line[512] = "";
	struct got g = { 0 };
	int saved = dup(2), rc;
	int64_t off;
	FILE *e;

	snprintf(errpath, sizeof(errpath), "%s/err", dir);
	write_three();
	set_version(RECFILE_VERSION + 1);
	assert_non_null(freopen(errpath, "w", stderr));
	rc = recfile__replay(path, &off, collect, &g);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(g.n, 0);
	e = fopen(errpath, "r");
	assert_non_null(e);
	assert_non_null(fgets(line, sizeof(line), e));
	fclose(e);
	unlink(errpath);
	if (!strstr(line, "has event file version 3; this sockaudit reads versions 1 to 2") ||
	    !strstr(line, "(newer)"))
		fail_msg("unclear refusal: %s", line);
	set_version(RECFILE_MIN_VERSION);
	assert_int_equal(recfile__replay(path, &off, collect, &g), 0);
	assert_int_equal(g.n, 3);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_version),
	};
	int rc;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ev", dir);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return rc;
}
