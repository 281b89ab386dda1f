#!/usr/bin/env bash
# Forward while the remote is down: the log rotates three times with
# backup_count 1, the rotated files stay until shipped, then go by the
# normal policy; with a tiny spool limit the unshipped files are removed
# and counted in a forward_spool_records loss record. A wrong server
# certificate and a wrong peer name are refused with a clear line, and
# nothing is sent in clear (what a plain listener receives is TLS only).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/helpers/relp_env.sh"
require_root
H=$(dirname "$0")/helpers
relp_certs "$WORKDIR/certs"
port=$(free_port)
python3 "$H/bulk_server.py" "$port" recv &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
batch() { python3 "$H/bulk_client.py" "$port" pipelined "$1" > /dev/null; }
count() { cat "$@" 2>/dev/null | grep -c "$PAT" || true; }
run_with() {	# run_with CFG: start the collector on the bulk server
	"$SOCKAUDIT" run -c "$1" --pid "$SRV" ${EXTRA:-} 2>>"$WORKDIR/collector.err" &
	SA_PID=$!
	local t=200
	until grep -q '"collector_start"' "$2" 2>/dev/null; do
		t=$((t - 1)); [ "$t" -gt 0 ] || fail "collector did not start"; sleep 0.05
	done
}
rotate3() {	# 300 exchanges, then three rotations (each new file starts with a rotate record)
	local i t ino
	batch 300
	for i in 1 2 3; do
		ino=$(stat -c %i "$1")
		kill -USR1 "$SA_PID"
		t=100	# a new file at the path, with its rotate record in it
		until [ "$(stat -c %i "$1" 2>/dev/null)" != "$ino" ] && [ -s "$1" ] || [ "$t" -le 0 ]; do
			t=$((t - 1)); sleep 0.02
		done
	done
}

# 1. remote down across three rotations: the files stay, then ship, then go
rport=$(free_port)
R=$WORKDIR/rsyslog
rsyslog_conf "$R" "$rport"
log=$WORKDIR/a/audit.log
mkdir -p "$WORKDIR/a"
forward_cfg "$WORKDIR/a.yaml" "$log" "$rport" "      backup_count: 1"
mport=$(free_port)	# the health and metrics endpoint shows the link too
EXTRA="--listen 127.0.0.1:$mport" run_with "$WORKDIR/a.yaml" "$log"
rotate3 "$log"
t=200	# the down state is written at the collector's next tick
until grep -q '"type":"forward",.*"state":"down"' "$log" || [ "$t" -le 0 ]; do t=$((t - 1)); sleep 0.05; done
health() { curl -s "http://127.0.0.1:$mport/healthz" | jq -r --arg l "$log" "$1"; }
metric() { curl -s "http://127.0.0.1:$mport/metrics" | awk -v m="$1{sink=\"$log\"}" '$1 == m { print $2 }'; }
assert_eq "healthz forward link while down" "down degraded" "$(health '.checks.forward[$l] | "\(.link) \(.status)"')"
assert_eq "healthz status while down" degraded "$(health .status)"
assert_eq "sockaudit_forward_connected while down" 0 "$(metric sockaudit_forward_connected)"
assert_ge "sockaudit_forward_unshipped_bytes while down" 1 "$(metric sockaudit_forward_unshipped_bytes)"
ls "$log".1 "$log".2 "$log".3 > /dev/null || fail "rotated files removed before shipping: $(ls "$WORKDIR/a")"
cat "$log".3 "$log".2 "$log".1 "$log" > "$WORKDIR/local-a.jsonl"
rsyslog_start "$R"
t=200
until [ "$(received_records "$R/received.log" 2>/dev/null | wc -l)" -ge "$(wc -l < "$WORKDIR/local-a.jsonl")" ] ||
      [ "$t" -le 0 ]; do t=$((t - 1)); sleep 0.05; done
received_records "$R/received.log" | head -n "$(wc -l < "$WORKDIR/local-a.jsonl")" > "$WORKDIR/remote-a.jsonl"
cmp "$WORKDIR/local-a.jsonl" "$WORKDIR/remote-a.jsonl" || fail "shipped copy differs after the outage"
t=100
until [ ! -e "$log.2" ] || [ "$t" -le 0 ]; do t=$((t - 1)); sleep 0.05; done
[ ! -e "$log.2" ] && [ ! -e "$log.3" ] || fail "shipped files beyond backup_count were kept"
[ -e "$log.1" ] || fail "backup_count 1 file removed"
t=200	# the up record comes at the collector's next tick
until grep -q '"type":"forward",.*"state":"up"' "$log" || [ "$t" -le 0 ]; do t=$((t - 1)); sleep 0.05; done
assert_eq "healthz forward link once shipped" up "$(health '.checks.forward[$l].link')"
assert_eq "sockaudit_forward_connected once shipped" 1 "$(metric sockaudit_forward_connected)"
assert_ge "sockaudit_forward_acked_records_total" "$(wc -l < "$WORKDIR/local-a.jsonl")" \
	"$(metric sockaudit_forward_acked_records_total)"
kill -INT "$SA_PID"; wait "$SA_PID" || fail "collector exit status"
# the link's state changes are records too, with the lag while down
down=$(jq -s '[.[] | select(.type=="forward" and .state=="down")] | first' "$WORKDIR/local-a.jsonl" "$log")
[ "$down" != null ] || fail "no forward record with state down"
assert_ge "unshipped bytes while down" 1 "$(jq .unshipped_bytes <<<"$down")"
[ "$(jq -s '[.[] | select(.type=="forward" and .state=="up")] | length' "$WORKDIR/local-a.jsonl" "$log")" -ge 1 ] ||
	fail "no forward record with state up"
echo "ok: $(wc -l < "$WORKDIR/local-a.jsonl") records held across 3 rotations and shipped, then pruned"
rsyslog_kill9 "$R"

# 2. a tiny spool limit: the loss is recorded
log=$WORKDIR/b/audit.log
mkdir -p "$WORKDIR/b"
forward_cfg "$WORKDIR/b.yaml" "$log" "$rport" "      backup_count: 1"
sed -i 's/^        window:.*/&\n        spool_limit_kb: 1/' "$WORKDIR/b.yaml"
run_with "$WORKDIR/b.yaml" "$log"
rotate3 "$log"
kill -INT "$SA_PID"; wait "$SA_PID" || true
[ ! -e "$log.3" ] || fail "spool limit not applied: $(ls "$WORKDIR/b")"
lost=$(cat "$log".1 "$log" | jq -s '[.[] | select(.type=="loss" and .counter=="forward_spool_records")] | map(.count) | add // 0')
assert_ge "forward_spool_records lost" 300 "$lost"
grep -q 'forward spool of .* is over its limit' "$WORKDIR/collector.err" || fail "no spool line"
echo "ok: spool limit: $lost records counted lost in a loss record"

# 3. wrong server certificate, wrong peer name: refused, nothing received
rsyslog_conf "$R" "$rport" rogue-server
rsyslog_start "$R"
rm -f "$R/received.log"
log=$WORKDIR/c/audit.log
mkdir -p "$WORKDIR/c"
forward_cfg "$WORKDIR/c.yaml" "$log" "$rport"
# check-config sees a key that is not the certificate's, and a bad peer name, before any run
"$SOCKAUDIT" check-config -c "$WORKDIR/c.yaml" > /dev/null || fail "check-config refused a good forward section"
sed -e 's|key_file: .*|key_file: '"$WORKDIR"'/certs/server.key|' -e 's/peer_names: .*/peer_names: relp_server/' \
	"$WORKDIR/c.yaml" > "$WORKDIR/bad.yaml"
! "$SOCKAUDIT" check-config -c "$WORKDIR/bad.yaml" 2> "$WORKDIR/check.err" || fail "check-config passed a wrong key"
grep -q 'forward.key_file .*server.key is not the key of forward.cert_file' "$WORKDIR/check.err" ||
	fail "no key mismatch line: $(cat "$WORKDIR/check.err")"
grep -q "forward.peer_names: 'relp_server' is not a DNS name" "$WORKDIR/check.err" || fail "no peer name line"
: > "$WORKDIR/collector.err"
run_with "$WORKDIR/c.yaml" "$log"
batch 20
t=100
until grep -q 'is down' "$WORKDIR/collector.err" || [ "$t" -le 0 ]; do t=$((t - 1)); sleep 0.05; done
grep 'is down' "$WORKDIR/collector.err" | head -1
grep -q 'TLS handshake refused: .*certificate verify failed' "$WORKDIR/collector.err" || fail "wrong CA not refused clearly"
kill -INT "$SA_PID"; wait "$SA_PID" || true
[ ! -s "$R/received.log" ] || fail "records received from a refused session"
rsyslog_kill9 "$R"
rsyslog_conf "$R" "$rport"
rsyslog_start "$R"
sed -i 's/peer_names: relp-server/peer_names: other-name/' "$WORKDIR/c.yaml"
: > "$WORKDIR/collector.err"
run_with "$WORKDIR/c.yaml" "$log"
t=100
until grep -q 'is down' "$WORKDIR/collector.err" || [ "$t" -le 0 ]; do t=$((t - 1)); sleep 0.05; done
grep -q 'TLS handshake refused: .*hostname mismatch' "$WORKDIR/collector.err" || fail "wrong peer name not refused: $(cat "$WORKDIR/collector.err")"
kill -INT "$SA_PID"; wait "$SA_PID" || true
[ ! -s "$R/received.log" ] || fail "records received with a wrong peer name"
rsyslog_kill9 "$R"
# a plain listener: what reaches it is a TLS handshake, no record text
pport=$(free_port)
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); s.settimeout(10)
c, _ = s.accept(); c.settimeout(0.5); got = b""
try:
    while len(got) < 1 << 20:
        d = c.recv(65536)
        if not d: break
        got += d
except socket.timeout: pass
open(sys.argv[2], "wb").write(got)' "$pport" "$WORKDIR/plain.bin" &
PL=$!
sed -i "s/target: 127.0.0.1:.*/target: 127.0.0.1:$pport/" "$WORKDIR/c.yaml"
run_with "$WORKDIR/c.yaml" "$log"
wait "$PL"
kill -INT "$SA_PID"; wait "$SA_PID" || true
[ "$(head -c 1 "$WORKDIR/plain.bin" | od -An -tx1 | tr -d ' ')" = 16 ] || fail "first byte is not a TLS handshake record"
! grep -aq -e '"type"' -e 'syslog' "$WORKDIR/plain.bin" || fail "record text sent in clear"
echo "ok: wrong CA and wrong peer name refused, $(wc -c < "$WORKDIR/plain.bin") bytes to a plain listener, all TLS"
