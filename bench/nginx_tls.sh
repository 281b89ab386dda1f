#!/usr/bin/env bash
# TLS plaintext capture under load (bench/nginx_wrk.sh does the runs):
#  1. nginx serving HTTPS, untraced vs traced (uprobes on libssl.so.3 plus
#     the syscall tracepoints) in the same rounds;
#  2. nginx serving plain HTTP, traced with the TLS hooks present (nginx
#     maps libssl.so.3, so its uprobes are attached) vs traced with
#     --tls off: the hooks must not slow plaintext down.
#   ROUNDS=5 SECONDS_PER_RUN=5 CONNS=50
set -euo pipefail
: "${SOCKAUDIT:?set SOCKAUDIT to the sockaudit binary}"
here=$(cd "$(dirname "$0")" && pwd)
echo "-- HTTPS: untraced vs traced (tracepoint, tls on)"
TLS=1 MODES=tracepoint "$here/nginx_wrk.sh"
echo "-- plain HTTP: tls hooks present (tracepoint) vs --tls off (tlsoff)"
TLS=0 MODES="tracepoint tlsoff" "$here/nginx_wrk.sh"
