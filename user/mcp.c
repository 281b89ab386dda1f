// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* MCP identity remembered per stream and per HTTP session (see mcp.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mcp.h"

struct mcp_session {
	char id[HTTP_MCP_HDR_MAX];
	uint64_t used;			/* last use, for eviction */
	struct mcp_ident ident;
};

struct mcp_memory {
	struct mcp_session *s;
	uint32_t n, cap;
	uint64_t clock;
	uint64_t evicted;
};

struct mcp_memory *mcp_memory__new(uint32_t max_sessions)
{
	struct mcp_memory *mm = calloc(1, sizeof(*mm));

	if (!mm)
		return NULL;
	mm->cap = max_sessions ? max_sessions : MCP_DEFAULT_SESSIONS;
	return mm;
}

void mcp_memory__free(struct mcp_memory *mm)
{
	if (!mm)
		return;
	free(mm->s);
	free(mm);
}

uint64_t mcp_memory__evicted(const struct mcp_memory *mm)
{
	return mm ? mm->evicted : 0;
}

/* A slot for a new session: a free one (allocated on first use), else the least recently used. */
static struct mcp_session *session_slot(struct mcp_memory *mm)
{
	struct mcp_session *old;
	uint32_t i;

	if (!mm->s) {
		mm->s = calloc(mm->cap, sizeof(*mm->s));
		if (!mm->s)
			return NULL;
	}
	if (mm->n < mm->cap)
		return &mm->s[mm->n++];
	old = &mm->s[0];
	for (i = 1; i < mm->n; i++)
		if (mm->s[i].used < old->used)
			old = &mm->s[i];
	mm->evicted++;
	return old;
}

/* The session named id, made when new; NULL on ENOMEM. */
static struct mcp_ident *session_get(struct mcp_memory *mm, const char *id)
{
	struct mcp_session *s = NULL;
	uint32_t i;

	for (i = 0; i < mm->n && !s; i++)
		if (!strcmp(mm->s[i].id, id))
			s = &mm->s[i];
	if (!s) {
		s = session_slot(mm);
		if (!s)
			return NULL;
		memset(s, 0, sizeof(*s));
		snprintf(s->id, sizeof(s->id), "%s", id);
	}
	s->used = ++mm->clock;
	return &s->ident;
}

static void put(char *dst, const char *src, size_t cap)
{
	if (src[0])
		snprintf(dst, cap, "%s", src);
}

/* Members src knows replace dst's (a later initialize or _meta is newer). */
static void ident_merge(struct mcp_ident *dst, const struct mcp_ident *src)
{
	put(dst->proto, src->proto, sizeof(dst->proto));
	put(dst->client_name, src->client_name, sizeof(dst->client_name));
	put(dst->client_ver, src->client_ver, sizeof(dst->client_ver));
	put(dst->server_name, src->server_name, sizeof(dst->server_name));
	put(dst->server_ver, src->server_ver, sizeof(dst->server_ver));
}

static bool ident_empty(const struct mcp_ident *id)
{
	return !id->proto[0] && !id->client_name[0] && !id->server_name[0];
}

/* The headers: the request's, the response's for what it alone sets (initialize's session id). */
static void view_headers(struct mcp_view *v, const struct msg_copy *rq, const struct msg_copy *rs)
{
	const struct message *q = rq ? &rq->m : NULL, *r = rs ? &rs->m : NULL;

	if (q) {
		put(v->session, msg_http(q)->mcp_session, sizeof(v->session));
		put(v->method_hdr, msg_http(q)->mcp_method, sizeof(v->method_hdr));
		put(v->name_hdr, msg_http(q)->mcp_name, sizeof(v->name_hdr));
		put(v->traceparent, msg_http(q)->traceparent, sizeof(v->traceparent));
	}
	if (r && !v->session[0])
		put(v->session, msg_http(r)->mcp_session, sizeof(v->session));
	if (rq && !v->traceparent[0])
		put(v->traceparent, rq->rpc.traceparent, sizeof(v->traceparent));
}

/* Where this exchange's identity is remembered: its HTTP session, else its stream. */
static struct mcp_ident *memory_of(struct mcp_memory *mm, struct conn *c, const char *session)
{
	if (session[0] && mm)
		return session_get(mm, session);
	if (!c->mcp)
		c->mcp = calloc(1, sizeof(*c->mcp));
	return c->mcp;
}

bool mcp__view(struct mcp_memory *mm, struct conn *c, const struct exchange *x,
	       struct mcp_view *v)
{
	const struct msg_copy *rq = x->req && x->req->rpc.kind ? x->req : NULL;
	const struct msg_copy *rs = x->resp && x->resp->rpc.kind ? x->resp : NULL;
	struct mcp_ident *mem;

	if (!rq && !rs)
		return false;
	memset(v, 0, sizeof(*v));
	view_headers(v, rq, rs);
	if (rq)
		ident_merge(&v->id, &rq->rpc.ident);
	if (rs)
		ident_merge(&v->id, &rs->rpc.ident);
	mem = memory_of(mm, c, v->session);
	if (mem) {
		ident_merge(mem, &v->id);	/* remember what this exchange said */
		v->id = *mem;
	}
	return !ident_empty(&v->id) || v->session[0] || v->method_hdr[0] || v->traceparent[0];
}
