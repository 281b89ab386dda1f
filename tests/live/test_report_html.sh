#!/usr/bin/env bash
# report --html on a log the collector wrote (HTTP, JSON-RPC, MCP, chained):
# one self-contained page, opened in headless Chromium. The page loads
# without console errors (and the check does see an error in a page that
# has one), every chart holds the marks the log calls for (bars summing to
# jq's counts, three lines per percentile chart), the chain table says
# verified, and the screenshot is kept in build/test-artifacts/report.png.
. "$(dirname "$0")/../lib/common.sh"
require_root
command -v chromium > /dev/null || skip "chromium is not installed (make deps)"
H=$LIB/../live/helpers
start_nginx
rpc_port=$(free_port)
python3 "$H/jsonrpc_server.py" "$rpc_port" 2>> "$WORKDIR/servers.err" &
rpc=$!
PIDS_TO_KILL+=("$rpc")
mcp_port=$(free_port)
python3 "$H/mcp_http_server.py" "$mcp_port" 2>> "$WORKDIR/servers.err" &
mcp=$!
PIDS_TO_KILL+=("$mcp")
wait_port "$rpc_port"
wait_port "$mcp_port"
log=$WORKDIR/audit.log
key=$WORKDIR/k.key
"$SOCKAUDIT" keygen "$key" > /dev/null
printf 'auditing_plugins:\n  - type: json_lines\n    config:\n      output_file: %s\n      integrity: {key_file: %s}\n' \
	"$log" "$key" > "$WORKDIR/c.yaml"
start_collector "$log" run -c "$WORKDIR/c.yaml" --pid "$NGINX_PID" --pid "$rpc" --pid "$mcp"
curl -s -o /dev/null "http://127.0.0.1:$port/items/[1-60]"
curl -s -o /dev/null "http://127.0.0.1:$port/status/201?n=[1-40]"
python3 "$H/jsonrpc_client.py" "$rpc_port" 2 9 > /dev/null
sleep 1.1	# a second time bin
curl -s -o /dev/null "http://127.0.0.1:$port/big.txt?r=[1-30]"
curl -s -o /dev/null -d 'password=hunter2' "http://127.0.0.1:$port/echo"
for id in 1 2 3; do
	curl -s -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
		--data "{\"jsonrpc\":\"2.0\",\"id\":$id,\"method\":\"tools/call\",\"params\":{\"name\":\"lookup\"}}" \
		"http://127.0.0.1:$mcp_port/mcp" > /dev/null
done
stop_collector

page=$WORKDIR/report.html
"$SOCKAUDIT" report --html "$page" --key "$key" "$log" > "$WORKDIR/report.txt"
grep -qiE '<script|(src|href)="?(https?:)?//' "$page" && fail "the page loads something or runs a script"

t_page=$SECONDS
art=$(dirname "$SOCKAUDIT")/test-artifacts
mkdir -p "$art"
# chrome PAGE ARGS...: headless Chromium with a fresh profile; its log in $WORKDIR/chrome.err
chrome() {
	local p=$1; shift
	rm -rf "$WORKDIR/profile"
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$WORKDIR/profile" --enable-logging=stderr --v=0 "$@" "file://$p" \
		2> "$WORKDIR/chrome.err"
}
console_errors() { grep -c 'CONSOLE' "$WORKDIR/chrome.err" || true; }
chrome "$page" --window-size=1366,900 --virtual-time-budget=2000 --screenshot="$art/report.png" > /dev/null
[ -s "$art/report.png" ] || fail "no screenshot: $(tail -5 "$WORKDIR/chrome.err")"
assert_eq "console errors" 0 "$(console_errors)"
chrome "$page" --dump-dom > "$WORKDIR/dom.html"
assert_eq "console errors (dump)" 0 "$(console_errors)"
# the check can fail: a page with a script error is seen
sed 's|</body>|<script>no_such_function()</script></body>|' "$page" > "$WORKDIR/broken.html"
chrome "$WORKDIR/broken.html" --dump-dom > /dev/null
assert_ge "console error seen in a broken page" 1 "$(console_errors)"

# the marks of each chart, from the DOM Chromium built
marks() { python3 - "$WORKDIR/dom.html" "$@" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
what = sys.argv[2]
charts = re.findall(r'<svg class="chart" data-kind="(\w+)".*?</svg>', dom, re.S)
bodies = re.findall(r'(<svg class="chart" data-kind="\w+".*?</svg>)', dom, re.S)
if what == "charts":
    print(len(charts))
elif what == "kinds":
    print(" ".join(charts))
elif what == "sum":          # sum KIND CLASS: data-n of the rects of that class in charts of KIND
    kind, cls = sys.argv[3], sys.argv[4]
    print(sum(int(n) for b in bodies if f'data-kind="{kind}"' in b
              for n in re.findall(rf'<rect class="{cls}" data-n="(\d+)"', b)))
elif what == "count":        # count KIND ELEMENT: elements in the charts of KIND
    kind, el = sys.argv[3], sys.argv[4]
    print(sum(len(re.findall(rf'<{el}\b', b)) for b in bodies if f'data-kind="{kind}"' in b))
PY
}
q='select(.type=="exchange")'
norm='(.request.target | sub("[?#].*$"; "") | split("/") | map(if test("^[0-9]+$") then "{n}" else . end) | join("/"))'
key_of="if (.request.target != null and .proto != \"raw\") then .request.method + \" \" + $norm elif .rpc.method then \"rpc \" + .rpc.method else \"other\" end"
endpoints=$(jq -s "[.[] | $q | select(.duration_ms != null) | $key_of] | unique | length" "$log")
tools=$(jq -s "[.[] | $q | select(.duration_ms != null and .rpc.tool != null) | .rpc.tool] | unique | length" "$log")
pct=$(( (endpoints < 4 ? endpoints : 4) + (tools < 4 ? tools : 4) ))
assert_ge "endpoints with latencies" 4 "$endpoints"
assert_eq "charts: requests, latency, loss and one per top endpoint/tool" $((3 + pct)) "$(marks charts)"
assert_eq "exchanges in the requests chart" "$(jq -s "[.[] | $q] | length" "$log")" "$(marks sum requests req)"
assert_eq "errors in the requests chart" "$(jq -s "[.[] | $q | select(.outcome == \"error\" or (.response.status // 0) >= 500)] | length" "$log")" "$(marks sum requests err)"
assert_eq "exchanges in the latency histogram" "$(jq -s "[.[] | $q | select(.duration_ms != null)] | length" "$log")" "$(marks sum latency lat)"
assert_eq "loss chart" "$(jq -s '[.[] | select(.type == "loss") | .count] | add // 0' "$log")" "$(marks sum loss loss)"
assert_eq "bars per time bin: requests = 2 x loss" "$(marks count requests rect)" "$(( 2 * $(marks count loss rect) ))"
assert_ge "time bins" 2 "$(marks count loss rect)"
assert_eq "three lines per percentile chart" $((3 * pct)) "$(marks count percentiles polyline)"
grep -q '<td>verified</td>' "$WORKDIR/dom.html" || fail "the chain table does not say verified"
grep -q 'lookup' "$WORKDIR/report.txt" || fail "the terminal report has no lookup tool row"
echo "log and page in $t_page s, Chromium runs done at $SECONDS s"
echo "screenshot: $art/report.png ($(stat -c %s "$art/report.png") bytes)"
echo ok
