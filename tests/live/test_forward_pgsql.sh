#!/usr/bin/env bash
# rsyslog -> PostgreSQL, as docs/fleet.md shows it: a throwaway cluster
# (initdb in a temp dir, its own socket and port), the table, the rsyslog
# ompgsql action and the two queries are taken from docs/fleet.md itself.
# JSON-RPC tool calls and a request with a bearer token are audited and
# forwarded; the table holds every local record once (resent frames are
# dropped by the primary key) and the queries return the expected rows.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/helpers/relp_env.sh"
require_root
H=$(dirname "$0")/helpers
DOC=$(dirname "$0")/../../docs/fleet.md
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$PGBIN/initdb" ] || fail "PostgreSQL is not installed (make deps installs postgresql)"
# the cluster runs as postgres: a directory it owns, outside our 0700 WORKDIR
PGD=$(mktemp -d /var/tmp/sockaudit-pg.XXXXXX)
chown postgres: "$PGD"
pgport=$(free_port)
pg_stop() {
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGD/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$PGD"
}
trap 'pg_stop; cleanup' EXIT
runuser -u postgres -- "$PGBIN/initdb" -D "$PGD/data" -U postgres --auth=trust -E UTF8 >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w \
	-o "-k $PGD -p $pgport -c listen_addresses='' -c fsync=off" start >/dev/null
psql_q() { psql -X -q -At -h "$PGD" -p "$pgport" -U postgres -d "${DB:-audit}" "$@"; }
DB=postgres psql_q -c 'CREATE DATABASE audit'
# the docs' blocks: ```sql 1 = table, 2 = tool calls, 3 = redactions; the ompgsql block
doc_block() { awk -v want="$1" -v n="$2" '/^```/ { if (in_b) { in_b = 0; next } if ($0 == "```" want) { k++; if (k == n) { in_b = 1; next } } } in_b' "$DOC"; }
doc_block sql 1 | psql_q > /dev/null
# the plain block that starts with the ompgsql module
awk '/^```/ { if (in_b) { in_b = 0; next } start = 1; next } start { start = 0; in_b = ($0 == "module(load=\"ompgsql\")") } in_b' "$DOC" > "$WORKDIR/pg.conf.in"
grep -q 'ompgsql' "$WORKDIR/pg.conf.in" || fail "no ompgsql block found in docs/fleet.md"
sed "s|conninfo=\"[^\"]*\"|conninfo=\"postgresql://postgres@/audit?host=$PGD\&port=$pgport\"|" \
	"$WORKDIR/pg.conf.in" > "$WORKDIR/pg.conf"

relp_certs "$WORKDIR/certs"
rport=$(free_port)
R=$WORKDIR/rsyslog
rsyslog_conf "$R" "$rport" server "$WORKDIR/pg.conf"
rsyslog_start "$R"
log=$WORKDIR/a/audit.log
mkdir -p "$WORKDIR/a"
forward_cfg "$WORKDIR/f.yaml" "$log" "$rport"
rpc=$(free_port)
python3 "$H/scale_rpc.py" server "$rpc" &
S1=$!
port=$(free_port)
python3 "$H/bulk_server.py" "$port" recv &
S2=$!
PIDS_TO_KILL+=("$S1" "$S2")
wait_port "$rpc"
wait_port "$port"
"$SOCKAUDIT" run -c "$WORKDIR/f.yaml" --pid "$S1" --pid "$S2" 2>>"$WORKDIR/collector.err" &
SA_PID=$!
t=200
until grep -q '"collector_start"' "$log" 2>/dev/null; do
	t=$((t - 1)); [ "$t" -gt 0 ] || fail "collector did not start"; sleep 0.05
done
python3 "$H/scale_rpc.py" client "$rpc" 20 > /dev/null
python3 - "$port" <<'PY'
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
body = b'{"auth": "Bearer sk9f8e7d6c5b4a3210"}'
c.sendall(b"POST /v1/me HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n%s" % (len(body), body) +
          b"GET /v1/plain HTTP/1.1\r\nHost: x\r\n\r\n")
c.shutdown(socket.SHUT_WR)
while c.recv(65536):
    pass
PY
t=200
until [ "$(jq -s '[.[] | select(.type=="exchange")] | length' "$log")" -ge 22 ] || [ "$t" -le 0 ]; do
	t=$((t - 1)); sleep 0.05; done
kill -INT "$SA_PID"; wait "$SA_PID" || fail "collector exit status"
n_local=$(wc -l < "$log")
t=200
until [ "$(psql_q -c 'SELECT count(*) FROM audit_records')" -ge "$n_local" ] || [ "$t" -le 0 ]; do
	t=$((t - 1)); sleep 0.05; done
assert_eq "rows in audit_records" "$n_local" "$(psql_q -c 'SELECT count(*) FROM audit_records')"
# the rows are the records as written (jsonb of each local line)
psql_q -c "SELECT rec FROM audit_records ORDER BY ordinal" | jq -cS . > "$WORKDIR/pg.jsonl"
jq -cS . "$log" > "$WORKDIR/local.jsonl"
cmp "$WORKDIR/local.jsonl" "$WORKDIR/pg.jsonl" || fail "table rows differ from the local log"
# query 1, for the window around now
from=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
doc_block sql 2 | sed "s/'2026-12-03T00:00:00Z'/'$from'/; s/'2026-12-04T00:00:00Z'/'$to'/" |
	psql_q -F ' ' > "$WORKDIR/q1.txt"
assert_eq "tool calls of host-a" 20 "$(wc -l < "$WORKDIR/q1.txt")"
assert_eq "tools named" scale "$(awk '{print $2}' "$WORKDIR/q1.txt" | sort -u)"
awk '{print $3}' "$WORKDIR/q1.txt" | sort -g -r -c || fail "tool calls not slowest first"
want=$(jq -s -r '[.[] | select(.type=="exchange" and .rpc.tool != null)] | sort_by(-.duration_ms) | .[0].duration_ms' "$log")
assert_eq "slowest tool call" "$want" "$(head -1 "$WORKDIR/q1.txt" | awk '{print $3}')"
# query 2: only the request that carried a bearer token
doc_block sql 3 | psql_q -F ' ' > "$WORKDIR/q2.txt"
assert_eq "exchanges with redactions" 1 "$(wc -l < "$WORKDIR/q2.txt")"
grep -q ' POST /v1/me ' "$WORKDIR/q2.txt" || fail "redacted exchange not found: $(cat "$WORKDIR/q2.txt")"
! grep -q sk9f8e7d6c5b4a3210 "$WORKDIR/pg.jsonl" || fail "secret reached the database"
echo "ok: $n_local records in PostgreSQL, 20 tool calls slowest first ($want ms), 1 redacted exchange"
