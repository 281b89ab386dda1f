#!/usr/bin/env bash
# TLS clients, loaded after the target started: the audited command is a
# shell (no libssl) that waits, then runs a python3 client and execs curl.
# Each maps libssl.so.3 only then; the collector finds it by the mapping
# and attaches before the first SSL call. The python client sends 40000
# bytes (several TLS records) and receives 1 MiB: lengths exact, excerpts
# cut and flagged. The server is not audited. The uprobes are per process:
# attached for python, detached when it exits, attached for curl, detached
# when curl exits.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/tls.sh"
require_root
start_tls_server python3 "$LIB/../live/helpers/tls_server.py"
log=$WORKDIR/audit.log
client="$LIB/../live/helpers/tls_client.py"
start_collector "$log" exec -- sh -c "sleep 0.3; python3 '$client' big $port >'$WORKDIR/big.out'; exec curl -sfk -o /dev/null https://127.0.0.1:$port/from-curl"
wait "$SA_PID"
fixture_done
assert_eq "client output" "40000 1048576" "$(cat "$WORKDIR/big.out")"
assert_valid_jsonl "$log"
q='[.[] | select(.type=="exchange")]'
assert_eq "exchanges" 3 "$(jqlog "$log" "$q | length")"
assert_eq "role, tls, proto" '["client true http"]' "$(jqlog "$log" "$q | map(\"\(.conn.role) \(.conn.tls) \(.proto)\") | unique | tojson")"
assert_eq "peer" "127.0.0.1:$port" "$(jqlog "$log" "$q | map(.conn.peer) | unique | .[0]")"
up=$(jqlog "$log" "$q | map(select(.request.target==\"/upload\")) | .[0]")
assert_eq "upload: length, cut" "40000 true 200" "$(echo "$up" | jq -r '"\(.request.body_bytes) \(.request.body_truncated) \(.response.status)"')"
big=$(jqlog "$log" "$q | map(select(.request.target==\"/big\")) | .[0]")
assert_eq "1 MiB response: length, cut" "1048576 true" "$(echo "$big" | jq -r '"\(.response.body_bytes) \(.response.body_truncated)"')"
assert_eq "excerpt in clear" "bbbbbbbb" "$(echo "$big" | jq -r '.response.body[0:8]')"
assert_eq "curl, exec'd last" "GET /from-curl curl" "$(jqlog "$log" "$q | map(select(.request.target==\"/from-curl\")) | .[0] | \"\(.request.method) \(.request.target) \(.proc.comm)\"")"
assert_eq "attach, detach, attach, detach" "attach detach attach detach" \
	"$(grep -o 'tls: uprobes on [^ ]*libssl[^ ]* for pid [0-9]* \(([0-9]* offsets, 2 links)\|detached\)' "$WORKDIR/collector.err" |
		awk '{ printf "%s%s", sep, ($8 == "detached" ? "detach" : "attach"); sep = " " }')"
assert_eq "ciphertext written" 0 "$(jqlog "$log" "$q | map(select(.conn.tls | not)) | length")"
echo "ok: python and curl started later captured; 40000 B request and 1 MiB response"
