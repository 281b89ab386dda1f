#!/usr/bin/env bash
# SIGHUP with a config that is slow to load (redaction patterns that take
# seconds to compile), while a client keeps the ring buffer busy: the config
# is parsed off the capture path, so exchanges keep being written between the
# SIGHUP and the config_reload record, and no ring-buffer loss appears after
# the SIGHUP. (When the reader parsed the config itself, it stopped draining
# for the whole load and the 4 MiB ring overflowed.) A config whose critical
# sink cannot be set up is rejected with the reason. A SIGTERM during a
# reload still being parsed stops the collector without waiting for it.
. "$(dirname "$0")/../lib/common.sh"
require_root
start_nginx
head -c 24000 /dev/urandom | base64 -w 76 > "$WORKDIR/www/load.txt"
log=$WORKDIR/a.log
cfg=$WORKDIR/c.yaml
sink="auditing_plugins:
  - type: json_lines
    config:
      output_file: $log
capture: {ringbuf_mb: 4, max_capture_bytes: 32768}"
echo "$sink" > "$cfg"
chmod 644 "$cfg"
start_collector "$log" run -c "$cfg" --pid "$NGINX_PID"

python3 "$LIB/../live/helpers/steady_load.py" "$port" /load.txt "$WORKDIR/stop" \
	> "$WORKDIR/load.out" &
LOAD=$!
PIDS_TO_KILL+=("$LOAD")
# count_type TYPE [FILE]: records of TYPE so far
count_type() { grep -c "\"type\":\"$1\"" "${2:-$log}" || true; }
until [ "$(count_type exchange)" -ge 200 ]; do kill -0 "$LOAD" || fail "load died"; sleep 0.05; done

# the slow config: the same sink, with patterns hyperscan takes seconds to compile
{ echo "$sink"; echo "redaction:"; echo "  custom_rules:"
  for i in $(seq 16); do printf '    - name: slow%d\n      regex: ".{500}x.{500}%d"\n' "$i" "$i"; done
  printf '    - name: reload_marker\n      regex: "reloadmark-[0-9]{4}"\n'
} > "$cfg"
# marked_target N: request /reloadmark-N and wait for its exchange (redacted or not)
marked_target() {
	curl -s "http://127.0.0.1:$port/reloadmark-$1" > /dev/null
	until grep -q "reloadmark-$1\|REDACTED:reload_marker" "$log"; do
		kill -0 "$SA_PID" || fail "collector died"; sleep 0.05
	done
}
marked_target 0001	# the running config has no such rule: written as it is
mark=$(wc -l < "$log")
kill -HUP "$SA_PID"
until [ "$(count_type config_reload)" -ge 1 ]; do
	kill -0 "$SA_PID" || fail "collector died during the reload"; sleep 0.05
done
# a few more exchanges after the swap
more_exchanges() {
	local after
	after=$(count_type exchange)
	until [ "$(count_type exchange)" -ge $((after + $1)) ]; do
		kill -0 "$SA_PID" || fail "collector died"; sleep 0.05
	done
}
more_exchanges 100
# the reload built the new config's redactor (where its sinks open): its rule is in force
marked_target 0002
grep -q '"target":"/\[REDACTED:reload_marker\]"' "$log" || fail "the reloaded rule was not applied"
grep -q 'reloadmark-0002' "$log" && fail "reloadmark-0002 written in clear after the reload"
grep -q '"target":"/reloadmark-0001"' "$log" || fail "reloadmark-0001 was redacted before the reload"
# a new config whose critical sink has a key others can read: rejected before
# the running sinks are touched, the reason in the record, records go on
cp "$cfg" "$WORKDIR/slow.yaml"
"$SOCKAUDIT" keygen "$WORKDIR/k.key" >/dev/null
chmod 644 "$WORKDIR/k.key"
{ echo "$sink" | sed "s|output_file: .*|&\n      integrity: {key_file: $WORKDIR/k.key}|"; } > "$cfg"
kill -HUP "$SA_PID"
until [ "$(count_type config_reload)" -ge 2 ]; do sleep 0.05; done
rejected=$(grep '"type":"config_reload"' "$log" | tail -n1)
assert_eq "reload with a readable key" rejected "$(jq -r .status <<<"$rejected")"
jq -r .error <<<"$rejected" | grep -q "critical sink: key file $WORKDIR/k.key has mode 0644" ||
	fail "the rejection does not say why: $rejected"
more_exchanges 50
cp "$WORKDIR/slow.yaml" "$cfg"
# SIGTERM while the next reload is still parsing: the stop does not wait for it
tasks=$(ls "/proc/$SA_PID/task" | wc -l)
kill -HUP "$SA_PID"
until [ "$(ls "/proc/$SA_PID/task" | wc -l)" -gt "$tasks" ]; do sleep 0.01; done
t0=$(date +%s%N)
kill -TERM "$SA_PID"
rc=0; wait "$SA_PID" || rc=$?
stop_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
SA_PID=
touch "$WORKDIR/stop"
wait "$LOAD"
assert_eq "exit status on SIGTERM during a reload" 0 "$rc"
assert_valid_jsonl "$log"
grep -q "config reload in progress is abandoned" "$WORKDIR/collector.err" ||
	fail "the stop did not abandon the reload: $(cat "$WORKDIR/collector.err")"
assert_eq "config_reload records (the abandoned one writes none)" 2 "$(count_type config_reload)"
assert_eq "stop reason" SIGTERM "$(jqlog "$log" '.[] | select(.type=="collector_stop") | .reason')"

reload=$(grep -m1 '"type":"config_reload"' "$log")
echo "config_reload: $reload"
assert_eq "reload status" applied "$(jq -r .status <<<"$reload")"
ms=$(jq -r .reload_ms <<<"$reload")
assert_ge "reload took long (the slow config)" 1000 "$ms"
echo "stop during a reload took $stop_ms ms (a reload takes $ms ms)"
rl=$(grep -n -m1 '"type":"config_reload"' "$log" | cut -d: -f1)
during=$(sed -n "$((mark + 1)),$((rl - 1))p" "$log" | grep -c '"type":"exchange"' || true)
echo "exchanges written between SIGHUP and config_reload: $during (reload took $ms ms)"
assert_ge "exchanges written while the config was parsed" 50 "$during"
lost=$(tail -n +"$((mark + 1))" "$log" |
	jq -s '[.[] | select(.type=="loss" and .source=="kernel" and
		(.counter=="ringbuf_full_events"))] | map(.count) | add // 0')
before=$(head -n "$mark" "$log" |
	jq -s '[.[] | select(.type=="loss" and .source=="kernel" and
		(.counter=="ringbuf_full_events"))] | map(.count) | add // 0')
echo "ring-buffer events lost: $before before the SIGHUP, $lost after it"
assert_eq "ring-buffer events lost after the SIGHUP" 0 "$lost"
assert_eq "loss records for events that could not be held" 0 \
	"$(grep -c '"counter":"reload_held_events"' "$log" || true)"
echo ok
