#!/usr/bin/env bash
# Failures: ENOSPC on a small tmpfs stops a critical sink's collector with
# collector_stop and a non-zero exit; a non-critical sink on it is counted
# and the critical one goes on; a critical sink that cannot be set up stops
# the start; a non-critical one buffers until its directory appears.
. "$(dirname "$0")/../lib/common.sh"
require_root
mnt=$WORKDIR/small
mkdir -p "$mnt"
mount -t tmpfs -o size=1m,mode=0700 sockaudit-test "$mnt" || skip "cannot mount a tmpfs"
trap 'umount "$mnt" 2>/dev/null || true; cleanup' EXIT
start_nginx
ngx=$NGINX_PID
mkcfg() {	# mkcfg FILE CRITICAL_LOG NONCRITICAL_LOG
	cat > "$1" <<CFG
auditing_plugins:
  - type: json_lines
    config: {output_file: $2, max_file_size_mb: 0}
  - type: json_lines
    config: {output_file: $3, critical: false, max_file_size_mb: 0, event_buffer_size: 5}
CFG
	chmod 644 "$1"
}
load() { curl -s -o /dev/null "http://127.0.0.1:$port/big.txt?[1-$1]"; }

# non-critical sink on the full tmpfs: counted, the critical one goes on
mkcfg "$WORKDIR/n.yaml" "$WORKDIR/main.log" "$mnt/side.log"
start_collector "$WORKDIR/main.log" run -c "$WORKDIR/n.yaml" --pid "$ngx"
load 1500
sleep 1.2	# one loss-report tick (once a second)
kill -0 "$SA_PID" || fail "a non-critical sink's ENOSPC stopped the collector"
stop_collector
jqlog "$WORKDIR/main.log" '[.[]|select(.type=="loss" and .counter=="write_failed_records")]|length' \
	| grep -qv '^0$' || fail "no loss record for the non-critical sink's failed writes"
assert_valid_jsonl "$mnt/side.log"
rm -f "$mnt/side.log"

# critical sink on the full tmpfs: collector_stop with the reason, exit non-zero
mkcfg "$WORKDIR/c.yaml" "$mnt/crit.log" "$WORKDIR/other.log"
start_collector "$mnt/crit.log" run -c "$WORKDIR/c.yaml" --pid "$ngx"
load 1500 &
rc=0; wait "$SA_PID" || rc=$?
[ "$rc" != 0 ] || fail "ENOSPC on a critical sink: exit status 0"
grep -q 'No space left on device' "$WORKDIR/collector.err" || fail "no ENOSPC message"
jqlog "$WORKDIR/other.log" '.[-1] | .type + " " + .reason' | grep -q '^collector_stop critical audit log' \
	|| fail "the other sink has no collector_stop with the reason"
assert_valid_jsonl "$mnt/crit.log"
SA_PID=

# a critical sink that cannot be set up: no start, non-zero exit
rc=0; "$SOCKAUDIT" exec -o "$WORKDIR/nodir/x.log" -- true 2>"$WORKDIR/err" || rc=$?
[ "$rc" != 0 ] || fail "an unset critical sink started"
grep -q "cannot open audit log $WORKDIR/nodir/x.log" "$WORKDIR/err" || fail "no reason given"

# non-critical early buffering: records kept until the directory appears
mkcfg "$WORKDIR/e.yaml" "$WORKDIR/e-main.log" "$WORKDIR/later/e.log"
start_collector "$WORKDIR/e-main.log" run -c "$WORKDIR/e.yaml" --pid "$ngx"
load 3
mkdir "$WORKDIR/later"
for _ in $(seq 100); do [ -s "$WORKDIR/later/e.log" ] && break; sleep 0.05; done
stop_collector
assert_eq "first buffered record" collector_start "$(head -n1 "$WORKDIR/later/e.log" | jq -r .type)"
assert_ge "exchanges written after setup" 3 "$(grep -c '"type":"exchange"' "$WORKDIR/later/e.log")"

# exec: a critical sink fails (ENOSPC) while the command runs: the command
# must not go on unaudited: it gets SIGTERM, and the other sink says so
rm -f "$mnt"/*.log
head -c 900000 /dev/zero > "$mnt/filler"	# a few dozen records from full
mkcfg "$WORKDIR/x.yaml" "$mnt/xcrit.log" "$WORKDIR/x-other.log"
rc=0
timeout 60 "$SOCKAUDIT" exec -c "$WORKDIR/x.yaml" -- bash -c \
	"while :; do curl -s -o /dev/null http://127.0.0.1:$port/big.txt; done" \
	2>"$WORKDIR/x.err" || rc=$?
assert_eq "exec, critical sink failed: exit status" 1 "$rc"
grep -q "sending SIGTERM to the command bash (pid [0-9]*): it must not run unaudited" \
	"$WORKDIR/x.err" || fail "no word of the command being stopped: $(cat "$WORKDIR/x.err")"
cmd=$(jqlog "$WORKDIR/x-other.log" '.[0].targets')
kill -0 "$cmd" 2>/dev/null && fail "the command (pid $cmd) still runs"
stop=$(jqlog "$WORKDIR/x-other.log" '.[-1] | "\(.type) \(.exit_status) \(.command_signal)"')
assert_eq "the other sink's last record" "collector_stop 143 SIGTERM" "$stop"
jqlog "$WORKDIR/x-other.log" '.[-1].reason' | grep -q "^critical audit log $mnt/xcrit.log: write failed" \
	|| fail "collector_stop does not name the failed sink"

# the same with a command that ignores SIGTERM: SIGKILL 5 s later
rm -f "$mnt"/*.log "$WORKDIR/x-other.log"
rc=0
timeout 60 "$SOCKAUDIT" exec -c "$WORKDIR/x.yaml" -- bash -c \
	"trap '' TERM; while :; do curl -s -o /dev/null http://127.0.0.1:$port/big.txt; done" \
	2>"$WORKDIR/xk.err" || rc=$?
assert_eq "exec, command ignoring SIGTERM: exit status" 1 "$rc"
grep -q "did not exit within 5 s of SIGTERM: sending SIGKILL" "$WORKDIR/xk.err" \
	|| fail "no word of SIGKILL: $(cat "$WORKDIR/xk.err")"
assert_eq "the other sink's last record" "collector_stop 137 SIGKILL" \
	"$(jqlog "$WORKDIR/x-other.log" '.[-1] | "\(.type) \(.exit_status) \(.command_signal)"')"
