// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The files of one rotated audit log, read line by line (logset.h): the
 * verifier walks a whole set with it, the writer's crash recovery
 * (recover.c) the newest files. Plain and gzip files alike (zlib reads
 * both), a line handed out without a copy when it lies in one read.
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
#include "log.h"
#include "logset.h"

#define READ_CHUNK	(1u << 20)
#define MAX_LINE	(64u << 20)	/* no record is this long: max_message_length is 16 MiB */

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

int logset__init(struct logset *r, char **paths, int n)
{
	memset(r, 0, sizeof(*r));
	r->paths = paths;
	r->n = n;
	r->cur = -1;
	r->buf = malloc(READ_CHUNK);
	return r->buf ? 0 : -ENOMEM;
}

void logset__close(struct logset *r)
{
	if (r->f)
		gzclose(r->f);
	free(r->buf);
	free(r->line);
	r->f = NULL;
	r->buf = r->line = NULL;
}

#define EFTYPE_NOT_REGULAR EINVAL	/* what logset__open_input says of a non-regular file */

int logset__open_input(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), e;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st))
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EFTYPE_NOT_REGULAR;
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

const char *logset__input_error(int e)
{
	return e == EFTYPE_NOT_REGULAR ? "not a regular file (a FIFO, device, socket or "
		"directory planted there?)" : strerror(e);
}

gzFile logset__open_gz(const char *path)
{
	int fd = logset__open_input(path);
	gzFile f;

	if (fd < 0)
		return NULL;
	f = gzdopen(fd, "rb");
	if (!f)
		close(fd);
	return f;
}

static int open_next(struct logset *r)
{
	if (r->f)
		gzclose(r->f);
	r->f = NULL;
	if (++r->cur >= r->n)
		return 0;
	errno = 0;
	r->f = logset__open_gz(r->paths[r->cur]);
	if (!r->f) {
		log_err("cannot read %s: %s; check the path and "
			"permissions", r->paths[r->cur], logset__input_error(errno ? errno : EIO));
		return -EIO;
	}
	gzbuffer(r->f, 1u << 18);
	r->len = r->pos = 0;
	r->lineno = 0;
	r->eof = false;
	return 1;
}

static int fill(struct logset *r)
{
	int n = gzread(r->f, r->buf, READ_CHUNK);
	int zerr;

	if (n < 0) {
		log_err("cannot read %s: %s", r->paths[r->cur],
			gzerror(r->f, &zerr));
		return -EIO;
	}
	r->len = n;
	r->pos = 0;
	r->eof = n == 0;
	r->bytes += n;
	return 0;
}

static int append(struct logset *r, size_t *have, const char *p, size_t n)
{
	if (*have + n + 1 > r->line_cap) {
		size_t cap = r->line_cap ? r->line_cap : 4096;
		char *q;

		while (cap < *have + n + 1)
			cap *= 2;
		if (cap > MAX_LINE + 1 || !(q = realloc(r->line, cap))) {
			log_err("%s:%" PRIu64 ": a line longer than "
				"%u MiB; this is not a sockaudit log", r->paths[r->cur],
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
static int next_in_file(struct logset *r, const char **line, size_t *len)
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
	return 1;
}

/* The next line of the set; *first is set at the first line of each file. */
int logset__next_line(struct logset *r, const char **line, size_t *len, bool *first)
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
int logset__next_record(struct logset *r, const char **line, size_t *len, bool *first)
{
	int e = logset__next_line(r, line, len, first);

	if (e > 0 && *first && chain__is_header(*line, *len)) {
		e = logset__next_line(r, line, len, first);
		if (e > 0 && r->lineno == 2)
			*first = true;
	}
	return e;
}

const char *logset__path(const struct logset *r)
{
	return r->cur < r->n ? r->paths[r->cur] : r->paths[r->n - 1];
}

