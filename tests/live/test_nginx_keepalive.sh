#!/usr/bin/env bash
# nginx under `sockaudit run --pid`: 1000 keep-alive requests over 50
# concurrent connections give exactly 1000 exchange records with the right
# method, path and status, a positive duration, and no loss.
. "$(dirname "$0")/../lib/common.sh"
require_root
start_nginx
log=$WORKDIR/audit.log
start_collector "$log" run --pid "$NGINX_PID"
expected=$(python3 "$LIB/../live/helpers/keepalive_client.py" "$port" 1000 50)
stop_collector
assert_valid_jsonl "$log"
assert_eq "exchange records" 1000 "$(jqlog "$log" '[.[] | select(.type=="exchange")] | length')"
assert_eq "outcomes" '["ok"]' "$(jqlog "$log" '[.[] | select(.type=="exchange") | .outcome] | unique | tojson')"
assert_eq "non-positive durations" 0 "$(jqlog "$log" '[.[] | select(.type=="exchange" and (.duration_ms <= 0))] | length')"
actual=$(jqlog "$log" '[.[] | select(.type=="exchange") | "\(.request.method) \(.request.target) \(.response.status)"]
	| group_by(.) | map({(.[0]): length}) | add | tojson')
assert_eq "method/path/status counts" "$(echo "$expected" | jq -S -c .)" "$(echo "$actual" | jq -S -c .)"
assert_eq "connections" 50 "$(jqlog "$log" '[.[] | select(.type=="exchange") | .conn.id] | unique | length')"
assert_eq "roles" '["server"]' "$(jqlog "$log" '[.[] | select(.type=="exchange") | .conn.role] | unique | tojson')"
assert_eq "local address" "127.0.0.1:$port" "$(jqlog "$log" '[.[] | select(.type=="exchange") | .conn.local] | unique | .[0]')"
assert_eq "POST bodies" '{"x": 1}' "$(jqlog "$log" '[.[] | select(.type=="exchange" and .request.method=="POST") | .request.body] | unique | .[0]')"
assert_eq "exe" "$(readlink -f "$(command -v nginx)")" "$(jqlog "$log" '[.[] | select(.type=="exchange") | .proc.exe] | unique | .[0]')"
assert_eq "loss records" 0 "$(jqlog "$log" '[.[] | select(.type=="loss")] | length')"
assert_eq "last record" collector_stop "$(tail -n 1 "$log" | jq -r .type)"
echo "ok: 1000 exchanges over 50 connections"
