/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The health and metrics endpoint (off by default): GET /healthz and GET
 * /metrics, answered by GNU libmicrohttpd on its own thread from the
 * published snapshot only, so an answer never waits on the pipeline or a
 * writer and never holds anything but counts (no payload is in a snapshot).
 *
 * Where it listens: "HOST:PORT" (loopback unless allow_remote) or
 * "unix:PATH" (a socket created 0660, group gid when given).
 */
#ifndef SOCKAUDIT_HTTPD_H
#define SOCKAUDIT_HTTPD_H

#include <stdbool.h>
#include <sys/types.h>
#include "snapshot.h"

struct httpd_opts {
	const char *listen;
	bool allow_remote;	/* a non-loopback TCP address is accepted (with a warning) */
	gid_t gid;		/* unix socket group; (gid_t)-1: the collector's */
};

struct httpd;

/*
 * Check where to listen without opening anything: 0 or -EINVAL with one
 * line in err; *remote (may be NULL) says a non-loopback address was allowed.
 */
int httpd__check_listen(const struct httpd_opts *o, bool *remote, char *err, size_t errlen);
/*
 * The listening socket, made apart from the serving thread: `run` makes it
 * while it may still chown a unix socket to its group, and starts serving
 * once its privileges are given up. fd, or -errno (one line logged).
 */
int httpd__listen(const struct httpd_opts *o);
/* Serve pub on fd (taken: closed on failure). 0, or -errno (one line logged). */
int httpd__start(struct httpd **out, const struct httpd_opts *o, int fd,
		 struct snapshot_pub *pub);
void httpd__stop(struct httpd *h);

#endif /* SOCKAUDIT_HTTPD_H */
