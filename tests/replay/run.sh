#!/usr/bin/env bash
# Replay every recorded fixture (tests/fixtures/*.rec, raw kernel events
# saved from the live tests by `make fixtures`) through the userspace
# pipeline, without BPF, and compare with what the live run wrote.
set -u
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/nginx.sh"
work=$(mktemp -d /tmp/sockaudit-replay.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 failn=0
for rec in "$here"/../fixtures/*.rec; do
	[ -e "$rec" ] || continue
	name=$(basename "$rec" .rec)
	if ! "$SOCKAUDIT" replay "$rec" -o "$work/$name.log" -q 2>"$work/err"; then
		failn=$((failn + 1)); echo "FAIL replay $name: $(head -n 3 "$work/err")"; continue
	fi
	if diff -u "${rec%.rec}.expected" <(fixture_summary "$work/$name.log") > "$work/diff"; then
		pass=$((pass + 1)); echo "PASS replay $name ($(wc -l < "${rec%.rec}.expected") exchanges)"
	else
		failn=$((failn + 1)); echo "FAIL replay $name:"; head -n 20 "$work/diff" | sed 's/^/    /'
	fi
done
echo "replay: $pass passed, $failn failed, 0 skipped"
[ $failn = 0 ]
