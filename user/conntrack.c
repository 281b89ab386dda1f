// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Connection table keyed by (tgid, fd): one live generation per key. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "conntrack.h"

#define CT_BUCKETS_MIN 1024

struct conntrack {
	struct conn **buckets;
	uint32_t nbuckets;	/* power of two */
	uint32_t count;
	struct conn *lru_head, *lru_tail;	/* least recently active first */
};

static void lru_unlink(struct conntrack *ct, struct conn *c)
{
	if (c->lru_prev)
		c->lru_prev->lru_next = c->lru_next;
	else if (ct->lru_head == c)
		ct->lru_head = c->lru_next;
	if (c->lru_next)
		c->lru_next->lru_prev = c->lru_prev;
	else if (ct->lru_tail == c)
		ct->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

static void lru_append(struct conntrack *ct, struct conn *c)
{
	c->lru_prev = ct->lru_tail;
	c->lru_next = NULL;
	if (ct->lru_tail)
		ct->lru_tail->lru_next = c;
	else
		ct->lru_head = c;
	ct->lru_tail = c;
}

void conntrack__touch(struct conntrack *ct, struct conn *c)
{
	if (ct->lru_tail == c)
		return;
	lru_unlink(ct, c);
	lru_append(ct, c);
}

struct conn *conntrack__oldest(const struct conntrack *ct)
{
	return ct->lru_head;
}

static uint32_t ct_hash(uint32_t tgid, int32_t fd)
{
	uint64_t h = ((uint64_t)tgid << 32 | (uint32_t)fd) * 0x9e3779b97f4a7c15ULL;

	return h >> 32;
}

struct conntrack *conntrack__new(void)
{
	struct conntrack *ct = calloc(1, sizeof(*ct));

	if (!ct)
		return NULL;
	ct->nbuckets = CT_BUCKETS_MIN;
	ct->buckets = calloc(ct->nbuckets, sizeof(*ct->buckets));
	if (!ct->buckets) {
		free(ct);
		return NULL;
	}
	return ct;
}

void conntrack__release(struct conn *c)
{
	if (!c)
		return;
	free(c->mcp);	/* a plain struct mcp_ident (mcp.c) */
	free(c);
}

void conntrack__free(struct conntrack *ct)
{
	uint32_t i;

	if (!ct)
		return;
	for (i = 0; i < ct->nbuckets; i++) {
		struct conn *c = ct->buckets[i], *next;

		for (; c; c = next) {
			next = c->hnext;
			conntrack__release(c);
		}
	}
	free(ct->buckets);
	free(ct);
}

/* Double the table when it holds more conns than buckets. */
static void ct_grow(struct conntrack *ct)
{
	uint32_t n = ct->nbuckets * 2, i;
	struct conn **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return;		/* keep chaining in the old table */
	for (i = 0; i < ct->nbuckets; i++) {
		struct conn *c = ct->buckets[i], *next;

		for (; c; c = next) {
			uint32_t b = ct_hash(c->tgid, c->fd) & (n - 1);

			next = c->hnext;
			c->hnext = nb[b];
			nb[b] = c;
		}
	}
	free(ct->buckets);
	ct->buckets = nb;
	ct->nbuckets = n;
}

struct conn *conntrack__lookup(struct conntrack *ct, uint32_t tgid, int32_t fd)
{
	struct conn *c = ct->buckets[ct_hash(tgid, fd) & (ct->nbuckets - 1)];

	for (; c; c = c->hnext)
		if (c->tgid == tgid && c->fd == fd)
			return c;
	return NULL;
}

void conntrack__remove(struct conntrack *ct, struct conn *c)
{
	struct conn **pp = &ct->buckets[ct_hash(c->tgid, c->fd) & (ct->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			c->hnext = NULL;
			ct->count--;
			lru_unlink(ct, c);
			return;
		}
	}
}

struct conn *conntrack__get(struct conntrack *ct, uint32_t tgid, int32_t fd, uint32_t gen,
			    struct conn **stale)
{
	struct conn *c = conntrack__lookup(ct, tgid, fd);
	uint32_t b;

	*stale = NULL;
	if (c && c->gen == gen)
		return c;
	if (c) {
		conntrack__remove(ct, c);
		*stale = c;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->tgid = tgid;
	c->fd = fd;
	c->gen = gen;
	if (ct->count >= ct->nbuckets)
		ct_grow(ct);
	b = ct_hash(tgid, fd) & (ct->nbuckets - 1);
	c->hnext = ct->buckets[b];
	ct->buckets[b] = c;
	ct->count++;
	lru_append(ct, c);
	return c;
}

void conntrack__each(struct conntrack *ct, void (*fn)(void *arg, struct conn *c), void *arg)
{
	uint32_t i;

	for (i = 0; i < ct->nbuckets; i++) {
		struct conn *c = ct->buckets[i], *next;

		for (; c; c = next) {
			next = c->hnext;
			fn(arg, c);
		}
	}
}

uint32_t conntrack__count(const struct conntrack *ct)
{
	return ct->count;
}

void conn__fmt_addr(const struct conn *c, bool local, char *buf, size_t len)
{
	const struct sa_addr *a = local ? &c->local : &c->peer;
	char ip[INET6_ADDRSTRLEN];

	if (c->transport == SA_TRANSPORT_UNIX) {
		snprintf(buf, len, "unix:%s", local && c->unix_path[0] ? c->unix_path : "");
		return;
	}
	if (c->transport == SA_TRANSPORT_PIPE) {
		/* each direction a FIFO or a socketpair end (Node, asyncio hosts) */
		if (local)
			snprintf(buf, len, "%s:stdin", c->stdio_inode[SA_DIR_INGRESS] ? "socketpair" : "pipe");
		else
			snprintf(buf, len, "%s:stdout", c->stdio_inode[SA_DIR_EGRESS] ? "socketpair" : "pipe");
		return;
	}
	if (!c->addrs_known || (a->family != AF_INET && a->family != AF_INET6)) {
		snprintf(buf, len, "unknown");
		return;
	}
	inet_ntop(a->family, a->addr, ip, sizeof(ip));
	if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", ip, a->port);
	else
		snprintf(buf, len, "%s:%u", ip, a->port);
}

void conn__name(struct conn *c)
{
	if (c->names.ready)
		return;
	if (c->fd == CONN_STDIO_FD)
		snprintf(c->names.id, sizeof(c->names.id), "%u:stdio", c->tgid);
	else
		snprintf(c->names.id, sizeof(c->names.id), "%u:%d:%u", c->tgid, c->fd, c->gen);
	conn__fmt_addr(c, true, c->names.local, sizeof(c->names.local));
	conn__fmt_addr(c, false, c->names.peer, sizeof(c->names.peer));
	c->names.ready = true;
}

const char *conn__transport_name(const struct conn *c)
{
	switch (c->transport) {
	case SA_TRANSPORT_UNIX:
		return "unix";
	case SA_TRANSPORT_PIPE:
		return "pipe";
	}
	return "tcp";
}
