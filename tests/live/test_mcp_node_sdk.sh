#!/usr/bin/env bash
# The official MCP TypeScript SDK (tests/live/mcp-node, installed by make
# deps): a host with StdioClientTransport spawning a server built with the
# same SDK. Node gives the child socketpairs as stdin and stdout; the
# server's PID:stdio stream pairs all 20 tools/call requests, the host's
# end of the socketpairs is counted, not recorded twice. Then the same SDK
# over Streamable HTTP: 20 paired calls, each with the session id. Every
# record names client, server and protocol version; the bearer token in
# the arguments is redacted.
. "$(dirname "$0")/../lib/common.sh"
require_root
D=$LIB/../live/mcp-node
[ -d "$D/node_modules/@modelcontextprotocol/sdk" ] ||
	fail "$D/node_modules missing: run make deps (npm ci there)"
proto=$(cd "$D" && node -e 'import("@modelcontextprotocol/sdk/types.js").then(t => console.log(t.LATEST_PROTOCOL_VERSION))')
q='[.[] | select(.type=="exchange")]'
calls="$q | map(select(.rpc.method==\"tools/call\"))"

# check_calls LOG: 20 paired echo calls, nothing one-sided, identity, redaction
check_calls() {
	assert_valid_jsonl "$1"
	assert_eq "paired tools/call" 20 "$(jqlog "$1" "$calls | map(select(.outcome==\"ok\" and .request and .response and .rpc.tool==\"echo\")) | length")"
	assert_eq "one-sided records" 0 "$(jqlog "$1" "$q | map(select(.rpc and (.outcome==\"no_request\" or .outcome==\"no_response\"))) | length")"
	assert_eq "client" 'audit-demo-host 0.9.1' "$(jqlog "$1" "$calls | map(\"\(.mcp.client.name) \(.mcp.client.version)\") | unique | join(\",\")")"
	assert_eq "server" 'audit-demo-server 1.2.3' "$(jqlog "$1" "$calls | map(\"\(.mcp.server.name) \(.mcp.server.version)\") | unique | join(\",\")")"
	assert_eq "protocol version" "$proto" "$(jqlog "$1" "$calls | map(.mcp.protocol_version) | unique | join(\",\")")"
	assert_eq "token redacted in each call" 20 "$(jqlog "$1" "$calls | map(select(.redactions == [\"bearer_token\"] and (.request.body | contains(\"Bearer [REDACTED:bearer_token]\")))) | length")"
	assert_eq "token nowhere" 0 "$(grep -c 'SECRET-value' "$1" || true)"
}

# stdio over socketpairs, host and server both audited
log=$WORKDIR/stdio.log
sub=(exec)
[ -z "${SA_FIXTURE_DIR:-}" ] || sub=(record "$SA_FIXTURE_DIR/$(fixture_name "$log").rec")
rc=0
"$SOCKAUDIT" "${sub[@]}" --capture-pipes -o "$log" -- node "$D/host.mjs" \
	</dev/null >"$WORKDIR/host.out" 2>"$WORKDIR/host.err" || rc=$?
[ -z "${SA_FIXTURE_DIR:-}" ] || fixture_summary "$log" > "$SA_FIXTURE_DIR/$(fixture_name "$log").expected"
assert_eq "host exit status" 0 "$rc"
check_calls "$log"
assert_eq "one stdio stream" 1 "$(jqlog "$log" "$q | map(.conn.id) | unique | length")"
jqlog "$log" "$q | .[0].conn.id" | grep -q ':stdio$' || fail "conn id is not PID:stdio"
assert_eq "stdio on socketpairs" 'socketpair:stdin socketpair:stdout' \
	"$(jqlog "$log" "$calls | map(\"\(.conn.local) \(.conn.peer)\") | unique | join(\",\")")"
host=$(jqlog "$log" '.[] | select(.type=="collector_start") | .targets | split(",")[0]')
assert_eq "records come from the server, not the host" 0 "$(jqlog "$log" "$q | map(select(.proc.pid == $host)) | length")"
assert_ge "host end counted (bytes)" 2000 "$(jqlog "$log" '[.[] | select(.type=="loss" and .counter=="stdio_host_end_bytes") | .count] | add // 0')"

# Streamable HTTP: the server audited by pid, the host outside
node "$D/server.mjs" http "$WORKDIR/port" 2>"$WORKDIR/srv.err" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
for _ in $(seq 100); do [ -s "$WORKDIR/port" ] && break; sleep 0.05; done
[ -s "$WORKDIR/port" ] || fail "SDK server did not listen: $(cat "$WORKDIR/srv.err")"
log=$WORKDIR/http.log
start_collector "$log" run --pid "$SRV"
node "$D/host.mjs" http "http://127.0.0.1:$(cat "$WORKDIR/port")/mcp" || fail "SDK host over HTTP failed"
stop_collector
check_calls "$log"
sid=$(jqlog "$log" "$q | map(select(.rpc.method==\"initialize\")) | .[0].mcp.session_id")
[ -n "$sid" ] && [ "$sid" != null ] || fail "initialize record has no session id"
assert_eq "session id on every call" "$sid" "$(jqlog "$log" "$calls | map(.mcp.session_id) | unique | join(\",\")")"
echo ok
