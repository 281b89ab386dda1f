/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * MCP identity of a record: who the client and server are and which
 * protocol revision they speak, the Streamable HTTP session, the trace.
 *
 * initialize (2025 revisions) says it once per stdio stream or HTTP
 * session; the 2026-07-28 revision repeats it in _meta on every request and
 * result. What an exchange carries is merged into what its stream (struct
 * conn) or its HTTP session (Mcp-Session-Id, kept in a bounded table)
 * remembers, and every later record of it shows the merged identity.
 */
#ifndef SOCKAUDIT_MCP_H
#define SOCKAUDIT_MCP_H

#include <stdbool.h>
#include <stdint.h>
#include "correlate.h"

#define MCP_DEFAULT_SESSIONS	1024	/* HTTP sessions remembered; the oldest goes */

/* What a record shows (empty strings when not known). */
struct mcp_view {
	struct mcp_ident id;
	char session[HTTP_MCP_HDR_MAX];		/* Mcp-Session-Id */
	char method_hdr[HTTP_MCP_HDR_MAX];	/* Mcp-Method */
	char name_hdr[HTTP_MCP_HDR_MAX];	/* Mcp-Name */
	char traceparent[HTTP_MCP_HDR_MAX];	/* header, else params._meta */
};

struct mcp_memory;

struct mcp_memory *mcp_memory__new(uint32_t max_sessions);
void mcp_memory__free(struct mcp_memory *mm);
/* HTTP sessions forgotten to make room (a loss counter). */
uint64_t mcp_memory__evicted(const struct mcp_memory *mm);

/*
 * The identity of JSON-RPC exchange x on c into v, remembering what x
 * adds. False when x has no JSON-RPC side or nothing MCP is known.
 */
bool mcp__view(struct mcp_memory *mm, struct conn *c, const struct exchange *x,
	       struct mcp_view *v);

#endif /* SOCKAUDIT_MCP_H */
