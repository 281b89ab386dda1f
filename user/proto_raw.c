// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Raw exchanges: a stream whose protocol is not recognised (or HTTP after
 * 101, or HTTP/2 inside TLS). What the side that spoke first said until the
 * other answered is the request, the answer until the first side speaks
 * again the response; each pair goes to the correlator as one exchange.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "correlate.h"
#include "proto.h"

struct raw_state {
	const struct proto_env *env;
	size_t keep;			/* bytes kept per side: the excerpt, then the look-ahead */
	uint8_t init_dir;		/* the direction that spoke first */
	struct message msg[2];		/* per direction: sizes, times, excerpt */
	uint8_t *buf[2];
	uint32_t tid[2];
};

/* A raw side's kept bytes as excerpt plus look-ahead. */
static void raw_split(struct message *m, size_t excerpt)
{
	m->body_ahead = m->body_len > excerpt ? m->body_len - excerpt : 0;
	m->body_len -= m->body_ahead;
	m->body_cut = m->body_len < m->body_bytes;
}

static void raw_reset_side(struct raw_state *r, int dir)
{
	memset(&r->msg[dir], 0, sizeof(r->msg[dir]));
	r->msg[dir].body = r->buf[dir];
}

static bool side_said(const struct message *m)
{
	return m->wire_bytes || m->lost_bytes;
}

/* What both sides said so far is one exchange (dflt_outcome: the answer is missing). */
static void raw_emit(struct conn *c, int dflt_outcome)
{
	struct raw_state *r = c->ps;
	int i = r->init_dir;
	struct msg_copy req = { .m = r->msg[i], .tid = r->tid[i] };
	struct msg_copy resp = { .m = r->msg[!i], .tid = r->tid[!i] };
	bool has_req = side_said(&r->msg[i]), has_resp = side_said(&r->msg[!i]);

	if (!has_req && !has_resp)
		return;
	raw_split(&req.m, r->env->body_excerpt);
	raw_split(&resp.m, r->env->body_excerpt);
	correlator__pair(r->env->cr, c, has_req ? &req : NULL, has_resp ? &resp : NULL,
			 has_req && has_resp ? OUTCOME_OK : has_req ? dflt_outcome :
			 OUTCOME_NO_REQUEST);
	raw_reset_side(r, 0);
	raw_reset_side(r, 1);
}

static int raw_start(const struct proto_env *env, struct conn *c, int dir, const uint8_t *buf,
		     size_t len)
{
	size_t keep = env->body_excerpt ? env->body_excerpt + HTTP_BODY_AHEAD : 0;
	struct raw_state *r = calloc(1, sizeof(*r) + 2 * keep);

	(void)buf;
	(void)len;
	if (!r)
		return -ENOMEM;
	r->env = env;
	r->keep = keep;
	r->buf[0] = (uint8_t *)(r + 1);
	r->buf[1] = r->buf[0] + keep;
	r->init_dir = dir;
	raw_reset_side(r, 0);
	raw_reset_side(r, 1);
	c->ps = r;
	c->ops = &proto_raw_ops;
	c->proto = PROTO_RAW;
	return 0;
}

/* Bytes (or, with buf NULL, a gap) on one direction of a raw connection. */
static void raw_data(struct conn *c, int dir, const uint8_t *buf, size_t len, uint64_t ts)
{
	struct raw_state *r = c->ps;
	struct message *m = &r->msg[dir];

	if (dir == r->init_dir && r->msg[!dir].wire_bytes)
		raw_emit(c, OUTCOME_OK);	/* the initiator speaks again: next exchange */
	if (!side_said(m)) {
		m->ts_first_ns = ts;
		r->tid[dir] = r->env->tid;
	}
	m->ts_last_ns = ts;
	if (!buf) {
		m->lost_bytes += len;
		return;
	}
	if (m->body_len < r->keep) {
		size_t n = len < r->keep - m->body_len ? len : r->keep - m->body_len;

		memcpy(r->buf[dir] + m->body_len, buf, n);
		m->body_len += n;
	}
	m->wire_bytes += len;
	m->body_bytes += len;
	m->body_cut = m->body_len < m->body_bytes;
}

static void raw_feed(struct conn *c, int dir, const uint8_t *buf, size_t len, uint64_t ts)
{
	raw_data(c, dir, buf, len, ts);
}

static void raw_gap(struct conn *c, int dir, uint64_t n, uint64_t ts)
{
	raw_data(c, dir, NULL, n, ts);
}

static void raw_close(struct conn *c, int outcome, uint64_t ts)
{
	(void)ts;
	raw_emit(c, outcome);
}

static void raw_free(struct conn *c)
{
	free(c->ps);
	c->ps = NULL;
}

/* Anything is raw: the protocol of last resort. */
static bool raw_detect(const struct conn *c, int dir, const uint8_t *buf, size_t len)
{
	(void)c;
	(void)dir;
	(void)buf;
	return len > 0;
}

const struct proto_ops proto_raw_ops = {
	.name = "raw",
	.proto = PROTO_RAW,
	.detect = raw_detect,
	.start = raw_start,
	.feed = raw_feed,
	.gap = raw_gap,
	.close = raw_close,
	.free = raw_free,
};

int proto_raw__switch(const struct proto_env *env, struct conn *c, int client_dir)
{
	proto__release(c);
	return raw_start(env, c, client_dir, NULL, 0);
}
