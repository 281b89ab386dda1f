#!/usr/bin/env bash
# Forward over RELP/TLS (mutual authentication) to a real rsyslog started
# here: 10,000 exchanges audited and shipped while rsyslog is killed -9 and
# restarted 3 times and the collector is killed -9 and restarted once. Every
# local record arrives at least once; duplicates are bounded by the window
# (only unacknowledged frames are resent), de-duplicating by the message id
# leaves exactly the local set (bytes compared), and `sockaudit verify`
# passes on the copy assembled at the receiver.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/helpers/relp_env.sh"
require_root
H=$(dirname "$0")/helpers
N=${FWD_EXCHANGES:-10000}
relp_certs "$WORKDIR/certs"
rport=$(free_port)
R=$WORKDIR/rsyslog
rsyslog_conf "$R" "$rport"
rsyslog_start "$R"
"$SOCKAUDIT" keygen "$WORKDIR/key" >/dev/null
log=$WORKDIR/a/audit.log
mkdir -p "$WORKDIR/a"
forward_cfg "$WORKDIR/fwd.yaml" "$log" "$rport" "      max_file_size_mb: 1
      backup_count: 50
      compress: true
      flush_mode: batched
      batch_interval_ms: 20
      integrity:
        key_file: $WORKDIR/key"
port=$(free_port)
python3 "$H/bulk_server.py" "$port" recv &
PIDS_TO_KILL+=("$!")
SRV=$!
wait_port "$port"

collector() { "$SOCKAUDIT" run -c "$WORKDIR/fwd.yaml" --pid "$SRV" 2>>"$WORKDIR/collector.err" & SA_PID=$!; }
wait_started() {
	local t=200
	until [ "$(grep -c 'info: auditing pids' "$WORKDIR/collector.err" || true)" -ge "$1" ]; do
		t=$((t - 1)); [ "$t" -gt 0 ] || fail "collector did not start"; sleep 0.05
	done
}
# a batch of exchanges: pipelined GETs on one connection
batch() { python3 "$H/bulk_client.py" "$port" pipelined "$1" > /dev/null; }
collector
wait_started 1
per=$((N / 10))
for i in 1 2 3 4 5 6 7 8 9 10; do
	batch "$per"
	case $i in
	2|5|8)	rsyslog_kill9 "$R"; rsyslog_start "$R" ;;
	6)	sleep 0.1; kill -9 "$SA_PID"; wait "$SA_PID" 2>/dev/null || true
		collector; wait_started 2 ;;
	esac
done
# every exchange is in the log before the stop (the log is the source of truth)
# the local set, oldest file first
local_set() {
	local f k
	for k in $(ls "$log".* 2>/dev/null | sed -n 's/.*\.log\.\([0-9]*\)\(\.gz\)\{0,1\}$/\1/p' | sort -rn); do
		f=$log.$k; [ -e "$f" ] && cat "$f" || zcat "$f.gz"
	done
	cat "$log"
}
t=200
until [ "$(local_set | grep -c '"type":"exchange"' || true)" -ge "$((N - 2 * per))" ] ||
      [ "$t" -le 0 ]; do t=$((t - 1)); sleep 0.05; done
# shipped up to what is in the log now (the stop ships only its own tail)
t=300
until [ "$(received_records "$R/received.log" | wc -l)" -ge "$(local_set | wc -l)" ] || [ "$t" -le 0 ]; do
	t=$((t - 1)); sleep 0.2; done
kill -INT "$SA_PID"; wait "$SA_PID" || fail "collector exit status $?"
local_set > "$WORKDIR/local.jsonl"
t=100
until [ "$(received_records "$R/received.log" | wc -l)" -ge "$(wc -l < "$WORKDIR/local.jsonl")" ] ||
      [ "$t" -le 0 ]; do t=$((t - 1)); sleep 0.05; done
received_records "$R/received.log" > "$WORKDIR/remote.jsonl"
sent=$(wc -l < "$WORKDIR/local.jsonl")
got=$(wc -l < "$R/received.log")
uniq=$(wc -l < "$WORKDIR/remote.jsonl")
dups=$((got - uniq))
exch=$(grep -c '"type":"exchange"' "$WORKDIR/local.jsonl")
echo "local records $sent (exchanges $exch), received $got, unique $uniq, duplicates $dups"
assert_ge "exchanges audited" "$((N - 2 * per))" "$exch"
cmp "$WORKDIR/local.jsonl" "$WORKDIR/remote.jsonl" || fail "received copy differs from the local log"
# resent frames: at most one window per interruption (3 rsyslog kills, 1 collector kill)
[ "$dups" -le $((4 * ${FWD_WINDOW:-256})) ] || fail "$dups duplicates, more than 4 windows"
"$SOCKAUDIT" verify --key "$WORKDIR/key" "$WORKDIR/remote.jsonl" || fail "verify of the received copy"
grep -q 'forward: connected' "$WORKDIR/collector.err" || fail "no connected line"
grep -q 'is down' "$WORKDIR/collector.err" || fail "no down line"
echo "ok: $sent records shipped, $dups duplicates removed by id, received copy verifies"
