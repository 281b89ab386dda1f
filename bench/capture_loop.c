// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * One process, one loopback TCP connection, N request/response pairs of
 * nginx's shape: write the request on the client end, read it on the
 * server end, writev the answer (headers, body), read it on the client end.
 * Four data syscalls per pair, two of them sends, all on sockets a
 * collector audits when this process is its target. bench/capture_loop.sh
 * runs it under SCHED_FIFO so that the BPF programs in its syscalls are
 * not preempted (bpf_stats charges a preempted program the time it was off
 * the CPU; nginx, wrk and the collector share 2 vCPUs in bpf_cost.sh).
 *   capture_loop N GO_FILE: connect, wait until GO_FILE exists, run the N
 *   pairs, print "done" (stdout), wait until GO_FILE is removed, exit.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define WAIT_TRIES 1200	/* 50 ms each: a minute, then go on regardless */

static void wait_file(const char *path, int present)
{
	int t;

	for (t = 0; t < WAIT_TRIES && (access(path, F_OK) == 0) != present; t++)
		usleep(50000);
}

/* A connected pair on loopback: *cli the client end, *srv the server end. */
static int tcp_pair(int *cli, int *srv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sa, &sl))
		return -1;
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	if (*cli < 0 || connect(*cli, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	*srv = accept(l, NULL, NULL);
	close(l);
	return *srv < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: capture_loop\r\n"
				  "Accept: */*\r\n\r\n";
	static const char body[] = "hello from sockaudit test\n";
	char hdr[256], buf[4096];
	struct iovec iov[2];
	long i, n;
	int cli, srv;

	if (argc != 3 || (n = atol(argv[1])) <= 0) {
		fprintf(stderr, "usage: capture_loop PAIRS GO_FILE\n");
		return 2;
	}
	if (tcp_pair(&cli, &srv)) {
		perror("capture_loop: loopback connection");
		return 1;
	}
	iov[0].iov_base = hdr;
	iov[0].iov_len = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nServer: nginx\r\n"
				  "Content-Type: text/html\r\nContent-Length: %zu\r\n"
				  "Connection: keep-alive\r\n\r\n", sizeof(body) - 1);
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = sizeof(body) - 1;
	wait_file(argv[2], 1);
	for (i = 0; i < n; i++) {
		if (write(cli, req, sizeof(req) - 1) < 0 || read(srv, buf, sizeof(buf)) <= 0 ||
		    writev(srv, iov, 2) < 0 || read(cli, buf, sizeof(buf)) <= 0) {
			perror("capture_loop: exchange");
			return 1;
		}
	}
	puts("done");
	fflush(stdout);
	wait_file(argv[2], 0);
	return 0;
}
