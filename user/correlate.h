/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Request/response correlation.
 *
 * The correlator owns what waits on each connection (conn->corr: made on
 * first use, freed when the connection is flushed or forgotten); the
 * protocols hand it messages, it hands the output whole exchanges.
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
#include "message.h"
#include "jsonrpc.h"

struct mcp_view;

enum outcome {
	OUTCOME_OK = 0,		/* request and response paired */
	OUTCOME_NO_RESPONSE,	/* no response within request_ttl */
	OUTCOME_CONN_CLOSED,	/* connection closed with the request pending */
	OUTCOME_NO_REQUEST,	/* response we saw no request for */
	OUTCOME_INCOMPLETE,	/* a side ended early (gap, close) */
	OUTCOME_PROC_EXIT,	/* the process exited with the request pending */
	OUTCOME_SHUTDOWN,	/* the collector stopped with the request pending */
	OUTCOME_ERROR,		/* paired; the response is a JSON-RPC error */
	OUTCOME_NOTIFICATION,	/* a JSON-RPC notification: one-sided by design */
	OUTCOME_EVICTED,	/* a pending-request bound was hit: written early */
	OUTCOME_MAX,
};

const char *outcome__name(int outcome);

/*
 * One message of an exchange: the parsed summary (sizes, times, excerpt,
 * and for HTTP its start line and headers), an owned excerpt, and the
 * JSON-RPC facts when the message is JSON-RPC.
 */
struct msg_copy {
	struct message m;		/* m.http: NULL, or &http below */
	struct http_part http;		/* the HTTP part when m.http is set (else unread) */
	struct rpc_msg rpc;		/* rpc.kind == RPC_NONE: not JSON-RPC (its strings unread) */
	uint8_t *body;
	uint32_t tid;
	uint8_t dir;			/* enum sa_dir the message travelled */
};

struct exchange {
	const struct conn *conn;
	const struct msg_copy *req;	/* NULL when none */
	const struct msg_copy *resp;	/* NULL when none */
	int outcome;
	const struct mcp_view *mcp;	/* MCP identity (mcp.h), or NULL */
};

/* Bounds; 0 means the default. */
struct corr_bounds {
	uint64_t max_pending;		/* requests waiting, all connections */
	uint32_t max_pending_per_conn;
};

#define CORR_DEFAULT_MAX_PENDING	100000
#define CORR_DEFAULT_MAX_PER_CONN	1000

/*
 * True when the exchange deserves immediate attention by itself: an
 * authentication refused (401, 403) or a JSON-RPC error answer.
 */
bool exchange__critical(const struct exchange *x);

typedef void (*exchange_fn)(void *ctx, const struct exchange *x);

struct correlator;

struct correlator *correlator__new(uint64_t ttl_ns, exchange_fn fn, void *ctx);
void correlator__set_bounds(struct correlator *cr, const struct corr_bounds *b);
void correlator__free(struct correlator *cr);	/* pending requests must be flushed first */

/*
 * A parsed request or response on connection c (tid: thread that moved it);
 * rpc: the JSON-RPC message its body carries (MCP over HTTP), or NULL.
 */
void correlator__request(struct correlator *cr, struct conn *c, const struct message *m,
			 const struct rpc_msg *rpc, uint32_t tid);
/*
 * req_in_progress: a request has started on c but is not complete yet. A
 * server may answer before it has read the whole request body (nginx does
 * for `return`): such a response waits for that request instead of being
 * written as no_request.
 */
void correlator__response(struct correlator *cr, struct conn *c, const struct message *m,
			  const struct rpc_msg *rpc, uint32_t tid, bool req_in_progress);

/*
 * The same, for a message already held as a msg_copy (a parser that
 * reports into one: nothing is copied on the way to the output).
 */
void correlator__request_copy(struct correlator *cr, struct conn *c, const struct msg_copy *req);

/*
 * Where a protocol may build its next message (NULL: none free, use its
 * own): a request built there that has to wait is kept there, not copied.
 * The same buffer comes back until a request keeps it.
 */
struct msg_copy *correlator__report_buf(struct correlator *cr);
void correlator__response_copy(struct correlator *cr, struct conn *c,
			       const struct msg_copy *resp, bool req_in_progress);

/*
 * A JSON-RPC message on c (mc->rpc set, mc->dir the way it travelled).
 * Requests wait keyed by id and direction; results and errors pair with
 * the request of the same id that went the other way, in any order;
 * notifications are written at once, one-sided.
 */
void correlator__rpc(struct correlator *cr, struct conn *c, const struct msg_copy *mc);

/*
 * An exchange a protocol paired itself (raw streams: what one side said
 * until the other answered); req or resp may be NULL.
 */
void correlator__pair(struct correlator *cr, struct conn *c, const struct msg_copy *req,
		      const struct msg_copy *resp, int outcome);

/* MCP identities are remembered per HTTP session here (NULL: none attached). */
struct mcp_memory;
void correlator__set_mcp(struct correlator *cr, struct mcp_memory *mm);

/* Write every request (and early response) waiting on c with the given outcome. */
void correlator__flush_conn(struct correlator *cr, struct conn *c, int outcome);

/*
 * Drop what waits on c without writing it: c is the host's end of a stdio
 * stream recorded at the server's end. Returns how many were dropped.
 */
uint32_t correlator__forget_conn(struct correlator *cr, struct conn *c);

/* Write requests that arrived before now_ns - ttl as no_response. */
void correlator__expire(struct correlator *cr, uint64_t now_ns);

uint64_t correlator__pending(const struct correlator *cr);
/* Requests written early because a bound was hit (a loss counter). */
uint64_t correlator__evicted(const struct correlator *cr);

#endif /* SOCKAUDIT_CORRELATE_H */
