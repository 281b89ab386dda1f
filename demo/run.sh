#!/usr/bin/env bash
# Audit the bundled demo HTTP service (demo/server.py) with sockaudit while
# demo/client.py sends it a mixed workload, then print where the audit log is
# and a summary of the records this run wrote.
#
#   SOCKAUDIT  the collector binary (default: build/sockaudit in this repository)
#   LOG        the audit log (default: /tmp/sockaudit-demo/audit.log; appended to,
#              and rotated by the collector at 10 MB into LOG.1 ... LOG.5)
#
# The summary covers this run only: the records from the collector_start to
# the collector_stop that carry this run's run_id (the collector prints it on
# stderr as "run_id=HEX" when auditing starts).
# Exits non-zero when the collector failed or wrote no exchange record.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
SOCKAUDIT=${SOCKAUDIT:-$repo/build/sockaudit}
LOG=${LOG:-/tmp/sockaudit-demo/audit.log}
START_TIMEOUT_S=60

die() { echo "demo: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (the collector loads BPF programs)"
[ -x "$SOCKAUDIT" ] || die "no collector binary at $SOCKAUDIT: run make, or set SOCKAUDIT"
command -v python3 >/dev/null || die "python3 is not installed (make deps installs it)"
command -v jq >/dev/null || die "jq is not installed (make deps installs it)"

mkdir -p "$(dirname "$LOG")"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
errfile=$(mktemp /tmp/sockaudit-demo-stderr.XXXXXX)
COL=

cleanup() {
	local srv
	if [ -n "$COL" ] && kill -0 "$COL" 2>/dev/null; then
		srv=$(pgrep -P "$COL" || true)
		[ -n "$srv" ] && kill -TERM "$srv" 2>/dev/null || true
		kill -TERM "$COL" 2>/dev/null || true
		wait "$COL" 2>/dev/null || true
	fi
	rm -f "$errfile"
}
trap cleanup EXIT

echo "demo: starting python3 demo/server.py on 127.0.0.1:$port under $SOCKAUDIT exec"
"$SOCKAUDIT" exec -o "$LOG" -- python3 "$here/server.py" "$port" 2>"$errfile" &
COL=$!

# The server listens once the collector has attached and released it.
deadline=$((SECONDS + START_TIMEOUT_S))
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
	if ! kill -0 "$COL" 2>/dev/null; then
		rc=0
		wait "$COL" || rc=$?
		COL=
		cat "$errfile" >&2
		die "the collector exited with status $rc before the server listened"
	fi
	[ "$SECONDS" -lt "$deadline" ] || die "the server did not listen on port $port within ${START_TIMEOUT_S}s"
	sleep 0.1
done

client_rc=0
python3 "$here/client.py" "$port" || client_rc=$?

srv=$(pgrep -P "$COL" || true)
[ -n "$srv" ] || die "cannot find the server process (child of collector pid $COL)"
kill -TERM "$srv"
rc=0
wait "$COL" || rc=$?
COL=
cat "$errfile" >&2

[ "$rc" = 0 ] || die "the collector (or the server it ran) exited with status $rc"

run_id=$(grep -o 'run_id=[0-9a-f]\{32\}' "$errfile" | head -n1 | cut -d= -f2 || true)
[ -n "$run_id" ] || die "the collector did not print its run_id on stderr"

# this run's records (rotations during the run leave its start in LOG.N)
files=()
for n in 5 4 3 2 1; do
	if [ -f "$LOG.$n" ]; then files+=("$LOG.$n"); fi
done
files+=("$LOG")
records=$(cat "${files[@]}" | jq -c -s --arg id "$run_id" '
	(map(.type == "collector_start" and .run_id == $id) | indices(true) | last) as $i
	| if $i == null then empty else .[$i:]
	  | (map(.type == "collector_stop" and .run_id == $id) | indices(true) | first) as $j
	  | if $j == null then .[] else .[:$j + 1][] end end')
[ -n "$records" ] || die "no collector_start with run_id $run_id in ${files[*]}"
summary() { printf '%s\n' "$records" | jq -s -r "$1"; }

exchanges=$(summary '[.[] | select(.type == "exchange")] | length')
echo
echo "audit log: $LOG"
echo "run_id: $run_id"
echo "records written by this run: $(summary 'length')"
echo "exchange records: $exchanges"
echo "by status:"
summary '[.[] | select(.type == "exchange") | (.response.status // "none" | tostring)]
	| group_by(.) | .[] | "  \(.[0]): \(length)"'
summary '[.[] | select(.type == "exchange") | .duration_ms | select(. != null)] | sort
	| if length == 0 then "duration_ms: no paired exchanges"
	  else "duration_ms: p50 \(.[(length * 0.50 | ceil) - 1]), p99 \(.[(length * 0.99 | ceil) - 1])"
	  end'
echo "loss records: $(summary '[.[] | select(.type == "loss")] | length')"
echo "try: jq -c 'select(.type == \"exchange\") | [.request.method, .request.target, .response.status, .duration_ms]' $LOG"

[ "$client_rc" = 0 ] || die "the demo client failed (status $client_rc)"
[ "$exchanges" -gt 0 ] || die "the collector wrote no exchange record"
