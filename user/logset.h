/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A rotated log set read line by line, oldest file first (LOG.N .. LOG.1
 * LOG, .gz or not): what `verify`, `search` and `report` read. The path "-"
 * is standard input (plain or gzip).
 */
#ifndef SOCKAUDIT_LOGSET_H
#define SOCKAUDIT_LOGSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <zlib.h>

/* What logset__open_input says of a FIFO, device or directory (errno). */
#define LOGSET_NOT_REGULAR EINVAL

struct logset_reader {
	char **paths;			/* oldest first */
	int n, cur;			/* cur starts at -1 (or at the file before start_file) */
	gzFile f;
	char *buf, *line;		/* buf: logset__init's read buffer */
	size_t len, pos, line_cap;
	uint64_t lineno, bytes;
	bool eof, has_nl;
	uint64_t off;			/* uncompressed offset after the last line returned */
	dev_t dev;			/* of the file being read */
	ino_t ino;
	int start_file;			/* open this file (index) at start_off, not at 0 */
	uint64_t start_off;
};

/* FILE.k or FILE.k.gz into buf: how rotation names the k-th older file. */
void logset__name(char *buf, size_t n, const char *log, unsigned k, bool gz);
/* The same, malloc'ed; NULL without memory. */
char *logset__name_alloc(const char *log, int k, bool gz);

/* Ready to read paths (not copied) from the first; 0 or -ENOMEM. */
int logset__init(struct logset_reader *r, char **paths, int n);
void logset__close(struct logset_reader *r);

/* A regular file opened for reading (never blocks on a FIFO); fd or -1 + errno. */
int logset__open_input(const char *path);
/* strerror, with LOGSET_NOT_REGULAR said as a planted file. */
const char *logset__input_error(int e);
gzFile logset__open_gz(const char *path);

/* The next line (no '\n'): 1, 0 at the end of the set, -errno (reported). */
int logset__next_line(struct logset_reader *r, const char **line, size_t *len, bool *first);
/* The same, a csv file's column header skipped. */
int logset__next_record(struct logset_reader *r, const char **line, size_t *len, bool *first);
const char *logset__cur_path(const struct logset_reader *r);

/* What logset__find found beside the log besides the files to read. */
struct logset_found {
	char *missing;		/* the first hole in the numbers */
	char *differ;		/* LOG.k whose LOG.k.gz holds other bytes */
	FILE *note;		/* where a note goes (NULL: stderr) */
};

/*
 * LOG.N .. LOG.1 then LOG into *out (*n of them). 0, -ENOENT when nothing
 * of the set exists, or -errno when a file cannot be looked at.
 */
int logset__find(const char *log, char ***out, int *n, struct logset_found *f);
void logset__free_paths(char **paths, int n);

#endif /* SOCKAUDIT_LOGSET_H */
