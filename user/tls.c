// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* TLS plaintext streams tied to their sockets (see tls.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "conntrack.h"
#include "pipeline_tls.h"
#include "tls.h"

#define STREAM_BUCKETS	4096
#define LAST_SLOTS	16384		/* threads: the socket each one used last */
#define FP_SLOTS	65536		/* ciphertext fingerprints waiting for their socket */
#define HOLD_MAX	(256u << 10)	/* plaintext bytes held per stream not yet tied */
#define HOLD_TOTAL_MAX	(64u << 20)	/* ... and by all streams together */
#define ORPHAN_FD_BASE	(-1000000)	/* synthetic fds: streams whose socket is unknown */

/* A plaintext event kept until its stream is tied. */
struct held {
	struct held *next;
	size_t size;
	uint8_t ev[];		/* struct sa_tls_event + payload */
};

struct stream {
	struct stream *next;
	uint64_t ssl;
	uint32_t tgid;
	int32_t fd;		/* tied: the socket; orphan: the synthetic fd */
	uint32_t gen;
	bool tied;
	bool orphan;
	struct held *held_head, *held_tail;
	size_t held_bytes;
};

/* The socket data event a thread made last, and the handshake it is inside. */
struct last_sock {
	uint32_t tid;
	uint32_t tgid;
	int32_t fd;
	uint32_t gen;
	uint64_t ts;
	uint32_t hs_tid;	/* hs_ssl valid for this thread (slots are shared) */
	uint64_t hs_ssl;	/* SSL* of the handshake call in progress, or 0 */
};

struct fp_slot {
	uint64_t ssl;
	uint32_t tgid;
	uint8_t dir;
	bool used;
	bool ambiguous;		/* two streams wrote these bytes: tells nothing */
	uint8_t fp[SA_TLS_FP_LEN];
};

struct tls_state {
	struct pipeline *p;
	struct stream *buckets[STREAM_BUCKETS];
	struct last_sock last[LAST_SLOTS];
	struct fp_slot *fps;
	uint32_t next_orphan;
	size_t held_total;		/* bytes held by all streams */
	uint64_t cnt[TLS_CNT_MAX];
};

static const char *const counter_names[TLS_CNT_MAX] = {
	[TLS_TIE_SYSCALL] = "tls_tied_by_syscall",
	[TLS_TIE_FP_EGRESS] = "tls_tied_by_egress_fingerprint",
	[TLS_TIE_FP_INGRESS] = "tls_tied_by_ingress_fingerprint",
	[TLS_UNTIED] = "tls_socket_unknown_streams",
	[TLS_FP_AMBIGUOUS] = "tls_ambiguous_fingerprints",
	[TLS_PLAIN_EVENTS] = "tls_plaintext_events",
	[TLS_CIPHER_BYTES] = "tls_ciphertext_bytes_not_written",
	[TLS_H2_CONNS] = "tls_h2_connections",
};

const char *tls__counter_name(int idx)
{
	return idx >= 0 && idx < TLS_CNT_MAX ? counter_names[idx] : NULL;
}

const uint64_t *tls__counters(const struct tls_state *t)
{
	return t->cnt;
}

struct tls_state *tls__new(struct pipeline *p)
{
	struct tls_state *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->p = p;
	t->fps = calloc(FP_SLOTS, sizeof(*t->fps));
	if (!t->fps) {
		free(t);
		return NULL;
	}
	return t;
}

static void held_free(struct tls_state *t, struct stream *s)
{
	struct held *h = s->held_head, *n;

	for (; h; h = n) {
		n = h->next;
		free(h);
	}
	t->held_total -= s->held_bytes;
	s->held_head = s->held_tail = NULL;
	s->held_bytes = 0;
}

/* Remove every stream for which drop() says so. */
static void streams_drop(struct tls_state *t, bool (*drop)(const struct stream *, uint32_t),
			 uint32_t arg)
{
	for (int b = 0; b < STREAM_BUCKETS; b++) {
		struct stream **pp = &t->buckets[b], *s;

		while ((s = *pp)) {
			if (!drop(s, arg)) {
				pp = &s->next;
				continue;
			}
			*pp = s->next;
			held_free(t, s);
			free(s);
		}
	}
}

static bool drop_all(const struct stream *s, uint32_t arg)
{
	return true;
}

static bool drop_tgid(const struct stream *s, uint32_t tgid)
{
	return s->tgid == tgid;
}

void tls__free(struct tls_state *t)
{
	if (!t)
		return;
	streams_drop(t, drop_all, 0);
	free(t->fps);
	free(t);
}

void tls__proc_exit(struct tls_state *t, uint32_t tgid)
{
	streams_drop(t, drop_tgid, tgid);
}

static uint32_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;

	return (uint32_t)(h ^ (h >> 31));
}

static struct stream **stream_slot(struct tls_state *t, uint32_t tgid, uint64_t ssl)
{
	struct stream **pp = &t->buckets[mix(tgid, ssl) % STREAM_BUCKETS];

	while (*pp && ((*pp)->tgid != tgid || (*pp)->ssl != ssl))
		pp = &(*pp)->next;
	return pp;
}

static struct stream *stream_get(struct tls_state *t, uint32_t tgid, uint64_t ssl, bool create)
{
	struct stream **pp = stream_slot(t, tgid, ssl);

	if (*pp || !create)
		return *pp;
	*pp = calloc(1, sizeof(**pp));
	if (*pp) {
		(*pp)->tgid = tgid;
		(*pp)->ssl = ssl;
	}
	return *pp;
}

bool tls__event_valid(const void *data, size_t size)
{
	const struct sa_event_hdr *h = data;
	const struct sa_tls_event *d = data;

	switch (h->type) {
	case SA_EV_TLS_DATA:
		return size >= sizeof(*d) && d->cap_len <= SA_MAX_CAPTURE &&
		       size == sizeof(*d) + d->cap_len && d->cap_len <= d->orig_len &&
		       d->dir <= SA_DIR_INGRESS;
	case SA_EV_TLS_END:
		return size == sizeof(struct sa_tls_end_event);
	case SA_EV_TLS_CIPHER:
		return size == sizeof(struct sa_tls_cipher_event);
	}
	return false;
}

/* Plaintext into the stream's connection: sends are timed at the call's entry. */
static void deliver(struct tls_state *t, struct conn *c, const struct sa_tls_event *ev)
{
	uint64_t ts = ev->dir == SA_DIR_EGRESS ? ev->enter_ns : ev->hdr.ts_ns;

	if (!ev->orig_len)
		return;		/* a handshake call: it only helped to tie */
	pipeline__stream_data(t->p, c, ts, ev->pos, ev->orig_len, ev->cap_len, ev->dir,
			      (const uint8_t *)(ev + 1));
}

static void deliver_held(struct tls_state *t, struct stream *s, struct conn *c)
{
	for (struct held *h = s->held_head; h; h = h->next)
		deliver(t, c, (const struct sa_tls_event *)h->ev);
	held_free(t, s);
}

/* s is c's TLS session: c parses s's plaintext from now on. */
static bool tie(struct tls_state *t, struct stream *s, struct conn *c, int how)
{
	if (c->tls)
		return false;	/* another stream has it: not this one's socket after all */
	pipeline__tls_begin(t->p, c);
	s->tied = true;
	s->fd = c->fd;
	s->gen = c->gen;
	t->cnt[how]++;
	deliver_held(t, s, c);
	return true;
}

/* No technique found s's socket: its plaintext goes on a connection of its own. */
static struct conn *orphan(struct tls_state *t, struct stream *s, const struct sa_event_hdr *h)
{
	struct conn *c;

	if (!s->orphan) {
		s->orphan = true;
		s->fd = ORPHAN_FD_BASE - (int32_t)(t->next_orphan++ % 1000000);
		t->cnt[TLS_UNTIED]++;
	}
	c = pipeline__tls_orphan(t->p, h, s->fd);
	if (c)
		deliver_held(t, s, c);
	return c;
}

static void hold(struct tls_state *t, struct stream *s, const struct sa_tls_event *ev)
{
	size_t size = sizeof(*ev) + ev->cap_len;
	struct held *h;

	if (!ev->orig_len)
		return;
	if (s->held_bytes + size > HOLD_MAX || t->held_total + size > HOLD_TOTAL_MAX) {
		struct conn *c = orphan(t, s, &ev->hdr);

		if (c)
			deliver(t, c, ev);
		return;
	}
	h = malloc(sizeof(*h) + size);
	if (!h)
		return;
	h->next = NULL;
	h->size = size;
	memcpy(h->ev, ev, size);
	if (s->held_tail)
		s->held_tail->next = h;
	else
		s->held_head = h;
	s->held_tail = h;
	s->held_bytes += size;
	t->held_total += size;
}

/* The socket this thread used inside the call, if it did use one. */
static struct conn *syscall_conn(struct tls_state *t, const struct sa_tls_event *ev)
{
	const struct last_sock *l = &t->last[ev->hdr.pid % LAST_SLOTS];

	if (l->tid != ev->hdr.pid || l->tgid != ev->hdr.tgid || l->ts < ev->enter_ns ||
	    l->ts > ev->hdr.ts_ns)
		return NULL;
	return pipeline__conn(t->p, l->tgid, l->fd, l->gen);
}

/* A handshake call begins or returns on a thread: its socket I/O is the SSL*'s. */
static void handshake_mark(struct tls_state *t, const struct sa_tls_event *ev)
{
	struct last_sock *l = &t->last[ev->hdr.pid % LAST_SLOTS];

	l->hs_tid = ev->hdr.pid;
	l->hs_ssl = ev->flags & SA_TLS_F_ENTRY ? ev->ssl : 0;
}

static void on_plain(struct tls_state *t, const struct sa_tls_event *ev)
{
	struct stream *s = stream_get(t, ev->hdr.tgid, ev->ssl, true);
	struct conn *c;

	if (!s)
		return;
	if (ev->func == SA_TLS_FN_HANDSHAKE)
		handshake_mark(t, ev);
	if (ev->flags & SA_TLS_F_ENTRY)
		return;
	if (ev->orig_len)
		t->cnt[TLS_PLAIN_EVENTS]++;
	if (s->orphan) {
		c = pipeline__tls_orphan(t->p, &ev->hdr, s->fd);
		if (c)
			deliver(t, c, ev);
		return;
	}
	if (s->tied) {
		c = pipeline__conn(t->p, s->tgid, s->fd, s->gen);
		if (c) {
			deliver(t, c, ev);
			return;
		}
		s->tied = false;	/* its socket closed: the SSL* was reused */
	}
	c = syscall_conn(t, ev);
	if (c && tie(t, s, c, TLS_TIE_SYSCALL))
		deliver(t, c, ev);
	else
		hold(t, s, ev);
}

static void on_end(struct tls_state *t, const struct sa_tls_end_event *ev)
{
	struct stream **pp = stream_slot(t, ev->hdr.tgid, ev->ssl), *s = *pp;
	struct conn *c;

	if (!s || ev->func != SA_TLS_FN_FREE)
		return;
	if (!s->tied && (s->held_head || s->orphan)) {
		c = orphan(t, s, &ev->hdr);
		if (c)
			pipeline__tls_orphan_end(t->p, c, ev->hdr.ts_ns);
	}
	*pp = s->next;
	held_free(t, s);
	free(s);
}

static struct fp_slot *fp_slot(struct tls_state *t, uint32_t tgid, uint8_t dir, const uint8_t *fp)
{
	uint64_t a, b;

	memcpy(&a, fp, 8);
	memcpy(&b, fp + 8, 8);
	return &t->fps[mix(a ^ ((uint64_t)tgid << 1 | dir), b) % FP_SLOTS];
}

static void on_cipher(struct tls_state *t, const struct sa_tls_cipher_event *ev)
{
	struct fp_slot *f = fp_slot(t, ev->hdr.tgid, ev->dir, ev->fp);
	struct stream *s = stream_get(t, ev->hdr.tgid, ev->ssl, true);
	bool same = f->used && f->tgid == ev->hdr.tgid && f->dir == ev->dir &&
		    !memcmp(f->fp, ev->fp, SA_TLS_FP_LEN);

	if (!s || s->tied)
		return;
	if (same && f->ssl != ev->ssl) {
		f->ambiguous = true;
		t->cnt[TLS_FP_AMBIGUOUS]++;
		return;
	}
	*f = (struct fp_slot){ .ssl = ev->ssl, .tgid = ev->hdr.tgid, .dir = ev->dir, .used = true };
	memcpy(f->fp, ev->fp, SA_TLS_FP_LEN);
}

void tls__event(struct tls_state *t, const void *data)
{
	const struct sa_event_hdr *h = data;

	if (h->type == SA_EV_TLS_DATA)
		on_plain(t, data);
	else if (h->type == SA_EV_TLS_END)
		on_end(t, data);
	else if (h->type == SA_EV_TLS_CIPHER)
		on_cipher(t, data);
}

static bool record_hdr(const uint8_t *b)
{
	return b[0] >= 20 && b[0] <= 23 && b[1] == 3 && b[2] <= 4;
}

/* A record of c starting at b (bytes after its header: fp): is it a stream's? */
static void fp_match(struct tls_state *t, struct conn *c, int dir, const uint8_t *fp)
{
	struct fp_slot *f = fp_slot(t, c->tgid, dir, fp);
	struct stream *s;

	if (!f->used || f->ambiguous || f->tgid != c->tgid || f->dir != dir ||
	    memcmp(f->fp, fp, SA_TLS_FP_LEN))
		return;
	f->used = false;
	s = stream_get(t, c->tgid, f->ssl, false);
	if (s && !s->tied && !s->orphan)
		tie(t, s, c, dir == SA_DIR_EGRESS ? TLS_TIE_FP_EGRESS : TLS_TIE_FP_INGRESS);
}

/*
 * Walk the TLS records of a ciphertext event (the cursor carried from the
 * event before), matching each record's first bytes against the
 * fingerprints. A header split across events or a gap ends the walk: no
 * more fingerprints on that direction (the syscall technique still works).
 */
static void walk_records(struct tls_state *t, struct conn *c, const struct sa_data_event *ev,
			 const uint8_t *b)
{
	int d = ev->dir;
	uint64_t skip = c->tls_rec_skip[d];
	uint32_t off = 0, cap = ev->cap_len;

	if (ev->pos != c->expect[d])
		c->tls_rec_lost[d] = true;
	while (!c->tls_rec_lost[d] && off < cap && !c->tls) {
		if (skip) {
			uint32_t n = skip < cap - off ? skip : cap - off;

			off += n;
			skip -= n;
			continue;
		}
		if (cap - off < 5 || !record_hdr(b + off)) {
			c->tls_rec_lost[d] = true;
			break;
		}
		if (cap - off >= 5 + SA_TLS_FP_LEN)
			fp_match(t, c, d, b + off + 5);
		skip = 5 + ((uint32_t)b[off + 3] << 8 | b[off + 4]);
	}
	if (ev->orig_len > cap)
		c->tls_rec_lost[d] = true;
	c->tls_rec_skip[d] = skip;
}

/* Socket I/O inside a handshake call: the SSL*'s socket, before its bytes are parsed. */
static void handshake_tie(struct tls_state *t, struct conn *c, uint64_t ssl)
{
	struct stream *s = stream_get(t, c->tgid, ssl, true);

	if (s && !s->tied && !s->orphan)
		tie(t, s, c, TLS_TIE_SYSCALL);
}

bool tls__socket_data(struct tls_state *t, struct conn *c, const struct sa_data_event *ev,
		      const uint8_t *payload)
{
	struct last_sock *l = &t->last[ev->hdr.pid % LAST_SLOTS];

	if (c->transport != SA_TRANSPORT_TCP && c->transport != SA_TRANSPORT_UNIX)
		return false;
	l->tid = ev->hdr.pid;
	l->tgid = ev->hdr.tgid;
	l->fd = ev->fd;
	l->gen = ev->gen;
	l->ts = ev->hdr.ts_ns;
	if (!c->tls && l->hs_tid == ev->hdr.pid && l->hs_ssl)
		handshake_tie(t, c, l->hs_ssl);
	if (c->tls) {
		t->cnt[TLS_CIPHER_BYTES] += ev->orig_len;
		return true;
	}
	if (c->tls_wire == TLS_WIRE_UNKNOWN && ev->pos == 0)
		c->tls_wire = ev->cap_len >= 3 && record_hdr(payload) ? TLS_WIRE_TLS :
			      TLS_WIRE_PLAIN;
	if (c->tls_wire != TLS_WIRE_TLS)
		return false;
	walk_records(t, c, ev, payload);
	if (!c->tls)
		return false;
	t->cnt[TLS_CIPHER_BYTES] += ev->orig_len;	/* tied by this very event */
	return true;
}

/*
 * HTTP/2's first bytes: the client's preface, or a SETTINGS frame on
 * stream 0 (a server sends its own before it has read the preface).
 */
static bool h2_start(const uint8_t *b, size_t len)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n";
	uint32_t flen;

	if (len >= sizeof(preface) - 1 && !memcmp(b, preface, sizeof(preface) - 1))
		return true;
	if (len < 9 || b[3] != 4 || (b[5] | b[6] | b[7] | b[8]))
		return false;
	flen = (uint32_t)b[0] << 16 | b[1] << 8 | b[2];
	return flen % 6 == 0 && flen <= 6 * 16;
}

bool tls__h2_preface(struct tls_state *t, struct conn *c, const uint8_t *buf, size_t len)
{
	if (!h2_start(buf, len))
		return false;
	c->tls_h2 = true;
	t->cnt[TLS_H2_CONNS]++;
	return true;
}
