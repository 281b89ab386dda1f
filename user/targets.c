// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Target selectors: parse, resolve (cgroup v2, units, executables), apply, count. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "capture.h"
#include "log.h"
#include "targets.h"

#define CGROUP2_MAGIC 0x63677270	/* linux/magic.h CGROUP2_SUPER_MAGIC */

static const char *const kind_names[] = { "pid", "cgroup", "unit", "exe" };

int targets__kind(const char *name)
{
	int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	return -1;
}

const char *targets__kind_name(enum sel_kind k)
{
	return kind_names[k];
}

int targets__add(struct target_set *t, enum sel_kind kind, const char *arg, char *err,
		 size_t errlen)
{
	struct selector *s;

	if (t->n == TARGETS_MAX) {
		snprintf(err, errlen, "too many target selectors (at most %d)", TARGETS_MAX);
		return -E2BIG;
	}
	if (!arg[0]) {
		snprintf(err, errlen, "--%s: the value is empty", kind_names[kind]);
		return -EINVAL;
	}
	s = &t->s[t->n];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->arg = strdup(arg);
	if (!s->arg)
		return -ENOMEM;
	t->n++;
	return 0;
}

int targets__merge(struct target_set *t, const struct target_set *src, char *err, size_t errlen)
{
	int i, e;

	for (i = 0; i < src->n; i++)
		if ((e = targets__add(t, src->s[i].kind, src->s[i].arg, err, errlen)))
			return e;
	return 0;
}

void targets__free(struct target_set *t)
{
	int i;

	for (i = 0; i < t->n; i++) {
		free(t->s[i].arg);
		free(t->s[i].cg_rel);
	}
	t->n = 0;
}

int targets__n_following(const struct target_set *t)
{
	int i, n = 0;

	for (i = 0; i < t->n; i++)
		n += t->s[i].kind != SEL_PID;
	return n;
}

int targets__cgroup2_root(const char *mounts, char *out, size_t len)
{
	char line[4096], dev[256], mnt[PATH_MAX], type[64];
	FILE *f = fopen(mounts, "re");
	int found = -ENOENT;

	if (!f)
		return -errno;
	while (found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %4095s %63s", dev, mnt, type) == 3 &&
		    !strcmp(type, "cgroup2") && strlen(mnt) < len) {
			snprintf(out, len, "%s", mnt);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

/* Depth below the root: "/" is 0, "/a/b" is 2. */
static int cgroup_level(const char *rel)
{
	int n = 0;

	for (; *rel; rel++)
		if (*rel == '/' && rel[1])
			n++;
	return n;
}

/* A cgroup directory: its id (inode), level and path below root. */
static int resolve_cgroup_dir(struct selector *s, const char *root, const char *path,
			      char *err, size_t errlen)
{
	char real[PATH_MAX];
	size_t rl = strlen(root);
	struct statfs sf;
	struct stat st;

	if (!realpath(path, real) || stat(real, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--%s %s: no cgroup directory at %s (%s); %s", kind_names[s->kind],
			 s->arg, path, errno ? strerror(errno) : "not a directory",
			 s->kind == SEL_UNIT ? "the unit does not exist or is not running "
			 "(systemctl status it)" : "give a directory of the cgroup v2 hierarchy");
		return -ENOENT;
	}
	if (statfs(real, &sf) || sf.f_type != CGROUP2_MAGIC || strncmp(real, root, rl) ||
	    (real[rl] && real[rl] != '/')) {
		snprintf(err, errlen, "--%s %s: %s is not in the cgroup v2 hierarchy at %s; give a "
			 "directory under it", kind_names[s->kind], s->arg, real, root);
		return -EINVAL;
	}
	s->cg_rel = strdup(real[rl] ? real + rl : "/");
	if (!s->cg_rel)
		return -ENOMEM;
	s->cg_id = st.st_ino;
	s->cg_level = cgroup_level(s->cg_rel);
	if (s->cg_level >= SA_CGROUP_LEVELS) {
		snprintf(err, errlen, "--%s %s: the cgroup is %d levels deep; at most %d",
			 kind_names[s->kind], s->arg, s->cg_level, SA_CGROUP_LEVELS - 1);
		return -EINVAL;
	}
	return 0;
}

/* --cgroup: a path in the v2 mount, or a path below it ("/system.slice/x"). */
static int resolve_cgroup(struct selector *s, const char *root, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t rl = strlen(root);

	if (s->arg[0] != '/') {
		snprintf(err, errlen, "--cgroup %s: give an absolute path (under %s, or below it "
			 "as /slice/name)", s->arg, root);
		return -EINVAL;
	}
	if (!strncmp(s->arg, root, rl) && (s->arg[rl] == '/' || !s->arg[rl]))
		snprintf(path, sizeof(path), "%s", s->arg);
	else
		snprintf(path, sizeof(path), "%s%s", root, s->arg);
	return resolve_cgroup_dir(s, root, path, err, errlen);
}

/* --unit NAME: systemd's cgroup for it, NAME.service when NAME has no suffix. */
static int resolve_unit(struct selector *s, const char *root, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (strchr(s->arg, '/') || s->arg[0] == '.') {
		snprintf(err, errlen, "--unit %s: not a unit name (e.g. nginx.service)", s->arg);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/system.slice/%s%s", root, s->arg,
		 strchr(s->arg, '.') ? "" : ".service");
	return resolve_cgroup_dir(s, root, path, err, errlen);
}

/* The kernel's s_dev encoding (MAJOR << 20 | MINOR) of a userspace st_dev. */
static uint64_t kernel_dev(dev_t d)
{
	return (uint64_t)major(d) << 20 | minor(d);
}

static int resolve_exe(struct selector *s, char *err, size_t errlen)
{
	struct stat st;

	if (stat(s->arg, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "--exe %s: %s; give the path of an executable file",
			 s->arg, errno ? strerror(errno) : "not a regular file");
		return -ENOENT;
	}
	s->exe.dev = kernel_dev(st.st_dev);
	s->exe.ino = st.st_ino;
	return 0;
}

static int resolve_pid(struct selector *s, char *err, size_t errlen)
{
	char *end;
	long v = strtol(s->arg, &end, 10);

	/* existence is checked on the command line; one gone since matches nothing */
	if (*end || v <= 0 || v > INT_MAX) {
		snprintf(err, errlen, "pid '%s' is not a process id", s->arg);
		return -EINVAL;
	}
	s->pid = v;
	return 0;
}

int targets__resolve(struct target_set *t, char *err, size_t errlen)
{
	char root[PATH_MAX] = "";
	int i, e = 0;

	for (i = 0; i < t->n && !e; i++) {
		struct selector *s = &t->s[i];

		errno = 0;
		free(s->cg_rel);
		s->cg_rel = NULL;
		if ((s->kind == SEL_CGROUP || s->kind == SEL_UNIT) && !root[0] &&
		    targets__cgroup2_root("/proc/mounts", root, sizeof(root))) {
			snprintf(err, errlen, "--%s %s: no cgroup v2 hierarchy in /proc/mounts; "
				 "mount one (mount -t cgroup2 none /sys/fs/cgroup/unified)",
				 kind_names[s->kind], s->arg);
			return -ENOENT;
		}
		if (s->kind == SEL_CGROUP)
			e = resolve_cgroup(s, root, err, errlen);
		else if (s->kind == SEL_UNIT)
			e = resolve_unit(s, root, err, errlen);
		else if (s->kind == SEL_EXE)
			e = resolve_exe(s, err, errlen);
		else
			e = resolve_pid(s, err, errlen);
	}
	return e;
}

/* ---- counting and adopting the running processes ---- */

struct proc_row {
	pid_t pid, ppid;
};

/* The "0::/path" line of /proc/PID/cgroup: the process's v2 cgroup. */
static bool proc_cgroup(int pid, char *out, size_t len)
{
	char path[64], line[PATH_MAX + 8];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (!(f = fopen(path, "re")))
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line + 3) >= len)
			continue;
		memcpy(out, line + 3, strlen(line + 3) + 1);
		found = true;
	}
	fclose(f);
	return found;
}

static bool below(const char *rel, const char *sel)
{
	size_t n = strlen(sel);

	return !strcmp(sel, "/") || (!strncmp(rel, sel, n) && (!rel[n] || rel[n] == '/'));
}

/* Does selector s match this process (by its cgroup or executable)? */
static bool proc_matches(const struct selector *s, const char *cg, bool have_cg,
			 const struct stat *exe, bool have_exe)
{
	if (s->kind == SEL_CGROUP || s->kind == SEL_UNIT)
		return have_cg && below(cg, s->cg_rel);
	if (s->kind == SEL_EXE)
		return have_exe && kernel_dev(exe->st_dev) == s->exe.dev &&
		       exe->st_ino == s->exe.ino;
	return false;
}

static pid_t stat_ppid(int pid)
{
	char path[64], buf[512], *p;
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "re")))
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		sscanf(p + 1, " %*c %d", &ppid);
	fclose(f);
	return ppid;
}

/* One process: count and adopt it for each cgroup/exe selector it matches. */
static void scan_one(struct target_set *t, struct capture *c, int pid)
{
	char path[64], cg[PATH_MAX];
	struct stat exe;
	bool have_cg = proc_cgroup(pid, cg, sizeof(cg)), have_exe, adopted = false;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	have_exe = stat(path, &exe) == 0;
	for (i = 0; i < t->n; i++) {
		if (!proc_matches(&t->s[i], cg, have_cg, &exe, have_exe))
			continue;
		t->s[i].matches++;
		if (!adopted && c)
			capture__adopt(c, pid);
		adopted = true;
	}
}

static int cmp_row(const void *a, const void *b)
{
	const struct proc_row *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* --pid selectors: the processes whose ancestry reaches the pid. */
static void count_trees(struct target_set *t, struct proc_row *rows, size_t n)
{
	size_t k;
	int i;

	qsort(rows, n, sizeof(*rows), cmp_row);
	for (k = 0; k < n; k++) {
		pid_t p = rows[k].pid;
		int depth = 0;

		while (p > 0 && depth++ < 64) {
			struct proc_row key = { .pid = p }, *r;

			for (i = 0; i < t->n; i++)
				t->s[i].matches += t->s[i].kind == SEL_PID && t->s[i].pid == p;
			r = bsearch(&key, rows, n, sizeof(*rows), cmp_row);
			p = r ? r->ppid : 0;
		}
	}
}

/* Walk /proc once: adopt and count cgroup/exe matches, count --pid trees. */
static int scan_proc(struct target_set *t, struct capture *c)
{
	struct proc_row *rows = NULL, *nr;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");
	int i;

	if (!d)
		return -errno;
	for (i = 0; i < t->n; i++)
		t->s[i].matches = 0;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || pid == getpid())
			continue;
		scan_one(t, c, pid);
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			if (!(nr = realloc(rows, cap * sizeof(*rows))))
				break;
			rows = nr;
		}
		rows[n].pid = pid;
		rows[n++].ppid = stat_ppid(pid);
	}
	closedir(d);
	if (rows)
		count_trees(t, rows, n);
	free(rows);
	return 0;
}

int targets__apply(struct target_set *t, struct capture *c)
{
	uint64_t ids[TARGETS_MAX];
	int levels[TARGETS_MAX], ncg = 0, nexe = 0, i, err;
	struct sa_exe_key exes[TARGETS_MAX];

	for (i = 0; i < t->n; i++) {
		const struct selector *s = &t->s[i];

		if (s->kind == SEL_CGROUP || s->kind == SEL_UNIT) {
			ids[ncg] = s->cg_id;
			levels[ncg++] = s->cg_level;
		} else if (s->kind == SEL_EXE) {
			exes[nexe++] = s->exe;
		} else if (c && !(kill(s->pid, 0) && errno == ESRCH)) {
			capture__adopt(c, s->pid);
		}
	}
	if (c && ((err = capture__set_cgroups(c, ids, levels, ncg)) ||
		  (err = capture__set_exes(c, exes, nexe))))
		return err;
	err = scan_proc(t, c);
	if (err)
		log_err("cannot read /proc to find the running targets: %s", strerror(-err));
	return err;
}

void targets__summary(const struct target_set *t, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < t->n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s:%s=%d", i ? "," : "",
				kind_names[t->s[i].kind], t->s[i].arg, t->s[i].matches);
}
