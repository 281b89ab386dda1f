#!/usr/bin/env bash
# Memory stays bounded: replay synthetic traffic through the whole userspace
# pipeline and report peak RSS. Unanswered requests (10k, 100k, 1M over 1000
# connections) must not grow RSS past the max_pending bound; 10,000 busy
# connections must work.
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
GEN=${GEN:?set GEN to build/bench/gen_events}
dir=$(mktemp -d /tmp/sockaudit-mem.XXXXXX)
trap 'rm -rf "$dir"' EXIT

# peak RSS (KiB), CPU seconds and exchanges written of one replay
replay_rss() {
	python3 - "$SOCKAUDIT" "$1" "$dir/out.log" <<'PY'
import re, resource, subprocess, sys
r = subprocess.run([sys.argv[1], "replay", sys.argv[2], "-o", sys.argv[3]], check=True,
                   stderr=subprocess.PIPE, text=True)
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
n = re.search(r"(\d+) exchanges", r.stderr)
print(ru.ru_maxrss, round(ru.ru_utime + ru.ru_stime, 2), n.group(1) if n else -1)
PY
}

printf '%-44s %12s %10s %10s %10s\n' "run" "requests" "peak RSS" "CPU s" "exchanges"
run() {	# run NAME CONNS PER ANSWER PROTO
	"$GEN" "$dir/ev.rec" "$2" "$3" "$4" "$5"
	read -r rss cpu n < <(replay_rss "$dir/ev.rec")
	printf '%-44s %12d %7d MiB %10s %10d\n' "$1" $(( $2 * $3 )) $((rss / 1024)) "$cpu" "$n"
	rm -f "$dir"/out.log*
}
run "unanswered http, 1000 conns" 1000 10 0 http
run "unanswered http, 1000 conns" 1000 100 0 http
run "unanswered http, 1000 conns" 1000 1000 0 http
run "unanswered jsonrpc, 1000 conns" 1000 1000 0 jsonrpc
run "answered http, 10000 concurrent conns" 10000 10 1 http
run "answered jsonrpc, 10000 concurrent conns" 10000 10 1 jsonrpc
