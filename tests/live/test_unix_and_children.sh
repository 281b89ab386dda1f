#!/usr/bin/env bash
# HTTP over a Unix stream socket, and a server that forks a child per
# connection: the children join the targets in the kernel and are audited.
. "$(dirname "$0")/../lib/common.sh"
require_root
sock=$WORKDIR/api.sock
log=$WORKDIR/unix.log
python3 "$LIB/../live/helpers/unix_server.py" "$sock" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
start_collector "$log" run --pid "$SRV"
for i in 1 2 3; do curl -sf --unix-socket "$sock" "http://x/u$i" >/dev/null; done
stop_collector
q='[.[] | select(.type=="exchange")]'
assert_eq "unix exchanges" 3 "$(jqlog "$log" "$q | length")"
assert_eq "transport" unix "$(jqlog "$log" "$q | .[0].conn.transport")"
assert_eq "local path" "unix:$sock" "$(jqlog "$log" "$q | .[0].conn.local")"
assert_eq "statuses" '[200]' "$(jqlog "$log" "$q | map(.response.status) | unique | tojson")"

port=$(free_port)
log=$WORKDIR/fork.log
start_collector "$log" exec -- python3 "$LIB/../live/helpers/forking_server.py" "$port"
wait_port "$port" 200
for i in 1 2 3 4; do curl -sf "http://127.0.0.1:$port/f$i" >/dev/null; done
kill -TERM "$(pgrep -P "$SA_PID")"
wait "$SA_PID" || true
SA_PID=
fixture_done
assert_eq "forked exchanges" 4 "$(jqlog "$log" "$q | length")"
parent=$(jqlog "$log" '.[] | select(.type=="collector_start") | .targets | split(",")[0]')
pids=$(jqlog "$log" "$q | map(.proc.pid) | unique | length")
[ "$pids" -ge 2 ] || fail "expected exchanges from forked children, got pids: $(jqlog "$log" "$q | map(.proc.pid) | unique | tojson")"
assert_eq "parent served none itself" 0 "$(jqlog "$log" "$q | map(select(.proc.pid == $parent)) | length")"
echo ok
