#!/usr/bin/env bash
# Issue 13: a non-strict request line (control bytes, bare CR or LF, double
# space, HTTP/2.0 or 0.9, a 30-byte method, lowercase, bad Content-Length or
# chunk size), first and second on a keep-alive connection, is recorded as
# seen with `malformed`, and every request after it on the connection keeps
# its method and target: no no_request, no `proto: raw`. A 1 MiB header
# block is written with its wire length as `bytes`.
. "$(dirname "$0")/../lib/common.sh"
require_root
H=$LIB/../live/helpers
q='[.[] | select(.type=="exchange")]'

port=$(free_port)
python3 "$H/odd_http.py" server "$port" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
log=$WORKDIR/odd.log
start_collector "$log" run --pid "$SRV"
python3 "$H/odd_http.py" client "$port" > "$WORKDIR/cases"
big=$(python3 "$H/odd_http.py" bighead "$port")
stop_collector
assert_valid_jsonl "$log"
assert_eq "cases" 28 "$(wc -l < "$WORKDIR/cases")"
assert_eq "proto" '["http"]' "$(jqlog "$log" "$q | map(.proto) | unique | tojson")"
assert_eq "outcomes" '["ok"]' "$(jqlog "$log" "$q | map(.outcome) | unique | tojson")"
while read -r secret n method why start; do
	conn=$(jqlog "$log" "$q | map(select(.request.target==\"$secret\")) | .[0].conn.id")
	[ "$conn" != null ] || fail "$secret: not recorded"
	on="$q | map(select(.conn.id==\"$conn\"))"
	assert_eq "$secret: requests" "$n" "$(jqlog "$log" "$on | map(select(.request.method != \"\" and .response.status == 200)) | length")"
	odd=$(jqlog "$log" "$on | map(select(.request.target | startswith(\"$start\"))) | .[0]")
	[ "$odd" != null ] || fail "$secret: no request with a target starting $start"
	assert_eq "$secret: method" "$method" "$(echo "$odd" | jq -r .request.method)"
	assert_eq "$secret: malformed" "$why" "$(echo "$odd" | jq -r '.request.malformed // "-"')"
	assert_eq "$secret: DELETE" DELETE "$(jqlog "$log" "$on | map(select(.request.target==\"$secret\")) | .[0].request.method")"
done < "$WORKDIR/cases"
# bytes is the wire length of a head far bigger than what is kept of it
# (with lost_bytes for what the capture did not see, if anything)
assert_eq "1 MiB head" "$big ok" "$(jqlog "$log" "$q | map(select(.request.target==\"/big\")) | .[0] | \"\(.request.bytes) \(.outcome)\"")"
assert_eq "after it" ok "$(jqlog "$log" "$q | map(select(.request.target==\"/after-big\")) | .[0].outcome")"
echo ok
