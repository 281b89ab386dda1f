#!/usr/bin/env bash
# Issue 13, JSON-RPC: requests whose id is an object, an array, a boolean, a
# 30-digit number or a 5,000-byte string are recorded and paired (flagged
# `malformed: id_type` where the spec forbids the type, ids bounded); a line
# of 100,000 nested brackets is skipped to its newline and the next request
# kept; a batch of 10,000 calls gives 10,000 exchanges, or with a smaller
# max_pending_per_conn, the bound's evictions written and counted.
. "$(dirname "$0")/../lib/common.sh"
require_root
H=$LIB/../live/helpers
q='[.[] | select(.type=="exchange")]'
# all of a log: 19,000 records fill more than one file (rotation at 10 MB)
whole() { cat "$1".[0-9]* "$1" 2>/dev/null > "$1.all"; echo "$1.all"; }

port=$(free_port)
python3 "$H/odd_jsonrpc.py" server "$port" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"

log=$WORKDIR/ids.log
start_collector "$log" run --pid "$SRV"
python3 "$H/odd_jsonrpc.py" client "$port" ids
python3 "$H/odd_jsonrpc.py" client "$port" long
stop_collector
assert_valid_jsonl "$log"
# paired by id; the 5,000-byte id's method may lie past a 4 KiB capture: then incomplete
assert_eq "odd ids paired" 6 "$(jqlog "$log" "$q | map(select(.request and .response and .rpc.id != \"null\" and .rpc.id != \"\\\"after-long\\\"\")) | length")"
assert_ge "with their method" 5 "$(jqlog "$log" "$q | map(select(.rpc.method==\"odd/id\" and .outcome==\"ok\")) | length")"
assert_eq "flagged" '["id_type"]' "$(jqlog "$log" "$q | map(select(.rpc.method==\"odd/id\") | .request.malformed // empty) | unique | tojson")"
assert_eq "flagged count" 4 "$(jqlog "$log" "$q | map(select(.request.malformed==\"id_type\")) | length")"
assert_eq "object id" '{"o":[1,2]}' "$(jqlog "$log" "$q | map(select(.rpc.method==\"odd/id\")) | .[0].rpc.id")"
assert_eq "ids bounded" 1 "$(jqlog "$log" "$q | map(select(.rpc.method==\"odd/id\") | .rpc.id | length <= 63) | unique | length")"
assert_eq "next after the long line" ok "$(jqlog "$log" "$q | map(select(.rpc.id==\"\\\"after-long\\\"\")) | .[0].outcome")"
assert_eq "deep request recorded" deep "$(jqlog "$log" "$q | map(select(.rpc.id==\"\\\"deep\\\"\")) | .[0].rpc.method")"
assert_eq "parse errors (id null)" 2 "$(jqlog "$log" "$q | map(select(.outcome==\"no_request\" and .rpc.id==\"null\")) | length")"
assert_eq "unpaired" 2 "$(jqlog "$log" "$q | map(select(.outcome==\"no_request\")) | length")"

log=$WORKDIR/batch.log
start_collector "$log" run --pid "$SRV" --max-capture 16384 --max-pending-per-conn 20000
python3 "$H/odd_jsonrpc.py" client "$port" batch
stop_collector
log=$(whole "$log")
assert_valid_jsonl "$log"
assert_eq "batch of 10,000" 10000 "$(jqlog "$log" "$q | map(select(.rpc.method==\"tools/call\" and .outcome==\"ok\")) | length")"
assert_eq "distinct ids" 10000 "$(jqlog "$log" "$q | map(.rpc.id) | unique | length")"
assert_eq "loss" 0 "$(jqlog "$log" '[.[] | select(.type=="loss")] | length')"

log=$WORKDIR/bound.log
start_collector "$log" run --pid "$SRV" --max-capture 16384 --max-pending-per-conn 1000
python3 "$H/odd_jsonrpc.py" client "$port" batch
stop_collector
log=$(whole "$log")
assert_eq "evicted" 9000 "$(jqlog "$log" "$q | map(select(.outcome==\"evicted\")) | length")"
assert_eq "paired" 1000 "$(jqlog "$log" "$q | map(select(.outcome==\"ok\")) | length")"
assert_eq "answers to the evicted" 9000 "$(jqlog "$log" "$q | map(select(.outcome==\"no_request\")) | length")"
assert_eq "evictions counted" 9000 "$(jqlog "$log" '[.[] | select(.type=="loss" and .counter=="evicted_requests") | .count] | add')"
echo ok
