#!/usr/bin/env bash
# TLS plaintext, BIO-socket program: a python3 `ssl` HTTPS server audited
# (libssl.so.3 loaded by `import ssl`, after the process started). 500
# keep-alive POSTs over 20 connections (each names its own client port in
# the path) and 3 curl requests give 503 exchange records: tls true, the
# connection's peer port the one the client used, passwords redacted, no
# ciphertext written. The uprobes show in bpftool while the collector runs
# and are gone after it exits. With --tls off the same traffic is raw
# ciphertext, tls false: what this test would see if the hooks did nothing.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/tls.sh"
require_root
start_tls_server python3 "$LIB/../live/helpers/tls_server.py"
log=$WORKDIR/audit.log
start_collector "$log" run --pid "$SRV"
links=$(tls_links "$SA_PID")
assert_eq "TLS uprobe links of the collector (entry and return, one process)" 2 "$(printf '%s\n' "$links" | grep -c .)"
python3 "$LIB/../live/helpers/tls_client.py" keepalive "$port" 500 20 >/dev/null
for i in 1 2 3; do
	curl -sfk -o /dev/null "https://127.0.0.1:$port/curl$i"
done
stop_collector
assert_valid_jsonl "$log"
q='[.[] | select(.type=="exchange")]'
assert_eq "exchanges" 503 "$(jqlog "$log" "$q | length")"
assert_eq "proto, tls, status, outcome" '["http true 200 ok"]' \
	"$(jqlog "$log" "$q | map(\"\(.proto) \(.conn.tls) \(.response.status) \(.outcome)\") | unique | tojson")"
assert_eq "records whose peer port is not the client's" 0 \
	"$(jqlog "$log" "$q | map(select(.request.target | startswith(\"/p\")) | select((.request.target | ltrimstr(\"/p\") | split(\"/\")[0]) != (.conn.peer | split(\":\")[1]))) | length")"
assert_eq "keep-alive connections" 20 "$(jqlog "$log" "$q | map(select(.request.target | startswith(\"/p\")) | .conn.id) | unique | length")"
assert_eq "curl GETs" 3 "$(jqlog "$log" "$q | map(select(.request.method==\"GET\" and (.request.target | startswith(\"/curl\")))) | length")"
assert_eq "local address, role" "127.0.0.1:$port server" "$(jqlog "$log" "$q | map(\"\(.conn.local) \(.conn.role)\") | unique | .[0]")"
assert_eq "bodies in clear, password redacted" 'password=[REDACTED:password]&n=0' \
	"$(jqlog "$log" "$q | map(select(.request.target | endswith(\"/r0\")) | .request.body) | unique | .[0]")"
assert_eq "responses in clear" 0 "$(jqlog "$log" "$q | map(select(.request.method==\"POST\") | select(.response.body | test(\"\\\"got\\\": [0-9]+\") | not)) | length")"
assert_eq "non-positive durations" 0 "$(jqlog "$log" "$q | map(select(.duration_ms <= 0)) | length")"
assert_eq "loss records" 0 "$(jqlog "$log" '[.[] | select(.type=="loss")] | length')"
stop=$(tail -n 1 "$log")
assert_eq "streams tied by the syscall inside the SSL call" 23 "$(echo "$stop" | jq .tls_tied_by_syscall)"
assert_eq "streams with the socket unknown" 0 "$(echo "$stop" | jq .tls_socket_unknown_streams)"
assert_ge "ciphertext bytes counted, not written" 100000 "$(echo "$stop" | jq .tls_ciphertext_bytes_not_written)"
# after exit: none of its uprobe links remain (a child of the collector
# releases them, one grace period each, once it has exited: poll up to 5 s)
for _ in $(seq 50); do
	left=$(bpftool -j link show | jq -r '.[].id')
	still=$(for l in $links; do printf '%s\n' "$left" | grep -x "$l" || true; done)
	[ -z "$still" ] && break
	sleep 0.1
done
[ -z "$still" ] || fail "uprobe links $(echo $still) still there 5 s after the collector exited"

# the same server with --tls off: ciphertext, written raw
start_collector "$log" run --pid "$SRV" --tls off
assert_eq "uprobe links with --tls off" 0 "$(tls_links "$SA_PID" | grep -c . || true)"
curl -sfk -o /dev/null "https://127.0.0.1:$port/off1"
curl -sfk -o /dev/null "https://127.0.0.1:$port/off2"
stop_collector
assert_eq "--tls off: raw ciphertext" '["raw false"]' \
	"$(jqlog "$log" "$q | map(\"\(.proto) \(.conn.tls)\") | unique | tojson")"
assert_eq "--tls off: no plaintext" 0 "$(grep -c '/off1' "$log" || true)"
echo "ok: 503 TLS exchanges, 23 streams tied by syscall; --tls off gives raw ciphertext"
