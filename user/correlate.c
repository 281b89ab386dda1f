// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Pairs requests with responses per connection; expires the unanswered. */
#include <stdlib.h>
#include <string.h>
#include "correlate.h"

/* Early responses kept per connection (they wait for a request in progress). */
#define CORR_MAX_EARLY 16

/* A waiting request, or (on conn->early_*) a response that came early. */
struct pending {
	struct pending *next;		/* on the connection, oldest first */
	struct pending *gprev, *gnext;	/* on the global arrival list */
	struct conn *conn;
	uint64_t arrived_ns;
	struct msg_copy req;
};

struct correlator {
	uint64_t ttl_ns;
	exchange_fn fn;
	void *ctx;
	struct pending *ghead, *gtail;	/* arrival order: oldest first */
	uint64_t npending;
};

static const char *const outcome_names[OUTCOME_MAX] = {
	[OUTCOME_OK] = "ok",
	[OUTCOME_NO_RESPONSE] = "no_response",
	[OUTCOME_CONN_CLOSED] = "conn_closed",
	[OUTCOME_NO_REQUEST] = "no_request",
	[OUTCOME_INCOMPLETE] = "incomplete",
	[OUTCOME_PROC_EXIT] = "proc_exit",
	[OUTCOME_SHUTDOWN] = "shutdown",
};

const char *outcome__name(int outcome)
{
	return outcome >= 0 && outcome < OUTCOME_MAX ? outcome_names[outcome] : "unknown";
}

struct correlator *correlator__new(uint64_t ttl_ns, exchange_fn fn, void *ctx)
{
	struct correlator *cr = calloc(1, sizeof(*cr));

	if (!cr)
		return NULL;
	cr->ttl_ns = ttl_ns;
	cr->fn = fn;
	cr->ctx = ctx;
	return cr;
}

void correlator__free(struct correlator *cr)
{
	free(cr);
}

/* Copy a parsed message; the excerpt is duplicated (the parser reuses its buffer). */
static int msg_copy__init(struct msg_copy *mc, const struct http_msg *m, uint32_t tid)
{
	mc->m = *m;
	mc->tid = tid;
	mc->body = NULL;
	if (m->body_len) {
		mc->body = malloc(m->body_len);
		if (!mc->body) {
			mc->m.body_len = 0;
			mc->m.body_cut = true;
			return -1;
		}
		memcpy(mc->body, m->body, m->body_len);
	}
	mc->m.body = mc->body;
	return 0;
}

static int outcome_of(const struct http_msg *req, const struct http_msg *resp, int dflt)
{
	if ((req && req->incomplete) || (resp && resp->incomplete))
		return OUTCOME_INCOMPLETE;
	return dflt;
}

static void emit(struct correlator *cr, const struct conn *c, const struct msg_copy *req,
		 const struct msg_copy *resp, int outcome)
{
	struct exchange x = { .conn = c, .req = req, .resp = resp, .outcome = outcome };

	cr->fn(cr->ctx, &x);
}

static void unlink_global(struct correlator *cr, struct pending *p)
{
	if (p->gprev)
		p->gprev->gnext = p->gnext;
	else
		cr->ghead = p->gnext;
	if (p->gnext)
		p->gnext->gprev = p->gprev;
	else
		cr->gtail = p->gprev;
	cr->npending--;
}

/* Take the oldest request off c (and off the global list). */
static struct pending *pop_oldest(struct correlator *cr, struct conn *c)
{
	struct pending *p = c->pend_head;

	if (!p)
		return NULL;
	c->pend_head = p->next;
	if (!c->pend_head)
		c->pend_tail = NULL;
	c->npending--;
	unlink_global(cr, p);
	return p;
}

static void pending__free(struct pending *p)
{
	free(p->req.body);
	free(p);
}

/* Take the oldest early response off c. */
static struct pending *pop_early(struct conn *c)
{
	struct pending *p = c->early_head;

	if (!p)
		return NULL;
	c->early_head = p->next;
	if (!c->early_head)
		c->early_tail = NULL;
	c->nearly--;
	return p;
}

void correlator__request(struct correlator *cr, struct conn *c, const struct http_msg *m,
			 uint32_t tid)
{
	struct pending *p, *early = pop_early(c);

	if (early) {
		struct msg_copy req;

		msg_copy__init(&req, m, tid);
		emit(cr, c, &req, &early->req, outcome_of(m, &early->req.m, OUTCOME_OK));
		free(req.body);
		pending__free(early);
		return;
	}
	p = calloc(1, sizeof(*p));

	if (!p) {
		struct msg_copy mc = { .m = *m, .tid = tid };

		mc.m.body_len = 0;	/* out of memory: still write the request alone */
		emit(cr, c, &mc, NULL, OUTCOME_NO_RESPONSE);
		return;
	}
	msg_copy__init(&p->req, m, tid);
	p->conn = c;
	p->arrived_ns = m->ts_first_ns;
	if (c->pend_tail)
		c->pend_tail->next = p;
	else
		c->pend_head = p;
	c->pend_tail = p;
	c->npending++;
	p->gprev = cr->gtail;
	if (cr->gtail)
		cr->gtail->gnext = p;
	else
		cr->ghead = p;
	cr->gtail = p;
	cr->npending++;
}

/* Keep a response until the request it answers is complete. */
static bool hold_early(struct conn *c, const struct http_msg *m, uint32_t tid)
{
	struct pending *p;

	if (c->nearly >= CORR_MAX_EARLY || !(p = calloc(1, sizeof(*p))))
		return false;
	msg_copy__init(&p->req, m, tid);
	p->conn = c;
	if (c->early_tail)
		c->early_tail->next = p;
	else
		c->early_head = p;
	c->early_tail = p;
	c->nearly++;
	return true;
}

void correlator__response(struct correlator *cr, struct conn *c, const struct http_msg *m,
			  uint32_t tid, bool req_in_progress)
{
	struct msg_copy resp;
	struct pending *p;

	/* interim responses (100 Continue, 103 Early Hints) do not answer the request */
	if (m->status >= 100 && m->status < 200 && m->status != 101)
		return;
	if (!c->pend_head && req_in_progress && hold_early(c, m, tid))
		return;
	msg_copy__init(&resp, m, tid);
	p = pop_oldest(cr, c);
	if (p) {
		emit(cr, c, &p->req, &resp, outcome_of(&p->req.m, m, OUTCOME_OK));
		pending__free(p);
	} else {
		emit(cr, c, NULL, &resp, OUTCOME_NO_REQUEST);
	}
	free(resp.body);
}

bool correlator__answers_head(const struct conn *c)
{
	return c->pend_head && strcmp(c->pend_head->req.m.method, "HEAD") == 0;
}

void correlator__flush_conn(struct correlator *cr, struct conn *c, int outcome)
{
	struct pending *p;

	while ((p = pop_oldest(cr, c))) {
		emit(cr, c, &p->req, NULL, outcome);
		pending__free(p);
	}
	while ((p = pop_early(c))) {
		emit(cr, c, NULL, &p->req, OUTCOME_NO_REQUEST);
		pending__free(p);
	}
}

void correlator__expire(struct correlator *cr, uint64_t now_ns)
{
	while (cr->ghead && cr->ghead->arrived_ns + cr->ttl_ns <= now_ns) {
		struct pending *p = cr->ghead;
		struct conn *c = p->conn;

		/* HTTP/1.x answers in order: the oldest on its conn is the oldest overall */
		p = pop_oldest(cr, c);
		emit(cr, c, &p->req, NULL, OUTCOME_NO_RESPONSE);
		pending__free(p);
	}
}

uint64_t correlator__pending(const struct correlator *cr)
{
	return cr->npending;
}
