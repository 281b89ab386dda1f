// An MCP server built with the official TypeScript SDK, for the live tests:
// stdio by default, Streamable HTTP with "http PORTFILE" (listens on an
// ephemeral loopback port and writes it to PORTFILE).
import http from "node:http";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

const server = new McpServer({ name: "audit-demo-server", version: "1.2.3" });
server.tool("echo", { text: z.string(), auth: z.string().optional() },
	async ({ text }) => ({ content: [{ type: "text", text }] }));
server.tool("fail", { text: z.string() }, async () => {
	throw new Error("fail tool always fails");
});

if (process.argv[2] === "http") {
	const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID() });
	await server.connect(transport);
	const srv = http.createServer((req, res) => transport.handleRequest(req, res));
	srv.listen(0, "127.0.0.1", () => writeFileSync(process.argv[3], String(srv.address().port)));
} else {
	await server.connect(new StdioServerTransport());
}
