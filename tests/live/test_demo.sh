#!/usr/bin/env bash
# `make demo` as a test: demo/run.sh run exactly as the Makefile runs it
# (SOCKAUDIT=build/sockaudit demo/run.sh), with its own LOG. Fails when the
# script fails or reports no exchange. A second run appended to the same log
# must summarize only its own records (the run is chosen by its run_id, not
# by the shape of a member).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
require_root
repo=$(cd "$here/../.." && pwd)
LOG=$WORKDIR/demo/audit.log

# field NAME OUTPUT: the value after "NAME: " in the summary
field() { printf '%s\n' "$2" | sed -n "s/^$1: //p" | tail -n 1; }

run_demo() {
	local out rc=0
	out=$(SOCKAUDIT=$SOCKAUDIT LOG=$LOG "$repo/demo/run.sh" 2>&1) || rc=$?
	[ "$rc" = 0 ] || { printf '%s\n' "$out" | tail -n 20 >&2; fail "demo/run.sh exited $rc"; }
	printf '%s\n' "$out"
}

check_summary() {
	local out=$1 id n ex by_status
	assert_eq "log path line" "$LOG" "$(field 'audit log' "$out")"
	id=$(field run_id "$out")
	[[ $id =~ ^[0-9a-f]{32}$ ]] || fail "summary has no run_id line (got '$id')"
	ex=$(field 'exchange records' "$out")
	assert_ge "exchange records reported" 1 "${ex:-0}"
	# the client sends 200 requests (client.py); each is one exchange
	assert_eq "exchange records reported" 200 "$ex"
	printf '%s\n' "$out" | grep -Eq '^duration_ms: p50 [0-9.]+, p99 [0-9.]+$' \
		|| fail "no p50/p99 line in the summary"
	printf '%s\n' "$out" | grep -Eq '^loss records: [0-9]+$' || fail "no loss records line"
	# the figures are this run's: count them in the log by run_id ourselves
	n=$(jq -s --arg id "$id" '
		(map(.type == "collector_start" and .run_id == $id) | index(true)) as $i
		| (map(.type == "collector_stop" and .run_id == $id) | index(true)) as $j
		| if $i == null or $j == null then -1 else $j - $i + 1 end' "$LOG")
	assert_ge "this run's start and stop in the log" 1 "$n"
	assert_eq "records written by this run" "$n" "$(field 'records written by this run' "$out")"
	by_status=$(printf '%s\n' "$out" | sed -n 's/^  [0-9a-z]*: //p' | paste -sd+ | bc)
	assert_eq "exchanges by status add up" "$ex" "$by_status"
}

first=$(run_demo)
check_summary "$first"
id1=$(field run_id "$first")

# a second run appends to the same log: its summary covers its own run only
second=$(run_demo)
check_summary "$second"
id2=$(field run_id "$second")
[ "$id1" != "$id2" ] || fail "two runs got the same run_id $id1"
assert_eq "collector_start records in the shared log" 2 \
	"$(jqlog "$LOG" '[.[] | select(.type == "collector_start")] | length')"
echo "ok: demo runs ($id1, $id2), 200 exchanges each, each summary its own run"
