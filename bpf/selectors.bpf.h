/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Selectors that follow restarts (included by capture.bpf.c, after the
 * target set): a process becomes a target when its cgroup (or an ancestor
 * cgroup) is selected, checked on its syscalls, or when it executes a
 * selected file, checked at exec. It is then added to the target set, so
 * its next checks are one bit load, its children follow by fork, and its
 * exit clears it as for any target.
 */
#ifndef SOCKAUDIT_SELECTORS_BPF_H
#define SOCKAUDIT_SELECTORS_BPF_H

#include "sockaudit/selectors.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SA_MAX_CGROUPS);
	__type(key, __u64);		/* cgroup v2 id (the directory's inode) */
	__type(value, __u8);
} cgroup_targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SA_MAX_EXES);
	__type(key, struct sa_exe_key);
	__type(value, __u8);
} exe_targets SEC(".maps");

/*
 * Bit L set: a selected cgroup sits at level L. Zero (no --cgroup) keeps
 * every non-target syscall at one load; otherwise a non-target pays one
 * ancestor lookup per selected level.
 */
volatile __u32 cgroup_levels = 0;

/*
 * Nonzero while exe_targets may hold a key (userspace sets it). sa_exec
 * runs at every exec on the host; without --exe selectors it returns at
 * its first load, where the lookup and its file reads cost ~800 ns. It
 * stays attached so that a reload can add selectors after the privileges
 * to attach were dropped.
 */
volatile __u32 exe_selectors = 0;

/* Put the current process in the target set (as a fork does for a child). */
static __always_inline bool adopt_current(__u32 tgid)
{
	__u8 one = 1;

	if (bpf_map_update_elem(&targets, &tgid, &one, BPF_NOEXIST) == -E2BIG) {
		count(SA_CNT_TARGET_FULL, 1);
		return false;
	}
	target_bit_set(tgid, true);
	return true;
}

/* The current task (tgid) is in a selected cgroup or below one. */
static __always_inline bool cgroup_selected(__u32 tgid)
{
	__u32 levels = cgroup_levels;
	int l;

	if (!levels)
		return false;
	for (l = 0; l < SA_CGROUP_LEVELS; l++) {
		__u64 id;

		if (!(levels & (1u << l)))
			continue;
		id = bpf_get_current_ancestor_cgroup_id(l);
		if (id && bpf_map_lookup_elem(&cgroup_targets, &id))
			return adopt_current(tgid);
	}
	return false;
}

/*
 * A selected executable, by (device, inode) of the file the kernel runs:
 * a path through a symlink matches, a replaced file (a new inode) does not
 * until userspace re-reads the selectors (SIGHUP). Adopted before the new
 * program's first instruction, so that sa_tls_exec holds it when it may
 * carry TLS code, as any target.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sa_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct sa_exe_key k = {};
	struct inode *inode;
	__u32 tgid = p->tgid;

	/*
	 * A process in a selected cgroup is adopted at its exec too, not only
	 * at a syscall: one that joined before exec and made none seen since
	 * (tracepoint mode hooks the socket syscalls only) must be a target
	 * when TLS's sa_tls_exec, attached after this program and so run after
	 * it, decides whether to hold the new program.
	 */
	if (cgroup_levels && tgid != targ_self_tgid && !bpf_map_lookup_elem(&targets, &tgid))
		cgroup_selected(tgid);
	if (!exe_selectors)
		return 0;
	inode = BPF_CORE_READ(bprm, file, f_inode);
	if (tgid == targ_self_tgid || !inode)
		return 0;
	k.ino = BPF_CORE_READ(inode, i_ino);
	k.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (bpf_map_lookup_elem(&exe_targets, &k))
		adopt_current(tgid);
	return 0;
}

#endif /* SOCKAUDIT_SELECTORS_BPF_H */
