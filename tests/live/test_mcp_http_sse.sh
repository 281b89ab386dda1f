#!/usr/bin/env bash
# MCP Streamable HTTP: JSON-RPC in POST bodies answered with JSON or an SSE
# event stream; the record names the method, tool and id, pairs the SSE
# result (not the notification sent before it), and an error answer makes
# the outcome "error".
. "$(dirname "$0")/../lib/common.sh"
require_root
port=$(free_port)
python3 "$LIB/../live/helpers/mcp_http_server.py" "$port" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
log=$WORKDIR/audit.log
start_collector "$log" run --pid "$SRV"
post() { curl -sf -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
	--data "$1" "http://127.0.0.1:$port/mcp" >/dev/null; }
post '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
post '{"jsonrpc":"2.0","id":"c-7","method":"tools/call","params":{"name":"lookup","arguments":{}}}'
post '{"jsonrpc":"2.0","id":3,"method":"nope"}'
post '{"jsonrpc":"2.0","method":"notifications/initialized"}'
tp=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
curl -sf -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
	-H 'Mcp-Method: tools/call' -H $'Mcp-Name: lookup\e[31m' -H 'Mcp-Session-Id: sess-42' \
	--data '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"lookup","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"curl-host","version":"8"},"traceparent":"'$tp'"}}}' \
	"http://127.0.0.1:$port/mcp" >/dev/null
post '{"jsonrpc":"2.0","id":10,"method":"resources/read","params":{"uri":"file:///srv/notes.txt"}}'
stop_collector
q='[.[] | select(.type=="exchange")]'
assert_eq "exchanges" 6 "$(jqlog "$log" "$q | length")"
assert_eq "proto" '["http"]' "$(jqlog "$log" "$q | map(.proto) | unique | tojson")"
sse=$(jqlog "$log" "$q | map(select(.rpc.method==\"tools/call\" and .rpc.id==\"\\\"c-7\\\"\")) | .[0]")
assert_eq "sse content type" "text/event-stream" "$(echo "$sse" | jq -r .response.content_type)"
assert_eq "sse tool and id" 'lookup "c-7" ok' "$(echo "$sse" | jq -r '"\(.rpc.tool) \(.rpc.id) \(.outcome)"')"
assert_eq "json list" 'tools/list 1 ok' "$(jqlog "$log" "$q | map(select(.rpc.method==\"tools/list\")) | .[0] | \"\(.rpc.method) \(.rpc.id) \(.outcome)\"")"
assert_eq "error" 'error -32601' "$(jqlog "$log" "$q | map(select(.rpc.method==\"nope\")) | .[0] | \"\(.outcome) \(.rpc.error.code)\"")"
assert_eq "notification over http" '202' "$(jqlog "$log" "$q | map(select(.rpc.method==\"notifications/initialized\")) | .[0].response.status")"
meta=$(jqlog "$log" "$q | map(select(.rpc.id==\"9\")) | .[0].mcp")
assert_eq "2026 identity from _meta" 'curl-host 8 2026-07-28' "$(echo "$meta" | jq -r '"\(.client.name) \(.client.version) \(.protocol_version)"')"
assert_eq "mcp headers" "tools/call sess-42 $tp" "$(echo "$meta" | jq -r '"\(.method_header) \(.session_id) \(.traceparent)"')"
assert_eq "terminal escape in a header stripped" 'lookup' "$(echo "$meta" | jq -r .name_header)"
assert_eq "no raw escape in the log" 0 "$(grep -c $'\e' "$log" || true)"
assert_eq "resource uri" '"file:///srv/notes.txt"' "$(jqlog "$log" "$q | map(select(.rpc.method==\"resources/read\")) | .[0].rpc.uri | tojson")"
assert_eq "session identity only on its session" 'null' "$(jqlog "$log" "$q | map(select(.rpc.method==\"tools/list\")) | .[0].mcp.client.name | tojson")"
echo ok
