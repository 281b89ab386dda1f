#!/usr/bin/env bash
# docs/record-schema.md against the binary: every JSON example on the page
# parses, and each member of an example is a member that real records of
# its type have. The real records come from the recorded fixtures replayed
# (http, jsonrpc, mcp stdio, raw) and from one live workload that writes
# every other type: the demo server under `exec` with an integrity sink
# (chain_gap, checkpoint, chain_resume after SIGHUP and a restart), SIGUSR1
# (rotate), the log moved away (rotate, reason moved), the anchor deleted before the restart (anchor_missing), a small
# --max-capture (loss), a redacted password, and seven
# sinks with long names and max_message_length 2048, whose collector_start
# is longer than that (the writer's oversize loss record), and a stats
# record a second.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/common.sh"
require_root
repo=$(cd "$here/../.." && pwd)
doc=$repo/docs/record-schema.md
logs=()

# -- the fixtures through replay (no BPF) --
mkdir -p "$WORKDIR/replay"
for rec in "$repo"/tests/fixtures/*.rec; do
	out=$WORKDIR/replay/$(basename "$rec" .rec).log
	"$SOCKAUDIT" replay "$rec" -o "$out" -q || fail "replay of $rec failed"
	logs+=("$out")
done

# -- the live workload --
live=$WORKDIR/live
mkdir -p "$live"
key=$WORKDIR/k.key
"$SOCKAUDIT" keygen "$key" > /dev/null
long=$(printf 'x%.0s' $(seq 230))
# a forward to a port nobody listens on: the log gets `forward` records (state down)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=nobody \
	-keyout "$WORKDIR/ca.key" -out "$WORKDIR/ca.pem" 2>/dev/null || fail "openssl req"
dead_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
	echo "auditing_plugins:"
	echo "  - type: json_lines"
	echo "    config:"
	echo "      output_file: $live/a.log"
	echo "      integrity: {key_file: $key, checkpoint_every_records: 20}"
	echo "      forward: {target: 127.0.0.1:$dead_port, ca_file: $WORKDIR/ca.pem, peer_names: nobody, reconnect_max_ms: 200}"
	for i in 1 2 3 4 5 6 7; do
		echo "  - type: json_lines"
		echo "    config: {output_file: $live/b$i-$long.log, max_message_length: 2048}"
	done
} > "$WORKDIR/c.yaml"
chmod 644 "$WORKDIR/c.yaml"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
# wait_for WHAT CMD...: until CMD succeeds (collector alive), 15 s at most
wait_for() {
	local what=$1 i
	shift
	for i in $(seq 300); do
		"$@" && return 0
		kill -0 "$SA_PID" 2>/dev/null || { cat "$WORKDIR/err" >&2; fail "collector exited before $what"; }
		sleep 0.05
	done
	fail "no $what within 15 s"
}
count() { cat "$live"/a.log* 2>/dev/null | grep -c "\"type\":\"$1\"" || true; }
more_than() { [ "$(count "$1")" -gt "$2" ]; }

run_once() {
	"$SOCKAUDIT" exec -c "$WORKDIR/c.yaml" --max-capture 64 --stats-interval 1 -- \
		python3 "$repo/demo/server.py" "$port" 2>>"$WORKDIR/err" &
	SA_PID=$!
	wait_for "server listening" listening
	python3 "$repo/demo/client.py" "$port" > /dev/null || fail "demo client failed"
	# within the 64 captured bytes: the request line
	curl -s -o /dev/null "http://127.0.0.1:$port/v1/items?password=hunter2"
}
stop_run() {
	local srv
	srv=$(pgrep -P "$SA_PID") || fail "no server under the collector"
	kill -TERM "$srv"
	wait "$SA_PID" || fail "collector exited $?"
	SA_PID=
}

run_once
r=$(count rotate)
kill -USR1 "$SA_PID"
wait_for "rotate record" more_than rotate "$r"
c=$(count config_reload)
kill -HUP "$SA_PID"
wait_for "config_reload record" more_than config_reload "$c"
# the log moved away under the writer (a logrotate without SIGHUP): the
# writer opens the path again and starts it with a rotate record, reason moved
r=$(count rotate)
mv "$live/a.log" "$live/a.log.7"
wait_for "rotate record after the move" \
	sh -c 'curl -s -o /dev/null "http://127.0.0.1:$1/health"; grep -q "\"reason\":\"moved\"" "$2"' \
	_ "$port" "$live/a.log"
stop_run
rm "$live/a.log.anchor"	# deleted on the host: the restart writes anchor_missing
run_once	# a restart: the chain resumes from the state file
stop_run

for f in "$live"/*; do
	case $f in *.log|*.log.[0-9]*) logs+=("$f");; esac
done
wait_for "stats record" more_than stats 0	# --stats-interval 1 (issue 18)
for t in chain_gap chain_resume checkpoint rotate config_reload anchor_missing stats forward; do
	assert_ge "$t records in the live log" 1 "$(count "$t")"
done
grep -q '"counter":"oversize_records","count":1,"bytes"' "$live"/b1-*.log \
	|| fail "the long-name sink has no oversize loss record"
grep -q '"redactions":\["password"' "$live"/a.log "$live"/a.log.[0-9]* || fail "no redacted record"

out=$(python3 "$here/helpers/schema_examples.py" "$doc" "${logs[@]}") || {
	printf '%s\n' "$out" >&2
	fail "docs/record-schema.md has examples the binary does not write"
}
printf '%s\n' "$out" | tail -n 1
