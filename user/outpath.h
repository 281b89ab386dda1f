/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Output path safety. An audit log must land where the operator said and
 * nowhere else: `~` is the only expansion, relative paths stay beneath
 * base_directory (no `..`, no symlink anywhere), and the file is checked on
 * the opened descriptor, so nothing can be swapped between check and use.
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

struct outpath_req {
	const char *path;		/* output_file, already expanded */
	const char *base_directory;	/* NULL: none */
	unsigned int mode;		/* file mode to enforce */
	gid_t gid;			/* group to set; (gid_t)-1: leave */
	bool critical;			/* world-writable parent refused, else warned */
	bool check_only;		/* check-config: never create; a missing file is fine */
};

/*
 * Open req->path for appending (created when missing) and check it: a
 * regular file, one link, owned by us. Returns the fd, or -errno with one
 * line in err naming the path and what to do.
 */
int outpath__open(const struct outpath_req *req, char *err, size_t errlen);
/* check_only: 0 when the file is missing (it would be created), else as open. */

/* "a FIFO", "a socket", ... for a st_mode (messages). */
const char *outpath__type_name(mode_t m);

#endif /* SOCKAUDIT_OUTPATH_H */
