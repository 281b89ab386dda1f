#!/usr/bin/env bash
# A JSON-RPC server over TCP and over a Unix socket, answering out of order,
# with notifications, errors and a server-to-client request: every request
# is paired with its response by id.
. "$(dirname "$0")/../lib/common.sh"
require_root
H=$LIB/../live/helpers
check() {	# check LOG CONNS PER
	local log=$1 conns=$2 per=$3 q='[.[] | select(.type=="exchange")]'
	local calls=$(( conns * ((per + 2) / 3) ))
	assert_valid_jsonl "$log"
	assert_eq "paired client requests (and 2 in a batch each)" $((conns * (per + 2))) \
		"$(jqlog "$log" "$q | map(select(.rpc.direction==\"inbound\" and (.outcome==\"ok\" or .outcome==\"error\"))) | length")"
	assert_eq "tools/call with tool" "$calls" \
		"$(jqlog "$log" "$q | map(select(.rpc.method==\"tools/call\" and .rpc.tool==\"get_weather\" and .outcome==\"ok\")) | length")"
	assert_eq "errors" $((conns * (per / 3))) \
		"$(jqlog "$log" "$q | map(select(.outcome==\"error\" and .rpc.error.code==-32601 and .rpc.method==\"no/such\")) | length")"
	assert_eq "server-to-client ping paired" "$conns" \
		"$(jqlog "$log" "$q | map(select(.rpc.method==\"ping\" and .rpc.direction==\"outbound\" and .outcome==\"ok\")) | length")"
	assert_eq "notifications" $((2 * conns)) \
		"$(jqlog "$log" "$q | map(select(.outcome==\"notification\")) | length")"
	assert_eq "unpaired" 0 "$(jqlog "$log" "$q | map(select(.outcome==\"no_request\" or .outcome==\"no_response\" or .outcome==\"conn_closed\")) | length")"
	assert_eq "batch elements paired" $((2 * conns)) \
		"$(jqlog "$log" "$q | map(select((.rpc.id // \"\") | test(\"^\\\"b\")) | select(.outcome==\"ok\")) | length")"
	# each answer's body carries the id the record pairs it with (batches: the array)
	assert_eq "ids match" 0 "$(jqlog "$log" "$q | map(select(.response and .request) | select(.rpc.id as \$id | (.response.body | fromjson | if type == \"array\" then map(.id | tojson) else [.id | tojson] end) | index(\$id) == null)) | length")"
	assert_eq "roles" '["server"]' "$(jqlog "$log" "$q | map(.conn.role) | unique | tojson")"
	assert_eq "positive durations" 0 "$(jqlog "$log" "$q | map(select(.request and .response and .duration_ms <= 0)) | length")"
}
port=$(free_port)
python3 "$H/jsonrpc_server.py" "$port" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
start_collector "$WORKDIR/tcp.log" run --pid "$SRV"
python3 "$H/jsonrpc_client.py" "$port" 10 9 >/dev/null
stop_collector
check "$WORKDIR/tcp.log" 10 9
assert_eq "proto" '["jsonrpc"]' "$(jqlog "$WORKDIR/tcp.log" '[.[] | select(.type=="exchange") | .proto] | unique | tojson')"

sock=$WORKDIR/rpc.sock
python3 "$H/jsonrpc_server.py" "$sock" &
SRV2=$!
PIDS_TO_KILL+=("$SRV2")
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
start_collector "$WORKDIR/unix.log" run --pid "$SRV2"
python3 "$H/jsonrpc_client.py" "$sock" 3 6 >/dev/null
stop_collector
check "$WORKDIR/unix.log" 3 6
assert_eq "transport" '["unix"]' "$(jqlog "$WORKDIR/unix.log" '[.[] | select(.type=="exchange") | .conn.transport] | unique | tojson')"
echo ok
