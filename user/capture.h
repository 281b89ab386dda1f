/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Kernel capture: probes what the kernel offers, loads bpf/capture.bpf.c,
 * attaches it, keeps the target set, and hands ring-buffer events to a
 * callback. Every failure is reported once, as one line naming the thing.
 */
#ifndef SOCKAUDIT_CAPTURE_H
#define SOCKAUDIT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "sockaudit/events.h"

enum attach_mode {
	ATTACH_TRACEPOINT = 0,	/* syscalls/sys_{enter,exit}_* (mounts tracefs) */
	ATTACH_RAW_TP = 1,	/* raw_tp sys_enter/sys_exit */
};

struct capture_opts {
	uint32_t max_capture;		/* bytes of payload per event (chunk) */
	uint32_t capture_budget;	/* bytes of payload per syscall, in chunks (0: default) */
	uint32_t ringbuf_mb;
	uint64_t wakeup_bytes;		/* wake the reader past this backlog */
	enum attach_mode mode;
	bool capture_pipes;		/* stdin/stdout pipes of targets too (stdio) */
	bool verbose;			/* libbpf debug messages */
	bool tls;			/* TLS plaintext uprobes (user/tlsprobe.c) */
};

/* Called for each event; data/size are valid only during the call. */
typedef int (*capture_event_fn)(void *ctx, const void *data, size_t size);

struct capture;

/* Root and kernel BTF, checked before anything is opened. 0 or -errno (logged). */
int capture__probe_privileges(void);

int capture__open(struct capture **out, const struct capture_opts *opts,
		  capture_event_fn fn, void *ctx);
void capture__close(struct capture *c);

/* Audit tgid (and, with descendants, its existing children). */
int capture__add_target(struct capture *c, pid_t tgid, bool descendants);
/* Audit a running tgid a selector matches, and its children; no message. 0 or -errno. */
int capture__adopt(struct capture *c, pid_t tgid);
/* Replace the kernel's cgroup selectors (ids, each at its level below the v2 root). */
int capture__set_cgroups(struct capture *c, const uint64_t *ids, const int *levels, int n);
/* Replace the kernel's executable selectors. */
struct sa_exe_key;
int capture__set_exes(struct capture *c, const struct sa_exe_key *keys, int n);
/* Processes in the kernel's target set now. */
uint64_t capture__n_targets(struct capture *c);
/* Forget kernel state of a tgid that exited (its connections). */
void capture__forget_tgid(struct capture *c, uint32_t tgid);

/* Detach every program: no new events; what is queued can still be drained. */
void capture__detach(struct capture *c);

/* Wait up to timeout_ms for a wakeup, then drain whatever is queued. */
int capture__poll(struct capture *c, int timeout_ms);
/* Drain everything queued now; returns events consumed or -errno. */
int capture__drain(struct capture *c);

/* Sum the per-CPU counters into out[SA_CNT_MAX]. */
int capture__counters(struct capture *c, uint64_t *out);

/* Ids of the loaded programs and of the targets map (for tests, bpftool). */
const char *capture__mode_name(const struct capture *c);

/* fd of one of capture's maps by name ("events", "targets"): for tlsprobe.c. */
int capture__map_fd(struct capture *c, const char *name);

/* Mount tracefs at /sys/kernel/tracing when it is not there. 0 or -errno. */
int tracefs__ensure(void);

/* ---- figures for health and metrics (issue 18) ---- */

#define CAPTURE_MAX_MAPS 8

struct capture_map_stat {
	const char *name;	/* the map's name in bpf/capture.bpf.c */
	uint64_t entries;	/* in use (arrays: always full) */
	uint64_t capacity;	/* max_entries */
};

/* Programs attached and not told to stop. */
bool capture__attached(const struct capture *c);
/* Bytes queued in the ring buffer now, and its size. 0 or -errno. */
int capture__ringbuf_usage(struct capture *c, uint64_t *used, uint64_t *size);
/* Entries against capacity of every map but the ring buffer; returns how many. */
int capture__map_stats(struct capture *c, struct capture_map_stat *out, int max);

/* Links released from a thread each, so their grace periods overlap (at most this many at once). */
#define CAPTURE_MAX_PARALLEL_LINKS 32
struct bpf_link;
void capture__destroy_links(struct bpf_link **links, int n);

#endif /* SOCKAUDIT_CAPTURE_H */
