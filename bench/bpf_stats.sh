# Shared by bench/bpf_cost.sh and bench/capture_loop.sh (sourced): the
# programs of one collector and their bpf_stats (kernel.bpf_stats_enabled).

# bpf_stats_on PID_VAR...: turn kernel.bpf_stats_enabled on until the
# script exits, when the setting it had comes back, the processes whose
# pids the named variables hold are killed and $WORKDIR goes.
bpf_stats_on() {
	STATS_BEFORE=$(sysctl -n kernel.bpf_stats_enabled)
	STATS_PIDS=("$@")
	trap bpf_stats_cleanup EXIT
	sysctl -qw kernel.bpf_stats_enabled=1
}
bpf_stats_cleanup() {
	local v
	sysctl -qw kernel.bpf_stats_enabled="$STATS_BEFORE" || true
	for v in "${STATS_PIDS[@]}"; do
		[ -n "${!v:-}" ] && kill "${!v}" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$WORKDIR"
}

# bpftool here lists no pids: the collector's programs are the ones it
# holds fds of (each BPF program fd's fdinfo names its id). The ids that
# appeared while it started would also take in another collector started
# at the same moment.
sa_prog_ids() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '/^prog_id:/ { print $2 }' "$f" 2>/dev/null || true
	done | sort -un
}
# prog_stats IDS: "name run_time_ns run_cnt" for each of those programs
prog_stats() {
	bpftool -j prog show | jq -r --arg ids "$1" '($ids | split(" ") | map(tonumber)) as $want
		| .[] | select(.id as $i | $want | index($i))
		| "\(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
}

# stats_per UNITS BEFORE AFTER: from two prog_stats, per unit (request,
# exchange): "total_ns syscall_programs_ns name:ns_per_call/calls_per_unit ...".
# The syscall programs (sa_sys_*, sa_raw_*) are the capture proper; the
# rest also run for other processes (fork, exit, exec, mmap, the TLS
# uprobes of any program using libssl), which the total then takes in.
stats_per() {
	join <(sort <<<"$2") <(sort <<<"$3") | awk -v units="$1" '
		{ ns = $4 - $2; n = $5 - $3; tot += ns
		  if ($1 ~ /^sa_(sys|raw)_/) sys += ns
		  if (n > 0) per = per sprintf(" %s:%.0f/%.2f", $1, ns / n, n / units) }
		END { printf "%.0f %.0f%s\n", tot / units, sys / units, per }'
}

# median V...: the median of the numbers
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
