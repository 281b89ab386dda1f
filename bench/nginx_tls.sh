#!/usr/bin/env bash
# TLS plaintext capture under load, and why its ratio is what it is:
#  1. what one uprobe hit costs the audited program (bench/uprobe_cost.c,
#     untraced vs traced: entry probe only, entry + return, entry + return
#     + one plaintext event), median of ROUNDS;
#  2. traps per nginx HTTPS request: run_cnt of the collector's entry and
#     return programs (bpf_stats, on through a BPF_ENABLE_STATS fd) divided
#     by the requests nginx served, and the bound those traps put on the
#     traced/untraced ratio: 1 / (1 + untraced_rps * per-request trap time);
#  3. nginx serving HTTPS, untraced vs traced (uprobes on libssl.so.3 plus
#     the syscall tracepoints) in the same rounds (bench/nginx_wrk.sh: median
#     ratio, records written vs requests served);
#  4. nginx serving plain HTTP, traced with the TLS hooks present (nginx
#     maps libssl.so.3, so its uprobes are attached) vs traced with
#     --tls off: the hooks must not slow plaintext down.
#  (bystander: nginx and wrk not audited, a collector auditing another
#   process that maps libssl: must stay at 1.0, the uprobes being per process)
#   ROUNDS=5 SECONDS_PER_RUN=5 CONNS=50 CALLS=20000 PARTS="cost traps bystander https plain"
#   UPROBE_COST=build/bench/uprobe_cost (part 1; make builds it)
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
here=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-5}
DUR=${SECONDS_PER_RUN:-5}
CONNS=${CONNS:-50}
CALLS=${CALLS:-20000}
PARTS=${PARTS:-"cost traps bystander https plain"}
UPROBE_COST=${UPROBE_COST:-$here/../build/bench/uprobe_cost}
WORKDIR=$(mktemp -d /var/tmp/sockaudit-tlsbench.XXXXXX)
. "$here/../tests/lib/nginx.sh"
. "$here/../tests/lib/tls.sh"
STATS_PID= NGINX_PID= SA_PID=
cleanup() {
	for p in $SA_PID $NGINX_PID $STATS_PID; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORKDIR"
}
trap cleanup EXIT
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
echo "load: $(uptime)"

# 1. ns per call of each probed function, untraced and traced
trap_cost() {
	local r out k
	declare -A u t
	for r in $(seq 1 "$ROUNDS"); do
		out=$("$UPROBE_COST" "$CALLS" 0)
		for k in free shutdown read_wantread write64; do u[$k]+="$(field ${k}_ns <<<"$out") "; done
		out=$("$SOCKAUDIT" exec -o "$WORKDIR/cost.log" -- "$UPROBE_COST" "$CALLS" 300 2>/dev/null)
		for k in free shutdown read_wantread write64; do t[$k]+="$(field ${k}_ns <<<"$out") "; done
	done
	cost() { echo "$(median ${t[$1]}) - $(median ${u[$1]})" | bc -l; }
	TRAP_ENTRY_NS=$(cost free)
	TRAP_XOL_NS=$(cost shutdown)
	TRAP_RET_NS=$(echo "$(cost read_wantread) - $TRAP_ENTRY_NS" | bc -l)
	printf 'uprobe cost per call (median of %d, %d calls each; untraced call %.1f ns):\n' \
		"$ROUNDS" "$CALLS" "$(median ${u[free]})"
	printf '  entry probe on an emulated instruction (push)   %6.0f ns\n' "$TRAP_ENTRY_NS"
	printf '  entry probe on a single-stepped one (sub)       %6.0f ns\n' "$TRAP_XOL_NS"
	printf '  return probe (uretprobe trampoline)             %6.0f ns\n' "$TRAP_RET_NS"
	printf '  entry + return + one 64-byte plaintext event    %6.0f ns\n' "$(cost write64)"
}

# bpf_stats on while this process holds its BPF_ENABLE_STATS fd (not the global sysctl)
stats_on() {
	python3 -c '
import ctypes, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(struct.pack("I", 0), 16)
fd = libc.syscall(321, 32, attr, 4)
if fd < 0:
    sys.exit("BPF_ENABLE_STATS: errno %d" % ctypes.get_errno())
print("on", flush=True)
time.sleep(3600)' >"$WORKDIR/stats" &
	STATS_PID=$!
	for _ in $(seq 100); do grep -q on "$WORKDIR/stats" && return 0; sleep 0.05; done
	echo "cannot enable bpf_stats" >&2
	return 1
}

# "run_cnt run_time_ns" of program NAME among the collector's links (fdinfo)
prog_stat() {
	local id
	for id in $(grep -h -A3 '^link_type:.u\(ret\)\?probe_multi' /proc/"$SA_PID"/fdinfo/* 2>/dev/null |
		awk '/^prog_id:/ { print $2 }' | sort -u); do
		bpftool -j prog show id "$id" | jq -r --arg n "$1" 'select(.name == $n) | "\(.run_cnt // 0) \(.run_time_ns // 0)"'
	done | awk '{ c += $1; t += $2 } END { print c + 0, t + 0 }'
}

# 2. traps per HTTPS request, and the ratio they allow
traps_per_request() {
	local u t0 t1 e0 e1 n ent ret
	stats_on
	make_cert "$WORKDIR/cert"
	port=$(free_port)
	nginx_tls_conf "$port" 1 "$WORKDIR/cert"
	nginx -c "$WORKDIR/nginx.conf" -e "$WORKDIR/logs/error.log" &
	NGINX_PID=$!
	wait_port "$port"
	u=$(wrk -t1 -c"$CONNS" -d"${DUR}s" "https://127.0.0.1:$port/" | awk '/^Requests\/sec:/ { print $2 }')
	start_collector "$WORKDIR/traps.log" run --pid "$NGINX_PID"
	sleep 1.2
	n=$(wc -l < "$WORKDIR/logs/access.log")
	e0=$(prog_stat sa_ssl_entry) t0=$(prog_stat sa_ssl_ret)
	wrk -t1 -c"$CONNS" -d"${DUR}s" "https://127.0.0.1:$port/" >/dev/null
	e1=$(prog_stat sa_ssl_entry) t1=$(prog_stat sa_ssl_ret)
	sleep 1.2
	n=$(( $(wc -l < "$WORKDIR/logs/access.log") - n ))
	stop_collector
	kill "$NGINX_PID" "$STATS_PID" 2>/dev/null || true
	wait "$NGINX_PID" "$STATS_PID" 2>/dev/null || true
	NGINX_PID= STATS_PID=
	ent=$(echo "(${e1% *} - ${e0% *}) / $n" | bc -l)
	ret=$(echo "(${t1% *} - ${t0% *}) / $n" | bc -l)
	printf 'nginx HTTPS, %d requests traced: %.2f entry traps + %.2f return traps per request; BPF time %.0f ns per request; untraced %.0f req/s just before\n' \
		"$n" "$ent" "$ret" "$(echo "(${e1#* } - ${e0#* } + ${t1#* } - ${t0#* }) / $n" | bc -l)" "$u"
	if [ -n "${TRAP_ENTRY_NS:-}" ]; then
		# the entry probes sit on ssl_{read,write}_internal (push: emulated);
		# on the SSL_read/SSL_write wrappers (sub: single-stepped) they would cost TRAP_XOL_NS
		local per xol
		per=$(echo "$ent * $TRAP_ENTRY_NS + $ret * $TRAP_RET_NS" | bc -l)
		xol=$(echo "$ent * $TRAP_XOL_NS + $ret * $TRAP_RET_NS" | bc -l)
		printf 'untraced nginx: %.1f us per request (1 worker: 1/rps)\n' "$(echo "1000000 / $u" | bc -l)"
		printf 'trap time per request %.1f us: traced/untraced bound from the traps alone %.3f (entry probes on the wrappers: %.1f us, bound %.3f)\n' \
			"$(echo "$per / 1000" | bc -l)" "$(echo "1 / (1 + $u * $per / 1000000000)" | bc -l)" \
			"$(echo "$xol / 1000" | bc -l)" "$(echo "1 / (1 + $u * $xol / 1000000000)" | bc -l)"
	fi
}

# 2b. nginx and wrk, neither audited, while a collector audits an unrelated
# process that maps the same libssl: the uprobes are that process's only
bystander() {
	local r u t rs=() py
	make_cert "$WORKDIR/cert"
	port=$(free_port)
	nginx_tls_conf "$port" 1 "$WORKDIR/cert"
	nginx -c "$WORKDIR/nginx.conf" -e "$WORKDIR/logs/error.log" &
	NGINX_PID=$!
	wait_port "$port"
	python3 -c 'import ssl, time; time.sleep(3600)' &
	py=$!
	for r in $(seq 1 "$ROUNDS"); do
		u=$(wrk -t1 -c"$CONNS" -d"${DUR}s" "https://127.0.0.1:$port/" | awk '/^Requests\/sec:/ { print $2 }')
		start_collector "$WORKDIR/by.log" run --pid "$py"
		t=$(wrk -t1 -c"$CONNS" -d"${DUR}s" "https://127.0.0.1:$port/" | awk '/^Requests\/sec:/ { print $2 }')
		stop_collector
		rs+=("$(echo "$t / $u" | bc -l)")
		printf 'round %d  no collector %8.0f req/s  collector auditing another libssl process %8.0f req/s  ratio %.3f\n' "$r" "$u" "$t" "${rs[-1]}"
	done
	printf 'bystander median ratio %.3f (%d rounds)\n' "$(median "${rs[@]}")" "$ROUNDS"
	kill "$py" "$NGINX_PID" 2>/dev/null || true
	wait "$py" "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=
}

for part in $PARTS; do
	case $part in
	cost)
		echo "-- one uprobe hit (bench/uprobe_cost.c)"
		if [ -x "$UPROBE_COST" ]; then trap_cost; else echo "no $UPROBE_COST: make $UPROBE_COST"; fi;;
	traps)
		echo "-- traps per nginx HTTPS request (bpf_stats run_cnt / requests served)"
		traps_per_request;;
	bystander)
		echo "-- HTTPS nginx and wrk not audited; a collector audits another process using libssl"
		bystander;;
	https)
		echo "-- HTTPS: untraced vs traced (tracepoint, tls on)"
		TLS=1 MODES=tracepoint "$here/nginx_wrk.sh";;
	plain)
		echo "-- plain HTTP: tls hooks present (tracepoint) vs --tls off (tlsoff)"
		TLS=0 MODES="tracepoint tlsoff" "$here/nginx_wrk.sh";;
	esac
done
