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
#include "message.h"

#define HTTP_HEAD_MAX		16384	/* start line + headers kept for parsing */


struct http_parser_ops {
	/* A message is complete (or ended early; see msg->incomplete). */
	void (*on_message)(void *ctx, const struct message *msg);
	/*
	 * Responses only: asked once the header of a response is parsed; true
	 * when the request it answers was HEAD (so no body follows whatever
	 * Content-Length says). May be NULL (never HEAD).
	 */
	bool (*answers_head)(void *ctx);
	/*
	 * Where a complete message is built for on_message (so its owner can
	 * hand it on without a copy), its http member pointing at room for the
	 * HTTP part; NULL, or may be NULL: on the stack.
	 */
	struct message *(*report_into)(void *ctx);
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
