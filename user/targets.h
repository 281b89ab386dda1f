/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Target selectors: --pid, and those that follow restarts (--cgroup,
 * --unit, --exe, and the `targets:` config section). Resolved to what the
 * kernel matches on (cgroup ids, executable device and inode), pushed into
 * the capture's maps, and counted against /proc for the lifecycle records.
 */
#ifndef SOCKAUDIT_TARGETS_H
#define SOCKAUDIT_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sockaudit/selectors.h"

#define TARGETS_MAX 64

enum sel_kind { SEL_PID = 0, SEL_CGROUP, SEL_UNIT, SEL_EXE };

struct selector {
	enum sel_kind kind;
	char *arg;		/* as given */
	/* resolved (targets__resolve) */
	char *cg_rel;		/* cgroup/unit: the path below the v2 root, "/a/b" */
	uint64_t cg_id;		/* cgroup/unit: the directory's inode, the kernel's cgroup id */
	int cg_level;		/* cgroup/unit: depth below the v2 root */
	struct sa_exe_key exe;	/* exe: device (kernel encoding) and inode */
	pid_t pid;		/* pid */
	int matches;		/* processes matched at the last count */
};

struct target_set {
	struct selector s[TARGETS_MAX];
	int n;
};

struct capture;

/* "pid", "cgroup", "unit", "exe" to a kind; -1 when unknown. */
int targets__kind(const char *name);
const char *targets__kind_name(enum sel_kind k);

/* Append a selector (arg copied). 0, or -errno with the reason in err. */
int targets__add(struct target_set *t, enum sel_kind kind, const char *arg, char *err,
		 size_t errlen);
/* Append every selector of src. */
int targets__merge(struct target_set *t, const struct target_set *src, char *err, size_t errlen);
void targets__free(struct target_set *t);
/* How many selectors other than --pid (they keep the collector running with no process). */
int targets__n_following(const struct target_set *t);

/*
 * Resolve every selector: the cgroup v2 mount from /proc/mounts, units to
 * their cgroup, executables to (device, inode). 0, or -errno and one line
 * in err naming the selector and what to do.
 */
int targets__resolve(struct target_set *t, char *err, size_t errlen);

/*
 * Replace the kernel's cgroup and exe selectors with t's, add the running
 * processes each selector matches now (and their children), and count them
 * into each selector's matches. 0 or -errno (logged).
 */
int targets__apply(struct target_set *t, struct capture *c);

/* "cgroup:/a=3,exe:/usr/sbin/nginx=2" for the lifecycle records. */
void targets__summary(const struct target_set *t, char *buf, size_t len);

/* The cgroup v2 mount point from mounts (a /proc/mounts file); 0 or -ENOENT. */
int targets__cgroup2_root(const char *mounts, char *out, size_t len);

#endif /* SOCKAUDIT_TARGETS_H */
