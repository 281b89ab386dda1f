/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * JSON-RPC 2.0 messages (the Model Context Protocol's wire format).
 *
 * jsonrpc__parse reads one JSON text — an object or a batch array — and
 * extracts what an audit record needs: kind, id, method, the tool name of
 * tools/call, and an error's code and message. It tolerates a text cut
 * short (a capture excerpt): members seen before the cut are kept.
 *
 * rpc_stream frames newline-delimited messages (MCP stdio, JSON-RPC over
 * TCP or Unix sockets) out of a byte stream split anywhere, in bounded memory.
 */
#ifndef SOCKAUDIT_JSONRPC_H
#define SOCKAUDIT_JSONRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RPC_ID_MAX	64	/* the id's JSON text: 7, "abc"; longer ones end in ~hash */
#define RPC_ID_CUT	"~cut"	/* ends an id the text ended inside of */
#define RPC_ID_CUT_KEEP	40	/* bytes of a cut id kept, and compared */
#define RPC_METHOD_MAX	96
#define RPC_TOOL_MAX	96
#define RPC_ERRMSG_MAX	160
#define RPC_BATCH_MAX	64	/* messages taken from one batch array */
#define RPC_KEEP_MIN	16384	/* bytes of a message kept to parse it (not all go in a record) */
#define MCP_NAME_MAX	64	/* clientInfo/serverInfo name */
#define MCP_VER_MAX	32	/* their version, and protocolVersion */
#define MCP_TRACE_MAX	64	/* traceparent (55 bytes in W3C version 00) */
#define RPC_URI_MAX	160	/* params.uri of resources/read */

/*
 * Who talks MCP: from initialize (params.clientInfo, result.serverInfo,
 * protocolVersion) or from the _meta keys io.modelcontextprotocol/clientInfo,
 * .../serverInfo and .../protocolVersion (2026-07-28 revision: on every
 * request and result). Empty strings when not seen.
 */
struct mcp_ident {
	char proto[MCP_VER_MAX];
	char client_name[MCP_NAME_MAX];
	char client_ver[MCP_VER_MAX];
	char server_name[MCP_NAME_MAX];
	char server_ver[MCP_VER_MAX];
};

enum rpc_kind {
	RPC_NONE = 0,
	RPC_REQUEST,		/* method and id */
	RPC_NOTIFICATION,	/* method, no id */
	RPC_RESULT,		/* id and result */
	RPC_ERROR,		/* id (maybe null) and error */
};

struct rpc_msg {
	int64_t err_code;
	const char *malformed;	/* NULL, or why it is not strict JSON-RPC 2.0 ("id_type") */
	uint8_t kind;		/* enum rpc_kind */
	bool has_id;
	bool has_error;
	bool cut;		/* the text ended before the message did */
	bool guessed;		/* cut before method, result or error: RPC_RESULT is a guess */
	char id[RPC_ID_MAX];
	char method[RPC_METHOD_MAX];
	char tool[RPC_TOOL_MAX];		/* params.name of tools/call and prompts/get */
	char err_msg[RPC_ERRMSG_MAX];
	char uri[RPC_URI_MAX];			/* params.uri of resources/read */
	char traceparent[MCP_TRACE_MAX];	/* params._meta.traceparent */
	struct mcp_ident ident;
};

const char *rpc_kind__name(int kind);

/*
 * The class of a JSON-RPC error code: "parse_error", "invalid_request",
 * "method_not_found", "invalid_params", "internal_error", "server_error"
 * (-32099..-32000), "reserved" (the rest of -32768..-32000) or
 * "application_error" (any other code).
 */
const char *jsonrpc__error_class(int64_t code);

/*
 * Parse one JSON text into up to max messages (a batch gives several).
 * Returns the number of messages found (0 when the text holds none), or
 * -EPROTO when it is not JSON-RPC at all.
 */
int jsonrpc__parse(const uint8_t *buf, size_t len, struct rpc_msg *out, int max);

/* Two id texts (as in rpc_msg.id) name the same id: equal, or one cut and a prefix match. */
bool jsonrpc__id_match(const char *a, size_t an, const char *b, size_t bn);

/* First non-blank byte opens an object or an array. */
bool jsonrpc__looks_like(const uint8_t *buf, size_t len);

/*
 * The JSON-RPC message an HTTP body carries: application/json (one message
 * or a batch) or text/event-stream (MCP Streamable HTTP: "data:" lines of
 * events). With want_id (a response's side), the result or error with that
 * id is preferred over other messages (notifications sent before it).
 * Returns how many JSON-RPC messages the body holds; *out is the chosen one.
 */
int jsonrpc__from_http(const char *content_type, const uint8_t *body, size_t len,
		       const char *want_id, struct rpc_msg *out);

/* ---- newline-delimited framing ---- */

/*
 * One message text: a line, or one message of a batch line ("[...]"), which
 * is split as it arrives so a batch of any size gives each of its messages
 * in bounded memory. Bytes of a batch line outside its messages (brackets,
 * commas, the newline) belong to none.
 */
struct rpc_line {
	const uint8_t *text;	/* the message's first bytes (no newline) */
	size_t text_len;	/* bytes kept (<= the keep limit) */
	uint64_t bytes;		/* bytes of the whole message, a line's newline included */
	uint64_t lost;		/* bytes of it lost in gaps */
	uint64_t ts_first;
	uint64_t ts_last;
	/* past the kept bytes: the top-level members that say what it is (skim) */
	const char *method;	/* the "method" string, or NULL when none was seen there */
	bool result;		/* a "result" member */
	bool error;		/* an "error" member */
};

typedef void (*rpc_line_fn)(void *ctx, const struct rpc_line *line);

/*
 * m was parsed from l's kept bytes and cut there: what the skim saw past
 * them (a method, a result, an error) completes it.
 */
void jsonrpc__skimmed(struct rpc_msg *m, const struct rpc_line *l);

/*
 * A line longer than the bytes kept of it: its top-level members are still
 * followed, so a method after a huge id or params is not hidden by the limit.
 */
struct rpc_skim {
	uint32_t depth;
	uint8_t state;		/* at depth 1: key, in key, colon, value, other */
	uint8_t klen;
	uint8_t mlen;
	bool active;
	bool in_str, esc;
	bool in_method;		/* inside the "method" string */
	bool has_method, result, error;
	char key[8];
	char method[RPC_METHOD_MAX];
};

struct rpc_stream {
	uint8_t *buf;		/* the current message's first `keep` bytes */
	size_t len;
	size_t cap;		/* allocated: grows to keep only for long lines */
	size_t keep;
	uint64_t bytes;		/* of the current message so far */
	uint64_t lost;
	uint64_t ts_first;
	uint64_t ts_last;
	uint32_t depth;		/* batch: nesting inside the current message */
	uint8_t mode;		/* where in a line we are (jsonrpc.c) */
	bool hole;		/* bytes were lost: keep nothing more of this message */
	bool after_gap;		/* the next byte follows a gap: '{' or '[' there starts a message */
	bool in_str;		/* batch: inside a string of the current message */
	bool esc;		/* ... right after its backslash */
	struct rpc_skim skim;
	rpc_line_fn fn;
	void *ctx;
};

/* keep: bytes of each message kept for parsing and the record's excerpt. */
int rpc_stream__init(struct rpc_stream *s, size_t keep, rpc_line_fn fn, void *ctx);
void rpc_stream__free(struct rpc_stream *s);
void rpc_stream__feed(struct rpc_stream *s, const uint8_t *buf, size_t len, uint64_t ts);
/*
 * n bytes lost: they belong to the current message (which is reported
 * cut); when the bytes after them start with '{' or '[' (a gap usually ends
 * at a write boundary) a new message starts there, so a line longer than the
 * capture does not swallow the next one.
 */
void rpc_stream__gap(struct rpc_stream *s, uint64_t n, uint64_t ts);
/*
 * The other direction spoke: a message cut by a gap with nothing after it
 * yet is taken as ended (its newline was in the lost bytes), so a request
 * cut by the capture is recorded before its answer looks for it.
 */
void rpc_stream__end_cut(struct rpc_stream *s);
/* End of stream: a last line without a newline is reported. */
void rpc_stream__close(struct rpc_stream *s);

#endif /* SOCKAUDIT_JSONRPC_H */
