// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Incremental HTTP/1.x parser for one direction of a connection (see http.h).
 *
 * A state machine driven byte range by byte range: the start line and
 * headers are copied into a head buffer (allocated on the first message,
 * grown up to HTTP_HEAD_MAX) and parsed once the empty line arrives; bodies
 * are never stored, only their first excerpt_max bytes. What a report needs
 * from the head is kept as offsets into that buffer, and the struct http_msg
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

#define HEAD_MIN_CAP	512
#define KEEP_CAP	4096		/* buffers above this are freed between messages */
#define CHUNK_SIZE_MAX	(UINT64_C(1) << 60)
#define SYNC_SKIP	0xff		/* resync: inside a line that cannot start a message */

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
	ST_RESYNC,		/* after a gap: looking for a start line */
	ST_ERROR,		/* not HTTP: ignore input until a gap */
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
	size_t excerpt_max;
	size_t excerpt_len;
	size_t excerpt_cap;
	uint64_t remaining;	/* body or chunk bytes still to come; chunk size being read */
	uint64_t wire_bytes;
	uint64_t body_bytes;
	uint64_t lost_bytes;
	uint64_t ts_first;
	uint64_t ts_last;
	uint16_t head_len;
	uint16_t head_cap;
	uint16_t line_start;	/* where the head line being received begins */
	uint16_t status;
	struct span method, target, reason, ctype, host;
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
	bool from_resync;	/* started by resync: a bad head may be body text, not garbage */
	bool line_empty;	/* trailer: nothing but CR on the current line so far */
};

/* Tokens that may start a line after a resync; also what detection accepts. */
static const char *const known_methods[] = {
	"GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ",
};
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
	free(p);
}

bool http_parser__busy(const struct http_parser *p)
{
	return p->state != ST_IDLE && p->state != ST_RESYNC && p->state != ST_ERROR;
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

/* "HTTP/1.0" or "HTTP/1.1" at s; returns its length, 0 if cut short (partial), -1. */
static int version_match(const uint8_t *s, size_t n, bool partial)
{
	int r = lit_match(s, n, response_token, partial);

	if (r <= 0)
		return r;
	if (n == 7)
		return partial ? 0 : -1;
	return s[7] == '0' || s[7] == '1' ? 8 : -1;
}

/*
 * Request line without its CR LF: token SP target SP HTTP/1.x. With partial,
 * s may be any prefix of a valid line, so garbage is refused from its first
 * bytes instead of being buffered up to HTTP_HEAD_MAX.
 */
static bool reqline_ok(const uint8_t *s, size_t n, bool partial)
{
	size_t i = 0, t;
	int r;

	while (i < n && is_tchar(s[i]))
		i++;
	if (i >= HTTP_METHOD_MAX)
		return false;
	if (i == n)
		return partial;
	if (i == 0 || s[i++] != ' ')
		return false;
	t = i;
	while (i < n && s[i] > ' ' && s[i] != 0x7f)
		i++;
	if (i == n)
		return partial;
	if (i == t || s[i++] != ' ')
		return false;
	r = version_match(s + i, n - i, partial);
	if (r == 0)
		return true;
	return r > 0 && (size_t)r == n - i;
}

/* Status line without its CR LF: HTTP/1.x SP 3DIGIT [SP reason]. */
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

/* A start line, or with partial what came of it so far: a CR at its end may begin its CR LF. */
static bool startline_ok(const struct http_parser *p, const uint8_t *s, size_t n, bool partial)
{
	if (partial && n && s[n - 1] == '\r')
		n--;
	return p->requests ? reqline_ok(s, n, partial) : statusline_ok(s, n, partial);
}

/* The first line of buf, whole if its LF is there, else as a prefix. */
static bool firstline_ok(const uint8_t *buf, size_t len, bool requests)
{
	const uint8_t *lf = memchr(buf, '\n', len);
	bool partial = !lf;

	if (lf)
		len = (size_t)(lf - buf);
	if (len && buf[len - 1] == '\r')
		len--;
	return requests ? reqline_ok(buf, len, partial) : statusline_ok(buf, len, partial);
}

/*
 * Detection accepts only the common methods, unlike the parser: a stream is
 * called HTTP on its first bytes, and an unknown token is more likely
 * something else. No bytes at all are not called anything.
 */
bool http_looks_like_request(const uint8_t *buf, size_t len)
{
	size_t i;

	if (!len)
		return false;
	for (i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]); i++)
		if (lit_match(buf, len, known_methods[i], true) >= 0)
			return firstline_ok(buf, len, true);
	return false;
}

bool http_looks_like_response(const uint8_t *buf, size_t len)
{
	return len && firstline_ok(buf, len, false);
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
	p->ts_first = ts;
	p->ts_last = ts;
}

static void head_spans(struct http_parser *p);

/*
 * Report the message and go back to ST_IDLE (the caller may then move on to
 * ST_RESYNC or ST_ERROR). The callback may see a partial head: its start
 * line and the headers received whole are parsed for it.
 */
static void msg_report(struct http_parser *p, bool incomplete)
{
	struct http_msg m;

	if (incomplete && p->state == ST_HEAD)
		head_spans(p);
	/* every member is set below: no memset of the 1.5 KiB of string arrays */
	m.ts_first_ns = p->ts_first;
	m.ts_last_ns = p->ts_last;
	m.wire_bytes = p->wire_bytes;
	m.body_bytes = p->body_bytes;
	m.lost_bytes = p->lost_bytes;
	m.body = p->excerpt_len ? p->excerpt : NULL;
	m.body_len = p->excerpt_len < p->excerpt_max ? p->excerpt_len : p->excerpt_max;
	m.body_ahead = p->excerpt_len - m.body_len;
	m.status = p->status;
	m.version = p->version;
	m.is_request = p->requests;
	m.chunked = p->chunked;
	m.conn_close = p->conn_close;
	m.body_cut = m.body_len < m.body_bytes;
	m.incomplete = incomplete;
	span_copy(p, p->method, m.method, sizeof(m.method));
	span_copy(p, p->target, m.target, sizeof(m.target));
	span_copy(p, p->reason, m.reason, sizeof(m.reason));
	span_copy(p, p->ctype, m.content_type, sizeof(m.content_type));
	span_copy(p, p->host, m.host, sizeof(m.host));
	p->state = ST_IDLE;
	if (p->ops && p->ops->on_message)
		p->ops->on_message(p->ctx, &m);
	parser_trim(p);
}

/* The stream is not HTTP: report what had started, ignore input until a gap. */
static int msg_fail(struct http_parser *p, int err)
{
	if (http_parser__busy(p))
		msg_report(p, true);
	p->state = ST_ERROR;
	return err;
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

static struct span span_of(const struct http_parser *p, const uint8_t *s, size_t n)
{
	struct span sp = { (uint16_t)(s - p->head), (uint16_t)n };

	return sp;
}

/* Method and target, or status and reason, from a start line already checked. */
static void startline_spans(struct http_parser *p, const uint8_t *s, size_t n)
{
	const uint8_t *sp, *end = s + n;

	if (p->requests) {
		sp = memchr(s, ' ', n);
		p->method = span_of(p, s, sp ? (size_t)(sp - s) : n);
		if (!sp)
			return;
		s = sp + 1;
		sp = memchr(s, ' ', (size_t)(end - s));
		p->target = span_of(p, s, sp ? (size_t)(sp - s) : (size_t)(end - s));
		if (sp && end - sp > 8)
			p->version = sp[8] == '0' ? 10 : 11;
		return;
	}
	if (n >= 8)
		p->version = s[7] == '0' ? 10 : 11;
	if (n >= 12)
		p->status = (uint16_t)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
	if (n > 13)
		p->reason = span_of(p, s + 13, n - 13);
}

static bool name_is_n(const uint8_t *s, size_t n, const char *name, size_t len)
{
	return len == n && ascii_caseeq(s, name, n);
}

/* A header name or token against a literal: the length rules most out first. */
#define name_is(s, n, lit) name_is_n((s), (n), (lit), sizeof(lit) - 1)

/* Does the comma-separated list s contain tok (case-insensitive)? Or end with it (last)? */
static bool list_has_n(const uint8_t *s, size_t n, const char *tok, size_t toklen, bool last)
{
	size_t i = 0, a, b;
	bool found = false;

	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		a = i;
		while (i < n && s[i] != ',')
			i++;
		b = i;
		while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
			b--;
		if (b == a)
			continue;
		found = name_is_n(s + a, b - a, tok, toklen);
		if (found && !last)
			return true;
	}
	return found;
}

#define list_has(s, n, lit, last) list_has_n((s), (n), (lit), sizeof(lit) - 1, (last))

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

/* One "name: value" line; malformed and folded lines are ignored, not refused. */
static void header_line(struct http_parser *p, const uint8_t *s, size_t n, struct framing *f)
{
	const uint8_t *colon = memchr(s, ':', n), *v, *end = s + n;
	size_t nl = colon ? (size_t)(colon - s) : 0, i;
	uint64_t len = 0;

	if (!nl)
		return;
	for (i = 0; i < nl; i++)
		if (!is_tchar(s[i]))
			return;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	n = (size_t)(end - v);
	if (name_is(s, nl, "content-length")) {
		if (content_length(v, n, &len) || (f->has_length && len != f->length))
			f->bad = true;
		f->length = len;
		f->has_length = true;
	} else if (name_is(s, nl, "transfer-encoding")) {
		/* The last coding of the last header decides (RFC 9112 6.3). */
		f->has_te = true;
		p->chunked = list_has(v, n, "chunked", true);
	} else if (name_is(s, nl, "connection")) {
		if (list_has(v, n, "close", false))
			p->conn_close = true;
		if (list_has(v, n, "keep-alive", false))
			f->keep_alive = true;
	} else if (name_is(s, nl, "content-type") && !p->ctype.len) {
		p->ctype = span_of(p, v, n);
	} else if (name_is(s, nl, "host") && !p->host.len) {
		p->host = span_of(p, v, n);
	}
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
 * its LF gives what it holds (it passed startline_ok as a prefix).
 */
static void head_spans(struct http_parser *p)
{
	size_t n = p->head_len;

	if (p->line_start == 0) {
		if (n && p->head[n - 1] == '\r')
			n--;
		startline_spans(p, p->head, n);
	}
	head_close_rule(p);
}

static int head_grow(struct http_parser *p, size_t need)
{
	size_t cap = p->head_cap ? p->head_cap : HEAD_MIN_CAP;
	uint8_t *nb;

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

static int head_append(struct http_parser *p, const uint8_t *b, size_t n)
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

/*
 * The head is whole: choose how the body is delimited (RFC 9112 6.3).
 * Responses ask answers_head once per final response, never for 1xx.
 */
static int head_done(struct http_parser *p)
{
	const struct framing f = p->framing;
	bool no_body = false;

	head_close_rule(p);
	if (f.bad || (p->requests && f.has_te && !p->chunked))
		return msg_fail(p, -EPROTO);
	if (!p->requests) {
		if (p->status < 200) {
			p->chunked = false;
			msg_complete(p);
			/* 101: what follows is another protocol. */
			if (p->status == 101)
				p->state = ST_ERROR;
			return 0;
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
	return 0;
}

/*
 * A head line ends at head[head_len - 1]. Returns 1 on the empty line that
 * ends the head, 0 otherwise, <0 when the start line is not HTTP.
 */
static int head_line_end(struct http_parser *p)
{
	const uint8_t *s = p->head + p->line_start;
	size_t n = p->head_len - 1u - p->line_start;

	if (n && s[n - 1] == '\r')
		n--;
	if (p->line_start == 0) {
		if (!startline_ok(p, s, n, false))
			return -EPROTO;
		startline_spans(p, s, n);
	} else if (n == 0) {
		return 1;
	} else {
		header_line(p, s, n, &p->framing);
	}
	p->line_start = p->head_len;
	return 0;
}

/* Garbage where a start line should be: not a message, nothing to report. */
static int head_garbage(struct http_parser *p)
{
	if (p->from_resync) {
		/* A start token inside a body: keep looking, from the next line. */
		p->state = ST_RESYNC;
		p->sync_len = p->head[p->head_len - 1] == '\n' ? 0 : SYNC_SKIP;
		return 0;
	}
	p->state = ST_ERROR;
	return -EPROTO;
}

static ssize_t head_feed(struct http_parser *p, const uint8_t *b, size_t n, uint64_t ts)
{
	size_t used = 0, seg, room;
	const uint8_t *lf;
	int r;

	while (used < n) {
		lf = memchr(b + used, '\n', n - used);
		seg = lf ? (size_t)(lf - (b + used)) + 1 : n - used;
		room = HTTP_HEAD_MAX - p->head_len;
		if (seg > room) {
			/* Keep exactly HTTP_HEAD_MAX bytes, however the input was split. */
			if (head_append(p, b + used, room))
				return msg_fail(p, -ENOMEM);
			p->wire_bytes += room;
			p->ts_last = ts;
			if (p->line_start == 0)
				return head_garbage(p);
			return msg_fail(p, -EPROTO);
		}
		if (head_append(p, b + used, seg))
			return msg_fail(p, -ENOMEM);
		used += seg;
		p->wire_bytes += seg;
		p->ts_last = ts;
		if (!lf)
			break;
		r = head_line_end(p);
		if (r < 0)
			return head_garbage(p);
		if (r > 0) {
			r = head_done(p);
			return r < 0 ? r : (ssize_t)used;
		}
	}
	if (p->line_start == 0 &&
	    !startline_ok(p, p->head, p->head_len, true))
		return head_garbage(p);
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
static int chunk_byte(struct http_parser *p, uint8_t c)
{
	int v;

	switch (p->state) {
	case ST_CHUNK_SIZE:
		v = hexval(c);
		if (v >= 0) {
			if (p->remaining >= CHUNK_SIZE_MAX >> 4)
				return -EPROTO;
			p->remaining = p->remaining << 4 | (uint64_t)v;
			p->chunk_digits = 1;
			return 0;
		}
		if (!p->chunk_digits)
			return -EPROTO;
		if (c == '\n')
			chunk_size_done(p);
		else if (c == ';' || c == ' ' || c == '\t' || c == '\r')
			p->state = ST_CHUNK_EXT;
		else
			return -EPROTO;
		return 0;
	case ST_CHUNK_CR:
		if (c == '\r') {
			p->state = ST_CHUNK_LF;
			return 0;
		}
		/* a bare LF is accepted too */
		__attribute__((fallthrough));
	case ST_CHUNK_LF:
		if (c != '\n')
			return -EPROTO;
		p->state = ST_CHUNK_SIZE;
		p->remaining = 0;
		p->chunk_digits = 0;
		return 0;
	}
	return -EPROTO;
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
	if (chunk_byte(p, b[0]))
		return msg_fail(p, -EPROTO);
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
	for (i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]); i++) {
		r = lit_match(p->sync, p->sync_len, known_methods[i], true);
		if (r > best)
			best = r;
	}
	return best;
}

/*
 * Look for a start token at the start of a line. The position right after a
 * gap counts as a line start: a lost event usually ends at a write boundary.
 */
static ssize_t resync_feed(struct http_parser *p, const uint8_t *b, size_t n, uint64_t ts)
{
	size_t i = 0;
	bool ended;
	int r;

	while (i < n) {
		if (p->sync_len == SYNC_SKIP) {
			i += line_skip(b + i, n - i, &ended);
			if (ended)
				p->sync_len = 0;
			continue;
		}
		if (p->sync_len == 0)
			p->ts_first = ts;
		p->sync[p->sync_len++] = b[i++];
		r = sync_match(p);
		if (r < 0) {
			p->sync_len = b[i - 1] == '\n' ? 0 : SYNC_SKIP;
			continue;
		}
		if (r > 0) {
			uint64_t first = p->ts_first;

			msg_begin(p, first);
			p->ts_last = ts;
			p->from_resync = true;
			if (head_append(p, p->sync, p->sync_len)) {
				p->state = ST_RESYNC;
				p->sync_len = SYNC_SKIP;
				continue;
			}
			p->wire_bytes = p->sync_len;
			p->sync_len = 0;
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

/*
 * Returns 0, -EPROTO (sticky until a gap), or -ENOMEM when the head buffer
 * could not grow (the parser then behaves as after -EPROTO).
 */
int http_parser__feed(struct http_parser *p, const uint8_t *buf, size_t len, uint64_t ts_ns)
{
	size_t i = 0;
	ssize_t r;

	if (p->state == ST_ERROR)
		return -EPROTO;
	while (i < len) {
		r = parser_step(p, buf + i, len - i, ts_ns);
		if (r < 0)
			return (int)r;
		i += (size_t)r;
	}
	return 0;
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

void http_parser__gap(struct http_parser *p, uint64_t nbytes, uint64_t ts_ns)
{
	if (!nbytes)
		return;
	if (p->state == ST_BODY_CLOSE || p->state == ST_BODY_LEN ||
	    (p->state == ST_CHUNK_DATA && nbytes <= p->remaining)) {
		nbytes -= gap_skip(p, nbytes, ts_ns);
		if (!nbytes)
			return;
	}
	/* The rest of the gap hides where the next message starts. */
	if (http_parser__busy(p))
		msg_report(p, true);
	p->state = ST_RESYNC;
	p->sync_len = 0;
}

void http_parser__close(struct http_parser *p, uint64_t ts_ns)
{
	if (p->state == ST_BODY_CLOSE)
		msg_complete(p);
	else if (http_parser__busy(p))
		msg_report(p, true);
	p->state = ST_IDLE;
}
