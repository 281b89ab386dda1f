#!/usr/bin/env bash
# TLS plaintext, memory-BIO program: Node's HTTPS server (OpenSSL inside the
# static /usr/bin/node; libuv moves the ciphertext after the SSL call) with
# 50 concurrent keep-alive clients, 2 requests each: every exchange paired,
# and each record's peer port is the one its client used (the client names
# it in the path: a record given another connection's plaintext fails). An
# MCP server over Streamable HTTP behind the same HTTPS: tools/list,
# tools/call and an unknown method recorded as with plaintext. curl asking
# for HTTP/2 (ALPN h2): written raw with proto h2, and counted.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/tls.sh"
require_root
start_tls_server node "$LIB/../live/helpers/tls_node_server.js"
log=$WORKDIR/audit.log
start_collector "$log" run --pid "$SRV"
python3 "$LIB/../live/helpers/tls_client.py" keepalive "$port" 100 50 >/dev/null
post() { curl -sfk --http1.1 -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
	--data "$1" "https://127.0.0.1:$port/mcp" >/dev/null; }
post '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
post '{"jsonrpc":"2.0","id":"c-7","method":"tools/call","params":{"name":"lookup","arguments":{"q":"x"}}}'
post '{"jsonrpc":"2.0","id":3,"method":"nope"}'
curl -sfk --http2 -o /dev/null "https://127.0.0.1:$port/over-h2"
stop_collector
assert_valid_jsonl "$log"
q='[.[] | select(.type=="exchange" and .proto != "h2")]'
assert_eq "exchanges" 103 "$(jqlog "$log" "$q | length")"
assert_eq "proto, tls" '["http true"]' "$(jqlog "$log" "$q | map(\"\(.proto) \(.conn.tls)\") | unique | tojson")"
assert_eq "client exchanges ok, 200" 100 "$(jqlog "$log" "$q | map(select((.request.target | startswith(\"/p\")) and .outcome==\"ok\" and .response.status==200)) | length")"
assert_eq "records whose peer port is not the client's" 0 \
	"$(jqlog "$log" "$q | map(select(.request.target | startswith(\"/p\")) | select((.request.target | ltrimstr(\"/p\") | split(\"/\")[0]) != (.conn.peer | split(\":\")[1]))) | length")"
assert_eq "connections" 50 "$(jqlog "$log" "$q | map(select(.request.target | startswith(\"/p\")) | .conn.id) | unique | length")"
assert_eq "responses name the client's port" 0 \
	"$(jqlog "$log" "$q | map(select(.request.target | startswith(\"/p\")) | select((.response.body | fromjson | .peer | tostring) != (.conn.peer | split(\":\")[1]))) | length")"
call=$(jqlog "$log" "$q | map(select(.rpc.method==\"tools/call\")) | .[0]")
assert_eq "tools/call" 'lookup "c-7" ok true' "$(echo "$call" | jq -r '"\(.rpc.tool) \(.rpc.id) \(.outcome) \(.conn.tls)"')"
assert_eq "tools/list" 'tools/list 1 ok' "$(jqlog "$log" "$q | map(select(.rpc.method==\"tools/list\")) | .[0] | \"\(.rpc.method) \(.rpc.id) \(.outcome)\"")"
assert_eq "error" 'error -32601' "$(jqlog "$log" "$q | map(select(.rpc.method==\"nope\")) | .[0] | \"\(.outcome) \(.rpc.error.code)\"")"
h2='[.[] | select(.type=="exchange" and .proto == "h2")]'
assert_ge "h2 raw records" 1 "$(jqlog "$log" "$h2 | length")"
assert_eq "h2 records: tls" '["true"]' "$(jqlog "$log" "$h2 | map(.conn.tls | tostring) | unique | tojson")"
assert_eq "h2 records: one connection" 1 "$(jqlog "$log" "$h2 | map(.conn.id) | unique | length")"
assert_eq "loss records" 0 "$(jqlog "$log" '[.[] | select(.type=="loss")] | length')"
stop=$(tail -n 1 "$log")
assert_eq "h2 connections counted" 1 "$(echo "$stop" | jq .tls_h2_connections)"
assert_eq "streams tied by fingerprint" 54 "$(echo "$stop" | jq '.tls_tied_by_egress_fingerprint + .tls_tied_by_ingress_fingerprint')"
assert_eq "streams with the socket unknown" 0 "$(echo "$stop" | jq .tls_socket_unknown_streams)"
echo "ok: 103 exchanges and an h2 connection over 54 Node TLS streams, all tied by ciphertext fingerprint"
