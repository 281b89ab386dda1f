#!/usr/bin/env bash
# /healthz through the states, live, with a 2 s loss window:
#  - degraded (HTTP 200) while the ring buffer overflows (1 MiB, a flood of
#    32 KB POSTs), with the kernel loss in the check; ok once the window passed;
#  - failing (HTTP 503) while a critical sink is suspended on a full tmpfs,
#    degraded (200) for a non-critical one; ok again once space is freed.
. "$(dirname "$0")/../lib/common.sh"
require_root
start_nginx
mport=$(free_port)
H="http://127.0.0.1:$mport/healthz"

# health: "CODE STATUS" of one /healthz answer, the body in $WORKDIR/h.json
health() {
	local code
	code=$(curl -s -o "$WORKDIR/h.json" -w '%{http_code}' "$H" || true)
	echo "$code $(jq -r .status "$WORKDIR/h.json" 2>/dev/null)"
}
# until_health "CODE STATUS" [poke]: poll up to 10 s; poke sends a request meanwhile
until_health() {
	local i got=
	for i in $(seq 100); do
		[ -z "${2:-}" ] || curl -s -o /dev/null "http://127.0.0.1:$port/p" || true
		got=$(health)
		[ "$got" = "$1" ] && { cp "$WORKDIR/h.json" "$WORKDIR/last.json"; return 0; }
		sleep 0.1
	done
	fail "/healthz: expected '$1', got '$got': $(cat "$WORKDIR/h.json")"
}
config() {	# config FILE [SINK YAML]: metrics with a 2 s loss window, and a sink
	cat > "$1" <<YAML
metrics: {loss_window_s: 2}
auditing_plugins:
  - type: json_lines
    config: {output_file: $WORKDIR/placeholder.log}
${2:-}
YAML
	chmod 644 "$1"
}

# ---- ring buffer overflow: degraded, then ok ----
config "$WORKDIR/rb.yaml"
start_collector "$WORKDIR/rb.log" run -c "$WORKDIR/rb.yaml" --pid "$NGINX_PID" \
	--listen "127.0.0.1:$mport" --ringbuf-mb 1 --max-capture 32768 --max-pending-per-conn 100000
until_health "200 ok"
python3 "$LIB/../live/helpers/post_flood.py" "$port" 16 60 32768 > /dev/null &
flood=$!
until_health "200 degraded"
kernel=$(jq -r .checks.loss.kernel "$WORKDIR/last.json")
assert_ge "kernel loss in the degraded answer" 1 "$kernel"
echo "degraded: $(jq -c .checks.loss "$WORKDIR/last.json")"
wait "$flood"
until_health "200 ok"
echo "ok again: $(jq -c '{status, loss: .checks.loss}' "$WORKDIR/last.json")"
stop_collector

# ---- a full tmpfs: critical sink failing (503), non-critical degraded ----
fs=$WORKDIR/fs
mkdir -p "$fs"
mount -t tmpfs -o size=4m,mode=0700 tmpfs "$fs" || skip "cannot mount a tmpfs"
trap 'umount "$fs" 2>/dev/null || true; cleanup' EXIT
for crit in true false; do
	want="503 failing"; [ $crit = true ] || want="200 degraded"
	rm -f "$fs"/*
	config "$WORKDIR/fs-$crit.yaml" "  - type: json_lines
    config: {output_file: $fs/a.log, critical: $crit, space_left_mb: 2, space_left_action: suspend}"
	start_collector "$WORKDIR/fs-$crit.log" run -c "$WORKDIR/fs-$crit.yaml" --pid "$NGINX_PID" \
		--listen "127.0.0.1:$mport"
	until_health "200 ok" poke
	head -c 3000000 /dev/zero > "$fs/filler"	# about 1 MiB left: below 2
	until_health "$want" poke
	state=$(jq -r --arg p "$fs/a.log" '.checks.sinks[$p].state' "$WORKDIR/last.json")
	assert_eq "sink state (critical: $crit)" suspended "$state"
	echo "critical: $crit: $(jq -c --arg p "$fs/a.log" '{status, sink: .checks.sinks[$p]}' "$WORKDIR/last.json")"
	rm -f "$fs/filler"
	until_health "200 ok" poke
	stop_collector
done
echo ok
