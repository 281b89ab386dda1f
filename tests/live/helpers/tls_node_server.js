// HTTPS server on Node's built-in OpenSSL (memory BIOs) for the TLS live tests.
// node tls_node_server.js PORT CERTDIR: /mcp answers MCP JSON-RPC (Streamable
// HTTP, JSON responses); any other request gets the client's port back.
// HTTP/1.1, and HTTP/2 for clients that ask for it by ALPN (h2).
'use strict';
const http2 = require('http2');
const fs = require('fs');
const [port, dir] = process.argv.slice(2);

function mcp(msg) {
  if (msg.method === 'tools/list')
    return { tools: [{ name: 'lookup', inputSchema: { type: 'object' } }] };
  if (msg.method === 'tools/call')
    return { content: [{ type: 'text', text: 'found ' + JSON.stringify(msg.params.arguments) }] };
  return null;
}

const srv = http2.createSecureServer({ key: fs.readFileSync(dir + '/key.pem'),
                                      cert: fs.readFileSync(dir + '/cert.pem'),
                                      allowHTTP1: true }, (req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    let out = { peer: req.socket.remotePort, got: body.length };
    if (req.url === '/mcp') {
      const msg = JSON.parse(body);
      if (msg.id === undefined) { res.writeHead(202); res.end(); return; }
      const result = mcp(msg);
      out = result ? { jsonrpc: '2.0', id: msg.id, result }
                   : { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'no such method' } };
    }
    const b = JSON.stringify(out);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b) });
    res.end(b);
  });
});
srv.listen(+port, '127.0.0.1');
