#!/usr/bin/env bash
# TLS links of a process whose exit event is lost: the collector is stopped
# (SIGSTOP: its reader reads nothing) while an audited process with uprobe
# links on libssl floods a 1 MiB ring buffer and exits, so the kernel drops
# its exit event (ringbuf_full). Continued, the collector must close that
# process's links by its sweep (every 2 s) and count it (tls_links_swept);
# without the sweep they would stay until the collector stops.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/tls.sh"
require_root
log=$WORKDIR/audit.log
helper=$LIB/../live/helpers/tls_exit_flood.py
mkfifo "$WORKDIR/flood" "$WORKDIR/fork"
python3 "$helper" flood "$WORKDIR/flooded" < "$WORKDIR/flood" &
CL=$!
# the second target also keeps the collector from stopping when CL exits
python3 "$helper" fork "$WORKDIR/forked" < "$WORKDIR/fork" &
FK=$!
PIDS_TO_KILL+=("$CL" "$FK")
exec 3>"$WORKDIR/flood" 4>"$WORKDIR/fork"
for _ in $(seq 100); do grep -q libssl "/proc/$CL/maps" 2>/dev/null && break; sleep 0.05; done
start_collector "$log" run --pid "$CL" --pid "$FK" --ringbuf-mb 1
links=$(tls_links_of "$SA_PID" "$CL")
assert_eq "links in the process (entry and return)" 2 "$(printf '%s\n' "$links" | grep -c .)"
# wait_file FILE WHAT: up to 10 s
wait_file() {
	for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.05; done
	fail "$2 did not happen in 10 s"
}
kill -STOP "$SA_PID"
echo >&3
wait_file "$WORKDIR/flooded.1" "the flood"
echo >&4
wait_file "$WORKDIR/forked.1" "the forks"
echo >&3
for _ in $(seq 200); do kill -0 "$CL" 2>/dev/null || break; sleep 0.05; done
kill -0 "$CL" 2>/dev/null && fail "the flooding process did not exit"
t0=$(date +%s%N)
kill -CONT "$SA_PID"
# gone from the kernel (bpftool) within the sweep period (2 s) and a tick
for _ in $(seq 60); do
	left=$(for l in $links; do ! bpftool link show id "$l" >/dev/null 2>&1 || echo "$l"; done)
	[ -z "$left" ] && break
	sleep 0.05
done
[ -z "$left" ] || fail "links $(echo $left) of exited pid $CL still there 3 s after the collector went on"
echo "links of the exited process gone $(( ($(date +%s%N) - t0) / 1000000 )) ms after the collector was continued"
stop_collector
assert_valid_jsonl "$log"
stop=$(tail -n 1 "$log")
assert_ge "exit event lost: ring buffer full" 1 "$(echo "$stop" | jq .kernel_ringbuf_full_events)"
assert_eq "detached on its exit event" 0 "$(grep -c "for pid $CL detached: it exited" "$WORKDIR/collector.err" || true)"
assert_eq "detached by the sweep" 1 "$(grep -c "for pid $CL detached: it is gone and its exit event was lost" "$WORKDIR/collector.err" || true)"
assert_eq "tls_links_swept" 1 "$(echo "$stop" | jq .tls_links_swept)"
echo "ok: $(echo "$stop" | jq .kernel_ringbuf_full_events) events lost to a full ring, the exit among them; links closed by the sweep"
