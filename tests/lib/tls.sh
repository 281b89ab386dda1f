# Shared by the TLS live tests and bench/nginx_tls.sh: a throwaway certificate.

# make_cert DIR: a self-signed key and certificate for 127.0.0.1 in DIR
make_cert() {
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1/key.pem" -out "$1/cert.pem" \
		-days 1 -subj /CN=127.0.0.1 2>/dev/null ||
		{ echo "openssl could not make a certificate in $1" >&2; return 1; }
}

# nginx_tls_conf PORT WORKERS CERTDIR: nginx_conf (nginx.sh), served over TLS
nginx_tls_conf() {
	nginx_conf "$1" "$2"
	sed -i "s|listen 127.0.0.1:$1;|listen 127.0.0.1:$1 ssl; ssl_certificate $3/cert.pem; ssl_certificate_key $3/key.pem; ssl_session_tickets off;|" \
		"$WORKDIR/nginx.conf"
}

# tls_links PID: ids of the bpf links PID holds whose program is one of the
# TLS uprobe_multi links (sa_ssl_entry, sa_ssl_ret), one a line (from /proc/PID/fdinfo)
tls_links() {
	local names
	names=$(bpftool -j prog show | jq -r '.[] | select(.name | test("^sa_(ssl|bio)_")) | .id')
	grep -h -A3 '^link_type:.u\(ret\)\?probe_multi' /proc/"$1"/fdinfo/* 2>/dev/null | awk -v ids="$names" '
		BEGIN { n = split(ids, a, "\n"); for (i = 1; i <= n; i++) ok[a[i]] = 1 }
		/^link_id:/ { link = $2 } /^prog_id:/ { if ($2 in ok) print link }'
}

# start_tls_server CMD...: a certificate in $WORKDIR/cert, a free $port, the
# server (CMD PORT CERTDIR) started and listening; its pid in $SRV
start_tls_server() {
	make_cert "$WORKDIR/cert"
	port=$(free_port)
	"$@" "$port" "$WORKDIR/cert" &
	SRV=$!
	PIDS_TO_KILL+=("$SRV")
	wait_port "$port"
}

# tls_links_of PID TARGET: of tls_links PID, the links whose uprobes are in
# process TARGET (the pid an uprobe_multi link's fdinfo names)
tls_links_of() {
	local l
	for l in $(tls_links "$1"); do
		grep -h -A6 "^link_id:.$l\$" /proc/"$1"/fdinfo/* 2>/dev/null | grep -q "^pid:.$2\$" && echo "$l"
	done
}
