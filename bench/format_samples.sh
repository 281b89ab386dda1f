#!/usr/bin/env bash
# The same real exchange in every format, for docs/formats.md: a python echo
# server audited by `sockaudit exec` is sent a JSON login with a password,
# a bearer token and a card; the fields of the json_lines record it writes
# are then rendered by each formatter (build/bench/format_bench --render).
#   SOCKAUDIT=build/sockaudit bench/format_samples.sh
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
here=$(cd "$(dirname "$0")" && pwd)
BENCH=${BENCH:-$(dirname "$SOCKAUDIT")/bench/format_bench}
WORKDIR=$(mktemp -d /tmp/sockaudit-samples.XXXXXX)
trap 'rm -rf "$WORKDIR"' EXIT
. "$here/../tests/lib/nginx.sh"	# free_port, wait_port
port=$(free_port)
cat > "$WORKDIR/echo.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class Echo(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers["Content-Length"]); self.rfile.read(n)
        body = b'{"ok":true,"session":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln"}'
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
PY
"$SOCKAUDIT" exec -o "$WORKDIR/audit.log" -- python3 "$WORKDIR/echo.py" "$port" 2>/dev/null &
sa=$!
wait_port "$port" 200
curl -sf -H 'Content-Type: application/json' \
	--data-binary '{"user":"bob","password":"hunter2","card":"4111 1111 1111 1111"}' \
	"http://127.0.0.1:$port/v1/login?next=%2Fhome" >/dev/null
kill -TERM "$(pgrep -P "$sa")"; wait "$sa" || true
rec=$(grep '"type":"exchange"' "$WORKDIR/audit.log" | head -n 1)
echo "json_lines (as written by sockaudit):"
echo "$rec"
# the raw bodies were sent by us: the record only holds their redacted form
args=$(python3 - "$rec" <<'PY'
import json, sys, shlex, datetime
r = json.loads(sys.argv[1])
def ns(ts):
    d = datetime.datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 10**9 + int(ts[20:29])
req, resp = r["request"], r["response"]
print(" ".join(shlex.quote(str(x)) for x in [
    r["proc"]["pid"], r["proc"]["comm"], r["conn"]["local"], r["conn"]["peer"],
    req["method"], req["target"], req.get("host", ""),
    '{"user":"bob","password":"hunter2","card":"4111 1111 1111 1111"}', resp["status"],
    '{"ok":true,"session":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln"}',
    ns(req["ts"]), int(r["duration_ms"] * 1e6)]))
PY
)
for t in json_lines cef syslog line csv; do
	echo "$t (format_bench --render from that record's fields):"
	eval "\"$BENCH\" --render $t $args"
done
