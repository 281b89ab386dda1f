/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The files of one rotated audit log (LOG.k, LOG.k.gz ... LOG), read
 * line by line as one stream, and the one place rotated files are named.
 *
 * Usage:
 *	struct logset r;
 *	char *paths[] = { "audit.log.1.gz", "audit.log" };	(oldest first)
 *	if (logset__init(&r, paths, 2)) error;
 *	while ((e = logset__next_record(&r, &line, &len, &first)) > 0)
 *		... line is valid until the next call ...
 *	logset__close(&r);
 */
#ifndef SOCKAUDIT_LOGSET_H
#define SOCKAUDIT_LOGSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

struct logset {
	char **paths;			/* oldest first; the caller's */
	int n, cur;			/* cur: the file being read */
	gzFile f;
	char *buf, *line;
	size_t len, pos, line_cap;
	uint64_t lineno;		/* in the current file, from 1 */
	uint64_t bytes;			/* read so far, all files (uncompressed) */
	bool eof, has_nl;		/* has_nl: the last line had its '\n' (not a torn tail) */
};

/* FILE.k or FILE.k.gz into buf: how rotation names the k-th older file. */
void logset__name(char *buf, size_t n, const char *log, unsigned k, bool gz);
/* The same, malloc'ed; NULL without memory. */
char *logset__name_alloc(const char *log, int k, bool gz);

/* Read paths[0..n) in order. 0 or -ENOMEM. */
int logset__init(struct logset *r, char **paths, int n);
void logset__close(struct logset *r);

/*
 * The next line of the set (no '\n'); *first is set at each file's first
 * line. 1, 0 at the end of the set, -errno (said on stderr).
 */
int logset__next_line(struct logset *r, const char **line, size_t *len, bool *first);
/* The same, a csv file's column header (its unsealed first line) skipped. */
int logset__next_record(struct logset *r, const char **line, size_t *len, bool *first);
/* The file being read (the last one once the set is done). */
const char *logset__path(const struct logset *r);

/*
 * Open a file to read, never a FIFO or device a local user planted in a
 * log directory (open would block, or read forever): opened without
 * blocking, then taken only when it is a regular file. The fd, or -1 with
 * errno set (EINVAL for a file that is not regular).
 */
int logset__open_input(const char *path);
/* strerror, with the refusal of logset__open_input said as what it is. */
const char *logset__input_error(int e);
/* gzopen(path, "rb") through logset__open_input: plain files read as they are. */
gzFile logset__open_gz(const char *path);

#endif /* SOCKAUDIT_LOGSET_H */
