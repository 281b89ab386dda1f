// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rotation and background gzip. Renames happen under r->mu; a compression
 * job remembers the index of its file, which every later shift bumps, so the
 * compressor finds the file under its current name when it is done.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "log.h"
#include "logset.h"
#include "outpath.h"
#include "rotate.h"

struct gz_job {
	struct gz_job *next;
	int fd;				/* the rotated file, read-only */
	int dfd;			/* the log's directory, as checked at the rotation */
	uint32_t index;			/* FILE.index is its current name */
};

struct rotator {
	pthread_mutex_t mu;
	pthread_cond_t work;		/* compressor: a job or stop */
	pthread_cond_t idle;		/* waiters: the queue emptied */
	pthread_t thread;
	struct gz_job *jobs, *running;	/* queued jobs; the one being compressed */
	bool has_thread, stop;
	bool failing;			/* the last rotation failed (said once) */
	char *path, *base;
	const char *leaf;		/* the log's name in its directory (in path) */
	bool allow_shared;
	uint32_t backup_count;
	uint32_t max_age_days;
	bool compress;
	/* a follower's hold (rotator__hold_start); under mu */
	bool hold_on, held_open;
	uint32_t hold, hold_gen;
	uint64_t spool_limit, spool_lost_records, spool_lost_files;
	uint64_t held_off;		/* acknowledged offset in the held file (when open) */
};

/* Under mu: how many rotated files stay (backup_count, or up to the hold). */
static uint32_t keep_locked(const struct rotator *r)
{
	return r->hold_on && r->hold > r->backup_count ? r->hold : r->backup_count;
}

/* The name of FILE.k(.gz) in the log's directory. */
static void name_of(const struct rotator *r, uint32_t k, bool gz, char *buf, size_t n)
{
	logset__name(buf, n, r->leaf, k, gz);
}

/* How the log's directory and the files made in it are checked (outpath.h). */
static struct outpath_req dir_req(const struct rotator *r)
{
	return (struct outpath_req){
		.path = r->path,
		.base_directory = r->base,
		.mode = 0600,
		.gid = (gid_t)-1,
		.allow_shared_directory = r->allow_shared,
	};
}

/*
 * The log's directory, checked as the log's (owner, who may write it),
 * held as an fd: every name of one rotation is in that directory even if
 * a path above it is swapped meanwhile. -errno, logged.
 */
static int open_dir(const struct rotator *r)
{
	struct outpath_req req = dir_req(r);
	const char *leaf;
	char err[512];
	int dfd = outpath__open_dir(&req, &leaf, err, sizeof(err));

	if (dfd < 0)
		log_warn("rotated files of %s: %s", r->path, err);
	return dfd;
}

static void unlink_quiet(const struct rotator *r, int dfd, const char *name)
{
	if (unlinkat(dfd, name, 0) && errno != ENOENT)
		log_warn("cannot remove rotated audit log %s (beside %s): %s", name, r->path,
			 strerror(errno));
}

/* renameat never follows a symlink planted at either name: it moves names only. */
static void rename_quiet(const struct rotator *r, int dfd, const char *from, const char *to)
{
	if (renameat(dfd, from, dfd, to) && errno != ENOENT)
		log_warn("cannot rename rotated audit log %s to %s (beside %s): %s", from, to,
			 r->path, strerror(errno));
}

/* A regular file of ours at name (not a link, a FIFO or another user's file)? */
static bool ours(int dfd, const char *name, struct stat *st)
{
	return !fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st->st_mode) &&
	       st->st_uid == geteuid();
}

static void bump_jobs(struct gz_job *j)
{
	for (; j; j = j->next)
		j->index++;
}

/* Under mu: FILE.k(.gz) -> FILE.k+1(.gz); the one at backup_count goes. */
static void shift_locked(struct rotator *r, int dfd)
{
	char from[NAME_MAX + 1], to[NAME_MAX + 1];
	uint32_t k;
	int gz;

	uint32_t keep = keep_locked(r);

	for (gz = 0; gz < 2; gz++) {
		name_of(r, keep, gz, to, sizeof(to));
		unlink_quiet(r, dfd, to);
		for (k = keep; k > 1; k--) {
			name_of(r, k - 1, gz, from, sizeof(from));
			name_of(r, k, gz, to, sizeof(to));
			rename_quiet(r, dfd, from, to);
		}
	}
	bump_jobs(r->jobs);
	bump_jobs(r->running);
}

static int queue_job(struct rotator *r, int dfd)
{
	char name[NAME_MAX + 1], path[4200], err[512];
	struct gz_job *j = calloc(1, sizeof(*j));

	name_of(r, 1, false, name, sizeof(name));
	snprintf(path, sizeof(path), "%s.1", r->path);
	if (!j)
		return -ENOMEM;
	j->index = 1;
	j->fd = outpath__open_read(dfd, name, path, err, sizeof(err));
	j->dfd = j->fd < 0 ? -1 : fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	if (j->fd < 0 || j->dfd < 0) {
		log_warn("cannot compress rotated audit log %s: %s; it stays uncompressed", path,
			 j->fd < 0 ? err : strerror(errno));
		if (j->fd >= 0)
			close(j->fd);
		free(j);
		return -EIO;
	}
	j->next = r->jobs;	/* order does not matter: each job has its own file */
	r->jobs = j;
	pthread_cond_signal(&r->work);
	return 0;
}

/* Records (lines) in a rotated file after offset skip, plain or gzip. */
static uint64_t count_records(int dfd, const char *name, bool gz, uint64_t skip)
{
	char buf[65536];
	uint64_t n = 0;
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), got, i;
	gzFile z = fd >= 0 && gz ? gzdopen(fd, "rb") : NULL;

	if (fd < 0 || (z ? gzseek(z, skip, SEEK_SET) < 0 : lseek(fd, skip, SEEK_SET) < 0)) {
		if (z)
			gzclose(z);
		else if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((got = z ? gzread(z, buf, sizeof(buf)) : (int)read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < got; i++)
			n += buf[i] == '\n';
	if (z)
		gzclose(z);
	else
		close(fd);
	return n;
}

/* Under mu: bytes of FILE.k(.gz), 0 when absent; *gz says which one is there. */
static uint64_t size_of(const struct rotator *r, int dfd, uint32_t k, bool *gz)
{
	char name[NAME_MAX + 1];
	struct stat st;
	uint64_t n = 0;
	int g;

	for (g = 0; g < 2; g++) {
		name_of(r, k, g, name, sizeof(name));
		if (ours(dfd, name, &st)) {
			n += st.st_size;
			*gz = g;
		}
	}
	return n;
}

/*
 * Under mu: held files beyond backup_count take at most spool_limit bytes;
 * past that the oldest goes and its records are counted lost (but for the
 * one the follower has open: it ships that one from its fd).
 */
static void spool_locked(struct rotator *r, int dfd)
{
	char name[NAME_MAX + 1];
	uint64_t bytes = 0;
	uint32_t k;
	bool gz = false;
	int g;

	if (!r->hold_on)
		return;
	for (k = r->backup_count + 1; k <= r->hold; k++)
		bytes += size_of(r, dfd, k, &gz);
	while (r->hold > r->backup_count && bytes > r->spool_limit) {
		bytes -= size_of(r, dfd, r->hold, &gz);
		name_of(r, r->hold, gz, name, sizeof(name));
		r->spool_lost_records += count_records(dfd, name, gz,
						       r->held_open ? r->held_off : 0);
		for (g = 0; g < 2; g++) {
			name_of(r, r->hold, g, name, sizeof(name));
			unlink_quiet(r, dfd, name);
		}
		log_warn("forward spool of %s is over its limit (%llu bytes): removed %s.%u "
			 "before it was shipped; its records are counted lost", r->path,
			 (unsigned long long)r->spool_limit, r->path, r->hold);
		r->spool_lost_files++;
		r->held_open = false;
		r->hold--;
		r->hold_gen++;
	}
}

/* Under mu: FILE -> FILE.1 (or removed without backups), in the checked directory. */
static int rotate_locked(struct rotator *r, int dfd)
{
	char to[NAME_MAX + 1];

	if (r->hold_on && r->backup_count)
		r->hold++;	/* the file the follower reads moves one up with the rest */
	if (r->backup_count)
		shift_locked(r, dfd);
	name_of(r, 1, false, to, sizeof(to));
	if (!r->backup_count ? unlinkat(dfd, r->leaf, 0) : renameat(dfd, r->leaf, dfd, to)) {
		if (!r->failing)	/* once: the writer tries again at every batch */
			log_err("cannot rotate audit log %s: %s; writing on to it, check its "
				"directory", r->path, strerror(errno));
		r->failing = true;
		return -errno;
	}
	if (r->failing)
		log_info("audit log %s rotates again", r->path);
	r->failing = false;
	if (r->backup_count && r->compress)
		queue_job(r, dfd);
	spool_locked(r, dfd);
	return 0;
}

int rotator__rotate(struct rotator *r)
{
	int dfd, err;

	pthread_mutex_lock(&r->mu);
	dfd = open_dir(r);
	err = dfd < 0 ? dfd : rotate_locked(r, dfd);
	if (dfd >= 0)
		close(dfd);
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

/*
 * A new temporary file beside the log, created exclusively through
 * outpath: a name planted there is skipped, never written through. Its
 * name in the directory goes to tmp. fd or -errno (logged).
 */
static int create_tmp(struct rotator *r, int dfd, char *tmp, size_t n)
{
	struct outpath_req req = dir_req(r);
	char path[4200], err[512];
	uint32_t v;
	int fd = -EEXIST, i;

	req.how = OUTPATH_NEW;
	req.what = "compressed audit log";
	req.path = path;
	for (i = 0; i < 16 && fd == -EEXIST; i++) {
		if (getrandom(&v, sizeof(v), 0) != sizeof(v))
			v = (uint32_t)rand();
		snprintf(tmp, n, "%s.gz-tmp.%08x", r->leaf, v);
		snprintf(path, sizeof(path), "%s.gz-tmp.%08x", r->path, v);
		fd = outpath__openat(dfd, tmp, &req, err, sizeof(err));
	}
	if (fd < 0)
		log_warn("%s", err);
	return fd;
}

/* gzip j's file into a new temporary file beside the log; its name goes to tmp. */
static int gzip_to_tmp(struct rotator *r, struct gz_job *j, char *tmp, size_t n)
{
	char buf[65536];
	gzFile gz;
	ssize_t got;
	int out, err = 0;

	out = create_tmp(r, j->dfd, tmp, n);
	if (out < 0)
		return out;
	keep_mode(j->fd, out);
	gz = gzdopen(dup(out), "wb6");
	if (!gz) {
		err = -ENOMEM;
		goto out_close;
	}
	while ((got = read(j->fd, buf, sizeof(buf))) > 0) {
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
		unlinkat(j->dfd, tmp, 0);
	return err;
}

/* Put the compressed copy in place of FILE.index (wherever shifts moved it). */
static void finish_job(struct rotator *r, struct gz_job *j, const char *tmp)
{
	char plain[NAME_MAX + 1], gz[NAME_MAX + 1];

	name_of(r, j->index, false, plain, sizeof(plain));
	name_of(r, j->index, true, gz, sizeof(gz));
	if (j->index > keep_locked(r)) {
		unlink_quiet(r, j->dfd, tmp);	/* rotated away while we compressed */
	} else if (renameat(j->dfd, tmp, j->dfd, gz)) {
		log_warn("cannot rename %s to %s (beside %s): %s; %s stays uncompressed", tmp, gz,
			 r->path, strerror(errno), plain);
		unlink_quiet(r, j->dfd, tmp);
	} else {
		unlink_quiet(r, j->dfd, plain);
	}
}

static void run_job(struct rotator *r, struct gz_job *j)
{
	char tmp[NAME_MAX + 1];
	int err = gzip_to_tmp(r, j, tmp, sizeof(tmp));

	pthread_mutex_lock(&r->mu);
	if (err)
		log_warn("cannot compress rotated audit log %s.%u: %s; it stays uncompressed",
			 r->path, j->index, strerror(-err));
	else
		finish_job(r, j, tmp);
	r->running = NULL;
	pthread_mutex_unlock(&r->mu);
	close(j->fd);
	close(j->dfd);
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

struct rotator *rotator__new(const struct outpath_req *log, uint32_t backup_count,
			     bool compress, uint32_t max_age_days)
{
	struct rotator *r = calloc(1, sizeof(*r));
	const char *path = log->path;
	int err;

	if (!r || !(r->path = strdup(path)) ||
	    (log->base_directory && !(r->base = strdup(log->base_directory)))) {
		if (r)
			free(r->path);
		free(r);
		return NULL;
	}
	r->leaf = strrchr(r->path, '/') ? strrchr(r->path, '/') + 1 : r->path;
	r->allow_shared = log->allow_shared_directory;
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
	free(r->base);
	free(r);
}

/* Only regular files of ours go: a name planted beside the log is left alone. */
void rotator__prune_age(struct rotator *r)
{
	time_t cutoff = time(NULL) - (time_t)r->max_age_days * 86400;
	char name[NAME_MAX + 1];
	struct stat st;
	uint32_t k;
	int gz, dfd;

	if (!r->max_age_days)
		return;
	pthread_mutex_lock(&r->mu);
	dfd = open_dir(r);
	for (k = 1; dfd >= 0 && k <= r->backup_count; k++) {
		for (gz = 0; gz < 2; gz++) {
			name_of(r, k, gz, name, sizeof(name));
			if (r->hold_on && k >= r->hold && r->hold)
				continue;	/* not shipped yet */
			if (ours(dfd, name, &st) && st.st_mtime < cutoff)
				unlink_quiet(r, dfd, name);
		}
	}
	if (dfd >= 0)
		close(dfd);
	pthread_mutex_unlock(&r->mu);
}

/* Under mu: remove FILE.k or FILE.k.gz if it is ours; true when one went. */
static bool drop_locked(struct rotator *r, int dfd, uint32_t k)
{
	char name[NAME_MAX + 1];
	struct stat st;
	int gz;

	for (gz = 0; gz < 2; gz++) {
		name_of(r, k, gz, name, sizeof(name));
		if (ours(dfd, name, &st) && !unlinkat(dfd, name, 0)) {
			log_warn("removed rotated audit log %s (beside %s) to free disk space", name,
				 r->path);
			return true;
		}
	}
	return false;
}

void rotator__drop_oldest(struct rotator *r)
{
	uint32_t k;
	int dfd;

	pthread_mutex_lock(&r->mu);
	dfd = open_dir(r);
	for (k = r->backup_count; dfd >= 0 && k >= 1 && !drop_locked(r, dfd, k); k--)
		;
	if (dfd >= 0)
		close(dfd);
	pthread_mutex_unlock(&r->mu);
}

void rotator__hold_start(struct rotator *r, uint32_t hold, uint64_t spool_limit)
{
	pthread_mutex_lock(&r->mu);
	r->hold_on = true;
	r->hold = hold;
	r->spool_limit = spool_limit;
	pthread_mutex_unlock(&r->mu);
}

/* Under mu: open FILE.k (FILE for 0), else FILE.k.gz. */
static int open_index_locked(struct rotator *r, uint32_t k, bool *gz)
{
	char name[NAME_MAX + 1];
	int dfd = open_dir(r), fd = -ENOENT, g;

	if (dfd < 0)
		return dfd;
	for (g = 0; g < (k ? 2 : 1) && fd < 0; g++) {
		if (k)
			name_of(r, k, g, name, sizeof(name));
		else
			snprintf(name, sizeof(name), "%s", r->leaf);
		fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			fd = -errno;
		*gz = g;
	}
	close(dfd);
	return fd;
}

int rotator__open_index(struct rotator *r, uint32_t k, bool *gz)
{
	int fd;

	pthread_mutex_lock(&r->mu);
	fd = open_index_locked(r, k, gz);
	pthread_mutex_unlock(&r->mu);
	return fd;
}

int rotator__open_held(struct rotator *r, bool *gz, uint32_t *hold, uint32_t *gen)
{
	int fd;

	pthread_mutex_lock(&r->mu);
	fd = open_index_locked(r, r->hold, gz);
	r->held_open = fd >= 0;
	r->held_off = 0;
	*hold = r->hold;
	*gen = r->hold_gen;
	pthread_mutex_unlock(&r->mu);
	return fd;
}

void rotator__advance(struct rotator *r, uint32_t gen)
{
	char name[NAME_MAX + 1];
	uint32_t k;
	int dfd, g;

	pthread_mutex_lock(&r->mu);
	r->held_open = false;
	if (gen == r->hold_gen && r->hold) {
		r->hold--;
		r->hold_gen++;
	}
	/* shipped files beyond what the policy keeps go now */
	dfd = open_dir(r);
	for (k = keep_locked(r) + 1; dfd >= 0 && k <= r->hold + 1 + r->backup_count; k++)
		for (g = 0; g < 2; g++) {
			name_of(r, k, g, name, sizeof(name));
			unlink_quiet(r, dfd, name);
		}
	if (dfd >= 0)
		close(dfd);
	pthread_mutex_unlock(&r->mu);
}

void rotator__hold_state(struct rotator *r, uint32_t *hold, uint32_t *gen,
			 uint64_t *lost_records, uint64_t *lost_files)
{
	pthread_mutex_lock(&r->mu);
	*hold = r->hold;
	*gen = r->hold_gen;
	*lost_records = r->spool_lost_records;
	*lost_files = r->spool_lost_files;
	pthread_mutex_unlock(&r->mu);
}

const char *rotator__path(const struct rotator *r)
{
	return r->path;
}

void rotator__hold_offset(struct rotator *r, uint64_t off)
{
	pthread_mutex_lock(&r->mu);
	r->held_off = off;
	pthread_mutex_unlock(&r->mu);
}
