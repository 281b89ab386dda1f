#!/usr/bin/env bash
# HTTP/1.x edge cases with real peers: pipelined requests to nginx from a raw
# socket client are paired in order; a server that closes mid-request gives
# conn_closed, one that closes mid-response an incomplete exchange with the
# right lengths; 200 concurrent clients are all recorded.
. "$(dirname "$0")/../lib/common.sh"
require_root
H=$LIB/../live/helpers
q='[.[] | select(.type=="exchange")]'

start_nginx
log=$WORKDIR/pipelined.log
start_collector "$log" run --pid "$NGINX_PID"
expected=$(python3 "$H/pipelined_client.py" "$port" 30)
python3 "$H/keepalive_client.py" "$port" 1000 200 >/dev/null
stop_collector
pipelined=$(jqlog "$log" "$q | map(select(.request.target | test(\"n=\"))) | map(.request.target) | .[]")
assert_eq "pipelined order" "$expected" "$pipelined"
assert_eq "pipelined statuses" '[200,201,404]' "$(jqlog "$log" "$q | map(select(.request.target | test(\"n=\"))) | map(.response.status) | unique | tojson")"
assert_eq "pipelined pairing" 0 "$(jqlog "$log" "$q | map(select(.request.target | test(\"status/201\")) | select(.response.status != 201)) | length")"
assert_eq "200 concurrent clients" 1000 "$(jqlog "$log" "$q | map(select(.request.target | test(\"n=\") | not)) | length")"
assert_eq "connections" 201 "$(jqlog "$log" "$q | map(.conn.id) | unique | length")"

port=$(free_port)
python3 "$H/closing_server.py" "$port" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
log=$WORKDIR/closing.log
start_collector "$log" run --pid "$SRV"
curl -s -m 3 "http://127.0.0.1:$port/drop" >/dev/null || true
curl -s -m 3 "http://127.0.0.1:$port/half" >/dev/null || true
curl -sf "http://127.0.0.1:$port/fine" >/dev/null
stop_collector
assert_eq "dropped request" conn_closed "$(jqlog "$log" "$q | map(select(.request.target==\"/drop\")) | .[0].outcome")"
half=$(jqlog "$log" "$q | map(select(.request.target==\"/half\")) | .[0]")
assert_eq "half response" 'incomplete 40 true' "$(echo "$half" | jq -r '"\(.outcome) \(.response.body_bytes) \(.response.incomplete)"')"
assert_eq "fine" ok "$(jqlog "$log" "$q | map(select(.request.target==\"/fine\")) | .[0].outcome")"
echo ok
