/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Incremental HTTP/1.x message parser, one per connection direction.
 *
 * Bytes are fed as they were captured, split anywhere; each complete message
 * (request or response) is reported once through ops->on_message with its
 * start line, a few headers, lengths and a bounded body excerpt. The parser
 * never holds more than HTTP_HEAD_MAX header bytes plus the excerpt size.
 */
#ifndef SOCKAUDIT_HTTP_H
#define SOCKAUDIT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_METHOD_MAX		24
#define HTTP_TARGET_MAX		1024
#define HTTP_REASON_MAX		64
#define HTTP_CTYPE_MAX		128
#define HTTP_HOST_MAX		256
#define HTTP_MCP_HDR_MAX	128	/* Mcp-Session-Id, Mcp-Method, Mcp-Name, traceparent */
#define HTTP_HEAD_MAX		16384	/* start line + headers kept for parsing */
/*
 * Body bytes kept after the excerpt, never written: redaction scans them so
 * that a secret cut by the excerpt's end is replaced whole (redact.h,
 * REDACT_LOOKAHEAD).
 */
#define HTTP_BODY_AHEAD		256

struct http_msg {
	uint64_t ts_first_ns;	/* timestamp of the first byte's event */
	uint64_t ts_last_ns;	/* timestamp of the last byte's event */
	uint64_t wire_bytes;	/* bytes on the wire: start line, headers, body framing */
	uint64_t body_bytes;	/* body bytes (de-chunked) */
	uint64_t lost_bytes;	/* bytes of this message lost in gaps */
	const uint8_t *body;	/* excerpt of the de-chunked body, valid during the callback */
	/*
	 * NULL, or why the message is not strictly valid HTTP/1.1 (a static
	 * word such as "version" or "content_length"): it is still recorded
	 * as seen, and the parser carries on with the next message.
	 */
	const char *malformed;
	size_t body_len;	/* bytes in the excerpt (<= excerpt size given to new) */
	size_t body_ahead;	/* bytes after them at body + body_len (<= HTTP_BODY_AHEAD) */
	int status;		/* responses: status code; requests: 0 */
	int version;		/* HTTP/x.y as 10x+y (10, 11, 9, 20); 0 when none was seen */
	bool is_request;
	bool chunked;
	bool conn_close;	/* Connection: close, or HTTP/1.0 without keep-alive */
	bool body_cut;		/* body_len < body_bytes */
	bool incomplete;	/* ended by close or gap before its end, or bytes of it were lost */
	char method[HTTP_METHOD_MAX];	/* NUL-terminated, cut to fit */
	char target[HTTP_TARGET_MAX];
	char reason[HTTP_REASON_MAX];
	char content_type[HTTP_CTYPE_MAX];
	char host[HTTP_HOST_MAX];
	/* MCP Streamable HTTP headers, and W3C trace context */
	char mcp_session[HTTP_MCP_HDR_MAX];	/* Mcp-Session-Id */
	char mcp_method[HTTP_MCP_HDR_MAX];	/* Mcp-Method (2026-07-28) */
	char mcp_name[HTTP_MCP_HDR_MAX];	/* Mcp-Name (2026-07-28) */
	char traceparent[HTTP_MCP_HDR_MAX];
};

struct http_parser_ops {
	/* A message is complete (or ended early; see msg->incomplete). */
	void (*on_message)(void *ctx, const struct http_msg *msg);
	/*
	 * Responses only: asked once the header of a response is parsed; true
	 * when the request it answers was HEAD (so no body follows whatever
	 * Content-Length says). May be NULL (never HEAD).
	 */
	bool (*answers_head)(void *ctx);
};

struct http_parser;

/* requests: parse requests (true) or responses (false). NULL on ENOMEM. */
struct http_parser *http_parser__new(bool requests, size_t body_excerpt_max,
				     const struct http_parser_ops *ops, void *ctx);
void http_parser__free(struct http_parser *p);

/*
 * Feed captured bytes. Returns 0, or -EPROTO when some of them were skipped
 * as not HTTP at all (a line that is no start line where one must be, or
 * what follows a 101). A start line or header that is merely not strictly
 * valid is reported with msg->malformed set, not refused; after a body of
 * unknown extent (bad Content-Length or chunk size) the parser looks for the
 * next start line at a line start, and the bytes up to it are that
 * message's.
 */
int http_parser__feed(struct http_parser *p, const uint8_t *buf, size_t len, uint64_t ts_ns);

/*
 * nbytes of the stream were lost (capture truncated or events dropped).
 * Inside a body of known length they are skipped exactly and counted in
 * lost_bytes. Elsewhere the parser looks for the next start line (the byte
 * after a gap counts as a line start). On the request side the message
 * that was open, or when none was a placeholder holding only the lost
 * bytes, takes every byte up to that start line and is reported then
 * (incomplete, with lost_bytes), so its response pairs with it and not with
 * the next request. On the response side it is reported at once.
 */
void http_parser__gap(struct http_parser *p, uint64_t nbytes, uint64_t ts_ns);

/* End of stream: completes a close-delimited body or reports a partial message. */
void http_parser__close(struct http_parser *p, uint64_t ts_ns);

/* True while a message has started and not yet been reported. */
bool http_parser__busy(const struct http_parser *p);

/* Detection from the first bytes of a direction (may be a short prefix). */
bool http_looks_like_request(const uint8_t *buf, size_t len);
bool http_looks_like_response(const uint8_t *buf, size_t len);

#endif /* SOCKAUDIT_HTTP_H */
