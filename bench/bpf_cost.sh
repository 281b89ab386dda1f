#!/usr/bin/env bash
# The capture's own cost, read from the kernel (kernel.bpf_stats_enabled):
# nanoseconds per call of each of the collector's BPF programs and of all of
# them per nginx request, under wrk. CPU time inside the programs is much
# less sensitive to the rest of the machine than requests/s, so this is the
# figure that compares two builds when the throughput ratio is too noisy.
# On a loaded machine it is not noise-free either: a program preempted
# while it runs is charged the time it was off the CPU. So each run also
# reads the nginx worker's own CPU time per request (/proc/PID/schedstat:
# time on a CPU, nothing while it waits for one), which holds the programs
# that ran in its syscalls, and every round has an untraced run for the
# worker's cost without capture.
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
. "$here/bpf_stats.sh"

bpf_stats_on SA_PID NGINX_PID

port=$(free_port)
nginx_conf "$port" 1
nginx -c "$WORKDIR/nginx.conf" -e "$WORKDIR/logs/error.log" &
NGINX_PID=$!
wait_port "$port"
served() { sleep 1.2; wc -l < "$WORKDIR/logs/access.log"; }	# flush=1s

WORKER=$(pgrep -P "$NGINX_PID" | head -n 1)
oncpu() { awk '{ print $1 }' "/proc/$WORKER/schedstat"; }

# worker_run: wrk against nginx; prints "requests worker_cpu_ns"
worker_run() {
	local before after c0 c1
	before=$(served)
	c0=$(oncpu)
	wrk -t1 -c"$CONNS" -d"${DUR}s" "http://127.0.0.1:$port/" >/dev/null
	c1=$(oncpu)
	after=$(served)
	echo "$((after - before)) $((c1 - c0))"
}

# one_run BIN: prints "worker_cpu_ns_per_request total_bpf_ns_per_request
# syscall_programs_ns_per_request name:ns_per_call/calls_per_request ..."
one_run() {
	local bin=$1 log=$WORKDIR/audit.log ids s0 s1 req cpu
	SOCKAUDIT=$bin start_collector "$log" run --pid "$NGINX_PID" --attach tracepoint
	ids=$(sa_prog_ids "$SA_PID" | tr '\n' ' ')
	s0=$(prog_stats "${ids% }")
	read -r req cpu <<<"$(worker_run)"
	s1=$(prog_stats "${ids% }")
	stop_collector
	echo "$((cpu / req)) $(stats_per "$req" "$s0" "$s1")"
}

bins=("$SOCKAUDIT")
[ -z "$BASELINE" ] || bins+=("$BASELINE")
declare -A totals sys wcpu
for r in $(seq 1 "$ROUNDS"); do
	read -r req cpu <<<"$(worker_run)"
	wcpu[untraced]+="$((cpu / req)) "
	printf 'round %d %-8s nginx worker CPU ns per request %s\n' "$r" untraced "$((cpu / req))"
	order=("${!bins[@]}")
	# every other round the baseline goes first: no build always runs second
	[ $((r % 2)) = 1 ] || order=($(printf '%s\n' "${order[@]}" | tac))
	for i in "${order[@]}"; do
		name=new; [ "$i" = 0 ] || name=baseline
		read -r wc tot sc per <<<"$(one_run "${bins[$i]}")"
		wcpu[$name]+="$wc "
		totals[$name]+="$tot "
		sys[$name]+="$sc "
		printf 'round %d %-8s nginx worker CPU ns per request %s, BPF ns per request %s (syscall programs %s)   ns per call/calls per request: %s\n' \
			"$r" "$name" "$wc" "$tot" "$sc" "$per"
	done
done
echo "---"
for name in untraced new baseline; do
	[ -n "${wcpu[$name]:-}" ] || continue
	printf 'median %-8s nginx worker CPU ns per request %s (rounds: %s)\n' "$name" \
		"$(median ${wcpu[$name]})" "${wcpu[$name]% }"
	[ -n "${totals[$name]:-}" ] || continue
	printf 'median %-8s BPF ns per request %s, syscall programs %s (rounds: %s; syscall: %s)\n' "$name" \
		"$(median ${totals[$name]})" "$(median ${sys[$name]})" "${totals[$name]% }" "${sys[$name]% }"
done
