// An MCP host built with the official TypeScript SDK: spawns server.mjs
// with StdioClientTransport (Node gives the child socketpairs as stdin and
// stdout), or with "http URL" talks Streamable HTTP. Makes N tools/call
// requests whose arguments carry a bearer token (the audit log must
// redact it). Prints nothing on stdout.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const calls = Number(process.env.CALLS || 20);
const client = new Client({ name: "audit-demo-host", version: "0.9.1" });
const transport = process.argv[2] === "http" ?
	new StreamableHTTPClientTransport(new URL(process.argv[3])) :
	new StdioClientTransport({
		command: process.execPath,
		args: [new URL("./server.mjs", import.meta.url).pathname],
		stderr: "inherit",
	});
await client.connect(transport);
for (let i = 0; i < calls; i++) {
	const r = await client.callTool({ name: "echo",
		arguments: { text: `call ${i}`, auth: "Bearer tok3n.SECRET-value_123" } });
	if (r.content[0].text !== `call ${i}`)
		throw new Error(`call ${i}: unexpected answer`);
}
await client.close();
