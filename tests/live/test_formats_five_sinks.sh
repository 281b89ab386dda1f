#!/usr/bin/env bash
# One collector, one config, five sinks: json_lines, cef, syslog, line and
# csv, all sealed. nginx serves requests carrying an employee id that a
# custom redaction rule from the config must hide. Every file is then
# checked against its format (jq; CEF, RFC 5424 and line grammars; python's
# csv module and the formula guard), all hold the same exchanges, none
# holds the id, and `sockaudit verify` accepts every log.
. "$(dirname "$0")/../lib/common.sh"
require_root
start_nginx
key=$WORKDIR/chain.key
"$SOCKAUDIT" keygen "$key" >/dev/null
sink() {	# sink TYPE FILE
	cat <<YAML
  - type: $1
    config:
      output_file: $WORKDIR/$2
      max_message_length: 4096
      critical: true
      integrity: {key_file: $key}
YAML
}
{
	echo "auditing_plugins:"
	sink json_lines a.jsonl
	sink cef a.cef
	sink syslog a.syslog
	sink line a.line
	sink csv a.csv
	cat <<YAML
redaction:
  disable: [email]
  custom_rules:
    - name: employee_id
      regex: "EMP-[0-9]{6}"
YAML
} > "$WORKDIR/cfg.yaml"
"$SOCKAUDIT" check-config -c "$WORKDIR/cfg.yaml" >/dev/null
start_collector "$WORKDIR/a.jsonl" run -c "$WORKDIR/cfg.yaml" --pid "$NGINX_PID"
n=12
for i in $(seq 1 $((n - 2))); do
	curl -s -o /dev/null "http://127.0.0.1:$port/index.html?emp=EMP-1000$(printf %02d "$i")"
done
# a body a spreadsheet would run, with the id inside; and one with quotes, a pipe and '='
curl -s -o /dev/null --data-binary '=HYPERLINK("http://x") EMP-654321' "http://127.0.0.1:$port/echo"
curl -s -o /dev/null --data-binary 'a|b=c "q" ] \ EMP-777777' "http://127.0.0.1:$port/echo"
stop_collector
got=$(python3 "$LIB/../live/helpers/check_formats.py" "$WORKDIR"/a.{jsonl,cef,syslog,line,csv} \
	EMP- REDACTED:employee_id) || fail "a log does not match its format (above)"
assert_eq "exchanges in every file" "$n" "$got"
assert_valid_jsonl "$WORKDIR/a.jsonl"
assert_eq "json exchanges with the id redacted" "$n" \
	"$(jqlog "$WORKDIR/a.jsonl" '[.[] | select(.type=="exchange" and (.redactions | index("employee_id")))] | length')"
assert_eq "csv formula guarded" 1 "$(grep -c "\"'=HYPERLINK" "$WORKDIR/a.csv")"
assert_eq "line: one line per exchange" "$n" "$(grep -c '^[^ ]*Z exchange seq=' "$WORKDIR/a.line")"
for f in a.jsonl a.cef a.syslog a.line a.csv; do
	"$SOCKAUDIT" verify --key "$key" --anchor "$WORKDIR/$f.anchor" "$WORKDIR/$f" >/dev/null \
		|| fail "verify rejects $f"
done
# one changed byte in an exchange of each text format is found at its line
for f in a.cef a.syslog a.line a.csv; do
	ln=$(grep -n -m1 'REDACTED:employee_id' "$WORKDIR/$f" | cut -d: -f1)
	sed -i "${ln}s/REDACTED:employee_id/REDACTED:employee_iD/" "$WORKDIR/$f"
	out=$("$SOCKAUDIT" verify --key "$key" "$WORKDIR/$f" || true)
	echo "$out" | grep -q "TAMPERED $WORKDIR/$f:$ln: modified" || fail "$f: edit not found: $out"
done
echo "ok: $n exchanges in five formats, the custom rule applied in each, every log verifies"
