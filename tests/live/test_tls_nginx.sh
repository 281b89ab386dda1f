#!/usr/bin/env bash
# nginx with `ssl` (HTTP/1.1, libssl.so.3, non-blocking: the handshake and
# each SSL call take several tries) audited under wrk: one exchange record
# per request wrk completed (at most one per connection more: in flight
# when wrk stopped), all tls true and in clear. curl audited as a TLS
# client against it: one client record with the page in clear.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/tls.sh"
require_root
command -v wrk >/dev/null || fail "wrk not installed: make deps"
make_cert "$WORKDIR/cert"
port=$(free_port)
nginx_tls_conf "$port" 1 "$WORKDIR/cert"
nginx -c "$WORKDIR/nginx.conf" -e "$WORKDIR/logs/error.log" &
NGINX_PID=$!
PIDS_TO_KILL+=("$NGINX_PID")
wait_port "$port"
log=$WORKDIR/audit.log
start_collector "$log" run --pid "$NGINX_PID"
done_reqs=$(wrk -t1 -c8 -d1s "https://127.0.0.1:$port/index.html" | awk '/requests in/ { print $1 }')
assert_ge "wrk requests" 100 "$done_reqs"
stop_collector
# more than max_file_size at a fast wrk (16,000 requests, 11 MB): the set, not the live file
whole_log "$log" > "$WORKDIR/all.log"
log=$WORKDIR/all.log
assert_valid_jsonl "$log"
q='[.[] | select(.type=="exchange")]'
ok=$(jqlog "$log" "$q | map(select(.outcome==\"ok\" and .response.status==200 and .request.target==\"/index.html\")) | length")
# on a shortfall, say where the rest went: outcomes, and the stop record's loss and TLS counters
[ "$ok" -ge "$done_reqs" ] || echo "outcomes: $(jqlog "$log" "$q | group_by(\"\\(.outcome) \\(.conn.tls) \\(.proto)\") | map(\"\\(.[0].outcome) \\(.[0].conn.tls) \\(.[0].proto): \\(length)\")" | tr -d '\n'); stop: $(tail -n 1 "$log" | jq -c 'with_entries(select(.key | test("lost|drop|tls|events|targets")))')"
assert_ge "ok exchanges (wrk completed $done_reqs)" "$done_reqs" "$ok"
assert_ge "exchanges beyond wrk's, at most one in flight per connection" "$ok" "$((done_reqs + 8))"
assert_eq "tls, proto" '["true http"]' "$(jqlog "$log" "$q | map(\"\(.conn.tls) \(.proto)\") | unique | tojson")"
assert_eq "body in clear" "hello from sockaudit test" "$(jqlog "$log" "$q | map(select(.outcome==\"ok\")) | .[0].response.body | rtrimstr(\"\\\\x0a\")")"
assert_eq "connections" 8 "$(jqlog "$log" "$q | map(.conn.id) | unique | length")"
assert_eq "loss records" 0 "$(jqlog "$log" '[.[] | select(.type=="loss")] | length')"
assert_eq "streams tied by syscall" 8 "$(tail -n 1 "$log" | jq .tls_tied_by_syscall)"

# curl as the audited TLS client
log2=$WORKDIR/client.log
"$SOCKAUDIT" exec -o "$log2" -- curl -sfk -o /dev/null "https://127.0.0.1:$port/index.html" 2>>"$WORKDIR/collector.err"
assert_eq "curl record" "client true GET /index.html 200 hello from sockaudit test" \
	"$(jqlog "$log2" '[.[] | select(.type=="exchange")] | .[0] | "\(.conn.role) \(.conn.tls) \(.request.method) \(.request.target) \(.response.status) \(.response.body | rtrimstr("\\x0a"))"')"
assert_eq "curl exchanges" 1 "$(jqlog "$log2" '[.[] | select(.type=="exchange")] | length')"
echo "ok: $ok nginx TLS exchanges for $done_reqs wrk requests; curl client recorded"
