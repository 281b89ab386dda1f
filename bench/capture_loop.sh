#!/usr/bin/env bash
# The capture's BPF time per exchange without nginx, wrk or preemption:
# bench/capture_loop.c (one process, N nginx-shaped request/response pairs
# on one loopback connection) under SCHED_FIFO, audited by the collector,
# and bpf_stats of the collector's programs across the loop. bpf_cost.sh
# shares 2 vCPUs between nginx, wrk and the collector, and a preempted
# program is charged the time it was off the CPU; here the audited process
# is not preempted by them.
#   ROUNDS=8 PAIRS=10000 LOOP=build/bench/capture_loop
# BASELINE=/path/to/an/older/sockaudit: the same loop under it in every
# round, alternating which goes first. PAIRS stays small enough for the
# default ring buffer (four events per pair), so no event is lost.
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
here=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-8}
PAIRS=${PAIRS:-10000}
LOOP=${LOOP:-$here/../build/bench/capture_loop}
BASELINE=${BASELINE:-}
[ -x "$LOOP" ] || { echo "LOOP=$LOOP is not built: make build/bench/capture_loop" >&2; exit 1; }
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] ||
	{ echo "BASELINE=$BASELINE is not an executable sockaudit" >&2; exit 1; }
WORKDIR=$(mktemp -d /tmp/sockaudit-loop.XXXXXX)
. "$here/../tests/lib/nginx.sh"
. "$here/bpf_stats.sh"

bpf_stats_on SA_PID LOOP_PID

# one_run BIN: prints stats_per's line per pair
one_run() {
	local bin=$1 ids s0 s1 t
	rm -f "$WORKDIR/go" "$WORKDIR/out"
	chrt -f 50 "$LOOP" "$PAIRS" "$WORKDIR/go" > "$WORKDIR/out" &
	LOOP_PID=$!
	SOCKAUDIT=$bin start_collector "$WORKDIR/audit.log" run --pid "$LOOP_PID" --attach tracepoint
	ids=$(sa_prog_ids "$SA_PID" | tr '\n' ' ')
	s0=$(prog_stats "${ids% }")
	touch "$WORKDIR/go"
	for t in $(seq 1200); do
		grep -q done "$WORKDIR/out" 2>/dev/null && break
		sleep 0.05
	done
	s1=$(prog_stats "${ids% }")
	rm -f "$WORKDIR/go"
	wait "$LOOP_PID"
	LOOP_PID=
	grep -q done "$WORKDIR/out" || { echo "the loop did not finish" >&2; exit 1; }
	# the collector may have left with its last target: no stop_collector
	kill -INT "$SA_PID" 2>/dev/null || true
	wait "$SA_PID" || true
	SA_PID=
	stats_per "$PAIRS" "$s0" "$s1"
}

bins=("$SOCKAUDIT")
[ -z "$BASELINE" ] || bins+=("$BASELINE")
declare -A totals sys
for r in $(seq 1 "$ROUNDS"); do
	order=("${!bins[@]}")
	[ $((r % 2)) = 1 ] || order=($(printf '%s\n' "${order[@]}" | tac))
	for i in "${order[@]}"; do
		name=new; [ "$i" = 0 ] || name=baseline
		read -r tot sc per <<<"$(one_run "${bins[$i]}")"
		totals[$name]+="$tot "
		sys[$name]+="$sc "
		printf 'round %d %-8s BPF ns per exchange %s (syscall programs %s)   ns per call/calls per exchange: %s\n' \
			"$r" "$name" "$tot" "$sc" "$per"
	done
done
echo "---"
for name in new baseline; do
	[ -n "${totals[$name]:-}" ] || continue
	printf 'median %-8s BPF ns per exchange %s, syscall programs %s (rounds: %s; syscall: %s)\n' "$name" \
		"$(median ${totals[$name]})" "$(median ${sys[$name]})" "${totals[$name]% }" "${sys[$name]% }"
done
