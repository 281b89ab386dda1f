// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rotation and background gzip. Renames happen under r->mu; a compression
 * job remembers the index of its file, which every later shift bumps, so the
 * compressor finds the file under its current name when it is done.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "log.h"
#include "rotate.h"

struct gz_job {
	struct gz_job *next;
	int fd;				/* the rotated file, read-only */
	uint32_t index;			/* FILE.index is its current name */
};

struct rotator {
	pthread_mutex_t mu;
	pthread_cond_t work;		/* compressor: a job or stop */
	pthread_cond_t idle;		/* waiters: the queue emptied */
	pthread_t thread;
	struct gz_job *jobs, *running;	/* queued jobs; the one being compressed */
	bool has_thread, stop;
	char *path;
	uint32_t backup_count;
	uint32_t max_age_days;
	bool compress;
};

static void name_of(const struct rotator *r, uint32_t k, bool gz, char *buf, size_t n)
{
	snprintf(buf, n, "%s.%u%s", r->path, k, gz ? ".gz" : "");
}

static void unlink_quiet(const char *p)
{
	if (unlink(p) && errno != ENOENT)
		log_warn("cannot remove rotated audit log %s: %s", p, strerror(errno));
}

static void rename_quiet(const char *from, const char *to)
{
	if (rename(from, to) && errno != ENOENT)
		log_warn("cannot rename rotated audit log %s to %s: %s", from, to,
			 strerror(errno));
}

static void bump_jobs(struct gz_job *j)
{
	for (; j; j = j->next)
		j->index++;
}

/* Under mu: FILE.k(.gz) -> FILE.k+1(.gz); the one at backup_count goes. */
static void shift_locked(struct rotator *r)
{
	char from[4096], to[4096];
	uint32_t k;
	int gz;

	for (gz = 0; gz < 2; gz++) {
		name_of(r, r->backup_count, gz, to, sizeof(to));
		unlink_quiet(to);
		for (k = r->backup_count; k > 1; k--) {
			name_of(r, k - 1, gz, from, sizeof(from));
			name_of(r, k, gz, to, sizeof(to));
			rename_quiet(from, to);
		}
	}
	bump_jobs(r->jobs);
	bump_jobs(r->running);
}

static int queue_job(struct rotator *r)
{
	char name[4096];
	struct gz_job *j = calloc(1, sizeof(*j));

	name_of(r, 1, false, name, sizeof(name));
	if (!j)
		return -ENOMEM;
	j->index = 1;
	j->fd = open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (j->fd < 0) {
		log_warn("cannot open rotated audit log %s to compress it: %s; it stays "
			 "uncompressed", name, strerror(errno));
		free(j);
		return -errno;
	}
	j->next = r->jobs;	/* order does not matter: each job has its own file */
	r->jobs = j;
	pthread_cond_signal(&r->work);
	return 0;
}

int rotator__rotate(struct rotator *r)
{
	char to[4096];
	int err = 0;

	pthread_mutex_lock(&r->mu);
	if (r->backup_count)
		shift_locked(r);
	name_of(r, 1, false, to, sizeof(to));
	if (!r->backup_count ? unlink(r->path) : rename(r->path, to)) {
		err = -errno;
		log_err("cannot rotate audit log %s: %s; check its directory", r->path,
			strerror(errno));
	} else if (r->backup_count && r->compress) {
		queue_job(r);
	}
	pthread_mutex_unlock(&r->mu);
	rotator__prune_age(r);
	return err;
}

/*
 * The compressed file gets the mode and group of the file it replaces
 * (file_mode, log_group), never more: 0600 when that cannot be read.
 */
static void keep_mode(int in, int out)
{
	struct stat st;

	if (fstat(in, &st)) {
		fchmod(out, 0600);
		return;
	}
	if (fchown(out, (uid_t)-1, st.st_gid))
		st.st_mode &= ~(mode_t)0077;	/* without the group, no group bits */
	fchmod(out, st.st_mode & 0640);
}

/* gzip fd into a new temporary file beside the log; its name goes to tmp. */
static int gzip_to_tmp(struct rotator *r, int in, char *tmp, size_t n)
{
	char buf[65536];
	gzFile gz;
	ssize_t got;
	int out, err = 0;

	snprintf(tmp, n, "%s.gz-tmp.XXXXXX", r->path);
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0)
		return -errno;
	keep_mode(in, out);
	gz = gzdopen(dup(out), "wb6");
	if (!gz) {
		err = -ENOMEM;
		goto out_close;
	}
	while ((got = read(in, buf, sizeof(buf))) > 0) {
		if (gzwrite(gz, buf, got) != got) {
			err = -EIO;
			break;
		}
	}
	if (got < 0)
		err = -errno;
	if (gzclose(gz) != Z_OK && !err)
		err = -EIO;
	if (!err && fsync(out))
		err = -errno;
out_close:
	close(out);
	if (err)
		unlink(tmp);
	return err;
}

/* Put the compressed copy in place of FILE.index (wherever shifts moved it). */
static void finish_job(struct rotator *r, struct gz_job *j, const char *tmp)
{
	char plain[4096], gz[4096];

	name_of(r, j->index, false, plain, sizeof(plain));
	name_of(r, j->index, true, gz, sizeof(gz));
	if (j->index > r->backup_count) {
		unlink_quiet(tmp);	/* rotated away while we compressed */
	} else if (rename(tmp, gz)) {
		log_warn("cannot rename %s to %s: %s; %s stays uncompressed", tmp, gz,
			 strerror(errno), plain);
		unlink_quiet(tmp);
	} else {
		unlink_quiet(plain);
	}
}

static void run_job(struct rotator *r, struct gz_job *j)
{
	char tmp[4200];
	int err = gzip_to_tmp(r, j->fd, tmp, sizeof(tmp));

	pthread_mutex_lock(&r->mu);
	if (err)
		log_warn("cannot compress rotated audit log %s.%u: %s; it stays uncompressed",
			 r->path, j->index, strerror(-err));
	else
		finish_job(r, j, tmp);
	r->running = NULL;
	pthread_mutex_unlock(&r->mu);
	close(j->fd);
	free(j);
}

static void *compressor_main(void *arg)
{
	struct rotator *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct gz_job *j;

		pthread_cond_broadcast(&r->idle);
		while (!r->jobs && !r->stop)
			pthread_cond_wait(&r->work, &r->mu);
		if (!r->jobs)
			break;
		j = r->jobs;
		r->jobs = j->next;
		j->next = NULL;
		r->running = j;
		pthread_mutex_unlock(&r->mu);
		run_job(r, j);
		pthread_mutex_lock(&r->mu);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

struct rotator *rotator__new(const char *path, uint32_t backup_count, bool compress,
			     uint32_t max_age_days)
{
	struct rotator *r = calloc(1, sizeof(*r));
	int err;

	if (!r || !(r->path = strdup(path))) {
		free(r);
		return NULL;
	}
	r->backup_count = backup_count;
	r->compress = compress;
	r->max_age_days = max_age_days;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->work, NULL);
	pthread_cond_init(&r->idle, NULL);
	if (compress && backup_count) {
		err = pthread_create(&r->thread, NULL, compressor_main, r);
		if (err) {
			log_err("cannot start the compressor thread for %s: %s", path,
				strerror(err));
			rotator__free(r);
			return NULL;
		}
		r->has_thread = true;
	}
	return r;
}

void rotator__wait_idle(struct rotator *r)
{
	pthread_mutex_lock(&r->mu);
	while (r->has_thread && (r->jobs || r->running))
		pthread_cond_wait(&r->idle, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

void rotator__free(struct rotator *r)
{
	if (!r)
		return;
	if (r->has_thread) {
		pthread_mutex_lock(&r->mu);
		r->stop = true;	/* the thread finishes the queue first */
		pthread_cond_signal(&r->work);
		pthread_mutex_unlock(&r->mu);
		pthread_join(r->thread, NULL);
	}
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->idle);
	free(r->path);
	free(r);
}

void rotator__prune_age(struct rotator *r)
{
	time_t cutoff = time(NULL) - (time_t)r->max_age_days * 86400;
	char name[4096];
	struct stat st;
	uint32_t k;
	int gz;

	if (!r->max_age_days)
		return;
	pthread_mutex_lock(&r->mu);
	for (k = 1; k <= r->backup_count; k++) {
		for (gz = 0; gz < 2; gz++) {
			name_of(r, k, gz, name, sizeof(name));
			if (!lstat(name, &st) && S_ISREG(st.st_mode) && st.st_mtime < cutoff)
				unlink_quiet(name);
		}
	}
	pthread_mutex_unlock(&r->mu);
}

/* Under mu: remove FILE.k or FILE.k.gz; true when one was there. */
static bool drop_locked(struct rotator *r, uint32_t k)
{
	char name[4096];
	int gz;

	for (gz = 0; gz < 2; gz++) {
		name_of(r, k, gz, name, sizeof(name));
		if (!unlink(name)) {
			log_warn("removed rotated audit log %s to free disk space", name);
			return true;
		}
	}
	return false;
}

void rotator__drop_oldest(struct rotator *r)
{
	uint32_t k;

	pthread_mutex_lock(&r->mu);
	for (k = r->backup_count; k >= 1 && !drop_locked(r, k); k--)
		;
	pthread_mutex_unlock(&r->mu);
}
