// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Incremental HTTP/1.x parser for one direction of a connection (see http.h).
 *
 * A state machine driven byte range by byte range: the start line and
 * headers are copied into a head buffer (allocated on the first message,
 * grown up to HTTP_HEAD_MAX) and parsed once the empty line arrives; bodies
 * are never stored, only their first excerpt_max bytes. What a report needs
 * from the head is kept as offsets into that buffer, and the struct message
 * is built on the stack when the message is reported, so a parser costs
 * about 150 bytes plus its buffers; there is one per connection direction.
 *
 * Nothing depends on where the input is split: every state consumes what it
 * can and remembers the rest in a few counters.
 *
 * on_message runs from inside feed, gap and close; it may call
 * http_parser__busy but must not free the parser it is called from.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ascii.h"
#include "http.h"
#include "http_scan.h"
#include "correlate.h"
#include "jsonrpc.h"
#include "proto.h"

#define HEAD_MIN_CAP	512
#define KEEP_CAP	4096		/* buffers above this are freed between messages */
#define CHUNK_SIZE_MAX	(UINT64_C(1) << 60)
#define SYNC_SKIP	0xff		/* resync: inside a line that cannot start a message */
#define METHOD_SCAN	64		/* a method longer than this makes a line garbage */
#define OVL_MAX		256		/* header line kept once the head buffer is full */
#define HEAD_STORE	(HTTP_HEAD_MAX - OVL_MAX)	/* head bytes kept for the record */

enum http_state {
	ST_IDLE,		/* between messages */
	ST_HEAD,		/* start line and headers */
	ST_BODY_LEN,		/* Content-Length body, remaining bytes to come */
	ST_BODY_CLOSE,		/* body ends when the connection does */
	ST_CHUNK_SIZE,		/* hex digits of a chunk size */
	ST_CHUNK_EXT,		/* rest of the chunk-size line */
	ST_CHUNK_DATA,		/* chunk payload, remaining bytes to come */
	ST_CHUNK_CR,		/* CRLF after a chunk's payload */
	ST_CHUNK_LF,
	ST_TRAILER,		/* trailer lines up to an empty one */
	ST_RESYNC,		/* looking for a start line (after a gap, garbage or bad framing) */
	ST_ERROR,		/* another protocol after 101: ignore input until a gap */
};

/* Offsets into the head buffer are 16 bits. */
_Static_assert(HTTP_HEAD_MAX <= UINT16_MAX, "head offsets are uint16_t");

/* A slice of the head buffer. */
struct span {
	uint16_t off;
	uint16_t len;
};

/* How the body of the message is delimited, from its headers so far. */
struct framing {
	uint64_t length;
	bool has_length;
	bool has_te;
	bool keep_alive;
	bool bad;
};

struct http_parser {
	const struct http_parser_ops *ops;
	void *ctx;
	uint8_t *head;
	uint8_t *excerpt;
	/*
	 * A message whose end is unknown (bad framing; on the request side,
	 * bytes lost in it): it takes every byte up to the next start line
	 * and is reported just before that line's message. NULL: none.
	 */
	struct message *held;
	const char *malformed;	/* the first reason this message is not strictly valid */
	size_t excerpt_max;
	size_t excerpt_len;
	size_t excerpt_cap;
	uint64_t remaining;	/* body or chunk bytes still to come; chunk size being read */
	uint64_t wire_bytes;
	uint64_t body_bytes;
	uint64_t lost_bytes;
	uint64_t ts_first;
	uint64_t ts_last;
	uint32_t over_len;	/* head past the buffer: bytes of the current line kept */
	uint16_t head_len;
	uint16_t head_cap;
	uint16_t line_start;	/* where the head line being received begins */
	uint16_t line_off;	/* head offset of line_base: spans of the line being parsed */
	const uint8_t *line_base;	/* ... which may still be in the caller's buffer */
	uint16_t status;
	struct span method, target, reason, ctype, host;
	struct span mcp_session, mcp_method, mcp_name, traceparent;
	struct framing framing;	/* header lines are parsed as each one ends */
	uint8_t state;
	uint8_t version;
	uint8_t chunk_digits;
	uint8_t sync_len;
	uint8_t sync[8];	/* resync: the line's first bytes, a prefix of a start token */
	bool requests;
	bool chunked;
	bool conn_close;
	bool excerpt_frozen;	/* a gap made later body bytes misplaced in the excerpt */
	bool from_resync;	/* start line not yet seen whole after a resync: may be body text */
	bool line_empty;	/* trailer: nothing but CR on the current line so far */
	bool head_over;		/* the head outgrew the buffer: later lines parsed for framing only */
	bool over_long;		/* ... and the current line did not fit in OVL_MAX */
	bool over_start;	/* ... and the current line is the rest of the start line */
	bool held_body;		/* what the held message takes is its body (not lost head) */
	bool garbage;		/* skipping a line that is no start line: feed says -EPROTO */
	/*
	 * Resync after a gap, until a start line is seen: the start of each
	 * feed (a syscall) counts as a line start too, as a body glued to the
	 * next request hides every line start after the gap.
	 */
	bool gap_sync;
	bool skipped;		/* this feed skipped garbage */
};

/* Tokens that may start a line after a resync; also what detection knows. */
static const char *const known_methods[] = {
	"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
};
#define N_KNOWN (sizeof(known_methods) / sizeof(known_methods[0]))
static const char response_token[] = "HTTP/1.";

struct http_parser *http_parser__new(bool requests, size_t body_excerpt_max,
				     const struct http_parser_ops *ops, void *ctx)
{
	struct http_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->requests = requests;
	p->excerpt_max = body_excerpt_max;
	p->ops = ops;
	p->ctx = ctx;
	p->state = ST_IDLE;
	return p;
}

void http_parser__free(struct http_parser *p)
{
	if (!p)
		return;
	free(p->head);
	free(p->excerpt);
	free(p->held);
	free(p);
}

bool http_parser__busy(const struct http_parser *p)
{
	return p->held || (p->state != ST_IDLE && p->state != ST_RESYNC && p->state != ST_ERROR);
}

/* ---- detection and start-line checks ---- */

/* RFC 9110 5.6.2 token characters, as a table: every header name byte is checked. */
#define TCHAR_RANGE(a, b) [a ... b] = true
static const bool tchar[256] = {
	TCHAR_RANGE('a', 'z'), TCHAR_RANGE('A', 'Z'), TCHAR_RANGE('0', '9'),
	['!'] = true, ['#'] = true, ['$'] = true, ['%'] = true, ['&'] = true, ['\''] = true,
	['*'] = true, ['+'] = true, ['-'] = true, ['.'] = true, ['^'] = true, ['_'] = true,
	['`'] = true, ['|'] = true, ['~'] = true,
};

static bool is_tchar(uint8_t c)
{
	return tchar[c];
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static bool is_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* Keep the first reason: it is the one a reader of the record needs. */
static void flag(struct http_parser *p, const char *why)
{
	if (!p->malformed)
		p->malformed = why;
}

/*
 * s against the literal lit: 1 when s starts with all of it, 0 when s is a
 * proper prefix of it (only if partial), -1 otherwise.
 */
static int lit_match(const uint8_t *s, size_t n, const char *lit, bool partial)
{
	size_t ll = strlen(lit);

	if (n < ll)
		return partial && !memcmp(s, lit, n) ? 0 : -1;
	return memcmp(s, lit, ll) ? -1 : 1;
}

/* A known method, in any case (s holds the method only). */
static bool known_method(const uint8_t *s, size_t n)
{
	size_t i, j;

	for (i = 0; i < N_KNOWN; i++) {
		const char *k = known_methods[i];

		if (strlen(k) != n + 1)
			continue;
		for (j = 0; j < n && ascii_lower(s[j]) == ascii_lower((uint8_t)k[j]); j++)
			;
		if (j == n)
			return true;
	}
	return false;
}

/* The first bytes of a known method (any case), its blank not yet there. */
static bool known_method_prefix(const uint8_t *s, size_t n)
{
	size_t i, j;

	for (i = 0; i < N_KNOWN && n; i++) {
		for (j = 0; j < n && ascii_lower(s[j]) == ascii_lower((uint8_t)known_methods[i][j]); j++)
			;
		if (j == n)
			return true;
	}
	return false;
}

/* "HTTP/x.y" (n == 8): 10x+y; -1 when it is not that shape. */
static int version_code(const uint8_t *s, size_t n)
{
	if (n != 8 || memcmp(s, "HTTP/", 5) || !is_digit(s[5]) || s[6] != '.' || !is_digit(s[7]))
		return -1;
	return (s[5] - '0') * 10 + (s[7] - '0');
}

/* A prefix of "HTTP/d.d": 1 whole, 0 a proper prefix (partial), -1 neither. */
static int version_match(const uint8_t *s, size_t n, bool partial)
{
	static const char shape[] = "HTTP/#.#";
	size_t i;

	if (n >= 8)	/* whole: one compare of the literal part (nearly every call) */
		return !memcmp(s, "HTTP/", 5) && is_digit(s[5]) && s[6] == '.' && is_digit(s[7]) ?
		       1 : -1;
	for (i = 0; i < n && i < 8; i++)
		if (shape[i] == '#' ? !is_digit(s[i]) : s[i] != (uint8_t)shape[i])
			return -1;
	return i == 8 ? 1 : partial ? 0 : -1;
}

/* The bytes of a request line's method: up to its first blank. */
static size_t method_len(const uint8_t *s, size_t n)
{
	size_t m = 0;

	while (m < n && m <= METHOD_SCAN && !is_ws(s[m]))
		m++;
	return m;
}

/* The request line's parts, as offsets into it. */
struct reqline {
	size_t m;		/* method: [0, m) */
	size_t t, te;		/* target: [t, te) */
	size_t v;		/* version token: [v, n), or n when none */
	int vc;			/* version_code of that token, -1 when none: computed once */
};

/*
 * Split a request line leniently: method up to the first blank, version
 * the last word when it starts with "HTTP/", target in between. False when
 * it is no request line at all: no blank after a method of sane length,
 * nothing after it, or no version and a method that is not a known one
 * (need_version: the version is required, as after a resync). Always
 * inlined: a call through &r gave startline_parse a stack canary.
 */
static inline __attribute__((always_inline)) bool reqline_split(const uint8_t *s, size_t n,
								bool need_version,
								struct reqline *r)
{
	r->m = method_len(s, n);
	if (r->m == 0 || r->m > METHOD_SCAN || r->m == n || !is_tchar(s[0]))
		return false;
	r->v = n;
	r->vc = n >= r->m + 9 && is_ws(s[n - 9]) ? version_code(s + n - 8, 8) : -1;
	if (r->vc > 0)
		r->v = n - 8;	/* " HTTP/d.d" at the end (no blank in it): no byte walk back */
	while (r->v > r->m && !is_ws(s[r->v - 1]))
		r->v--;
	if (r->v == r->m || n - r->v < 5 || memcmp(s + r->v, "HTTP/", 5)) {
		r->v = n;
		if (need_version || !known_method(s, r->m))
			return false;
	}
	if (r->vc <= 0)		/* not found at the end (or 0.0): the token the walk found */
		r->vc = r->v < n ? version_code(s + r->v, n - r->v) : -1;
	r->t = r->m;
	while (r->t < r->v && is_ws(s[r->t]))
		r->t++;
	r->te = r->t;
	if (r->v < n) {
		r->te = r->v;
		while (r->te > r->t && is_ws(s[r->te - 1]))
			r->te--;
	} else {
		/* old style "GET /path", or a line cut short: the target is one word */
		while (r->te < n && !is_ws(s[r->te]))
			r->te++;
	}
	return r->t < r->te || r->v < n;
}

/*
 * A target of 8 bytes or more with no blank and no control byte, a word at
 * a time (the last word overlapping). False also when unsure (short, or a
 * byte above 0x7e): the caller then looks byte by byte.
 */
static bool target_plain(const uint8_t *s, size_t n)
{
	size_t i;

	if (n < 8)
		return false;
	for (i = 0; i + 8 < n; i += 8)
		if (swar_not_printable(swar_load(s + i)) | swar_has_zero(swar_load(s + i) ^ (SWAR_ONES * ' ')))
			return false;
	return !(swar_not_printable(swar_load(s + n - 8)) |
		 swar_has_zero(swar_load(s + n - 8) ^ (SWAR_ONES * ' ')));
}

/* Why a request line that splits is still not strictly valid, if it is not. */
static void reqline_flags(struct http_parser *p, const uint8_t *s, size_t n,
			  const struct reqline *r)
{
	size_t i;

	for (i = 0; i < r->m; i++)
		if (!is_tchar(s[i]))
			flag(p, s[i] == '\r' ? "bare_cr" : is_ctl(s[i]) ? "control_char" : "method");
	if (r->m >= HTTP_METHOD_MAX)
		flag(p, "method_length");
	if (r->t == r->te)
		flag(p, "target");
	if (r->t - r->m != 1 || s[r->m] != ' ' || (r->v < n && (r->v - r->te != 1 || s[r->te] != ' ')))
		flag(p, "whitespace");
	if (!target_plain(s + r->t, r->te - r->t))
		for (i = r->t; i < r->te; i++)
			if (s[i] == '\r' || is_ctl(s[i]) || s[i] == ' ')
				flag(p, s[i] == '\r' ? "bare_cr" :
					s[i] == ' ' ? "whitespace" : "control_char");
	if (r->v == n)
		flag(p, "no_version");
	else if (r->vc != 10 && r->vc != 11)
		flag(p, "version");
}

/*
 * Request line prefix (no LF yet): refuse garbage from its first bytes
 * instead of buffering it. Consistent with reqline_split: a line refused
 * here is refused whole too.
 */
static bool reqline_prefix_ok(const uint8_t *s, size_t n)
{
	size_t m = method_len(s, n);

	return n == 0 || (m > 0 && m <= METHOD_SCAN && is_tchar(s[0]));
}

/* Status line without its CR LF: HTTP/d.d SP 3DIGIT [SP reason]. */
static bool statusline_ok(const uint8_t *s, size_t n, bool partial)
{
	size_t i;
	int r = version_match(s, n, partial);

	if (r <= 0)
		return r == 0;
	for (i = 8; i < n && i < 12; i++) {
		if (i == 8 ? s[i] != ' ' : !is_digit(s[i]))
			return false;
	}
	if (i < 12)
		return partial;
	if (s[9] == '0')
		return false;
	if (n > 12 && s[12] != ' ')
		return false;
	for (i = 13; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n')
			return false;
	return true;
}

/* A start line so far (no LF yet): a CR at its end may begin its CR LF. */
static bool startline_prefix_ok(const struct http_parser *p, const uint8_t *s, size_t n)
{
	if (n && s[n - 1] == '\r')
		n--;
	return p->requests ? reqline_prefix_ok(s, n) : statusline_ok(s, n, true);
}

/*
 * Detection is stricter than the parser: a stream is called HTTP on its
 * first bytes, and "get key" is memcached. A method (any case) and a blank
 * must come first; then the first line carries "HTTP/" (any method, any
 * version), or is still arriving (a known method), or is an old-style
 * "GET /path" (a known method in capitals and a path).
 */
bool http_looks_like_request(const uint8_t *buf, size_t len)
{
	const uint8_t *lf = memchr(buf, '\n', len);
	size_t n = lf ? (size_t)(lf - buf) : len, m = method_len(buf, n), i;

	if (m == n && !lf && m < 8)
		return known_method_prefix(buf, m);
	if (m == 0 || m > METHOD_SCAN || m == n)
		return false;
	if (n >= 14 && !memcmp(buf, "PRI * HTTP/2.0", 14))
		return false;	/* the HTTP/2 connection preface */
	for (i = 0; i < m; i++)
		if (!is_tchar(buf[i]))
			return false;
	for (i = m; i + 5 <= n; i++)
		if (!memcmp(buf + i, "HTTP/", 5))
			return true;
	if (!known_method(buf, m))
		return false;
	if (!lf)
		return true;
	for (i = 0; i < m; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			return false;
	return m + 1 < n && buf[m + 1] == '/';
}

bool http_looks_like_response(const uint8_t *buf, size_t len)
{
	const uint8_t *lf = memchr(buf, '\n', len);
	size_t n = lf ? (size_t)(lf - buf) : len;

	if (lf && n && buf[n - 1] == '\r')
		n--;
	return len && statusline_ok(buf, n, !lf);
}

/* ---- messages ---- */

static void span_copy(const struct http_parser *p, struct span sp, char *dst, size_t size)
{
	size_t n = sp.len < size - 1 ? sp.len : size - 1;

	if (n)
		memcpy(dst, p->head + sp.off, n);
	dst[n] = '\0';
}

/* Drop big buffers between messages: 10,000 idle connections must stay cheap. */
static void parser_trim(struct http_parser *p)
{
	if (p->head_cap > KEEP_CAP) {
		free(p->head);
		p->head = NULL;
		p->head_cap = 0;
	}
	if (p->excerpt_cap > KEEP_CAP) {
		free(p->excerpt);
		p->excerpt = NULL;
		p->excerpt_cap = 0;
	}
}

static void msg_begin(struct http_parser *p, uint64_t ts)
{
	static const struct span none;

	p->state = ST_HEAD;
	p->head_len = 0;
	p->line_start = 0;
	p->method = p->target = p->reason = p->ctype = p->host = none;
	p->mcp_session = p->mcp_method = p->mcp_name = p->traceparent = none;
	memset(&p->framing, 0, sizeof(p->framing));
	p->status = 0;
	p->version = 0;
	p->chunked = false;
	p->conn_close = false;
	p->remaining = 0;
	p->wire_bytes = 0;
	p->body_bytes = 0;
	p->lost_bytes = 0;
	p->excerpt_len = 0;
	p->excerpt_frozen = false;
	p->from_resync = false;
	p->head_over = false;
	p->over_long = false;
	p->over_start = false;
	p->over_len = 0;
	p->malformed = NULL;
	p->garbage = false;
	p->ts_first = ts;
	p->ts_last = ts;
}

static void head_spans(struct http_parser *p);

/*
 * The message as a report sees it: every member set, no memset of the 1.5
 * KiB of strings. m->http is where its HTTP part goes.
 */
static void msg_fill(struct http_parser *p, struct message *m, bool incomplete)
{
	struct http_part *h = m->http;

	m->ts_first_ns = p->ts_first;
	m->ts_last_ns = p->ts_last;
	m->wire_bytes = p->wire_bytes;
	m->body_bytes = p->body_bytes;
	m->lost_bytes = p->lost_bytes;
	m->body = p->excerpt_len ? p->excerpt : NULL;
	/* the bytes kept past the excerpt are scanned by the redactor, never written */
	m->body_len = p->excerpt_len < p->excerpt_max ? p->excerpt_len : p->excerpt_max;
	m->body_ahead = p->excerpt_len - m->body_len;
	m->malformed = p->malformed;
	m->is_request = p->requests;
	m->body_cut = m->body_len < m->body_bytes;
	m->incomplete = incomplete;
	h->status = p->status;
	h->version = p->version;
	h->chunked = p->chunked;
	h->conn_close = p->conn_close;
	span_copy(p, p->method, h->method, sizeof(h->method));
	span_copy(p, p->target, h->target, sizeof(h->target));
	span_copy(p, p->reason, h->reason, sizeof(h->reason));
	span_copy(p, p->ctype, h->content_type, sizeof(h->content_type));
	span_copy(p, p->host, h->host, sizeof(h->host));
	if (!(p->mcp_session.len | p->mcp_method.len | p->mcp_name.len | p->traceparent.len)) {
		/* no MCP or trace header (nearly every message): one test for the four */
		h->mcp_session[0] = h->mcp_method[0] = h->mcp_name[0] = h->traceparent[0] = '\0';
		return;
	}
	span_copy(p, p->mcp_session, h->mcp_session, sizeof(h->mcp_session));
	span_copy(p, p->mcp_method, h->mcp_method, sizeof(h->mcp_method));
	span_copy(p, p->mcp_name, h->mcp_name, sizeof(h->mcp_name));
	span_copy(p, p->traceparent, h->traceparent, sizeof(h->traceparent));
}

static void deliver(struct http_parser *p, const struct message *m)
{
	if (p->ops && p->ops->on_message)
		p->ops->on_message(p->ctx, m);
}

/*
 * Report the message and go back to ST_IDLE (the caller may then move on to
 * ST_RESYNC or ST_ERROR). The callback may see a partial head: its start
 * line and the headers received whole are parsed for it.
 */
/* Always inlined: a call of its own cost more than the canary saved. */
static inline __attribute__((always_inline)) void msg_report_in(struct http_parser *p,
								 struct message *m,
								 bool incomplete)
{
	if (incomplete && p->state == ST_HEAD)
		head_spans(p);
	msg_fill(p, m, incomplete);
	p->state = ST_IDLE;
	deliver(p, m);
	parser_trim(p);
}

/*
 * A parser with no report_into (the unit tests' and the fuzzer's) builds on
 * the stack. Out of line: that local would give every report a stack canary.
 */
static __attribute__((noinline)) void msg_report_local(struct http_parser *p, bool incomplete)
{
	struct http_part local_http;
	struct message local = { .http = &local_http };

	msg_report_in(p, &local, incomplete);
}

static void msg_report(struct http_parser *p, bool incomplete)
{
	if (p->ops && p->ops->report_into)
		msg_report_in(p, p->ops->report_into(p->ctx), incomplete);
	else
		msg_report_local(p, incomplete);
}

/* ---- a message whose end is unknown ---- */

/* The held message goes out, before whatever follows it. */
static void held_report(struct http_parser *p)
{
	struct message *h = p->held;

	if (!h)
		return;
	p->held = NULL;
	h->body_cut = h->body_len < h->body_bytes;
	deliver(p, h);
	free(h);
}

/* n more bytes of the stream belong to the held message. */
static void held_take(struct http_parser *p, uint64_t n, uint64_t ts)
{
	struct message *h = p->held;

	if (!h || !n)
		return;
	h->wire_bytes += n;
	if (p->held_body)
		h->body_bytes += n;
	if (ts > h->ts_last_ns)
		h->ts_last_ns = ts;
}

/*
 * The open message's end is unknown: keep it aside (copied: the head
 * buffer is needed to find the next message) and look for the next start
 * line; at_line_start: the byte after this one begins a line. body: what
 * follows is its body (bad framing), not the rest of a lost head.
 */
static void msg_hold(struct http_parser *p, bool incomplete, bool body, bool at_line_start)
{
	/* the message, its HTTP part, then its excerpt: one allocation */
	struct message *h = malloc(sizeof(*h) + sizeof(struct http_part) + p->excerpt_len);

	_Static_assert(sizeof(struct message) % _Alignof(struct http_part) == 0,
		       "the HTTP part follows the message, aligned");
	if (p->state == ST_HEAD)
		head_spans(p);
	if (!h) {
		/* out of memory: reported now, the bytes up to the next message unaccounted */
		msg_report(p, true);
	} else {
		h->http = (struct http_part *)(h + 1);
		msg_fill(p, h, incomplete);
		if (h->body_len)
			h->body = memcpy(h->http + 1, p->excerpt, h->body_len);
		free(p->held);
		p->held = h;
		p->held_body = body;
		parser_trim(p);
	}
	p->state = ST_RESYNC;
	p->sync_len = at_line_start ? 0 : SYNC_SKIP;
}

/* The excerpt and, after it, the bytes redaction looks ahead at (never written). */
static size_t excerpt_keep(const struct http_parser *p)
{
	return p->excerpt_max ? p->excerpt_max + HTTP_BODY_AHEAD : 0;
}

static void body_take(struct http_parser *p, const uint8_t *b, size_t n)
{
	size_t take, cap, keep = excerpt_keep(p);
	uint8_t *nb;

	p->body_bytes += n;
	if (p->excerpt_frozen || p->excerpt_len >= keep)
		return;
	take = n < keep - p->excerpt_len ? n : keep - p->excerpt_len;
	if (p->excerpt_len + take > p->excerpt_cap) {
		cap = p->excerpt_cap ? p->excerpt_cap : 256;
		while (cap < p->excerpt_len + take)
			cap *= 2;
		if (cap > keep)
			cap = keep;
		nb = realloc(p->excerpt, cap);
		if (!nb) {
			/* Only the excerpt is lost; body_cut tells the reader. */
			p->excerpt_frozen = true;
			return;
		}
		p->excerpt = nb;
		p->excerpt_cap = cap;
	}
	memcpy(p->excerpt + p->excerpt_len, b, take);
	p->excerpt_len += take;
}

/* ---- head ---- */

/* s in the line being parsed (at line_base), as a slice of the head it is or will be in. */
static struct span span_of(const struct http_parser *p, const uint8_t *s, size_t n)
{
	struct span sp = { (uint16_t)(p->line_off + (s - p->line_base)), (uint16_t)n };

	return sp;
}

/*
 * Method, target and version of a request line, or status and reason of a
 * status line, with the reasons it is not strict. False: no start line.
 */
static bool startline_parse(struct http_parser *p, const uint8_t *s, size_t n, bool crlf)
{
	struct reqline r;
	int v;

	if (!p->requests) {
		if (!statusline_ok(s, n, false))
			return false;
		v = version_code(s, 8);
		p->version = (uint8_t)v;
		if (v != 10 && v != 11)
			flag(p, "version");
		p->status = (uint16_t)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
		if (n > 13)
			p->reason = span_of(p, s + 13, n - 13);
		return true;
	}
	if (!reqline_split(s, n, p->from_resync, &r))
		return false;
	if (!crlf)
		flag(p, "bare_lf");
	reqline_flags(p, s, n, &r);
	p->method = span_of(p, s, r.m);
	p->target = span_of(p, s + r.t, r.te - r.t);
	v = r.vc;
	p->version = v > 0 ? (uint8_t)v : 0;
	return true;
}

static bool name_is_n(const uint8_t *s, size_t n, const char *name, size_t len)
{
	return len == n && ascii_caseeq(s, name, n);
}

/* A header name or token against a literal: the length rules most out first. */
#define name_is(s, n, lit) name_is_n((s), (n), (lit), sizeof(lit) - 1)

/*
 * The next non-empty token [*a, *b) of a comma-separated list, from *i;
 * false at its end. Always inlined: a call would leave i, a and b in
 * memory, and the stack canary that buys would cost every header line.
 */
static inline __attribute__((always_inline)) bool list_next(const uint8_t *s, size_t n, size_t *i, size_t *a, size_t *b)
{
	while (*i < n) {
		while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == ','))
			(*i)++;
		*a = *i;
		while (*i < n && s[*i] != ',')
			(*i)++;
		*b = *i;
		while (*b > *a && (s[*b - 1] == ' ' || s[*b - 1] == '\t'))
			(*b)--;
		if (*b > *a)
			return true;
	}
	return false;
}

/* Does the comma-separated list s contain tok (case-insensitive)? Or end with it (last)? */
static bool list_has_n(const uint8_t *s, size_t n, const char *tok, size_t toklen, bool last)
{
	size_t i = 0, a, b;
	bool found = false;

	while (list_next(s, n, &i, &a, &b)) {
		found = name_is_n(s + a, b - a, tok, toklen);
		if (found && !last)
			return true;
	}
	return found;
}

#define list_has(s, n, lit, last) list_has_n((s), (n), (lit), sizeof(lit) - 1, (last))

/*
 * Connection: close and keep-alive, from one walk over its tokens; a value
 * that is one of them alone (nearly every one) is known without a walk.
 */
static void connection_tokens(struct http_parser *p, struct framing *f, const uint8_t *s,
			      size_t n)
{
	size_t i = 0, a, b;

	if (n == 10 && lower_lit_eq(s, "keep-alive", 10)) {
		f->keep_alive = true;
		return;
	}
	if (n == 5 && lower_lit_eq(s, "close", 5)) {
		p->conn_close = true;
		return;
	}

	while (list_next(s, n, &i, &a, &b)) {
		if (name_is(s + a, b - a, "close"))
			p->conn_close = true;
		else if (name_is(s + a, b - a, "keep-alive"))
			f->keep_alive = true;
	}
}

/* Content-Length: digits only; 0 or -EPROTO (a smuggling attempt looks like this). */
static int content_length(const uint8_t *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!n)
		return -EPROTO;
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]) || v > (UINT64_MAX - 9) / 10)
			return -EPROTO;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * Every byte of a line of 8 bytes or more is printable ASCII: a word at a
 * time, the last word overlapping the one before it, so no byte is left
 * for a loop. False for shorter lines and for any other byte (the caller
 * then looks byte by byte).
 */
static inline __attribute__((always_inline)) bool line_printable(const uint8_t *s, size_t n)
{
	size_t i;

	if (n < 8)
		return false;
	for (i = 0; i + 8 < n; i += 8)
		if (swar_not_printable(swar_load(s + i)))
			return false;
	return !swar_not_printable(swar_load(s + n - 8));
}

/* The value of a line whose name s[0..nl) is a token: why it is bad, or NULL. */
static const char *header_value_bad(const uint8_t *s, size_t n, size_t nl)
{
	size_t i;

	if (line_printable(s, n))
		return NULL;	/* no control byte: the value is fine (nearly every line) */
	for (i = nl; i < n; i++)
		if (is_ctl(s[i]) && s[i] != '\t')
			return s[i] == '\r' ? "bare_cr" : "control_char";
	return NULL;
}

/* A header line's name (before its colon) is a token; else why not. */
static const char *header_name_bad(const uint8_t *s, size_t n, size_t nl, bool has_colon)
{
	size_t i;

	if (is_ws(s[0]))
		return "obs_fold";
	if (!has_colon || !nl)
		return "header";
	for (i = 0; i < nl; i++)
		if (!is_tchar(s[i]))
			return s[i] == '\r' ? "bare_cr" : "header";
	return header_value_bad(s, n, nl);
}

/*
 * Which header a name of token bytes s[0..nl), followed by its colon, is:
 * the names hname_probe knows include every one the parser takes
 * something from, so any other is HN_OTHER.
 */
static enum hname hname_of(const uint8_t *s, size_t nl)
{
	int h = hname_probe(s, nl + 1).id;

	return h > HN_OTHER ? (enum hname)h : HN_OTHER;
}

/* The header kept for the record under this name (the first of each), or NULL. */
static struct span *hname_span(struct http_parser *p, enum hname h)
{
	switch (h) {
	case HN_CONTENT_TYPE:
		return &p->ctype;
	case HN_HOST:
		return &p->host;
	case HN_MCP_SESSION:
		return &p->mcp_session;
	case HN_MCP_METHOD:
		return &p->mcp_method;
	case HN_MCP_NAME:
		return &p->mcp_name;
	case HN_TRACEPARENT:
		return &p->traceparent;
	default:
		return NULL;
	}
}

/*
 * Where the name of a line ends (its colon) and why the line is bad. Most
 * lines are a run of token bytes then a colon: one table walk finds the
 * colon and checks the name; anything else takes the careful path.
 */
static const char *header_split(const uint8_t *s, size_t n, size_t *nl)
{
	const uint8_t *colon;
	size_t i = 0;

	/* four bytes a step: the table loads of a name are independent */
	while (i + 4 <= n && (tchar[s[i]] & tchar[s[i + 1]] & tchar[s[i + 2]] & tchar[s[i + 3]]))
		i += 4;
	while (i < n && tchar[s[i]])
		i++;
	if (i && i < n && s[i] == ':') {
		/* the last 8 bytes or more that hold the value: the name's bytes are printable */
		size_t k = n < 8 ? 0 : i < n - 8 ? i : n - 8;

		*nl = i;
		return n >= 8 && line_printable(s + k, n - k) ? NULL : header_value_bad(s, n, i);
	}
	colon = memchr(s, ':', n);
	*nl = colon ? (size_t)(colon - s) : 0;
	return header_name_bad(s, n, *nl, colon != NULL);
}

/*
 * The value v[0..n) of a header the parser takes something from (h is not
 * HN_OTHER), its blanks around it not yet trimmed.
 */
static void header_use(struct http_parser *p, enum hname h, const uint8_t *v, size_t n,
		       struct framing *f)
{
	const uint8_t *end = v + n;
	struct span *sp;
	uint64_t len = 0;

	while (v < end && is_ws(*v))
		v++;
	while (end > v && is_ws(end[-1]))
		end--;
	n = (size_t)(end - v);
	switch (h) {
	case HN_CONTENT_LENGTH:
		if (content_length(v, n, &len) || (f->has_length && len != f->length))
			f->bad = true;
		f->length = len;
		f->has_length = true;
		return;
	case HN_TRANSFER_ENCODING:
		/* The last coding of the last header decides (RFC 9112 6.3). */
		f->has_te = true;
		p->chunked = list_has(v, n, "chunked", true);
		return;
	case HN_CONNECTION:
		connection_tokens(p, f, v, n);
		return;
	default:
		sp = p->head_over ? NULL : hname_span(p, h);
		if (sp && !sp->len)
			*sp = span_of(p, v, n);
		return;
	}
}

/*
 * One "name: value" line. A line that is not strictly valid is flagged and
 * otherwise ignored. Once the head outgrew its buffer (head_over) the line
 * is in scratch space: only framing is taken from it, no spans. Most lines
 * name a header the parser takes nothing from: their value is never walked
 * past the validity check.
 */
static void header_line(struct http_parser *p, const uint8_t *s, size_t n, struct framing *f)
{
	struct hname_hit hit = hname_probe(s, n);
	size_t nl = hit.nl;
	const char *bad;
	int h = hit.id;

	/* a known name and a printable value (nearly every line): valid, nothing walked */
	if (h < 0 || !value_printable(s, n, nl)) {
		bad = header_split(s, n, &nl);
		if (bad) {
			flag(p, bad);
			if (!nl || bad[0] != 'c')	/* a control byte in a value: still used */
				return;
		}
		h = hname_of(s, nl);
	}
	if (h > HN_OTHER)
		header_use(p, (enum hname)h, s + nl + 1, n - nl - 1, f);
}

/* HTTP/1.0 closes after the message unless it asked to be kept alive. */
static void head_close_rule(struct http_parser *p)
{
	if (p->version == 10 && !p->framing.keep_alive)
		p->conn_close = true;
}

/*
 * For a report of a partial head: header lines were parsed as each one
 * ended (an unterminated one is left out), but a start line still without
 * its LF gives what it holds.
 */
static void head_spans(struct http_parser *p)
{
	size_t n = p->head_len;

	if (p->line_start == 0 && !p->head_over && !p->method.len && !p->status) {
		const char *why = p->malformed;

		if (n && p->head[n - 1] == '\r')
			n--;
		/* a line cut short is not a malformed one */
		p->line_base = p->head;
		p->line_off = 0;
		startline_parse(p, p->head, n, true);
		p->malformed = why;
	}
	head_close_rule(p);
}

static int head_grow(struct http_parser *p, size_t need)
{
	size_t cap = p->head_cap ? p->head_cap : HEAD_MIN_CAP;
	uint8_t *nb;

	if (need <= p->head_cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > HTTP_HEAD_MAX)
		cap = HTTP_HEAD_MAX;
	nb = realloc(p->head, cap);
	if (!nb)
		return -ENOMEM;
	p->head = nb;
	p->head_cap = (uint16_t)cap;
	return 0;
}

static inline int head_append(struct http_parser *p, const uint8_t *b, size_t n)
{
	if (p->head_len + n > p->head_cap && head_grow(p, p->head_len + n))
		return -ENOMEM;
	memcpy(p->head + p->head_len, b, n);
	p->head_len += (uint16_t)n;
	return 0;
}

static void msg_complete(struct http_parser *p)
{
	msg_report(p, false);
}

/* The body's extent is unknown: the message takes what comes up to the next start line. */
static void body_unframed(struct http_parser *p, const char *why, bool at_line_start)
{
	flag(p, why);
	msg_hold(p, false, true, at_line_start);
}

/*
 * The head is whole: choose how the body is delimited (RFC 9112 6.3).
 * Responses ask answers_head once per final response, never for 1xx.
 */
static void head_done(struct http_parser *p)
{
	const struct framing f = p->framing;
	bool no_body = false;

	head_close_rule(p);
	if (f.has_length && f.has_te)
		flag(p, "content_length_and_transfer_encoding");
	if (p->requests && f.has_te && !p->chunked)
		return body_unframed(p, "transfer_encoding", true);
	if (f.bad && !p->chunked)
		return body_unframed(p, "content_length", true);
	if (!p->requests) {
		if (p->status < 200) {
			p->chunked = false;
			msg_complete(p);
			/* 101: what follows is another protocol. */
			if (p->status == 101)
				p->state = ST_ERROR;
			return;
		}
		if (p->ops && p->ops->answers_head && p->ops->answers_head(p->ctx))
			no_body = true;
		if (p->status == 204 || p->status == 304)
			no_body = true;
	}
	if (no_body) {
		p->chunked = false;
		msg_complete(p);
	} else if (p->chunked) {
		p->state = ST_CHUNK_SIZE;
		p->remaining = 0;
		p->chunk_digits = 0;
	} else if (f.has_te || (!f.has_length && !p->requests)) {
		p->state = ST_BODY_CLOSE;
	} else if (f.has_length && f.length) {
		p->state = ST_BODY_LEN;
		p->remaining = f.length;
	} else {
		msg_complete(p);
	}
}

/* "HTTP/1.1" or "HTTP/1.0" at s: 11 or 10; 0 for anything else. */
static inline int version_1x(const uint8_t *s)
{
	uint64_t w = swar_load(s);

	return w == swar_load((const uint8_t *)"HTTP/1.1") ? 11 :
	       w == swar_load((const uint8_t *)"HTTP/1.0") ? 10 : 0;
}

/*
 * "METHOD SP target SP HTTP/1.x" with a method of capitals, a target of
 * printable bytes and no blank, and a CR LF: the request line of nearly
 * every request, strictly valid, taken at once. False for any other line,
 * nothing set: reqline_split and reqline_flags read it then.
 */
static bool reqline_quick(struct http_parser *p, const uint8_t *s, size_t n)
{
	size_t m = 0, t, tn, i;
	int vc;

	while (m < n && m < 20 && s[m] >= 'A' && s[m] <= 'Z')
		m++;
	if (m == 0 || m + 11 > n || s[m] != ' ' || s[n - 9] != ' ' || !(vc = version_1x(s + n - 8)))
		return false;
	t = m + 1;
	tn = n - 9 - t;
#if defined(__SSE2__)
	if (tn >= 7 && tn <= 16) {
		/* one test of the 16 bytes from the target's start (the line goes on for 9 more) */
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + t));
		unsigned ok = (unsigned)_mm_movemask_epi8(
			_mm_cmpgt_epi8(_mm_add_epi8(v, _mm_set1_epi8(1)), _mm_set1_epi8(0x21)));

		if (~ok & ((1u << tn) - 1))
			return false;	/* a blank, a control byte or one above 0x7e */
	} else
#endif
	if (!target_plain(s + t, tn)) {
		/* short targets ("/") byte by byte; longer ones that are not plain the careful way */
		if (tn >= 8 || tn == 0)
			return false;
		for (i = t; i < t + tn; i++)
			if (s[i] <= ' ' || s[i] >= 0x7f)
				return false;
	}
	p->method = span_of(p, s, m);
	p->target = span_of(p, s + t, tn);
	p->version = (uint8_t)vc;
	return true;
}

/*
 * "HTTP/1.x SP ddd [SP reason]" (a first digit of 1-9, a reason without
 * CR): the status line of nearly every response, strictly valid, taken at
 * once. False for any other line, nothing set: statusline_ok reads it then.
 */
static bool statusline_quick(struct http_parser *p, const uint8_t *s, size_t n)
{
	int vc;
	size_t i;

	if (n < 12 || !(vc = version_1x(s)) || s[8] != ' ' || s[9] < '1' || s[9] > '9' ||
	    !is_digit(s[10]) || !is_digit(s[11]) || (n > 12 && s[12] != ' '))
		return false;
	for (i = 13; i < n; i++)
		if (s[i] == '\r')
			return false;
	p->version = (uint8_t)vc;
	p->status = (uint16_t)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
	if (n > 13)
		p->reason = span_of(p, s + 13, n - 13);
	return true;
}

/*
 * The start line ended (whole: it arrived in one piece, so the quick
 * readings may take it; a line put together from pieces is always read
 * the careful way, which the unit tests compare them with). After a
 * resync it is the proof that a message starts here, so the held message
 * (what came before) goes out first.
 */
static inline __attribute__((always_inline)) bool startline_end(struct http_parser *p,
								 const uint8_t *s, size_t n,
								 bool crlf, bool whole)
{
	bool quick = whole && crlf &&
		     (p->requests ? reqline_quick(p, s, n) : statusline_quick(p, s, n));

	if (!quick && !startline_parse(p, s, n, crlf))
		return false;
	if (p->from_resync) {
		p->from_resync = false;
		p->gap_sync = false;
		held_report(p);
	}
	return true;
}

/*
 * A head line s[0..n) ended (its LF left out); it is or will be at head
 * offset off; whole: it arrived in one piece. Returns 1 on the empty line
 * that ends the head, 0 otherwise, <0 when the start line is not one. Inlined into its two callers: it
 * runs once per head line, and a call there cost more than its body.
 */
static inline __attribute__((always_inline)) int head_line_parse(struct http_parser *p,
								   const uint8_t *s, size_t n,
								   size_t off, bool whole)
{
	bool crlf = n && s[n - 1] == '\r';

	p->line_base = s;
	p->line_off = (uint16_t)off;
	if (crlf)
		n--;
	if (off == 0)
		return startline_end(p, s, n, crlf, whole) ? 0 : -EPROTO;
	if (n == 0)
		return 1;
	header_line(p, s, n, &p->framing);
	return 0;
}

/* The head line in the buffer ends at head[head_len - 1]: head_line_parse's answer. */
static int head_line_end(struct http_parser *p)
{
	int r = head_line_parse(p, p->head + p->line_start, p->head_len - 1u - p->line_start,
				p->line_start, false);

	if (r == 0)
		p->line_start = p->head_len;
	return r;
}

/* The line being received is no start line: skip it, up to its LF. */
static void head_garbage(struct http_parser *p, bool line_ended)
{
	if (p->from_resync) {
		/* a start token inside a body: those bytes were the held message's */
		held_take(p, p->wire_bytes, p->ts_last);
	} else {
		p->garbage = true;
		p->skipped = true;
		p->gap_sync = false;
	}
	p->state = ST_RESYNC;
	p->sync_len = line_ended ? 0 : SYNC_SKIP;
}

/*
 * The head outgrew HEAD_STORE: what is kept stays for the record, later
 * lines go through OVL_MAX bytes of scratch for their framing only, so the
 * message keeps its true length and framing however big its head. A start
 * line that long is taken from its first bytes (a known method needed).
 */
static bool head_overflow(struct http_parser *p)
{
	if (p->line_start == 0) {
		struct reqline r;
		size_t n = p->head_len;

		if (p->from_resync || (p->requests && (!reqline_split(p->head, n, false, &r) ||
							   !known_method(p->head, r.m))))
			return false;
		p->line_base = p->head;
		p->line_off = 0;
		if (!startline_parse(p, p->head, n, true))
			return false;
		flag(p, "line_too_long");
		p->over_start = p->over_long = true;	/* the rest of this line is not kept */
		p->over_len = 0;
	} else {
		p->over_len = p->head_len - p->line_start;
		p->over_long = p->over_len > OVL_MAX;
		p->head_len = p->line_start;
	}
	p->head_over = true;
	return head_grow(p, (size_t)p->head_len + OVL_MAX) == 0;
}

/* One line's bytes past the buffer; at its LF, framing from it or the head's end. */
static ssize_t head_over_feed(struct http_parser *p, const uint8_t *b, size_t n, uint64_t ts)
{
	const uint8_t *lf = memchr(b, '\n', n);
	size_t seg = lf ? (size_t)(lf - b) + 1 : n, len;
	uint8_t *line = p->head + p->head_len;

	if (!p->over_long && seg <= OVL_MAX - p->over_len) {
		memcpy(line + p->over_len, b, seg);
		p->over_len += (uint32_t)seg;
	} else {
		p->over_long = true;
	}
	p->wire_bytes += seg;
	p->ts_last = ts;
	if (!lf)
		return (ssize_t)seg;
	len = p->over_len ? p->over_len - 1 : 0;
	if (len && line[len - 1] == '\r')
		len--;
	if (p->over_long && !p->over_start)
		flag(p, "header_too_long");
	else if (!p->over_long && len == 0)
		head_done(p);
	else if (!p->over_long)
		header_line(p, line, len, &p->framing);
	p->over_len = 0;
	p->over_long = p->over_start = false;
	return (ssize_t)seg;
}

/*
 * Room for seg more head bytes at hl, within HEAD_STORE, the buffer grown
 * if need be; *lim is then what the buffer holds without growing again.
 */
static bool head_room(struct http_parser *p, size_t hl, size_t seg, size_t *lim)
{
	if (seg > HEAD_STORE - hl || head_grow(p, hl + seg))
		return false;
	*lim = p->head_cap < HEAD_STORE ? p->head_cap : HEAD_STORE;
	return true;
}

/*
 * Whole lines that start in the input are parsed where they are and copied
 * into the head buffer together, once, before anything reads the buffer:
 * the head then holds what one copy per line would have put there. The
 * buffer is grown first, so that copy cannot fail. What a line costs here
 * is kept small (a head is a dozen lines): the room test is one compare
 * against lim, and the byte count and clock are updated once for all.
 */
static size_t head_lines_in_place(struct http_parser *p, const uint8_t *b, size_t n,
				  uint64_t ts, int *r)
{
	size_t used = 0, seg, hl = p->head_len, lf;
	size_t lim = p->head_cap < HEAD_STORE ? p->head_cap : HEAD_STORE;
	int res = 0;

	*r = 0;
	if (p->line_start != hl)
		return 0;	/* a line begun in an earlier feed: head_feed completes it */
	while (used < n && (lf = lf_find(b, n, used)) < n) {
		seg = lf - used + 1;
		if (hl + seg > lim && !head_room(p, hl, seg, &lim))
			break;	/* the overflow or out of memory: line by line */
		res = head_line_parse(p, b + used, seg - 1, hl, true);
		used += seg;
		hl += seg;
		if (res)
			break;
		p->line_start = (uint16_t)hl;
	}
	if (used) {
		memcpy(p->head + p->head_len, b, used);
		p->wire_bytes += used;
		p->ts_last = ts;
	}
	p->head_len = (uint16_t)hl;
	*r = res;
	return used;
}

static ssize_t head_feed(struct http_parser *p, const uint8_t *b, size_t n, uint64_t ts)
{
	size_t used, seg, room;
	const uint8_t *lf;
	int r;

	if (p->head_over)
		return head_over_feed(p, b, n, ts);
	used = head_lines_in_place(p, b, n, ts, &r);
	if (r < 0) {
		head_garbage(p, true);
		return (ssize_t)used;
	}
	if (r > 0) {
		head_done(p);
		return (ssize_t)used;
	}
	while (used < n) {
		lf = memchr(b + used, '\n', n - used);
		seg = lf ? (size_t)(lf - (b + used)) + 1 : n - used;
		room = HEAD_STORE - p->head_len;
		if (seg > room) {
			/* Keep exactly HEAD_STORE bytes, however the input was split. */
			if (head_append(p, b + used, room))
				return (ssize_t)used;	/* out of memory: the rest as garbage */
			p->wire_bytes += room;
			p->ts_last = ts;
			used += room;
			if (!head_overflow(p))
				head_garbage(p, false);
			return (ssize_t)used;
		}
		if (head_append(p, b + used, seg)) {
			head_garbage(p, lf != NULL);
			return (ssize_t)(used + seg);
		}
		used += seg;
		p->wire_bytes += seg;
		p->ts_last = ts;
		if (!lf)
			break;
		r = head_line_end(p);
		if (r < 0) {
			head_garbage(p, true);
			return (ssize_t)used;
		}
		if (r > 0) {
			head_done(p);
			return (ssize_t)used;
		}
	}
	if (p->line_start == 0 && !startline_prefix_ok(p, p->head, p->head_len))
		head_garbage(p, false);
	return (ssize_t)used;
}

/* ---- bodies ---- */

static size_t body_len_feed(struct http_parser *p, const uint8_t *b, size_t n, uint64_t ts)
{
	size_t take = n < p->remaining ? n : (size_t)p->remaining;

	body_take(p, b, take);
	p->wire_bytes += take;
	p->remaining -= take;
	p->ts_last = ts;
	if (!p->remaining) {
		if (p->state == ST_CHUNK_DATA)
			p->state = ST_CHUNK_CR;
		else
			msg_complete(p);
	}
	return take;
}

static size_t body_close_feed(struct http_parser *p, const uint8_t *b, size_t n, uint64_t ts)
{
	body_take(p, b, n);
	p->wire_bytes += n;
	p->ts_last = ts;
	return n;
}

static int hexval(uint8_t c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The chunk-size line is over: a payload follows, or the trailers after the last chunk. */
static void chunk_size_done(struct http_parser *p)
{
	if (p->remaining) {
		p->state = ST_CHUNK_DATA;
	} else {
		p->state = ST_TRAILER;
		p->line_empty = true;
	}
}

/* One byte of chunk framing (size line, CRLF after data); framing is small, so bytewise. */
static const char *chunk_byte(struct http_parser *p, uint8_t c)
{
	int v;

	switch (p->state) {
	case ST_CHUNK_SIZE:
		v = hexval(c);
		if (v >= 0) {
			if (p->remaining >= CHUNK_SIZE_MAX >> 4)
				return "chunk_size";
			p->remaining = p->remaining << 4 | (uint64_t)v;
			p->chunk_digits = 1;
			return NULL;
		}
		if (!p->chunk_digits)
			return "chunk_size";
		if (c == '\n')
			chunk_size_done(p);
		else if (c == ';' || c == ' ' || c == '\t' || c == '\r')
			p->state = ST_CHUNK_EXT;
		else
			return "chunk_size";
		return NULL;
	case ST_CHUNK_CR:
		if (c == '\r') {
			p->state = ST_CHUNK_LF;
			return NULL;
		}
		/* a bare LF is accepted too */
		__attribute__((fallthrough));
	case ST_CHUNK_LF:
		if (c != '\n')
			return "chunk_framing";
		p->state = ST_CHUNK_SIZE;
		p->remaining = 0;
		p->chunk_digits = 0;
		return NULL;
	}
	return "chunk_framing";
}

/* Skip to the end of a line; returns bytes used and whether the line ended. */
static size_t line_skip(const uint8_t *b, size_t n, bool *ended)
{
	const uint8_t *lf = memchr(b, '\n', n);

	*ended = lf != NULL;
	return lf ? (size_t)(lf - b) + 1 : n;
}

static ssize_t chunk_feed(struct http_parser *p, const uint8_t *b, size_t n, uint64_t ts)
{
	size_t used, i, content;
	const char *bad;
	bool ended;

	if (p->state == ST_CHUNK_DATA)
		return (ssize_t)body_len_feed(p, b, n, ts);
	p->ts_last = ts;
	if (p->state == ST_CHUNK_EXT || p->state == ST_TRAILER) {
		used = line_skip(b, n, &ended);
		p->wire_bytes += used;
		if (p->state == ST_CHUNK_EXT) {
			if (ended)
				chunk_size_done(p);
			return (ssize_t)used;
		}
		content = ended ? used - 1 : used;
		for (i = 0; i < content; i++)
			if (b[i] != '\r')
				p->line_empty = false;
		if (ended) {
			if (p->line_empty)
				msg_complete(p);
			p->line_empty = true;
		}
		return (ssize_t)used;
	}
	p->wire_bytes++;
	bad = chunk_byte(p, b[0]);
	if (bad)
		body_unframed(p, bad, b[0] == '\n');
	return 1;
}

/* ---- idle and resync ---- */

/* Blank lines between messages are tolerated (RFC 9112 2.2) and belong to none. */
static size_t idle_feed(struct http_parser *p, const uint8_t *b, size_t n, uint64_t ts)
{
	size_t i = 0;

	while (i < n && (b[i] == '\r' || b[i] == '\n'))
		i++;
	if (i < n)
		msg_begin(p, ts);
	return i;
}

/* 1: the sync bytes are a whole start token, 0: a prefix of one, -1: neither. */
static int sync_match(const struct http_parser *p)
{
	size_t i;
	int r, best = -1;

	if (!p->requests)
		return lit_match(p->sync, p->sync_len, response_token, true);
	for (i = 0; i < N_KNOWN; i++) {
		r = lit_match(p->sync, p->sync_len, known_methods[i], true);
		if (r > best)
			best = r;
	}
	return best;
}

/* Bytes resync passed over: the held message's, or garbage being skipped. */
static void resync_drop(struct http_parser *p, size_t n, uint64_t ts)
{
	if (p->held)
		held_take(p, n, ts);
	else if (p->garbage)
		p->skipped = true;
}

/*
 * Look for a start token at the start of a line. The position right after a
 * gap counts as a line start: a lost event usually ends at a write boundary.
 */
static ssize_t resync_feed(struct http_parser *p, const uint8_t *b, size_t n, uint64_t ts)
{
	size_t i = 0, used;
	bool ended;
	int r;

	while (i < n) {
		if (p->sync_len == SYNC_SKIP) {
			used = line_skip(b + i, n - i, &ended);
			resync_drop(p, used, ts);
			i += used;
			if (ended)
				p->sync_len = 0;
			continue;
		}
		if (p->sync_len == 0)
			p->ts_first = ts;
		p->sync[p->sync_len++] = b[i++];
		r = sync_match(p);
		if (r < 0) {
			resync_drop(p, p->sync_len, ts);
			p->sync_len = b[i - 1] == '\n' ? 0 : SYNC_SKIP;
			continue;
		}
		if (r > 0) {
			uint64_t first = p->ts_first;
			uint8_t len = p->sync_len;

			msg_begin(p, first);
			p->ts_last = ts;
			p->from_resync = true;
			p->sync_len = 0;
			if (head_append(p, p->sync, len)) {
				resync_drop(p, len, ts);
				p->state = ST_RESYNC;
				p->sync_len = SYNC_SKIP;
				continue;
			}
			p->wire_bytes = len;
			return (ssize_t)i;
		}
	}
	return (ssize_t)n;
}

/* ---- entry points ---- */

/* One step: bytes consumed (0 only with a change of state), or -errno. */
static ssize_t parser_step(struct http_parser *p, const uint8_t *b, size_t n, uint64_t ts)
{
	switch (p->state) {
	case ST_IDLE:
		return (ssize_t)idle_feed(p, b, n, ts);
	case ST_HEAD:
		return head_feed(p, b, n, ts);
	case ST_BODY_LEN:
		return (ssize_t)body_len_feed(p, b, n, ts);
	case ST_BODY_CLOSE:
		return (ssize_t)body_close_feed(p, b, n, ts);
	case ST_RESYNC:
		return resync_feed(p, b, n, ts);
	case ST_ERROR:
		return -EPROTO;
	default:
		return chunk_feed(p, b, n, ts);
	}
}

/* Returns 0, or -EPROTO when bytes were skipped as no HTTP (or follow a 101). */
int http_parser__feed(struct http_parser *p, const uint8_t *buf, size_t len, uint64_t ts_ns)
{
	size_t i = 0;
	ssize_t r;

	p->skipped = false;
	if (p->state == ST_RESYNC && p->gap_sync && p->sync_len == SYNC_SKIP)
		p->sync_len = 0;	/* a write boundary: maybe a message's start */
	while (i < len) {
		r = parser_step(p, buf + i, len - i, ts_ns);
		if (r < 0)
			return (int)r;
		i += (size_t)r;
	}
	return p->skipped ? -EPROTO : 0;
}

/* Skip up to n bytes of a body whose extent is known; returns how many. */
static uint64_t gap_skip(struct http_parser *p, uint64_t n, uint64_t ts)
{
	if (p->state != ST_BODY_CLOSE && n > p->remaining)
		n = p->remaining;
	p->body_bytes += n;
	p->wire_bytes += n;
	p->lost_bytes += n;
	p->ts_last = ts;
	p->excerpt_frozen = true;
	if (p->state == ST_BODY_CLOSE)
		return n;
	p->remaining -= n;
	if (!p->remaining) {
		if (p->state == ST_CHUNK_DATA)
			p->state = ST_CHUNK_CR;
		else
			msg_complete(p);
	}
	return n;
}

/* The lost bytes of a message that never showed its head: a placeholder. */
static void gap_placeholder(struct http_parser *p, uint64_t n, uint64_t ts)
{
	msg_begin(p, ts);
	p->wire_bytes = n;
	p->lost_bytes = n;
}

/*
 * The rest of a gap hides where the next message starts. Request side: the
 * open message (or a placeholder) is held, so the answer to it pairs with
 * it. Response side: reported now, pairing with the request it answers.
 */
static void gap_resync(struct http_parser *p, uint64_t n, uint64_t ts)
{
	if (p->held && (p->state == ST_RESYNC || p->from_resync)) {
		/* an unconfirmed start line after a resync was the held message's too */
		if (p->state == ST_HEAD)
			held_take(p, p->wire_bytes, ts);
		else if (p->sync_len != SYNC_SKIP)
			held_take(p, p->sync_len, ts);
		held_take(p, n, ts);
		p->held->lost_bytes += n;
		p->held->incomplete = true;
	} else {
		if (!http_parser__busy(p))
			gap_placeholder(p, n, ts);
		else {
			p->wire_bytes += n;
			p->lost_bytes += n;
			p->ts_last = ts;
		}
		if (p->requests)
			msg_hold(p, true, false, true);
		else
			msg_report(p, true);
	}
	p->state = ST_RESYNC;
	p->sync_len = 0;
	p->garbage = false;
	p->gap_sync = true;
}

void http_parser__gap(struct http_parser *p, uint64_t nbytes, uint64_t ts_ns)
{
	if (!nbytes)
		return;
	if (p->state == ST_ERROR) {
		/* another protocol since a 101: look for HTTP again, nothing to hold */
		p->state = ST_RESYNC;
		p->sync_len = 0;
		return;
	}
	if (p->state == ST_BODY_CLOSE || p->state == ST_BODY_LEN ||
	    (p->state == ST_CHUNK_DATA && nbytes <= p->remaining)) {
		nbytes -= gap_skip(p, nbytes, ts_ns);
		if (!nbytes)
			return;
	}
	gap_resync(p, nbytes, ts_ns);
}

void http_parser__close(struct http_parser *p, uint64_t ts_ns)
{
	if (p->held) {
		/* what resync held back, and an unconfirmed start line, were the held message's */
		if (p->state == ST_HEAD && p->from_resync)
			held_take(p, p->wire_bytes, ts_ns);
		else if (p->state == ST_RESYNC && p->sync_len != SYNC_SKIP)
			held_take(p, p->sync_len, ts_ns);
		if (p->state == ST_RESYNC || p->from_resync)
			p->state = ST_IDLE;
		held_report(p);
	}
	if (p->state == ST_BODY_CLOSE)
		msg_complete(p);
	else if (http_parser__busy(p))
		msg_report(p, true);
	p->state = ST_IDLE;
}

/* ---- the protocol (proto.h): both directions of a connection ---- */

/* A request whose answer needs one of its facts: HEAD (no body), a JSON-RPC id. */
struct req_note {
	uint64_t ord;			/* its place among the connection's requests */
	bool head;
	char id[RPC_ID_MAX];		/* the JSON-RPC request's id ("" when none) */
};

/* Requests noted at most (deeper HEAD or MCP pipelining forgets the oldest). */
#define NOTES_MAX 1024

struct http_side {
	struct http_conn *st;
	uint8_t dir;
};

struct http_conn {
	const struct proto_env *env;
	struct conn *c;
	struct http_parser *hp[2];	/* per direction */
	struct http_side side[2];
	bool upgraded;			/* 101: raw exchanges from the next byte on */
	uint64_t nreq, nresp;		/* requests and final responses reported */
	struct req_note *notes;		/* oldest first */
	uint32_t nnotes, notes_cap;
};

/* The note of the request the next final response answers, or NULL. */
static const struct req_note *note_answered(struct http_conn *st)
{
	uint32_t drop = 0;

	while (drop < st->nnotes && st->notes[drop].ord < st->nresp)
		drop++;
	if (drop) {
		st->nnotes -= drop;
		memmove(st->notes, st->notes + drop, st->nnotes * sizeof(*st->notes));
	}
	return st->nnotes && st->notes[0].ord == st->nresp ? &st->notes[0] : NULL;
}

/* A note for the request just reported: it is a HEAD, or a JSON-RPC call (id). */
static __attribute__((noinline)) void note_push(struct http_conn *st, bool head, bool id,
						const struct rpc_msg *rpc)
{
	struct req_note *n;

	if (st->nnotes == st->notes_cap) {
		uint32_t cap = st->notes_cap ? 2 * st->notes_cap : 4;

		if (cap > NOTES_MAX) {
			st->nnotes--;
			memmove(st->notes, st->notes + 1, st->nnotes * sizeof(*st->notes));
		} else if ((n = realloc(st->notes, cap * sizeof(*n)))) {
			st->notes = n;
			st->notes_cap = cap;
		} else {
			return;	/* out of memory: its answer is read as not HEAD */
		}
	}
	n = &st->notes[st->nnotes++];
	n->ord = st->nreq;
	n->head = head;
	memcpy(n->id, id ? rpc->id : "", id ? sizeof(n->id) : 1);
}

/* Inlined: most requests need no note, and the test is cheaper than a call. */
static inline __attribute__((always_inline)) void note_request(struct http_conn *st,
							       const struct message *m,
							       const struct rpc_msg *rpc)
{
	/* the parser's: always an HTTP part; its first byte rules out nearly every method */
	bool head = m->http->method[0] == 'H' && !strcmp(m->http->method, "HEAD");
	bool id = rpc && rpc->kind == RPC_REQUEST;

	if (head || id)
		note_push(st, head, id, rpc);
}

/*
 * The message being reported, built where the correlator takes it from: a
 * response paired at once reaches the output without being copied, and a
 * request that waits stays where it was built. report_buf when the
 * correlator has no buffer free; report_to is the one in use. One per
 * thread (a pipeline runs on one).
 */
static _Thread_local struct msg_copy report_buf;
static _Thread_local struct msg_copy *report_to;

static struct message *http_report_into(void *ctx)
{
	struct msg_copy *mc = correlator__report_buf(((struct http_side *)ctx)->st->env->cr);

	report_to = mc ? mc : &report_buf;
	report_to->m.http = &report_to->http;	/* the parser fills the HTTP part in place */
	return &report_to->m;
}

static bool http_answers_head(void *ctx)
{
	const struct req_note *n = note_answered(((struct http_side *)ctx)->st);

	return n && n->head;
}

/*
 * A message is complete, built in mc: the JSON-RPC message its body
 * carries (MCP over HTTP) is read now, once, and both go to the correlator.
 */
static inline __attribute__((always_inline)) void http_message(struct http_side *side,
							       const struct message *msg,
							       struct msg_copy *mc)
{
	struct http_conn *st = side->st;
	const struct req_note *n = NULL;
	const struct http_part *h = msg->http;	/* the parser's: always set */
	bool final = h->status < 100 || h->status >= 200 || h->status == 101;

	mc->tid = st->env->tid;
	mc->dir = side->dir;
	mc->body = (uint8_t *)msg->body;
	if (!msg->is_request && final)
		n = note_answered(st);
	/* no body (most requests): no JSON-RPC, and no call to say so */
	if (!msg->body_len || jsonrpc__from_http(h->content_type, msg->body, msg->body_len,
						 n && n->id[0] ? n->id : NULL, &mc->rpc) <= 0)
		mc->rpc.kind = RPC_NONE;
	if (msg->is_request) {
		note_request(st, msg, mc->rpc.kind ? &mc->rpc : NULL);
		st->nreq++;
		correlator__request_copy(st->env->cr, st->c, mc);
		return;
	}
	st->nresp += final;	/* interim answers (100, 103) answer no request */
	correlator__response_copy(st->env->cr, st->c, mc, http_parser__busy(st->hp[!side->dir]));
	if (h->status == 101)
		st->upgraded = true;	/* WebSocket and the like: raw from here on */
}

/*
 * A message held across a resync: its own memory, copied to the stack. Out
 * of line: the copy would give every message a stack canary.
 */
static __attribute__((noinline)) void http_on_held(struct http_side *side,
						   const struct message *msg)
{
	struct msg_copy held;

	held.m = *msg;
	held.http = *msg->http;
	held.m.http = &held.http;
	http_message(side, msg, &held);
}

static void http_on_message(void *ctx, const struct message *msg)
{
	struct msg_copy *mc = report_to;

	if (!mc || msg != &mc->m)
		http_on_held(ctx, msg);
	else
		http_message(ctx, msg, mc);
}

static const struct http_parser_ops http_parser_glue = {
	.on_message = http_on_message,
	.answers_head = http_answers_head,
	.report_into = http_report_into,
};

static bool http_detect(const struct conn *c, int dir, const uint8_t *buf, size_t len)
{
	(void)c;
	(void)dir;
	return http_looks_like_request(buf, len) || http_looks_like_response(buf, len);
}

static void http_free(struct conn *c)
{
	struct http_conn *st = c->ps;

	if (!st)
		return;
	http_parser__free(st->hp[0]);
	http_parser__free(st->hp[1]);
	free(st->notes);
	free(st);
	c->ps = NULL;
}

/* The role, when accept/connect did not say it, is whoever sent the request. */
static int http_start(const struct proto_env *env, struct conn *c, int dir, const uint8_t *buf,
		      size_t len)
{
	struct http_conn *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	if (c->role == SA_ROLE_UNKNOWN)
		c->role = (http_looks_like_request(buf, len) == (dir == SA_DIR_INGRESS)) ?
			  SA_ROLE_SERVER : SA_ROLE_CLIENT;
	st->env = env;
	st->c = c;
	c->ps = st;
	c->ops = &proto_http_ops;
	c->proto = PROTO_HTTP;
	for (int d = 0; d < 2; d++) {
		bool requests = (c->role == SA_ROLE_SERVER) == (d == SA_DIR_INGRESS);

		st->side[d] = (struct http_side){ st, d };
		st->hp[d] = http_parser__new(requests, env->body_excerpt, &http_parser_glue,
					     &st->side[d]);
		if (!st->hp[d])
			return -ENOMEM;
	}
	return 0;
}

/* After 101 Switching Protocols the client speaks first in raw exchanges. */
static int upgrade_to_raw(struct http_conn *st, struct conn *c)
{
	int client_dir = c->role == SA_ROLE_SERVER ? SA_DIR_INGRESS : SA_DIR_EGRESS;

	correlator__flush_conn(st->env->cr, c, OUTCOME_CONN_CLOSED);
	return proto_raw__switch(st->env, c, client_dir);
}

static void http_feed(struct conn *c, int dir, const uint8_t *buf, size_t len, uint64_t ts)
{
	struct http_conn *st = c->ps;

	if (st->upgraded) {
		if (upgrade_to_raw(st, c) == 0)	/* st is gone */
			c->ops->feed(c, dir, buf, len, ts);
		return;
	}
	if (http_parser__feed(st->hp[dir], buf, len, ts) == -EPROTO && !st->upgraded)
		proto__unparsed(st->env, len);
}

static void http_gap(struct conn *c, int dir, uint64_t n, uint64_t ts)
{
	struct http_conn *st = c->ps;

	http_parser__gap(st->hp[dir], n, ts);
}

static void http_close(struct conn *c, int outcome, uint64_t ts)
{
	struct http_conn *st = c->ps;
	int resp_dir = c->role == SA_ROLE_SERVER ? SA_DIR_EGRESS : SA_DIR_INGRESS;

	(void)outcome;
	/* a close-delimited response completes first and pairs with its request */
	http_parser__close(st->hp[resp_dir], ts);
	http_parser__close(st->hp[!resp_dir], ts);
}

const struct proto_ops proto_http_ops = {
	.name = "http",
	.proto = PROTO_HTTP,
	.detect = http_detect,
	.start = http_start,
	.feed = http_feed,
	.gap = http_gap,
	.close = http_close,
	.free = http_free,
};

bool proto_http__answers_head(struct conn *c)
{
	return c->ops == &proto_http_ops && http_answers_head(&((struct http_conn *)c->ps)->side[0]);
}
