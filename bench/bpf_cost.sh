#!/usr/bin/env bash
# The capture's own cost, read from the kernel (kernel.bpf_stats_enabled):
# nanoseconds per call of each of the collector's BPF programs and of all of
# them per nginx request, under wrk. CPU time inside the programs is much
# less sensitive to the rest of the machine than requests/s, so this is the
# figure that compares two builds when the throughput ratio is too noisy.
#   ROUNDS=5 SECONDS_PER_RUN=4 CONNS=20
# BASELINE=/path/to/an/older/sockaudit runs it right after $SOCKAUDIT in every
# round (same nginx, same wrk) and prints both.
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
ROUNDS=${ROUNDS:-5}
DUR=${SECONDS_PER_RUN:-4}
CONNS=${CONNS:-20}
BASELINE=${BASELINE:-}
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] ||
	{ echo "BASELINE=$BASELINE is not an executable sockaudit" >&2; exit 1; }
WORKDIR=$(mktemp -d /tmp/sockaudit-bpfcost.XXXXXX)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/lib/nginx.sh"

stats_before=$(sysctl -n kernel.bpf_stats_enabled)
cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$stats_before" || true
	[ -n "${SA_PID:-}" ] && kill "$SA_PID" 2>/dev/null || true
	[ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORKDIR"
}
trap cleanup EXIT
sysctl -qw kernel.bpf_stats_enabled=1

port=$(free_port)
nginx_conf "$port" 1
nginx -c "$WORKDIR/nginx.conf" -e "$WORKDIR/logs/error.log" &
NGINX_PID=$!
wait_port "$port"
served() { sleep 1.2; wc -l < "$WORKDIR/logs/access.log"; }	# flush=1s

# bpftool here lists no pids: the collector's programs are the sa_* ids
# that appeared while it started.
sa_prog_ids() { bpftool -j prog show | jq -r '.[] | select(.name | startswith("sa_")) | .id' | sort; }
# prog_stats IDS: "name run_time_ns run_cnt" for each of those programs
prog_stats() {
	bpftool -j prog show | jq -r --arg ids "$1" '($ids | split(" ") | map(tonumber)) as $want
		| .[] | select(.id as $i | $want | index($i))
		| "\(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
}

# one_run BIN: prints "total_ns_per_request name:ns_per_call/calls_per_request ..."
one_run() {
	local bin=$1 log=$WORKDIR/audit.log before after ids0 ids
	ids0=$(sa_prog_ids)
	SOCKAUDIT=$bin start_collector "$log" run --pid "$NGINX_PID" --attach tracepoint
	ids=$(comm -13 <(echo "$ids0") <(sa_prog_ids) | tr '\n' ' ')
	before=$(served)
	local s0; s0=$(prog_stats "${ids% }")
	wrk -t1 -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$port/" >/dev/null
	local s1; s1=$(prog_stats "${ids% }")
	after=$(served)
	stop_collector
	join <(sort <<<"$s0") <(sort <<<"$s1") | awk -v req=$((after - before)) '
		{ ns = $4 - $2; n = $5 - $3; tot += ns
		  if (n > 0) per = per sprintf(" %s:%.0f/%.2f", $1, ns / n, n / req) }
		END { printf "%.0f%s\n", tot / req, per }'
}

bins=("$SOCKAUDIT")
[ -z "$BASELINE" ] || bins+=("$BASELINE")
declare -A totals
for r in $(seq 1 "$ROUNDS"); do
	order=("${!bins[@]}")
	# every other round the baseline goes first: no build always runs second
	[ $((r % 2)) = 1 ] || order=($(printf '%s\n' "${order[@]}" | tac))
	for i in "${order[@]}"; do
		name=new; [ "$i" = 0 ] || name=baseline
		line=$(one_run "${bins[$i]}")
		totals[$name]+="${line%% *} "
		printf 'round %d %-8s BPF ns per request %s   ns per call/calls per request:%s\n' "$r" "$name" "${line%% *}" "${line#* }"
	done
done
echo "---"
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for name in new baseline; do
	[ -n "${totals[$name]:-}" ] || continue
	printf 'median %-8s BPF ns per request %s (rounds: %s)\n' "$name" "$(median ${totals[$name]})" "${totals[$name]% }"
done
