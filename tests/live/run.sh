#!/usr/bin/env bash
# Run every tests/live/test_*.sh (or those named), each in its own bash.
# Exit status 77 means SKIP. Prints one line per test and a closing count.
set -u
here=$(cd "$(dirname "$0")" && pwd)
pass=0 failn=0 skipn=0
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=("$here"/test_*.sh)
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	start=$(date +%s)
	out=$(timeout 300 bash "$t" 2>&1)
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $name (${secs}s)";;
	77) skipn=$((skipn + 1)); echo "SKIP $name: $(printf '%s\n' "$out" | grep -m1 '^SKIP' | sed 's/^SKIP: //')";;
	*) failn=$((failn + 1)); echo "FAIL $name (exit $rc, ${secs}s)"; printf '%s\n' "$out" | tail -n 25 | sed 's/^/    /';;
	esac
done
echo "live: $pass passed, $failn failed, $skipn skipped"
[ $failn = 0 ]
