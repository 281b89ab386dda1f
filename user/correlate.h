/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Request/response correlation.
 *
 * Requests wait on their connection, oldest first, and on one global list in
 * arrival order so that TTL expiry is O(expired). A response is paired with
 * the oldest waiting request of its connection (HTTP/1.x answers in order).
 * Everything becomes exactly one exchange: paired, or with an outcome that
 * says why it is one-sided.
 */
#ifndef SOCKAUDIT_CORRELATE_H
#define SOCKAUDIT_CORRELATE_H

#include <stdint.h>
#include "conntrack.h"
#include "http.h"

enum outcome {
	OUTCOME_OK = 0,		/* request and response paired */
	OUTCOME_NO_RESPONSE,	/* no response within request_ttl */
	OUTCOME_CONN_CLOSED,	/* connection closed with the request pending */
	OUTCOME_NO_REQUEST,	/* response we saw no request for */
	OUTCOME_INCOMPLETE,	/* a side ended early (gap, close) */
	OUTCOME_PROC_EXIT,	/* the process exited with the request pending */
	OUTCOME_SHUTDOWN,	/* the collector stopped with the request pending */
	OUTCOME_MAX,
};

const char *outcome__name(int outcome);

/* One message kept for an exchange: the parsed summary and an owned excerpt. */
struct msg_copy {
	struct http_msg m;
	uint8_t *body;
	uint32_t tid;
};

struct exchange {
	const struct conn *conn;
	const struct msg_copy *req;	/* NULL when none */
	const struct msg_copy *resp;	/* NULL when none */
	int outcome;
};

typedef void (*exchange_fn)(void *ctx, const struct exchange *x);

struct correlator;

struct correlator *correlator__new(uint64_t ttl_ns, exchange_fn fn, void *ctx);
void correlator__free(struct correlator *cr);	/* pending requests must be flushed first */

/* A parsed request or response on connection c (tid: thread that moved it). */
void correlator__request(struct correlator *cr, struct conn *c, const struct http_msg *m,
			 uint32_t tid);
/*
 * req_in_progress: a request has started on c but is not complete yet. A
 * server may answer before it has read the whole request body (nginx does
 * for `return`): such a response waits for that request instead of being
 * written as no_request.
 */
void correlator__response(struct correlator *cr, struct conn *c, const struct http_msg *m,
			  uint32_t tid, bool req_in_progress);

/* True when the oldest waiting request of c is a HEAD (its answer has no body). */
bool correlator__answers_head(const struct conn *c);

/* Write every request (and early response) waiting on c with the given outcome. */
void correlator__flush_conn(struct correlator *cr, struct conn *c, int outcome);

/* Write requests that arrived before now_ns - ttl as no_response. */
void correlator__expire(struct correlator *cr, uint64_t now_ns);

uint64_t correlator__pending(const struct correlator *cr);

#endif /* SOCKAUDIT_CORRELATE_H */
