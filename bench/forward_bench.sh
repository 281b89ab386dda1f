#!/usr/bin/env bash
# Records/s shipped by the forwarder over RELP/TLS (mutual authentication)
# to a local rsyslog (Direct queue, omfile), for windows 128 and 1024: a
# log of N records made beforehand is shipped from its start (a new
# cursor), timed from the collector's start until rsyslog wrote them all.
# Then nginx under wrk, untraced / traced / traced and forwarded, in the
# same rounds (bench/nginx_wrk.sh, MODES="tracepoint forward").
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
N=${FWD_BENCH_RECORDS:-200000}
WORKDIR=$(mktemp -d /var/tmp/sockaudit-fwdbench.XXXXXX)
PIDS_TO_KILL=()
trap 'for p in "${PIDS_TO_KILL[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$WORKDIR"' EXIT
H=$(cd "$(dirname "$0")/../tests/live/helpers" && pwd)
. "$(dirname "$0")/../tests/lib/nginx.sh"
. "$H/relp_env.sh"
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
relp_certs "$WORKDIR/certs"
sleep 1000 &
TGT=$!
PIDS_TO_KILL+=("$TGT")
for win in 128 1024; do
	rport=$(free_port)
	R=$WORKDIR/rsyslog-$win
	rsyslog_conf "$R" "$rport"
	rsyslog_start "$R"
	mkdir -p "$WORKDIR/w$win"
	log=$WORKDIR/w$win/audit.log
	# records shaped like exchanges (~600 bytes), written before the start
	python3 - "$log" "$N" <<'PY'
import sys
body = '{"v":1,"seq":%d,"ts":"2026-12-03T21:00:00.000000000Z","type":"exchange","proc":{"pid":1,"comm":"bench"},"conn":{"id":"1:3:1","role":"server","transport":"tcp"},"proto":"http","outcome":"ok","duration_ms":0.4,"request":{"method":"GET","target":"/v1/items/%d","bytes":120,"body":"%s"},"response":{"status":200,"bytes":300},"redactions":[]}\n'
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(body % (i + 1, i, "x" * 200))
PY
	chmod 600 "$log"
	FWD_WINDOW=$win forward_cfg "$WORKDIR/f$win.yaml" "$log" "$rport" "      max_file_size_mb: 1024"
	t0=$(date +%s.%N)
	"$SOCKAUDIT" run -c "$WORKDIR/f$win.yaml" --pid "$TGT" 2>>"$WORKDIR/collector.err" &
	SA=$!
	PIDS_TO_KILL+=("$SA")
	# the cursor's ordinal: records rsyslog acknowledged (Direct queue: written)
	while [ "$(sed -n 's/^ordinal //p' "$log.fwd" 2>/dev/null || echo 0)" -lt "$N" ]; do sleep 0.02; done
	t1=$(date +%s.%N)
	# CPU used (user + system) by each side: a figure the machine's load does not scale
	cpu_sa=$(cpu_s "$SA")
	cpu_rs=$(cpu_s "$(cat "$R/pid")")
	kill -INT "$SA"; wait "$SA" || true
	[ "$(wc -l < "$R/received.log")" -ge "$N" ] || { echo "rsyslog wrote fewer than $N records"; exit 1; }
	echo "window $win: $N records in $(echo "$t1 - $t0" | bc) s = $(echo "$N / ($t1 - $t0)" | bc) records/s (collector start included); CPU: collector $cpu_sa s ($(echo "$cpu_sa * 1000000 / $N" | bc) us/record), rsyslog $cpu_rs s ($(echo "$cpu_rs * 1000000 / $N" | bc) us/record); load $(cut -d' ' -f1 /proc/loadavg)"
	rsyslog_kill9 "$R"
done

# nginx: forwarding on vs off in the same rounds (FWD_BENCH_NGINX=0: skip)
[ "${FWD_BENCH_NGINX:-1}" = 1 ] || exit 0
rport=$(free_port)
R=$WORKDIR/rsyslog-nginx
rsyslog_conf "$R" "$rport"
rsyslog_start "$R"
# the same sink as nginx_wrk.sh's own config (no rotation, immediate), plus forward
forward_cfg "$WORKDIR/nginx-fwd.yaml" "$WORKDIR/unused.log" "$rport" "      max_file_size_mb: 0
      flush_mode: immediate"
ROUNDS=${ROUNDS:-3} MODES="tracepoint forward" FWD_CONFIG=$WORKDIR/nginx-fwd.yaml \
	"$(dirname "$0")/nginx_wrk.sh"
echo "rsyslog received $(wc -l < "$R/received.log") records from the forward rounds"
