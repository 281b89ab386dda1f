# Shared by bench/forward_bench.sh and bench/nginx_wrk.sh's forward modes:
# the CPU of a collector's forward thread, and its catching up after a
# round (cursor_ordinal: tests/live/helpers/relp_env.sh, sourced first).

# ticks PID[/task/TID]: user + system CPU ticks
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# sys_ticks PID: the kernel's part (loopback TCP runs the receiving side's
# stack in the sender's syscalls too)
sys_ticks() { awk '{ print $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# forward_ticks PID [sys_ticks]: CPU ticks of the process's sa-forward thread(s)
forward_ticks() {
	local t s=0
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = sa-forward ] &&
			s=$((s + $(${2:-ticks} "$1/task/${t##*/}")))
	done
	echo "$s"
}
# forward_wakeups PID: voluntary context switches of its sa-forward thread(s)
forward_wakeups() {
	local t s=0
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = sa-forward ] &&
			s=$((s + $(awk '/^voluntary_ctxt_switches/ { print $2 }' "$t/status")))
	done
	echo "$s"
}
# us_per TICKS N: microseconds of CPU per record
us_per() { echo "scale=2; $1 * 1000000 / $(getconf CLK_TCK) / $2" | bc; }

# fwd_catchup LOG PID TIMEOUT_S: after a forwarded nginx round, wait until
# every record of LOG is acknowledged (the cursor LOG.fwd reaches the
# log's line count); prints "shipped-during-the-round records-at-the-end
# acknowledged forward-thread-ticks seconds-waited forward-thread-wakeups"
fwd_catchup() {
	local log=$1 pid=$2 during total t0
	during=$(cursor_ordinal "$log.fwd")
	t0=$(date +%s.%N)
	for _ in $(seq $(($3 * 20))); do
		total=$(wc -l < "$log")
		[ "$(cursor_ordinal "$log.fwd")" -ge "$total" ] && break
		sleep 0.05
	done
	echo "$during $total $(cursor_ordinal "$log.fwd") $(forward_ticks "$pid") $(echo "$(date +%s.%N) - $t0" | bc) $(forward_wakeups "$pid")"
}
