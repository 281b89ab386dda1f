#!/usr/bin/env bash
# Every capture path: requests read with recv, read, readv and recvmsg (into
# several buffers) and recv after a MSG_PEEK (peeked bytes captured once);
# answers written with sendmsg (3 iovecs), writev (2 and 6), sendmmsg
# (2 messages) and sendfile (length only); and a 16 KiB capture size and
# budget (one chunk per syscall: the bytes past it are counted, not captured).
. "$(dirname "$0")/../lib/common.sh"
require_root
port=$(free_port)
log=$WORKDIR/audit.log
python3 "$LIB/../live/helpers/variants_server.py" "$port" "$WORKDIR" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
start_collector "$log" run --pid "$SRV" --max-capture 16384 --capture-budget 16384 \
	--body-excerpt 32768
for p in plain sendmsg writev writev6 mmsg sendfile big plain2 sendmsg2; do
	curl -sf "http://127.0.0.1:$port/$p" -o "$WORKDIR/$p.out"
done
stop_collector
q='[.[] | select(.type=="exchange")]'
# the sanitizer writes LF as the text \x0a
body() { jqlog "$log" "$q | map(select(.request.target==\"/$1\")) | .[0].response.body | rtrimstr(\"\\\\x0a\")"; }
assert_eq "exchanges" 9 "$(jqlog "$log" "$q | length")"
assert_eq "outcomes" '["ok"]' "$(jqlog "$log" "$q | map(.outcome) | unique | tojson")"
assert_eq "sendmsg body" "sendmsg-body" "$(body sendmsg)"
assert_eq "writev body" "writev-body" "$(body writev)"
assert_eq "writev, six iovecs" "writev6-body" "$(body writev6)"
assert_eq "sendmmsg body" "mmsg-body" "$(body mmsg)"
assert_eq "plain body" "plain-body" "$(body plain)"
assert_eq "sendfile length" 5000 "$(jqlog "$log" "$q | map(select(.request.target==\"/sendfile\")) | .[0].response.body_bytes")"
assert_eq "sendfile excerpt" "" "$(body sendfile)"
# one 20000-byte send: 16384 bytes captured (headers included), the rest counted
# below; the record itself is cut to max_message_length (10000) and says so
assert_eq "big record cut to max_message_length" true \
	"$(jqlog "$log" "$q | map(select(.request.target==\"/big\")) | .[0].truncated")"
assert_eq "big body length" 20000 "$(jqlog "$log" "$q | map(select(.request.target==\"/big\")) | .[0].response.body_bytes")"
trunc=$(jqlog "$log" '[.[] | select(.type=="loss" and .counter=="capture_truncated_bytes") | .count] | add')
# big: a 42-byte header and 20000 body bytes in one send
assert_eq "truncated bytes (sendfile 5000 + big 20042-16384)" $((5000 + 20042 - 16384)) "$trunc"
echo ok
