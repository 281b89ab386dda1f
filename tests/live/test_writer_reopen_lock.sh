#!/usr/bin/env bash
# The writer under a hostile neighbour and a careless operator, under load:
# - the log is moved away and swapped for a symlink to a root file, ten
#   times (the attack of issue 12, every 0.2 s): every swap is noticed (a
#   rotate record saying how), nothing goes through the symlink, and every
#   exchange is either in a file or counted in a loss record;
# - the log is deleted under the writer: noticed, and what went into the
#   deleted file since the last look is a loss record;
# - a second collector on the same log is refused, naming the pid holding
#   it, and writes nothing into it.
. "$(dirname "$0")/../lib/common.sh"
require_root
start_nginx
ngx=$NGINX_PID
sdir=$WORKDIR/side
mkdir -m 0700 "$sdir"
victim=$WORKDIR/passwd
cp /etc/passwd "$victim"
chmod 0644 "$victim"
cp "$victim" "$WORKDIR/passwd.orig"
# mkcfg N: two sinks, the critical mainN.log and the non-critical side/sideN.log
mkcfg() {
	cat > "$WORKDIR/c$1.yaml" <<CFG
auditing_plugins:
  - type: json_lines
    config: {output_file: $WORKDIR/main$1.log, max_file_size_mb: 0}
  - type: json_lines
    config: {output_file: $sdir/side$1.log, critical: false, max_file_size_mb: 0}
CFG
	chmod 644 "$WORKDIR/c$1.yaml"
}

# load until $WORKDIR/stop exists
start_load() {
	rm -f "$WORKDIR/stop"
	(while [ ! -e "$WORKDIR/stop" ]; do curl -s -o /dev/null "http://127.0.0.1:$port/r"; done) &
	LOAD=$!
	PIDS_TO_KILL+=("$LOAD")
}
stop_load() { touch "$WORKDIR/stop"; wait "$LOAD"; }

# wait_regular FILE: until the writer has made FILE again (a regular file, not our symlink)
wait_regular() {
	local tries=400
	until [ -f "$1" ] && [ ! -L "$1" ]; do
		tries=$((tries - 1)); [ $tries -gt 0 ] || fail "the writer did not make $1 again"
		sleep 0.025
	done
}

# wait_in FILE TEXT: until TEXT is in FILE
wait_in() {
	local tries=400
	until grep -q "$2" "$1" 2>/dev/null; do
		tries=$((tries - 1)); [ $tries -gt 0 ] || fail "$1: no $2"
		sleep 0.025
	done
}

# count FILTER FILES...: how many records of the files FILTER selects
count() { local q=$1; shift; cat "$@" | jq -s "[.[] | select($q)] | length"; }

# ---- the attack: moved away and swapped for a symlink, ten times ----
mkcfg 1
m=$WORKDIR/main1.log
s=$sdir/side1.log
start_collector "$m" run -c "$WORKDIR/c1.yaml" --pid "$ngx"
start_load
wait_in "$s" '"type":"exchange"'
for k in $(seq 1 10); do
	wait_regular "$s"
	mv "$s" "$sdir/stolen.$k"
	# the symlink replaces whatever is there now (the writer may have made the file again)
	ln -s "$victim" "$sdir/tmp"
	mv -Tf "$sdir/tmp" "$s"
	sleep 0.2	# the attacker's period: the writer meets the symlink meanwhile
	rm "$s"
done
wait_regular "$s"
wait_in "$s" '"type":"exchange"'
stop_load
stop_collector
cmp -s "$victim" "$WORKDIR/passwd.orig" || fail "the symlink's target was written to"
assert_eq "the symlink's target's mode" 644 "$(stat -c %a "$victim")"
# every swap noticed: the file the writer made after each one starts with a rotate record
# (moved; replaced when the symlink was there first; unlinked when the symlink
# replaced the file the writer had just made again)
assert_eq "swaps noticed" 10 "$(count '.type=="rotate" and (.reason=="moved" or
	.reason=="replaced" or .reason=="unlinked")' "$sdir"/stolen.* "$s")"
all=$(count '.type=="exchange"' "$m")
kept=$(count '.type=="exchange"' "$sdir"/stolen.* "$s")
lost=$(jqlog "$m" "[.[] | select(.type==\"loss\" and .sink==\"$s\") | .count] | add // 0")
echo "swap attack: $all exchanges in the critical log; $kept in the side files, $lost counted lost"
[ "$kept" -le "$all" ] || fail "more exchanges in the side files than in the critical log"
# (lost also counts the writer's own lines that went with a clobbered file: >=)
[ $((kept + lost)) -ge "$all" ] || fail "$((all - kept - lost)) exchanges neither written nor counted lost"
for f in "$m" "$s" "$sdir"/stolen.*; do assert_valid_jsonl "$f"; done

# ---- deleted under the writer five times; a second collector refused ----
mkcfg 2
m=$WORKDIR/main2.log
s=$sdir/side2.log
start_collector "$m" run -c "$WORKDIR/c2.yaml" --pid "$ngx"
start_load
for k in $(seq 1 5); do
	wait_in "$s" '"type":"exchange"'
	cp "$s" "$sdir/deleted.$k"	# for its first record: how the writer noticed the last one
	rm "$s"
	wait_regular "$s"
done
wait_in "$s" '"type":"exchange"'
size=$(stat -c %s "$m")
rc=0; "$SOCKAUDIT" run -o "$m" --pid "$ngx" 2>"$WORKDIR/second.err" || rc=$?
[ "$rc" != 0 ] || fail "a second collector on $m started"
grep -q "audit log $m is written by another collector (pid $SA_PID holds $m.lock)" \
	"$WORKDIR/second.err" || fail "the refusal does not name the log and pid: $(cat "$WORKDIR/second.err")"
stop_load
stop_collector
assert_eq "one collector_start in $m" 1 "$(grep -c '"type":"collector_start"' "$m")"
[ "$(stat -c %s "$m")" -ge "$size" ] || fail "the log shrank"
assert_eq "deletions noticed" 5 "$(count '.type=="rotate" and .reason=="unlinked"' \
	"$sdir"/deleted.* "$s")"
# what went into a deleted file since the writer's last look is a loss record
told=$(cat "$sdir"/deleted.* "$s" | jq -s '[.[] | select(.type=="rotate" and .reason=="unlinked") |
	.old_file_records] | add // 0')
lost=$(jqlog "$m" "[.[] | select(.type==\"loss\" and .sink==\"$s\" and
	.counter==\"unlinked_file_records\") | .count] | add // 0")
echo "deletions: 5 noticed, $told lines in deleted files after the last look, $lost counted lost"
assert_eq "unlinked_file_records = old_file_records of the unlinked rotates" "$told" "$lost"
assert_valid_jsonl "$s"
echo ok
