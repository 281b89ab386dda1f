/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The protocols behind one table, the way formatters are (format.h).
 *
 * The pipeline asks each protocol in turn whether a stream's first bytes
 * are its own (detect), then hands that protocol every byte (feed), every
 * hole (gap) and the end (close) of the stream. A protocol keeps its
 * per-connection state in conn->ps, made by start and freed by free; it
 * hands what it parsed to the correlator, never back to the pipeline.
 */
#ifndef SOCKAUDIT_PROTO_H
#define SOCKAUDIT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conntrack.h"

struct correlator;

/* What every protocol works with: the pipeline owns it, the protocols read it. */
struct proto_env {
	struct correlator *cr;
	uint64_t *unparsed;		/* loss counter: bytes no parser could read */
	uint32_t body_excerpt;		/* bytes of each body kept in a record */
	uint32_t tid;			/* thread of the event being processed */
};

struct proto_ops {
	const char *name;
	uint8_t proto;			/* enum conn_proto */
	/* The first bytes seen on direction dir are this protocol's (may be a short prefix). */
	bool (*detect)(const struct conn *c, int dir, const uint8_t *buf, size_t len);
	/* Make c->ps (dir: the direction that spoke first); -ENOMEM. Sets c->proto. */
	int (*start)(const struct proto_env *env, struct conn *c, int dir, const uint8_t *buf,
		     size_t len);
	void (*feed)(struct conn *c, int dir, const uint8_t *buf, size_t len, uint64_t ts);
	/* n bytes of direction dir are missing (lost events or capture cut short). */
	void (*gap)(struct conn *c, int dir, uint64_t n, uint64_t ts);
	/* The stream ends: report what is open (outcome for what stays one-sided). */
	void (*close)(struct conn *c, int outcome, uint64_t ts);
	void (*free)(struct conn *c);	/* frees c->ps */
};

extern const struct proto_ops proto_http_ops;
extern const struct proto_ops proto_jsonrpc_ops;
extern const struct proto_ops proto_raw_ops;

/* Unparsed bytes of the stream are counted by every protocol the same way. */
static inline void proto__unparsed(const struct proto_env *env, uint64_t n)
{
	*env->unparsed += n;
}

/* Free c's protocol state (if any): the stream is read afresh or dropped. */
static inline void proto__release(struct conn *c)
{
	if (c->ops)
		c->ops->free(c);
	c->ops = NULL;
	c->ps = NULL;
}

/*
 * Raw exchanges from now on, the client speaking first (after HTTP 101, or
 * for a TLS stream that is HTTP/2): what the protocol before held is freed.
 */
int proto_raw__switch(const struct proto_env *env, struct conn *c, int client_dir);

/* True when the next final response on HTTP connection c answers a HEAD request. */
bool proto_http__answers_head(struct conn *c);

#endif /* SOCKAUDIT_PROTO_H */
