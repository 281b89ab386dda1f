#!/usr/bin/env bash
# A real Prometheus (1 s scrape interval, its own data dir, loopback) scrapes
# the collector's /metrics while nginx is audited under load: the stored
# sockaudit_exchanges_total rises by exactly the requests served, the loss
# counters stay 0, up is 1; promtool accepts a scrape as it is.
#   METRICS_CONNS=4 METRICS_PER_CONN=250 (1,000 requests)
. "$(dirname "$0")/../lib/common.sh"
require_root
command -v prometheus >/dev/null || skip "no prometheus (make deps installs it)"
CONNS=${METRICS_CONNS:-4}
PER_CONN=${METRICS_PER_CONN:-250}
start_nginx
mport=$(free_port)
pport=$(free_port)
cat > "$WORKDIR/prometheus.yml" <<YAML
global: {scrape_interval: 1s, scrape_timeout: 900ms}
scrape_configs:
  - job_name: sockaudit
    static_configs: [{targets: ["127.0.0.1:$mport"]}]
YAML
prometheus --config.file="$WORKDIR/prometheus.yml" --storage.tsdb.path="$WORKDIR/prom" \
	--web.listen-address="127.0.0.1:$pport" > "$WORKDIR/prometheus.err" 2>&1 &
PIDS_TO_KILL+=($!)
# Prometheus starts while the collector loads its programs (it retries the scrape)
start_collector "$WORKDIR/audit.log" run --pid "$NGINX_PID" --listen "127.0.0.1:$mport"

# query EXPR: the instant value of a one-series PromQL expression ("" when none)
query() {
	curl -s "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[0].value[1] // ""'
}
# until_value EXPR VALUE: poll (up to 15 s) until Prometheus answers VALUE
until_value() {
	local i v=
	for i in $(seq 150); do
		v=$(query "$1" 2>/dev/null || true)
		[ "$v" = "$2" ] && return 0
		sleep 0.1
	done
	fail "Prometheus: $1 = '$v', expected $2 ($(tail -n 3 "$WORKDIR/prometheus.err"))"
}

exch='sockaudit_exchanges_total{job="sockaudit",proto="http",outcome="ok"}'
until_value 'up{job="sockaudit"}' 1
before=$(query "$exch")
[ -n "$before" ] || fail "Prometheus stored no $exch"
served=$(python3 "$LIB/../live/helpers/post_flood.py" "$port" "$CONNS" "$PER_CONN" 64)
assert_eq "answers" $((CONNS * PER_CONN)) "$served"
until_value "$exch" $((before + served))
until_value 'up{job="sockaudit"}' 1
until_value 'sum(sockaudit_kernel_loss_total{job="sockaudit"}) + sum(sockaudit_pipeline_loss_total{job="sockaudit"}) + sum(sockaudit_sink_loss_total{job="sockaudit"})' 0
until_value 'sockaudit_capture_attached{job="sockaudit"}' 1
# the same count in the audit log: what Prometheus saw is what was written
echo "Prometheus stored: $exch went $before -> $((before + served)) for $served requests"
curl -s "http://127.0.0.1:$pport/api/v1/query" --data-urlencode \
	'query={job="sockaudit",__name__=~"sockaudit_exchanges_total|sockaudit_sink_records_total|sockaudit_kernel_loss_total|up"} > 0' |
	jq -r '.data.result[] | "  \(.metric.__name__){\(.metric | del(.__name__, .job, .instance) | to_entries | map("\(.key)=\(.value)") | join(","))} \(.value[1])"'

curl -s "http://127.0.0.1:$mport/metrics" > "$WORKDIR/scrape.txt"
promtool check metrics < "$WORKDIR/scrape.txt" || fail "promtool check metrics refused the scrape"
stop_collector
logged=$(jqlog "$WORKDIR/audit.log" '[.[] | select(.type=="exchange" and .outcome=="ok")] | length')
assert_ge "exchanges in the log" "$served" "$logged"
echo ok
