#!/usr/bin/env bash
# sockaudit search against jq, the same question of the same json_lines file:
# the records replayed from tests/fixtures (HTTP, JSON-RPC, MCP, redactions)
# repeated to SEARCH_MB (default 256) MB. Prints MB/s of each (wall clock,
# and per CPU second), and checks that both found the same records.
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
root=$(cd "$(dirname "$0")/.." && pwd)
mb=${SEARCH_MB:-256}
d=$(mktemp -d "${TMPDIR:-/var/tmp}/sockaudit-sbench.XXXXXX")
trap 'rm -rf "$d"' EXIT
for f in "$root"/tests/fixtures/*.rec; do
	"$SOCKAUDIT" replay "$f" -o "$d/$(basename "$f" .rec).log" > /dev/null 2>&1
done
cat "$d"/*.log > "$d/one.jsonl"
: > "$d/bench.jsonl"
while [ "$(stat -c %s "$d/bench.jsonl")" -lt $((mb * 1000000)) ]; do
	cat "$d/one.jsonl" >> "$d/bench.jsonl"
done
size=$(stat -c %s "$d/bench.jsonl")
cat "$d/bench.jsonl" > /dev/null	# in the page cache for both
printf '%s MB of json_lines, %s records; 2 cores shared with other work (load %s)\n' \
	"$((size / 1000000))" "$(wc -l < "$d/bench.jsonl")" "$(cut -d' ' -f1 /proc/loadavg)"
printf '%-44s %8s %10s %10s %10s\n' "question" "found" "wall s" "MB/s" "MB/CPU-s"

# run NAME CMD...: best wall time of 3 (jq: 1), its count and MB/s
run() {
	local name=$1 best= cpu= n= t; shift
	local tries=3
	[ "$1" = jq ] && tries=1
	for _ in $(seq $tries); do
		# search exits 1 when it finds nothing: a figure all the same
		t=$( { /usr/bin/time -f '%e %U %S' "$@" > "$d/out" || true; } 2>&1 | tail -1)
		if [ -z "$best" ] || awk -v a="${t%% *}" -v b="$best" 'BEGIN {exit !(a < b)}'; then
			best=${t%% *}
			cpu=$(echo "$t" | awk '{print $2 + $3}')
		fi
	done
	n=$(tail -1 "$d/out")
	awk -v q="$name" -v n="$n" -v w="$best" -v c="$cpu" -v s="$size" 'BEGIN {
		w = w > 0.005 ? w : 0.005; c = c > 0.005 ? c : 0.005
		printf "%-44s %8s %10.2f %10.0f %10.0f\n", q, n, w, s / 1e6 / w, s / 1e6 / c }'
	echo "$n" > "$d/n.${name//[^A-Za-z0-9]/_}"
}
compare() {	# compare TITLE SELECTOR... -- JQ_FILTER
	local title=$1 sel=() f; shift
	while [ "$1" != -- ]; do sel+=("$1"); shift; done
	f=$2
	run "search $title" "$SOCKAUDIT" search --count "${sel[@]}" "$d/bench.jsonl"
	run "jq     $title" sh -c "jq -c 'select($f)' '$d/bench.jsonl' | wc -l"
	local a="search $title" b="jq     $title"
	[ "$(cat "$d/n.${a//[^A-Za-z0-9]/_}")" = "$(cat "$d/n.${b//[^A-Za-z0-9]/_}")" ] \
		|| { echo "search and jq disagree on $title"; exit 1; }
}
compare "--tool lookup (selective)" --tool lookup -- '.rpc.tool == "lookup"'
compare "--method POST --target '/echo*'" --method POST --target '/echo*' -- '.request.method == "POST" and (.request.target // "" | startswith("/echo"))'
compare "--rpc-error -32601" --rpc-error -32601 -- '.rpc.error.code == -32601'
compare "--text Oslo (body excerpts)" --text Oslo -- '((.request.body // "") | contains("Oslo")) or ((.response.body // "") | contains("Oslo"))'
compare "--slower-than 1ms (parses every line)" --slower-than 1ms -- '(.duration_ms // 0) > 1'
