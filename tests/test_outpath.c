// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Output path attacks: traversal, symlinks (leaf and parent), FIFO (no
 * hang), devices, a Unix socket, hard links, foreign owner, the parent
 * directory (who owns it, who else writes it, system directories), an
 * existing file that is not an audit log (a copy of /etc/passwd), modes.
 * Each runs with openat2 and with the O_NOFOLLOW walk (openat2 made to
 * fail with ENOSYS through --wrap=syscall).
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
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include "format.h"
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

static int try_open(const char *path, bool with_base, bool allow_shared)
{
	char b[128];
	struct outpath_req req = { .path = path, .format = "json_lines", .mode = 0600,
				   .gid = (gid_t)-1, .allow_shared_directory = allow_shared };

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
	int fd = try_open(path, with_base, false);

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
	fd = try_open(p, true, false);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(fcntl(fd, F_GETFL) & O_APPEND);
	close(fd);
	fd = try_open("ok.log", true, false);	/* relative: beneath base_directory */
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

/* A device is refused (and never opened: it is looked at first). */
static void test_devices(void **state)
{
	char p[128];

	expect_refused("/dev/null", false, "a character device");
	expect_refused("/dev/zero", false, "a character device");
	expect_refused("/dev/sockaudit-test.log", false, "a system directory");
	in_base(p, sizeof(p), "null");
	assert_int_equal(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);
	expect_refused(p, true, "a character device");
	in_base(p, sizeof(p), "tty");
	assert_int_equal(mknod(p, S_IFCHR | 0666, makedev(5, 0)), 0);
	expect_refused(p, true, "a character device");
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

/*
 * Writable by others: refused without the sticky bit whatever the config
 * says; with it (like /tmp) only when allow_shared_directory is set.
 */
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
	assert_non_null(strstr(err, "writable by other users"));
	assert_non_null(strstr(err, "without the sticky bit"));
	assert_int_equal(access(p, F_OK), -1);	/* nothing created */
	assert_int_equal(chmod(d, 01777), 0);	/* sticky, like /tmp */
	fd = try_open(p, false, false);
	assert_true(fd < 0);
	assert_non_null(strstr(err, "allow_shared_directory: true"));
	fd = try_open(p, false, true);
	assert_true(fd >= 0);
	close(fd);
}

/* A group other than root's may write the directory: as shared as others. */
static void test_group_writable_parent(void **state)
{
	char d[128], p[160];

	snprintf(d, sizeof(d), "%s/gw", base);
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(chown(d, 0, 65534), 0);
	assert_int_equal(chmod(d, 0770), 0);
	snprintf(p, sizeof(p), "%s/a.log", d);
	assert_true(try_open(p, false, true) < 0);
	assert_non_null(strstr(err, "gid 65534"));
}

static void test_parent_owner(void **state)
{
	char d[128], p[160];

	snprintf(d, sizeof(d), "%s/nobodys", base);
	assert_int_equal(mkdir(d, 0755), 0);
	assert_int_equal(chown(d, 65534, 65534), 0);
	snprintf(p, sizeof(p), "%s/a.log", d);
	expect_refused(p, false, "is owned by uid 65534");
	assert_int_equal(access(p, F_OK), -1);
}

/* System directories, also when reached through a symlinked parent. */
static void test_system_dirs(void **state)
{
	char d[128], p[160];

	expect_refused("/etc/sockaudit-test.log", false, "a system directory");
	expect_refused("/proc/self/sockaudit.log", false, "a system directory");
	expect_refused("/sys/kernel/sockaudit.log", false, "a system directory");
	expect_refused("/dev/shm/sockaudit.log", false, "a system directory");
	expect_refused("/usr/lib/sockaudit.log", false, "a system directory");
	expect_refused("/lib/sockaudit.log", false, "a system directory");
	snprintf(d, sizeof(d), "%s/etclink", base);
	assert_int_equal(symlink("/etc", d), 0);
	snprintf(p, sizeof(p), "%s/passwd", d);
	expect_refused(p, false, "in /etc, a system directory");
	assert_int_equal(access("/etc/sockaudit-test.log", F_OK), -1);
}

/* A copy of "path" in the test directory, root-owned with mode; its bytes to out. */
static void copy_file(const char *from, const char *to, mode_t mode, char *out, size_t n)
{
	int in = open(from, O_RDONLY), fd;
	ssize_t got;

	assert_true(in >= 0);
	got = read(in, out, n - 1);
	assert_true(got > 0);
	out[got] = 0;
	close(in);
	fd = open(to, O_CREAT | O_EXCL | O_WRONLY, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, out, got), got);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void same_bytes_and_mode(const char *p, const char *bytes, mode_t mode)
{
	char buf[70000];
	struct stat st;
	int fd = open(p, O_RDONLY);
	ssize_t got;

	assert_true(fd >= 0);
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(got >= 0);
	buf[got] = 0;
	assert_string_equal(buf, bytes);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
}

/* The duplicate-key attack's target: refused, its bytes and mode unchanged. */
static void test_passwd_like(void **state)
{
	static char bytes[65536];
	char p[128], q[128];

	in_base(p, sizeof(p), "passwd");
	copy_file("/etc/passwd", p, 0644, bytes, sizeof(bytes));
	expect_refused(p, true, "not a json_lines audit log");
	same_bytes_and_mode(p, bytes, 0644);
	in_base(q, sizeof(q), "passwd-link");	/* through a symlink: refused too */
	assert_int_equal(symlink(p, q), 0);
	expect_refused(q, true, "is a symlink");
	same_bytes_and_mode(p, bytes, 0644);
}

/* Our own log: appended to; a mode wider than file_mode set back (with a warning). */
static void test_existing_audit_log(void **state)
{
	const char *rec = "{\"v\":1,\"seq\":3,\"ts\":\"2026-01-02T03:04:05.000000006Z\","
			  "\"type\":\"collector_stop\"}\n{\"v\":1,\"seq\":4,\"ts";
	char p[128];
	struct stat st;
	int fd;

	in_base(p, sizeof(p), "ours.log");
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	assert_int_equal(write(fd, rec, strlen(rec)), (ssize_t)strlen(rec));
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	fd = try_open(p, true, false);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	close(fd);
}

static int open_as(const char *p, const char *format, const char *what, enum outpath_how how)
{
	struct outpath_req req = { .path = p, .format = format, .what = what, .mode = 0600,
				   .gid = (gid_t)-1, .how = how };

	err[0] = 0;
	return outpath__open(&req, err, sizeof(err));
}

/* csv: the file starts with our header (sealed or not), or it is not ours. */
static void test_existing_csv(void **state)
{
	char p[128];
	int fd;

	in_base(p, sizeof(p), "a.csv");
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	assert_int_equal(write(fd, "seq,ts,type\n", 12), 12);
	close(fd);
	assert_true(open_as(p, "csv", NULL, OUTPATH_APPEND) < 0);
	assert_non_null(strstr(err, "its first line"));
	assert_true(open_as(p, "json_lines", NULL, OUTPATH_APPEND) < 0);
}

/* Side files: the anchor of another user, or one others may write, is refused. */
static void test_side_file_owner_and_mode(void **state)
{
	char p[128];
	int fd;

	in_base(p, sizeof(p), "LOG.anchor");
	fd = open(p, O_CREAT | O_WRONLY, 0666);
	assert_int_equal(fchmod(fd, 0666), 0);
	close(fd);
	assert_true(open_as(p, NULL, "anchor file", OUTPATH_APPEND) < 0);
	assert_non_null(strstr(err, "anchor file"));
	assert_non_null(strstr(err, "mode 0666, wider than 0600"));
	assert_int_equal(chown(p, 65534, 65534), 0);
	assert_true(open_as(p, NULL, "anchor file", OUTPATH_APPEND) < 0);
	assert_non_null(strstr(err, "owned by uid 65534"));
}

/* OUTPATH_NEW (temporaries): whatever is at the name already is refused, named. */
static void test_new_is_exclusive(void **state)
{
	char p[128];
	int fd;

	in_base(p, sizeof(p), "LOG.chain.tmp");
	assert_int_equal(mkfifo(p, 0666), 0);
	assert_int_equal(chown(p, 65534, 65534), 0);
	assert_int_equal(open_as(p, NULL, "chain state", OUTPATH_NEW), -EEXIST);
	assert_non_null(strstr(err, "a FIFO owned by uid 65534"));
	unlink(p);
	fd = open_as(p, NULL, "chain state", OUTPATH_NEW);
	assert_true(fd >= 0);
	close(fd);
}

/* A FIFO whose read end is held open (by the planter) is refused, not written. */
static void test_fifo_with_reader(void **state)
{
	char p[128];
	int rd;

	in_base(p, sizeof(p), "LOG.anchor2");
	assert_int_equal(mkfifo(p, 0666), 0);
	rd = open(p, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	assert_true(open_as(p, NULL, "anchor file", OUTPATH_APPEND) < 0);
	assert_non_null(strstr(err, "is a FIFO"));
	close(rd);
}

/* Reading back (state, rotated logs): no hang on a FIFO, no other user's file. */
static void test_open_read(void **state)
{
	char p[128], q[128];
	int fd;

	in_base(p, sizeof(p), "state-fifo");
	assert_int_equal(mkfifo(p, 0666), 0);
	assert_true(outpath__open_read(AT_FDCWD, p, p, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "is a FIFO"));
	in_base(q, sizeof(q), "state-nobody");
	fd = open(q, O_CREAT | O_WRONLY, 0600);
	assert_int_equal(fchown(fd, 65534, 65534), 0);
	close(fd);
	assert_true(outpath__open_read(AT_FDCWD, q, q, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "not a regular file of uid 0"));
	assert_int_equal(outpath__open_read(AT_FDCWD, "/nonexistent-x", "x", err, sizeof(err)),
			 -ENOENT);
	in_base(p, sizeof(p), "state-orig");	/* a second name for a file of ours */
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	close(fd);
	in_base(q, sizeof(q), "state-hard");
	assert_int_equal(link(p, q), 0);
	assert_true(outpath__open_read(AT_FDCWD, q, q, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "with one link"));
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

/*
 * What a log of each format looks like to outpath is what the formatter
 * writes: a record of every type, rendered by the formatter itself, is
 * recognised; lines of other formats and of /etc/passwd are not.
 */
static void test_is_record_all_formats(void **state)
{
	const struct format_field f[] = { { .key = "reason", .kind = FF_STR, .s = "x" } };
	const char *const *t, *const *u;
	struct format_opts fo = { 0 };
	struct jbuf jb[8];
	int i = 0;

	for (t = format_types; *t; t++, i++) {
		jbuf__init(&jb[i]);
		assert_int_equal(formatter__find(*t)->event(&jb[i], &fo, 7, 1767323045000000006ULL,
							    "rotate", f, 1), 0);
		assert_true(outpath__is_record(*t, jb[i].buf, jb[i].len));
		assert_false(outpath__is_record(*t, "root:x:0:0:root:/root:/bin/bash", 31));
		assert_false(outpath__is_record(*t, "", 0));
	}
	for (t = format_types, i = 0; *t; t++, i++)
		for (u = format_types; *u; u++)
			if (*u != *t && strcmp(*t, "csv") && strcmp(*u, "csv"))
				assert_false(outpath__is_record(*u, jb[i].buf, jb[i].len));
	while (i--)
		jbuf__free(&jb[i]);
	format__thread_free();
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
	cmocka_unit_test(test_world_writable_parent),				\
	cmocka_unit_test(test_group_writable_parent), cmocka_unit_test(test_parent_owner), \
	cmocka_unit_test(test_system_dirs), cmocka_unit_test(test_passwd_like),	\
	cmocka_unit_test(test_existing_audit_log), cmocka_unit_test(test_existing_csv), \
	cmocka_unit_test(test_side_file_owner_and_mode),			\
	cmocka_unit_test(test_new_is_exclusive), cmocka_unit_test(test_fifo_with_reader), \
	cmocka_unit_test(test_open_read)

int main(void)
{
	const struct CMUnitTest tests[] = { PATH_TESTS, cmocka_unit_test(test_expand),
					    cmocka_unit_test(test_is_record_all_formats) };
	const struct CMUnitTest walk[] = { PATH_TESTS };
	int fails = cmocka_run_group_tests_name("outpath (openat2)", tests, setup, teardown);

	memcpy(base, "/tmp/sa-outpath.XXXXXX", sizeof(base));
	fails += cmocka_run_group_tests_name("outpath (O_NOFOLLOW walk)", walk, with_walk,
					     without_walk);
	return fails;
}
