#!/usr/bin/env bash
# The metrics endpoint under load (issue 18). nginx (one worker) audited at
# full load by wrk on loopback, and:
#  1. /healthz latency: a second wrk (1 thread, HEALTH_CONNS connections)
#     against the endpoint for HEALTH_SECONDS while the first saturates
#     nginx; p50, p99 and max (goal: p99 < 10 ms);
#  2. the nginx ratio, traced with the endpoint off and on (scraped once a
#     second, as Prometheus would), against untraced, alternating in the
#     same run (ROUNDS rounds of SECONDS_PER_RUN seconds), and the
#     collector's CPU time per exchange in each.
#   HEALTH_SECONDS=10 HEALTH_CONNS=4 ROUNDS=3 SECONDS_PER_RUN=5 CONNS=50
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
HEALTH_SECONDS=${HEALTH_SECONDS:-10}
HEALTH_CONNS=${HEALTH_CONNS:-4}
ROUNDS=${ROUNDS:-3}
DUR=${SECONDS_PER_RUN:-5}
CONNS=${CONNS:-50}
WORKDIR=$(mktemp -d /tmp/sockaudit-hbench.XXXXXX)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/lib/nginx.sh"
SCRAPER=

cleanup() {
	for p in ${SCRAPER:-} ${SA_PID:-} ${NGINX_PID:-}; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORKDIR"
}
trap cleanup EXIT

cat > "$WORKDIR/bench.yaml" <<YAML
auditing_plugins:
  - type: json_lines
    config: {output_file: $WORKDIR/audit.log, max_file_size_mb: 0}
YAML
port=$(free_port)
mport=$(free_port)
nginx_conf "$port" 1
nginx -c "$WORKDIR/nginx.conf" -e "$WORKDIR/logs/error.log" &
NGINX_PID=$!
wait_port "$port"

rps() { awk '/^Requests\/sec:/ { print $2 }'; }
# wrk's latency as milliseconds (it prints us, ms or s)
to_ms() { awk '{ v = $1 + 0; if ($1 ~ /us$/) v /= 1000; else if ($1 ~ /[0-9]s$/ && $1 !~ /ms$/) v *= 1000; printf "%.3f\n", v }'; }
traced() {	# traced ENDPOINT(on|off)
	local extra=()
	[ "$1" = on ] && extra=(--listen "127.0.0.1:$mport")
	rm -f "$WORKDIR"/audit.log*
	start_collector "$WORKDIR/audit.log" run --pid "$NGINX_PID" -c "$WORKDIR/bench.yaml" "${extra[@]}"
}

# ---- 1. /healthz latency at full load ----
traced on
wrk -t1 -c"$CONNS" -d"$((HEALTH_SECONDS + 1))s" "http://127.0.0.1:$port/" > "$WORKDIR/load.out" &
load=$!
sleep 0.5
wrk -t1 -c"$HEALTH_CONNS" -d"${HEALTH_SECONDS}s" --latency "http://127.0.0.1:$mport/healthz" \
	> "$WORKDIR/health.out"
wait "$load"
stop_collector
p50=$(awk '$1 == "50%" { print $2 }' "$WORKDIR/health.out" | to_ms)
p99=$(awk '$1 == "99%" { print $2 }' "$WORKDIR/health.out" | to_ms)
max=$(awk '$1 == "Latency" { print $4; exit }' "$WORKDIR/health.out" | to_ms)
non2xx=$(awk '/Non-2xx/ { print $NF }' "$WORKDIR/health.out")
printf '/healthz under load: %s req/s, p50 %s ms, p99 %s ms, max %s ms (goal p99 < 10 ms); non-2xx %s; nginx meanwhile %s req/s\n' \
	"$(rps < "$WORKDIR/health.out")" "$p50" "$p99" "$max" "${non2xx:-0}" "$(rps < "$WORKDIR/load.out")"

# ---- 2. nginx: untraced, traced endpoint off, traced endpoint on (scraped 1/s) ----
# The collector's CPU time (user + system, clock ticks) so far: a cost per
# exchange that the machine's other load disturbs less than requests/s.
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
declare -A sum cpu
sum[untraced]=0 sum[off]=0 sum[on]=0 cpu[off]=0 cpu[on]=0
for r in $(seq 1 "$ROUNDS"); do
	u=$(wrk -t1 -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$port/" | rps)
	sum[untraced]=$(echo "${sum[untraced]} + $u" | bc -l)
	line="round $r untraced $(printf '%.0f' "$u")"
	for m in off on; do
		traced $m
		if [ $m = on ]; then
			(while :; do curl -s -o /dev/null "http://127.0.0.1:$mport/metrics"; sleep 1; done) &
			SCRAPER=$!
		fi
		t=$(wrk -t1 -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$port/" | rps)
		[ -z "$SCRAPER" ] || { kill "$SCRAPER"; wait "$SCRAPER" 2>/dev/null || true; SCRAPER=; }
		ticks=$(cpu_ticks "$SA_PID")
		stop_collector
		n=$(grep -c '"type":"exchange"' "$WORKDIR/audit.log" || true)
		us=$(echo "$ticks * 1000000 / $HZ / ($n + 1)" | bc -l)
		sum[$m]=$(echo "${sum[$m]} + $t" | bc -l)
		cpu[$m]=$(echo "${cpu[$m]} + $us" | bc -l)
		line+=$(printf '  endpoint-%s %.0f (%.3f, collector %.1f us CPU/exchange)' "$m" "$t" \
			"$(echo "$t / $u" | bc -l)" "$us")
	done
	echo "$line"
done
printf 'ratio of means: endpoint off %.3f, endpoint on %.3f of untraced; on/off %.3f\n' \
	"$(echo "${sum[off]} / ${sum[untraced]}" | bc -l)" "$(echo "${sum[on]} / ${sum[untraced]}" | bc -l)" \
	"$(echo "${sum[on]} / ${sum[off]}" | bc -l)"
printf 'collector CPU per exchange, mean: endpoint off %.1f us, on %.1f us\n' \
	"$(echo "${cpu[off]} / $ROUNDS" | bc -l)" "$(echo "${cpu[on]} / $ROUNDS" | bc -l)"
