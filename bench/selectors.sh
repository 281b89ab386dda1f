#!/usr/bin/env bash
# What a --cgroup selector costs processes that are NOT audited: while one
# is active, each hooked syscall of a non-target pays an ancestor-cgroup
# lookup before it is dismissed (bpf/selectors.bpf.h). A non-target
# workload (dd: 64-byte read/write pairs, both hooked) runs with no
# collector, under a collector with --pid of an idle process (the one-bit
# check), and under one with --cgroup of an empty cgroup; ns per syscall,
# best of ROUNDS (default 3), alternating. Needs root and a cgroup v2 mount.
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
N=${SELECTOR_SYSCALLS:-400000}
ROUNDS=${ROUNDS:-3}
root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$root" ] || { echo "selectors bench: no cgroup v2 mount, skipped"; exit 0; }
work=$(mktemp -d /var/tmp/sockaudit-selbench.XXXXXX)
cg=$root/sockaudit-bench-$$
mkdir "$cg"
sleep 1000 & idle=$!
sa=
trap 'kill $idle ${sa:-} 2>/dev/null; wait 2>/dev/null; rmdir "$cg"; rm -rf "$work"' EXIT

# CPU ns (user + system, where the BPF programs run) per syscall of dd doing
# N/2 read+write pairs: CPU time, not wall time, as other work shares the cores
dd_ns() {
	/usr/bin/time -f '%U %S' -o "$work/time" dd if=/dev/zero of=/dev/null bs=64 count=$((N / 2)) 2>/dev/null
	awk -v n="$N" '{ printf "%d\n", ($1 + $2) * 1e9 / n }' "$work/time"
}

with_collector() {	# with_collector ARGS...: start, measure, stop; prints ns
	rm -f "$work/a.log"
	"$SOCKAUDIT" run -o "$work/a.log" "$@" 2>>"$work/err" &
	sa=$!
	for _ in $(seq 200); do grep -q collector_start "$work/a.log" 2>/dev/null && break; sleep 0.05; done
	dd_ns
	kill -INT "$sa"; wait "$sa"; sa=
}

best() { tr " " "\n" | grep . | sort -n | head -n 1; }
none="" pid="" cgroup=""
for _ in $(seq "$ROUNDS"); do
	none+="$(dd_ns) "
	pid+="$(with_collector --pid "$idle") "
	cgroup+="$(with_collector --cgroup "$cg") "
done
n=$(best <<<"$none"); p=$(best <<<"$pid"); c=$(best <<<"$cgroup")
echo "non-target syscall, CPU ns (best of $ROUNDS, $N syscalls): untraced $n, --pid $p, --cgroup $c"
echo "  --cgroup over --pid: +$((c - p)) ns per hooked syscall of every other process"
echo "  runs: untraced [$none] --pid [$pid] --cgroup [$cgroup]"
