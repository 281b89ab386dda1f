#!/usr/bin/env bash
# --cgroup: a python server in a cgroup the test makes in the v2 hierarchy,
# started after the collector, killed and started again in the same cgroup:
# every request before and after is recorded, decided in the kernel by the
# cgroup; a server outside it is not. SIGHUP counts the match again. The
# collector tells systemd (a NOTIFY_SOCKET the test listens on) READY=1
# once attached, RELOADING=1/READY=1 around SIGHUP, STOPPING=1. A missing
# unit or cgroup is a configuration error (exit 2, one line).
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/service.sh"
require_root
make_cgroup "sockaudit-test-$$"
rel=${CG#"$(cgroup_v2_root)"}
log=$WORKDIR/cg.log
port=$(free_port)
out_port=$(free_port)
$(http_server_cmd "$out_port") >/dev/null 2>&1 &
PIDS_TO_KILL+=("$!")
wait_port "$out_port"

# sd_notify's datagrams, one line each
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode() + "\n")
        out.flush()
' "$WORKDIR/notify.sock" "$WORKDIR/notify.out" &
PIDS_TO_KILL+=("$!")
for _ in $(seq 100); do [ -S "$WORKDIR/notify.sock" ] && break; sleep 0.05; done
# the path below the v2 root, as a unit's cgroup is named
NOTIFY_SOCKET=$WORKDIR/notify.sock start_collector "$log" run --cgroup "$rel"
assert_eq "sd_notify once attached" "READY=1" "$(cat "$WORKDIR/notify.out")"
in_cgroup $(http_server_cmd "$port")
wait_port "$port"
assert_eq "before 1" 404 "$(get "$port" /before1)"
assert_eq "before 2" 404 "$(get "$port" /before2)"
assert_eq "outside" 404 "$(get "$out_port" /outside1)"
kill "$BG_PID"; wait "$BG_PID" 2>/dev/null || true
in_cgroup $(http_server_cmd "$port")
wait_port "$port"
assert_eq "after 1" 404 "$(get "$port" /after1)"
assert_eq "after 2" 404 "$(get "$port" /after2)"
assert_eq "outside" 404 "$(get "$out_port" /outside2)"
kill -HUP "$SA_PID"
for _ in $(seq 100); do grep -q '"config_reload"' "$log" && break; sleep 0.05; done
stop_collector
for _ in $(seq 40); do grep -q STOPPING "$WORKDIR/notify.out" && break; sleep 0.05; done
assert_eq "sd_notify: ready, reload, stop" "READY=1 RELOADING=1 READY=1 STOPPING=1" \
	"$(tr '\n' ' ' < "$WORKDIR/notify.out" | sed 's/ $//')"

assert_valid_jsonl "$log"
assert_eq "in the cgroup, before and after the restart" "/after1 /after2 /before1 /before2" \
	"$(targets_of "$log" "$port")"
assert_eq "outside the cgroup" "" "$(targets_of "$log" "$out_port")"
assert_eq "start: selector, nothing running yet" "cgroup:$rel=0" \
	"$(jqlog "$log" '.[] | select(.type=="collector_start") | .selectors')"
assert_eq "reload: the restarted server matches" "cgroup:$rel=1" \
	"$(jqlog "$log" '.[] | select(.type=="config_reload") | .selectors')"

# configuration errors: exit 2, one line naming the selector
set +e
"$SOCKAUDIT" run --unit "no-such-unit-$$" -o "$WORKDIR/x.log" 2>"$WORKDIR/unit.err"
rc=$?
set -e
assert_eq "missing unit: exit status" 2 "$rc"
grep -q "no-such-unit-$$: no cgroup directory at .*/system.slice/no-such-unit-$$.service.*the unit does not exist or is not running" "$WORKDIR/unit.err" \
	|| fail "missing unit message: $(cat "$WORKDIR/unit.err")"
set +e
"$SOCKAUDIT" run --cgroup /etc -o "$WORKDIR/x.log" 2>"$WORKDIR/cg.err"
rc=$?
set -e
assert_eq "not a cgroup: exit status" 2 "$rc"
grep -q "cgroup /etc: no cgroup directory" "$WORKDIR/cg.err" || fail "not a cgroup message: $(cat "$WORKDIR/cg.err")"
# check-config (the unit's ExecStartPre) resolves the targets: section too
printf 'targets:\n  unit: no-such-unit-%s\nauditing_plugins:\n  - type: json_lines\n    config: {output_file: %s}\n' \
	"$$" "$WORKDIR/y.log" > "$WORKDIR/u.yaml"
"$SOCKAUDIT" check-config -c "$WORKDIR/u.yaml" 2>"$WORKDIR/check.err" && fail "check-config accepted a missing unit"
grep -q "targets: --unit no-such-unit-$$: no cgroup directory" "$WORKDIR/check.err" || fail "check-config: $(cat "$WORKDIR/check.err")"
# a unit's cgroup, as systemd names it (made here: PID 1 may not be systemd)
root=$(cgroup_v2_root)
made_slice=
[ -d "$root/system.slice" ] || { mkdir "$root/system.slice"; made_slice=1; }
mkdir "$root/system.slice/sockaudit-test-$$.service"
sed -i "s/no-such-unit-$$/sockaudit-test-$$/" "$WORKDIR/u.yaml"
"$SOCKAUDIT" check-config -c "$WORKDIR/u.yaml" > "$WORKDIR/check.out" 2>&1 || true
rmdir "$root/system.slice/sockaudit-test-$$.service"
[ -z "$made_slice" ] || rmdir "$root/system.slice" 2>/dev/null || true
grep -q "ok (1 sinks, 1 targets" "$WORKDIR/check.out" || fail "an existing unit: $(cat "$WORKDIR/check.out")"
set +e
"$SOCKAUDIT" exec --cgroup "$rel" -o "$WORKDIR/x.log" -- true 2>"$WORKDIR/exec.err"
rc=$?
set -e
assert_eq "exec with a selector: exit status" 2 "$rc"
grep -q "are for run" "$WORKDIR/exec.err" || fail "exec with a selector: $(cat "$WORKDIR/exec.err")"
[ ! -e "$WORKDIR/x.log" ] || fail "a log was created by a start that failed"
echo "ok: 4 requests in the cgroup across a restart, 0 outside"
