// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The state file and `sockaudit status`: written whole, read back, stale and stopped states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "status.h"

static char dir[] = "/tmp/sa-status.XXXXXX";
static char path[128];

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/run/state.json", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void write_state(const char *state, uint64_t pid, uint64_t updated)
{
	struct format_field f[] = {
		{ .key = "state", .kind = FF_STR, .s = state },
		{ .key = "pid", .kind = FF_U64, .u = pid },
		{ .key = "updated", .kind = FF_U64, .u = updated },
		{ .key = "selectors", .kind = FF_STR, .s = "exe:/a \"b\"\n=1" },
	};

	assert_int_equal(status__write(path, f, 4), 0);
}

/* Run `status` with stdout and stderr captured into out (one string). */
static int run_status(const char *extra, char *out, size_t len)
{
	char *argv[] = { "status", "--state-file", path, (char *)extra, NULL };
	char cap[160];
	FILE *f;
	int rc, saved_out = dup(1), saved_err = dup(2);
	size_t n;

	snprintf(cap, sizeof(cap), "%s/out.txt", dir);
	assert_non_null(f = fopen(cap, "w+"));
	fflush(stdout);
	dup2(fileno(f), 1);
	dup2(fileno(f), 2);
	rc = status__main(extra ? 4 : 3, argv);
	fflush(stdout);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	rewind(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
	return rc;
}

static void test_prepare_and_modes(void **state)
{
	char err[256], d[160];
	struct stat st;

	assert_int_equal(status__prepare(path, getuid(), getgid(), err, sizeof(err)), 0);
	snprintf(d, sizeof(d), "%s/run", dir);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	write_state("running", getpid(), time(NULL));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
}

/* A planted symlink where the directory should be is refused, not followed. */
static void test_prepare_refuses_symlink(void **state)
{
	char err[256], link[160], p[200];

	snprintf(link, sizeof(link), "%s/planted", dir);
	assert_int_equal(symlink("/etc", link), 0);
	snprintf(p, sizeof(p), "%s/state.json", link);
	assert_int_not_equal(status__prepare(p, getuid(), getgid(), err, sizeof(err)), 0);
	assert_non_null(strstr(err, "is not a directory"));
}

static void test_running(void **state)
{
	char out[4096];

	write_state("running", getpid(), time(NULL));
	assert_int_equal(run_status(NULL, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "state: running\n"));
	/* escaped in the file, read back, control bytes shown as '?' on the terminal */
	assert_non_null(strstr(out, "selectors: exe:/a \"b\"?=1\n"));
	assert_null(strstr(out, "old"));
}

static void test_stale_and_stopped(void **state)
{
	char out[4096];

	write_state("running", getpid(), time(NULL) - 60);
	assert_int_equal(run_status(NULL, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "the collector may be stuck"));
	write_state("stopped", getpid(), time(NULL));
	assert_int_equal(run_status(NULL, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "is not running"));
	write_state("running", 999999999, time(NULL));	/* a pid that cannot exist */
	assert_int_equal(run_status(NULL, out, sizeof(out)), 1);
}

static void test_json_and_errors(void **state)
{
	char out[4096];
	FILE *f;

	write_state("running", getpid(), time(NULL));
	assert_int_equal(run_status("--json", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "{\"state\":\"running\",\"pid\":"));
	assert_non_null(f = fopen(path, "w"));
	fputs("[1, 2]\n", f);
	fclose(f);
	assert_int_equal(run_status(NULL, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "is not a JSON object"));
	unlink(path);
	assert_int_equal(run_status(NULL, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "is the collector running"));
	assert_int_equal(run_status("--bogus", out, sizeof(out)), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepare_and_modes),
		cmocka_unit_test(test_prepare_refuses_symlink),
		cmocka_unit_test(test_running),
		cmocka_unit_test(test_stale_and_stopped),
		cmocka_unit_test(test_json_and_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
