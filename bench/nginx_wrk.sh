#!/usr/bin/env bash
# nginx (one worker) under wrk on loopback: untraced and traced, alternating
# in the same run. Prints requests/s of each, the traced/untraced ratio and
# records written vs requests served (nginx's access log counts them).
#   ROUNDS=5 SECONDS_PER_RUN=5 CONNS=50 MODES="tracepoint raw_tp wakeup"
# (wakeup: tracepoint mode with a reader wakeup for every event, to compare)
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
ROUNDS=${ROUNDS:-5}
DUR=${SECONDS_PER_RUN:-5}
CONNS=${CONNS:-50}
MODES=${MODES:-"tracepoint raw_tp wakeup"}
EXTRA=${EXTRA:-}
CONFIG=${CONFIG:-}	# a sockaudit YAML config (-c); -o still names the log
WORKDIR=$(mktemp -d /tmp/sockaudit-bench.XXXXXX)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/lib/nginx.sh"

cleanup() {
	[ -n "${SA_PID:-}" ] && kill "$SA_PID" 2>/dev/null || true
	[ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORKDIR"
}
trap cleanup EXIT

# Unless CONFIG says otherwise: one sink that never rotates during the run
# (the default rotation at 10 MB with 5 backups would delete records the
# count below needs), flush mode FLUSH (immediate by default).
if [ -z "$CONFIG" ]; then
	CONFIG=$WORKDIR/bench.yaml
	cat > "$CONFIG" <<YAML
auditing_plugins:
  - type: json_lines
    config:
      output_file: $WORKDIR/audit.log
      max_file_size_mb: 0
      flush_mode: ${FLUSH:-immediate}
YAML
fi

port=$(free_port)
nginx_conf "$port" 1
nginx -c "$WORKDIR/nginx.conf" -e "$WORKDIR/logs/error.log" &
NGINX_PID=$!
wait_port "$port"

served() { sleep 1.2; wc -l < "$WORKDIR/logs/access.log"; }	# flush=1s
rps() { awk '/^Requests\/sec:/ { print $2 }'; }

run_wrk() { wrk -t1 -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$port/" ; }

declare -A sum_rps ratios
sum_rps[untraced]=0
for m in $MODES; do sum_rps[$m]=0; done
report=""
for r in $(seq 1 "$ROUNDS"); do
	before=$(served)
	u=$(run_wrk | rps)
	sum_rps[untraced]=$(echo "${sum_rps[untraced]} + $u" | bc -l)
	report+=$(printf 'round %d untraced   %10.0f req/s\n' "$r" "$u")$'\n'
	for m in $MODES; do
		log="$WORKDIR/audit-$m.log"
		case $m in
		wakeup) args="--attach tracepoint --wakeup-bytes 1";;
		*) args="--attach $m";;
		esac
		rm -f "$log"*
		start_collector "$log" run --pid "$NGINX_PID" $args ${CONFIG:+-c "$CONFIG"} $EXTRA
		before=$(served)
		t=$(run_wrk | rps)
		after=$(served)
		stop_collector
		# rotated files (LOG.N, LOG.N.gz) hold records too
		recs=$(zcat -f "$log"* | grep -c '"type":"exchange"' || true)
		lost=$( (zcat -f "$log"* | grep '"type":"loss"' || true) | jq -s 'map(.count) | add // 0')
		sum_rps[$m]=$(echo "${sum_rps[$m]} + $t" | bc -l)
		ratios[$m]+="$(echo "$t / $u" | bc -l) "
		report+=$(printf 'round %d %-10s %10.0f req/s  ratio %.3f  records %d / served %d  loss records total %s\n' \
			"$r" "$m" "$t" "$(echo "$t / $u" | bc -l)" "$recs" "$((after - before))" "$lost")$'\n'
	done
done
printf '%s' "$report"
echo "---"
printf 'mean untraced   %10.0f req/s\n' "$(echo "${sum_rps[untraced]} / $ROUNDS" | bc -l)"
for m in $MODES; do
	median=$(printf '%s\n' ${ratios[$m]} | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	printf 'mean %-10s %10.0f req/s  ratio of means %.3f  median ratio %.3f\n' "$m" \
		"$(echo "${sum_rps[$m]} / $ROUNDS" | bc -l)" \
		"$(echo "${sum_rps[$m]} / ${sum_rps[untraced]}" | bc -l)" "$median"
done
