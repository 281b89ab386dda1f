#!/usr/bin/env bash
# TLS uprobes are per audited process. Two python3 HTTPS servers map the
# same libssl.so.3; only one (A) is audited. The kernel put a breakpoint
# (int3, 0xcc) at every offset the collector probes in A's memory and in
# no other process's (B, a process started later): read from /proc/PID/mem. An unaudited client
# talking to B moves no run_cnt of the collector's TLS programs (bpf_stats:
# nothing ran, nothing was captured); the same client talking to A does.
# An audited process that forks a child which does TLS at once: the child
# is held until its own probes are attached, so its first request is
# captured.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/tls.sh"
require_root
helpers="$LIB/../live/helpers"
make_cert "$WORKDIR/cert"
portA=$(free_port)
python3 "$helpers/tls_server.py" "$portA" "$WORKDIR/cert" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
portB=$(free_port)
python3 "$helpers/tls_server.py" "$portB" "$WORKDIR/cert" &
SRVB=$!
PIDS_TO_KILL+=("$SRVB")
wait_port "$portA"
wait_port "$portB"
# audited too: waits for $WORKDIR/go, then forks a child that makes one request at once
python3 - "$portB" "$WORKDIR/go" <<'EOF' &
import http.client, os, ssl, sys, time
while not os.path.exists(sys.argv[2]):
    time.sleep(0.02)
pid = os.fork()
if pid == 0:
    c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ssl._create_unverified_context())
    c.request("GET", "/forked-child")
    c.getresponse().read()
    os._exit(0)
os.waitpid(pid, 0)
EOF
FORKER=$!
PIDS_TO_KILL+=("$FORKER")

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
start_collector "$log" run --pid "$SRV" --pid "$FORKER"
python3 -c 'import ssl, time; time.sleep(30)' &
LATE=$!
PIDS_TO_KILL+=("$LATE")

# first byte at file offset OFF (hex) of libssl, as process PID sees it
probe_byte() {
	python3 - "$1" "$2" <<'EOF'
import sys
pid, off = sys.argv[1], int(sys.argv[2], 16)
for line in open(f"/proc/{pid}/maps"):
    f = line.split()
    start, end = (int(x, 16) for x in f[0].split("-"))
    if len(f) >= 6 and "libssl.so" in f[5] and int(f[2], 16) <= off < int(f[2], 16) + end - start:
        with open(f"/proc/{pid}/mem", "rb") as m:
            m.seek(start + off - int(f[2], 16))
            print(m.read(1).hex())
        break
else:
    sys.exit(f"offset {off:#x} of libssl not mapped in {pid}")
EOF
}
# the offsets the collector's entry link probes (its fdinfo lists them)
offs=$(for f in /proc/"$SA_PID"/fdinfo/*; do grep -q '^link_type:.uprobe_multi' "$f" 2>/dev/null &&
	awk '/^[0-9]+[ \t]+0x/ { print $2 }' "$f"; done | sort -u)
[ -n "$offs" ] || fail "no offsets in the collector's uprobe_multi links"
for _ in $(seq 50); do [ -e "/proc/$LATE/maps" ] && grep -q libssl "/proc/$LATE/maps" && break; sleep 0.05; done
for o in $offs; do
	assert_eq "int3 at libssl+$o in the audited server" cc "$(probe_byte "$SRV" "$o")"
	[ "$(probe_byte "$SRVB" "$o")" != cc ] || fail "a breakpoint at libssl+$o in the unaudited server"
	[ "$(probe_byte "$LATE" "$o")" != cc ] || fail "a breakpoint at libssl+$o in a process started after the collector"
done

# run_cnt summed over the collector's TLS uprobe programs
progs=$(grep -h -A3 '^link_type:.u\(ret\)\?probe_multi' /proc/"$SA_PID"/fdinfo/* 2>/dev/null |
	awk '/^prog_id:/ { print $2 }' | sort -u)
[ -n "$progs" ] || fail "no TLS uprobe links in the collector"
run_cnt() { for p in $progs; do bpftool -j prog show id "$p" | jq '.run_cnt // 0'; done | awk '{ s += $1 } END { print s + 0 }'; }
c0=$(run_cnt)
python3 "$helpers/tls_client.py" keepalive "$portB" 100 4 >/dev/null
assert_eq "TLS program runs while only unaudited processes did TLS" "$c0" "$(run_cnt)"
python3 "$helpers/tls_client.py" keepalive "$portA" 20 2 >/dev/null
c2=$(run_cnt)
# each request: SSL_read (entry, return) at least, and SSL_write (entry, return)
assert_ge "TLS program runs for 20 requests to the audited server" $((c0 + 80)) "$c2"

touch "$WORKDIR/go"
wait "$FORKER" || fail "the forking client failed"
stop_collector
q='[.[] | select(.type=="exchange")]'
assert_eq "exchanges of the audited server" 20 \
	"$(jqlog "$log" "$q | map(select(.conn.role==\"server\" and .conn.tls and .conn.local==\"127.0.0.1:$portA\")) | length")"
assert_eq "records of the unaudited server's traffic" 0 \
	"$(jqlog "$log" "$q | map(select(.conn.role==\"server\" and .conn.local!=\"127.0.0.1:$portA\")) | length")"
assert_eq "the forked child's first request, in clear" "GET /forked-child 200 true" \
	"$(jqlog "$log" "$q | map(select(.conn.role==\"client\")) | .[] | \"\(.request.method) \(.request.target) \(.response.status) \(.conn.tls)\"")"
grep -q "uprobes on [^ ]*libssl[^ ]* for pid $SRVB" "$WORKDIR/collector.err" && fail "probes attached for the unaudited server"
echo "ok: breakpoints only in audited processes; run_cnt $c0 -> $c0 (unaudited TLS) -> $c2 (audited); forked child captured"
