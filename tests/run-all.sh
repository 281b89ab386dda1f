#!/usr/bin/env bash
# Every test: the cmocka unit binaries given as arguments, the replay tests,
# then the live tests. Closes with one line: "N passed, N failed, N skipped".
set -u
here=$(cd "$(dirname "$0")" && pwd)
pass=0 failn=0 skipn=0

for t in "$@"; do
	# build/tests/test_x or build-asan/tests/test_x: say which build
	name="$(basename "$(dirname "$(dirname "$t")")")/$(basename "$t")"
	out=$("$t" 2>&1)
	rc=$?
	# a binary may run several cmocka groups: add up their counts
	run=$(printf '%s\n' "$out" | sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p' | paste -sd+ | bc)
	bad=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' | paste -sd+ | bc)
	run=${run:-0} bad=${bad:-0}
	if [ $rc != 0 ] && [ "$bad" = 0 ]; then bad=1; fi
	pass=$((pass + run - bad))
	failn=$((failn + bad))
	if [ "$bad" != 0 ]; then
		echo "FAIL unit $name:"
		printf '%s\n' "$out" | grep -E 'FAILED|ERROR|error|Assert' | head -n 20 | sed 's/^/    /'
	else
		echo "PASS unit $name ($run tests)"
	fi
done

# recorded fixtures through the pipeline without BPF
replay_out=$("$here/replay/run.sh" 2>&1)
printf '%s\n' "$replay_out" | grep -v '^replay: '
line=$(printf '%s\n' "$replay_out" | grep '^replay: ' | tail -n 1)
rp=$(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
rf=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
[ -n "$rp" ] || { rp=0; rf=1; echo "FAIL replay: runner printed no summary"; }
pass=$((pass + rp)) failn=$((failn + rf))

live_out=$("$here/live/run.sh" 2>&1)
printf '%s\n' "$live_out" | grep -v '^live: '
line=$(printf '%s\n' "$live_out" | grep '^live: ' | tail -n 1)
lp=$(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
lf=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
ls=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
[ -n "$lp" ] || { lp=0; lf=1; ls=0; echo "FAIL live: runner printed no summary"; }
pass=$((pass + lp)) failn=$((failn + lf)) skipn=$((skipn + ls))

echo "$pass passed, $failn failed, $skipn skipped"
[ "$failn" = 0 ]
