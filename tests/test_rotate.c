// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Rotated names, backup_count, background gzip (read back with zlib), max_age_days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>
#include <zlib.h>
#include "outpath.h"
#include "rotate.h"

static char dir[64], path[96];
static bool allow_shared;

static struct rotator *rot(uint32_t backups, bool compress, uint32_t max_age_days)
{
	struct outpath_req log = { .path = path, .mode = 0600, .gid = (gid_t)-1,
				   .allow_shared_directory = allow_shared };

	return rotator__new(&log, backups, compress, max_age_days);
}

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
	struct rotator *r = rot(2, false, 0);

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
	struct rotator *r = rot(3, true, 0);
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
	struct rotator *r = rot(3, true, 0);
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
	struct rotator *r = rot(5, false, 1);
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
	struct rotator *r = rot(3, false, 0);

	make_log("a\n");
	rotator__rotate(r);
	make_log("b\n");
	rotator__rotate(r);
	rotator__drop_oldest(r);
	assert_true(exists(".1"));
	assert_false(exists(".2"));
	rotator__free(r);
}

/* A file in dir owned by uid (planted by another user), with text. */
static void plant_file(const char *name, uid_t uid, mode_t mode, const char *text)
{
	char p[160];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchown(fd, uid, uid), 0);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void plant_link(const char *target, const char *name)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(symlink(target, p), 0);
}

/* victim's bytes and mode are still "root file\n" and 0644. */
static void victim_unchanged(const char *victim)
{
	char buf[64] = { 0 };
	struct stat st;
	int fd = open(victim, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 10);
	close(fd);
	assert_string_equal(buf, "root file\n");
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

/*
 * Names planted at every rotated name (a symlink to a root file, a FIFO,
 * another user's file): rotation moves or replaces names, never writes
 * through them or hangs on them, and compresses only its own file.
 */
static void test_planted_names(void **state)
{
	char victim[128], fifo[128], buf[64];
	struct rotator *r = rot(3, true, 0);

	snprintf(victim, sizeof(victim), "%s/victim", dir);
	plant_file("victim", 0, 0644, "root file\n");
	plant_link(victim, "a.log.1");
	plant_link(victim, "a.log.2.gz");
	snprintf(fifo, sizeof(fifo), "%s.1.gz", path);
	assert_int_equal(mkfifo(fifo, 0666), 0);
	plant_file("a.log.3", 65534, 0666, "nobody\n");
	make_log("ours\n");
	assert_int_equal(rotator__rotate(r), 0);
	rotator__wait_idle(r);
	gz_content(".1.gz", buf, sizeof(buf));
	assert_string_equal(buf, "ours\n");
	victim_unchanged(victim);
	rotator__free(r);
}

/* Old or oldest, a file that is not ours is never removed (nor counted as freed). */
static void test_prune_and_drop_leave_others(void **state)
{
	struct utimbuf old = { .actime = time(NULL) - 3 * 86400, .modtime = time(NULL) - 3 * 86400 };
	struct rotator *r = rot(3, false, 1);
	char p[128];

	plant_file("a.log.2", 65534, 0600, "nobody\n");
	snprintf(p, sizeof(p), "%s.2", path);
	assert_int_equal(utime(p, &old), 0);
	plant_link("/etc/hostname", "a.log.2.gz");
	make_log("ours\n");
	assert_int_equal(rotator__rotate(r), 0);	/* .2 -> .3: names move, nothing followed */
	assert_true(exists(".3") && exists(".3.gz"));
	rotator__prune_age(r);
	assert_true(exists(".3"));			/* three days old, but nobody's */
	rotator__drop_oldest(r);			/* skips nobody's .3 and the link */
	assert_true(exists(".3") && exists(".3.gz"));
	assert_false(exists(".1"));
	rotator__free(r);
}

/* Rotation works in the log's directory only as outpath allows it. */
static void test_shared_directory(void **state)
{
	struct rotator *r;

	assert_int_equal(chmod(dir, 0777), 0);
	r = rot(2, false, 0);
	make_log("one\n");
	assert_int_equal(rotator__rotate(r), -EPERM);	/* others could swap names */
	assert_true(exists(""));
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(rotator__rotate(r), -EPERM);	/* sticky, not allowed */
	rotator__free(r);
	allow_shared = true;
	r = rot(2, false, 0);
	assert_int_equal(rotator__rotate(r), 0);
	assert_true(exists(".1"));
	rotator__free(r);
	allow_shared = false;
}

/* The forwarder's hold: unshipped rotated files outlive backup_count until advanced over. */
static void test_hold_keeps_unshipped(void **state)
{
	struct rotator *r = rot(1, false, 0);
	uint32_t hold, gen, g2;
	uint64_t lr, lf;
	char buf[16] = "";
	bool gz;
	int fd;

	rotator__hold_start(r, 0, 1 << 20);
	make_log("one\n");
	assert_int_equal(rotator__rotate(r), 0);
	make_log("two\n");
	assert_int_equal(rotator__rotate(r), 0);
	make_log("three\n");
	assert_int_equal(rotator__rotate(r), 0);
	assert_true(exists(".1") && exists(".2") && exists(".3"));
	fd = rotator__open_held(r, &gz, &hold, &gen);
	assert_true(fd >= 0);
	assert_int_equal(hold, 3);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 4);
	assert_string_equal(buf, "one\n");	/* the oldest: where the follower is */
	close(fd);
	rotator__advance(r, gen);
	assert_false(exists(".3"));		/* shipped: the normal policy applies */
	assert_true(exists(".2"));
	fd = rotator__open_held(r, &gz, &hold, &g2);
	close(fd);
	assert_int_equal(hold, 2);
	rotator__advance(r, gen);		/* a stale generation moves nothing */
	rotator__hold_state(r, &hold, &gen, &lr, &lf);
	assert_int_equal(hold, 2);
	rotator__advance(r, g2);
	assert_false(exists(".2"));
	assert_true(exists(".1"));
	assert_int_equal(lr + lf, 0);
	rotator__free(r);
}

/* Past the spool limit the oldest held file goes and its records are counted. */
static void test_spool_limit_counts(void **state)
{
	struct rotator *r = rot(1, false, 0);
	uint32_t hold, gen;
	uint64_t lr, lf;

	rotator__hold_start(r, 0, 0);
	make_log("a\nb\n");
	assert_int_equal(rotator__rotate(r), 0);
	make_log("c\nd\ne\n");
	assert_int_equal(rotator__rotate(r), 0);	/* a, b: beyond backup_count, over 0 bytes */
	make_log("f\n");
	assert_int_equal(rotator__rotate(r), 0);	/* c, d, e */
	rotator__hold_state(r, &hold, &gen, &lr, &lf);
	assert_int_equal(lr, 5);
	assert_int_equal(lf, 2);
	assert_int_equal(hold, 1);
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
		cmocka_unit_test_setup_teardown(test_planted_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_and_drop_leave_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_keeps_unshipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_limit_counts, setup, teardown),
	};

	return cmocka_run_group_tests_name("rotate", tests, NULL, NULL);
}
