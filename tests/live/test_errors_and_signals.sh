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
python3 "$LIB/../live/helpers/silent_server.py" "$port" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
log=$WORKDIR/term.log
start_collector "$log" run --pid "$SRV"
curl -s -m 2 "http://127.0.0.1:$port/pending" >/dev/null &
CURL=$!
for _ in $(seq 50); do
	[ "$(jqlog "$log" '.[] | select(.type=="collector_stop")' | wc -l)" = 0 ] || break
	grep -q pending "$log" 2>/dev/null && break
	ss -tn state established "( dport = :$port )" | grep -q "$port" && break
	sleep 0.1
done
kill -TERM "$SA_PID"
rc=0
wait "$SA_PID" || rc=$?
SA_PID=
wait "$CURL" 2>/dev/null || true
assert_eq "collector exit on SIGTERM" 0 "$rc"
assert_eq "pending written" shutdown "$(jqlog "$log" '.[] | select(.type=="exchange") | .outcome')"
assert_eq "stop reason" SIGTERM "$(jqlog "$log" '.[] | select(.type=="collector_stop") | .reason')"
echo ok
