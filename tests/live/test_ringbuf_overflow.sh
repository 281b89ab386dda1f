#!/usr/bin/env bash
# The ring buffer overflowed on purpose (1 MiB, 32 KiB chunks, 16 connections
# of 32 KB POSTs to nginx): every lost byte range is known per connection
# and direction, so the exchanges it touches are marked, and the others are
# whole. Lost exchanges (served requests without a record holding their
# method, target and status) stay at about one per lost event at most.
#   OVERFLOW_CONNS=16 OVERFLOW_PER_CONN=1250 (20,000 exchanges)
. "$(dirname "$0")/../lib/common.sh"
require_root
CONNS=${OVERFLOW_CONNS:-16}
PER_CONN=${OVERFLOW_PER_CONN:-1250}
N=$((CONNS * PER_CONN))
start_nginx
log=$WORKDIR/audit.log
start_collector "$log" run --pid "$NGINX_PID" --ringbuf-mb 1 --max-capture 32768 \
	--max-pending-per-conn 100000
served=$(python3 "$LIB/../live/helpers/post_flood.py" "$port" "$CONNS" "$PER_CONN" 32768)
stop_collector
assert_eq "answers" "$N" "$served"
# 20,000 records rotate the log (10 MB): read it with its backups
all=$WORKDIR/all.jsonl
for f in "$log"*; do zcat -f "$f"; done > "$all"
log=$all
q='[.[] | select(.type=="exchange")]'
whole=$(jqlog "$log" "$q | map(select(.request.method==\"POST\" and .request.target==\"/echo\" and .response.status==200)) | length")
lost_events=$(jqlog "$log" '[.[] | select(.type=="loss" and .counter=="ringbuf_full_events") | .count] | add // 0')
no_request=$(jqlog "$log" "$q | map(select(.outcome==\"no_request\")) | length")
marked=$(jqlog "$log" "$q | map(select(.outcome==\"incomplete\" or (.request.lost_bytes // 0) > 0 or (.response.lost_bytes // 0) > 0)) | length")
lost=$((N - whole))
echo "exchanges $N, whole $whole, lost $lost, lost events $lost_events, no_request $no_request, marked with lost bytes $marked"
# the point of the test is an overflow: without one it proves nothing
assert_ge "ring buffer overflows (lost events)" 1 "$lost_events"
# userspace sees every lost range as a gap of exactly its size, and no gap
# the kernel did not lose (a lost close event can hide a connection's last
# range: at most what the kernel counted)
lost_bytes=$(jqlog "$log" '[.[] | select(.type=="loss" and .counter=="ringbuf_full_bytes") | .count] | add // 0')
gap_bytes=$(jqlog "$log" '[.[] | select(.type=="loss" and .counter=="stream_gap_bytes") | .count] | add // 0')
echo "kernel lost $lost_bytes payload bytes, userspace saw $gap_bytes in gaps"
[ "$gap_bytes" -le "$lost_bytes" ] || fail "gaps of $gap_bytes bytes, more than the $lost_bytes lost"
assert_ge "gap bytes seen" 1 "$gap_bytes"
# about one lost exchange per lost event at most: a lost event hides at most
# the message(s) it held, the parser resynchronises at the next one
[ "$lost" -le $((lost_events + lost_events / 5 + 10)) ] ||
	fail "$lost exchanges lost for $lost_events lost events (more than about one each)"
echo ok
