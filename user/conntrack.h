/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Connection tracking and per-direction reassembly.
 *
 * A connection is (tgid, fd, gen). Data events are checked against the next
 * expected stream position of their direction: a jump forward is a gap (lost
 * events), a short capture (cap_len < orig_len) is a gap after the captured
 * bytes; both are handed to the protocol parser so it can skip or resync,
 * and counted.
 */
#ifndef SOCKAUDIT_CONNTRACK_H
#define SOCKAUDIT_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockaudit/events.h"

enum conn_proto {
	PROTO_UNKNOWN = 0,
	PROTO_HTTP,
	PROTO_RAW,	/* not recognised: raw exchanges */
	PROTO_JSONRPC,
	PROTO_SKIPPED,	/* a stdio pipe that is not JSON-RPC: counted, not recorded */
	PROTO_STDIO_PEER, /* the host's end of an audited stdio stream: counted, not recorded */
};

struct corr_conn;
struct mcp_ident;
struct proto_ops;

struct conn {
	struct conn *hnext;		/* hash chain */
	struct conn *lru_prev, *lru_next; /* activity order: least recent first */
	uint64_t inode;
	uint64_t expect[2];		/* next stream position, per direction */
	/*
	 * Bytes lost (gaps) or held back per direction before the protocol
	 * was known: a stream whose first event was lost is not judged from
	 * the middle of a message; the parsers get these as a gap once it is.
	 */
	uint64_t pre_gap[2];
	uint64_t pre_gap_held;		/* bytes held back so far, both directions */
	uint64_t first_ts;
	uint64_t last_ts;
	struct sa_addr local;
	struct sa_addr peer;
	uint32_t tgid;
	int32_t fd;
	uint32_t gen;
	uint32_t uid;
	uint32_t tid;			/* thread of the last event */
	uint8_t role;			/* enum sa_role */
	uint8_t transport;		/* enum sa_transport */
	uint8_t proto;			/* enum conn_proto */
	bool addrs_known;
	char comm[SA_COMM_LEN];
	char unix_path[SA_UNIX_PATH_LEN];
	struct {			/* printable names, made once (conn__name) */
		bool ready;
		char id[40];		/* "tgid:fd:gen" */
		char local[SA_UNIX_PATH_LEN + 8];
		char peer[64];
	} names;
	/*
	 * The protocol the stream speaks (proto.h) and its state, which its
	 * ops create and free; NULL while the protocol is not known yet.
	 */
	const struct proto_ops *ops;
	void *ps;
	struct corr_conn *corr;		/* what waits for an answer (correlate.c owns it) */
	/* stdio (SA_TRANSPORT_PIPE): stdin and stdout are one logical stream */
	uint32_t pipe_gen[2];		/* generation of the pipe behind each direction */
	bool pipe_closed[2];
	uint64_t stdio_inode[2];	/* stdio on a socketpair: its socket inode, per direction */
	uint64_t peer_inode;		/* a socketpair end: the other end's inode (0: unknown) */
	uint64_t stdio_undecided;	/* stdio bytes seen before its first JSON-RPC message */
	uint32_t alias_gen;		/* fd 0/1: generation of the other fd on this same socket */
	struct mcp_ident *mcp;		/* MCP identity this stream said (mcp.c), or NULL */
	/* TLS (user/tls.c): the records carry the decrypted stream */
	bool tls;			/* plaintext of a captured TLS stream feeds the parsers */
	bool tls_h2;			/* ALPN h2: written raw, protocol named h2 */
	uint8_t tls_wire;		/* TLS_WIRE_*: what the socket's first bytes were */
	bool tls_rec_lost[2];		/* record walk out of step (fingerprints stop) */
	uint64_t tls_rec_skip[2];	/* ciphertext bytes until the next record header */
};

/* Conntrack key fd of a target's stdin+stdout merged into one stream. */
#define CONN_STDIO_FD (-1)

struct conntrack;

struct conntrack *conntrack__new(void);
void conntrack__free(struct conntrack *ct);	/* frees conns; call after flushing them */

/* The live connection for (tgid, fd), or NULL. */
struct conn *conntrack__lookup(struct conntrack *ct, uint32_t tgid, int32_t fd);
/*
 * The connection for (tgid, fd, gen); when the table holds an older
 * generation it is returned in *stale (for the caller to close) and replaced.
 */
struct conn *conntrack__get(struct conntrack *ct, uint32_t tgid, int32_t fd, uint32_t gen,
			    struct conn **stale);
/* Unlink c from the table (the caller frees it with conntrack__release). */
void conntrack__remove(struct conntrack *ct, struct conn *c);
/* Free c; its protocol (c->ps) and the correlator (c->corr) freed theirs first. */
void conntrack__release(struct conn *c);

/* c saw activity: it moves to the most recent end of the activity order. */
void conntrack__touch(struct conntrack *ct, struct conn *c);
/* The least recently active connection, or NULL. */
struct conn *conntrack__oldest(const struct conntrack *ct);

/* Call fn for each connection (fn may remove and release the one it gets). */
void conntrack__each(struct conntrack *ct, void (*fn)(void *arg, struct conn *c), void *arg);
uint32_t conntrack__count(const struct conntrack *ct);

/* "127.0.0.1:8080", "[::1]:443", "unix:/run/x.sock" */
void conn__fmt_addr(const struct conn *c, bool local, char *buf, size_t len);
/* Fill c->names once its addresses are known. */
void conn__name(struct conn *c);
/* "tcp", "unix" or "pipe" */
const char *conn__transport_name(const struct conn *c);

#endif /* SOCKAUDIT_CONNTRACK_H */
