// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The writer: group commit, batched timer, hybrid ordering, size rotation
 * without split records, shared files, early buffering and its overflow,
 * oversize records, a full queue, and write errors (writev wrapped to fail
 * with ENOSPC on demand) on critical and non-critical sinks. Hostile and
 * full environments: a log deleted, moved, replaced or swapped for a
 * symlink under the writer (reopened, recorded, the chain still verifies),
 * a second collector on the same log (refused by the lock, naming the pid),
 * space_left checked per batch (fstatvfs wrapped to report a nearly full
 * file system), and a stop that stays bounded while a writer is stuck
 * (fdatasync wrapped to block).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "chainfile.h"
#include "sink.h"
#include "verify.h"

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

/*
 * fstatvfs mock: with fake_avail set, the file system has that many bytes
 * free (4 KiB blocks); fstatvfs_calls counts the looks.
 */
static uint64_t fake_avail;
static int fstatvfs_calls;

int __real_fstatvfs(int fd, struct statvfs *v);
int __wrap_fstatvfs(int fd, struct statvfs *v)
{
	int e = __real_fstatvfs(fd, v);

	__atomic_add_fetch(&fstatvfs_calls, 1, __ATOMIC_RELAXED);
	if (!e && __atomic_load_n(&fake_avail, __ATOMIC_RELAXED)) {
		v->f_frsize = 4096;
		v->f_bavail = __atomic_load_n(&fake_avail, __ATOMIC_RELAXED) / 4096;
	}
	return e;
}

/*
 * fdatasync mock: block_sync 1 blocks until a signal interrupts the wait
 * (EINTR, as a blocking call on a FIFO or a slow NFS answer); block_sync 2
 * blocks and ignores signals (D state on a frozen file system) until the
 * test sets it back to 0.
 */
static int block_sync;
static int syncs_held;		/* fdatasync calls that have entered the block_sync 2 wait */

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd)
{
	int mode = __atomic_load_n(&block_sync, __ATOMIC_RELAXED);
	struct timespec ts = { .tv_nsec = 5000000 };

	if (mode == 1 && pause() < 0) {
		errno = EINTR;
		return -1;
	}
	if (mode == 2)
		__atomic_add_fetch(&syncs_held, 1, __ATOMIC_RELAXED);
	while (mode == 2 && (mode = __atomic_load_n(&block_sync, __ATOMIC_RELAXED)) == 2)
		while (nanosleep(&ts, NULL) && errno == EINTR)
			;
	return __real_fdatasync(fd);
}

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sa-sink.XXXXXX");
	assert_non_null(mkdtemp(dir));
	fail_writes = false;
	writev_calls = 0;
	fake_avail = 0;
	block_sync = 0;
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
		len = snprintf(rec, sizeof(rec), "{\"v\":1,\"seq\":0,\"type\":\"rec\",\"i\":%d,\"pad\":\"%*s\"}\n", i,
			       (int)pad, "");
		assert_int_equal(sink__put(s, rec, len, 1, 0), 0);
	}
}

/* n records in one put: the writer takes them in one batch. */
static void put_batch(struct sink *s, int from, int n)
{
	char buf[4096];
	int i, len = 0;

	for (i = from; i < from + n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "{\"v\":1,\"seq\":0,\"type\":\"rec\",\"i\":%d}\n", i);
	assert_int_equal(sink__put(s, buf, len, n, 0), 0);
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

/* A sink with flush_mode hybrid and a large batch_size, its setup written. */
static struct sink *hybrid_sink(struct sink_config *c, const char *name)
{
	struct sink *s;

	cfg_for(c, name);
	c->flush_mode = FLUSH_HYBRID;
	c->batch_size = 1000;
	s = make(c);
	assert_int_equal(sink__flush(s), 0);
	return s;
}

static void test_hybrid_critical_first(void **state)
{
	struct sink_config c;
	char buf[256];
	struct sink *s;
	int n, calls;

	s = hybrid_sink(&c, "h.log");
	calls = writev_calls;
	n = snprintf(buf, sizeof(buf), "{\"crit\":1}\n{\"after\":1}\n");
	/* the first record is critical: written and synced on its own */
	assert_int_equal(sink__put(s, buf, n, 2, 11), 0);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(writev_calls - calls, 2);
	assert_int_equal(sink__close(s), 0);
	sink_config__free(&c);
}

/* Close s: its file then holds want (the whole batch run, in order) in lines records. */
static void closed_holds(struct sink *s, struct sink_config *c, const char *want, int lines)
{
	size_t len;
	char *text;

	assert_int_equal(sink__close(s), 0);
	text = slurp(c->output_file, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, want));
	assert_int_equal(whole_lines(c->output_file, NULL, NULL), lines);
	free(text);
}

/*
 * Issue 15: the producer passes where its records end. Two batches of
 * three records, the second critical at its second record: the writer
 * cuts there (by the ends given, not by scanning), and the file holds
 * the six records in order.
 */
static void test_put_recs_boundaries(void **state)
{
	static const char a[] = "{\"r\":1}\n{\"r\":2}\n{\"r\":3}\n";
	static const char b[] = "{\"r\":4}\n{\"crit\":5}\n{\"r\":6}\n";
	const uint32_t end_a[] = { 8, 16, 24 }, end_b[] = { 8, 19, 27 };
	struct sink_config c;
	struct sink *s;
	int calls;

	s = hybrid_sink(&c, "r.log");
	calls = writev_calls;
	assert_int_equal(sink__put_recs(s, a, sizeof(a) - 1, end_a, 3, 0), 0);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(writev_calls - calls, 1);
	/* critical up to byte 19, the end of record 2: that many go, synced, then the rest */
	calls = writev_calls;
	assert_int_equal(sink__put_recs(s, b, sizeof(b) - 1, end_b, 3, 19), 0);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(writev_calls - calls, 2);
	closed_holds(s, &c, "{\"r\":1}\n{\"r\":2}\n{\"r\":3}\n{\"r\":4}\n{\"crit\":5}\n"
			"{\"r\":6}\n", 6);
	sink_config__free(&c);
}

/*
 * Batches queued while the writer is busy are taken whole (give: no copy;
 * the producer gets a written buffer back, or a new one of the same size) and written in
 * order in one cycle; with flush_mode hybrid the cut for the critical
 * record falls inside the middle batch: 4 writes for 3 batches.
 */
static void give_three(struct sink *s, char **buf, size_t *cap)
{
	char rec[64];
	int b, i;

	for (b = 0; b < 3; b++) {
		uint32_t end[4], len = 0;

		*buf = malloc(*cap = 64);	/* 56 bytes of records: held, not copied */
		assert_non_null(*buf);
		for (i = 0; i < 4; i++) {
			len += snprintf(rec, sizeof(rec), "{\"b\":%d,\"i\":%d}\n", b, i);
			memcpy(*buf + (len - strlen(rec)), rec, strlen(rec));
			end[i] = len;
		}
		/* the second batch is critical up to its second record */
		assert_int_equal(sink__give_recs(s, buf, cap, len, end, 4, b == 1 ? end[1] : 0), 0);
		/* none written while the writer holds its batch: a new buffer of the size given */
		assert_non_null(*buf);
		assert_int_equal(*cap, 64);
		free(*buf);
	}
}

static void test_give_batches_in_one_cycle(void **state)
{
	struct sink_config c;
	struct sink *s;
	char *buf;
	size_t cap;
	int calls, held;

	s = hybrid_sink(&c, "g.log");
	/* a critical record: the writer syncs it and blocks there */
	held = __atomic_load_n(&syncs_held, __ATOMIC_RELAXED);
	__atomic_store_n(&block_sync, 2, __ATOMIC_RELAXED);
	assert_int_equal(sink__put(s, "{\"first\":1}\n", 12, 1, 12), 0);
	while (__atomic_load_n(&syncs_held, __ATOMIC_RELAXED) == held)
		sched_yield();	/* until the writer is inside that sync */
	calls = writev_calls;
	give_three(s, &buf, &cap);
	__atomic_store_n(&block_sync, 0, __ATOMIC_RELAXED);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(writev_calls - calls, 4);
	closed_holds(s, &c, "{\"first\":1}\n{\"b\":0,\"i\":0}\n{\"b\":0,\"i\":1}\n"
			"{\"b\":0,\"i\":2}\n{\"b\":0,\"i\":3}\n{\"b\":1,\"i\":0}\n"
			"{\"b\":1,\"i\":1}\n{\"b\":1,\"i\":2}\n{\"b\":1,\"i\":3}\n"
			"{\"b\":2,\"i\":0}\n{\"b\":2,\"i\":1}\n{\"b\":2,\"i\":2}\n"
			"{\"b\":2,\"i\":3}\n", 13);
	sink_config__free(&c);
}

/* ---- the file leaves its path under the writer ---- */

/* The first line of path, in a static buffer. */
static const char *first_line(const char *path)
{
	static char line[4096];
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	return line;
}

static int count_in(const char *path, const char *what)
{
	size_t len;
	char *buf = slurp(path, &len), *p = buf;
	int n = 0;

	while ((p = strstr(p, what))) {
		n++;
		p += strlen(what);
	}
	free(buf);
	return n;
}

/* Deleted while open: the path is opened again, the records since the last look counted lost. */
static void test_reopen_after_unlink(void **state)
{
	struct sink_config c;
	struct sink *s;

	cfg_for(&c, "u.log");
	s = make(&c);
	put_batch(s, 0, 3);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(unlink(c.output_file), 0);
	put_n(s, 3, 2, 1);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(sink__lost(s, SINK_LOST_UNLINKED), 3);
	assert_int_equal(sink__close(s), 0);
	assert_non_null(strstr(first_line(c.output_file),
			       "\"type\":\"rotate\",\"reason\":\"unlinked\""));
	assert_non_null(strstr(first_line(c.output_file), "\"old_file_records\":3"));
	assert_int_equal(count_in(c.output_file, "\"type\":\"rec\""), 2);
	sink_config__free(&c);
}

/*
 * logrotate without SIGHUP: moved away (nothing lost, the records are in
 * the moved file), then replaced by a new file it created: each change is
 * noticed at the next batch and starts the file at the path with a rotate
 * record saying how.
 */
static void test_reopen_after_move_and_replace(void **state)
{
	struct sink_config c;
	char moved[160], made[160];
	struct sink *s;
	int fd;

	cfg_for(&c, "m.log");
	snprintf(moved, sizeof(moved), "%s.moved", c.output_file);
	snprintf(made, sizeof(made), "%s.new", c.output_file);
	s = make(&c);
	put_n(s, 0, 2, 1);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(rename(c.output_file, moved), 0);	/* moved: no file at the path */
	put_batch(s, 2, 3);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(count_in(moved, "\"type\":\"rec\""), 2);
	assert_non_null(strstr(first_line(c.output_file), "\"reason\":\"moved\""));
	/*
	 * moved and a new file created in its place, as logrotate's create
	 * does; in one step (an exchange of the two names), so the writer
	 * cannot look between the two
	 */
	fd = open(made, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(renameat2(AT_FDCWD, made, AT_FDCWD, c.output_file, RENAME_EXCHANGE), 0);
	assert_int_equal(rename(made, moved), 0);
	put_n(s, 5, 4, 1);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(sink__lost(s, SINK_LOST_UNLINKED), 0);
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(count_in(moved, "\"type\":\"rec\""), 3);
	assert_non_null(strstr(first_line(c.output_file),
			       "\"type\":\"rotate\",\"reason\":\"replaced\""));
	/* the lines written to it after the last look: its rotate record and records 2..4 */
	assert_non_null(strstr(first_line(c.output_file), "\"old_file_records\":4"));
	assert_int_equal(count_in(c.output_file, "\"type\":\"rec\""), 4);
	sink_config__free(&c);
}

/*
 * The path swapped for a symlink to a file the writer must not touch: the
 * symlink is refused (records counted lost, a non-critical sink goes on)
 * and the target is unchanged; once a regular file can be made there
 * again, writing resumes with a rotate record. A critical sink stops.
 */
static void test_reopen_refuses_symlink(void **state)
{
	struct sink_config c;
	char victim[160];
	const char *why;
	struct sink *s;
	struct stat st;
	int fd;

	cfg_for(&c, "sym.log");
	c.critical = false;
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_int_equal(write(fd, "root:x:0:0\n", 11), 11);
	close(fd);
	s = make(&c);
	put_n(s, 0, 2, 1);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(unlink(c.output_file), 0);
	assert_int_equal(symlink(victim, c.output_file), 0);
	put_n(s, 2, 3, 1);
	assert_int_equal(sink__flush(s), 0);
	put_n(s, 5, 1, 1);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(sink__lost(s, SINK_LOST_WRITE), 4);
	assert_int_equal(sink__failed(s, NULL), 0);
	assert_int_equal(unlink(c.output_file), 0);
	put_n(s, 6, 1, 1);
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_size, 11);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_non_null(strstr(first_line(c.output_file), "\"reason\":\"unlinked\""));
	assert_int_equal(count_in(c.output_file, "\"type\":\"rec\""), 1);
	sink_config__free(&c);

	cfg_for(&c, "symc.log");
	s = make(&c);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(unlink(c.output_file), 0);
	assert_int_equal(symlink(victim, c.output_file), 0);
	put_n(s, 0, 1, 1);
	assert_int_not_equal(sink__flush(s), 0);
	assert_int_not_equal(sink__failed(s, &why), 0);
	assert_non_null(strstr(why, "symlink"));
	sink__close(s);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_size, 11);
	sink_config__free(&c);
}

/* Run `verify ARGS` with its output on /dev/null; its exit status. */
static int verify_quiet(char *log, char *key)
{
	char *argv[] = { "verify", "--key", key, log, NULL };
	int saved = dup(1), null = open("/dev/null", O_WRONLY), rc;

	fflush(stdout);
	dup2(null, 1);
	rc = verify__main(4, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(null);
	return rc;
}

/*
 * With the integrity chain, a file moved away to LOG.1 under the writer (a
 * logrotate without SIGHUP) is followed by a new LOG whose rotate record
 * continues the chain: verify passes over LOG.1 and LOG.
 */
static void test_reopen_keeps_chain(void **state)
{
	char key[128], moved[160], err[512];
	struct sink_config c;
	struct sink *s;

	snprintf(key, sizeof(key), "%s/key", dir);
	assert_int_equal(chainfile__keygen(key, err, sizeof(err)), 0);
	cfg_for(&c, "chain.log");
	c.integrity.key_file = strdup(key);
	c.backup_count = 5;
	snprintf(moved, sizeof(moved), "%s.1", c.output_file);
	s = make(&c);
	put_n(s, 0, 5, 1);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(rename(c.output_file, moved), 0);
	put_n(s, 5, 5, 1);
	assert_int_equal(sink__close(s), 0);
	assert_non_null(strstr(first_line(c.output_file), "\"reason\":\"moved\""));
	assert_non_null(strstr(first_line(c.output_file), "\"chain_seq\":"));
	assert_int_equal(verify_quiet(c.output_file, key), VERIFY_OK);
	sink_config__free(&c);
}

/* ---- one writer per log ---- */

static char *self_exe;

/*
 * In another process (this binary run again: a fork would inherit the
 * registry of open writers and share the first one): try to open path's
 * sink; the error (or how it is) into fd.
 */
static void child_open(const char *path, bool critical, int fd)
{
	struct sink_config c;
	struct sink *s = NULL;
	char err[512] = "ok";
	int e;

	sink_config__defaults(&c);
	c.output_file = strdup(path);
	c.critical = critical;
	e = sink__create(&s, &c, 0, err, sizeof(err));
	if (!e && !critical)
		snprintf(err, sizeof(err), "%s", sink__is_set_up(s) ? "set up" : "waiting");
	if (write(fd, err, strlen(err) + 1) < 0)
		_exit(2);
	_exit(e ? 1 : 0);
}

static int other_process_opens(const char *path, bool critical, char *msg, size_t n)
{
	int p[2], status;
	ssize_t got;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		char fd[16];

		snprintf(fd, sizeof(fd), "%d", p[1]);
		execl(self_exe, self_exe, "--open-other", path, critical ? "1" : "0", fd, NULL);
		_exit(127);
	}
	close(p[1]);
	got = read(p[0], msg, n - 1);
	msg[got > 0 ? got : 0] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WEXITSTATUS(status);
}

/*
 * A second collector on the same log is refused, naming the pid that holds
 * it, before it wrote a byte; the lock outlives a rotation; a non-critical
 * second sink waits (buffers) instead of writing.
 */
static void test_lock_refuses_second_writer(void **state)
{
	struct sink_config c;
	char msg[512], pid[32];
	struct stat before, after;
	struct sink *s;

	cfg_for(&c, "l.log");
	s = make(&c);
	put_n(s, 0, 3, 1);
	assert_int_equal(sink__flush(s), 0);
	stat(c.output_file, &before);
	assert_int_equal(other_process_opens(c.output_file, true, msg, sizeof(msg)), 1);
	snprintf(pid, sizeof(pid), "pid %d", (int)getpid());
	assert_non_null(strstr(msg, c.output_file));
	assert_non_null(strstr(msg, pid));
	assert_non_null(strstr(msg, "another collector"));
	stat(c.output_file, &after);
	assert_int_equal(after.st_size, before.st_size);
	sink__rotate(s);
	put_n(s, 3, 1, 1);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(other_process_opens(c.output_file, true, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, pid));
	assert_int_equal(other_process_opens(c.output_file, false, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "waiting");
	assert_int_equal(sink__close(s), 0);
	/* once the first writer is gone, the log can be taken */
	assert_int_equal(other_process_opens(c.output_file, true, msg, sizeof(msg)), 0);
	sink_config__free(&c);
}

/* ---- space_left ---- */

/* stderr into a file while fn runs; how many times what was written there. */
static int stderr_count(void (*fn)(void *), void *arg, const char *what)
{
	char path[128];
	int saved, fd, n;

	snprintf(path, sizeof(path), "%s/stderr", dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	n = count_in(path, what);
	return n;
}

struct space_run {
	struct sink_config c;
	struct sink *s;
};

/* Ten batches with 1 MiB free, then space back, then short again. */
static void low_space_batches(void *arg)
{
	struct space_run *r = arg;
	int i;

	fake_avail = 1 << 20;
	for (i = 0; i < 10; i++) {
		put_n(r->s, i, 1, 1);
		assert_int_equal(sink__flush(r->s), 0);
	}
	fake_avail = 100 << 20;
	put_n(r->s, 10, 1, 1);
	assert_int_equal(sink__flush(r->s), 0);
	fake_avail = 1 << 20;
	put_n(r->s, 11, 1, 1);
	assert_int_equal(sink__flush(r->s), 0);
}

/* warn: one warning each time space runs short, not one per batch or second. */
static void test_space_warn_once(void **state)
{
	struct space_run r;

	cfg_for(&r.c, "sw.log");
	r.c.space_left = 2 << 20;
	r.c.space_left_action = SPACE_WARN;
	r.s = make(&r.c);
	assert_int_equal(stderr_count(low_space_batches, &r, "below space_left_mb 2"), 2);
	assert_int_equal(sink__failed(r.s, NULL), 0);
	assert_int_equal(sink__close(r.s), 0);
	assert_int_equal(count_in(r.c.output_file, "\"type\":\"rec\""), 12);
	sink_config__free(&r.c);
}

/*
 * exit on a non-critical sink: the collector is asked to stop (sink__failed),
 * with a reason naming space_left and not calling the sink critical.
 */
static void test_space_exit_noncritical(void **state)
{
	struct sink_config c;
	const char *why;
	struct sink *s;

	cfg_for(&c, "se.log");
	c.critical = false;
	c.space_left = 2 << 20;
	c.space_left_action = SPACE_EXIT;
	s = make(&c);
	put_n(s, 0, 1, 1);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(sink__failed(s, NULL), 0);
	fake_avail = 1 << 20;
	put_n(s, 1, 1, 1);
	sink__flush(s);
	assert_int_equal(sink__failed(s, &why), -ENOSPC);
	assert_non_null(strstr(why, "space_left_mb reached"));
	assert_non_null(strstr(why, c.output_file));
	assert_null(strstr(why, "critical"));
	/* the collector's last records still go in: there is space, only less than asked */
	put_n(s, 2, 1, 1);
	sink__close(s);
	assert_int_equal(count_in(c.output_file, "\"type\":\"rec\""), 3);
	sink_config__free(&c);
}

/*
 * The check is on the write path: a batch that would bring free space below
 * space_left_mb triggers the action before it is written (suspend: counted,
 * not written), although the last look, one batch earlier, found enough.
 */
static void test_space_checked_per_batch(void **state)
{
	struct sink_config c;
	char big[8192];
	struct sink *s;
	int calls;

	cfg_for(&c, "sb.log");
	c.space_left = 2 << 20;
	c.space_left_action = SPACE_SUSPEND;
	s = make(&c);
	fake_avail = (2 << 20) + 4096;	/* room for a small batch above the line, not 8 KiB */
	put_n(s, 0, 1, 1);
	assert_int_equal(sink__flush(s), 0);
	calls = fstatvfs_calls;
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	assert_int_equal(sink__put(s, big, sizeof(big), 1, 0), 0);
	assert_int_equal(sink__flush(s), 0);
	assert_true(fstatvfs_calls > calls);
	assert_int_equal(sink__lost(s, SINK_LOST_SUSPEND), 1);
	fake_avail = 100 << 20;
	put_n(s, 1, 1, 1);
	assert_int_equal(sink__close(s), 0);
	assert_int_equal(count_in(c.output_file, "\"type\":\"rec\""), 2);
	assert_int_equal(count_in(c.output_file, "xxxx"), 0);
	sink_config__free(&c);
}

/* ---- a bounded stop ---- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* A writer blocked in an interruptible call is kicked out of it: the stop ends. */
static void test_stop_kicks_blocked_writer(void **state)
{
	struct sink_config c;
	struct sink *s;
	uint64_t t0;

	cfg_for(&c, "k.log");
	c.critical = false;
	s = make(&c);
	block_sync = 1;
	put_n(s, 0, 1, 1);	/* the writer blocks in fdatasync */
	while (!count_in(c.output_file, "\"type\":\"rec\""))
		usleep(1000);
	t0 = mono_ms();
	sink__close(s);
	assert_true(mono_ms() - t0 < 3000);
	sink_config__free(&c);
}

/*
 * A FIFO planted at the anchor's name between two checkpoints (issue 12's
 * hang: the writer blocked in open() for an hour): whether the open
 * refuses it or blocks, closing the sink ends within a bound, and the log
 * keeps its records.
 */
static void test_stop_bounded_fifo_anchor(void **state)
{
	char key[128], err[512], anchor[160];
	struct sink_config c;
	struct sink *s;
	uint64_t t0;

	snprintf(key, sizeof(key), "%s/key", dir);
	assert_int_equal(chainfile__keygen(key, err, sizeof(err)), 0);
	cfg_for(&c, "fifo.log");
	c.integrity.key_file = strdup(key);
	c.integrity.checkpoint_every = 2;
	snprintf(anchor, sizeof(anchor), "%s.anchor", c.output_file);
	s = make(&c);
	put_batch(s, 0, 2);
	assert_int_equal(sink__flush(s), 0);
	assert_int_equal(unlink(anchor), 0);
	assert_int_equal(mkfifo(anchor, 0666), 0);
	put_batch(s, 2, 2);	/* the next checkpoint appends to the anchor */
	t0 = mono_ms();
	sink__close(s);
	assert_true(mono_ms() - t0 < 3000);
	assert_int_equal(count_in(c.output_file, "\"type\":\"rec\""), 4);
	sink_config__free(&c);
}

/*
 * An anchor that cannot be written (a symlink planted at its name): a
 * critical sink stops the collector naming the anchor; the log is never
 * written through the link's target.
 */
static void test_anchor_refused_stops_critical(void **state)
{
	char key[128], err[512], anchor[160], victim[160];
	const char *why = NULL;
	struct sink_config c;
	struct sink *s;

	snprintf(key, sizeof(key), "%s/key", dir);
	assert_int_equal(chainfile__keygen(key, err, sizeof(err)), 0);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	assert_int_equal(close(open(victim, O_WRONLY | O_CREAT, 0644)), 0);
	cfg_for(&c, "ca.log");
	c.critical = true;
	c.integrity.key_file = strdup(key);
	c.integrity.checkpoint_every = 2;
	snprintf(anchor, sizeof(anchor), "%s.anchor", c.output_file);
	assert_int_equal(symlink(victim, anchor), 0);
	s = make(&c);
	assert_int_equal(sink__failed(s, &why), 0);
	put_batch(s, 0, 2);	/* the first checkpoint appends to the anchor */
	sink__flush(s);
	assert_int_not_equal(sink__failed(s, &why), 0);
	assert_non_null(strstr(why, "critical audit log"));
	assert_non_null(strstr(why, anchor));
	assert_int_equal(count_in(victim, "chain"), 0);
	sink__close(s);
	sink_config__free(&c);
}

/*
 * A writer stuck where no signal reaches it (a frozen file system): the stop
 * leaves it behind within a bound, counting what it still held.
 */
static void test_stop_leaves_stuck_writer(void **state)
{
	struct sink_config c;
	struct sink *s;
	uint64_t t0;

	cfg_for(&c, "st.log");
	s = make(&c);
	block_sync = 2;
	put_n(s, 0, 1, 1);
	while (!count_in(c.output_file, "\"type\":\"rec\""))
		usleep(1000);
	put_n(s, 1, 4, 1);	/* queued behind the stuck sync */
	t0 = mono_ms();
	assert_int_equal(sink__close(s), -EIO);
	assert_true(mono_ms() - t0 < 3000);
	assert_int_equal(sink__lost(s, SINK_LOST_STUCK), 4);
	block_sync = 0;		/* let the thread finish before the test's directory goes */
	while (count_in(c.output_file, "\"type\":\"rec\"") < 5)
		usleep(1000);
	sink_config__free(&c);
}

int main(int argc, char **argv)
{
	self_exe = argv[0];
	if (argc == 5 && !strcmp(argv[1], "--open-other"))
		child_open(argv[2], argv[3][0] == '1', atoi(argv[4]));
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
		cmocka_unit_test_setup_teardown(test_give_batches_in_one_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_recs_boundaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_unlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_move_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_refuses_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_refuses_second_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_space_warn_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_space_exit_noncritical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_space_checked_per_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_kicks_blocked_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_leaves_stuck_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_bounded_fifo_anchor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anchor_refused_stops_critical, setup, teardown),
	};

	return cmocka_run_group_tests_name("sink", tests, NULL, NULL);
}
