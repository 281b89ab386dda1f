#!/usr/bin/env bash
# Issue 13, "no secret goes out in clear": real requests put a secret in
# each text a record carries besides the body, and in the spellings that
# got past the redactor, and the collector writes five sinks (json_lines,
# cef, syslog, line, csv). No secret may be in any file:
#  - target: a percent-encoded key (p%61ssword=), token (Bearer%20...) and
#    card (4111%201111...);
#  - request Host and Content-Type, response Content-Type and reason phrase;
#  - a card written with dots, in a body;
#  - an application/octet-stream body that is text (password=hunter2...):
#    no hex preview of it;
#  - a card cut by the body excerpt (body_excerpt 40), in an HTTP body, a
#    JSON-RPC message and a raw message;
#  - a raw (unrecognised, binary) protocol whose first bytes hold a
#    password: no hex preview of them;
#  - JSON-RPC: a method, an id, a tool name and an error message (its key
#    spelt p\u0061ssword, as the JSON-RPC parser keeps it).
# The json_lines records must also keep the text around each secret and
# list the rules that fired.
. "$(dirname "$0")/../lib/common.sh"
require_root
hport=$(free_port)
rport=$(free_port)
while [ "$rport" = "$hport" ]; do rport=$(free_port); done
xport=$(free_port)
while [ "$xport" = "$hport" ] || [ "$xport" = "$rport" ]; do xport=$(free_port); done
python3 "$LIB/../live/helpers/leaky_server.py" "$hport" "$rport" "$xport" &
SRV=$!
PIDS_TO_KILL+=("$SRV")
wait_port "$hport"
wait_port "$rport"
wait_port "$xport"
key=$WORKDIR/chain.key
"$SOCKAUDIT" keygen "$key" >/dev/null
sink() {	# sink TYPE FILE
	printf '  - type: %s\n    config: {output_file: %s, max_message_length: 8192, %s}\n' \
		"$1" "$WORKDIR/$2" "integrity: {key_file: $key}"
}
{
	echo "auditing_plugins:"
	sink json_lines a.jsonl
	sink cef a.cef
	sink syslog a.syslog
	sink line a.line
	sink csv a.csv
	echo "correlation: {body_excerpt: 40}"
} > "$WORKDIR/cfg.yaml"
start_collector "$WORKDIR/a.jsonl" run -c "$WORKDIR/cfg.yaml" --pid "$SRV"
python3 - "$hport" "$rport" "$xport" <<'PY'
import json, socket, sys
hport, rport, xport = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def http(head, body=b""):
    s = socket.create_connection(("127.0.0.1", hport))
    s.sendall(head.encode() + b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    while s.recv(4096):
        pass
    s.close()

http("GET /a?p%61ssword=hunter2&t=Bearer%20abcdefgh.IJKL9&c=4111%201111%201111%201111 HTTP/1.1\r\n"
     "Host: AKIAIOSFODNN7EXAMPLE.example.com")
http("POST /ctype HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain; token=tok3nValue99",
     b"pay 4111.1111.1111.1111")
http("GET /reason HTTP/1.1\r\nHost: x")
http("POST /bin HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream",
     b"password=hunter2&user=bob&more=1")
http("POST /cut HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain",
     b"x" * 29 + b" 5500 0000 0000 0004 tail")
s = socket.create_connection(("127.0.0.1", rport))
f = s.makefile("rwb")
for m in ({"jsonrpc": "2.0", "id": 1, "method": "sk-ant-api03-abcdefghijklmnopqrstuvwxyz"},
          {"jsonrpc": "2.0", "id": "6011-0009-9013-9424", "method": "tools/call",
           "params": {"name": "mail:bob@example.org", "arguments": {}}}):
    f.write(json.dumps(m).encode() + b"\n")
    f.flush()
    f.readline()
# the card starts at byte 30 of the line: the 40-byte excerpt cuts it
f.write(b'{"id":3,"pad":"xxxxxxxx","c":"5105 1051 0510 5100","jsonrpc":"2.0","method":"a"}\n')
f.flush()
f.readline()
s.close()
s = socket.create_connection(("127.0.0.1", xport))
s.sendall(b"x" * 29 + b" 3782 822463 10005 tail\n")
s.recv(64)
s.close()
# a binary login message (length, type, NULs) with the password in its first 16 bytes
s = socket.create_connection(("127.0.0.1", xport))
s.sendall(b"\x00\x00\x00\x2a\x01pw=rawS3cret!\x00" + b"\x00\x01\x02\x03" * 7)
s.recv(64)
s.close()
PY
stop_collector
secrets=(hunter2 70617373776f7264 abcdefgh.IJKL9 '4111%201111' 4111.1111 AKIAIOSFODNN7EXAMPLE
	tok3nValue99 ghp_abcdefghijklmnopqrstuvwxyz0123456789AB '5500 0000'
	sk-ant-api03-abcdefghijklmnopqrstuvwxyz 6011-0009 bob@example.org s3cretpw
	rawS3cret 7261775333637265	# the raw password, and its hex
	'5105 1051' '3782 8224')	# cards cut by the excerpt in JSON-RPC and raw
leaks=0
for f in a.jsonl a.cef a.syslog a.line a.csv; do
	for s in "${secrets[@]}"; do
		if grep -qF -- "$s" "$WORKDIR/$f"; then
			echo "LEAK: '$s' in $f: $(grep -F -m1 -- "$s" "$WORKDIR/$f" | cut -c1-300)" >&2
			leaks=$((leaks + 1))
		fi
	done
done
assert_eq "secrets in clear in the five logs" 0 "$leaks"
got=$(python3 "$LIB/../live/helpers/check_formats.py" "$WORKDIR"/a.{jsonl,cef,syslog,line,csv} \
	s3cretpw REDACTED:) || fail "a log does not match its format (above)"
assert_eq "exchanges in every file" 10 "$got"
j=$WORKDIR/a.jsonl
ex='[.[] | select(.type=="exchange")]'
assert_eq "target as written, secrets replaced" \
	'/a?p%61ssword=[REDACTED:password]&t=Bearer%20[REDACTED:bearer_token]&c=[REDACTED:credit_card]' \
	"$(jqlog "$j" "$ex | map(select(.request.target // \"\" | startswith(\"/a?\"))) | .[0].request.target")"
assert_eq "binary text body: kind and length, no hex" '[binary binary 32 bytes]' \
	"$(jqlog "$j" "$ex | map(select(.request.target == \"/bin\")) | .[0].request.body")"
assert_eq "cut card replaced whole" "$(printf 'x%.0s' $(seq 29)) [REDACTED:credit_card]" \
	"$(jqlog "$j" "$ex | map(select(.request.target == \"/cut\")) | .[0].request.body")"
assert_eq "rules named" 'aws_access_key,bearer_token,credit_card,password' \
	"$(jqlog "$j" "$ex | map(select(.request.target // \"\" | startswith(\"/a?\"))) | .[0].redactions | sort | join(\",\")")"
assert_eq "rpc method and error message redacted" \
	'[REDACTED:anthropic_key]|bad p\u0061ssword=[REDACTED:password] for caller' \
	"$(jqlog "$j" "$ex | map(select(.rpc.id == \"1\")) | .[0] | \"\\(.rpc.method)|\\(.rpc.error.message)\"")"
assert_eq "rpc id and tool redacted" '"[REDACTED:credit_card]" mail:[REDACTED:email]' \
	"$(jqlog "$j" "$ex | map(select(.rpc.method == \"tools/call\")) | .[0] | \"\(.rpc.id) \(.rpc.tool)\"")"
assert_eq "raw binary message: kind and length, no hex" '[binary binary 47 bytes]' \
	"$(jqlog "$j" "$ex | map(select(.proto == \"raw\" and .request.body_kind)) | .[0].request.body")"
assert_eq "cut card in JSON-RPC replaced whole" '{"id":3,"pad":"xxxxxxxx","c":"[REDACTED:credit_card]' \
	"$(jqlog "$j" "$ex | map(select(.rpc.id == \"3\")) | .[0].request.body")"
assert_eq "cut card in raw replaced whole" "$(printf 'x%.0s' $(seq 29)) [REDACTED:credit_card]" \
	"$(jqlog "$j" "$ex | map(select(.proto == \"raw\" and (.request.body | startswith(\"x\")))) | .[0].request.body")"
echo "ok: ${#secrets[@]} secrets in 10 exchanges, none in clear in five formats"
