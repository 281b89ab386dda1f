#!/usr/bin/env bash
# TLS of programs that become targets only when they start, by a selector:
# a copy of node named by --exe (adopted at exec), and node started in a
# cgroup named by --cgroup: moved there by another process while stopped
# before its exec, so that no syscall it makes is seen before the exec
# (tracepoint mode: only the socket syscalls are hooked). Node carries
# OpenSSL in its executable: only the hold at exec (sa_tls_exec) stops it
# before its uprobes exist. Each sends its HTTPS request at once: the first
# request's plaintext must be recorded. 5 fresh processes each, so that a
# race would show. Before the cgroup was adopted at exec, 4 of the 5 cgroup
# requests were missed (the first got its links by a library load). The
# server is not audited.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/service.sh"
. "$LIB/tls.sh"
require_root
make_cgroup "sockaudit-tls-$$"
rel=${CG#"$(cgroup_v2_root)"}
start_tls_server python3 "$LIB/../live/helpers/tls_server.py"
mkdir -p "$WORKDIR/bin"
cp "$(readlink -f "$(command -v node)")" "$WORKDIR/bin/node"
log=$WORKDIR/audit.log
N=5
# node: OpenSSL inside the executable, so no library it maps later stops it;
# V8 remaps part of the executable unless told not to: that mmap would
# stop it too, and hide an exec not held
get='require("https").get({ host: "127.0.0.1", port: process.argv[1], path: process.argv[2],
	rejectUnauthorized: false }, (r) => { r.resume(); r.on("end", () => process.exit(r.statusCode == 200 ? 0 : 1)); })'
start_collector "$log" run --attach tracepoint --exe "$WORKDIR/bin/node" --cgroup "$rel"
for i in $(seq $N); do
	"$WORKDIR/bin/node" --no-short-builtin-calls -e "$get" "$port" "/exe-$i" || fail "node copy $i failed"
	# stops itself; moved into the cgroup and continued from here
	( kill -STOP "$BASHPID"; exec node --no-short-builtin-calls -e "$get" "$port" "/cgroup-$i" ) &
	c=$!
	for _ in $(seq 100); do [ "$(awk '{ print $3 }' /proc/$c/stat)" = T ] && break; sleep 0.01; done
	echo "$c" > "$CG/cgroup.procs"
	kill -CONT "$c"
	wait "$c" || fail "node in the cgroup $i failed"
done
# the last records are written once their exchange is complete: poll
q='[.[] | select(.type=="exchange" and .conn.tls == true and .request.method == "GET")]'
for _ in $(seq 100); do
	[ "$(jqlog "$log" "$q | length" 2>/dev/null)" = $((2 * N)) ] && break
	sleep 0.05
done
stop_collector
assert_valid_jsonl "$log"
for kind in exe cgroup; do
	assert_eq "$kind: first request of each process, in clear" \
		"$(seq -f "GET /$kind-%g 200 true" $N | sort | tr '\n' ' ')" \
		"$(jqlog "$log" "$q | map(select(.request.target | startswith(\"/$kind-\"))) | map(\"\(.request.method) \(.request.target) \(.response.status) \(.conn.tls)\") | sort | .[]" | tr '\n' ' ')"
done
assert_eq "ciphertext written" 0 "$(jqlog "$log" '[.[] | select(.type=="exchange" and (.conn.tls | not))] | length')"
echo "ok: $N node processes adopted by --exe and $N by --cgroup at their start: every first request in clear"
