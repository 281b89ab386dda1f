#!/usr/bin/env bash
# --exe: a copy of nginx running before the collector starts is found at
# start; nginx named through a symlink, started after the collector, reloaded
# (new workers) and restarted: every request is recorded; a python server
# (another binary) is not. A second --exe names a copy of nginx that is then
# upgraded (a new file, a new inode): a restart before SIGHUP is not matched,
# after SIGHUP re-reads the selectors it is again.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/service.sh"
require_root
log=$WORKDIR/exe.log
port=$(free_port)
nginx_conf "$port" 2
ln -s "$(readlink -f "$(command -v nginx)")" "$WORKDIR/nginx-link"
mkdir -p "$WORKDIR/bin" "$WORKDIR/copy"
chmod 755 "$WORKDIR/bin"
cp "$(readlink -f "$(command -v nginx)")" "$WORKDIR/bin/nginx"
copy_port=$(free_port)
sed -e "s/127.0.0.1:$port/127.0.0.1:$copy_port/" -e "s|$WORKDIR/nginx.pid|$WORKDIR/copy/nginx.pid|" \
	"$WORKDIR/nginx.conf" > "$WORKDIR/copy/nginx.conf"
py_port=$(free_port)
$(http_server_cmd "$py_port") >/dev/null 2>&1 &
PIDS_TO_KILL+=("$!")
wait_port "$py_port"

# raw_tp here (tracepoint in the cgroup test): selectors work in both attach modes
run_nginx() {	# run_nginx BINARY CONF PORT: start it; sets NG
	"$1" -c "$2" -e "$WORKDIR/logs/error.log" &
	NG=$!
	PIDS_TO_KILL+=("$NG")
	wait_port "$3"
}
stop_nginx() { kill -QUIT "$1"; wait "$1" 2>/dev/null || true; }
workers() { pgrep -P "$1" | sort | tr '\n' ' '; }

# the copy runs before the collector starts (master and 2 workers): found at
# start through /proc/PID/exe
run_nginx "$WORKDIR/bin/nginx" "$WORKDIR/copy/nginx.conf" "$copy_port"
early=$NG
# /usr/sbin/nginx matches every nginx on the machine, other tests' and benchmarks' too:
# a larger ring, and the loss counters shown if a request is missing
start_collector "$log" run --attach raw_tp --ringbuf-mb 64 --exe "$WORKDIR/nginx-link" --exe "$WORKDIR/bin/nginx"

assert_eq "copy, running before the start" 200 "$(get "$copy_port" "/?copy-early")"
stop_nginx "$early"
run_nginx nginx "$WORKDIR/nginx.conf" "$port"
for i in 1 2 3; do assert_eq "first $i" 200 "$(get "$port" "/?first$i")"; done
old=$(workers "$NG")
nginx -c "$WORKDIR/nginx.conf" -e "$WORKDIR/logs/error.log" -s reload
for _ in $(seq 100); do
	new=$(workers "$NG")
	[ -n "$new" ] && [ "$(comm -12 <(tr ' ' '\n' <<<"$old" | sort) <(tr ' ' '\n' <<<"$new" | sort) | grep -c .)" = 0 ] && break
	sleep 0.05
done
[ "$new" != "$old" ] || fail "nginx -s reload started no new workers"
for i in 1 2 3; do assert_eq "reloaded $i" 200 "$(get "$port" "/?reloaded$i")"; done
stop_nginx "$NG"
run_nginx nginx "$WORKDIR/nginx.conf" "$port"
for i in 1 2 3; do assert_eq "restarted $i" 200 "$(get "$port" "/?restarted$i")"; done
assert_eq "python" 404 "$(get "$py_port" /python)"

# the copy: matched, then upgraded in place (new inode): not until SIGHUP
run_nginx "$WORKDIR/bin/nginx" "$WORKDIR/copy/nginx.conf" "$copy_port"
assert_eq "copy" 200 "$(get "$copy_port" "/?copy")"
stop_nginx "$NG"
cp "$WORKDIR/bin/nginx" "$WORKDIR/bin/nginx.new" && mv "$WORKDIR/bin/nginx.new" "$WORKDIR/bin/nginx"
run_nginx "$WORKDIR/bin/nginx" "$WORKDIR/copy/nginx.conf" "$copy_port"
assert_eq "upgraded" 200 "$(get "$copy_port" "/?upgraded-before-sighup")"
stop_nginx "$NG"
kill -HUP "$SA_PID"
for _ in $(seq 100); do grep -q '"config_reload"' "$log" && break; sleep 0.05; done
run_nginx "$WORKDIR/bin/nginx" "$WORKDIR/copy/nginx.conf" "$copy_port"
assert_eq "after SIGHUP" 200 "$(get "$copy_port" "/?after-sighup")"
stop_nginx "$NG"
stop_collector

assert_valid_jsonl "$log"
loss=$(jqlog "$log" '.[] | select(.type=="collector_stop") | to_entries | map(select((.key | test("^(kernel|pipeline)_")) and .value > 0)) | from_entries | tojson')
echo "other nginx traffic seen: $(jqlog "$log" "[.[] | select(.type==\"exchange\" and (.conn.local | endswith(\":$port\") or endswith(\":$copy_port\") | not))] | length") exchanges; loss counters: $loss"
assert_eq "nginx: started after, reloaded, restarted" \
	"/?first1 /?first2 /?first3 /?reloaded1 /?reloaded2 /?reloaded3 /?restarted1 /?restarted2 /?restarted3" \
	"$(targets_of "$log" "$port")"
assert_eq "python (another binary)" "" "$(targets_of "$log" "$py_port")"
assert_eq "the copy: running at start, before the upgrade, after SIGHUP" "/?after-sighup /?copy /?copy-early" \
	"$(targets_of "$log" "$copy_port")"
assert_eq "exe of the recorded nginx" "$(readlink -f "$(command -v nginx)")" \
	"$(jqlog "$log" "[.[] | select(.type==\"exchange\" and (.conn.local | endswith(\":$port\"))) | .proc.exe] | unique | join(\",\")")"
jqlog "$log" '.[] | select(.type=="collector_start") | .selectors' | grep -q "^exe:$WORKDIR/nginx-link=[0-9]*,exe:$WORKDIR/bin/nginx=3$" \
	|| fail "collector_start selectors: $(jqlog "$log" '.[] | select(.type=="collector_start") | .selectors')"
echo "ok: 9 nginx requests over reload and restart, upgrade matched after SIGHUP only"
