// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel releases each uprobe (and tracepoint) link after a grace
 * period, one after the other: twelve uprobes on a libssl took 0.6 s of
 * every stop, past the second a stop may take. Here a child takes over the
 * last references to the BPF objects (programs, links, maps, perf events:
 * the anon inodes) and drops them once the collector has exited, so the
 * collector's own closes are not the last and return at once. The programs
 * do nothing meanwhile: capture and TLS were flagged stopped before.
 * Everything else (the logs, their locks, sockets) the child closes first,
 * so a collector started right after finds its log free.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bpf_release.h"
#include "log.h"

#define MAX_KEPT 1024

static bool is_anon_inode(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strncmp(target, "anon_inode:", 11);
}

/* The anon-inode fds into kept; how many (-1: none could be read). */
static int anon_fds(int *kept, int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0, fd;

	if (!d)
		return -1;
	while ((e = readdir(d)) && n < max - 1) {	/* one slot left for the pipe */
		fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd != dirfd(d) && is_anon_inode(fd))
			kept[n++] = fd;
	}
	closedir(d);
	return n;
}

static void sort_fds(int *v, int n)
{
	int i, j, x;

	for (i = 1; i < n; i++)	/* insertion sort: a few dozen fds */
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			x = v[j];
			v[j] = v[j - 1];
			v[j - 1] = x;
		}
}

/* Child: every fd closed but keep[] (ascending), EOF awaited on wake, exit. Async-signal-safe. */
static void child_hold(const int *keep, int n, int wake)
{
	unsigned int lo = 0;
	char c;
	int i;

	for (i = 0; i < n; i++) {
		if ((unsigned int)keep[i] > lo)
			close_range(lo, keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	close_range(lo, ~0U, 0);
	while (read(wake, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

void bpf_release__in_background(void)
{
	int kept[MAX_KEPT], pfd[2], n;
	pid_t pid;

	n = anon_fds(kept, MAX_KEPT);
	if (n <= 0 || pipe2(pfd, O_CLOEXEC))
		return;		/* released here, the slow way */
	kept[n++] = pfd[0];
	sort_fds(kept, n);
	pid = fork();
	if (pid == 0)
		child_hold(kept, n, pfd[0]);
	close(pfd[0]);
	if (pid < 0) {
		close(pfd[1]);
		log_warn("cannot fork to release the BPF links (%s): the stop waits for them",
			 strerror(errno));
	}
	/* pfd[1] stays open until this process exits: then the child goes */
}
