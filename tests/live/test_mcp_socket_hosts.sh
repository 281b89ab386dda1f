#!/usr/bin/env bash
# stdio servers spawned on sockets, under `sockaudit exec --capture-pipes`
# of the host (host and server both audited):
#   asyncio  stdin a socketpair, stdout a pipe (a mix)
#   dup      one socketpair end dup'ed onto stdin and stdout
#   noisy    a server that prints a banner and a non-JSON line between messages
#   crash    a server that exits in the middle of a call
#   named    a named Unix socket on fd 0/1 (inetd-style): a connection of
#            its own on each end, not the stdio stream
# Each: 20 paired tools/call on the server's PID:stdio, none one-sided, the
# client and server identity from initialize on every call, the token in
# the arguments redacted, the host's end counted instead of recorded twice.
. "$(dirname "$0")/../lib/common.sh"
require_root
H=$LIB/../live/helpers
q='[.[] | select(.type=="exchange")]'
echo_calls="$q | map(select(.rpc.method==\"tools/call\" and .rpc.tool==\"echo\"))"

# host_run NAME MODE [SERVER ARGS...]: run the host under the collector into $WORKDIR/NAME.log
host_run() {
	local log=$WORKDIR/$1.log mode=$2 rc=0 sub=(exec)
	shift 2
	[ -z "${SA_FIXTURE_DIR:-}" ] || sub=(record "$SA_FIXTURE_DIR/$(fixture_name "$log").rec")
	"$SOCKAUDIT" "${sub[@]}" --capture-pipes -o "$log" -- python3 "$H/mcp_socket_host.py" "$mode" \
		"$H/mcp_stdio_server.py" "$@" </dev/null >"$WORKDIR/host.out" 2>"$WORKDIR/host.err" || rc=$?
	[ -z "${SA_FIXTURE_DIR:-}" ] || fixture_summary "$log" > "$SA_FIXTURE_DIR/$(fixture_name "$log").expected"
	assert_eq "$mode host exit status" 0 "$rc"
	assert_valid_jsonl "$log"
}

# check LOG STDIN STDOUT: the calls, their identity and redaction, one stdio stream
check() {
	local log=$WORKDIR/$1.log
	assert_eq "$1: paired tools/call" 20 "$(jqlog "$log" "$echo_calls | map(select(.outcome==\"ok\" and .request and .response)) | length")"
	assert_eq "$1: one-sided records" 0 "$(jqlog "$log" "$q | map(select(.outcome==\"no_request\" or .outcome==\"no_response\")) | length")"
	assert_eq "$1: stdio kinds" "$2 $3" "$(jqlog "$log" "$echo_calls | map(\"\(.conn.local) \(.conn.peer)\") | unique | join(\",\")")"
	assert_eq "$1: one stdio stream" 1 "$(jqlog "$log" "$q | map(select(.rpc)) | map(.conn.id) | unique | length")"
	assert_eq "$1: identity" 'py-socket-host 2.0 demo 1 2025-06-18' \
		"$(jqlog "$log" "$echo_calls | map(\"\(.mcp.client.name) \(.mcp.client.version) \(.mcp.server.name) \(.mcp.server.version) \(.mcp.protocol_version)\") | unique | join(\",\")")"
	assert_eq "$1: token redacted" 20 "$(jqlog "$log" "$echo_calls | map(select(.request.body | contains(\"Bearer [REDACTED:bearer_token]\"))) | length")"
	assert_eq "$1: token nowhere" 0 "$(grep -c 'SECRET-value' "$log" || true)"
	assert_ge "$1: host end counted (bytes)" 1000 \
		"$(jqlog "$log" '[.[] | select(.type=="loss" and .counter=="stdio_host_end_bytes") | .count] | add // 0')"
}

host_run asyncio asyncio
check asyncio socketpair:stdin pipe:stdout
host_run dup dup
check dup socketpair:stdin socketpair:stdout

host_run noisy dup --noisy
check noisy socketpair:stdin socketpair:stdout
# the banner (32 bytes) is counted as stdio that starts no message: the
# noisy run counts that much more than the same run without it
notjson() { jqlog "$WORKDIR/$1.log" '[.[] | select(.type=="loss" and .counter=="stdio_not_jsonrpc_bytes") | .count] | add // 0'; }
assert_eq "noisy: banner counted" 32 $(( $(notjson noisy) - $(notjson dup) ))
assert_eq "noisy: a line between messages counted, 22 of them" $((20 * 22)) \
	"$(jqlog "$WORKDIR/noisy.log" '[.[] | select(.type=="loss" and .counter=="unparsed_bytes") | .count] | add')"

TOOL_LAST=crash host_run crash dup --crash
check crash socketpair:stdin socketpair:stdout
assert_eq "crash: the call it died in" 'proc_exit "last" true' \
	"$(jqlog "$WORKDIR/crash.log" "$q | map(select(.rpc.tool==\"crash\")) | .[0] | \"\(.outcome) \(.rpc.id) \(.request != null)\"")"
assert_eq "crash: no answer recorded for it" 0 \
	"$(jqlog "$WORKDIR/crash.log" "$q | map(select(.rpc.tool==\"crash\" and .response)) | length")"
host_run named named
log=$WORKDIR/named.log
srv=$(jqlog "$log" "$q | map(select(.conn.role==\"server\")) | .[0].proc.pid")
assert_eq "named: no stdio stream" 0 "$(jqlog "$log" "$q | map(select(.conn.transport==\"pipe\")) | length")"
assert_eq "named: the server's ends are unix connections on fd 0 and 1" "unix $srv:0: unix $srv:1:" \
	"$(jqlog "$log" "$q | map(select(.proc.pid==$srv)) | map(\"\(.conn.transport) \(.conn.id | sub(\"[0-9]+$\"; \"\"))\") | unique | join(\" \")")"
assert_eq "named: the host's connection pairs every call" 20 \
	"$(jqlog "$log" "$echo_calls | map(select(.proc.pid!=$srv and .outcome==\"ok\" and .conn.transport==\"unix\")) | length")"
echo ok
