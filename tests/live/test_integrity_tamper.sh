#!/usr/bin/env bash
# The integrity chain on a real log: nginx under the collector with size
# rotation, gzip, checkpoints and a clean restart verifies OK; then each
# attack on a copy of that set is found by `sockaudit verify` at the right
# file:line: a modified, inserted, deleted and reordered record (one of them
# inside a .gz file), a cut tail (against the anchor), a deleted rotated
# file, and a chain reset (state file removed before a restart).
. "$(dirname "$0")/../lib/common.sh"
require_root
start_nginx
ngx=$NGINX_PID
log=$WORKDIR/set/r.log
key=$WORKDIR/k.key
mkdir -p "$WORKDIR/set"
"$SOCKAUDIT" keygen "$key" > /dev/null
assert_eq "key file mode" 600 "$(stat -c %a "$key")"
"$SOCKAUDIT" keygen "$key" 2>/dev/null && fail "keygen overwrote an existing key"
cat > "$WORKDIR/i.yaml" <<CFG
auditing_plugins:
  - type: json_lines
    config:
      output_file: $log
      max_file_size_mb: 1
      backup_count: 100
      compress: true
      integrity: {key_file: $key, checkpoint_every_records: 300}
CFG
chmod 644 "$WORKDIR/i.yaml"

# start the collector without removing the log (a restart continues it)
# runs that attached so far: counted in the collector's messages, not in the
# log, whose first records of a run may go to a new file when it rotates
starts() { local n; n=$(grep -c 'info: auditing pids' "$WORKDIR/collector.err" 2>/dev/null) || true; echo "${n:-0}"; }
start_sa() {
	local before
	before=$(starts)
	"$SOCKAUDIT" run -c "$WORKDIR/i.yaml" --ringbuf-mb 64 --pid "$ngx" 2>>"$WORKDIR/collector.err" &
	SA_PID=$!
	for _ in $(seq 300); do
		[ "$(starts)" -gt "$before" ] && return 0
		kill -0 "$SA_PID" 2>/dev/null || { cat "$WORKDIR/collector.err" >&2; fail "collector exited"; }
		sleep 0.05
	done
	fail "collector never started"
}
load() { curl -s -o /dev/null "http://127.0.0.1:$port/big.txt?r=$1&[1-$2]"; }

start_sa
load a 1500
stop_collector
start_sa
load b 300
kill -HUP "$SA_PID"	# a reload reopens the writer: the chain resumes
for _ in $(seq 100); do grep -q '"config_reload"' "$log" && break; sleep 0.05; done
load b2 100
stop_collector
ls "$log".*.gz > /dev/null 2>&1 || fail "no rotated .gz file: the set did not rotate"
out=$("$SOCKAUDIT" verify --key "$key" --anchor "$log.anchor" "$log") || fail "clean set: $out"
echo "$out"
case $out in OK*" 0 rotations"*|*" 0 restarts"*) fail "clean set lacks a rotation or restart: $out";; esac
assert_ge "chain_resume records (restart, reload)" 2 "$(zcat -f "$log".*.gz "$log" | grep -c '"type":"chain_resume"' || true)"
assert_eq "chain field on every current line" "$(wc -l < "$log")" "$(grep -c ',"chain":"[0-9a-f]\{64\}"}$' "$log")"

# attack NAME: a fresh copy of the set in $WORKDIR/NAME, its log path in $t
attack() {
	rm -rf "${WORKDIR:?}/$1"
	cp -a "$WORKDIR/set" "$WORKDIR/$1"
	t=$WORKDIR/$1/r.log
}
# expect WHAT PATTERN: verify exits 1 and prints PATTERN (a grep -E regex)
expect() {
	local rc=0 res
	res=$("$SOCKAUDIT" verify --key "$key" --anchor "$t.anchor" "$t") || rc=$?
	assert_eq "$1: exit status" 1 "$rc"
	echo "$res" | grep -qE "$2" || fail "$1: expected /$2/, got: $res"
	echo "$1: $(echo "$res" | grep -m1 TAMPERED)"
}
# the Nth exchange line number in FILE
nth_exchange() { grep -n '"type":"exchange"' "$1" | sed -n "$2p" | cut -d: -f1; }

attack modified
gz=$t.2.gz
zcat "$gz" > "$t.plain"
n=$(nth_exchange "$t.plain" 7)
sed -i "${n}s/\"status\":200/\"status\":403/" "$t.plain"
gzip -c "$t.plain" > "$gz"; rm "$t.plain"
expect modified "^TAMPERED $gz:$n: modified"

attack inserted
n=$(nth_exchange "$t" 5)
sed -i "${n}p" "$t"
expect inserted "^TAMPERED $t:$((n + 1)): inserted"

attack deleted
n=$(nth_exchange "$t" 5)
sed -i "${n},$((n + 2))d" "$t"
expect deleted "^TAMPERED $t:$n: deleted: 3 record"

attack reordered
n=$(nth_exchange "$t" 5)
sed -i "${n}{h;d};$((n + 1)){G}" "$t"
expect reordered "^TAMPERED $t:$n: reordered"

attack truncated
head -n "$(nth_exchange "$t" 3)" "$t" > "$t.cut" && mv "$t.cut" "$t"
expect truncated "^TAMPERED $t:[0-9]+: truncated tail"

attack torn
head -c -30 "$WORKDIR/set/r.log" > "$t"
expect torn "truncated tail: the last line is a partial record"

attack missing
rm "$t.2.gz"
expect "missing rotated file" "^TAMPERED $t.2: missing rotated file"

# a chain reset: the state file is gone when the collector starts again
rm "$log.chain"
start_sa
load c 50
stop_collector
grep -q '"type":"chain_gap","reason":"state_missing"' "$log" || fail "no chain_gap record"
rc=0; res=$("$SOCKAUDIT" verify --key "$key" --anchor "$log.anchor" "$log") || rc=$?
assert_eq "chain reset: exit status" 1 "$rc"
echo "$res" | grep -qE "^GAP $log:[0-9]+: chain reset" || fail "chain reset not reported: $res"
"$SOCKAUDIT" verify --key "$key" --anchor "$log.anchor" --allow-gaps "$log" > /dev/null ||
	fail "the same log with --allow-gaps should verify"
# kill -9 while writing: the state lags the log by the records written after
# its last save; the restart re-verifies them and resumes, no new gap
start_sa
load d 4000 & clients=$!
written() { cat "$log" "$log".*.gz 2>/dev/null | wc -c; }	# grows through rotations
size0=$(written)
until [ "$(written)" -gt $((size0 + 200000)) ]; do sleep 0.02; done
kill -9 "$SA_PID"; wait "$SA_PID" 2>/dev/null || true
SA_PID=
kill "$clients" 2>/dev/null || true; wait "$clients" 2>/dev/null || true
start_sa
load e 50
stop_collector
res=$("$SOCKAUDIT" verify --key "$key" --anchor "$log.anchor" --allow-gaps "$log") ||
	fail "after kill -9 and a restart: $res"
[ "$(echo "$res" | grep -c '^GAP')" = 1 ] || echo "$res" | grep '^GAP' >&2
assert_eq "gaps after kill -9 (only the reset above)" 1 "$(echo "$res" | grep -c '^GAP')"
echo "after kill -9: $(echo "$res" | tail -n 1)"
assert_eq "usage error exit" 2 "$("$SOCKAUDIT" verify > /dev/null 2>&1; echo $?)"
echo "chain reset: $(echo "$res" | grep -m1 '^GAP')"

# An empty file after LOG.1 whose last record is the chain's head: a
# logrotate (move, create, SIGHUP), or a rotation cut short by a kill
# before the new file's first record. The new file starts with a rotate
# record (reason resume) and the set verifies as one chain, no gap.
log=$WORKDIR/lr/l.log
mkdir -p "$WORKDIR/lr"
sed -e "s|output_file: .*|output_file: $log|" -e '/compress:/d' "$WORKDIR/i.yaml" > "$WORKDIR/lr.yaml"
start_lr() {
	"$SOCKAUDIT" run -c "$WORKDIR/lr.yaml" --pid "$ngx" 2>>"$WORKDIR/collector.err" &
	SA_PID=$!
	for _ in $(seq 300); do grep -q '"collector_start"' "$log" 2>/dev/null && return 0; sleep 0.05; done
	fail "collector never started on $log"
}
start_lr
load f 20
for _ in $(seq 100); do [ "$(grep -c big.txt "$log")" -ge 20 ] && break; sleep 0.05; done
mv "$log" "$log.1"
kill -HUP "$SA_PID"	# logrotate's postrotate
for _ in $(seq 100); do grep -q '"config_reload"' "$log" 2>/dev/null && break; sleep 0.05; done
load g 20
stop_collector
grep -q '"type":"rotate","reason":"resume"' "$log" || fail "logrotate: no rotate record (reason resume) in the new file"
out=$("$SOCKAUDIT" verify --key "$key" "$log") || fail "logrotate with create and SIGHUP: $out"
case $out in OK*" 1 rotations"*" 0 gaps"*) ;; *) fail "logrotate: $out";; esac
# the same cut short by a kill: the rotated file in place, the new one empty
mv "$log.1" "$log.2"; mv "$log" "$log.1"; : > "$log"
start_lr
load h 20
stop_collector
out=$("$SOCKAUDIT" verify --key "$key" "$log") || fail "rotation cut short: $out"
case $out in OK*" 2 rotations"*" 0 gaps"*) ;; *) fail "rotation cut short: $out";; esac
echo "logrotate and a rotation cut short: $out"
