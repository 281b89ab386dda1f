# Shared by live tests: assertions and a private work dir. Source after
# setting nothing; each test script runs in its own bash.
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
WORKDIR=$(mktemp -d /tmp/sockaudit-live.XXXXXX)
LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$LIB/nginx.sh"
PIDS_TO_KILL=()

cleanup() {
	local p
	for p in "${PIDS_TO_KILL[@]}" ${SA_PID:-}; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	[ -n "${KEEP:-}" ] || rm -rf "$WORKDIR"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; }
# assert_ge WHAT MIN ACTUAL
assert_ge() { [ "$3" -ge "$2" ] || fail "$1: expected >= $2, got $3"; }

# jq over the records of a log (slurped): jqlog LOG FILTER
jqlog() { jq -s -r "$2" "$1"; }

# whole_log LOG: the records of LOG's set, oldest first (LOG.N[.gz] .. LOG.1[.gz], LOG):
# a run that wrote more than max_file_size has rotated
whole_log() {
	local n=1 f
	while [ -e "$1.$n" ] || [ -e "$1.$n.gz" ]; do n=$((n + 1)); done
	while [ $((n -= 1)) -ge 1 ]; do
		f=$1.$n
		if [ -e "$f" ]; then cat "$f"; else zcat "$f.gz"; fi
	done
	cat "$1"
}

# every line of LOG is one JSON object
assert_valid_jsonl() {
	local n_lines n_objs
	n_lines=$(wc -l < "$1")
	n_objs=$(jq -c 'type' "$1" | grep -c '"object"' || true)
	assert_eq "JSON objects in $1" "$n_lines" "$n_objs"
}

require_root() { [ "$(id -u)" = 0 ] || skip "needs root (BPF)"; }
