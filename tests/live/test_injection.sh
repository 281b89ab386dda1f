#!/usr/bin/env bash
# Log injection end to end: a server that echoes what it is sent gets a
# payload with ANSI escapes (screen clear, colours, window title), CRLF plus
# a forged second audit record, a bearer token and a card number. The audit
# log must hold exactly one valid record for the exchange, with none of
# them intact: no ESC byte, no raw line break inside the record, no forged
# record, the token and the card redacted and listed in "redactions".
. "$(dirname "$0")/../lib/common.sh"
require_root
port=$(free_port)
log=$WORKDIR/audit.log
cat > "$WORKDIR/echo.py" <<'PY'
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Echo(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
PY
printf '\033[2J\033[H\033]0;owned\007\033[31mALERT\033[0m\r\n{"v":1,"seq":999,"type":"exchange","forged":true}\r\nAuthorization: Bearer tok3n.SECRET-value_123\r\ncard 4111 1111 1111 1111\r\n' \
	> "$WORKDIR/payload"
"$SOCKAUDIT" exec -o "$log" -- python3 "$WORKDIR/echo.py" "$port" >"$WORKDIR/out" 2>&1 &
SA_PID=$!
wait_port "$port" 200
echoed=$(curl -sf --data-binary @"$WORKDIR/payload" -H 'Content-Type: text/plain' \
	"http://127.0.0.1:$port/echo")
[ "$echoed" = "$(cat "$WORKDIR/payload")" ] || fail "the server did not echo the payload"
kill -TERM "$(pgrep -P "$SA_PID")"
wait "$SA_PID" || true
SA_PID=
assert_valid_jsonl "$log"
q='[.[] | select(.type=="exchange")]'
assert_eq "one exchange record" 1 "$(jqlog "$log" "$q | length")"
assert_eq "no forged record" 0 "$(jqlog "$log" '[.[] | select(.seq==999 or .forged)] | length')"
assert_eq "lines = records" "$(jqlog "$log" 'length')" "$(wc -l < "$log")"
grep -q $'\033' "$log" && fail "an ESC byte reached the log"
grep -q $'\r' "$log" && fail "a CR reached the log"
for s in 'tok3n.SECRET-value_123' '4111 1111 1111 1111' '4111111111111111' 'owned'; do
	grep -qF -- "$s" "$log" && fail "'$s' is in the log"
done
rec="$q | .[0]"
assert_eq "request redactions" "bearer_token,credit_card" \
	"$(jqlog "$log" "$rec | .redactions | sort | join(\",\")")"
body=$(jqlog "$log" "$rec | .response.body")
case "$body" in
*'ALERT\x0d\x0a{"v":1,"seq":999'*'Bearer [REDACTED:bearer_token]'*'card [REDACTED:credit_card]'*) ;;
*) fail "response body not as expected: $body" ;;
esac
assert_eq "request body equals response body" "$body" "$(jqlog "$log" "$rec | .request.body")"
echo "ok"
