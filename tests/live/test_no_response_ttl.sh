#!/usr/bin/env bash
# A server that never answers: with --ttl 1 the request is written once, as
# no_response, and not again when the connection later closes.
. "$(dirname "$0")/../lib/common.sh"
require_root
port=$(free_port)
log=$WORKDIR/audit.log
python3 "$LIB/../live/helpers/silent_server.py" "$port" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
start_collector "$log" run --pid "$SRV" --ttl 1
curl -s -m 3 "http://127.0.0.1:$port/never" >/dev/null || true
# curl gave up after 3 s; the TTL (1 s) passed before that
for _ in $(seq 50); do grep -q no_response "$log" && break; sleep 0.1; done
kill "$SRV"
wait "$SRV" 2>/dev/null || true
stop_collector
q='[.[] | select(.type=="exchange")]'
assert_eq "exchanges" 1 "$(jqlog "$log" "$q | length")"
assert_eq "outcome" no_response "$(jqlog "$log" "$q | .[0].outcome")"
assert_eq "target" /never "$(jqlog "$log" "$q | .[0].request.target")"
assert_eq "no response member" null "$(jqlog "$log" "$q | .[0].response")"
echo ok
