#!/usr/bin/env bash
# `record` saves the raw kernel events while auditing; `replay` feeds them
# through the same pipeline without BPF and writes the same exchanges.
. "$(dirname "$0")/../lib/common.sh"
require_root
start_nginx
live=$WORKDIR/live.log
start_collector "$live" record "$WORKDIR/events.rec" --pid "$NGINX_PID"
python3 "$LIB/../live/helpers/keepalive_client.py" "$port" 200 10 >/dev/null
stop_collector
"$SOCKAUDIT" replay "$WORKDIR/events.rec" -o "$WORKDIR/replay.log" 2>/dev/null
"$SOCKAUDIT" replay "$WORKDIR/events.rec" -o "$WORKDIR/replay2.log" 2>/dev/null
q='[.[] | select(.type=="exchange")]'
assert_eq "live exchanges" 200 "$(jqlog "$live" "$q | length")"
assert_eq "replayed exchanges" 200 "$(jqlog "$WORKDIR/replay.log" "$q | length")"
strip='[.[] | select(.type=="exchange") | del(.seq, .proc.exe)] | sort_by(.request.ts) | tojson'
assert_eq "replay matches live" "$(jqlog "$live" "$strip")" "$(jqlog "$WORKDIR/replay.log" "$strip")"
assert_eq "replay is deterministic" "$(cat "$WORKDIR/replay.log")" "$(cat "$WORKDIR/replay2.log")"
# a damaged file: a clear error, the events before the damage still replayed
head -c -100 "$WORKDIR/events.rec" > "$WORKDIR/cut.rec"
rc=0
"$SOCKAUDIT" replay "$WORKDIR/cut.rec" -o "$WORKDIR/cut.log" 2>"$WORKDIR/cut.err" || rc=$?
assert_eq "cut file exit" 1 "$rc"
grep -q "truncated" "$WORKDIR/cut.err" || fail "no truncation message: $(cat "$WORKDIR/cut.err")"
assert_ge "exchanges before the cut" 190 "$(jqlog "$WORKDIR/cut.log" "$q | length")"
echo "not an event file" > "$WORKDIR/bad.rec"
rc=0
"$SOCKAUDIT" replay "$WORKDIR/bad.rec" -o "$WORKDIR/bad.log" 2>"$WORKDIR/bad.err" || rc=$?
assert_eq "bad file exit" 1 "$rc"
grep -q "not a sockaudit event file" "$WORKDIR/bad.err" || fail "bad header message: $(cat "$WORKDIR/bad.err")"
echo ok
