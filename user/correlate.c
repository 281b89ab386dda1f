// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pairs requests with responses per connection: HTTP/1.x in order, JSON-RPC
 * by id in any order and in both directions. Expires the unanswered, bounds
 * what waits, and writes every message in exactly one exchange.
 *
 * A waiting message is packed into one allocation sized to what it holds
 * (numbers, its strings, its excerpt), not kept as a full struct msg_copy:
 * a million waiting requests must not cost a million times 2 KiB.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "correlate.h"
#include "mcp.h"

/* Early responses kept per connection (they wait for a request in progress). */
#define CORR_MAX_EARLY 16

/*
 * Entries freed after pairing are kept for the next message (most
 * connections have one request waiting at a time, so malloc and free would
 * run once per exchange): at most POOL_MAX of them, none above POOL_ENTRY_MAX
 * bytes, sizes rounded up to POOL_ROUND so a slightly longer target fits.
 */
#define POOL_MAX	64
#define POOL_ENTRY_MAX	4096
#define POOL_ROUND	256

/*
 * A request kept whole instead of packed: a protocol builds its messages in
 * a slot (correlator__report_buf) and a request that waits keeps that slot,
 * so neither packing nor unpacking runs for it. SLOTS_MAX bound the memory
 * (about 3.5 KiB each); past them, and for larger excerpts or JSON-RPC
 * facts, requests are packed.
 */
#define SLOTS_MAX	256
#define SLOT_BODY	512

/* The strings of a msg_copy that are packed: where they live and their size. */
static const struct {
	size_t off;
	size_t cap;
} pack_strs[] = {
	{ offsetof(struct msg_copy, http.method), HTTP_METHOD_MAX },
	{ offsetof(struct msg_copy, http.target), HTTP_TARGET_MAX },
	{ offsetof(struct msg_copy, http.reason), HTTP_REASON_MAX },
	{ offsetof(struct msg_copy, http.content_type), HTTP_CTYPE_MAX },
	{ offsetof(struct msg_copy, http.host), HTTP_HOST_MAX },
	/* MCP facts: empty in most messages, so they cost a length each */
	{ offsetof(struct msg_copy, http.mcp_session), HTTP_MCP_HDR_MAX },
	{ offsetof(struct msg_copy, http.mcp_method), HTTP_MCP_HDR_MAX },
	{ offsetof(struct msg_copy, http.mcp_name), HTTP_MCP_HDR_MAX },
	{ offsetof(struct msg_copy, http.traceparent), HTTP_MCP_HDR_MAX },
	{ offsetof(struct msg_copy, rpc.id), RPC_ID_MAX },
	{ offsetof(struct msg_copy, rpc.method), RPC_METHOD_MAX },
	{ offsetof(struct msg_copy, rpc.tool), RPC_TOOL_MAX },
	{ offsetof(struct msg_copy, rpc.err_msg), RPC_ERRMSG_MAX },
	{ offsetof(struct msg_copy, rpc.uri), RPC_URI_MAX },
	{ offsetof(struct msg_copy, rpc.traceparent), MCP_TRACE_MAX },
	{ offsetof(struct msg_copy, rpc.ident.proto), MCP_VER_MAX },
	{ offsetof(struct msg_copy, rpc.ident.client_name), MCP_NAME_MAX },
	{ offsetof(struct msg_copy, rpc.ident.client_ver), MCP_VER_MAX },
	{ offsetof(struct msg_copy, rpc.ident.server_name), MCP_NAME_MAX },
	{ offsetof(struct msg_copy, rpc.ident.server_ver), MCP_VER_MAX },
};
#define N_PACK_STRS (sizeof(pack_strs) / sizeof(pack_strs[0]))
#define N_HTTP_STRS 9	/* the http_part strings come first */
#define PACK_STR_ID N_HTTP_STRS

/* A msg_copy without its strings and excerpt, which follow it in memory. */
struct packed {
	uint64_t ts_first, ts_last, wire_bytes, body_bytes, lost_bytes;
	int64_t err_code;
	const char *malformed;		/* a static reason word, or NULL */
	int32_t status, version;
	uint32_t tid, body_len, body_ahead;
	uint16_t str_len[N_PACK_STRS];
	uint8_t rpc_kind, dir;
	bool has_http, is_request, chunked, conn_close, body_cut, incomplete;
	bool has_id, has_error, rpc_cut;
	char data[];			/* the strings (no NULs), then the excerpt */
};

/* A waiting request, or (on conn->early_*) a response that came early. */
struct pending {
	struct pending *next;		/* on the connection, oldest first */
	struct pending *gprev, *gnext;	/* on the global arrival list */
	struct conn *conn;
	uint64_t arrived_ns;
	struct packed *msg;		/* right after this struct, in the same allocation; or NULL */
	struct msg_copy *whole;		/* ... or the message kept whole (a slot), or NULL */
	size_t cap;			/* bytes of a packed entry's allocation */
	/*
	 * An early response that came with no request waiting or in progress:
	 * a lost request event shows only when the next one arrives, so it
	 * waits for that. A placeholder for lost bytes takes it; a request
	 * seen whole writes it as no_request first.
	 */
	bool orphan;
};

/* What waits on one connection: the correlator's, reached through conn->corr. */
struct corr_conn {
	/* requests waiting for their response, oldest first */
	struct pending *pend_head;
	struct pending *pend_tail;
	uint32_t npending;
	/* responses that came before their request was complete */
	struct pending *early_head;
	struct pending *early_tail;
	uint32_t nearly;
};

struct correlator {
	uint64_t ttl_ns;
	struct corr_bounds bounds;
	exchange_fn fn;
	void *ctx;
	struct pending *ghead, *gtail;	/* arrival order: oldest first */
	uint64_t npending;
	uint64_t evicted;
	struct mcp_memory *mcp;		/* MCP identity per HTTP session, or NULL */
	struct pending *pool;		/* freed entries for reuse, through next */
	uint32_t npool;
	struct slot *slots;		/* free slots, through p.next */
	struct slot *lent;		/* the slot correlator__report_buf handed out, or NULL */
	uint32_t nslots;		/* slots allocated */
};

/* A waiting request kept whole: its entry, the message and its excerpt. */
struct slot {
	struct pending p;
	struct msg_copy mc;
	uint8_t body[SLOT_BODY];
};

static const char *const outcome_names[OUTCOME_MAX] = {
	[OUTCOME_OK] = "ok",
	[OUTCOME_NO_RESPONSE] = "no_response",
	[OUTCOME_CONN_CLOSED] = "conn_closed",
	[OUTCOME_NO_REQUEST] = "no_request",
	[OUTCOME_INCOMPLETE] = "incomplete",
	[OUTCOME_PROC_EXIT] = "proc_exit",
	[OUTCOME_SHUTDOWN] = "shutdown",
	[OUTCOME_ERROR] = "error",
	[OUTCOME_NOTIFICATION] = "notification",
	[OUTCOME_EVICTED] = "evicted",
};

const char *outcome__name(int outcome)
{
	return outcome >= 0 && outcome < OUTCOME_MAX ? outcome_names[outcome] : "unknown";
}

/* ---- packing ---- */

/* Pack mc into pk, which has room for the lens of its strings and its excerpt. */
static void pack_into(struct packed *pk, const struct msg_copy *mc, const size_t *lens)
{
	const struct message *m = &mc->m;
	const struct http_part *h = msg_http(m);
	bool rpc = mc->rpc.kind != RPC_NONE;	/* else its other members are not set */
	size_t i = mc->m.http ? 0 : N_HTTP_STRS, end = mc->rpc.kind ? N_PACK_STRS : N_HTTP_STRS;
	char *p = pk->data;

	*pk = (struct packed){
		.ts_first = m->ts_first_ns, .ts_last = m->ts_last_ns, .wire_bytes = m->wire_bytes,
		.body_bytes = m->body_bytes, .lost_bytes = m->lost_bytes,
		.err_code = rpc ? mc->rpc.err_code : 0, .malformed = m->malformed,
		.status = h->status, .version = h->version,
		.tid = mc->tid, .body_len = m->body_len,
		.body_ahead = (uint32_t)m->body_ahead, .rpc_kind = mc->rpc.kind, .dir = mc->dir,
		.has_http = m->http != NULL, .is_request = m->is_request, .chunked = h->chunked,
		.conn_close = h->conn_close, .body_cut = m->body_cut, .incomplete = m->incomplete, .has_id = rpc && mc->rpc.has_id,
		.has_error = rpc && mc->rpc.has_error, .rpc_cut = rpc && mc->rpc.cut,
	};
	/* the strings of the parts mc has: HTTP's with an HTTP part, JSON-RPC's when it is JSON-RPC */
	for (; i < end; p += lens[i], i++) {
		pk->str_len[i] = lens[i];
		if (lens[i])
			memcpy(p, (const char *)mc + pack_strs[i].off, lens[i]);
	}
	if (m->body_len + m->body_ahead)
		memcpy(p, m->body, m->body_len + m->body_ahead);
}

/* Bytes the strings of mc take packed, each length into lens. */
static size_t pack_strs_len(const struct msg_copy *mc, size_t *lens)
{
	size_t total = 0, i = 0, used = mc->rpc.kind ? N_PACK_STRS : N_HTTP_STRS;

	if (!mc->m.http)	/* no HTTP part: its strings take nothing */
		for (; i < N_HTTP_STRS; i++)
			lens[i] = 0;
	for (; i < used; i++) {
		const char *str = (const char *)mc + pack_strs[i].off;

		/* most are empty (MCP headers, a request's reason): no call for those */
		lens[i] = str[0] ? strnlen(str, pack_strs[i].cap - 1) : 0;
		total += lens[i];
	}
	for (; i < N_PACK_STRS; i++)
		lens[i] = 0;
	return total;
}

/* n bytes of src as the string at dst: its arrays are never copied whole. */
static void str_set(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Empty JSON-RPC facts: scalars and the first byte of each string. */
static void rpc_clear(struct rpc_msg *r)
{
	r->err_code = 0;
	r->malformed = NULL;
	r->kind = RPC_NONE;
	r->has_id = r->has_error = r->cut = r->guessed = false;
	r->id[0] = r->method[0] = r->tool[0] = r->err_msg[0] = '\0';
	r->uri[0] = r->traceparent[0] = '\0';
	memset(&r->ident, 0, sizeof(r->ident));
}

/*
 * Rebuild a msg_copy (on the caller's stack) from a packed message. Member
 * by member: zeroing the struct first would write its 2 KiB of string
 * arrays for every message.
 */
static void unpack(const struct packed *pk, struct msg_copy *mc)
{
	struct message *m = &mc->m;
	const char *p = pk->data;
	/* read once: the string stores below may alias pk for the compiler */
	size_t i = pk->has_http ? 0 : N_HTTP_STRS, end = pk->rpc_kind ? N_PACK_STRS : N_HTTP_STRS;

	m->ts_first_ns = pk->ts_first;
	m->ts_last_ns = pk->ts_last;
	m->wire_bytes = pk->wire_bytes;
	m->body_bytes = pk->body_bytes;
	m->lost_bytes = pk->lost_bytes;
	m->malformed = pk->malformed;
	m->body_len = pk->body_len;
	m->body_ahead = pk->body_ahead;
	m->is_request = pk->is_request;
	m->body_cut = pk->body_cut;
	m->incomplete = pk->incomplete;
	m->http = pk->has_http ? &mc->http : NULL;
	/* the copy's own part: written whether read or not, no branch */
	mc->http.status = pk->status;
	mc->http.version = pk->version;
	mc->http.chunked = pk->chunked;
	mc->http.conn_close = pk->conn_close;
	/* HTTP's strings stay unwritten without an HTTP part (never read) */
	for (; i < end; p += pk->str_len[i], i++) {
		if (pk->str_len[i])
			str_set((char *)mc + pack_strs[i].off, p, pk->str_len[i]);
		else
			*((char *)mc + pack_strs[i].off) = '\0';
	}
	for (; i < N_PACK_STRS; i++)	/* not JSON-RPC: empty, never read */
		*((char *)mc + pack_strs[i].off) = '\0';
	m->body = (const uint8_t *)p;
	mc->body = (uint8_t *)m->body;
	mc->rpc.kind = pk->rpc_kind;
	mc->rpc.err_code = pk->err_code;
	mc->rpc.malformed = pk->malformed;
	mc->rpc.has_id = pk->has_id;
	mc->rpc.has_error = pk->has_error;
	mc->rpc.cut = pk->rpc_cut;
	mc->rpc.guessed = false;
	mc->tid = pk->tid;
	mc->dir = pk->dir;
}

static bool packed_id_is(const struct packed *pk, const char *id)
{
	const char *p = pk->data;
	size_t i;

	for (i = 0; i < PACK_STR_ID; i++)
		p += pk->str_len[i];
	return jsonrpc__id_match(p, pk->str_len[PACK_STR_ID], id, strlen(id));
}

/* An entry of at least need bytes: the pool's first when it is big enough. */
static struct pending *pending_alloc(struct correlator *cr, size_t need)
{
	struct pending *p = cr->pool;
	size_t cap = need;

	if (p && p->cap >= need) {
		cr->pool = p->next;
		cr->npool--;
		return p;
	}
	if (need <= POOL_ENTRY_MAX)
		cap = (need + POOL_ROUND - 1) / POOL_ROUND * POOL_ROUND;
	p = malloc(cap);
	if (p)
		p->cap = cap;
	return p;
}

/* An entry is done with: kept for the next message, or freed. */
static void pending_free(struct correlator *cr, struct pending *p)
{
	if (p->whole) {
		struct slot *sl = (struct slot *)p;

		sl->p.next = cr->slots ? &cr->slots->p : NULL;
		cr->slots = sl;
		return;
	}
	if (p->cap <= POOL_ENTRY_MAX && cr->npool < POOL_MAX) {
		p->next = cr->pool;
		cr->pool = p;
		cr->npool++;
		return;
	}
	free(p);
}

/* No JSON-RPC facts, as unpack leaves them: scalars and the first byte of each string. */
static void rpc_none(struct msg_copy *mc)
{
	size_t i;

	mc->rpc.err_code = 0;
	mc->rpc.malformed = mc->m.malformed;
	mc->rpc.has_id = mc->rpc.has_error = mc->rpc.cut = mc->rpc.guessed = false;
	/* unrolled, the table's offsets fold into one store per string (once per request) */
#pragma GCC unroll 16
	for (i = N_HTTP_STRS; i < N_PACK_STRS; i++)
		*((char *)mc + pack_strs[i].off) = '\0';
}

/*
 * mc is the lent slot and can stay as it is: not JSON-RPC (its facts would
 * need the id lookups of packed entries) and an excerpt that fits.
 */
static struct pending *slot_adopt(struct correlator *cr, const struct msg_copy *mc)
{
	struct slot *sl = cr->lent;
	size_t n;

	if (!sl || mc != &sl->mc || mc->rpc.kind != RPC_NONE)
		return NULL;
	n = mc->m.body_len + mc->m.body_ahead;
	if (n > SLOT_BODY)
		return NULL;
	if (n)
		memcpy(sl->body, mc->m.body, n);	/* the parser's excerpt is reused */
	sl->mc.m.body = sl->mc.body = sl->body;
	rpc_none(&sl->mc);
	cr->lent = NULL;
	sl->p = (struct pending){ .whole = &sl->mc };
	return &sl->p;
}

/* The message p holds: the slot's, or unpacked into tmp. */
static const struct msg_copy *pending_msg(const struct pending *p, struct msg_copy *tmp)
{
	if (p->whole)
		return p->whole;
	unpack(p->msg, tmp);
	return tmp;
}

/* A list entry holding mc, kept whole or packed in one allocation (pending_free gives it back). */
static struct pending *pending_new(struct correlator *cr, const struct msg_copy *mc)
{
	struct pending *p = slot_adopt(cr, mc);
	size_t lens[N_PACK_STRS], total;

	if (p)
		return p;
	total = pack_strs_len(mc, lens);
	p = pending_alloc(cr, sizeof(*p) + sizeof(struct packed) + total +
					      mc->m.body_len + mc->m.body_ahead);

	_Static_assert(sizeof(struct pending) % _Alignof(struct packed) == 0,
		       "the packed message follows the entry, aligned");
	if (!p)
		return NULL;
	*p = (struct pending){ .msg = (struct packed *)(p + 1), .cap = p->cap };
	pack_into(p->msg, mc, lens);
	return p;
}

/* ---- life ---- */

struct correlator *correlator__new(uint64_t ttl_ns, exchange_fn fn, void *ctx)
{
	struct correlator *cr = calloc(1, sizeof(*cr));

	if (!cr)
		return NULL;
	cr->ttl_ns = ttl_ns;
	cr->fn = fn;
	cr->ctx = ctx;
	correlator__set_bounds(cr, &(struct corr_bounds){ 0 });
	return cr;
}

void correlator__set_bounds(struct correlator *cr, const struct corr_bounds *b)
{
	cr->bounds.max_pending = b->max_pending ? b->max_pending : CORR_DEFAULT_MAX_PENDING;
	cr->bounds.max_pending_per_conn = b->max_pending_per_conn ? b->max_pending_per_conn :
					  CORR_DEFAULT_MAX_PER_CONN;
}

void correlator__free(struct correlator *cr)
{
	while (cr->pool) {
		struct pending *p = cr->pool;

		cr->pool = p->next;
		free(p);
	}
	while (cr->slots) {
		struct slot *sl = cr->slots;

		cr->slots = (struct slot *)sl->p.next;
		free(sl);
	}
	free(cr->lent);
	free(cr);
}

/* ---- emitting ---- */

bool exchange__critical(const struct exchange *x)
{
	int status = x->resp ? msg_http(&x->resp->m)->status : 0;

	return status == 401 || status == 403 ||
	       x->outcome == OUTCOME_ERROR;	/* a JSON-RPC error answer */
}

static int outcome_of(const struct message *req, const struct message *resp, int dflt)
{
	if ((req && req->incomplete) || (resp && resp->incomplete))
		return OUTCOME_INCOMPLETE;
	return dflt;
}

/*
 * The exchange goes to the output: named, its MCP identity attached, and a
 * JSON-RPC error answer (also one carried over HTTP) makes it "error".
 */
static void emit(struct correlator *cr, struct conn *c, const struct msg_copy *req,
		 const struct msg_copy *resp, int outcome)
{
	struct exchange x = { .conn = c, .req = req, .resp = resp, .outcome = outcome };
	struct mcp_view v;

	conn__name(c);	/* once per connection: every record of it shows these names */
	if (outcome == OUTCOME_OK && resp && resp->rpc.kind == RPC_ERROR)
		x.outcome = OUTCOME_ERROR;
	if (cr->mcp && ((req && req->rpc.kind) || (resp && resp->rpc.kind)) &&
	    mcp__view(cr->mcp, c, &x, &v))
		x.mcp = &v;
	cr->fn(cr->ctx, &x);
}

void correlator__pair(struct correlator *cr, struct conn *c, const struct msg_copy *req,
		      const struct msg_copy *resp, int outcome)
{
	emit(cr, c, req, resp, outcome);
}

/* Write a packed request (and maybe a live response) and free the request. */
static void emit_packed(struct correlator *cr, struct conn *c, struct pending *p,
			const struct msg_copy *resp, int outcome)
{
	struct msg_copy tmp;

	emit(cr, c, pending_msg(p, &tmp), resp, outcome);
	pending_free(cr, p);
}

/* ---- the lists ---- */

/* c's waiting lists, made on first use; NULL when out of memory. */
static struct corr_conn *lists_of(struct conn *c)
{
	if (!c->corr)
		c->corr = calloc(1, sizeof(*c->corr));
	return c->corr;
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

/* Take p off c's list (prev is the entry before it, or NULL) and the global one. */
static void unlink_pending(struct correlator *cr, struct conn *c, struct pending *prev,
			   struct pending *p)
{
	struct corr_conn *l = c->corr;

	if (prev)
		prev->next = p->next;
	else
		l->pend_head = p->next;
	if (l->pend_tail == p)
		l->pend_tail = prev;
	l->npending--;
	unlink_global(cr, p);
}

static struct pending *pop_oldest(struct correlator *cr, struct conn *c)
{
	struct pending *p = c->corr ? c->corr->pend_head : NULL;

	if (p)
		unlink_pending(cr, c, NULL, p);
	return p;
}

/* Make room under the bounds: the oldest waiting requests are written as evicted. */
static void enforce_bounds(struct correlator *cr, struct corr_conn *l, struct conn *c)
{
	while (l->npending >= cr->bounds.max_pending_per_conn && l->pend_head) {
		cr->evicted++;
		emit_packed(cr, c, pop_oldest(cr, c), NULL, OUTCOME_EVICTED);
	}
	while (cr->npending >= cr->bounds.max_pending && cr->ghead) {
		struct conn *oc = cr->ghead->conn;

		cr->evicted++;
		emit_packed(cr, oc, pop_oldest(cr, oc), NULL, OUTCOME_EVICTED);
	}
}

/* Queue a request on c; false when out of memory (the caller writes it alone). */
static bool push_pending(struct correlator *cr, struct conn *c, const struct msg_copy *mc)
{
	struct corr_conn *l = lists_of(c);
	struct pending *p;

	if (!l)
		return false;
	enforce_bounds(cr, l, c);
	p = pending_new(cr, mc);
	if (!p)
		return false;
	p->conn = c;
	p->arrived_ns = mc->m.ts_first_ns;
	if (l->pend_tail)
		l->pend_tail->next = p;
	else
		l->pend_head = p;
	l->pend_tail = p;
	l->npending++;
	p->gprev = cr->gtail;
	if (cr->gtail)
		cr->gtail->gnext = p;
	else
		cr->ghead = p;
	cr->gtail = p;
	cr->npending++;
	return true;
}

static struct pending *pop_early(struct conn *c)
{
	struct corr_conn *l = c->corr;
	struct pending *p = l ? l->early_head : NULL;

	if (!p)
		return NULL;
	l->early_head = p->next;
	if (!l->early_head)
		l->early_tail = NULL;
	l->nearly--;
	return p;
}

/* Keep a response until the request it answers is complete (or shows it was lost). */
static bool hold_early(struct correlator *cr, struct conn *c, const struct msg_copy *mc,
		       bool orphan)
{
	struct corr_conn *l = lists_of(c);
	struct pending *p;

	if (!l || l->nearly >= CORR_MAX_EARLY || !(p = pending_new(cr, mc)))
		return false;
	p->conn = c;
	p->orphan = orphan;
	if (l->early_tail)
		l->early_tail->next = p;
	else
		l->early_head = p;
	l->early_tail = p;
	l->nearly++;
	return true;
}

/* ---- HTTP: in order ---- */

/* The HTTP strings are the last members of http_part and the first packed ones. */
_Static_assert(offsetof(struct http_part, method) > offsetof(struct http_part, conn_close),
	       "the strings follow every other member of http_part");

/* m as a msg_copy: its numbers, then each string up to its NUL, not the whole arrays. */
static void msg_copy__wrap(struct msg_copy *mc, const struct message *m,
			   const struct rpc_msg *rpc, uint32_t tid)
{
	size_t i;

	if (rpc)
		mc->rpc = *rpc;
	else
		rpc_clear(&mc->rpc);
	mc->m = *m;
	mc->m.http = m->http ? &mc->http : NULL;
	if (m->http) {
		memcpy(&mc->http, m->http, offsetof(struct http_part, method));
		for (i = 0; i < N_HTTP_STRS; i++) {
			const char *src = (const char *)m->http + pack_strs[i].off -
					  offsetof(struct msg_copy, http);

			str_set((char *)mc + pack_strs[i].off, src,
				strnlen(src, pack_strs[i].cap - 1));
		}
	}
	mc->body = (uint8_t *)m->body;
	mc->tid = tid;
	mc->dir = 0;
}

/* A response held early, written alone as no_request; frees it. */
static void emit_early_alone(struct correlator *cr, struct conn *c, struct pending *p)
{
	struct msg_copy tmp;

	emit(cr, c, NULL, pending_msg(p, &tmp), OUTCOME_NO_REQUEST);
	pending_free(cr, p);
}

/*
 * The early response a request takes: orphans only go to a request that
 * lost bytes (the one they answered was in the gap); before a request seen
 * whole they are written as no_request.
 */
static struct pending *take_early(struct correlator *cr, struct conn *c, const struct message *m)
{
	bool lost = m->incomplete && m->lost_bytes;

	while (c->corr && c->corr->early_head && c->corr->early_head->orphan && !lost)
		emit_early_alone(cr, c, pop_early(c));
	return pop_early(c);
}

/* The exchange of a waiting message and the live one that pairs with it. */
static void emit_both(struct correlator *cr, struct conn *c, const struct msg_copy *waiting,
		      const struct msg_copy *live, bool live_is_req)
{
	const struct msg_copy *req = live_is_req ? live : waiting;
	const struct msg_copy *resp = live_is_req ? waiting : live;

	emit(cr, c, req, resp, outcome_of(&req->m, &resp->m, OUTCOME_OK));
}

/*
 * A packed waiting message, unpacked on this function's stack. Out of
 * line: that copy gave request_copy and response_copy a stack canary for
 * every exchange, when most waiting messages are slots kept whole.
 */
static __attribute__((noinline)) void emit_unpacked(struct correlator *cr, struct conn *c,
						    const struct pending *p,
						    const struct msg_copy *live, bool live_is_req)
{
	struct msg_copy tmp;

	unpack(p->msg, &tmp);
	emit_both(cr, c, &tmp, live, live_is_req);
}

/* Write waiting entry p with the live message that pairs with it; p is freed. */
static void emit_waiting(struct correlator *cr, struct conn *c, struct pending *p,
			 const struct msg_copy *live, bool live_is_req)
{
	if (p->whole)
		emit_both(cr, c, p->whole, live, live_is_req);
	else
		emit_unpacked(cr, c, p, live, live_is_req);
	pending_free(cr, p);
}

void correlator__request_copy(struct correlator *cr, struct conn *c, const struct msg_copy *req)
{
	struct pending *early = take_early(cr, c, &req->m);

	if (early) {
		emit_waiting(cr, c, early, req, true);
		return;
	}
	if (!push_pending(cr, c, req))
		emit(cr, c, req, NULL, OUTCOME_NO_RESPONSE);	/* out of memory: alone */
}

void correlator__request(struct correlator *cr, struct conn *c, const struct message *m,
			 const struct rpc_msg *rpc, uint32_t tid)
{
	struct msg_copy req;

	msg_copy__wrap(&req, m, rpc, tid);
	correlator__request_copy(cr, c, &req);
}

void correlator__response_copy(struct correlator *cr, struct conn *c,
			       const struct msg_copy *resp, bool req_in_progress)
{
	int status = msg_http(&resp->m)->status;
	struct pending *p;

	/* interim responses (100 Continue, 103 Early Hints) do not answer the request */
	if (status >= 100 && status < 200 && status != 101)
		return;
	if ((!c->corr || !c->corr->pend_head) && hold_early(cr, c, resp, !req_in_progress))
		return;
	p = pop_oldest(cr, c);
	if (p) {
		emit_waiting(cr, c, p, resp, false);
	} else {
		emit(cr, c, NULL, resp, OUTCOME_NO_REQUEST);
	}
}

void correlator__response(struct correlator *cr, struct conn *c, const struct message *m,
			  const struct rpc_msg *rpc, uint32_t tid, bool req_in_progress)
{
	struct msg_copy resp;
	int status = msg_http(m)->status;

	if (status >= 100 && status < 200 && status != 101)
		return;	/* interim: not even copied */
	msg_copy__wrap(&resp, m, rpc, tid);
	correlator__response_copy(cr, c, &resp, req_in_progress);
}

/* ---- JSON-RPC: by id ---- */

/* The waiting request with this id that travelled the other way, unlinked. */
static struct pending *take_by_id(struct correlator *cr, struct conn *c, const char *id,
				  uint8_t resp_dir)
{
	struct pending *p, *prev = NULL;

	for (p = c->corr ? c->corr->pend_head : NULL; p; prev = p, p = p->next) {
		if (p->msg && p->msg->dir != resp_dir && p->msg->rpc_kind == RPC_REQUEST &&
		    packed_id_is(p->msg, id)) {
			unlink_pending(cr, c, prev, p);
			return p;
		}
	}
	return NULL;
}

void correlator__rpc(struct correlator *cr, struct conn *c, const struct msg_copy *mc)
{
	struct pending *p;

	switch (mc->rpc.kind) {
	case RPC_REQUEST:
		if (!push_pending(cr, c, mc))
			emit(cr, c, mc, NULL, OUTCOME_NO_RESPONSE);
		return;
	case RPC_NOTIFICATION:
		emit(cr, c, mc, NULL, OUTCOME_NOTIFICATION);
		return;
	case RPC_RESULT:
	case RPC_ERROR:
		p = mc->rpc.has_id ? take_by_id(cr, c, mc->rpc.id, mc->dir) : NULL;
		if (!p && mc->rpc.guessed) {
			/* cut before its method showed (a huge id): it answers nothing, so it asks */
			struct msg_copy rq = *mc;

			rq.rpc.kind = RPC_REQUEST;
			correlator__rpc(cr, c, &rq);
			return;
		}
		if (!p) {
			emit(cr, c, NULL, mc, OUTCOME_NO_REQUEST);
			return;
		}
		emit_packed(cr, c, p, mc, mc->rpc.kind == RPC_ERROR ? OUTCOME_ERROR :
			    p->msg->incomplete ? OUTCOME_INCOMPLETE :
			    outcome_of(NULL, &mc->m, OUTCOME_OK));
		return;
	}
}

/* ---- ending ---- */

/* c's lists are empty: they go (made again if c has more to say). */
static void lists_free(struct conn *c)
{
	free(c->corr);
	c->corr = NULL;
}

void correlator__flush_conn(struct correlator *cr, struct conn *c, int outcome)
{
	struct pending *p;

	while ((p = pop_oldest(cr, c)))
		emit_packed(cr, c, p, NULL, outcome);
	while ((p = pop_early(c)))
		emit_early_alone(cr, c, p);
	lists_free(c);
}

uint32_t correlator__forget_conn(struct correlator *cr, struct conn *c)
{
	struct pending *p;
	uint32_t n = 0;

	while ((p = pop_oldest(cr, c)) || (p = pop_early(c))) {
		pending_free(cr, p);
		n++;
	}
	lists_free(c);
	return n;
}

void correlator__expire(struct correlator *cr, uint64_t now_ns)
{
	while (cr->ghead && cr->ghead->arrived_ns + cr->ttl_ns <= now_ns) {
		struct pending *p = cr->ghead;
		struct conn *c = p->conn;
		struct pending *prev = NULL, *q;

		/* JSON-RPC answers out of order: p need not be first on its conn */
		for (q = c->corr->pend_head; q && q != p; q = q->next)
			prev = q;
		unlink_pending(cr, c, prev, p);
		emit_packed(cr, c, p, NULL, OUTCOME_NO_RESPONSE);
		if (!c->corr->pend_head && !c->corr->early_head)
			lists_free(c);	/* an idle connection keeps no empty lists */
	}
}

struct msg_copy *correlator__report_buf(struct correlator *cr)
{
	struct slot *sl = cr->lent;

	if (!sl && cr->slots) {
		sl = cr->slots;
		cr->slots = (struct slot *)sl->p.next;
	} else if (!sl && cr->nslots < SLOTS_MAX && (sl = malloc(sizeof(*sl)))) {
		cr->nslots++;
	}
	cr->lent = sl;
	return sl ? &sl->mc : NULL;
}

uint64_t correlator__pending(const struct correlator *cr)
{
	return cr->npending;
}

uint64_t correlator__evicted(const struct correlator *cr)
{
	return cr->evicted;
}

void correlator__set_mcp(struct correlator *cr, struct mcp_memory *mm)
{
	cr->mcp = mm;
}
