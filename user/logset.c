// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading a rotated log set (LOG.N .. LOG.1 LOG, each plain or .gz) one
 * line at a time with bounded memory: one read buffer and one line. Shared
 * by `verify` and `search`/`report`, so they read the same files in the
 * same order and refuse the same planted FIFOs and devices.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "chain.h"
#include "logset.h"

#define READ_CHUNK	(1u << 20)
#define MAX_LINE	(64u << 20)	/* no record is this long: max_message_length is 16 MiB */
#define MAX_BACKUPS	1000		/* backup_count's upper bound */

/*
 * A file to read, never a FIFO or device a local user planted in a log
 * directory (open would block, or read forever): opened without blocking,
 * then taken only when it is a regular file. The fd, or -1 with errno set.
 */
int logset__open_input(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), e;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st))
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = LOGSET_NOT_REGULAR;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, O_RDONLY))	/* blocking reads again */
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* strerror, with the refusal of open_input said as what it is */
const char *logset__input_error(int e)
{
	return e == LOGSET_NOT_REGULAR ? "not a regular file (a FIFO, device, socket or "
		"directory planted there?)" : strerror(e);
}

/* A gzip reader over fd (plain data reads through as it is); fd closed on failure. */
static gzFile gz_from_fd(int fd)
{
	gzFile f;

	if (fd < 0)
		return NULL;
	f = gzdopen(fd, "rb");
	if (!f)
		close(fd);
	return f;
}

/* gzopen(path, "rb") through open_input: plain files are read through as they are. */
gzFile logset__open_gz(const char *path)
{
	return gz_from_fd(logset__open_input(path));
}

/* "-" is standard input (plain or gzip); anything else a regular file. */
static gzFile open_path(const char *path)
{
	return strcmp(path, "-") ? logset__open_gz(path) : gz_from_fd(dup(STDIN_FILENO));
}

/* Where the file starts to be read: its dev/inode noted, start_off sought. */
static int position(struct logset_reader *r)
{
	struct stat st;
	int fd = strcmp(r->paths[r->cur], "-") ? -1 : STDIN_FILENO;

	if (fd < 0 ? stat(r->paths[r->cur], &st) : fstat(fd, &st))
		return -errno;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->off = 0;
	if (r->cur != r->start_file || !r->start_off)
		return 0;
	if (gzseek(r->f, r->start_off, SEEK_SET) < 0)
		return -EIO;
	r->off = r->start_off;
	return 0;
}

static int open_next(struct logset_reader *r)
{
	if (r->f)
		gzclose(r->f);
	r->f = NULL;
	if (++r->cur >= r->n)
		return 0;
	errno = 0;
	r->f = open_path(r->paths[r->cur]);
	if (!r->f || position(r)) {
		fprintf(stderr, "sockaudit: error: cannot read %s: %s; check the path and "
			"permissions\n", r->paths[r->cur], logset__input_error(errno ? errno : EIO));
		return -EIO;
	}
	gzbuffer(r->f, 1u << 18);
	r->len = r->pos = 0;
	r->lineno = 0;
	r->eof = false;
	return 1;
}

static int fill(struct logset_reader *r)
{
	int n = gzread(r->f, r->buf, READ_CHUNK);
	int zerr;

	if (n < 0) {
		fprintf(stderr, "sockaudit: error: cannot read %s: %s\n", r->paths[r->cur],
			gzerror(r->f, &zerr));
		return -EIO;
	}
	r->len = n;
	r->pos = 0;
	r->eof = n == 0;
	r->bytes += n;
	return 0;
}

static int append(struct logset_reader *r, size_t *have, const char *p, size_t n)
{
	if (*have + n + 1 > r->line_cap) {
		size_t cap = r->line_cap ? r->line_cap : 4096;
		char *q;

		while (cap < *have + n + 1)
			cap *= 2;
		if (cap > MAX_LINE + 1 || !(q = realloc(r->line, cap))) {
			fprintf(stderr, "sockaudit: error: %s:%" PRIu64 ": a line longer than "
				"%u MiB; this is not a sockaudit log\n", r->paths[r->cur],
				r->lineno + 1, MAX_LINE >> 20);
			return -E2BIG;
		}
		r->line = q;
		r->line_cap = cap;
	}
	memcpy(r->line + *have, p, n);
	*have += n;
	return 0;
}

/* The next line of the current file: 1, 0 at its end, -errno. */
static int next_in_file(struct logset_reader *r, const char **line, size_t *len)
{
	size_t have = 0;
	char *nl;

	for (;;) {
		if (r->pos == r->len && (r->eof || fill(r) || r->eof)) {
			if (r->len && !r->eof)
				return -EIO;
			if (!have)
				return 0;
			r->has_nl = false;	/* a last line without '\n': a torn tail */
			break;
		}
		nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
		if (nl && !have) {	/* the common case: no copy */
			*line = r->buf + r->pos;
			*len = nl - *line;
			r->pos = nl - r->buf + 1;
			r->has_nl = true;
			r->lineno++;
			r->off += *len + 1;
			return 1;
		}
		if (append(r, &have, r->buf + r->pos, (nl ? nl : r->buf + r->len) - (r->buf + r->pos)))
			return -E2BIG;
		r->pos = nl ? (size_t)(nl - r->buf + 1) : r->len;
		if (nl) {
			r->has_nl = true;
			break;
		}
	}
	r->line[have] = '\0';
	*line = r->line;
	*len = have;
	r->lineno++;
	r->off += have + r->has_nl;
	return 1;
}

/* The next line of the set; *first is set at the first line of each file. */
int logset__next_line(struct logset_reader *r, const char **line, size_t *len, bool *first)
{
	int e;

	for (;;) {
		if (r->f) {
			e = next_in_file(r, line, len);
			if (e) {
				*first = r->lineno == 1;
				return e;
			}
		}
		e = open_next(r);
		if (e <= 0)
			return e;
	}
}

/*
 * The next record: a csv file's column header (its unsealed first line) is
 * skipped, and the line after it is then the file's first record.
 */
int logset__next_record(struct logset_reader *r, const char **line, size_t *len, bool *first)
{
	int e = logset__next_line(r, line, len, first);

	if (e > 0 && *first && chain__is_header(*line, *len)) {
		e = logset__next_line(r, line, len, first);
		if (e > 0 && r->lineno == 2)
			*first = true;
	}
	return e;
}

const char *logset__cur_path(const struct logset_reader *r)
{
	return r->cur < r->n ? r->paths[r->cur] : r->paths[r->n - 1];
}

/* ---- finding the files of a set ---- */

/* How rotation names the k-th older file (the one place it is said). */
void logset__name(char *buf, size_t n, const char *log, unsigned k, bool gz)
{
	snprintf(buf, n, "%s.%u%s", log, k, gz ? ".gz" : "");
}

char *logset__name_alloc(const char *log, int k, bool gz)
{
	char *p = NULL;

	if (asprintf(&p, "%s.%d%s", log, k, gz ? ".gz" : "") < 0)
		return NULL;
	return p;
}

/* 1 when path exists, 0 when it does not, -errno when that cannot be told (EACCES). */
static int exists(const char *path)
{
	if (!access(path, F_OK))
		return 1;
	return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
}

/* Do two files (each plain or gzip) hold the same bytes? 1, 0, or -errno (cannot read). */
static int same_content(const char *a, const char *b)
{
	gzFile fa = logset__open_gz(a), fb = logset__open_gz(b);
	int e = fa && fb ? 0 : -(errno ? errno : EIO);
	char *ba = malloc(1u << 16), *bb = malloc(1u << 16);
	bool same = !e && ba && bb;
	int na, nb;

	while (same) {
		na = gzread(fa, ba, 1u << 16);
		nb = gzread(fb, bb, 1u << 16);
		same = na == nb && na >= 0 && !memcmp(ba, bb, na > 0 ? na : 0);
		if (na <= 0)
			break;
	}
	if (fa)
		gzclose(fa);
	if (fb)
		gzclose(fb);
	if (!e && (!ba || !bb))
		e = -ENOMEM;
	free(ba);
	free(bb);
	return e ? e : same;
}

/*
 * LOG.k or LOG.k.gz. Both exist after a compression was interrupted
 * between writing the .gz and removing the plain file: then they hold the
 * same records and the plain one is read; if they differ, one was edited,
 * and f->differ names them. NULL when neither exists.
 */
static char *existing_rotated(const char *log, int k, struct logset_found *f, int *err)
{
	char *p = logset__name_alloc(log, k, false), *gz = logset__name_alloc(log, k, true);
	int ep = p ? exists(p) : -ENOMEM, eg = gz ? exists(gz) : -ENOMEM;

	if (ep < 0 || eg < 0) {
		*err = ep < 0 ? ep : eg;
		ep = eg = 0;
	}
	if (ep && eg) {
		int same = same_content(p, gz);

		if (same < 0) {
			*err = same;
		} else if (!same) {
			if (!f->differ)
				f->differ = strdup(p);
		} else {
			fprintf(f->note ? f->note : stderr, "note %s: %s.gz holds the same records (a compression was "
			       "interrupted); read once\n", p, p);
		}
	}
	if (ep) {
		free(gz);
		return p;
	}
	free(p);
	if (eg)
		return gz;
	free(gz);
	return NULL;
}

void logset__free_paths(char **paths, int n)
{
	while (n > 0)
		free(paths[--n]);
	free(paths);
}

/* The highest k with LOG.k or LOG.k.gz; 0 if none. -errno if one cannot be looked at. */
static int top_rotated(const char *log)
{
	int k, top = 0, e1, e2;
	char *p;

	for (k = 1; k <= MAX_BACKUPS; k++) {
		p = logset__name_alloc(log, k, false);
		e1 = p ? exists(p) : -ENOMEM;
		free(p);
		p = logset__name_alloc(log, k, true);
		e2 = p ? exists(p) : -ENOMEM;
		free(p);
		if (e1 < 0 || e2 < 0)
			return e1 < 0 ? e1 : e2;
		if (e1 || e2)
			top = k;
	}
	return top;
}

/*
 * LOG.N .. LOG.1 then LOG. A hole in the numbers is a deleted file:
 * f->missing gets its name. 0, -ENOENT when nothing of the set exists, or
 * -errno when a file or the directory cannot be looked at (EACCES).
 */
int logset__find(const char *log, char ***out, int *n, struct logset_found *f)
{
	int k, top = top_rotated(log), i = 0, e = 0, el;
	char **paths, *p;

	if (top < 0)
		return top;
	el = exists(log);
	if (el < 0)
		return el;
	if (!top && !el)
		return -ENOENT;
	paths = calloc(top + 1, sizeof(*paths));
	if (!paths)
		return -ENOMEM;
	for (k = top; k >= 1; k--) {
		p = existing_rotated(log, k, f, &e);
		if (!p && !f->missing)
			f->missing = logset__name_alloc(log, k, false);
		if (p)
			paths[i++] = p;
	}
	if (el)
		paths[i++] = strdup(log);
	else if (!f->missing)
		f->missing = strdup(log);
	*out = paths;
	*n = i;
	if (e)
		logset__free_paths(paths, i);
	return e;
}

int logset__init(struct logset_reader *r, char **paths, int n)
{
	memset(r, 0, sizeof(*r));
	r->paths = paths;
	r->n = n;
	r->cur = -1;
	r->start_file = -1;
	r->buf = malloc(READ_CHUNK);
	return r->buf ? 0 : -ENOMEM;
}

void logset__close(struct logset_reader *r)
{
	if (r->f)
		gzclose(r->f);
	r->f = NULL;
	free(r->buf);
	free(r->line);
	r->buf = r->line = NULL;
}
