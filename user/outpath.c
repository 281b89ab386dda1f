// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Output path safety: resolve the parent directory (beneath base_directory
 * with openat2, or an O_NOFOLLOW walk where openat2 is missing) and judge
 * it (where it really is, its owner, who else can write it), look at the
 * name without following it, open it relative to the directory's fd with
 * O_NOFOLLOW|O_NONBLOCK (O_EXCL when new), then judge the opened fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "format.h"
#include "log.h"
#include "outpath.h"

/* Never follow the last name, never block on a FIFO, never take a terminal. */
#define SAFE_FLAGS (O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
/* The longest line looked for at the end of an existing log (max_message_length's bound). */
#define SCAN_MAX ((off_t)17 << 20)

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

static const char *what_of(const struct outpath_req *req)
{
	return req->what ? req->what : "audit log";
}

/* "uid 65534 (nobody)" for messages. */
static const char *owner_name(uid_t uid, char *buf, size_t n)
{
	struct passwd pw, *res = NULL;
	char pwbuf[1024];

	if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) || !res)
		snprintf(buf, n, "uid %u", (unsigned)uid);
	else
		snprintf(buf, n, "uid %u (%s)", (unsigned)uid, res->pw_name);
	return buf;
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
			return fail(err, errlen, -EXDEV, "%s %s is outside base_directory %s: "
				    "give a path beneath it", what_of(req), req->path,
				    req->base_directory);
		if (has_dotdot(rel))
			return fail(err, errlen, -EXDEV, "%s %s: '..' escapes base_directory "
				    "%s; give a path beneath it", what_of(req), req->path,
				    req->base_directory);
	}
	if (split(rel, &dir, leaf))
		return -ENOMEM;
	if (req->base_directory)
		fd = open_beneath(req->base_directory, dir);
	else if ((fd = open(dir[0] ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		fd = -errno;
	if (fd < 0)
		fail(err, errlen, fd, "cannot open %s %s: its directory: %s; create it "
		     "or fix the path", what_of(req), req->path, dir_errstr(-fd));
	free(dir);
	return fd;
}

/* The first component of an absolute path is a system directory (/lib* too)? */
static bool in_system_dir(const char *real)
{
	static const char *const sys[] = { "etc", "usr", "boot", "bin", "sbin", "proc", "sys",
					   "dev", NULL };
	const char *const *d;
	size_t n;

	while (*real == '/')
		real++;
	n = strcspn(real, "/");
	if (n >= 3 && !strncmp(real, "lib", 3))
		return true;
	for (d = sys; *d; d++)
		if (strlen(*d) == n && !strncmp(real, *d, n))
			return true;
	return false;
}

/* Where dfd really is, every symlink resolved (from /proc); false when unknown. */
static bool real_dir(int dfd, char *buf, size_t n)
{
	char self[64];
	ssize_t r;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", dfd);
	r = readlink(self, buf, n - 1);
	buf[r > 0 ? r : 0] = '\0';
	return r > 0 && buf[0] == '/';
}

/* Writable by a user other than us: others, or a group that is not root's or ours. */
static bool shared_dir(const struct stat *st)
{
	if (st->st_mode & S_IWOTH)
		return true;
	return (st->st_mode & S_IWGRP) && st->st_gid != 0 && st->st_gid != getegid();
}

static int check_parent(int dfd, const struct outpath_req *req, char *err, size_t errlen)
{
	char real[PATH_MAX], who[160];
	struct stat st;

	if (!real_dir(dfd, real, sizeof(real)))
		snprintf(real, sizeof(real), "of %s", req->path);
	else if (in_system_dir(real))
		return fail(err, errlen, -EPERM, "%s %s would be in %s, a system directory: "
			    "give a path under /var/log or another directory of its own",
			    what_of(req), req->path, real);
	if (fstat(dfd, &st))
		return fail(err, errlen, -errno, "cannot stat the directory %s: %s", real,
			    strerror(errno));
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return fail(err, errlen, -EPERM, "the directory %s of %s %s is owned by %s, who "
			    "can swap the files in it: use a directory owned by root", real,
			    what_of(req), req->path, owner_name(st.st_uid, who, sizeof(who)));
	if (!shared_dir(&st))
		return 0;
	if (!(st.st_mode & S_ISVTX))
		return fail(err, errlen, -EPERM, "the directory %s of %s %s is writable by other "
			    "users (mode %04o, gid %u) without the sticky bit: they can replace "
			    "the file; use a directory only root can write", real, what_of(req),
			    req->path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid);
	if (!req->allow_shared_directory)
		return fail(err, errlen, -EPERM, "the directory %s of %s %s is writable by other "
			    "users (sticky, like /tmp): they can plant names beside it; use a "
			    "directory only root can write, or set allow_shared_directory: true in the "
			    "sink's config",
			    real, what_of(req), req->path);
	return 0;
}

static bool bad_leaf(const char *leaf)
{
	return !leaf[0] || !strcmp(leaf, ".") || !strcmp(leaf, "..");
}

int outpath__open_dir(const struct outpath_req *req, const char **leaf, char *err,
		      size_t errlen)
{
	int dfd = open_parent(req, leaf, err, errlen), e;

	if (dfd < 0)
		return dfd;
	e = check_parent(dfd, req, err, errlen);
	if (e) {
		close(dfd);
		return e;
	}
	return dfd;
}

/* ---- the file ---- */

static int refuse_type(const struct outpath_req *req, const struct stat *st, char *err,
		       size_t errlen)
{
	char who[160];
	int code = S_ISLNK(st->st_mode) ? -ELOOP : S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;

	return fail(err, errlen, code, "%s %s is %s owned by %s, not a regular file: remove it "
		    "or give the path of a regular file", what_of(req), req->path,
		    outpath__type_name(st->st_mode), owner_name(st->st_uid, who, sizeof(who)));
}

/*
 * Judge what lies at leaf before opening it, so a device is never opened
 * (opening one can have effects). The opened fd is judged again.
 */
static int look(int dfd, const char *leaf, const struct outpath_req *req, bool *exists,
		char *err, size_t errlen)
{
	struct stat st;
	char who[160];

	*exists = !fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW);
	if (!*exists && errno != ENOENT)
		return fail(err, errlen, -errno, "cannot look at %s %s: %s", what_of(req),
			    req->path, strerror(errno));
	if (!*exists)
		return 0;
	if (req->how == OUTPATH_NEW)
		return fail(err, errlen, -EEXIST, "%s %s already exists (%s owned by %s): remove "
			    "it", what_of(req), req->path, outpath__type_name(st.st_mode),
			    owner_name(st.st_uid, who, sizeof(who)));
	return S_ISREG(st.st_mode) ? 0 : refuse_type(req, &st, err, errlen);
}

/* Why the leaf could not be opened, naming the file type where there is one. */
static int leaf_error(int dfd, const char *leaf, const struct outpath_req *req, int e,
		      char *err, size_t errlen)
{
	struct stat st;

	if (!fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) && !S_ISREG(st.st_mode))
		return refuse_type(req, &st, err, errlen);
	return fail(err, errlen, -e, "cannot open %s %s: %s; check the path and its directory",
		    what_of(req), req->path, strerror(e));
}

static int open_leaf(int dfd, const char *leaf, const struct outpath_req *req, bool exists)
{
	int flags = SAFE_FLAGS;

	if (req->how == OUTPATH_NEW)
		flags |= O_WRONLY | O_CREAT | O_EXCL;
	else
		flags |= O_RDWR | O_APPEND | (exists ? 0 : O_CREAT | O_EXCL);
	return openat(dfd, leaf, flags, req->mode);
}

/* Offset of the last '\n' in [lo, hi), or -1. */
static off_t rfind_nl(int fd, off_t lo, off_t hi)
{
	char buf[4096];

	while (hi > lo) {
		off_t from = hi - lo > (off_t)sizeof(buf) ? hi - (off_t)sizeof(buf) : lo;
		ssize_t n = pread(fd, buf, hi - from, from);
		const char *nl;

		if (n <= 0)
			return -1;
		nl = memrchr(buf, '\n', n);
		if (nl)
			return from + (nl - buf);
		hi = from;
	}
	return -1;
}

/*
 * The start of the file's last whole line (a torn tail after it is cut by
 * the writer), or of its only, torn line, judged by its beginning.
 */
static bool last_line_is_record(int fd, off_t size, const char *type)
{
	off_t lo = size > SCAN_MAX ? size - SCAN_MAX : 0;
	off_t end = rfind_nl(fd, lo, size), start;
	char head[1024];
	ssize_t n;

	if (end < 0)
		end = size;
	start = rfind_nl(fd, lo, end) + 1;
	if (!start && lo)
		return false;	/* longer than any record */
	n = pread(fd, head, end - start < (off_t)sizeof(head) ? end - start : (off_t)sizeof(head),
		  start);
	return n > 0 && outpath__is_record(type, head, n);
}

/* A file with a header (csv) starts with it: ours alone, or sealed (",chain"). */
static bool first_line_is(int fd, const char *header)
{
	size_t n = strlen(header) - 1;	/* without its '\n' */
	char buf[1024];
	ssize_t got;

	if (n + 8 > sizeof(buf))
		return false;
	got = pread(fd, buf, n + 7, 0);
	if (got < (ssize_t)n + 1 || memcmp(buf, header, n))
		return false;
	return buf[n] == '\n' || (got == (ssize_t)n + 7 && !memcmp(buf + n, ",chain\n", 7));
}

/* A non-empty file is appended to only when it is an audit log of this format. */
static int check_content(int fd, const struct stat *st, const struct outpath_req *req,
			 char *err, size_t errlen)
{
	const struct formatter *f = formatter__find(req->format);
	bool ours;

	if (!st->st_size)
		return 0;
	if (f && f->file_header)
		ours = first_line_is(fd, f->file_header);
	else
		ours = last_line_is_record(fd, st->st_size, req->format);
	if (ours)
		return 0;
	return fail(err, errlen, -EPERM, "%s %s holds %lld bytes that are not a %s audit log of "
		    "sockaudit (%s does not look like one of its records): refusing to append to "
		    "it; give a new path or move the file away", what_of(req), req->path,
		    (long long)st->st_size, req->format, f && f->file_header ?
		    "its first line" : "its last line");
}

/* A new file: exactly the mode asked for (whatever the umask) and the group. */
static int set_new(int fd, const struct outpath_req *req, char *err, size_t errlen)
{
	if (fchmod(fd, req->mode))
		return fail(err, errlen, -errno, "cannot set mode %04o on %s %s: %s", req->mode,
			    what_of(req), req->path, strerror(errno));
	if (req->gid != (gid_t)-1 && fchown(fd, -1, req->gid))
		return fail(err, errlen, -errno, "cannot set group %u on %s %s: %s",
			    (unsigned)req->gid, what_of(req), req->path, strerror(errno));
	return 0;
}

/*
 * An existing file's mode is never changed silently: wider than asked is
 * refused, except for an audit log (ours, or empty), which is set back with
 * a warning; so is a log narrower than file_mode, and a group change.
 */
static int check_mode(int fd, const struct stat *st, const struct outpath_req *req, char *err,
		      size_t errlen)
{
	unsigned int have = st->st_mode & 07777;

	if ((have & ~req->mode) && !req->format)
		return fail(err, errlen, -EPERM, "%s %s has mode %04o, wider than %04o: others "
			    "may read or change it; chmod %o it or remove it", what_of(req),
			    req->path, have, req->mode, req->mode);
	if (req->check_only || !req->format)
		return 0;
	if (have != req->mode) {
		if (fchmod(fd, req->mode))
			return fail(err, errlen, -errno, "cannot set mode %04o on %s %s: %s",
				    req->mode, what_of(req), req->path, strerror(errno));
		log_warn("%s %s had mode %04o: set to %04o (file_mode)", what_of(req), req->path,
			 have, req->mode);
	}
	if (req->gid != (gid_t)-1 && st->st_gid != req->gid) {
		if (fchown(fd, -1, req->gid))
			return fail(err, errlen, -errno, "cannot set group %u on %s %s: %s",
				    (unsigned)req->gid, what_of(req), req->path, strerror(errno));
		log_warn("%s %s had group %u: set to %u (log_group)", what_of(req), req->path,
			 (unsigned)st->st_gid, (unsigned)req->gid);
	}
	return 0;
}

static int check_fd(int fd, const struct outpath_req *req, bool created, char *err,
		    size_t errlen)
{
	char who[160], me[160];
	struct stat st;
	int e;

	if (fstat(fd, &st))
		return fail(err, errlen, -errno, "cannot stat %s %s: %s", what_of(req), req->path,
			    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return refuse_type(req, &st, err, errlen);
	if (st.st_nlink != 1)
		return fail(err, errlen, -EPERM, "%s %s has %lu hard links: another name can "
			    "change it; remove the other links", what_of(req), req->path,
			    (unsigned long)st.st_nlink);
	if (st.st_uid != geteuid())
		return fail(err, errlen, -EPERM, "%s %s is owned by %s, not by %s: remove it "
			    "(or chown it, when it is yours)", what_of(req), req->path,
			    owner_name(st.st_uid, who, sizeof(who)),
			    owner_name(geteuid(), me, sizeof(me)));
	if (created)
		return set_new(fd, req, err, errlen);
	if (req->format && (e = check_content(fd, &st, req, err, errlen)))
		return e;
	return check_mode(fd, &st, req, err, errlen);
}

int outpath__openat(int dfd, const char *leaf, const struct outpath_req *req, char *err,
		    size_t errlen)
{
	bool exists = false;
	int fd = -1, e, tries;

	if (bad_leaf(leaf))
		return fail(err, errlen, -EISDIR, "%s %s names a directory: give a file name",
			    what_of(req), req->path);
	for (tries = 0; tries < 2; tries++) {
		e = look(dfd, leaf, req, &exists, err, errlen);
		if (e)
			return e;
		if (!exists && req->check_only)
			return 0;
		fd = open_leaf(dfd, leaf, req, exists);
		/* a name planted or removed between the look and the open: look again */
		if (fd >= 0 || req->how == OUTPATH_NEW || (errno != EEXIST && errno != ENOENT))
			break;
	}
	if (fd < 0)
		return leaf_error(dfd, leaf, req, errno, err, errlen);
	e = check_fd(fd, req, !exists, err, errlen);
	if (e) {
		close(fd);
		return e;
	}
	return fd;
}

int outpath__open(const struct outpath_req *req, char *err, size_t errlen)
{
	const char *leaf = NULL;
	struct stat st;
	int dfd, fd;

	dfd = open_parent(req, &leaf, err, errlen);
	if (dfd < 0)
		return dfd;
	/* the most precise reason first: /dev/null is a device before it is in /dev */
	if (req->how != OUTPATH_NEW && !bad_leaf(leaf) &&
	    !fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) && !S_ISREG(st.st_mode))
		fd = refuse_type(req, &st, err, errlen);
	else if (!(fd = check_parent(dfd, req, err, errlen)))
		fd = outpath__openat(dfd, leaf, req, err, errlen);
	close(dfd);
	return fd;
}

int outpath__open_read(int dfd, const char *name, const char *path, char *err, size_t errlen)
{
	const struct outpath_req req = { .path = path, .what = "file" };
	char who[160];
	struct stat st;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return fail(err, errlen, -errno, "cannot read %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return refuse_type(&req, &st, err, errlen);
	fd = openat(dfd, name, O_RDONLY | SAFE_FLAGS);
	if (fd < 0)
		return leaf_error(dfd, name, &req, errno, err, errlen);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1) {
		close(fd);
		return fail(err, errlen, -EPERM, "file %s is not a regular file of %s with one "
			    "link: not reading it; remove it", path,
			    owner_name(geteuid(), who, sizeof(who)));
	}
	return fd;
}

/* ---- what our records look like ---- */

static size_t digits(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* Length of an RFC 3339 UTC time at s (2026-01-02T03:04:05.123Z), or 0. */
static size_t iso_ts(const char *s, size_t n)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	size_t i;

	for (i = 0; i < sizeof(shape) - 1; i++) {
		if (i >= n || (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i]))
			return 0;
	}
	if (i < n && s[i] == '.')
		i += 1 + digits(s + i + 1, n - i - 1);
	return i < n && s[i] == 'Z' ? i + 1 : 0;
}

static bool starts(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && !memcmp(s, lit, l);
}

/* <PRI>1 TS HOST APP PROCID MSGID [sockaudit@32473 ... */
static bool is_syslog(const char *s, size_t n)
{
	size_t i = 1, d;

	if (!n || s[0] != '<')
		return false;
	d = digits(s + 1, n - 1);
	i += d;
	if (!d || d > 3 || !starts(s + i, n - i, ">1 "))
		return false;
	i += 3;
	return iso_ts(s + i, n - i) && memmem(s, n, " [sockaudit@32473 ", 18);
}

/* TS exchange seq=... or TS "type" seq=... */
static bool is_line(const char *s, size_t n)
{
	size_t i = iso_ts(s, n);

	if (!i || !starts(s + i, n - i, " "))
		return false;
	i++;
	if (!starts(s + i, n - i, "exchange ") && !starts(s + i, n - i, "\""))
		return false;
	return memmem(s + i, n - i, " seq=", 5) != NULL;
}

bool outpath__is_record(const char *type, const char *s, size_t n)
{
	size_t d;

	if (!type || !strcmp(type, "json_lines")) {
		if (!starts(s, n, "{\"v\":"))
			return false;
		d = digits(s + 5, n - 5);
		return d && starts(s + 5 + d, n - 5 - d, ",\"seq\":");
	}
	if (!strcmp(type, "cef"))
		return starts(s, n, "CEF:0|sockaudit|sockaudit|");
	if (!strcmp(type, "syslog"))
		return is_syslog(s, n);
	if (!strcmp(type, "line"))
		return is_line(s, n);
	if (!strcmp(type, "csv")) {
		d = digits(s, n);
		return starts(s, n, "seq,ts,type,") || (d && starts(s + d, n - d, ","));
	}
	return false;
}

char *outpath__beside(const char *out, const char *base, const char *path, const char *suffix)
{
	char *p = NULL;

	if (path)
		return strdup(path);
	if (out[0] != '/' && base) {
		if (asprintf(&p, "%s/%s%s", base, out, suffix) < 0)
			return NULL;
	} else if (asprintf(&p, "%s%s", out, suffix) < 0) {
		return NULL;
	}
	return p;
}
