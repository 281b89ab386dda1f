// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The writer: group commit, batched timer, hybrid ordering, size rotation
 * without split records, shared files, early buffering and its overflow,
 * oversize records, a full queue, and write errors (writev wrapped to fail
 * with ENOSPC on demand) on critical and non-critical sinks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "sink.h"

/* writev mock: counts calls, fails with ENOSPC while fail_writes is set. */
static pthread_mutex_t mock_mu = PTHREAD_MUTEX_INITIALIZER;
static int writev_calls;
static bool fail_writes;

ssize_t __real_writev(int fd, const struct iovec *iov, int n);
ssize_t __wrap_writev(int fd, const struct iovec *iov, int n)
{
	bool fail;

	pthread_mutex_lock(&mock_mu);
	writev_calls++;
	fail = fail_writes;
	pthread_mutex_unlock(&mock_mu);
	if (fail) {
		errno = ENOSPC;
		return -1;
	}
	return __real_writev(fd, iov, n);
}

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sa-sink.XXXXXX");
	assert_non_null(mkdtemp(dir));
	fail_writes = false;
	writev_calls = 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void cfg_for(struct sink_config *c, const char *name)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	sink_config__defaults(c);
	c->output_file = strdup(p);
}

static struct sink *make(struct sink_config *c)
{
	char err[512];
	struct sink *s = NULL;

	assert_int_equal(sink__create(&s, c, 0, err, sizeof(err)), 0);
	return s;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 24);

	assert_non_null(f);
	*len = fread(buf, 1, (1 << 24) - 1, f);
	fclose(f);
	return buf;
}

/* Lines of a file, each checked to be one whole record ("{...}"). */
static int whole_lines(const char *path, const char *type_count, int *typed)
{
	size_t len;
	char *buf = slurp(path, &len), *line, *save = NULL;
	int n = 0;

	assert_true(len == 0 || buf[len - 1] == '\n');
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(line[0] == '{' && line[strlen(line) - 1] == '}');
		if (type_count && typed && strstr(line, type_count))
			(*typed)++;
		n++;
	}
	free(buf);
	return n;
}

static void put_n(struct sink *s, int from, int n, size_t pad)
{
	char rec[4096];
	int i, len;

	for (i = from; i < from + n; i++) {
		len = snprintf(rec, sizeof(rec), "{\"type\":\"rec\",\"i\":%d,\"pad\":\"%*s\"}\n", i,
			       (int)pad, "");
		assert_int_equal(sink__put(s, rec, len, 1, 0), 0);
	}
}

static void test_group_commit(void **state)
{
	struct sink_config c;
	struct sink *s;

	cfg_for(&c, "a.log");
	s = make(&c);
	put_n(s, 0, 2000, 10);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(whole_lines(c.output_file, NULL, NULL), 2000);
	/* records queued while the writer synced went out together */
	assert_true(writev_calls < 2000);
	sink_config__free(&c);
}

static void test_rotation_no_split(void **state)
{
	struct sink_config c;
	char p[160];
	struct sink *s;
	int k, total = 0, recs = 0, rot = 0, r1;

	cfg_for(&c, "r.log");
	c.max_file_size = 64 << 10;
	c.backup_count = 50;
	s = make(&c);
	put_n(s, 0, 3000, 100);
	assert_int_equal(sink__close(s), 0);
	for (k = 0; k <= 50; k++) {
		if (k)
			snprintf(p, sizeof(p), "%s.%d", c.output_file, k);
		else
			snprintf(p, sizeof(p), "%s", c.output_file);
		if (access(p, F_OK))
			continue;
		r1 = 0;
		total += whole_lines(p, "\"type\":\"rec\"", &recs);
		whole_lines(p, "\"type\":\"rotate\"", &r1);
		rot += r1;
		if (k < 50 && access(p, F_OK) == 0) {
			struct stat st;

			stat(p, &st);
			assert_true(st.st_size <= (64 << 10) + 200);
		}
	}
	assert_int_equal(recs, 3000);		/* no line lost */
	assert_true(rot >= 2);			/* each new file starts with rotate */
	assert_int_equal(total, recs + rot);
	sink_config__free(&c);
}

static void test_rotate_record_first(void **state)
{
	struct sink_config c;
	struct sink *s;
	size_t len;
	char *buf;

	cfg_for(&c, "f.log");
	s = make(&c);
	put_n(s, 0, 3, 1);
	sink__rotate(s);
	put_n(s, 3, 1, 1);
	assert_int_equal(sink__close(s), 0);
	buf = slurp(c.output_file, &len);
	assert_non_null(strstr(buf, "\"type\":\"rotate\""));
	assert_true(strstr(buf, "\"type\":\"rotate\"") < strstr(buf, "\"i\":3"));
	assert_int_equal(strncmp(buf, "{\"v\":1,\"seq\":0,\"ts\":", 20), 0);
	free(buf);
	sink_config__free(&c);
}

struct writer_arg {
	struct sink *s;
	int id;
};

static void *hammer(void *arg)
{
	struct writer_arg *w = arg;

	put_n(w->s, w->id * 1000, 500, 200);
	return NULL;
}

static void test_shared_file(void **state)
{
	struct sink_config c[10];
	struct sink *s[10];
	struct writer_arg w[10];
	pthread_t t[10];
	char p[128];
	int i, recs = 0;

	for (i = 0; i < 10; i++) {
		cfg_for(&c[i], "shared.log");
		if (i % 2) {	/* another spelling of the same file */
			snprintf(p, sizeof(p), "%s/./shared.log", dir);
			free(c[i].output_file);
			c[i].output_file = strdup(p);
			c[i].backup_count = 9;	/* ignored, with a warning */
		}
		s[i] = make(&c[i]);
	}
	for (i = 1; i < 10; i++)
		assert_ptr_equal(s[i], s[0]);
	assert_int_equal(sink__refs(s[0]), 10);
	for (i = 0; i < 10; i++) {
		w[i] = (struct writer_arg){ s[i], i };
		pthread_create(&t[i], NULL, hammer, &w[i]);
	}
	for (i = 0; i < 10; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 10; i++)
		assert_int_equal(sink__close(s[i]), 0);
	assert_int_equal(whole_lines(c[0].output_file, "\"type\":\"rec\"", &recs), 5000);
	assert_int_equal(recs, 5000);
	for (i = 0; i < 10; i++)
		sink_config__free(&c[i]);
}

static void test_early_buffer(void **state)
{
	struct sink_config c;
	char d[96];
	struct sink *s;
	size_t len;
	char *buf;

	cfg_for(&c, "later/e.log");
	c.critical = false;
	c.event_buffer_size = 3;
	s = make(&c);
	assert_false(sink__is_set_up(s));
	put_n(s, 0, 5, 1);
	snprintf(d, sizeof(d), "%s/later", dir);
	assert_int_equal(mkdir(d, 0700), 0);
	assert_true(sink__wait_set_up(s, 5000));
	put_n(s, 5, 1, 1);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(sink__lost(s, SINK_LOST_EARLY), 2);	/* the oldest two */
	assert_int_equal(sink__close(s), 0);
	buf = slurp(c.output_file, &len);
	assert_null(strstr(buf, "\"i\":1,"));
	assert_true(strstr(buf, "\"i\":2,") < strstr(buf, "\"i\":3,"));
	assert_true(strstr(buf, "\"i\":4,") < strstr(buf, "\"i\":5,"));
	free(buf);
	sink_config__free(&c);
}

static void test_critical_unset_fails(void **state)
{
	struct sink_config c;
	char err[512];
	struct sink *s = NULL;

	cfg_for(&c, "missing/x.log");
	assert_int_equal(sink__create(&s, &c, 0, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "missing"));
	sink_config__free(&c);
}

static void test_oversize(void **state)
{
	struct sink_config c;
	struct sink *s;
	size_t len;
	char *buf;

	cfg_for(&c, "o.log");
	c.max_message_length = 256;
	s = make(&c);
	put_n(s, 0, 1, 10);
	put_n(s, 1, 1, 1000);
	put_n(s, 2, 1, 10);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(sink__lost(s, SINK_LOST_OVERSIZE), 1);
	assert_int_equal(sink__close(s), 0);
	buf = slurp(c.output_file, &len);
	assert_non_null(strstr(buf, "\"counter\":\"oversize_records\""));
	assert_null(strstr(buf, "\"i\":1,"));
	assert_non_null(strstr(buf, "\"i\":2,"));
	free(buf);
	assert_int_equal(whole_lines(c.output_file, NULL, NULL), 3);
	sink_config__free(&c);
}

/*
 * The writer's own records are in the sink's format: a csv file starts with
 * its column header (again after a rotation) and a rotate record is a csv
 * row; an oversize record becomes a loss record in the format too.
 */
static void test_writer_records_in_format(void **state)
{
	struct sink_config c;
	char *buf, rotated[160];
	struct sink *s;
	size_t len;

	cfg_for(&c, "w.csv");
	c.type = strdup("csv");
	c.max_message_length = 2048;
	s = make(&c);
	put_n(s, 0, 1, 10);
	put_n(s, 1, 1, 3000);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(sink__lost(s, SINK_LOST_OVERSIZE), 1);
	sink__rotate(s);
	put_n(s, 2, 1, 10);
	assert_int_equal(sink__close(s), 0);
	buf = slurp(c.output_file, &len);
	assert_int_equal(strncmp(buf, "seq,ts,type,pid,", 16), 0);
	assert_non_null(strstr(buf, ",details\n0,"));
	assert_non_null(strstr(buf, ",\"rotate\","));
	assert_non_null(strstr(buf, "\"reason=signal;file="));
	free(buf);
	snprintf(rotated, sizeof(rotated), "%s.1", c.output_file);
	buf = slurp(rotated, &len);
	assert_int_equal(strncmp(buf, "seq,ts,type,pid,", 16), 0);
	assert_non_null(strstr(buf, ",\"loss\","));
	assert_non_null(strstr(buf, "counter=oversize_records;count=1;bytes="));
	assert_null(strstr(buf, "\"i\":1,"));
	free(buf);
	sink_config__free(&c);
}

/* A type no formatter renders is refused by name. */
static void test_unknown_type(void **state)
{
	struct sink_config c;
	struct sink *s = NULL;
	char err[512];

	cfg_for(&c, "u.log");
	c.type = strdup("xml");
	assert_int_equal(sink__create(&s, &c, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown type 'xml'; use json_lines, cef"));
	sink_config__free(&c);
}

static void test_queue_full(void **state)
{
	struct sink_config c;
	char err[512], big[600];
	struct sink *s;
	int i, refused = 0;

	cfg_for(&c, "q.log");
	assert_int_equal(sink__create(&s, &c, 1024, err, sizeof(err)), 0);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	for (i = 0; i < 1000; i++)
		refused += sink__put(s, big, sizeof(big), 1, 0) == -ENOBUFS;
	assert_true(refused > 0);
	assert_int_equal(sink__dropped(s), refused);
	assert_int_equal(sink__close(s), 0);
	sink_config__free(&c);
}

static void test_write_error_noncritical(void **state)
{
	struct sink_config c;
	struct sink *s;

	cfg_for(&c, "n.log");
	c.critical = false;
	s = make(&c);
	fail_writes = true;
	put_n(s, 0, 3, 1);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(sink__lost(s, SINK_LOST_WRITE), 3);
	assert_int_equal(sink__failed(s, NULL), 0);	/* goes on */
	fail_writes = false;
	put_n(s, 3, 2, 1);				/* retried: writes again */
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(whole_lines(c.output_file, NULL, NULL), 2);
	sink_config__free(&c);
}

static void test_write_error_critical(void **state)
{
	struct sink_config c;
	const char *why;
	struct sink *s;

	cfg_for(&c, "c.log");
	s = make(&c);
	fail_writes = true;
	put_n(s, 0, 1, 1);
	assert_int_equal(sink__flush(s), -ENOSPC);
	assert_int_equal(sink__failed(s, &why), -ENOSPC);
	assert_non_null(strstr(why, "No space left on device"));
	assert_non_null(strstr(why, c.output_file));
	fail_writes = false;
	assert_int_equal(sink__close(s), -ENOSPC);
	sink_config__free(&c);
}

static void test_batched_idle_synced(void **state)
{
	struct sink_config c;
	struct sink *s;

	cfg_for(&c, "b.log");
	c.flush_mode = FLUSH_BATCHED;
	c.batch_interval_ms = 20;
	s = make(&c);
	put_n(s, 0, 5, 1);
	/* no flush asked: the writer's own timer syncs the idle log */
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(whole_lines(c.output_file, NULL, NULL), 5);
	sink_config__free(&c);
}

static void test_hybrid_critical_first(void **state)
{
	struct sink_config c;
	char buf[256];
	struct sink *s;
	int n, calls;

	cfg_for(&c, "h.log");
	c.flush_mode = FLUSH_HYBRID;
	c.batch_size = 1000;
	s = make(&c);
	assert_int_equal(sink__flush(s), 0);
	calls = writev_calls;
	n = snprintf(buf, sizeof(buf), "{\"crit\":1}\n{\"after\":1}\n");
	/* the first record is critical: written and synced on its own */
	assert_int_equal(sink__put(s, buf, n, 2, 11), 0);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(writev_calls - calls, 2);
	assert_int_equal(sink__close(s), 0);
	sink_config__free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_no_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotate_record_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_early_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_critical_unset_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_records_in_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_noncritical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_critical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batched_idle_synced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hybrid_critical_first, setup, teardown),
	};

	return cmocka_run_group_tests_name("sink", tests, NULL, NULL);
}
