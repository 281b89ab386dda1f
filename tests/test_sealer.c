// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The writer's chain object (sealer.c): a failed write puts the chain
 * back, a written one counts toward the checkpoint, checkpoints fall due
 * by records, time or a stop, and a first start is told from a missing
 * state; the key file's key is gone once the chain began.
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
#include "chainfile.h"
#include "config.h"
#include "sealer.h"

static char dir[] = "/var/tmp/sa-sealer.XXXXXX";

static struct sealer *open_sealer(struct sink_config *c)
{
	char key[256], log[256], err[512];
	struct sealer *sl = NULL;

	snprintf(key, sizeof(key), "%s/k", dir);
	snprintf(log, sizeof(log), "%s/a.log", dir);
	unlink(key);
	assert_int_equal(chainfile__keygen(key, err, sizeof(err)), 0);
	sink_config__defaults(c);
	c->type = strdup("json_lines");
	c->output_file = strdup(log);
	c->integrity.key_file = strdup(key);
	c->integrity.checkpoint_every = 3;
	c->integrity.checkpoint_interval_s = 60;
	assert_int_equal(sealer__open(&sl, c, "json_lines", err, sizeof(err)), 0);
	assert_non_null(sl);
	return sl;
}

/* Two records, as the output hands them to the writer. */
static const char two[] = "{\"a\":1}\n{\"b\":2}\n";
static const uint32_t two_end[] = { 8, 16 };
static const struct recs two_recs = { .buf = two, .end = two_end, .n = 2 };

static void test_written_or_undone(void **state)
{
	const struct recs r = two_recs;
	struct chain_state st = { 0 };
	struct sink_config c;
	struct sealer *sl = open_sealer(&c);
	const char *out;
	size_t len;
	uint8_t zero[CHAIN_KEY_LEN] = { 0 };

	sealer__begin(sl, "first_start", &st, 60, 0);
	assert_memory_equal(sl->key0, zero, CHAIN_KEY_LEN);	/* erased: forward security */
	assert_int_equal(sealer__seal(sl, &r, &out, &len), 0);
	assert_non_null(strstr(out, "\"chain\":\""));
	assert_int_equal(sealer__state(sl)->seq, 2);
	sealer__written(sl, false);	/* the write failed: as if never sealed */
	assert_int_equal(sealer__state(sl)->seq, 0);
	assert_int_equal(sl->since_ckpt, 0);
	assert_int_equal(sealer__seal(sl, &r, &out, &len), 0);
	sealer__written(sl, true);
	assert_int_equal(sealer__state(sl)->seq, 2);
	assert_int_equal(sl->since_ckpt, 2);
	assert_null(sealer__due(sl, &c.integrity, false, 1));
	assert_string_equal(sealer__due(sl, &c.integrity, true, 1), "stop");
	assert_string_equal(sealer__due(sl, &c.integrity, false, 61000000000ULL), "interval");
	assert_int_equal(sealer__seal(sl, &r, &out, &len), 0);
	sealer__written(sl, true);
	assert_string_equal(sealer__due(sl, &c.integrity, false, 1), "records");
	sealer__checkpointed(sl, 60, 5);
	assert_null(sealer__due(sl, &c.integrity, true, 5));	/* nothing since: no checkpoint */
	sealer__free(sl);
	sink_config__free(&c);
}

/* No state and an empty log: a first start; a state file missing beside a log with records: a gap. */
static void test_resume_reasons(void **state)
{
	struct chain_state st;
	struct sink_config c;
	struct sealer *sl = open_sealer(&c);
	bool anchored = false;
	int fd = open(c.output_file, O_RDWR | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_string_equal(sealer__resume_check(sl, fd, 0, &c, &st, &anchored), "first_start");
	assert_int_equal(write(fd, "{\"x\":1}\n", 8), 8);
	assert_string_equal(sealer__resume_check(sl, fd, 8, &c, &st, &anchored), "state_missing");
	close(fd);
	unlink(c.output_file);
	sealer__free(sl);
	sink_config__free(&c);
}

/*
 * Killed right after a rotation, before the new file's first record: the
 * log is empty, its state's head the last record of LOG.1. The chain goes
 * on (no gap); with no LOG.1 holding the head, the log is missing.
 */
static void test_resume_after_rotation(void **state)
{
	struct chain_state st = { 0 };
	struct sink_config c;
	struct sealer *sl = open_sealer(&c);
	struct outpath_req at = { .mode = 0600, .gid = (gid_t)-1 };
	char rotated[300], err[512];
	const char *out;
	bool anchored = false;
	size_t len;
	int fd;

	sealer__begin(sl, "first_start", &st, 60, 0);
	assert_int_equal(sealer__seal(sl, &two_recs, &out, &len), 0);
	sealer__written(sl, true);
	snprintf(rotated, sizeof(rotated), "%s.1", c.output_file);
	fd = open(rotated, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(write(fd, out, len), (ssize_t)len);
	close(fd);
	at.path = sl->state_path;
	assert_int_equal(sealer__save(sl, &at, c.output_file, true, err, sizeof(err)), 0);
	fd = open(c.output_file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_null(sealer__resume_check(sl, fd, 0, &c, &st, &anchored));
	assert_int_equal(st.seq, 2);
	assert_true(sl->from_rotated);	/* the sink writes the new file's rotate record */
	unlink(rotated);
	assert_string_equal(sealer__resume_check(sl, fd, 0, &c, &st, &anchored), "log_missing");
	assert_false(sl->from_rotated);
	close(fd);
	unlink(c.output_file);
	unlink(sl->state_path);
	unlink(sl->anchor_path);
	sealer__free(sl);
	sink_config__free(&c);
}

/* Without key_file: no object at all, integrity off. */
static void test_off(void **state)
{
	struct sink_config c;
	struct sealer *sl = (struct sealer *)1;
	char err[128];

	sink_config__defaults(&c);
	c.output_file = strdup("/var/tmp/x.log");
	assert_int_equal(sealer__open(&sl, &c, "json_lines", err, sizeof(err)), 0);
	assert_null(sl);
	sink_config__free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_or_undone),
		cmocka_unit_test(test_resume_reasons),
		cmocka_unit_test(test_resume_after_rotation),
		cmocka_unit_test(test_off),
	};
	char key[256];
	int rc;

	assert_non_null(mkdtemp(dir));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(key, sizeof(key), "%s/k", dir);
	unlink(key);
	rmdir(dir);
	return rc;
}
