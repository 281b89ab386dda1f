#!/usr/bin/env bash
# Collector CPU per exchange on its own: a recorded nginx run (sockaudit
# record, under wrk) replayed through the whole userspace path (parse,
# correlate, prepare, render, write) with the default config and with
# `integrity` on. CPU is task-clock of all threads (perf stat), the best of
# ROUNDS; a replay of a one-request recording is subtracted for start-up
# (the Hyperscan compile, config, threads). Then the replay rate on one core
# (taskset -c 0): events per second of wall time, start-up subtracted the
# same way. CALLGRIND=1 adds instructions per exchange (valgrind, slow);
# BASELINE=<older sockaudit> runs the same recording through it too, first.
#   SOCKAUDIT=build/sockaudit [EVENTS=file] [KEEP_EVENTS=file] [SECONDS_WRK=8] [ROUNDS=5]
#   [CALLGRIND=1] [BASELINE=old/sockaudit] bench/replay_cost.sh
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
ROUNDS=${ROUNDS:-5}
SECONDS_WRK=${SECONDS_WRK:-8}
WORKDIR=$(mktemp -d "${TMPDIR:-/var/tmp}/sockaudit-rcost.XXXXXX")
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORKDIR"' EXIT
. "$(dirname "$0")/../tests/lib/nginx.sh"

# record_nginx FILE CMD...: the events of nginx while CMD runs against it
record_nginx() {
	local out=$1 port ngx rec
	shift
	port=$(free_port)
	nginx_conf "$port"
	nginx -c "$WORKDIR/nginx.conf" &
	wait_port "$port"
	ngx=$(cat "$WORKDIR/nginx.pid")
	# recorded by BASELINE when set: an older build may not read a newer
	# event file, and every build reads the older versions
	"${BASELINE:-$SOCKAUDIT}" record "$out" --pid "$ngx" --ringbuf-mb 64 -q &
	rec=$!
	sleep 1	# capture attached (record writes no audit log to wait on)
	"$@" "http://127.0.0.1:$port/index.html" > /dev/null
	kill -INT "$rec"; wait "$rec"
	kill "$ngx"; wait 2>/dev/null || true
}

# KEEP_EVENTS=FILE: record into FILE and keep it (to replay it with another build: EVENTS=FILE)
events=${EVENTS:-}
if [ -z "$events" ]; then
	events=${KEEP_EVENTS:-$WORKDIR/events}
	record_nginx "$events" wrk -t1 -c8 -d"${SECONDS_WRK}s"
fi
record_nginx "$WORKDIR/one" curl -s
"$SOCKAUDIT" keygen "$WORKDIR/key" > /dev/null

config() {	# config NAME [integrity]
	{
		echo "auditing_plugins:"
		echo "  - type: json_lines"
		echo "    config:"
		echo "      output_file: $WORKDIR/$1.log"
		echo "      max_file_size_mb: 0"	# the count below needs every record in one file
		if [ "${2:-}" ]; then echo "      integrity: {key_file: $WORKDIR/key}"; fi
	} > "$WORKDIR/$1.yaml"
}

# cpu_ms BIN EVENTS NAME: task-clock in ms of one replay into a fresh log
cpu_ms() {
	rm -f "$WORKDIR/$3.log" "$WORKDIR/$3.log."*
	perf stat -x, -e task-clock -o "$WORKDIR/stat" \
		"$1" replay "$2" -c "$WORKDIR/$3.yaml" -q
	awk -F, '/task-clock/ { print $1 }' "$WORKDIR/stat"
}

# stages CALLGRIND_OUT N: the main thread's instructions per exchange by
# stage, from inclusive costs: HTTP parsing (the parser without what its
# message callback does), protocol glue + correlator + dispatch (what is left
# of pipeline__event), output (prepare + render + batch). Function names of
# builds before the output module (on_exchange) are read too, for BASELINE.
stages() {
	callgrind_annotate --inclusive=yes "$1" 2>/dev/null > "$WORKDIR/incl"
	fn() { awk -v f="$1" '$0 ~ ":" f " \\[" { gsub(",", "", $1); print $1; exit }' "$WORKDIR/incl"; }
	local ev feed cb out
	ev=$(fn pipeline__event); feed=$(fn http_parser__feed); cb=$(fn http_on_message)
	out=$(fn output__exchange); [ -n "$out" ] || out=$(fn on_exchange)
	printf 'replay stages  %6d parse  %6d correlate+dispatch  %6d output  (instructions per exchange, main thread)\n' \
		$(( (feed - ${cb:-0}) / $2 )) $(( (ev - (feed - ${cb:-0}) - out) / $2 )) $(( out / $2 ))
}

# wall_ms BIN EVENTS NAME: wall-clock ms of one replay on one core (CPU 0)
wall_ms() {
	local t0 t1
	rm -f "$WORKDIR/$3.log" "$WORKDIR/$3.log."*
	t0=$(date +%s%N)
	taskset -c 0 "$1" replay "$2" -c "$WORKDIR/$3.yaml" -q
	t1=$(date +%s%N)
	echo "($t1 - $t0) / 1000000" | bc -l
}

# events FILE: events a replay of FILE reads (its own count, at the end)
events() {
	rm -f "$WORKDIR/count.log"*
	"$SOCKAUDIT" replay "$1" -o "$WORKDIR/count.log" 2>&1 |
		sed -n 's/.*replay end): \([0-9]*\) events.*/\1/p'
}

# min_of CMD...: the smallest of ROUNDS outputs of CMD
min_of() {
	local best= t
	for _ in $(seq "$ROUNDS"); do
		t=$("$@")
		if [ -z "$best" ] || (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
	done
	echo "$best"
}

ir() {	# ir BIN EVENTS NAME: instructions of one replay (callgrind)
	rm -f "$WORKDIR/$3.log" "$WORKDIR/$3.log."*
	valgrind --tool=callgrind --callgrind-out-file="$WORKDIR/cg" -q \
		"$1" replay "$2" -c "$WORKDIR/$3.yaml" -q
	callgrind_annotate "$WORKDIR/cg" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}

nev=$(events "$events")
nev_one=$(events "$WORKDIR/one")
for bin in ${BASELINE:+"$BASELINE"} "$SOCKAUDIT"; do
	[ -n "${BASELINE:-}" ] && echo "-- $bin"
	for mode in default integrity; do
		config "$mode" "$([ $mode = integrity ] && echo 1 || true)"
		base=$(min_of cpu_ms "$bin" "$WORKDIR/one" "$mode")
		best=$(min_of cpu_ms "$bin" "$events" "$mode")
		n=$(grep -c '"type":"exchange"' "$WORKDIR/$mode.log")
		printf 'replay %-9s %8d exchanges  %6.3f us CPU per exchange (best of %d, start-up %.0f ms subtracted)\n' \
			"$mode" "$n" "$(echo "($best - $base) * 1000 / $n" | bc -l)" "$ROUNDS" "$base"
		if [ "${CALLGRIND:-}" = 1 ]; then
			a=$(ir "$bin" "$events" "$mode"); cp "$WORKDIR/cg" "$WORKDIR/cg.events"
			b=$(ir "$bin" "$WORKDIR/one" "$mode")
			printf 'replay %-9s %8d exchanges  %8.0f instructions per exchange (callgrind, start-up subtracted)\n' \
				"$mode" "$n" "$(echo "($a - $b) / $n" | bc -l)"
			[ "$mode" = default ] && stages "$WORKDIR/cg.events" "$n"
		fi
	done
	wb=$(min_of wall_ms "$bin" "$WORKDIR/one" default)
	wa=$(min_of wall_ms "$bin" "$events" default)
	printf 'replay on one core  %8d events  %9.0f events/s (default config, wall clock, best of %d, start-up %.0f ms subtracted)\n' \
		"$nev" "$(echo "($nev - $nev_one) * 1000 / ($wa - $wb)" | bc -l)" "$ROUNDS" "$wb"
done
