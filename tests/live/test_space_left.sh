#!/usr/bin/env bash
# space_left_mb with each space_left_action, on a small tmpfs that is
# already nearly full: warn (a warning, everything written), rotate (a
# rotation with reason space_left), suspend (nothing written while space is
# short), exit (the collector stops with the reason, non-zero).
. "$(dirname "$0")/../lib/common.sh"
require_root
GEN=${GEN:-$(dirname "$SOCKAUDIT")/bench/gen_events}
[ -x "$GEN" ] || skip "no $GEN (make build/bench/gen_events)"
fs=$WORKDIR/fs
mkdir -p "$fs"
mount -t tmpfs -o size=4m,mode=0700 tmpfs "$fs" || skip "cannot mount a tmpfs"
trap 'umount "$fs" 2>/dev/null; cleanup' EXIT
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
echo ok
