#!/usr/bin/env bash
# `python3 -m http.server` started by `sockaudit exec`, queried by curl:
# GET, HEAD, 404, and a file larger than one capture; exec passes on the
# command's exit status.
. "$(dirname "$0")/../lib/common.sh"
require_root
port=$(free_port)
mkdir -p "$WORKDIR/site"
echo "small file" > "$WORKDIR/site/small.txt"
head -c 20000 /dev/zero | tr '\0' 'a' > "$WORKDIR/site/big.txt"
log=$WORKDIR/audit.log
cd "$WORKDIR/site"
"$SOCKAUDIT" exec -o "$log" -- python3 -m http.server "$port" --bind 127.0.0.1 >"$WORKDIR/out" 2>&1 &
SA_PID=$!
wait_port "$port" 200
curl -sf "http://127.0.0.1:$port/small.txt" >/dev/null
curl -sf -I "http://127.0.0.1:$port/small.txt" >/dev/null
curl -s "http://127.0.0.1:$port/missing" >/dev/null
curl -sf "http://127.0.0.1:$port/big.txt" >/dev/null
kill -TERM "$(pgrep -P "$SA_PID")"
status=0
wait "$SA_PID" || status=$?
SA_PID=
assert_valid_jsonl "$log"
q='[.[] | select(.type=="exchange")]'
assert_eq "exchanges" 4 "$(jqlog "$log" "$q | length")"
assert_eq "GET small" "200 small file" "$(jqlog "$log" "$q | map(select(.request.method==\"GET\" and .request.target==\"/small.txt\")) | .[0] | \"\(.response.status) \(.response.body | rtrimstr(\"\\\\x0a\"))\"")"
assert_eq "HEAD has no body" "200 0" "$(jqlog "$log" "$q | map(select(.request.method==\"HEAD\")) | .[0] | \"\(.response.status) \(.response.body_bytes)\"")"
assert_eq "404" 404 "$(jqlog "$log" "$q | map(select(.request.target==\"/missing\")) | .[0].response.status")"
assert_eq "big body length" 20000 "$(jqlog "$log" "$q | map(select(.request.target==\"/big.txt\")) | .[0].response.body_bytes")"
assert_eq "big body cut" true "$(jqlog "$log" "$q | map(select(.request.target==\"/big.txt\")) | .[0].response.body_truncated")"
assert_eq "python exe" python3 "$(jqlog "$log" "$q | .[0].proc.comm")"
# SIGTERM to python: exec passes on 128+15
assert_eq "exec exit status" 143 "$status"
echo "ok"
