#!/usr/bin/env bash
# TLS uprobes are per audited process. Two python3 HTTPS servers map the
# same libssl.so.3; only one (A) is audited. An unaudited client talking
# to B moves no run_cnt of the collector's TLS programs (bpf_stats: nothing
# ran in any process but the audited ones) and nothing of it is written;
# the same client talking to A moves them and is written.
# Breakpoints, read from /proc/PID/mem: int3 (0xcc) at every offset the
# collector probes in A's libssl, and in fake_ssl (bench/uprobe_cost.c: an
# executable exporting SSL_* that no other collector on the machine
# probes) only in the audited copy, not in an unaudited one nor in one
# started after the collector.
# Fork: the audited fake_ssl forks a child whose first instructions are
# 4 x 500 probed calls; the child is held until its own links exist, so
# the entry program runs exactly 2000 times for it. Exec: an audited shell
# execs fake_ssl (no library to map that was not judged before: only the
# exec shows it), which makes the same calls at once: 2000 runs again.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/tls.sh"
require_root
helpers="$LIB/../live/helpers"
gcc -O2 -rdynamic -o "$WORKDIR/fake_ssl" "$LIB/../../bench/uprobe_cost.c" || fail "cannot build fake_ssl"
make_cert "$WORKDIR/cert"
portA=$(free_port)
python3 "$helpers/tls_server.py" "$portA" "$WORKDIR/cert" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
portB=$(free_port)
python3 "$helpers/tls_server.py" "$portB" "$WORKDIR/cert" &
SRVB=$!
PIDS_TO_KILL+=("$SRVB")
# audited: waits for $WORKDIR/go, then forks the child that makes the calls
"$WORKDIR/fake_ssl" 500 0 fork "$WORKDIR/go" >"$WORKDIR/fake.out" &
FAKE=$!
PIDS_TO_KILL+=("$FAKE")
# audited: a shell (no libssl) that, once $WORKDIR/go2 exists, execs
# fake_ssl, which makes its 4 x 500 calls at once
sh -c 'while [ ! -e "$0" ]; do sleep 0.02; done; exec "$1" 500 0' "$WORKDIR/go2" "$WORKDIR/fake_ssl" >/dev/null &
EXECER=$!
PIDS_TO_KILL+=("$EXECER")
# not audited: waits for a file that never comes
"$WORKDIR/fake_ssl" 1 0 - "$WORKDIR/never" &
FAKEB=$!
PIDS_TO_KILL+=("$FAKEB")
wait_port "$portA"
wait_port "$portB"

# bpf_stats on for as long as this fd is held (BPF_ENABLE_STATS), not the global sysctl
python3 -c '
import ctypes, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(struct.pack("I", 0), 16)	# BPF_STATS_RUN_TIME
fd = libc.syscall(321, 32, attr, 4)				# bpf(BPF_ENABLE_STATS)
if fd < 0:
    sys.exit("BPF_ENABLE_STATS: errno %d" % ctypes.get_errno())
print("on", flush=True)
time.sleep(120)' >"$WORKDIR/stats" &
PIDS_TO_KILL+=("$!")
for _ in $(seq 100); do grep -q on "$WORKDIR/stats" && break; sleep 0.05; done
grep -q on "$WORKDIR/stats" || fail "cannot enable bpf_stats"

log=$WORKDIR/audit.log
start_collector "$log" run --pid "$SRV" --pid "$FAKE" --pid "$EXECER"
"$WORKDIR/fake_ssl" 1 0 - "$WORKDIR/never" &
LATE=$!
PIDS_TO_KILL+=("$LATE")

# probe_bytes FILE PID OFF...: the byte at each file offset (hex) of FILE's
# mapping as process PID sees it, one line
probe_bytes() {
	local name=$1 pid=$2 off range foff ino path s e out=()
	shift 2
	for off; do
		while read -r range _ foff _ ino path; do
			s=$((0x${range%-*})) e=$((0x${range#*-}))
			case $path in *"$name") ;; *) continue;; esac
			[ $((0x$foff)) -le $((off)) ] && [ $((off)) -lt $((0x$foff + e - s)) ] || continue
			out+=("$(dd if="/proc/$pid/mem" bs=1 count=1 skip=$((s + off - 0x$foff)) iflag=skip_bytes 2>/dev/null |
				od -An -tx1 | tr -d ' \n')")
			break
		done < "/proc/$pid/maps"
	done
	echo "${out[*]}"
}
# offsets FILE: those the collector's entry links probe in FILE (fdinfo lists them)
offsets() {
	for f in /proc/"$SA_PID"/fdinfo/*; do
		if grep -q '^link_type:.uprobe_multi' "$f" 2>/dev/null && grep -q "^path:.*$1\$" "$f"; then
			awk '/^[0-9]+[ \t]+0x/ { print $2 }' "$f"
		fi
	done | sort -u
}
all_cc() { printf 'cc %.0s' "$@" | sed 's/ $//'; }
ssl_offs=$(offsets libssl.so.3)
fake_offs=$(offsets /fake_ssl)
[ -n "$ssl_offs" ] && [ -n "$fake_offs" ] || fail "no probed offsets in the collector's uprobe_multi links"
assert_eq "int3 at the probed offsets of libssl in the audited server" "$(all_cc $ssl_offs)" \
	"$(probe_bytes libssl.so.3 "$SRV" $ssl_offs)"
assert_eq "int3 at the probed offsets of the audited fake_ssl" "$(all_cc $fake_offs)" \
	"$(probe_bytes /fake_ssl "$FAKE" $fake_offs)"
assert_eq "int3 in an unaudited fake_ssl" 0 "$(probe_bytes /fake_ssl "$FAKEB" $fake_offs | grep -o cc | wc -l)"
assert_eq "int3 in a fake_ssl started after the collector" 0 \
	"$(probe_bytes /fake_ssl "$LATE" $fake_offs | grep -o cc | wc -l)"

# run_cnt summed over the collector's TLS uprobe programs (NAME: one of them)
progs=$(grep -h -A3 '^link_type:.u\(ret\)\?probe_multi' /proc/"$SA_PID"/fdinfo/* 2>/dev/null |
	awk '/^prog_id:/ { print $2 }' | sort -u)
run_cnt() {
	for p in $progs; do bpftool -j prog show id "$p" | jq --arg n "${1:-}" 'select($n == "" or .name == $n) | .run_cnt // 0'; done |
		awk '{ s += $1 } END { print s + 0 }'
}
c0=$(run_cnt)
python3 "$helpers/tls_client.py" keepalive "$portB" 40 2 >/dev/null
assert_eq "TLS program runs while only unaudited processes did TLS" "$c0" "$(run_cnt)"
python3 "$helpers/tls_client.py" keepalive "$portA" 20 2 >/dev/null
c2=$(run_cnt)
# each request: SSL_read (entry, return) at least, and SSL_write (entry, return)
assert_ge "TLS program runs for 20 requests to the audited server" $((c0 + 80)) "$c2"

e0=$(run_cnt sa_ssl_entry)
touch "$WORKDIR/go"
wait "$FAKE" || fail "fake_ssl's child failed"
assert_eq "entry probe runs in the forked child (4 x 500 calls from its start)" $((e0 + 2000)) "$(run_cnt sa_ssl_entry)"
e1=$(run_cnt sa_ssl_entry)
touch "$WORKDIR/go2"
wait "$EXECER" || fail "the exec'd fake_ssl failed"
assert_eq "entry probe runs in a program a target exec'd (4 x 500 calls from its start)" $((e1 + 2000)) "$(run_cnt sa_ssl_entry)"
stop_collector
q='[.[] | select(.type=="exchange")]'
assert_eq "exchanges of the audited server" 20 \
	"$(jqlog "$log" "$q | map(select(.conn.tls and .conn.local==\"127.0.0.1:$portA\")) | length")"
assert_eq "records of the unaudited server's traffic" 0 \
	"$(jqlog "$log" "$q | map(select(.conn.local==\"127.0.0.1:$portB\" or .conn.peer==\"127.0.0.1:$portB\")) | length")"
grep -q "uprobes on [^ ]* for pid \($SRVB\|$FAKEB\|$LATE\) " "$WORKDIR/collector.err" && fail "probes attached for an unaudited process"
echo "ok: breakpoints only in audited processes; run_cnt $c0 -> $c0 (unaudited TLS) -> $c2 (audited); forked child and exec'd program armed before their first call"
