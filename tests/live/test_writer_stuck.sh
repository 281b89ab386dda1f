#!/usr/bin/env bash
# SIGTERM while a writer is stuck in I/O: a non-critical sink on a frozen
# file system (fsfreeze: its writer sleeps in the kernel where no signal
# reaches it) must not keep the collector from stopping. The critical log
# gets its collector_stop, the stuck sink is named on stderr with what it
# still held, all within a bound; once the file system thaws the process
# ends with status 1.
. "$(dirname "$0")/../lib/common.sh"
require_root
command -v fsfreeze >/dev/null && command -v mkfs.ext4 >/dev/null || skip "no fsfreeze or mkfs.ext4"
img=$WORKDIR/fs.img
mnt=$WORKDIR/frozen
mkdir -m 0700 "$mnt"
truncate -s 32M "$img"
mkfs.ext4 -q -F "$img"
mount -o loop "$img" "$mnt" || skip "cannot mount a loop device"
chmod 0700 "$mnt"
# thaw, let the collector end, then unmount
unfreeze() {
	fsfreeze -u "$mnt" 2>/dev/null || true
	[ -z "${SA_PID:-}" ] || { kill "$SA_PID" 2>/dev/null; wait "$SA_PID" 2>/dev/null; } || true
	SA_PID=
	umount "$mnt" 2>/dev/null || true
	cleanup
}
trap unfreeze EXIT
start_nginx
ngx=$NGINX_PID
cat > "$WORKDIR/c.yaml" <<CFG
auditing_plugins:
  - type: json_lines
    config: {output_file: $WORKDIR/main.log}
  - type: json_lines
    config: {output_file: $mnt/side.log, critical: false}
CFG
chmod 644 "$WORKDIR/c.yaml"
# raw_tp: the process exits at once after detaching (tracepoints take seconds)
start_collector "$WORKDIR/main.log" run -c "$WORKDIR/c.yaml" --attach raw_tp --pid "$ngx"
curl -s -o /dev/null "http://127.0.0.1:$port/before"
for _ in $(seq 200); do grep -q /before "$mnt/side.log" 2>/dev/null && break; sleep 0.025; done
grep -q /before "$mnt/side.log" || fail "no record in the side log before the freeze"

fsfreeze -f "$mnt"
# blocked_writer: a thread of the collector sleeping uninterruptibly (D)
blocked_writer() {
	local t
	for t in /proc/"$SA_PID"/task/*/stat; do
		[ "$(cut -d' ' -f3 "$t" 2>/dev/null)" = D ] && return 0
	done
	return 1
}
for i in $(seq 200); do
	curl -s -o /dev/null "http://127.0.0.1:$port/frozen-$i"
	blocked_writer && break
	sleep 0.025
done
blocked_writer || fail "the side writer never blocked on the frozen file system"

t0=$(date +%s%N)
kill -TERM "$SA_PID"
for _ in $(seq 400); do
	grep -q "side.log: its writer is stuck in I/O" "$WORKDIR/collector.err" &&
		[ "$(tail -n1 "$WORKDIR/main.log" | jq -r .type)" = collector_stop ] && break
	sleep 0.01
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
grep "stuck in I/O" "$WORKDIR/collector.err" || fail "no word of the stuck writer: $(cat "$WORKDIR/collector.err")"
assert_eq "the critical log's last record" collector_stop "$(tail -n1 "$WORKDIR/main.log" | jq -r .type)"
assert_eq "collector_stop reason" SIGTERM "$(tail -n1 "$WORKDIR/main.log" | jq -r .reason)"
echo "SIGTERM to the stuck writer left behind and collector_stop written: $ms ms"
[ "$ms" -lt 2000 ] || fail "the stop took $ms ms with a stuck writer"

fsfreeze -u "$mnt"
rc=0; wait "$SA_PID" || rc=$?
SA_PID=
assert_eq "exit status with a writer left behind" 1 "$rc"
assert_valid_jsonl "$WORKDIR/main.log"
echo ok
