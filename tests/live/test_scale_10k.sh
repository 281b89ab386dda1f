#!/usr/bin/env bash
# 10,000 concurrent connections, each with one JSON-RPC call in flight at
# the same time: every call is paired, nothing is lost, and the collector's
# peak RSS is reported (and must stay under 256 MiB).
. "$(dirname "$0")/../lib/common.sh"
require_root
# server and client each hold N sockets: stay within the hard limit
ulimit -n "$(ulimit -Hn)"
N=${SCALE_CONNS:-10000}
port=$(free_port)
python3 "$LIB/../live/helpers/scale_rpc.py" server "$port" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
log=$WORKDIR/audit.log
start_collector "$log" run --pid "$SRV"
assert_eq "client calls" "$N" "$(python3 "$LIB/../live/helpers/scale_rpc.py" client "$port" "$N")"
rss_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$SA_PID/status")
stop_collector
q='[.[] | select(.type=="exchange")]'
assert_eq "paired calls" "$N" "$(jqlog "$log" "$q | map(select(.outcome==\"ok\" and .rpc.tool==\"scale\")) | length")"
assert_eq "connections" "$N" "$(jqlog "$log" "$q | map(.conn.id) | unique | length")"
assert_eq "loss records" 0 "$(jqlog "$log" '[.[] | select(.type=="loss")] | length')"
[ "$rss_kb" -lt $((256 * 1024)) ] || fail "collector peak RSS $((rss_kb / 1024)) MiB"
echo "ok: $N concurrent connections, collector peak RSS $((rss_kb / 1024)) MiB"
