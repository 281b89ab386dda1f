#!/usr/bin/env bash
# Capture past max_capture: a server that reads a whole connection in one
# receive (recvfrom, or recvmsg into 65 buffers) and answers in one send
# (sendmsg over 40 buffers) is seen in full, in chunks of max_capture bytes
# up to capture_budget per syscall:
#  - a DELETE hidden behind a 60 KB POST body is recorded with its target;
#  - 10,000 pipelined GETs read in one recv give 10,000 records;
#  - a 300 KB answer is counted whole, its excerpt from its first byte;
#  - sendmmsg past its 8th message: the rest counted, the positions exact;
#  - past the budget, exactly the bytes beyond it are counted as truncated.
. "$(dirname "$0")/../lib/common.sh"
require_root
H=$LIB/../live/helpers
q='[.[] | select(.type=="exchange")]'
events() { jqlog "$1" '.[] | select(.type=="collector_stop") | .events'; }
truncated() { jqlog "$1" '[.[] | select(.type=="loss" and .counter=="capture_truncated_bytes") | .count] | add // 0'; }

# run_case NAME RECV_MODE COLLECTOR_ARGS CLIENT_ARGS...: one server, one collector, one client
run_case() {
	local name=$1 mode=$2 args=$3
	shift 3
	port=$(free_port)
	python3 "$H/bulk_server.py" "$port" "$mode" &
	SRV=$!
	PIDS_TO_KILL+=("$SRV")
	wait_port "$port"
	log=$WORKDIR/$name.log
	# shellcheck disable=SC2086
	start_collector "$log" run --pid "$SRV" $args
	answers=$(python3 "$H/bulk_client.py" "$port" "$@")
	stop_collector
	kill "$SRV"
	wait "$SRV" 2>/dev/null || true
}

for mode in recv recvmsg; do
	run_case "smuggle-$mode" "$mode" "" smuggle 60000
	assert_eq "$mode: answers" 2 "$answers"
	assert_eq "$mode: requests" '["DELETE /admin/users/42","POST /innocent"]' \
		"$(jqlog "$log" "$q | map(\"\(.request.method) \(.request.target)\") | sort | tojson")"
	assert_eq "$mode: POST body bytes" 60000 \
		"$(jqlog "$log" "$q | map(select(.request.method==\"POST\")) | .[0].request.body_bytes")"
	assert_eq "$mode: responses" '[200,200]' "$(jqlog "$log" "$q | map(.response.status) | tojson")"
	assert_eq "$mode: nothing lost" 0 "$(jqlog "$log" '[.[] | select(.type=="loss")] | length')"
done
# recv: accept, the 60103 bytes read in ceil(60103 / 4096) = 15 chunks, the
# two answers in one send, close
assert_eq "recv: events" 18 "$(events "$WORKDIR/smuggle-recv.log")"

# (more than the default 1,000 requests wait on one connection at once)
run_case pipelined recv "--max-pending-per-conn 10000" pipelined 10000
assert_eq "pipelined answers" 10000 "$answers"
assert_eq "pipelined records with method and target" 10000 \
	"$(jqlog "$log" "$q | map(select(.request.method==\"GET\" and (.request.target | startswith(\"/p/\")) and .response.status==200)) | map(.request.target) | unique | length")"
assert_eq "pipelined: nothing lost" 0 "$(jqlog "$log" '[.[] | select(.type=="loss")] | length')"

run_case big recv "--body-excerpt 64" big 300000
assert_eq "big answer" 1 "$answers"
assert_eq "big body bytes" 300000 "$(jqlog "$log" "$q | .[0].response.body_bytes")"
assert_eq "big body excerpt" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" \
	"$(jqlog "$log" "$q | .[0].response.body")"
assert_eq "big: nothing truncated" 0 "$(truncated "$log")"
# accept, the request (one event: a small syscall is one chunk), the
# 300038-byte answer in ceil(300038 / 4096) = 74 chunks, close
assert_eq "big: events" 77 "$(events "$log")"

# sendmmsg of 12 messages: the 8 first captured, the last 4 counted in one
# length-only event, so the answer is whole (its lengths exact) and the
# bytes not captured are known. 11000 body bytes in 11 messages of 1000,
# after a 38-byte header message.
run_case mmsg recv "" mmsg 11000
assert_eq "mmsg answer" 1 "$answers"
assert_eq "mmsg body bytes" 11000 "$(jqlog "$log" "$q | .[0].response.body_bytes")"
assert_eq "mmsg lost bytes" 4000 "$(jqlog "$log" "$q | .[0].response.lost_bytes")"
assert_eq "mmsg truncated bytes" 4000 "$(truncated "$log")"
assert_eq "mmsg outcome" ok "$(jqlog "$log" "$q | .[0].outcome")"

# Past the budget: the bytes beyond it are counted, exactly. The POST's
# headers are 60 bytes, the DELETE 44: 60 + 100000 + 44 read in one recv.
run_case over-budget recv "--capture-budget 65536 --max-capture 16384" smuggle 100000
assert_eq "over budget: truncated bytes" $((60 + 100000 + 44 - 65536)) "$(truncated "$log")"
assert_eq "over budget: the POST is recorded" "POST /innocent" \
	"$(jqlog "$log" "$q | map(select(.request.method==\"POST\")) | .[0] | \"\(.request.method) \(.request.target)\"")"
echo "ok"
