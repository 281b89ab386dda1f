#!/usr/bin/env bash
# A target that also writes and reads HTTP-looking text in files and pipes:
# only its socket exchanges are recorded, and file I/O never reaches the ring
# buffer (the kernel event counter stays at what the sockets explain).
. "$(dirname "$0")/../lib/common.sh"
require_root
port=$(free_port)
log=$WORKDIR/audit.log
python3 "$LIB/../live/helpers/fileio_server.py" "$port" "$WORKDIR" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
start_collector "$log" run --pid "$SRV"
for i in 1 2 3; do curl -sf "http://127.0.0.1:$port/req$i" >/dev/null; done
stop_collector
q='[.[] | select(.type=="exchange")]'
assert_eq "exchanges" 3 "$(jqlog "$log" "$q | length")"
assert_eq "targets" '["/req1","/req2","/req3"]' "$(jqlog "$log" "$q | map(.request.target) | sort | tojson")"
assert_eq "file content never recorded" 0 "$(grep -c 'from-a-file' "$log" || true)"
# per request: conn open, >= 1 request read, >= 1 response write, close; python may
# read a second time to see EOF. Far fewer than if the 2 file and 2 pipe calls counted.
events=$(jqlog "$log" '.[] | select(.type=="collector_stop") | .events')
[ "$events" -le 18 ] || fail "kernel events: $events for 3 requests (file or pipe I/O captured?)"
echo "ok: $events kernel events for 3 requests"
