/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Process facts for records (executable path), read once per tgid from /proc. */
#ifndef SOCKAUDIT_PROC_H
#define SOCKAUDIT_PROC_H

#include <stdbool.h>
#include <stdint.h>

struct proc_info {
	struct proc_info *next;
	uint32_t tgid;
	char exe[256];		/* "" when unknown (exited, replay) */
};

struct proc_cache;

/* live: read /proc; false in replay, where the processes are long gone. */
struct proc_cache *proc_cache__new(bool live);
void proc_cache__free(struct proc_cache *pc);
const struct proc_info *proc_cache__get(struct proc_cache *pc, uint32_t tgid);
void proc_cache__forget(struct proc_cache *pc, uint32_t tgid);

#endif /* SOCKAUDIT_PROC_H */
