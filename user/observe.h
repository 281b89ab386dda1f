/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The collector watching itself (issue 18): once per drain cycle it takes a
 * snapshot of its figures (snapshot.h) and publishes it for the endpoint
 * (httpd.h); once a second it adds the slow figures (BPF map entries,
 * process CPU and memory, the loss window); every stats_interval_s it says
 * a stats record is due and lays out its members. Off (NULL) unless an
 * endpoint or a stats interval is configured: then it costs nothing.
 */
#ifndef SOCKAUDIT_OBSERVE_H
#define SOCKAUDIT_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "format.h"
#include "snapshot.h"

struct observer_opts {
	const char *listen;		/* NULL: no endpoint */
	bool allow_remote;
	gid_t listen_gid;
	bool has_listen_fd;		/* listen_fd is the socket httpd__listen made already */
	int listen_fd;
	uint32_t stats_interval_s;	/* 0: no stats record */
	uint32_t loss_window_s;		/* 0: 60 */
};

struct observer;

/* NULL in *out when nothing is configured. 0 or -errno (logged). */
int observer__start(struct observer **out, const struct observer_opts *o);
void observer__stop(struct observer *ob);

/* Once per drain cycle (now: CLOCK_MONOTONIC ns). True when a stats record is due. */
bool observer__cycle(struct observer *ob, const struct snapshot_src *src, uint64_t now);

/* The members of the stats record, flat; valid until the next call. */
const struct format_field *observer__stats_fields(struct observer *ob, size_t *n);

/* The published snapshots (`sockaudit status` will read them too). */
struct snapshot_pub *observer__pub(struct observer *ob);

#endif /* SOCKAUDIT_OBSERVE_H */
