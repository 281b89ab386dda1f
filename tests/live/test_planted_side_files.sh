#!/usr/bin/env bash
# Names planted beside the log by another user (nobody) in a sticky
# world-writable directory (like /tmp, accepted with allow_shared_directory):
# a FIFO, a symlink to a root file and a hard link at every side-file name
# (LOG.anchor, LOG.chain, LOG.chain.tmp, LOG.1, LOG.1.gz, LOG.2.gz, ...),
# before the start and again between rotations. A critical sink stops
# cleanly on a planted anchor; a non-critical one refuses each
# (naming it) or carries on past it, never writes through one, never hangs
# on a FIFO, and stops on SIGTERM within a second. The log itself planted
# (FIFO, symlink to a root file) is refused at once; so is the shared
# directory without allow_shared_directory.
. "$(dirname "$0")/../lib/common.sh"
require_root
id nobody > /dev/null 2>&1 || skip "no user nobody to plant files as"
start_nginx
ngx=$NGINX_PID
chmod 755 "$WORKDIR"
shared=$WORKDIR/shared
mkdir -m 1777 "$shared"
chmod 1777 "$shared"
log=$shared/a.log
key=$WORKDIR/k.key
victim=$WORKDIR/victim	# stands for a root file such as /etc/shadow
printf 'root:secret:0:0\n' > "$victim"
chmod 644 "$victim"
victim_sum=$(sha256sum < "$victim")
"$SOCKAUDIT" keygen "$key" > /dev/null

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
# plant KIND NAME: a fifo, a symlink to the victim, or a hard link to nobody's file
plant() {
	local p=$shared/$2
	case $1 in
	fifo) as_nobody mkfifo -m 666 "$p";;
	symlink) as_nobody ln -s "$victim" "$p";;
	hardlink) as_nobody sh -c "echo nobody > '$shared/.n.$2' && ln '$shared/.n.$2' '$p'";;
	esac
}
victim_unchanged() {
	assert_eq "victim bytes ($1)" "$victim_sum" "$(sha256sum < "$victim")"
	assert_eq "victim mode ($1)" "644 root" "$(stat -c '%a %U' "$victim")"
}
# stop_within_1s PID: SIGTERM, then the process is gone within a second
stop_within_1s() {
	kill -TERM "$1"
	for _ in $(seq 20); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$1" 2>/dev/null && fail "collector still running 1 s after SIGTERM"
	wait "$1" || true
}
config() {	# config FILE ALLOW [CRITICAL]: the shared directory accepted or not
	cat > "$1" <<CFG
auditing_plugins:
  - type: json_lines
    config:
      output_file: $log
      critical: ${3:-false}
      max_file_size_mb: 1
      backup_count: 4
      compress: true
      allow_shared_directory: $2
      integrity: {key_file: $key, checkpoint_every_records: 100, checkpoint_interval_s: 1}
CFG
	chmod 644 "$1"
}
config "$WORKDIR/no.yaml" false true
config "$WORKDIR/c.yaml" true
config "$WORKDIR/crit.yaml" true true

# without allow_shared_directory: refused, naming the key, nothing created
rc=0; timeout 10 "$SOCKAUDIT" run -c "$WORKDIR/no.yaml" --pid "$ngx" 2>"$WORKDIR/err" || rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "shared directory without the key: exit $rc"
grep -q "allow_shared_directory: true" "$WORKDIR/err" || fail "no reason given: $(cat "$WORKDIR/err")"
[ ! -e "$log" ] || fail "a refused start created the log"

# the log itself planted: refused at once, no hang, nothing written through
for kind in fifo symlink; do
	plant "$kind" a.log
	rc=0; timeout 10 "$SOCKAUDIT" run -c "$WORKDIR/crit.yaml" --pid "$ngx" 2>"$WORKDIR/err" || rc=$?
	[ $rc -ne 124 ] || fail "planted log ($kind): the collector hung"
	[ $rc -ne 0 ] || fail "planted log ($kind): accepted"
	grep -q "audit log $log is a .* owned by uid 65534 (nobody)" "$WORKDIR/err" ||
		fail "planted log ($kind): $(cat "$WORKDIR/err")"
	victim_unchanged "log planted as $kind"
	rm -f "$log"
done

# a critical sink whose anchor is a planted FIFO: a clean stop at its first
# checkpoint, naming the anchor in collector_stop; no hang, nothing written through
plant fifo a.log.anchor
rc=0
timeout 20 "$SOCKAUDIT" run -c "$WORKDIR/crit.yaml" --pid "$ngx" 2>"$WORKDIR/err" &
crit=$!
for _ in $(seq 100); do
	grep -q '"collector_start"' "$log" 2>/dev/null && break
	kill -0 "$crit" 2>/dev/null || break
	sleep 0.05
done
load() { curl -s -o /dev/null "http://127.0.0.1:$port/big.txt?r=$1&[1-$2]"; }
load crit 120	# past checkpoint_every_records: the checkpoint meets the FIFO
wait "$crit" || rc=$?
[ $rc -ne 124 ] || fail "critical sink, planted anchor: the collector hung"
[ $rc -ne 0 ] || fail "critical sink, planted anchor: exit 0"
grep '"collector_stop"' "$log" | grep -q "anchor file $log.anchor is a FIFO" ||
	fail "critical sink, planted anchor: collector_stop does not name it: $(cat "$WORKDIR/err")"
victim_unchanged "critical sink, planted anchor"
rm -f "$log" "$log".*

# every side file planted before the start
plant fifo a.log.anchor
plant symlink a.log.chain
plant hardlink a.log.chain.tmp
plant fifo a.log.1
plant symlink a.log.1.gz
plant hardlink a.log.2.gz
plant fifo a.log.3
"$SOCKAUDIT" run -c "$WORKDIR/c.yaml" --ringbuf-mb 64 --pid "$ngx" 2>"$WORKDIR/collector.err" &
SA_PID=$!
for _ in $(seq 300); do
	grep -q '"collector_start"' "$log" 2>/dev/null && break
	kill -0 "$SA_PID" 2>/dev/null || { cat "$WORKDIR/collector.err" >&2; fail "collector exited"; }
	sleep 0.05
done
grep -q '"collector_start"' "$log" || fail "collector never started"

# rotated_gz K: LOG.K.gz is a regular file (our compressed copy), not a planted name
rotated_gz() { [ -f "$log.$1.gz" ] && [ ! -L "$log.$1.gz" ]; }
# load_until_rotated K: requests until LOG.K.gz is ours, bounded
load_until_rotated() {
	local i
	for i in $(seq 40); do
		rotated_gz "$1" && return 0
		kill -0 "$SA_PID" 2>/dev/null || { cat "$WORKDIR/collector.err" >&2; fail "collector died"; }
		load "$1-$i" 200
	done
	fail "no rotation to $log.$1.gz"
}
load_until_rotated 1
victim_unchanged "first rotation"

# between rotations: planted again at the names the next ones use
rm -f "$shared/a.log.chain.tmp"
plant fifo a.log.chain.tmp
plant symlink a.log.1
plant hardlink a.log.3
plant fifo a.log.4.gz
load_until_rotated 2
# a checkpoint after the plants: the writer went past the FIFO at the anchor
n=$(grep -c '"type":"checkpoint"' "$log" || true)
for _ in $(seq 60); do
	[ "$(grep -c '"type":"checkpoint"' "$log" || true)" -gt "$n" ] && break
	load more 20
	sleep 0.05
done
[ "$(grep -c '"type":"checkpoint"' "$log" || true)" -gt "$n" ] || fail "no checkpoint after the plants"
kill -0 "$SA_PID" 2>/dev/null || fail "collector died"
stop_within_1s "$SA_PID"
SA_PID=

victim_unchanged "after the run"
grep -q '"collector_stop"' "$log" || fail "no collector_stop record"
grep -q "anchor file $log.anchor is a FIFO owned by uid 65534 (nobody)" "$WORKDIR/collector.err" ||
	fail "the planted anchor was not named: $(head -c 2000 "$WORKDIR/collector.err")"
[ -p "$log.anchor" ] || fail "the planted FIFO at the anchor was replaced"
# what is ours is a regular file with one link; what is nobody's was planted,
# maybe moved by a rotation, and holds what nobody wrote
for f in "$log" "$log".*; do
	case $(stat -c '%U' "$f") in
	root) assert_eq "$f" "1 regular" "$(stat -c '%h %F' "$f" | sed 's/ empty//; s/ file$//')";;
	nobody) [ -L "$f" ] || [ -p "$f" ] || assert_eq "$f (nobody's)" nobody "$(cat "$f")";;
	*) fail "$f: unexpected owner";;
	esac
done
gzip -t "$log.1.gz" "$log.2.gz" || fail "a compressed file is not gzip"
grep -q "chain state: file $log.chain is a symlink owned by uid 65534" "$WORKDIR/collector.err" ||
	fail "the planted chain state was not named"
echo "planted: log refused twice, side files refused or passed, victim unchanged, SIGTERM < 1 s"
