// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Target selectors: names, the v2 mount from /proc/mounts, resolving, the config section. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "config.h"
#include "targets.h"

static char dir[] = "/tmp/sa-targets.XXXXXX";
static char err[CONFIG_ERR_LEN];

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
	return p;
}

static void test_kinds(void **state)
{
	assert_int_equal(targets__kind("pid"), SEL_PID);
	assert_int_equal(targets__kind("cgroup"), SEL_CGROUP);
	assert_int_equal(targets__kind("unit"), SEL_UNIT);
	assert_int_equal(targets__kind("exe"), SEL_EXE);
	assert_int_equal(targets__kind("container"), -1);
	assert_string_equal(targets__kind_name(SEL_EXE), "exe");
}

/* The hybrid layout of this machine, a systemd host's, and none at all. */
static void test_cgroup2_root(void **state)
{
	char root[256];
	const char *p = write_file("mounts",
		"tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
		"cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n"
		"cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n", 0644);

	assert_int_equal(targets__cgroup2_root(p, root, sizeof(root)), 0);
	assert_string_equal(root, "/sys/fs/cgroup/unified");
	p = write_file("mounts", "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n", 0644);
	assert_int_equal(targets__cgroup2_root(p, root, sizeof(root)), 0);
	assert_string_equal(root, "/sys/fs/cgroup");
	p = write_file("mounts", "cgroup /sys/fs/cgroup/cpu cgroup rw 0 0\n", 0644);
	assert_int_equal(targets__cgroup2_root(p, root, sizeof(root)), -ENOENT);
}

static void test_add_limits(void **state)
{
	struct target_set t = { 0 };
	int i;

	assert_int_equal(targets__add(&t, SEL_EXE, "", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--exe: the value is empty"));
	for (i = 0; i < TARGETS_MAX; i++)
		assert_int_equal(targets__add(&t, SEL_PID, "1", err, sizeof(err)), 0);
	assert_int_equal(targets__add(&t, SEL_PID, "1", err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "too many target selectors"));
	targets__free(&t);
	assert_int_equal(t.n, 0);
}

/* --exe through a symlink resolves to the file's (device, inode), the kernel's encoding. */
static void test_exe_symlink(void **state)
{
	struct target_set t = { 0 };
	char link[160];
	struct stat st;
	const char *bin = write_file("bin", "#!/bin/sh\n", 0755);

	assert_int_equal(stat(bin, &st), 0);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(bin, link), 0);
	assert_int_equal(targets__add(&t, SEL_EXE, link, err, sizeof(err)), 0);
	assert_int_equal(targets__resolve(&t, err, sizeof(err)), 0);
	assert_int_equal(t.s[0].exe.ino, st.st_ino);
	assert_int_equal(t.s[0].exe.dev, (uint64_t)major(st.st_dev) << 20 | minor(st.st_dev));
	targets__free(&t);
}

static void expect_resolve_error(enum sel_kind k, const char *arg, const char *msg)
{
	struct target_set t = { 0 };

	assert_int_equal(targets__add(&t, k, arg, err, sizeof(err)), 0);
	assert_int_not_equal(targets__resolve(&t, err, sizeof(err)), 0);
	if (!strstr(err, msg))
		fail_msg("'%s' not in '%s'", msg, err);
	targets__free(&t);
}

static void test_resolve_errors(void **state)
{
	char missing[160];

	snprintf(missing, sizeof(missing), "%s/nothing", dir);
	expect_resolve_error(SEL_EXE, missing, "No such file or directory; give the path of");
	expect_resolve_error(SEL_EXE, dir, "not a regular file");
	expect_resolve_error(SEL_PID, "12x", "is not a process id");
	if (access("/proc/mounts", R_OK) || system("grep -q ' cgroup2 ' /proc/mounts"))
		return;	/* the cgroup cases need a v2 hierarchy */
	expect_resolve_error(SEL_CGROUP, "relative/path", "give an absolute path");
	expect_resolve_error(SEL_CGROUP, "/etc", "no cgroup directory");
	expect_resolve_error(SEL_UNIT, "../etc", "not a unit name");
	expect_resolve_error(SEL_UNIT, "no-such-unit-for-sockaudit",
			     "no-such-unit-for-sockaudit.service (No such file or directory); the "
			     "unit does not exist or is not running");
}

static void test_summary(void **state)
{
	struct target_set t = { 0 };
	char buf[128];

	assert_int_equal(targets__add(&t, SEL_PID, "42", err, sizeof(err)), 0);
	assert_int_equal(targets__add(&t, SEL_EXE, "/usr/sbin/nginx", err, sizeof(err)), 0);
	t.s[0].matches = 3;
	t.s[1].matches = 0;
	targets__summary(&t, buf, sizeof(buf));
	assert_string_equal(buf, "pid:42=3,exe:/usr/sbin/nginx=0");
	assert_int_equal(targets__n_following(&t), 1);
	targets__free(&t);
}

#define SINK "auditing_plugins:\n  - type: json_lines\n    config:\n      output_file: /var/log/a.log\n"

static int load(const char *text, struct config *c)
{
	const char *p = write_file("c.yaml", text, 0644);

	err[0] = '\0';
	return config__load(c, p, err, sizeof(err));
}

/* targets: one value or a list per key; user and group. */
static void test_config_section(void **state)
{
	struct config c;

	assert_int_equal(load(SINK "targets:\n  exe: [/usr/sbin/nginx, /bin/true]\n"
			      "  cgroup: /system.slice/a.service\n  unit: nginx\n  pid: 7\n"
			      "user: nobody\ngroup: nogroup\n", &c), 0);
	assert_int_equal(c.targets.n, 5);
	assert_int_equal(c.targets.s[0].kind, SEL_EXE);
	assert_string_equal(c.targets.s[1].arg, "/bin/true");
	assert_int_equal(c.targets.s[2].kind, SEL_CGROUP);
	assert_int_equal(c.targets.s[3].kind, SEL_UNIT);
	assert_int_equal(c.targets.s[4].kind, SEL_PID);
	assert_string_equal(c.user, "nobody");
	assert_string_equal(c.group, "nogroup");
	config__free(&c);
}

static void test_config_errors(void **state)
{
	struct config c;

	assert_int_not_equal(load(SINK "targets:\n  container: x\n", &c), 0);
	assert_non_null(strstr(err, "targets.container"));
	assert_non_null(strstr(err, "allowed: pid, cgroup, unit, exe"));
	assert_int_not_equal(load(SINK "targets:\n  exe: {a: b}\n", &c), 0);
	assert_non_null(strstr(err, "expected a selector value"));
	assert_int_not_equal(load(SINK "targets:\n  exe: ''\n", &c), 0);
	assert_non_null(strstr(err, "the value is empty"));
	assert_int_not_equal(load(SINK "targets: [a]\n", &c), 0);
	assert_non_null(strstr(err, "expected a mapping"));
	assert_int_not_equal(load(SINK "user: ''\n", &c), 0);
	assert_non_null(strstr(err, "is empty"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_cgroup2_root),
		cmocka_unit_test(test_add_limits),
		cmocka_unit_test(test_exe_symlink),
		cmocka_unit_test(test_resolve_errors),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_config_section),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
