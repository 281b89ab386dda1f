#!/usr/bin/env bash
# MCP's stdio transport: a host started under `sockaudit exec --capture-pipes`
# spawns a JSON-RPC server on pipes; the server's stdin and stdout are one
# audited stream, every request paired with its answer by id (one answered
# out of order), notifications one-sided, the unknown method an error.
. "$(dirname "$0")/../lib/common.sh"
require_root
H=$LIB/../live/helpers
log=$WORKDIR/mcp.log
rc=0
sub=(exec)	# make fixtures: record the raw events too
[ -z "${SA_FIXTURE_DIR:-}" ] || sub=(record "$SA_FIXTURE_DIR/$(fixture_name "$log").rec")
"$SOCKAUDIT" "${sub[@]}" --capture-pipes -o "$log" -- python3 "$H/mcp_host.py" "$H/mcp_stdio_server.py" \
	</dev/null >"$WORKDIR/host.out" 2>"$WORKDIR/host.err" || rc=$?
[ -z "${SA_FIXTURE_DIR:-}" ] || fixture_summary "$log" > "$SA_FIXTURE_DIR/$(fixture_name "$log").expected"
assert_eq "host exit status" 0 "$rc"
q='[.[] | select(.type=="exchange")]'
assert_valid_jsonl "$log"
assert_eq "stdio transport" '["pipe"]' "$(jqlog "$log" "$q | map(.conn.transport) | unique | tojson")"
assert_eq "one stdio stream" 1 "$(jqlog "$log" "$q | map(.conn.id) | unique | length")"
jqlog "$log" "$q | .[0].conn.id" | grep -q ':stdio$' || fail "conn id is not PID:stdio"
assert_eq "paired requests (ok)" 7 "$(jqlog "$log" "$q | map(select(.outcome==\"ok\" and .request and .response)) | length")"
assert_eq "tool calls" '["echo","echo","echo","echo","slow"]' \
	"$(jqlog "$log" "$q | map(select(.rpc.method==\"tools/call\") | .rpc.tool) | sort | tojson")"
assert_eq "slow call paired" '"call-1"' "$(jqlog "$log" "$q | map(select(.rpc.tool==\"slow\")) | .[0].rpc.id")"
assert_eq "error" "-32601" "$(jqlog "$log" "$q | map(select(.outcome==\"error\")) | .[0].rpc.error.code")"
assert_eq "notifications" 6 "$(jqlog "$log" "$q | map(select(.outcome==\"notification\")) | length")"
calls="$q | map(select(.rpc.method==\"tools/call\"))"
assert_eq "one-sided records" 0 "$(jqlog "$log" "$q | map(select(.outcome==\"no_request\" or .outcome==\"no_response\")) | length")"
assert_eq "fifo stdio" 'pipe:stdin pipe:stdout' "$(jqlog "$log" "$calls | map(\"\(.conn.local) \(.conn.peer)\") | unique | join(\",\")")"
assert_eq "identity on every call" 'py-fifo-host 1.0 demo 1 2025-06-18' \
	"$(jqlog "$log" "$calls | map(\"\(.mcp.client.name) \(.mcp.client.version) \(.mcp.server.name) \(.mcp.server.version) \(.mcp.protocol_version)\") | unique | join(\",\")")"
assert_eq "error class" '"method_not_found"' "$(jqlog "$log" "$q | map(select(.outcome==\"error\")) | .[0].rpc.error.class | tojson")"
assert_eq "token redacted" 5 "$(jqlog "$log" "$calls | map(select(.request.body | contains(\"Bearer [REDACTED:bearer_token]\"))) | length")"
assert_eq "token nowhere" 0 "$(grep -c 'SECRET-value' "$log" || true)"
assert_eq "stderr never audited" 0 "$(grep -c 'server got' "$log" || true)"
host=$(jqlog "$log" '.[] | select(.type=="collector_start") | .targets | split(",")[0]')
assert_eq "records come from the server, not the host" 0 "$(jqlog "$log" "$q | map(select(.proc.pid == $host)) | length")"
echo ok
