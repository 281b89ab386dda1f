#!/usr/bin/env bash
# A stop is prompt: with a backlog of records still to ship, SIGINT ships
# at most one window more than was in flight (not the backlog), waits for
# the acknowledgements
# and saves the cursor, so the next start goes on exactly where the
# receiver's copy ends (no record twice, none missing). A stop while the
# remote is down does not wait for a connection. forward.nice lowers the
# forward thread's priority only, not the collector's other threads.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/helpers/relp_env.sh"
require_root
N=20000
WIN=128
relp_certs "$WORKDIR/certs"
rport=$(free_port)
R=$WORKDIR/rsyslog
rsyslog_conf "$R" "$rport"
rsyslog_start "$R"
sleep 1000 &
TGT=$!
PIDS_TO_KILL+=("$TGT")
mkdir -p "$WORKDIR/a"
log=$WORKDIR/a/audit.log
records_log "$log" "$N"
FWD_WINDOW=$WIN FWD_EXTRA="        nice: 19" forward_cfg "$WORKDIR/f.yaml" "$log" "$rport" "      max_file_size_mb: 1024"
start() {
	"$SOCKAUDIT" run -c "$WORKDIR/f.yaml" --pid "$TGT" 2>>"$WORKDIR/collector.err" &
	SA_PID=$!
}
# stop_when_past ORD: SIGINT once the cursor is past ORD; prints the ordinal then
stop_when_past() {
	local t=400 o
	until o=$(cursor_ordinal "$log.fwd"); [ "$o" -gt "$1" ]; do
		t=$((t - 1)); [ "$t" -gt 0 ] || fail "shipping did not reach $1 (cursor $o)"; sleep 0.02
	done
	kill -INT "$SA_PID"
	echo "$o"
}
received() { wc -l < "$R/received.log"; }
nice_of() { awk '{ print $19 }' "$1/stat"; }
# forward.nice 19: the sa-forward thread has it, the main thread keeps ours
check_nice() {
	local t fwd=
	for _ in $(seq 100); do
		for t in /proc/"$SA_PID"/task/*; do
			[ "$(cat "$t/comm" 2>/dev/null)" = sa-forward ] && fwd=$t
		done
		[ -z "$fwd" ] || break
		sleep 0.02
	done
	[ -n "$fwd" ] || fail "no sa-forward thread in the collector"
	assert_eq "forward thread nice" 19 "$(nice_of "$fwd")"
	assert_eq "collector main thread nice" "$(nice_of /proc/$$)" "$(nice_of /proc/"$SA_PID")"
}

# 1. stop mid-backlog: what was in flight (a window) and one window more
start
check_nice
at=$(stop_when_past 2000)
t0=$(date +%s%N)
wait "$SA_PID" || fail "collector exit status $?"
ms=$((($(date +%s%N) - t0) / 1000000))
saved=$(cursor_ordinal "$log.fwd")
got=$(received)
echo "stopped at ordinal $at: exit in $ms ms, cursor $saved, rsyslog has $got of $N"
[ "$got" -lt "$N" ] || fail "the whole backlog was shipped after the stop"
# the forwarder's own count: from the stop it saw (SIGINT reaches it after the writer's close)
since=$(sed -n 's/.*forward: stopped at ordinal \([0-9]*\), \([0-9]*\) acknowledged since the stop.*/\1 \2/p' "$WORKDIR/collector.err")
assert_eq "ordinal in the stop line" "$saved" "${since% *}"
[ "${since#* }" -le $((2 * WIN)) ] || fail "${since#* } records acknowledged after the stop, more than two windows"
# and from outside: far less than the backlog (an unbounded drain shipped it for 3 s)
[ "$saved" -le $((at + 4000)) ] || fail "shipped $((saved - at)) records after SIGINT"
# Direct queue: every acknowledged record is written, and the stop waited for every ack
assert_eq "records received = cursor saved at the stop" "$saved" "$got"
[ "$ms" -lt 2500 ] || fail "stop took $ms ms"

# 2. the next start goes on from the saved cursor: no duplicate, no gap
start
stop_when_past $((saved + 2000)) > /dev/null
wait "$SA_PID" || fail "collector exit status $?"
saved2=$(cursor_ordinal "$log.fwd")
assert_eq "records received after the restart = cursor" "$saved2" "$(received)"
assert_eq "duplicates" 0 "$(($(received) - $(received_records "$R/received.log" | wc -l)))"
# received in order, ordinals 0..saved2-1, each record as written
assert_eq "ordinals" "$(seq 0 $((saved2 - 1)) | md5sum)" "$(awk '{print $3}' "$R/received.log" | md5sum)"
cmp <(received_records "$R/received.log" | grep '"comm":"bench"') <(head -n "$(received_records "$R/received.log" | grep -c '"comm":"bench"')" "$log") ||
	fail "received records differ from the log"

# 3. remote down: the stop does not wait for a connection or a backoff
rsyslog_kill9 "$R"
start
t=200
until grep -q 'is down' "$WORKDIR/collector.err" || [ "$t" -le 0 ]; do t=$((t - 1)); sleep 0.02; done
kill -INT "$SA_PID"
t0=$(date +%s%N)
wait "$SA_PID" || fail "collector exit status $?"
ms2=$((($(date +%s%N) - t0) / 1000000))
[ "$ms2" -lt 1500 ] || fail "stop with the remote down took $ms2 ms"
assert_eq "cursor kept while down" "$saved2" "$(cursor_ordinal "$log.fwd")"
echo "ok: stop shipped ${since#* } records after the forwarder saw it ($((saved - at)) after SIGINT at ordinal $at), exit $ms ms; restart went on to $saved2 without duplicates; stop while down $ms2 ms"
