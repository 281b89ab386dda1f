// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Output path attacks: traversal, symlinks (leaf and parent), FIFO (no
 * hang), devices, a Unix socket, hard links, foreign owner, world-writable
 * parent. Each runs with openat2 and with the O_NOFOLLOW walk (openat2
 * made to fail with ENOSYS through --wrap=syscall).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "outpath.h"

static bool no_openat2;

long __real_syscall(long nr, ...);
long __wrap_syscall(long nr, ...)
{
	va_list ap;
	long a[6];
	int i;

	if (nr == SYS_openat2 && no_openat2) {
		errno = ENOSYS;
		return -1;
	}
	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return __real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static char base[] = "/tmp/sa-outpath.XXXXXX";
static char err[512];

static int setup(void **state)
{
	char p[128];

	assert_non_null(mkdtemp(base));
	snprintf(p, sizeof(p), "%s/logs", base);
	assert_int_equal(mkdir(p, 0700), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	return system(cmd);
}

static int try_open(const char *path, bool with_base, bool critical)
{
	char b[128];
	struct outpath_req req = { .path = path, .mode = 0600, .gid = (gid_t)-1,
				   .critical = critical };

	snprintf(b, sizeof(b), "%s/logs", base);
	req.base_directory = with_base ? b : NULL;
	err[0] = 0;
	return outpath__open(&req, err, sizeof(err));
}

static void in_base(char *buf, size_t n, const char *rel)
{
	snprintf(buf, n, "%s/logs/%s", base, rel);
}

static void expect_refused(const char *path, bool with_base, const char *words)
{
	int fd = try_open(path, with_base, true);

	if (fd >= 0)
		close(fd);
	assert_true(fd < 0);
	if (!strstr(err, words))
		fail_msg("message '%s' lacks '%s'", err, words);
}

static void test_regular_ok(void **state)
{
	char p[128];
	struct stat st;
	int fd;

	in_base(p, sizeof(p), "ok.log");
	fd = try_open(p, true, true);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(fcntl(fd, F_GETFL) & O_APPEND);
	close(fd);
	fd = try_open("ok.log", true, true);	/* relative: beneath base_directory */
	assert_true(fd >= 0);
	close(fd);
}

static void test_traversal(void **state)
{
	expect_refused("../../etc/passwd", true, "escapes base_directory");
	expect_refused("/etc/passwd", true, "outside base_directory");
}

static void test_symlink_leaf(void **state)
{
	char p[128];

	in_base(p, sizeof(p), "link.log");
	assert_int_equal(symlink("/etc/passwd", p), 0);
	expect_refused(p, true, "a symlink");
	expect_refused(p, false, "a symlink");	/* O_NOFOLLOW without base too */
}

static void test_symlink_parent(void **state)
{
	char d[128], p[160];

	in_base(d, sizeof(d), "sub");
	assert_int_equal(symlink("/etc", d), 0);
	snprintf(p, sizeof(p), "%s/passwd", d);
	expect_refused(p, true, "symlink in the path");
}

static void test_fifo_no_hang(void **state)
{
	char p[128];

	in_base(p, sizeof(p), "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	expect_refused(p, true, "is a FIFO");
}

static void test_devices(void **state)
{
	expect_refused("/dev/null", false, "a character device");
	expect_refused("/dev/zero", false, "a character device");
}

static void test_socket(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	in_base(sa.sun_path, sizeof(sa.sun_path), "sock");
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	expect_refused(sa.sun_path, true, "is a socket");
	close(s);
}

static void test_directory(void **state)
{
	char p[128];

	in_base(p, sizeof(p), "adir");
	assert_int_equal(mkdir(p, 0700), 0);
	expect_refused(p, true, "a directory");
}

static void test_hard_link(void **state)
{
	char p[128], q[128];
	int fd;

	in_base(p, sizeof(p), "orig.log");
	in_base(q, sizeof(q), "hard.log");
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(link(p, q), 0);
	expect_refused(q, true, "2 hard links");
}

static void test_foreign_owner(void **state)
{
	char p[128];
	int fd;

	in_base(p, sizeof(p), "nobody.log");
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	assert_int_equal(fchown(fd, 65534, 65534), 0);
	close(fd);
	expect_refused(p, true, "owned by uid 65534");
}

static void test_world_writable_parent(void **state)
{
	char d[128], p[160];
	int fd;

	snprintf(d, sizeof(d), "%s/ww", base);
	assert_int_equal(mkdir(d, 0777), 0);
	assert_int_equal(chmod(d, 0777), 0);
	snprintf(p, sizeof(p), "%s/a.log", d);
	fd = try_open(p, false, true);
	assert_true(fd < 0);
	assert_non_null(strstr(err, "world-writable"));
	fd = try_open(p, false, false);	/* non-critical: warned, opened */
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(d, 01777), 0);	/* sticky, like /tmp: warned */
	fd = try_open(p, false, true);
	assert_true(fd >= 0);
	close(fd);
}

static void test_expand(void **state)
{
	char *out = NULL;

	assert_int_equal(outpath__expand("/a/$HOME/b", &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "environment variables are not expanded"));
	assert_int_equal(outpath__expand("~other/x", &out, err, sizeof(err)), -EINVAL);
	assert_int_equal(outpath__expand("/plain", &out, err, sizeof(err)), 0);
	assert_string_equal(out, "/plain");
	free(out);
	assert_int_equal(outpath__expand("~/x", &out, err, sizeof(err)), 0);
	assert_true(out[0] == '/' && strstr(out, "/x"));
	free(out);
}

static int with_walk(void **state)
{
	no_openat2 = true;
	return setup(state);
}

static int without_walk(void **state)
{
	no_openat2 = false;
	return teardown(state);
}

#define PATH_TESTS								\
	cmocka_unit_test(test_regular_ok), cmocka_unit_test(test_traversal),	\
	cmocka_unit_test(test_symlink_leaf), cmocka_unit_test(test_symlink_parent), \
	cmocka_unit_test(test_fifo_no_hang), cmocka_unit_test(test_devices),	\
	cmocka_unit_test(test_socket), cmocka_unit_test(test_directory),	\
	cmocka_unit_test(test_hard_link), cmocka_unit_test(test_foreign_owner),	\
	cmocka_unit_test(test_world_writable_parent)

int main(void)
{
	const struct CMUnitTest tests[] = { PATH_TESTS, cmocka_unit_test(test_expand) };
	const struct CMUnitTest walk[] = { PATH_TESTS };
	int fails = cmocka_run_group_tests_name("outpath (openat2)", tests, setup, teardown);

	memcpy(base, "/tmp/sa-outpath.XXXXXX", sizeof(base));
	fails += cmocka_run_group_tests_name("outpath (O_NOFOLLOW walk)", walk, with_walk,
					     without_walk);
	return fails;
}
