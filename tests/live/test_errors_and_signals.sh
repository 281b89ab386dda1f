#!/usr/bin/env bash
# Clear one-line errors for bad input, the exit status of exec, and SIGTERM:
# capture stops, pending requests are written (outcome shutdown), exit 0.
. "$(dirname "$0")/../lib/common.sh"
require_root
expect_error() {	# expect_error PATTERN CMD... : exit non-zero, one stderr line matching
	local pat=$1 rc=0; shift
	"$@" >/dev/null 2>"$WORKDIR/err" || rc=$?
	[ "$rc" != 0 ] || fail "'$*' succeeded"
	grep -q -- "$pat" "$WORKDIR/err" || fail "'$*': no '$pat' in: $(cat "$WORKDIR/err")"
	[ "$(grep -c 'error' "$WORKDIR/err")" = 1 ] || fail "'$*': not one error line: $(cat "$WORKDIR/err")"
}
dead=$(sh -c 'echo $$')
expect_error "pid $dead does not exist" "$SOCKAUDIT" run --pid "$dead" -o "$WORKDIR/x.log"
expect_error "cannot open audit log $WORKDIR/nodir/x.log" "$SOCKAUDIT" exec -o "$WORKDIR/nodir/x.log" -- true
expect_error "not a regular file" "$SOCKAUDIT" exec -o /dev/null -- true
expect_error "--max-capture '99999' is not a whole number" "$SOCKAUDIT" exec --max-capture 99999 -o "$WORKDIR/x.log" -- true
expect_error "--capture-budget '0' is not a whole number in 1..268435456" "$SOCKAUDIT" exec --capture-budget 0 -o "$WORKDIR/x.log" -- true
expect_error "--ttl 'soon'" "$SOCKAUDIT" exec --ttl soon -o "$WORKDIR/x.log" -- true
expect_error "unknown command" "$SOCKAUDIT" frobnicate
# numbers: one parser for flags and file; a duration that rounds to 0 ms is refused
expect_error "--ttl '1e-9' is less than 1 ms" "$SOCKAUDIT" exec --ttl 1e-9 -o "$WORKDIR/x.log" -- true
expect_error "--ttl '0x10' is not a number of seconds" "$SOCKAUDIT" exec --ttl 0x10 -o "$WORKDIR/x.log" -- true
expect_error "--max-capture ' 64' is not a whole number" "$SOCKAUDIT" exec --max-capture ' 64' -o "$WORKDIR/x.log" -- true
expect_error "the audit log path is empty" "$SOCKAUDIT" exec -o "" -- true
[ ! -e "$WORKDIR/x.log" ] || fail "a refused start created its audit log"
# --pid: a kernel thread, a zombie and a thread id are refused before anything starts
expect_error "pid 2 is a kernel thread" "$SOCKAUDIT" run --pid 2 -o "$WORKDIR/x.log"
python3 -c '
import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
sys.stdin.read()' > "$WORKDIR/zombie.pid" < <(sleep 60) &
PIDS_TO_KILL+=("$!")
until [ -s "$WORKDIR/zombie.pid" ]; do sleep 0.05; done
zombie=$(cat "$WORKDIR/zombie.pid")
until [ "$(awk '{print $3}' "/proc/$zombie/stat" 2>/dev/null)" = Z ]; do sleep 0.05; done
expect_error "pid $zombie is a zombie" "$SOCKAUDIT" run --pid "$zombie" -o "$WORKDIR/x.log"
python3 -c '
import sys, threading
t = threading.Thread(target=sys.stdin.read)
t.start()
print(t.native_id, flush=True)' > "$WORKDIR/thread.id" < <(sleep 60) &
PIDS_TO_KILL+=("$!")
until [ -s "$WORKDIR/thread.id" ]; do sleep 0.05; done
tid=$(cat "$WORKDIR/thread.id")
expect_error "pid $tid is a thread of process" "$SOCKAUDIT" run --pid "$tid" -o "$WORKDIR/x.log"
[ ! -e "$WORKDIR/x.log" ] || fail "a refused start created its audit log"
# check-config reads the key file as a start would
"$SOCKAUDIT" keygen "$WORKDIR/k.key" >/dev/null
keycfg() {
	printf 'auditing_plugins:\n  - type: json_lines\n    config:\n      output_file: %s\n      integrity: {key_file: %s}\n' \
		"$WORKDIR/k.log" "$1" > "$WORKDIR/k.yaml"
	chmod 644 "$WORKDIR/k.yaml"
}
keycfg "$WORKDIR/k.key"
"$SOCKAUDIT" check-config -c "$WORKDIR/k.yaml" >/dev/null || fail "check-config refused a good key"
mkfifo "$WORKDIR/fifo.key"
keycfg "$WORKDIR/fifo.key"
expect_error "fifo.key is not a regular file" timeout 5 "$SOCKAUDIT" check-config -c "$WORKDIR/k.yaml"
ln -s "$WORKDIR/k.key" "$WORKDIR/link.key"
keycfg "$WORKDIR/link.key"
expect_error "link.key is a symbolic link" "$SOCKAUDIT" check-config -c "$WORKDIR/k.yaml"
cp "$WORKDIR/k.key" "$WORKDIR/wide.key"; chmod 644 "$WORKDIR/wide.key"
keycfg "$WORKDIR/wide.key"
expect_error "wide.key has mode 0644" "$SOCKAUDIT" check-config -c "$WORKDIR/k.yaml"
expect_error "wide.key has mode 0644" "$SOCKAUDIT" exec -c "$WORKDIR/k.yaml" -- true
[ ! -e "$WORKDIR/k.log" ] || fail "a refused key still let the audit log be created"
if id nobody >/dev/null 2>&1; then
	cp "$WORKDIR/k.key" "$WORKDIR/theirs.key"; chown nobody "$WORKDIR/theirs.key"
	keycfg "$WORKDIR/theirs.key"
	expect_error "theirs.key is owned by user nobody" "$SOCKAUDIT" check-config -c "$WORKDIR/k.yaml"
	keycfg "$WORKDIR/k.key"
	chown nobody "$WORKDIR/k.yaml"; chmod 444 "$WORKDIR/k.yaml"
	expect_error "k.yaml is owned by user nobody" "$SOCKAUDIT" check-config -c "$WORKDIR/k.yaml"
fi
# flags override the file's settings, wherever -c stands
printf 'auditing_plugins:\n  - type: json_lines\n    config:\n      output_file: %s\ncorrelation: {request_ttl_s: 60}\ncapture: {max_capture_bytes: 1024}\n' \
	"$WORKDIR/o.log" > "$WORKDIR/o.yaml"
chmod 644 "$WORKDIR/o.yaml"
"$SOCKAUDIT" exec -c "$WORKDIR/o.yaml" --ttl 5 -q -- true
"$SOCKAUDIT" exec --max-capture 2048 -q -c "$WORKDIR/o.yaml" -- true
assert_eq "settings of two starts (file, then flags over it)" "5000 1024,60000 2048" \
	"$(jqlog "$WORKDIR/o.log" '[.[] | select(.type=="collector_start") |
		"\(.request_ttl_ms) \(.max_capture_bytes)"] | join(",")')"
# the clobber of issue 12: output_file twice, the last one a passwd-like file
cp /etc/passwd "$WORKDIR/passwd"; chmod 644 "$WORKDIR/passwd"
before=$(sha256sum < "$WORKDIR/passwd")
printf 'auditing_plugins:\n  - type: json_lines\n    config:\n      output_file: %s\n      output_file: %s\n' \
	"$WORKDIR/dup.log" "$WORKDIR/passwd" > "$WORKDIR/dup.yaml"
chmod 644 "$WORKDIR/dup.yaml"
expect_error "dup.yaml:5: key 'output_file' is given twice, at lines 4 and 5" \
	"$SOCKAUDIT" exec -c "$WORKDIR/dup.yaml" -- true
expect_error "is given twice, at lines 4 and 5" "$SOCKAUDIT" check-config -c "$WORKDIR/dup.yaml"
assert_eq "passwd copy bytes" "$before" "$(sha256sum < "$WORKDIR/passwd")"
assert_eq "passwd copy mode" 644 "$(stat -c %a "$WORKDIR/passwd")"
[ ! -e "$WORKDIR/dup.log" ] || fail "a refused config created its audit log"
# a config with no sink says so, not another section's key
printf 'capture: {attach: raw_tp}\n' > "$WORKDIR/nosink.yaml"; chmod 644 "$WORKDIR/nosink.yaml"
expect_error "the config has no sink" "$SOCKAUDIT" run --pid 1 -c "$WORKDIR/nosink.yaml"
expect_error "cannot execute /nonexistent" "$SOCKAUDIT" exec -o "$WORKDIR/x.log" -- /nonexistent
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	rm -f /tmp/sockaudit-nobody.log
	expect_error "not running as root" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$SOCKAUDIT" exec -o /tmp/sockaudit-nobody.log -- true
	[ ! -e /tmp/sockaudit-nobody.log ] || fail "a refused start still created its audit log"
fi

rc=0
"$SOCKAUDIT" exec -o "$WORKDIR/status.log" -- sh -c 'exit 7' 2>/dev/null || rc=$?
assert_eq "exec passes on the exit status" 7 "$rc"

# SIGTERM while a request is pending: written as shutdown, then exit 0
port=$(free_port)
python3 "$LIB/../live/helpers/silent_server.py" "$port" "$WORKDIR/received" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
log=$WORKDIR/term.log
start_collector "$log" run --pid "$SRV"
curl -s -m 2 "http://127.0.0.1:$port/pending" >/dev/null &
CURL=$!
# until the server has read the request (its recv was captured)
for _ in $(seq 100); do
	[ -s "$WORKDIR/received" ] && break
	sleep 0.05
done
[ -s "$WORKDIR/received" ] || fail "the silent server never received the request"
kill -TERM "$SA_PID"
rc=0
wait "$SA_PID" || rc=$?
SA_PID=
wait "$CURL" 2>/dev/null || true
assert_eq "collector exit on SIGTERM" 0 "$rc"
assert_eq "pending written" shutdown "$(jqlog "$log" '.[] | select(.type=="exchange") | .outcome')"
assert_eq "stop reason" SIGTERM "$(jqlog "$log" '.[] | select(.type=="collector_stop") | .reason')"
echo ok
