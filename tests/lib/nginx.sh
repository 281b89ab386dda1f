# Shared helpers for live tests and benchmarks: a throwaway nginx on loopback.
# Source it; needs $WORKDIR (a private temp dir).

# nginx_conf PORT WORKERS: write $WORKDIR/nginx.conf serving $WORKDIR/www.
nginx_conf() {
	local port=$1 workers=${2:-1}
	mkdir -p "$WORKDIR/www" "$WORKDIR/logs"
	chmod 755 "$WORKDIR" "$WORKDIR/www"	# the worker runs as nobody
	printf 'hello from sockaudit test\n' > "$WORKDIR/www/index.html"
	head -c 3000 /dev/urandom | base64 -w 76 > "$WORKDIR/www/big.txt"
	cat > "$WORKDIR/nginx.conf" <<CONF
worker_processes $workers;
daemon off;
pid $WORKDIR/nginx.pid;
error_log $WORKDIR/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log $WORKDIR/logs/access.log combined buffer=256k flush=1s;
    client_body_temp_path $WORKDIR/body;
    proxy_temp_path $WORKDIR/proxy;
    fastcgi_temp_path $WORKDIR/fastcgi;
    uwsgi_temp_path $WORKDIR/uwsgi;
    scgi_temp_path $WORKDIR/scgi;
    keepalive_requests 100000;
    sendfile off;
    server {
        listen 127.0.0.1:$port;
        root $WORKDIR/www;
        location = /status/201 { return 201 "created\n"; }
        location = /status/404 { return 404; }
        location = /echo { return 200 "posted\n"; }
    }
}
CONF
}

# wait_port PORT [TRIES]: until something accepts on 127.0.0.1:PORT
wait_port() {
	local port=$1 tries=${2:-100}
	while [ "$tries" -gt 0 ]; do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		tries=$((tries - 1))
		sleep 0.1
	done
	echo "port $port never opened" >&2
	return 1
}

# free_port: a loopback port nobody listens on
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_collector LOG ARGS...: start sockaudit in the background ($SA_PID),
# return once it has written collector_start (capture attached).
start_collector() {
	local log=$1; shift
	rm -f "$log"
	FIXTURE_LOG=
	# make fixtures: a run or exec also records its raw events for replay tests
	if [ -n "${SA_FIXTURE_DIR:-}" ] && { [ "$1" = run ] || [ "$1" = exec ]; }; then
		FIXTURE_LOG=$log
		set -- record "$SA_FIXTURE_DIR/$(fixture_name "$log").rec" "${@:2}"
	fi
	# -o goes right after the subcommand (and record's event file), before any "--"
	if [ "$1" = record ]; then
		"$SOCKAUDIT" record "$2" -o "$log" "${@:3}" 2>>"$WORKDIR/collector.err" &
	else
		"$SOCKAUDIT" "$1" -o "$log" "${@:2}" 2>>"$WORKDIR/collector.err" &
	fi
	SA_PID=$!
	local tries=300
	while [ "$tries" -gt 0 ]; do
		grep -q '"collector_start"' "$log" 2>/dev/null && return 0
		kill -0 "$SA_PID" 2>/dev/null || { cat "$WORKDIR/collector.err" >&2; return 1; }
		tries=$((tries - 1))
		sleep 0.05
	done
	echo "collector never started" >&2
	return 1
}

# stop_collector: SIGINT, then wait for a clean exit (status 0 expected)
stop_collector() {
	kill -INT "$SA_PID"
	wait "$SA_PID"
	fixture_done
}

# fixture_done: after a recorded collector exited, save what replay must give
fixture_done() {
	[ -z "${FIXTURE_LOG:-}" ] || fixture_summary "$FIXTURE_LOG" \
		> "$SA_FIXTURE_DIR/$(fixture_name "$FIXTURE_LOG").expected"
}

# fixture_name LOG: test name and log name, e.g. test_http_edges-closing
fixture_name() { echo "$(basename "$0" .sh)-$(basename "$1" .log)"; }

# fixture_summary LOG: what a replay must reproduce, one sorted line per exchange
fixture_summary() {
	jq -s -r '.[] | select(.type=="exchange") |
		"\(.proto) \(.outcome) \(.request.method // "-") \(.request.target // "-") \(.response.status // "-") \(.rpc.method // "-") \(.rpc.tool // "-") \(.rpc.id // "-")"' "$1" | sort
}

# start_nginx: a throwaway nginx (one worker) on a free loopback port, ready
# to serve; sets port and NGINX_PID (the master) and kills it at exit.
start_nginx() {
	port=$(free_port)
	nginx_conf "$port" 1
	nginx -c "$WORKDIR/nginx.conf" -e "$WORKDIR/logs/error.log" &
	NGINX_PID=$!
	PIDS_TO_KILL+=("$NGINX_PID")
	wait_port "$port"
}
