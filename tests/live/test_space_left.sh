#!/usr/bin/env bash
# space_left_mb with each space_left_action, on a small tmpfs that is
# already nearly full: warn (a warning, everything written), rotate (a
# rotation with reason space_left), suspend (nothing written while space is
# short), exit (the collector stops with the reason, non-zero). Live: exit on
# a non-critical sink stops `run` by itself (collector_stop names
# space_left, not "critical"); warn warns once, not every second; a fast
# fill meets the action (suspend) before ENOSPC.
. "$(dirname "$0")/../lib/common.sh"
require_root
GEN=${GEN:-$(dirname "$SOCKAUDIT")/bench/gen_events}
[ -x "$GEN" ] || skip "no $GEN (make build/bench/gen_events)"
fs=$WORKDIR/fs
mkdir -p "$fs"
mount -t tmpfs -o size=4m,mode=0700 tmpfs "$fs" || skip "cannot mount a tmpfs"
trap 'umount "$fs" 2>/dev/null || true; cleanup' EXIT
"$GEN" "$WORKDIR/ev.rec" 10 10 1
head -c 3000000 /dev/zero > "$fs/filler"	# leaves about 1 MiB: below 2
q='[.[] | select(.type=="exchange")]'

run_action() {	# run_action ACTION: replay into $fs/ACTION.log; sets rc
	cat > "$WORKDIR/$1.yaml" <<YAML
auditing_plugins:
  - type: json_lines
    config:
      output_file: $fs/$1.log
      space_left_mb: 2
      space_left_action: $1
      critical: true
YAML
	rc=0
	"$SOCKAUDIT" replay "$WORKDIR/ev.rec" -c "$WORKDIR/$1.yaml" 2>"$WORKDIR/$1.err" || rc=$?
}

run_action warn
assert_eq "warn: exit" 0 "$rc"
grep -q "below space_left_mb 2" "$WORKDIR/warn.err" || fail "warn: no warning: $(cat "$WORKDIR/warn.err")"
assert_eq "warn: all written" 100 "$(jqlog "$fs/warn.log" "$q | length")"

run_action rotate
assert_eq "rotate: exit" 0 "$rc"
zcat -f "$fs"/rotate.log* | grep -q '"type":"rotate".*space_left' \
	|| fail "rotate: no rotate record naming space_left"

run_action suspend
assert_eq "suspend: exit" 0 "$rc"
assert_eq "suspend: nothing written" 0 "$( (cat "$fs/suspend.log" 2>/dev/null || true) | grep -c '"exchange"' || true)"

run_action exit
[ "$rc" != 0 ] || fail "exit: the collector exited 0"
grep -q "space_left_mb reached" "$WORKDIR/exit.err" || fail "exit: no reason: $(cat "$WORKDIR/exit.err")"

# ---- the live collector (run) ----
start_nginx
ngx=$NGINX_PID
rm -f "$fs"/*.log*
live_cfg() {	# live_cfg ACTION: a critical log outside, a non-critical one on the tmpfs
	cat > "$WORKDIR/live-$1.yaml" <<YAML
auditing_plugins:
  - type: json_lines
    config: {output_file: $WORKDIR/live-$1.log}
  - type: json_lines
    config: {output_file: $fs/live-$1.log, critical: false, space_left_mb: 2, space_left_action: $1}
YAML
	chmod 644 "$WORKDIR/live-$1.yaml"
}

# exit on a non-critical sink: the collector stops by itself, the reason names space_left
rm -f "$fs/filler"
live_cfg exit
start_collector "$WORKDIR/live-exit.log" run -c "$WORKDIR/live-exit.yaml" --pid "$ngx"
head -c 3000000 /dev/zero > "$fs/filler"
curl -s -o /dev/null "http://127.0.0.1:$port/a"
for _ in $(seq 200); do kill -0 "$SA_PID" 2>/dev/null || break; sleep 0.025; done
kill -0 "$SA_PID" 2>/dev/null && fail "space_left_action exit: the collector is still running"
rc=0; wait "$SA_PID" || rc=$?
SA_PID=
[ "$rc" != 0 ] || fail "space_left_action exit: exit status 0"
reason=$(jqlog "$WORKDIR/live-exit.log" '[.[] | select(.type=="collector_stop")] | .[-1].reason')
case $reason in
*"$fs/live-exit.log: space_left_mb reached"*) ;;
*) fail "collector_stop reason does not name space_left and the log: $reason";;
esac
grep -q critical <<<"$reason" && fail "a non-critical sink's reason says critical: $reason"
[ "$(tail -n1 "$fs/live-exit.log" | jq -r .type)" = collector_stop ] \
	|| fail "the sink that stopped the collector has no collector_stop"

# warn: one warning while space stays short, not one per second
live_cfg warn
: > "$WORKDIR/collector.err"
start_collector "$WORKDIR/live-warn.log" run -c "$WORKDIR/live-warn.yaml" --pid "$ngx"
end=$((SECONDS + 3))
while [ $SECONDS -lt $end ]; do curl -s -o /dev/null "http://127.0.0.1:$port/w"; done
stop_collector
assert_eq "warnings over 3 s of load" 1 "$(grep -c "live-warn.log: .* below space_left_mb 2" \
	"$WORKDIR/collector.err")"

# a fast fill: the action comes before ENOSPC (checked per batch, not once a second)
rm -f "$fs"/*.log* "$fs/filler"
mount -o remount,size=8m "$fs"
head -c 5000000 /dev/zero > "$fs/filler"	# about 3 MiB left of 8
"$GEN" "$WORKDIR/big.rec" 100 100 1
cat > "$WORKDIR/fast.yaml" <<YAML
auditing_plugins:
  - type: json_lines
    config: {output_file: $fs/fast.log, critical: false, max_file_size_mb: 0, space_left_mb: 2, space_left_action: suspend}
YAML
rc=0; "$SOCKAUDIT" replay "$WORKDIR/big.rec" -c "$WORKDIR/fast.yaml" 2>"$WORKDIR/fast.err" || rc=$?
assert_eq "fast fill: exit" 0 "$rc"
grep -q "No space left" "$WORKDIR/fast.err" && fail "fast fill reached ENOSPC: $(cat "$WORKDIR/fast.err")"
written=$(jqlog "$fs/fast.log" '[.[] | select(.type=="exchange")] | length')
[ "$written" -gt 0 ] && [ "$written" -lt 10000 ] || fail "fast fill: $written exchanges written"
echo "fast fill: $written of 10000 exchanges written before suspend, no ENOSPC"
echo ok
