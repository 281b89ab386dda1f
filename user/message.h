/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One message of an exchange, whatever its protocol: a protocol-neutral
 * core (sizes, times, excerpt, flags) that every protocol fills, and a
 * part of its own that only HTTP has (start line and headers); JSON-RPC
 * facts travel beside it (correlate.h). Protocol parsers report it; the
 * correlator pairs two of them; the formatters read them.
 */
#ifndef SOCKAUDIT_MESSAGE_H
#define SOCKAUDIT_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_METHOD_MAX		24
#define HTTP_TARGET_MAX		1024
#define HTTP_REASON_MAX		64
#define HTTP_CTYPE_MAX		128
#define HTTP_HOST_MAX		256
#define HTTP_MCP_HDR_MAX	128	/* Mcp-Session-Id, Mcp-Method, Mcp-Name, traceparent */
/*
 * Body bytes kept after the excerpt, never written: redaction scans them so
 * that a secret cut by the excerpt's end is replaced whole (redact.h,
 * REDACT_LOOKAHEAD).
 */
#define HTTP_BODY_AHEAD		256

/* The HTTP part of a message: start line, version, framing, named headers. */
struct http_part {
	int status;		/* responses: status code; requests: 0 */
	int version;		/* HTTP/x.y as 10x+y (10, 11, 9, 20); 0 when none was seen */
	bool chunked;
	bool conn_close;	/* Connection: close, or HTTP/1.0 without keep-alive */
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

/* What every protocol's message has, and its protocol's own part. */
struct message {
	uint64_t ts_first_ns;	/* timestamp of the first byte's event */
	uint64_t ts_last_ns;	/* timestamp of the last byte's event */
	uint64_t wire_bytes;	/* bytes on the wire: start line, headers, body framing */
	uint64_t body_bytes;	/* body bytes (de-chunked) */
	uint64_t lost_bytes;	/* bytes of this message lost in gaps */
	const uint8_t *body;	/* excerpt of the de-chunked body, valid during the callback */
	/*
	 * NULL, or why the message is not strictly valid (a static word such
	 * as "version" or "content_length"): it is still recorded as seen, and
	 * the parser carries on with the next message.
	 */
	const char *malformed;
	size_t body_len;	/* bytes in the excerpt (<= excerpt size given to new) */
	size_t body_ahead;	/* bytes after them at body + body_len (<= HTTP_BODY_AHEAD) */
	bool is_request;
	bool body_cut;		/* body_len < body_bytes */
	bool incomplete;	/* ended by close or gap before its end, or bytes of it were lost */
	/*
	 * The HTTP part, or NULL: raw and JSON-RPC messages have none (their
	 * JSON-RPC facts travel beside the message, correlate.h). In a
	 * msg_copy it points at the copy's own http member.
	 */
	struct http_part *http;
};

/* An empty HTTP part: what a message without one shows (no method, status 0). */
extern const struct http_part http_part_none;

/* m's HTTP part, or the empty one: formatters render every message alike. */
static inline const struct http_part *msg_http(const struct message *m)
{
	return m->http ? m->http : &http_part_none;
}

#endif /* SOCKAUDIT_MESSAGE_H */
