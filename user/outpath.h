/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Output path safety: the one way the collector opens a file it writes
 * (the log, rotated names and their gzip copies, the anchor, the chain
 * state and its temporary). An audit log must land where the operator said
 * and nowhere else: `~` is the only expansion, relative paths stay beneath
 * base_directory (no `..`, no symlink anywhere), the parent directory is
 * checked (owner, who else may write there, not a system directory), and
 * the file is checked on the opened descriptor, so nothing can be swapped
 * between check and use. Nothing here blocks: a FIFO is opened O_NONBLOCK.
 */
#ifndef SOCKAUDIT_OUTPATH_H
#define SOCKAUDIT_OUTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Expand a leading `~` or `~/` (the caller's home from the password
 * database, not $HOME). A `$` anywhere is an error: environment variables
 * are never expanded. 0 with *out malloc'ed, or -EINVAL/-ENOMEM + err.
 */
int outpath__expand(const char *in, char **out, char *err, size_t errlen);

enum outpath_how {
	OUTPATH_APPEND = 0,	/* open for appending, created (exclusively) when missing */
	OUTPATH_NEW,		/* created exclusively: an existing name is refused */
};

struct outpath_req {
	const char *path;		/* the file, already expanded */
	const char *base_directory;	/* NULL: none */
	const char *what;		/* names it in messages; NULL: "audit log" */
	/*
	 * The sink type when path is an audit log: an existing non-empty file
	 * must be a log of this format. NULL: a side file, not looked into.
	 */
	const char *format;
	unsigned int mode;		/* of a new file; an existing one may not have more */
	gid_t gid;			/* group to set; (gid_t)-1: leave */
	enum outpath_how how;
	bool allow_shared_directory;	/* a sticky directory others write (/tmp) is fine */
	bool check_only;		/* check-config: never create or change anything */
};

/*
 * Open req->path (read-write, O_APPEND for OUTPATH_APPEND) and check it:
 * a regular file, one link, owned by us, mode no wider than req->mode, and
 * for a log an audit log of req->format or empty. Returns the fd, or
 * -errno with one line in err naming the path, the reason and what to do.
 * check_only: 0 when the file is missing (it would be created), else as open.
 */
int outpath__open(const struct outpath_req *req, char *err, size_t errlen);

/*
 * The two halves of outpath__open, for callers that work on several names
 * in one directory (rotation, the state's temporary): the checked parent
 * directory of req->path as an O_PATH fd (*leaf points into req->path),
 * then a name in it opened and checked as outpath__open does (req->path
 * names it in messages).
 */
int outpath__open_dir(const struct outpath_req *req, const char **leaf, char *err,
		      size_t errlen);
int outpath__openat(int dfd, const char *leaf, const struct outpath_req *req, char *err,
		    size_t errlen);

/*
 * Open a file the collector wrote, to read it back (chain state, a rotated
 * log): never a symlink, never blocking on a FIFO, a regular file owned by
 * us. dfd may be AT_FDCWD. The fd, or -errno (-ENOENT when missing) + err.
 */
int outpath__open_read(int dfd, const char *name, const char *path, char *err, size_t errlen);

/* "a FIFO", "a socket", ... for a st_mode (messages). */
const char *outpath__type_name(mode_t m);

/* Does this line look like a record sockaudit writes in format type? (a prefix is enough) */
bool outpath__is_record(const char *type, const char *line, size_t len);

/*
 * path when given, else out + suffix: a file beside the log (its lock,
 * chain state, anchor), under base like the log when out is relative.
 * malloc'ed; NULL without memory.
 */
char *outpath__beside(const char *out, const char *base, const char *path, const char *suffix);

#endif /* SOCKAUDIT_OUTPATH_H */
