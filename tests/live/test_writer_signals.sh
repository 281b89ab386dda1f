#!/usr/bin/env bash
# SIGHUP reopens outputs and reloads the config: 100 reloads keep the fd
# count constant; an external logrotate (move + create + HUP) is followed;
# a bad config is rejected and the running one stays. SIGUSR1 rotates now
# and the new file starts with a rotate record.
. "$(dirname "$0")/../lib/common.sh"
require_root
start_nginx
ngx=$NGINX_PID
log=$WORKDIR/a.log
cfg=$WORKDIR/c.yaml
cat > "$cfg" <<CFG
auditing_plugins:
  - type: json_lines
    config:
      output_file: $log
      backup_count: 3
CFG
chmod 644 "$cfg"
start_collector "$log" run -c "$cfg" --pid "$ngx"

# wait_records LOG TYPE N: until LOG has N records of TYPE (the collector acts
# on a signal within one drain cycle)
wait_records() {
	local tries=200
	while [ "$(cat "$1" 2>/dev/null | grep -c "\"type\":\"$2\"")" -lt "$3" ]; do
		tries=$((tries - 1)); [ $tries -gt 0 ] || fail "$1: fewer than $3 $2 records"
		sleep 0.05
	done
}

kill -HUP "$SA_PID"; wait_records "$log" config_reload 1
before=$(ls /proc/"$SA_PID"/fd | wc -l)
for i in $(seq 2 101); do
	kill -HUP "$SA_PID"; wait_records "$log" config_reload "$i"
done
after=$(ls /proc/"$SA_PID"/fd | wc -l)
echo "fd count: $before before, $after after 100 SIGHUP reloads"
assert_eq "fds after 100 SIGHUP reloads" "$before" "$after"
assert_eq "reloads applied" 101 "$(grep -c '"status":"applied"' "$log")"

# logrotate with create: move the file away, HUP, records go to the new file
curl -s -o /dev/null "http://127.0.0.1:$port/before-move"
# written before the move: else the writer, noticing the move at its next
# batch, puts it in the file it makes again at the path
for _ in $(seq 200); do grep -q /before-move "$log" && break; sleep 0.025; done
mv "$log" "$log.moved"
kill -HUP "$SA_PID"
wait_records "$log" config_reload 1
curl -s -o /dev/null "http://127.0.0.1:$port/after-move"
# a bad config: rejected, the running one stays
echo "auditing_plugins: [{type: nope}]" > "$cfg"
kill -HUP "$SA_PID"; wait_records "$log" config_reload 2
grep -q '"status":"rejected"' "$log" || fail "a bad config was not rejected"
# SIGUSR1: rotate now
kill -USR1 "$SA_PID"
for _ in $(seq 100); do [ -e "$log.1" ] && break; sleep 0.05; done
[ -e "$log.1" ] || fail "SIGUSR1 did not rotate"
curl -s -o /dev/null "http://127.0.0.1:$port/after-rotate"
stop_collector
assert_eq "first record of the new file" rotate "$(head -n1 "$log" | jq -r .type)"
grep -q '/after-rotate' "$log" || fail "no record after rotation"
grep -q '/after-move' "$log.1" || fail "records after the move did not go to the new file"
grep -q '/before-move' "$log.moved" || fail "records before the move stayed in the old file"
for f in "$log" "$log.1" "$log.moved"; do assert_valid_jsonl "$f"; done
