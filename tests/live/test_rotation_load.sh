#!/usr/bin/env bash
# Rotation under load: every exchange is in exactly one file (none lost,
# none split), every new file starts with a rotate record, rotated files
# are gzip (checked with zcat). Then kill -9 during heavy writing: the log
# holds whole lines, and a restart cuts a torn tail.
. "$(dirname "$0")/../lib/common.sh"
require_root
start_nginx
ngx=$NGINX_PID
log=$WORKDIR/r.log
cat > "$WORKDIR/r.yaml" <<CFG
auditing_plugins:
  - type: json_lines
    config: {output_file: $log, max_file_size_mb: 1, backup_count: 100, compress: true}
CFG
chmod 644 "$WORKDIR/r.yaml"
start_collector "$log" run -c "$WORKDIR/r.yaml" --ringbuf-mb 64 --pid "$ngx"
n=4000
clients=()
for c in 1 2; do curl -s -o /dev/null "http://127.0.0.1:$port/index.html?c=$c&[1-$n]" & clients+=($!); done
wait "${clients[@]}"
stop_collector
ls "$log".*.gz >/dev/null 2>&1 || fail "no compressed rotated file"
ls "$log".[0-9]* | grep -v '\.gz$' && fail "uncompressed rotated files left"
all=$WORKDIR/all.jsonl
{ for f in $(ls "$log".*.gz | sort -t. -k3 -n -r); do zcat "$f"; done; cat "$log"; } > "$all"
assert_valid_jsonl "$all"
assert_eq "loss records (capture kept up)" 0 "$(grep -c '"type":"loss"' "$all" || true)"
assert_eq "exchanges across all files" $((2 * n)) "$(grep -c '"type":"exchange"' "$all")"
for f in $(ls "$log".*.gz | sort -t. -k3 -n | head -n -1); do
	assert_eq "first record of $f" rotate "$(zcat "$f" | head -n1 | jq -r .type)"
done
assert_eq "first record of $log" rotate "$(head -n1 "$log" | jq -r .type)"

# kill -9 while writing hard
klog=$WORKDIR/k.log
start_collector "$klog" run --pid "$ngx"
clients=()
for c in 1 2; do curl -s -o /dev/null "http://127.0.0.1:$port/big.txt?k=$c&[1-20000]" & clients+=($!); done
until [ "$(wc -c < "$klog")" -gt 2000000 ]; do kill -0 "$SA_PID" || fail "collector died"; sleep 0.05; done
kill -9 "$SA_PID"; wait "$SA_PID" 2>/dev/null || true
SA_PID=
kill "${clients[@]}" 2>/dev/null || true
# every complete line is a whole record; the kernel may have cut the last write()
lines=$(wc -l < "$klog")
head -n "$lines" "$klog" | jq -c type > /dev/null || fail "a broken line after kill -9"
# a restart cuts a torn tail, so the next record starts on a line of its own
"$SOCKAUDIT" exec -o "$klog" -- true 2>/dev/null
assert_valid_jsonl "$klog"
