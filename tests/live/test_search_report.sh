#!/usr/bin/env bash
# search and report on logs the collector wrote: nginx (HTTP), a JSON-RPC
# server and an MCP Streamable HTTP server under one collector, with size
# rotation, gzip and the integrity chain. Every selector is asked of
# `sockaudit search` and of jq over the same files in order, and the answers
# (seq and ts of each record) must be the same; then the failure paths:
# --verify on a modified line, --checkpoint continuing after the last run,
# exit statuses, and report's rows against jq.
. "$(dirname "$0")/../lib/common.sh"
require_root
H=$LIB/../live/helpers
start_nginx
ngx=$NGINX_PID
rpc_port=$(free_port)
python3 "$H/jsonrpc_server.py" "$rpc_port" 2>> "$WORKDIR/servers.err" &
PIDS_TO_KILL+=("$!")
rpc=$!
mcp_port=$(free_port)
python3 "$H/mcp_http_server.py" "$mcp_port" 2>> "$WORKDIR/servers.err" &
PIDS_TO_KILL+=("$!")
mcp=$!
wait_port "$rpc_port"
wait_port "$mcp_port"
mkdir -p "$WORKDIR/set"
log=$WORKDIR/set/audit.log
key=$WORKDIR/k.key
"$SOCKAUDIT" keygen "$key" > /dev/null
cat > "$WORKDIR/c.yaml" <<CFG
auditing_plugins:
  - type: json_lines
    config:
      output_file: $log
      max_file_size_mb: 1
      backup_count: 50
      compress: true
      integrity: {key_file: $key, checkpoint_every_records: 500}
CFG
# large excerpts: fewer requests fill the 1 MiB files
start_collector "$log" run -c "$WORKDIR/c.yaml" --body-excerpt 4096 --pid "$ngx" --pid "$rpc" --pid "$mcp"
curl -s -o /dev/null "http://127.0.0.1:$port/big.txt?r=[1-300]"
curl -s -o /dev/null "http://127.0.0.1:$port/items/[1-40]"
curl -s -o /dev/null "http://127.0.0.1:$port/status/201?n=[1-20]"
curl -s -o /dev/null -d 'user=a&password=hunter2' "http://127.0.0.1:$port/echo"
curl -s -o /dev/null "http://127.0.0.1:$port/index.html"
python3 "$H/jsonrpc_client.py" "$rpc_port" 3 9 > /dev/null
post() { curl -s -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
	--data "$1" "http://127.0.0.1:$mcp_port/mcp" >/dev/null; }
post '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
post '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"lookup","arguments":{}}}'
post '{"jsonrpc":"2.0","id":3,"method":"nope"}'
stop_collector
echo "log written ($SECONDS s)"
ls "$log".*.gz > /dev/null 2>&1 || fail "the log did not rotate into .gz files"

# the set in order, oldest first: what jq reads
files=()
for k in $(seq 50 -1 1); do
	for f in "$log.$k" "$log.$k.gz"; do [ -e "$f" ] && files+=("$f"); done
done
files+=("$log")
zcat -f "${files[@]}" > "$WORKDIR/all.jsonl"
total=$(wc -l < "$WORKDIR/all.jsonl")

# same QUESTION ARGS...: search's answer must equal jq's select(QUESTION) over the
# set. The questions are collected and jq answers all of them in one pass (check_all).
qs=()
args=()
same() {
	local q=$1 a; shift
	printf -v a '%q ' "$@"
	qs+=("$q")
	args+=("$a")
}
check_all() {
	local prog= k want got
	for k in "${!qs[@]}"; do
		prog+="${prog:+, }(if (${qs[$k]}) then \"$k \\(.seq) \\(.ts)\" else empty end)"
	done
	jq -r "$prog" "$WORKDIR/all.jsonl" > "$WORKDIR/answers"
	for k in "${!qs[@]}"; do
		want=$(awk -v k="$k" '$1 == k {print $2 " " $3}' "$WORKDIR/answers")
		got=$(eval "\"\$SOCKAUDIT\" search --format csv ${args[$k]} \"\$log\"" | awk -F, 'NR > 1 {print $1 " " $2}')
		[ "$got" = "$want" ] || fail "search ${args[$k]}: $(echo "$got" | grep -c .) records, jq (${qs[$k]}): $(echo "$want" | grep -c .)"
		[ -n "$want" ] || fail "search ${args[$k]}: the question has no answer in this log; it tests nothing"
	done
}
ts100=$(jq -r 'select(.type=="exchange") | .ts' "$WORKDIR/all.jsonl" | sed -n 100p)
ts400=$(jq -r 'select(.type=="exchange") | .ts' "$WORKDIR/all.jsonl" | sed -n 400p)
midnight=$(date -d 'today 00:00' +%s)
boot=$(awk '/^btime/ {print $2}' /proc/stat)
ngx=$(jq -s -r 'map(select(.proc.comm=="nginx"))[0].proc.pid' "$WORKDIR/all.jsonl")	# the worker
secs='(.ts | sub("\\.[0-9]+Z$"; "Z") | fromdate)'
same '.type=="exchange"' --type exchange
same '.type=="rotate" or .type=="checkpoint"' --type rotate,checkpoint
same '.response.status>=400 and .response.status<500' --status 4xx
same '.response.status==201 or .response.status==404' --status 201,404
same '.response.status>=200 and .response.status<=299' --status 200-299
same '.request.method=="POST" and (.request.target|startswith("/echo"))' --method POST --target '/echo*'
same '(.request.target // "") | test("^/items/[0-9]+$")' --target '/items/*'
same '.proto=="jsonrpc"' --proto jsonrpc
same '.rpc.tool=="get_weather"' --tool get_weather
same '.rpc.tool=="lookup"' --tool lookup
same '.rpc.method=="no/such" or .rpc.method=="nope"' --rpc-method no/such,nope
same '.rpc.error != null' --rpc-error any
same '.rpc.error.code == -32601' --rpc-error -32601
same '.outcome=="error"' --outcome error
same '.outcome=="notification"' --outcome notification
same '.type=="exchange" and (.conn.peer|startswith("127."))' --peer 127.0.0.0/8
same ".proc.pid==$ngx" --pid "$ngx"
same ".proc.pid==$rpc or .proc.pid==$mcp" --pid "$rpc,$mcp"
same '.proc.comm=="nginx"' --comm nginx
same '(.proc.exe // "") | test("nginx")' --exe '*nginx*'
same '.proc.uid != null and .proc.uid >= 0' --uid 0-
same "(.conn.local // \"\") | endswith(\":$rpc_port\")" --local-port "$rpc_port"
same '.conn.transport=="tcp"' --transport tcp
same '.conn.role=="server"' --role server
same '(.duration_ms // 0) > 0.5' --slower-than 500us
same '.duration_ms != null and .duration_ms < 0.1' --faster-than 0.1ms
same '.critical==true' --critical
same '(.redactions // []) | length > 0' --redacted any
same '(.redactions // []) | index("password") != null' --redacted password
same '.seq>=10 and .seq<=20' --seq 10-20
same '((.request.body // "") | contains("hello from sockaudit")) or ((.response.body // "") | contains("hello from sockaudit"))' --text 'hello from sockaudit'
same ".ts >= \"$ts100\" and .ts < \"$ts400\"" -ts "$ts100" -te "$ts400"
same "$secs >= $midnight" -ts today
same "$secs >= $boot" -ts boot
same ".type==\"exchange\" and .response.status==404 and .proc.pid==$ngx" --status 404 --pid "$ngx" --type exchange
check_all
echo "selectors compared with jq: ${#qs[@]} ($SECONDS s)"

# output forms and exit statuses
ex=$(jq -c 'select(.type=="exchange")' "$WORKDIR/all.jsonl" | wc -l)
assert_eq "--count" "$ex" "$("$SOCKAUDIT" search --count --type exchange "$log")"
assert_eq "--format text: a line each" "$ex" "$("$SOCKAUDIT" search --format text --type exchange "$log" | wc -l)"
assert_eq "--format csv: header and a row each" $((ex + 1)) "$("$SOCKAUDIT" search --format csv --type exchange "$log" | python3 -c 'import csv,sys; print(len(list(csv.reader(sys.stdin))))')"
assert_eq "csv carries the tool" lookup "$("$SOCKAUDIT" search --format csv --tool lookup "$log" | python3 -c 'import csv,sys; r=list(csv.DictReader(sys.stdin)); print(r[0]["tool"])')"
assert_eq "stdin" "$("$SOCKAUDIT" search --count --tool get_weather "$log")" "$(zcat -f "${files[@]}" | "$SOCKAUDIT" search --count --tool get_weather -)"
assert_eq "a directory" "$total" "$("$SOCKAUDIT" search --count "$WORKDIR/set")"
rc=0; "$SOCKAUDIT" search --peer 10.0.0.0/8 "$log" > /dev/null || rc=$?
assert_eq "nothing found: exit 1" 1 "$rc"
rc=0; "$SOCKAUDIT" search --status 6xx "$log" 2> "$WORKDIR/err" || rc=$?
assert_eq "bad selector: exit 2" 2 "$rc"
grep -q "status '6xx'" "$WORKDIR/err" || fail "the error does not name the value: $(cat "$WORKDIR/err")"
rc=0; "$SOCKAUDIT" search "$WORKDIR/nope.log" 2> /dev/null || rc=$?
assert_eq "missing log: exit 2" 2 "$rc"

# --verify: clean, then a modified line in a rotated .gz file
"$SOCKAUDIT" search --verify --key "$key" --count --tool lookup "$log" > /dev/null 2>&1 \
	|| fail "--verify on the clean set: $("$SOCKAUDIT" search --verify --key "$key" --count "$log" 2>&1)"
cp -a "$WORKDIR/set" "$WORKDIR/bad"
gzs=("$WORKDIR"/bad/audit.log.*.gz)
gz=${gzs[0]}
line=$(zcat "$gz" | grep -n '"type":"exchange"' | sed -n 5p | cut -d: -f1)
zcat "$gz" | sed "${line}s/\"comm\":\"nginx\"/\"comm\":\"nginy\"/" | gzip > "$gz.t" && mv "$gz.t" "$gz"
rc=0; "$SOCKAUDIT" search --verify --key "$key" --count "$WORKDIR/bad/audit.log" > "$WORKDIR/out" 2> "$WORKDIR/err" || rc=$?
assert_eq "--verify on a modified line: exit 2" 2 "$rc"
grep -q "TAMPERED $gz:$line: modified" "$WORKDIR/err" || fail "--verify does not name $gz:$line: $(cat "$WORKDIR/err")"
[ ! -s "$WORKDIR/out" ] || fail "--verify printed results from a tampered log"

# --checkpoint: the first run sees the log as it was, the second only what came after,
# also when the log was rotated (renamed) in between
mkdir "$WORKDIR/cp"
half=$(( $(wc -l < "$log") / 2 ))
head -n "$half" "$log" > "$WORKDIR/cp/a.log"
"$SOCKAUDIT" search --checkpoint "$WORKDIR/cp.state" "$WORKDIR/cp/a.log" | jq -r .seq > "$WORKDIR/run1"
assert_eq "first checkpoint run" "$half" "$(wc -l < "$WORKDIR/run1")"
rc=0; "$SOCKAUDIT" search --checkpoint "$WORKDIR/cp.state" "$WORKDIR/cp/a.log" > "$WORKDIR/run2" || rc=$?
assert_eq "nothing new: exit 1" "1 0" "$rc $(wc -l < "$WORKDIR/run2")"
sed -n "$((half + 1)),$((half + 20))p" "$log" >> "$WORKDIR/cp/a.log"
mv "$WORKDIR/cp/a.log" "$WORKDIR/cp/a.log.1"
tail -n +"$((half + 21))" "$log" > "$WORKDIR/cp/a.log"
"$SOCKAUDIT" search --checkpoint "$WORKDIR/cp.state" "$WORKDIR/cp/a.log" | jq -r .seq > "$WORKDIR/run3"
assert_eq "after the checkpoint, across a rotation" "$(tail -n +"$((half + 1))" "$log" | jq -r .seq)" "$(cat "$WORKDIR/run3")"
grep -q "^sockaudit-checkpoint 1 [0-9]* $(stat -c %i "$WORKDIR/cp/a.log") " "$WORKDIR/cp.state" \
	|| fail "the checkpoint does not name the current file's inode: $(cat "$WORKDIR/cp.state")"
# a record being written (no newline yet) is left for the next run, then read whole
rec=$(sed -n 3p "$log")
printf '%s' "${rec:0:40}" >> "$WORKDIR/cp/a.log"
rc=0; "$SOCKAUDIT" search --checkpoint "$WORKDIR/cp.state" "$WORKDIR/cp/a.log" > "$WORKDIR/run4" || rc=$?
assert_eq "a half-written line: nothing yet" "1 0" "$rc $(wc -l < "$WORKDIR/run4")"
printf '%s\n' "${rec:40}" >> "$WORKDIR/cp/a.log"
assert_eq "the line once whole" "$(echo "$rec" | jq -r .seq)" \
	"$("$SOCKAUDIT" search --checkpoint "$WORKDIR/cp.state" "$WORKDIR/cp/a.log" | jq -r .seq)"

# report: the rows against jq, and the drill-down selector each row names
"$SOCKAUDIT" report "$log" > "$WORKDIR/report.txt"
row=$(grep -E '^  GET /items/\{n\} ' "$WORKDIR/report.txt") || fail "no /items/{n} row: $(cat "$WORKDIR/report.txt")"
assert_eq "endpoint row count" 40 "$(echo "$row" | awk '{print $3}')"
sel=$(echo "$row" | sed 's/.*  --method/--method/')
assert_eq "its selector finds the same" 40 "$(eval "\"\$SOCKAUDIT\" search --count $sel \"\$log\"")"
tools=$(grep -A5 '^By MCP tool' "$WORKDIR/report.txt" | grep -E '^  get_weather ' | awk '{print $2}')
assert_eq "tool row" "$(jq -c 'select(.rpc.tool=="get_weather")' "$WORKDIR/all.jsonl" | wc -l)" "$tools"
# p50 of the big.txt endpoint against the exact nearest-rank p50 (1.6 % + display rounding)
exact=$(jq -r 'select((.request.target // "") | startswith("/big.txt")) | .duration_ms' "$WORKDIR/all.jsonl" | sort -g | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}')
shown=$(grep -E '^  GET /big.txt ' "$WORKDIR/report.txt" | awk '{print $6}')
python3 - "$exact" "$shown" <<'PY' || fail "p50 $shown is not the exact $exact ms within 6 %"
import sys
exact = float(sys.argv[1]) * 1000
s = sys.argv[2]
got = float(s[:-2]) if s.endswith("us") else float(s[:-2]) * 1000 if s.endswith("ms") else float(s[:-1]) * 1e6
sys.exit(0 if abs(got - exact) <= max(0.06 * exact, 1.5) else 1)
PY
grep -qE '^seq: 0 gap\(s\)' "$WORKDIR/report.txt" || fail "gaps in a complete log: $(grep ^seq "$WORKDIR/report.txt")"
# three exchanges deleted: a gap of three
first=$(grep -n '"type":"exchange"' "$log" | sed -n 10p | cut -d: -f1)
sed "${first},$((first + 2))d" "$log" > "$WORKDIR/gap.log"
"$SOCKAUDIT" report "$WORKDIR/gap.log" > "$WORKDIR/gap.txt"
grep -qE '^seq: 1 gap\(s\), 3 record\(s\) missing' "$WORKDIR/gap.txt" \
	|| fail "report does not see the 3 deleted records: $(grep -A1 ^seq "$WORKDIR/gap.txt")"
# a selector chooses what is summed up, not where the gaps are
"$SOCKAUDIT" report --status 4xx "$WORKDIR/gap.log" > "$WORKDIR/gap4.txt"
grep -qE '^seq: 1 gap\(s\), 3 record\(s\) missing' "$WORKDIR/gap4.txt" \
	|| fail "a selector changed the gaps: $(grep -A1 ^seq "$WORKDIR/gap4.txt")"
echo "ok"
