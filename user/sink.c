// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Output file with a writer thread. Two buffers: the producer appends to
 * `fill` under the lock; the writer swaps it with its empty `spare` and writes
 * outside the lock, so one write() carries everything queued since the last.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "sink.h"

struct sink {
	pthread_mutex_t mu;
	pthread_cond_t work;		/* writer: something to do */
	pthread_cond_t done;		/* flushers: written generation advanced */
	pthread_t thread;
	char *fill, *spare;
	size_t fill_len, fill_cap, spare_cap, max_bytes;
	uint64_t queued_gen;		/* bumped on every append */
	uint64_t synced_gen;		/* everything up to here is on disk */
	uint64_t dropped;
	bool sync_wanted;
	bool stop;
	int err;			/* first write error (-errno) */
	int fd;
	char *path;
};

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* Write one swapped batch; on error the batch is lost and the error kept. */
static void writer_batch(struct sink *s, char *buf, size_t len, bool sync)
{
	int err = write_all(s->fd, buf, len);

	if (!err && sync && fdatasync(s->fd))
		err = -errno;
	if (err) {
		pthread_mutex_lock(&s->mu);
		if (!s->err)
			log_err("cannot write audit log %s: %s", s->path, strerror(-err));
		if (!s->err)
			s->err = err;
		pthread_mutex_unlock(&s->mu);
	}
}

static void *writer_main(void *arg)
{
	struct sink *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		char *buf;
		size_t len;
		uint64_t gen;
		bool sync;

		while (!s->fill_len && !s->sync_wanted && !s->stop)
			pthread_cond_wait(&s->work, &s->mu);
		if (!s->fill_len && !s->sync_wanted && s->stop)
			break;
		buf = s->fill;
		len = s->fill_len;
		s->fill = s->spare;
		s->spare = buf;
		size_t cap = s->fill_cap;
		s->fill_cap = s->spare_cap;
		s->spare_cap = cap;
		s->fill_len = 0;
		gen = s->queued_gen;
		sync = s->sync_wanted;
		s->sync_wanted = false;
		pthread_mutex_unlock(&s->mu);

		writer_batch(s, buf, len, sync);

		pthread_mutex_lock(&s->mu);
		if (sync)
			s->synced_gen = gen;
		pthread_cond_broadcast(&s->done);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static int open_output(const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		      0600);

	if (fd < 0) {
		int err = -errno;

		log_err("cannot open audit log %s: %s; check the path and its directory",
			path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		log_err("audit log %s is not a regular file: give a path to a regular file", path);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int sink__open(struct sink **out, const char *path, size_t queue_bytes)
{
	struct sink *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->max_bytes = queue_bytes ? queue_bytes : SINK_DEFAULT_QUEUE_BYTES;
	s->path = strdup(path);
	s->fd = open_output(path);
	if (s->fd < 0 || !s->path) {
		err = s->fd < 0 ? s->fd : -ENOMEM;
		goto out_free;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->done, NULL);
	err = -pthread_create(&s->thread, NULL, writer_main, s);
	if (err) {
		log_err("cannot start the writer thread for %s: %s", path, strerror(-err));
		goto out_close;
	}
	*out = s;
	return 0;

out_close:
	close(s->fd);
out_free:
	free(s->path);
	free(s);
	return err;
}

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 65536;
	char *p;

	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

int sink__write(struct sink *s, const char *rec, size_t len)
{
	int err = 0;

	pthread_mutex_lock(&s->mu);
	if (s->fill_len + len > s->max_bytes ||
	    (s->fill_len + len > s->fill_cap && grow(&s->fill, &s->fill_cap, s->fill_len + len))) {
		s->dropped++;
		err = -ENOBUFS;
	} else {
		memcpy(s->fill + s->fill_len, rec, len);
		s->fill_len += len;
		s->queued_gen++;
		pthread_cond_signal(&s->work);
	}
	pthread_mutex_unlock(&s->mu);
	return err;
}

int sink__flush(struct sink *s)
{
	uint64_t gen;
	int err;

	pthread_mutex_lock(&s->mu);
	gen = s->queued_gen;
	s->sync_wanted = true;
	pthread_cond_signal(&s->work);
	while (s->synced_gen < gen || s->sync_wanted)
		pthread_cond_wait(&s->done, &s->mu);
	err = s->err;
	pthread_mutex_unlock(&s->mu);
	return err;
}

int sink__close(struct sink *s)
{
	int err;

	if (!s)
		return 0;
	sink__flush(s);
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	err = s->err;
	if (close(s->fd) && !err)
		err = -errno;
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	free(s->fill);
	free(s->spare);
	free(s->path);
	free(s);
	return err;
}

uint64_t sink__dropped(const struct sink *s)
{
	return __atomic_load_n(&s->dropped, __ATOMIC_RELAXED);
}

const char *sink__path(const struct sink *s)
{
	return s->path;
}
