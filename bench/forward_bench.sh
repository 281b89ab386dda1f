#!/usr/bin/env bash
# Records/s shipped by the forwarder over RELP/TLS (mutual authentication)
# to a local rsyslog, for each rsyslog profile (safe: Direct queue, 200 =
# written, as the tests run it; fast: docs/fleet.md's high-rate config) and
# window: a log of N records made beforehand is shipped from its start (a
# new cursor), timed from the first acknowledgement to the last. CPU per
# record of each side: the collector's forward thread (sa-forward) and
# rsyslog, user + system, a figure the machine's load does not scale.
# Then nginx under wrk, untraced / traced / traced and forwarded with the
# receiver at normal priority / at SCHED_IDLE, in the same rounds
# (bench/nginx_wrk.sh, MODES="tracepoint forward forward-idle"): the
# ratios, the drop of each, records shipped during wrk and after, the
# forward thread's CPU per record, and a check that rsyslog holds every
# record of every forward round.
#   FWD_BENCH_RECORDS=200000 FWD_BENCH_PROFILES="safe fast" (" ": none)
#   FWD_BENCH_WINDOWS="128 1024" FWD_BENCH_NGINX=1 ROUNDS=3
#   FWD_BENCH_FORWARD_EXTRA="        nice: 19": more forward keys for the nginx rounds
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
. "$(dirname "$0")/forward_lib.sh"
relp_certs "$WORKDIR/certs"
sleep 1000 &
TGT=$!
PIDS_TO_KILL+=("$TGT")

ship() {	# ship PROFILE WINDOW
	local prof=$1 win=$2 rport R log t0 t1 rs0 fw fws rs got sec
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
	fws=$(forward_ticks "$SA" sys_ticks)
	rs=$(( $(ticks "$(cat "$R/pid")") - rs0 ))
	kill -INT "$SA"; wait "$SA" || true
	[ "$got" -ge "$N" ] || { echo "rsyslog wrote $got of $N records"; exit 1; }
	sec=$(echo "$t1 - $t0" | bc)
	printf 'rsyslog %-4s window %4d: %d records in %.2f s = %d records/s; CPU per record: forward thread %s us (%s in the kernel), rsyslog %s us; load %s\n' \
		"$prof" "$win" "$N" "$sec" "$(echo "$N / $sec" | bc)" "$(us_per "$fw" "$N")" "$(us_per "$fws" "$N")" \
		"$(us_per "$rs" "$N")" "$(cut -d' ' -f1 /proc/loadavg)"
	rsyslog_kill9 "$R"
}
for prof in ${FWD_BENCH_PROFILES:-safe fast}; do
	for win in ${FWD_BENCH_WINDOWS:-128 1024}; do
		ship "$prof" "$win"
	done
done

# nginx: forwarding on vs off in the same rounds (FWD_BENCH_NGINX=0: skip):
# forward with the receiver at normal priority beside nginx (it competes
# for this machine's 2 cores, as no deployment has it), forward-idle with
# it at SCHED_IDLE (nearly what the audited host pays when the receiver is
# elsewhere). Each forward round runs until everything is acknowledged.
[ "${FWD_BENCH_NGINX:-1}" = 1 ] || exit 0
rport=$(free_port)
R=$WORKDIR/rsyslog-nginx
RSYSLOG_PROFILE=${FWD_BENCH_NGINX_PROFILE:-fast} rsyslog_conf "$R" "$rport"
rsyslog_start "$R"
# the same sink as nginx_wrk.sh's own config (no rotation, immediate), plus forward
FWD_EXTRA=${FWD_BENCH_FORWARD_EXTRA:-} forward_cfg "$WORKDIR/nginx-fwd.yaml" "$WORKDIR/unused.log" "$rport" "      max_file_size_mb: 0
      flush_mode: immediate"
rs0=$(ticks "$(cat "$R/pid")")
ROUNDS=${ROUNDS:-3} MODES="tracepoint forward forward-idle" FWD_CONFIG=$WORKDIR/nginx-fwd.yaml \
	FWD_RECEIVER_PID=$(cat "$R/pid") "$(dirname "$0")/nginx_wrk.sh" | tee "$WORKDIR/nginx.out"
rs=$(( $(ticks "$(cat "$R/pid")") - rs0 ))
# every record of every forward round at the receiver (fast: written within a second)
want=$(awk '$1 == "fwd" { s += $7 } END { print s + 0 }' "$WORKDIR/nginx.out")
for _ in $(seq 100); do
	got=$(awk '!seen[$2" "$3]++' "$R/received.log" | wc -l)
	[ "$got" -ge "$want" ] && break
	sleep 0.1
done
# per mode: the drop (tracepoint minus mode ratio, of the medians and of each round),
# records shipped during wrk and after it, the forward thread's CPU per record
for m in forward forward-idle; do
	awk -v m="$m" -v hz="$(getconf CLK_TCK)" '
	$1 == "round" && ($3 == "tracepoint" || $3 == m) {
		for (i = 4; i <= NF; i++) if ($i == "ratio") r[$2, $3] = $(i + 1); if ($2 > n) n = $2 }
	$1 == "mean" && $2 == "tracepoint" { for (i = 3; i < NF; i++) if ($i == "median" && $(i + 1) == "ratio") mt = $(i + 2) }
	$1 == "mean" && $2 == m { for (i = 3; i < NF; i++) if ($i == "median" && $(i + 1) == "ratio") mf = $(i + 2) }
	$1 == "fwd" && $4 == m { during += $6; recs += $7; acked += $8; tk += $9; wait += $10; wk += $11 }
	END { for (k = 1; k <= n; k++) d = d sprintf(" %.3f", r[k, "tracepoint"] - r[k, m])
	      printf "nginx %-12s ratio: tracepoint %s, %s %s (medians): drop %.3f; per round:%s\n", m, mt, m, mf, mt - mf, d
	      printf "  %s: %d records, %d (%.0f%%) acknowledged during wrk, the rest in %.1f s after; forward thread %.2f us CPU and %.3f wake-ups per record\n",
		m, recs, during, recs ? 100 * during / recs : 0, wait, recs ? tk * 1000000 / hz / recs : 0, recs ? wk / recs : 0
	      if (acked < recs) printf "  %s: only %d of %d records acknowledged (FWD_CATCHUP_S)\n", m, acked, recs }' \
		"$WORKDIR/nginx.out"
done
echo "rsyslog holds $got distinct records of the $want the forward rounds wrote; rsyslog $(us_per "$rs" "$((got > 0 ? got : 1))") us CPU per record; load $(cut -d' ' -f1 /proc/loadavg)"
[ "$got" -ge "$want" ] || { echo "records missing at the receiver: $got of $want"; exit 1; }
