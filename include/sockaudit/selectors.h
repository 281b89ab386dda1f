/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Target selectors that follow restarts, shared by bpf/selectors.bpf.h and
 * user/targets.c: cgroup ids (a process in the cgroup or below it) and
 * executables by (device, inode). Kernel state only: not in record files.
 */
#ifndef SOCKAUDIT_SELECTORS_H
#define SOCKAUDIT_SELECTORS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SA_CGROUP_LEVELS	16	/* cgroup depth a --cgroup may sit at (root is 0) */
#define SA_MAX_CGROUPS		64	/* --cgroup/--unit selectors at once */
#define SA_MAX_EXES		64	/* --exe selectors at once */

/* An executable as the kernel names it: s_dev (MAJOR << 20 | MINOR) and inode. */
struct sa_exe_key {
	__u64 dev;
	__u64 ino;
};

#endif /* SOCKAUDIT_SELECTORS_H */
