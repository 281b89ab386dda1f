// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Output path safety: resolve the parent directory (beneath base_directory
 * with openat2, or an O_NOFOLLOW walk where openat2 is missing), open the
 * leaf with O_NOFOLLOW|O_NONBLOCK, then judge the opened fd with fstat.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "log.h"
#include "outpath.h"

#define OPEN_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return code;
}

const char *outpath__type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFLNK: return "a symlink";
	default: return "a special file";
	}
}

static const char *home_dir(void)
{
	struct passwd *pw = getpwuid(geteuid());

	return pw && pw->pw_dir && pw->pw_dir[0] ? pw->pw_dir : NULL;
}

int outpath__expand(const char *in, char **out, char *err, size_t errlen)
{
	const char *home;

	if (strchr(in, '$'))
		return fail(err, errlen, -EINVAL, "path '%s' contains '$': environment variables "
			    "are not expanded; write the path out in full", in);
	if (in[0] != '~') {
		*out = strdup(in);
		return *out ? 0 : -ENOMEM;
	}
	if (in[1] && in[1] != '/')
		return fail(err, errlen, -EINVAL, "path '%s': only '~' and '~/' are expanded, "
			    "not '~user'; write the path out in full", in);
	home = home_dir();
	if (!home)
		return fail(err, errlen, -EINVAL, "path '%s': no home directory for uid %u to "
			    "expand '~'; write the path out in full", in, (unsigned)geteuid());
	if (asprintf(out, "%s%s", home, in + 1) < 0)
		return -ENOMEM;
	return 0;
}

/* True when a path has a ".." component (refused beneath base_directory). */
static bool has_dotdot(const char *p)
{
	size_t n = strlen(p);
	const char *s;

	for (s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s + 2 == p + n || s[2] == '/'))
			return true;
	return false;
}

/* Walk rel from dirfd one component at a time, refusing symlinks. */
static int walk_nofollow(int dirfd, const char *rel)
{
	char *copy = strdup(rel), *save = NULL, *comp;
	int fd = dup(dirfd);

	if (!copy || fd < 0) {
		free(copy);
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;

		close(fd);
		if (next < 0) {
			free(copy);
			/* O_PATH|O_NOFOLLOW on a symlink opens the link: ENOTDIR */
			return -(e == ENOTDIR ? ELOOP : e);
		}
		fd = next;
	}
	free(copy);
	return fd;
}

static long sys_openat2(int dirfd, const char *path, struct open_how *how)
{
	return syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

/* The directory rel_dir beneath base: no escape, no symlink. fd or -errno. */
static int open_beneath(const char *base, const char *rel_dir)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
	};
	int bfd = open(base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	long fd;

	if (bfd < 0)
		return -errno;
	fd = sys_openat2(bfd, rel_dir[0] ? rel_dir : ".", &how);
	if (fd < 0 && errno == ENOSYS)
		fd = walk_nofollow(bfd, rel_dir);
	else if (fd < 0)
		fd = -errno;
	close(bfd);
	return fd;
}

/* Split path into its directory (malloc'ed) and leaf (points into path). */
static int split(const char *path, char **dir, const char **leaf)
{
	const char *slash = strrchr(path, '/');

	*leaf = slash ? slash + 1 : path;
	*dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup("");
	return *dir ? 0 : -ENOMEM;
}

static const char *dir_errstr(int e)
{
	if (e == ELOOP)
		return "a symlink in the path (refused beneath base_directory)";
	if (e == EXDEV)
		return "the path escapes base_directory";
	return strerror(e);
}

/* Path relative to base (NULL when an absolute path lies outside it). */
static const char *relative_to(const char *path, const char *base)
{
	size_t n = strlen(base);

	while (n > 1 && base[n - 1] == '/')
		n--;
	if (path[0] != '/')
		return path;
	if (strncmp(path, base, n) || (path[n] != '/' && n != 1))
		return NULL;
	return path + n + (n != 1);
}

static int open_parent(const struct outpath_req *req, const char **leaf, char *err,
		       size_t errlen)
{
	const char *rel = req->path;
	char *dir;
	int fd;

	if (req->base_directory) {
		rel = relative_to(req->path, req->base_directory);
		if (!rel)
			return fail(err, errlen, -EXDEV, "audit log %s is outside base_directory %s: "
				    "give a path beneath it", req->path, req->base_directory);
		if (has_dotdot(rel))
			return fail(err, errlen, -EXDEV, "audit log %s: '..' escapes base_directory "
				    "%s; give a path beneath it", req->path, req->base_directory);
	}
	if (split(rel, &dir, leaf))
		return -ENOMEM;
	if (req->base_directory)
		fd = open_beneath(req->base_directory, dir);
	else if ((fd = open(dir[0] ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		fd = -errno;
	if (fd < 0)
		fail(err, errlen, fd, "cannot open audit log %s: its directory: %s; create it "
		     "or fix the path", req->path, dir_errstr(-fd));
	free(dir);
	return fd;
}

static int check_parent(int dfd, const struct outpath_req *req, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(dfd, &st))
		return fail(err, errlen, -errno, "cannot stat the directory of audit log %s: %s",
			    req->path, strerror(errno));
	if (!(st.st_mode & S_IWOTH))
		return 0;
	/*
	 * Sticky (/tmp): others may add names but cannot rename or remove our
	 * file, and a name planted first is caught by the fd checks: warn.
	 */
	if (req->critical && !(st.st_mode & S_ISVTX))
		return fail(err, errlen, -EPERM, "the directory of audit log %s is world-writable: "
			    "use a directory only root can write (or mark the sink critical: false)",
			    req->path);
	log_warn("the directory of audit log %s is world-writable: anyone can replace the log; "
		 "use a directory only root can write", req->path);
	return 0;
}

/* Why the leaf could not be opened, naming the file type where there is one. */
static int leaf_error(int dfd, const char *leaf, const struct outpath_req *req, int e,
		      char *err, size_t errlen)
{
	struct stat st;

	if ((e == ENXIO || e == ELOOP || e == EISDIR || e == EOPNOTSUPP) &&
	    !fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW))
		return fail(err, errlen, -e, "audit log %s is %s, not a regular file: give the "
			    "path of a regular file", req->path, outpath__type_name(st.st_mode));
	return fail(err, errlen, -e, "cannot open audit log %s: %s; check the path and its "
		    "directory", req->path, strerror(e));
}

static int check_file(int fd, const struct outpath_req *req, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st))
		return fail(err, errlen, -errno, "cannot stat audit log %s: %s", req->path,
			    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(err, errlen, -EINVAL, "audit log %s is %s, not a regular file: give the "
			    "path of a regular file", req->path, outpath__type_name(st.st_mode));
	if (st.st_nlink > 1)
		return fail(err, errlen, -EMLINK, "audit log %s has %lu hard links: another name "
			    "can change it; remove the other links", req->path,
			    (unsigned long)st.st_nlink);
	if (st.st_uid != geteuid())
		return fail(err, errlen, -EPERM, "audit log %s is owned by uid %u, not by uid %u "
			    "(root): chown it or remove it", req->path, (unsigned)st.st_uid,
			    (unsigned)geteuid());
	if ((st.st_mode & 07777) != req->mode && fchmod(fd, req->mode))
		return fail(err, errlen, -errno, "cannot set mode %04o on audit log %s: %s",
			    req->mode, req->path, strerror(errno));
	if (req->gid != (gid_t)-1 && st.st_gid != req->gid && fchown(fd, -1, req->gid))
		return fail(err, errlen, -errno, "cannot set group %u on audit log %s: %s",
			    (unsigned)req->gid, req->path, strerror(errno));
	return 0;
}

int outpath__open(const struct outpath_req *req, char *err, size_t errlen)
{
	const char *leaf = NULL;
	int dfd, fd, e;

	dfd = open_parent(req, &leaf, err, errlen);
	if (dfd < 0)
		return dfd;
	e = check_parent(dfd, req, err, errlen);
	if (e)
		goto out_close_dir;
	if (!leaf[0] || !strcmp(leaf, ".") || !strcmp(leaf, "..")) {
		e = fail(err, errlen, -EISDIR, "audit log %s names a directory: give a file name",
			 req->path);
		goto out_close_dir;
	}
	fd = openat(dfd, leaf, req->check_only ? OPEN_FLAGS & ~O_CREAT : OPEN_FLAGS, req->mode);
	if (fd < 0 && req->check_only && errno == ENOENT) {
		e = 0;
		goto out_close_dir;
	}
	if (fd < 0) {
		e = leaf_error(dfd, leaf, req, errno, err, errlen);
		goto out_close_dir;
	}
	e = check_file(fd, req, err, errlen);
	if (e)
		close(fd);
	else
		e = fd;
out_close_dir:
	close(dfd);
	return e;
}
