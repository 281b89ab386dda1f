#!/usr/bin/env bash
# Records/s shipped by the forwarder over RELP/TLS (mutual authentication)
# to a local rsyslog, for each rsyslog profile (safe: Direct queue, 200 =
# written, as the tests run it; fast: docs/fleet.md's high-rate config) and
# window: a log of N records made beforehand is shipped from its start (a
# new cursor), timed from the first acknowledgement to the last. CPU per
# record of each side: the collector's forward thread (sa-forward) and
# rsyslog, user + system, a figure the machine's load does not scale.
# Then nginx under wrk, untraced / traced / traced and forwarded, in the
# same rounds (bench/nginx_wrk.sh, MODES="tracepoint forward"): both
# ratios, the drop, and what the forward thread and rsyslog used meanwhile.
#   FWD_BENCH_RECORDS=200000 FWD_BENCH_PROFILES="safe fast"
#   FWD_BENCH_WINDOWS="128 1024" FWD_BENCH_NGINX=1 ROUNDS=3
#   EXTRA="--tls off": nginx rounds without the TLS uprobes (nginx maps
#   libssl, so by default the collector hooks libssl for every process:
#   the forwarder's and rsyslog's own SSL calls then trap too)
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
N=${FWD_BENCH_RECORDS:-200000}
WORKDIR=$(mktemp -d /var/tmp/sockaudit-fwdbench.XXXXXX)
PIDS_TO_KILL=()
trap 'for p in "${PIDS_TO_KILL[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$WORKDIR"' EXIT
H=$(cd "$(dirname "$0")/../tests/live/helpers" && pwd)
. "$(dirname "$0")/../tests/lib/nginx.sh"
. "$H/relp_env.sh"
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# forward_ticks PID: CPU ticks of the process's sa-forward thread(s)
forward_ticks() {
	local t s=0
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = sa-forward ] && s=$((s + $(ticks "$1/task/${t##*/}")))
	done
	echo "$s"
}
us_per() { echo "scale=2; $1 * 1000000 / $(getconf CLK_TCK) / $2" | bc; }
relp_certs "$WORKDIR/certs"
sleep 1000 &
TGT=$!
PIDS_TO_KILL+=("$TGT")

ship() {	# ship PROFILE WINDOW
	local prof=$1 win=$2 rport R log t0 t1 rs0 fw rs got sec
	rport=$(free_port)
	R=$WORKDIR/rsyslog-$prof-$win
	RSYSLOG_PROFILE=$prof rsyslog_conf "$R" "$rport"
	rsyslog_start "$R"
	mkdir -p "$WORKDIR/w-$prof-$win"
	log=$WORKDIR/w-$prof-$win/audit.log
	records_log "$log" "$N"
	FWD_WINDOW=$win forward_cfg "$WORKDIR/f-$prof-$win.yaml" "$log" "$rport" "      max_file_size_mb: 1024"
	rs0=$(ticks "$(cat "$R/pid")")
	"$SOCKAUDIT" run -c "$WORKDIR/f-$prof-$win.yaml" --pid "$TGT" 2>>"$WORKDIR/collector.err" &
	SA=$!
	PIDS_TO_KILL+=("$SA")
	until [ "$(cursor_ordinal "$log.fwd")" -gt 0 ]; do sleep 0.01; done
	t0=$(date +%s.%N)
	# the cursor's ordinal: records rsyslog acknowledged
	until [ "$(cursor_ordinal "$log.fwd")" -ge "$N" ]; do sleep 0.01; done
	t1=$(date +%s.%N)
	# everything written (fast: acknowledged when queued), then the CPU of each side
	for _ in $(seq 300); do [ "$(wc -l < "$R/received.log")" -ge "$N" ] && break; sleep 0.05; done
	got=$(wc -l < "$R/received.log")
	fw=$(forward_ticks "$SA")
	rs=$(( $(ticks "$(cat "$R/pid")") - rs0 ))
	kill -INT "$SA"; wait "$SA" || true
	[ "$got" -ge "$N" ] || { echo "rsyslog wrote $got of $N records"; exit 1; }
	sec=$(echo "$t1 - $t0" | bc)
	printf 'rsyslog %-4s window %4d: %d records in %.2f s = %d records/s; CPU per record: forward thread %s us, rsyslog %s us; load %s\n' \
		"$prof" "$win" "$N" "$sec" "$(echo "$N / $sec" | bc)" "$(us_per "$fw" "$N")" \
		"$(us_per "$rs" "$N")" "$(cut -d' ' -f1 /proc/loadavg)"
	rsyslog_kill9 "$R"
}
for prof in ${FWD_BENCH_PROFILES:-safe fast}; do
	for win in ${FWD_BENCH_WINDOWS:-128 1024}; do
		ship "$prof" "$win"
	done
done

# nginx: forwarding on vs off in the same rounds (FWD_BENCH_NGINX=0: skip)
[ "${FWD_BENCH_NGINX:-1}" = 1 ] || exit 0
rport=$(free_port)
R=$WORKDIR/rsyslog-nginx
RSYSLOG_PROFILE=${FWD_BENCH_NGINX_PROFILE:-fast} rsyslog_conf "$R" "$rport"
rsyslog_start "$R"
# the same sink as nginx_wrk.sh's own config (no rotation, immediate), plus forward
forward_cfg "$WORKDIR/nginx-fwd.yaml" "$WORKDIR/unused.log" "$rport" "      max_file_size_mb: 0
      flush_mode: immediate"
# the forward threads' CPU, sampled while the rounds run (a collector per round)
(
	while sleep 0.2; do
		for p in $(pgrep -f "nginx-fwd.yaml" || true); do
			for t in /proc/"$p"/task/*; do
				[ "$(cat "$t/comm" 2>/dev/null)" = sa-forward ] &&
					echo "${t##*/} $(ticks "$p/task/${t##*/}")"
			done
		done
	done > "$WORKDIR/fwd-ticks"
) &
SAMPLER=$!
PIDS_TO_KILL+=("$SAMPLER")
rs0=$(ticks "$(cat "$R/pid")")
ROUNDS=${ROUNDS:-3} MODES="tracepoint forward" FWD_CONFIG=$WORKDIR/nginx-fwd.yaml \
	"$(dirname "$0")/nginx_wrk.sh" | tee "$WORKDIR/nginx.out"
kill "$SAMPLER" 2>/dev/null || true
rs=$(( $(ticks "$(cat "$R/pid")") - rs0 ))
got=$(wc -l < "$R/received.log")
fw=$(awk '{ if ($2 > m[$1]) m[$1] = $2 } END { for (t in m) s += m[t]; print s + 0 }' "$WORKDIR/fwd-ticks")
# the drop: traced minus traced-and-forwarded ratio of each round, and of the medians
awk '$1 == "round" && ($3 == "tracepoint" || $3 == "forward") {
	for (i = 4; i <= NF; i++) if ($i == "ratio") r[$2, $3] = $(i + 1); if ($2 > n) n = $2 }
     $1 == "mean" && $2 == "tracepoint" { for (i = 3; i < NF; i++) if ($i == "median" && $(i + 1) == "ratio") mt = $(i + 2) }
     $1 == "mean" && $2 == "forward" { for (i = 3; i < NF; i++) if ($i == "median" && $(i + 1) == "ratio") mf = $(i + 2) }
     END { for (k = 1; k <= n; k++) d = d sprintf(" %.3f", r[k, "tracepoint"] - r[k, "forward"])
	   printf "nginx ratio: tracepoint %s, forward %s (medians): drop %.3f; per round:%s\n", mt, mf, mt - mf, d }' \
	"$WORKDIR/nginx.out"
# a stop ships at most a window more: what the forward rounds left unshipped stays in their logs
echo "rsyslog received $got records from the forward rounds; CPU per record: forward thread $(us_per "$fw" "$((got > 0 ? got : 1))") us (sampled), rsyslog $(us_per "$rs" "$((got > 0 ? got : 1))") us; load $(cut -d' ' -f1 /proc/loadavg)"
