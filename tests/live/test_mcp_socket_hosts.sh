#!/usr/bin/env bash
# stdio servers spawned on sockets by one host under `sockaudit exec
# --capture-pipes` (host and servers all audited), one server per scenario:
#   asyncio  stdin a socketpair, stdout a pipe (a mix)
#   dup      one socketpair end dup'ed onto stdin and stdout
#   noisy    a server that prints a banner and a non-JSON line between messages
#   crash    a server that exits in the middle of a call
#   named    a named Unix socket on fd 0/1 (inetd-style): a connection of
#            its own on each end (fd 0 and fd 1 of the server one
#            connection), not the stdio stream
# Each stdio one: 20 paired tools/call on its server's PID:stdio, none
# one-sided, the client and server identity from initialize on every call
# (each stream its own), the token in the arguments redacted, the host's
# end counted instead of recorded twice.
. "$(dirname "$0")/../lib/common.sh"
require_root
H=$LIB/../live/helpers
# the interpreter itself, not a version manager's shell shim (whose command
# substitutions would add their own stdio bytes to the counts below)
PY=$(python3 -c 'import sys; print(sys.executable)')
log=$WORKDIR/hosts.log
sub=(exec)
[ -z "${SA_FIXTURE_DIR:-}" ] || sub=(record "$SA_FIXTURE_DIR/$(fixture_name "$log").rec")
rc=0
"$SOCKAUDIT" "${sub[@]}" --capture-pipes -o "$log" -- "$PY" "$H/mcp_socket_host.py" \
	"$H/mcp_stdio_server.py" </dev/null >"$WORKDIR/host.out" 2>"$WORKDIR/host.err" || rc=$?
[ -z "${SA_FIXTURE_DIR:-}" ] || fixture_summary "$log" > "$SA_FIXTURE_DIR/$(fixture_name "$log").expected"
assert_eq "host exit status ($(tail -n 1 "$WORKDIR/host.err"))" 0 "$rc"
assert_valid_jsonl "$log"
q='[.[] | select(.type=="exchange")]'
# of SCENARIO: its exchanges (by the client name its initialize gave)
of() { echo "$q | map(select(.mcp.client.name == \"py-socket-host-$1\"))"; }
counter() { jqlog "$log" "[.[] | select(.type==\"loss\" and .counter==\"$1\") | .count] | add // 0"; }

# check SCENARIO STDIN STDOUT: its calls, identity and redaction, one stdio stream
check() {
	local calls
	calls="$(of "$1") | map(select(.rpc.method==\"tools/call\" and .rpc.tool==\"echo\"))"
	assert_eq "$1: paired tools/call" 20 "$(jqlog "$log" "$calls | map(select(.outcome==\"ok\" and .request and .response)) | length")"
	assert_eq "$1: stdio kinds" "$2 $3" "$(jqlog "$log" "$calls | map(\"\(.conn.local) \(.conn.peer)\") | unique | join(\",\")")"
	assert_eq "$1: one stdio stream" 1 "$(jqlog "$log" "$(of "$1") | map(.conn.id) | unique | length")"
	jqlog "$log" "$(of "$1") | .[0].conn.id" | grep -q ':stdio$' || fail "$1: conn id is not PID:stdio"
	assert_eq "$1: identity" 'py-socket-host-'"$1"' 2.0 demo 1 2025-06-18' \
		"$(jqlog "$log" "$calls | map(\"\(.mcp.client.name) \(.mcp.client.version) \(.mcp.server.name) \(.mcp.server.version) \(.mcp.protocol_version)\") | unique | join(\",\")")"
	assert_eq "$1: token redacted" 20 "$(jqlog "$log" "$calls | map(select(.request.body | contains(\"Bearer [REDACTED:bearer_token]\"))) | length")"
}
check asyncio socketpair:stdin pipe:stdout
check dup socketpair:stdin socketpair:stdout
check noisy socketpair:stdin socketpair:stdout
check crash socketpair:stdin socketpair:stdout
assert_eq "stdio records: no one-sided ones" 0 \
	"$(jqlog "$log" "$q | map(select(.conn.transport==\"pipe\" and (.outcome==\"no_request\" or .outcome==\"no_response\"))) | length")"
assert_eq "stdio records: none from the host" 0 \
	"$(jqlog "$log" "$q | map(select(.conn.transport==\"pipe\" and (.mcp.client.name | not))) | length")"
assert_eq "token nowhere" 0 "$(grep -c 'SECRET-value' "$log" || true)"
# the host's ends: the asyncio stdin socket and the dup'ed sockets, each
# session's requests (and answers on the dup'ed ones), counted not recorded
assert_ge "host ends counted (bytes)" 20000 "$(counter stdio_host_end_bytes)"

# noisy: the banner (32 bytes) waits for the first message, counted; the
# 22 lines of 20 bytes between messages are unparsed, counted
assert_eq "noisy: banner counted" 32 "$(counter stdio_not_jsonrpc_bytes)"
assert_eq "noisy: lines between messages counted" $((22 * 20)) "$(counter unparsed_bytes)"

# crash: the call it died in is recorded, with no answer, outcome proc_exit
assert_eq "crash: the call it died in" 'proc_exit "last" true false' \
	"$(jqlog "$log" "$(of crash) | map(select(.rpc.tool==\"crash\")) | .[0] | \"\(.outcome) \(.rpc.id) \(.request != null) \(.response != null)\"")"

# named: unix connections of their own, no stdio stream. The server reads
# fd 0 and writes fd 1 of one socket: one connection, named by fd 0, where
# every call pairs; the host's end is a connection of its own and pairs too
named="$q | map(select(.conn.transport==\"unix\" and (.conn.local | startswith(\"unix:/\"))))"
srv=$(jqlog "$log" "$named | map(select(.conn.role==\"server\")) | .[0].proc.pid")
assert_eq "named: the server's end is one connection, on fd 0" "$srv:0:" \
	"$(jqlog "$log" "$q | map(select(.proc.pid==$srv)) | map(.conn.id | sub(\"[0-9]+$\"; \"\")) | unique | join(\" \")")"
assert_eq "named: not the stdio stream" 0 "$(jqlog "$log" "$q | map(select(.proc.pid==$srv and .conn.transport==\"pipe\")) | length")"
assert_eq "named: paired at the server" 20 \
	"$(jqlog "$log" "$(of named) | map(select(.proc.pid==$srv and .rpc.tool==\"echo\" and .outcome==\"ok\")) | length")"
assert_eq "named: paired at the host" 20 \
	"$(jqlog "$log" "$(of named) | map(select(.proc.pid!=$srv and .rpc.tool==\"echo\" and .outcome==\"ok\")) | length")"
assert_eq "no one-sided records at all" 0 \
	"$(jqlog "$log" "$q | map(select(.outcome==\"no_request\" or .outcome==\"no_response\")) | length")"
echo ok
