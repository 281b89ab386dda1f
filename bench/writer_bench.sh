#!/usr/bin/env bash
# Records/s written per flush mode, end to end through replay. One recorded nginx run
# (sockaudit record) is replayed ROUNDS times into a log per mode; replay
# has no kernel side, so the figure is the pipeline plus the writer with
# its fdatasync policy, on this machine's disk (WORKDIR; set TMPDIR to
# measure another file system).
#   REQUESTS=20000 ROUNDS=3 MODES="immediate batched hybrid" bench/writer_bench.sh
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
REQUESTS=${REQUESTS:-20000}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-"immediate batched hybrid"}
WORKDIR=$(mktemp -d "${TMPDIR:-/var/tmp}/sockaudit-wbench.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORKDIR"' EXIT
. "$(dirname "$0")/../tests/lib/nginx.sh"

port=$(free_port)
nginx_conf "$port"
nginx -c "$WORKDIR/nginx.conf" &
wait_port "$port"
ngx=$(cat "$WORKDIR/nginx.pid")
"$SOCKAUDIT" record "$WORKDIR/events" --pid "$ngx" --ringbuf-mb 64 -q &
rec=$!
sleep 1	# capture attached (record writes no audit log to wait on)
curl -s -o /dev/null "http://127.0.0.1:$port/index.html?[1-$REQUESTS]"
kill -INT "$rec"; wait "$rec"

for m in $MODES; do
	best=0
	for _ in $(seq "$ROUNDS"); do
		rm -f "$WORKDIR/$m.log"
		t0=$(date +%s.%N)
		"$SOCKAUDIT" replay "$WORKDIR/events" -o "$WORKDIR/$m.log" --flush-mode "$m" -q
		t1=$(date +%s.%N)
		n=$(wc -l < "$WORKDIR/$m.log")
		rps=$(echo "$n / ($t1 - $t0)" | bc -l)
		best=$(echo "if ($rps > $best) $rps else $best" | bc -l)
	done
	printf 'flush_mode %-10s %10.0f records/s (best of %d, %d records)\n' "$m" "$best" "$ROUNDS" "$n"
done
