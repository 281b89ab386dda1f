#!/usr/bin/env bash
# The endpoint's edges: off by default; a non-loopback address refused
# (nothing listens, one clear line) unless allow_remote, which warns and
# names CVE-2025-49596; a unix socket created 0660 with the configured
# group; only GET /healthz and /metrics; never a payload byte, even one the
# audited server just carried; the stats record in the log.
. "$(dirname "$0")/../lib/common.sh"
require_root
start_nginx
mport=$(free_port)

# refused: 0.0.0.0 without allow_remote; the collector does not start
rc=0
"$SOCKAUDIT" run --pid "$NGINX_PID" -o "$WORKDIR/refused.log" --listen "0.0.0.0:$mport" \
	2> "$WORKDIR/refused.err" || rc=$?
[ "$rc" != 0 ] || fail "a non-loopback --listen was accepted"
grep -q "metrics listen '0.0.0.0:$mport' is not a loopback address" "$WORKDIR/refused.err" ||
	fail "no clear refusal: $(cat "$WORKDIR/refused.err")"
assert_eq "refusal lines" 1 "$(grep -c error "$WORKDIR/refused.err")"
(exec 3<>"/dev/tcp/127.0.0.1/$mport") 2>/dev/null && fail "something listens on $mport after the refusal"
# check-config refuses it as well
cat > "$WORKDIR/remote.yaml" <<YAML
metrics: {listen: "0.0.0.0:$mport"}
auditing_plugins:
  - {type: json_lines, config: {output_file: $WORKDIR/x.log}}
YAML
chmod 644 "$WORKDIR/remote.yaml"
"$SOCKAUDIT" check-config -c "$WORKDIR/remote.yaml" > /dev/null 2>&1 && fail "check-config accepted 0.0.0.0"

# allowed explicitly: a warning naming the CVE, and it serves
sed -i 's/listen:/allow_remote: true, listen:/' "$WORKDIR/remote.yaml"
"$SOCKAUDIT" check-config -c "$WORKDIR/remote.yaml" > /dev/null 2>&1 || fail "check-config refused allow_remote"
start_collector "$WORKDIR/remote.log" run --pid "$NGINX_PID" -c "$WORKDIR/remote.yaml"
grep -q "CVE-2025-49596" "$WORKDIR/collector.err" || fail "allow_remote: no warning naming the CVE"
curl -sf "http://127.0.0.1:$mport/healthz" > /dev/null || fail "allow_remote: no answer"
stop_collector

# off by default: no listening socket of ours
start_collector "$WORKDIR/off.log" run --pid "$NGINX_PID"
ss -ltnpx 2>/dev/null | grep -q "pid=$SA_PID," && fail "the collector listens without --listen"
stop_collector

# unix socket, 0660, group adm; a secret carried by nginx never shows
sock=$WORKDIR/run/metrics.sock
mkdir -p "$WORKDIR/run"
cat > "$WORKDIR/unix.yaml" <<YAML
metrics: {listen: "unix:$sock", group: adm, stats_interval_s: 1}
auditing_plugins:
  - {type: json_lines, config: {output_file: $WORKDIR/placeholder.log}}
YAML
chmod 644 "$WORKDIR/unix.yaml"
start_collector "$WORKDIR/unix.log" run --pid "$NGINX_PID" -c "$WORKDIR/unix.yaml"
assert_eq "socket mode and group" "660 adm" "$(stat -c '%a %G' "$sock")"
secret="PAYLOAD-MARKER-$RANDOM$RANDOM"
for i in 1 2 3; do
	curl -s -o /dev/null -H "X-Note: $secret" "http://127.0.0.1:$port/$secret"
	curl -s -o /dev/null --data "$secret" "http://127.0.0.1:$port/echo"
done
for _ in $(seq 50); do
	grep -q "$secret" "$WORKDIR/unix.log" && break
	sleep 0.1
done
grep -q "$secret" "$WORKDIR/unix.log" || fail "the audit log did not record the marker (test proves nothing)"
for p in healthz metrics; do
	code=$(curl -s --unix-socket "$sock" -o "$WORKDIR/$p.out" -w '%{http_code}' "http://x/$p")
	assert_eq "GET /$p" 200 "$code"
	grep -q "$secret" "$WORKDIR/$p.out" && fail "/$p carries payload bytes"
done
jq -e '.status == "ok"' "$WORKDIR/healthz.out" > /dev/null || fail "healthz: $(cat "$WORKDIR/healthz.out")"
assert_eq "GET /other" 404 "$(curl -s --unix-socket "$sock" -o /dev/null -w '%{http_code}' http://x/other)"
assert_eq "POST /metrics" 405 "$(curl -s --unix-socket "$sock" -o /dev/null -w '%{http_code}' -d x http://x/metrics)"
# a stats record a second, with the figures of the snapshot
for _ in $(seq 30); do
	grep -q '"type":"stats"' "$WORKDIR/unix.log" && break
	sleep 0.1
done
stop_collector
[ -e "$sock" ] && fail "the socket is left behind after the stop"
jqlog "$WORKDIR/unix.log" '[.[] | select(.type=="stats")] | .[-1]' > "$WORKDIR/stats.json"
jq -e '.health == "ok" and .exchanges >= 6 and .kernel_ringbuf_full_events == 0 and
	.sink_1_state == "writing" and .sink_1_records > 0' "$WORKDIR/stats.json" > /dev/null ||
	fail "stats record: $(cat "$WORKDIR/stats.json")"
echo ok
