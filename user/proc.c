// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "proc.h"

#define PROC_BUCKETS 256

struct proc_cache {
	bool live;
	struct proc_info *buckets[PROC_BUCKETS];
};

struct proc_cache *proc_cache__new(bool live)
{
	struct proc_cache *pc = calloc(1, sizeof(*pc));

	if (pc)
		pc->live = live;
	return pc;
}

void proc_cache__free(struct proc_cache *pc)
{
	int i;

	if (!pc)
		return;
	for (i = 0; i < PROC_BUCKETS; i++) {
		struct proc_info *p = pc->buckets[i], *next;

		for (; p; p = next) {
			next = p->next;
			free(p);
		}
	}
	free(pc);
}

static void read_exe(struct proc_info *p)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", p->tgid);
	n = readlink(path, p->exe, sizeof(p->exe) - 1);
	p->exe[n > 0 ? n : 0] = '\0';
}

const struct proc_info *proc_cache__get(struct proc_cache *pc, uint32_t tgid)
{
	struct proc_info **head = &pc->buckets[tgid % PROC_BUCKETS], *p;

	for (p = *head; p; p = p->next)
		if (p->tgid == tgid)
			return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->tgid = tgid;
	if (pc->live)
		read_exe(p);
	p->next = *head;
	*head = p;
	return p;
}

void proc_cache__forget(struct proc_cache *pc, uint32_t tgid)
{
	struct proc_info **pp = &pc->buckets[tgid % PROC_BUCKETS];

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->tgid == tgid) {
			struct proc_info *p = *pp;

			*pp = p->next;
			free(p);
			return;
		}
	}
}
