# Shared by the forward live tests and bench/forward_bench.sh: certificates,
# a private rsyslog (own config, work directory, port; never the system's)
# receiving RELP over TLS with mutual authentication, and the collector's
# forward config. Needs $WORKDIR (tests/lib/common.sh or the bench's own).

# relp_certs DIR: CA, server (relp-server), client (sockaudit-client), and
# a rogue CA with a server certificate of the same name.
relp_certs() {
	local d=$1 n
	mkdir -p "$d"
	for n in ca rogue; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=test-$n" -keyout "$d/$n.key" -out "$d/$n.pem" 2>/dev/null
	done
	relp_leaf "$d" server relp-server ca
	relp_leaf "$d" client sockaudit-client ca
	relp_leaf "$d" rogue-server relp-server rogue
}

# relp_leaf DIR NAME CN CA: a certificate for CN (also its DNS name) signed by CA
relp_leaf() {
	local d=$1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$3" \
		-keyout "$d/$2.key" -out "$d/$2.csr" 2>/dev/null
	printf 'subjectAltName=DNS:%s\n' "$3" > "$d/$2.ext"
	openssl x509 -req -in "$d/$2.csr" -CA "$d/$4.pem" -CAkey "$d/$4.key" -CAcreateserial \
		-days 2 -extfile "$d/$2.ext" -out "$d/$2.pem" 2>/dev/null
	chmod 600 "$d/$2.key"
}

# rsyslog_conf DIR PORT [SERVER_CERT_NAME] [EXTRA_FILE]: the receiver's config.
# RSYSLOG_PROFILE=safe (default, the tests): Direct main queue, imrelp
# answers 200 once the action wrote the message, so a SIGKILL of rsyslog
# loses nothing it acknowledged. RSYSLOG_PROFILE=fast (the bench, and
# docs/fleet.md's high-rate config): omfile fills a 256 KiB buffer that a
# background thread writes at least every second, instead of one write()
# per message: 200 means "buffered", so a SIGKILL of rsyslog loses up to a
# buffer (a second) of acknowledged records, and librelp uses GnuTLS, about
# 1 us a record cheaper than its OpenSSL here. RSYSLOG_TLSLIB=openssl|gnutls
# overrides the profile's TLS library.
rsyslog_conf() {
	local d=$1 port=$2 srv=${3:-server} out lib=openssl
	mkdir -p "$d/work"
	case ${RSYSLOG_PROFILE:-safe} in
	safe) out="action(type=\"omfile\" file=\"$d/received.log\" template=\"ids\" flushOnTXEnd=\"on\")";;
	fast) out=$(rsyslog_fast_action "$d/received.log") lib=gnutls;;
	*) echo "RSYSLOG_PROFILE is safe or fast" >&2; return 1;;
	esac
	cat > "$d/rsyslog.conf" <<CONF
global(workDirectory="$d/work" maxMessageSize="256k" net.enableDNS="off")
main_queue(queue.type="${RSYSLOG_QUEUE:-Direct}")
module(load="imrelp" tls.tlslib="${RSYSLOG_TLSLIB:-$lib}")
input(type="imrelp" port="$port" address="127.0.0.1" maxDataSize="300k" tls="on"
      tls.cacert="$d/../certs/ca.pem" tls.mycert="$d/../certs/$srv.pem"
      tls.myprivkey="$d/../certs/$srv.key" tls.authmode="name"
      tls.permittedpeer=["sockaudit-client"])
template(name="ids" type="string" string="%hostname% %procid% %msgid% %msg%\n")
$out
CONF
	[ -z "${4:-}" ] || cat "$4" >> "$d/rsyslog.conf"
}

# rsyslog_fast_action FILE: docs/fleet.md's high-rate file action writing FILE
rsyslog_fast_action() {
	cat <<RS
action(type="omfile" file="$1" template="ids" flushOnTXEnd="off"
       ioBufferSize="256k" asyncWriting="on" flushInterval="1")
RS
}

# rsyslog_start DIR: start it (pid in DIR/pid) and wait until it listens
rsyslog_start() {
	local d=$1 port
	port=$(sed -n 's/.*port="\([0-9]*\)".*/\1/p' "$d/rsyslog.conf")
	rsyslogd -n -f "$d/rsyslog.conf" -i "$d/rsyslogd.pid" >> "$d/rsyslog.out" 2>&1 &
	echo $! > "$d/pid"
	PIDS_TO_KILL+=("$!")
	wait_port "$port"
}

rsyslog_kill9() {
	local d=$1
	kill -9 "$(cat "$d/pid")" 2>/dev/null || true
	wait "$(cat "$d/pid")" 2>/dev/null || true
	rm -f "$d/rsyslogd.pid"
}

# forward_cfg FILE LOG PORT [EXTRA SINK CONFIG LINES]: a json_lines sink forwarded to PORT
# (FWD_WINDOW: its window; FWD_EXTRA: more lines of the forward section)
forward_cfg() {
	local f=$1 log=$2 port=$3 c=$WORKDIR/certs
	cat > "$f" <<CONF
auditing_plugins:
  - type: json_lines
    config:
      output_file: $log
${4:-}
      forward:
        target: 127.0.0.1:$port
        ca_file: $c/ca.pem
        cert_file: $c/client.pem
        key_file: $c/client.key
        peer_names: relp-server
        hostname: host-a
        window: ${FWD_WINDOW:-256}
        reconnect_max_ms: 500
${FWD_EXTRA:-}
CONF
}

# received_records FILE: the received MSGs, deduplicated by (host, stream, ordinal), in ordinal order
received_records() {
	awk '!seen[$1" "$2" "$3]++' "$1" | sort -s -n -k3,3 | cut -d' ' -f4-
}

# records_log FILE N: a log of N records shaped like exchanges (~600 bytes),
# written before a collector starts (a backlog to ship)
records_log() {
	python3 - "$1" "$2" <<'PY'
import sys
body = '{"v":1,"seq":%d,"ts":"2026-12-03T21:00:00.000000000Z","type":"exchange","proc":{"pid":1,"comm":"bench"},"conn":{"id":"1:3:1","role":"server","transport":"tcp"},"proto":"http","outcome":"ok","duration_ms":0.4,"request":{"method":"GET","target":"/v1/items/%d","bytes":120,"body":"%s"},"response":{"status":200,"bytes":300},"redactions":[]}\n'
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(body % (i + 1, i, "x" * 200))
PY
	chmod 600 "$1"
}

# cursor_ordinal CURSOR: records acknowledged so far (0 before the first save)
cursor_ordinal() { sed -n 's/^ordinal //p' "$1" 2>/dev/null | grep . || echo 0; }
