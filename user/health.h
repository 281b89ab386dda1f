/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * /healthz: the checks of a snapshot, each with its figures and a verdict,
 * and the worst verdict as the status (docs/operations.md lists the rules).
 * A check is one function and one line in the table of health.c.
 */
#ifndef SOCKAUDIT_HEALTH_H
#define SOCKAUDIT_HEALTH_H

#include <stdint.h>
#include "json.h"
#include "snapshot.h"

enum health_status { HEALTH_OK = 0, HEALTH_DEGRADED, HEALTH_FAILING };

#define HEALTH_RINGBUF_FILL	0.9	/* ring buffer this full: degraded */
#define HEALTH_BOUND_FILL	0.9	/* a queue or a bound this full: degraded */
#define HEALTH_STALL_NS		(10 * 1000000000ULL)	/* queued, nothing written this long */
#define HEALTH_FORWARD_LAG_S	300	/* a forwarded record unshipped this long: degraded */
#define HEALTH_STALE_NS		(5 * 1000000000ULL)	/* snapshot this old: the reader is stuck */

/* {"status":...,"checks":{...}} of s as seen at now_ns (CLOCK_REALTIME); returns the status. */
enum health_status health__render(const struct snapshot *s, uint64_t now_ns, struct jbuf *out);
const char *health__status_name(enum health_status st);

#endif /* SOCKAUDIT_HEALTH_H */
