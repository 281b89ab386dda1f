#!/usr/bin/env bash
# After attach the collector keeps four capabilities (two, and CAP_SYS_ADMIN and
# CAP_KILL for the TLS uprobes of libraries loaded later) and, with `user:`, runs
# as that user: /proc/PID/status shows it (every thread). In that state a
# server started later in the selected cgroup, and the children it forks,
# are audited; SIGUSR1 rotates and gzips; SIGHUP adds a sink in the log
# directory; a SIGHUP pointing a sink where that user cannot write is
# refused and the old sinks keep writing; the chain verifies; `sockaudit
# status` works for the service user and not for another; a stop unloads
# every program the collector held.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/service.sh"
require_root
command -v bpftool >/dev/null || skip "no bpftool"
make_cgroup "sockaudit-priv-$$"
chmod 755 "$WORKDIR"
mkdir -p "$WORKDIR/logs" "$WORKDIR/rootonly"
chown nobody:nogroup "$WORKDIR/logs"
chmod 700 "$WORKDIR/logs" "$WORKDIR/rootonly"
key=$WORKDIR/k.key
"$SOCKAUDIT" keygen "$key" >/dev/null
log=$WORKDIR/logs/a.log
state=$WORKDIR/run/state.json
sink() {	# sink PATH [integrity]
	printf '  - type: json_lines\n    config:\n      output_file: %s\n      compress: true\n' "$1"
	[ -z "${2:-}" ] || printf '      integrity: {key_file: %s}\n' "$key"
}
write_config() {	# write_config [SECOND_SINK]
	{
		printf 'user: nobody\ngroup: nogroup\ntargets:\n  cgroup: %s\nauditing_plugins:\n' "$CG"
		sink "$log" integrity
		[ -z "${1:-}" ] || sink "$1"
	} > "$WORKDIR/c.yaml"
}
write_config
reloads() { grep -c '"config_reload"' "$log" 2>/dev/null || true; }
wait_reloads() { for _ in $(seq 200); do [ "$(reloads)" -ge "$1" ] && return 0; sleep 0.05; done; fail "no config_reload $1"; }

start_collector "$log" run -c "$WORKDIR/c.yaml" --state-file "$state"
root_caps=$(awk '/^CapEff/ { print $2 }' /proc/self/status)
for t in /proc/"$SA_PID"/task/*; do
	assert_eq "uid of thread $t" "65534 65534 65534 65534" "$(awk '/^Uid/ { print $2, $3, $4, $5 }' "$t/status")"
	assert_eq "CapEff of thread $t" 0000000000280024 "$(awk '/^CapEff/ { print $2 }' "$t/status")"
done
assert_eq "CapPrm" 0000000000280024 "$(awk '/^CapPrm/ { print $2 }' /proc/"$SA_PID"/status)"
assert_eq "CapBnd" 0000000000280024 "$(awk '/^CapBnd/ { print $2 }' /proc/"$SA_PID"/status)"
assert_eq "CapAmb" 0000000000000000 "$(awk '/^CapAmb/ { print $2 }' /proc/"$SA_PID"/status)"
assert_eq "NoNewPrivs" 1 "$(awk '/^NoNewPrivs/ { print $2 }' /proc/"$SA_PID"/status)"
assert_eq "start record" "cap_dac_read_search,cap_kill,cap_sys_ptrace,cap_sys_admin=ep 65534" \
	"$(jqlog "$log" '.[] | select(.type=="collector_start") | "\(.capabilities) \(.uid)"')"
echo "capabilities: before $root_caps (root), after attach $(awk '/^CapEff/ { print $2 }' /proc/"$SA_PID"/status)"
# the collector's programs and links, from its descriptors (others run collectors too)
progs=$(cat /proc/"$SA_PID"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ { print $2 }' | sort -u | tr '\n' ' ')
links=$(cat /proc/"$SA_PID"/fdinfo/* 2>/dev/null | awk '/^link_id:/ { print $2 }' | sort -u | tr '\n' ' ')
[ -n "$progs" ] || fail "no BPF program held by the collector"

port=$(free_port)
in_cgroup python3 "$LIB/../live/helpers/forking_server.py" "$port"
wait_port "$port"
assert_eq "forked 1" 200 "$(get "$port" /f1)"
kill -USR1 "$SA_PID"
for _ in $(seq 200); do ls "$log".1.gz >/dev/null 2>&1 && break; sleep 0.05; done
ls "$log".1.gz >/dev/null 2>&1 || fail "SIGUSR1 left no $log.1.gz"
assert_eq "owner of the rotated file" nobody "$(stat -c %U "$log".1.gz)"
assert_eq "forked 2" 200 "$(get "$port" /f2)"

write_config "$WORKDIR/logs/b.log"
kill -HUP "$SA_PID"
wait_reloads 1
assert_eq "reload in the log directory" applied "$(jq -r 'select(.type=="config_reload") | .status' "$log" | tail -n 1)"
assert_eq "forked 3" 200 "$(get "$port" /f3)"

write_config "$WORKDIR/rootonly/c.log"
kill -HUP "$SA_PID"
wait_reloads 2
assert_eq "reload outside" rejected "$(jq -r 'select(.type=="config_reload") | .status' "$log" | tail -n 1)"
jq -r 'select(.type=="config_reload") | .error' "$log" | tail -n 1 | grep -q "rootonly.*Permission denied.*runs as uid 65534" \
	|| fail "refusal message: $(jq -r 'select(.type=="config_reload") | .error' "$log" | tail -n 1)"
[ ! -e "$WORKDIR/rootonly/c.log" ] || fail "the refused sink was created"
assert_eq "forked 4" 200 "$(get "$port" /f4)"
for _ in $(seq 100); do grep -q '/f4' "$WORKDIR/logs/b.log" && break; sleep 0.05; done

# a selector that cannot be resolved rejects the reload; the running ones stay
write_config "$WORKDIR/logs/b.log"
sed -i "s|^  cgroup: .*|&\n  unit: no-such-unit-$$|" "$WORKDIR/c.yaml"
kill -HUP "$SA_PID"
wait_reloads 3
assert_eq "reload with a missing unit" rejected "$(jq -r 'select(.type=="config_reload") | .status' "$log" | tail -n 1)"
jq -r 'select(.type=="config_reload") | .error' "$log" | tail -n 1 | grep -q "unit no-such-unit-$$: no cgroup directory" \
	|| fail "missing unit at reload: $(jq -r 'select(.type=="config_reload") | .error' "$log" | tail -n 1)"
assert_eq "forked 5" 200 "$(get "$port" /f5)"
for _ in $(seq 100); do grep -q '/f5' "$WORKDIR/logs/b.log" && break; sleep 0.05; done

# the state file is rewritten once a second: the accepted reload's count shows by the next
for _ in $(seq 40); do
	setpriv --reuid=65534 --regid=65534 --clear-groups "$SOCKAUDIT" status --state-file "$state" > "$WORKDIR/status.out" \
		|| fail "status as the service user: $(cat "$WORKDIR/status.out")"
	grep -q "^selectors: cgroup:$CG=[1-9]" "$WORKDIR/status.out" && break
	sleep 0.1
done
grep -q "^state: running$" "$WORKDIR/status.out" || fail "status: $(cat "$WORKDIR/status.out")"
grep -q "^selectors: cgroup:$CG=[1-9]" "$WORKDIR/status.out" || fail "status selectors: $(grep selectors "$WORKDIR/status.out")"
setpriv --reuid=1 --regid=1 --clear-groups "$SOCKAUDIT" status --state-file "$state" 2>"$WORKDIR/status.err" \
	&& fail "status readable by another user"
grep -q "Permission denied" "$WORKDIR/status.err" || fail "status as another user: $(cat "$WORKDIR/status.err")"

stop_collector
# the kernel frees a program after its last perf event (the TLS uprobes) is
# released, which may lag the exit by a moment: each gets 5 s to go
gone() { for _ in $(seq 100); do bpftool "$1" show id "$2" >/dev/null 2>&1 || return 0; sleep 0.05; done; return 1; }
for id in $progs; do
	gone prog "$id" || fail "program $id still loaded 5 s after the stop"
done
for id in $links; do
	gone link "$id" || fail "link $id still attached 5 s after the stop"
done
"$SOCKAUDIT" status --state-file "$state" >/dev/null 2>&1 && fail "status says running after the stop"
assert_eq "stop record (then the chain's checkpoint)" "collector_stop checkpoint" "$(tail -n 2 "$log" | jq -r .type | tr '\n' ' ' | sed 's/ $//')"
all=$(zcat "$log".1.gz; cat "$log")
assert_eq "in a.log across rotation" "/f1 /f2 /f3 /f4 /f5" \
	"$(jq -s -r '[.[] | select(.type=="exchange") | .request.target] | sort | join(" ")' <<<"$all")"
assert_eq "in b.log, added by SIGHUP" "/f3 /f4 /f5" \
	"$(jqlog "$WORKDIR/logs/b.log" '[.[] | select(.type=="exchange") | .request.target] | sort | join(" ")')"
pids=$(jq -s -r '[.[] | select(.type=="exchange") | .proc.pid] | unique | length' <<<"$all")
assert_ge "processes (the server's forked children)" 2 "$pids"
"$SOCKAUDIT" verify --key "$key" "$log" >/dev/null || fail "the chain does not verify"
# a user that does not exist: a configuration error before anything is loaded
write_config
sed -i "s/^user: nobody$/user: no-such-user-$$/" "$WORKDIR/c.yaml"
set +e
"$SOCKAUDIT" run -c "$WORKDIR/c.yaml" -o "$WORKDIR/logs/n.log" 2>"$WORKDIR/user.err"
rc=$?
set -e
assert_eq "missing user: exit status" 2 "$rc"
grep -q "user 'no-such-user-$$' does not exist" "$WORKDIR/user.err" || fail "missing user: $(cat "$WORKDIR/user.err")"
[ ! -e "$WORKDIR/logs/n.log" ] || fail "a log was created by a start that failed"
echo "ok: uid 65534, CapEff 0000000000280024; rotation, reload, refusal, chain, status, unload"
