#!/usr/bin/env bash
# While the collector runs, bpftool lists its programs and the targets map
# holds the target's tgid; after it exits none of its programs remain.
. "$(dirname "$0")/../lib/common.sh"
require_root
command -v bpftool >/dev/null || skip "bpftool not installed"
port=$(free_port)
log=$WORKDIR/audit.log
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORKDIR" >/dev/null 2>&1 &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$port"
sa_ids() { bpftool -j prog show | jq -r '.[] | select(.name | startswith("sa_")) | .id' | sort; }
for mode in tracepoint raw_tp; do
	before=$(sa_ids)	# another collector may be running: ours are the new ids
	maps_before=$(bpftool -j map show | jq -r '.[] | select(.name=="targets") | .id' | sort)
	start_collector "$log" run --pid "$SRV" --attach "$mode"
	progs=$(bpftool -j prog show | jq -r '.[].name')
	case $mode in
	tracepoint) want="sa_sys_enter sa_sys_close sa_sys_exit sa_fork sa_exit_proc";;
	raw_tp) want="sa_raw_enter sa_raw_exit sa_fork sa_exit_proc";;
	esac
	for p in $want; do
		printf '%s\n' "$progs" | grep -qx "$p" || fail "$mode: program $p not loaded"
	done
	ids=$(comm -13 <(echo "$before") <(sa_ids))
	[ -n "$ids" ] || fail "$mode: no sa_ programs appeared"
	# our targets map: one that appeared with this collector (others may run)
	map_id=$(comm -13 <(echo "$maps_before") <(bpftool -j map show | jq -r '.[] | select(.name=="targets") | .id' | sort) | tail -n 1)
	[ -n "$map_id" ] || fail "no targets map"
	keys=$(bpftool -j map dump id "$map_id" | jq -r '.[] | (.formatted.key // .key)')
	printf '%s\n' "$keys" | grep -qx "$SRV" || fail "$mode: targets map has no $SRV: $keys"
	# syscall arguments wait per thread in an LRU hash keyed by pid_tgid
	stash_types=$(bpftool -j map show | jq -r '.[] | select(.name=="stash") | "\(.type) key \(.bytes_key)"' | sort -u)
	assert_eq "$mode: stash map" "lru_hash key 8" "$stash_types"
	curl -sf "http://127.0.0.1:$port/" >/dev/null
	stop_collector
	# the kernel frees programs after an RCU grace period: poll, up to 5 s
	for _ in $(seq 50); do
		left=$(bpftool -j prog show | jq -r '.[].id')
		still=$(for id in $ids; do printf '%s\n' "$left" | grep -x "$id" || true; done)
		[ -z "$still" ] && break
		sleep 0.1
	done
	[ -z "$still" ] || fail "$mode: program ids $(echo $still) still loaded after exit"
	assert_eq "$mode exchange" 1 "$(jqlog "$log" '[.[] | select(.type=="exchange")] | length')"
done
echo ok
