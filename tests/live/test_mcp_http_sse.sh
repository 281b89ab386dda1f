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
stop_collector
q='[.[] | select(.type=="exchange")]'
assert_eq "exchanges" 4 "$(jqlog "$log" "$q | length")"
assert_eq "proto" '["http"]' "$(jqlog "$log" "$q | map(.proto) | unique | tojson")"
sse=$(jqlog "$log" "$q | map(select(.rpc.method==\"tools/call\")) | .[0]")
assert_eq "sse content type" "text/event-stream" "$(echo "$sse" | jq -r .response.content_type)"
assert_eq "sse tool and id" 'lookup "c-7" ok' "$(echo "$sse" | jq -r '"\(.rpc.tool) \(.rpc.id) \(.outcome)"')"
assert_eq "json list" 'tools/list 1 ok' "$(jqlog "$log" "$q | map(select(.rpc.method==\"tools/list\")) | .[0] | \"\(.rpc.method) \(.rpc.id) \(.outcome)\"")"
assert_eq "error" 'error -32601' "$(jqlog "$log" "$q | map(select(.rpc.method==\"nope\")) | .[0] | \"\(.outcome) \(.rpc.error.code)\"")"
assert_eq "notification over http" '202' "$(jqlog "$log" "$q | map(select(.rpc.method==\"notifications/initialized\")) | .[0].response.status")"
echo ok
