// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What one TLS uprobe hit costs the audited program, measured on the
 * collector's own programs: this executable exports SSL_write, SSL_read and
 * SSL_free itself (no OpenSSL inside), so run under `sockaudit exec` the
 * collector takes it for TLS code and attaches to it as to libssl.
 *
 *   uprobe_cost N [SETTLE_MS [fork [WAITFILE]]]
 *
 * prints ns per call of: SSL_free (entry probe only, on an emulated
 * instruction), SSL_shutdown (entry only, on one the kernel single-steps),
 * SSL_read returning -1 (entry + return, nothing emitted: what a WANT_READ
 * costs) and SSL_write of 64 bytes (entry + return + one plaintext event
 * into the ring). Run it untraced and traced (bench/nginx_tls.sh); the
 * difference is the trap. With `fork` the calls are made by a child forked
 * after SETTLE_MS (or once WAITFILE exists), from its first instruction on:
 * tests/live/test_tls_unaudited.sh counts the probe runs the child got.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * The probed functions, in assembly so that their first instruction is
 * known: the kernel emulates a `push` at a uprobe (one trap), and must
 * single-step a `sub` out of line (a second trap). OpenSSL's SSL_read and
 * SSL_write start with `sub $N,%rsp`; ssl_read_internal and
 * ssl_write_internal, which the collector probes instead, with `push`.
 */
__asm__(".text\n"
	".globl SSL_free\n.type SSL_free,@function\n"		/* entry only, emulated */
	"SSL_free: push %r13\n pop %r13\n ret\n"
	".globl SSL_shutdown\n.type SSL_shutdown,@function\n"	/* entry only, single-stepped */
	"SSL_shutdown: sub $0x18,%rsp\n add $0x18,%rsp\n ret\n"
	".globl SSL_read\n.type SSL_read,@function\n"		/* entry + return, -1 (WANT_READ) */
	"SSL_read: push %r12\n pop %r12\n mov $-1,%eax\n ret\n"
	".globl SSL_write\n.type SSL_write,@function\n"	/* entry + return, num bytes */
	"SSL_write: push %r12\n pop %r12\n mov %edx,%eax\n ret\n");
int SSL_write(void *ssl, const void *buf, int num);
int SSL_read(void *ssl, void *buf, int num);
void SSL_free(void *ssl);
void SSL_shutdown(void *ssl);

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Function pointers: the compiler cannot drop or inline the calls. */
static int (*volatile p_write)(void *, const void *, int) = SSL_write;
static int (*volatile p_read)(void *, void *, int) = SSL_read;
static void (*volatile p_free)(void *) = SSL_free;
static void (*volatile p_shutdown)(void *) = SSL_shutdown;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	long settle = argc > 2 ? atol(argv[2]) : 300;
	char buf[64] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
	char ssl[64];
	double t0, t_free, t_shut, t_read, t_write;

	if (n <= 0) {
		fprintf(stderr, "usage: uprobe_cost N [SETTLE_MS]\n");
		return 2;
	}
	usleep(settle * 1000);	/* the collector attaches to this process meanwhile */
	for (struct stat st; argc > 4 && stat(argv[4], &st);)
		usleep(10000);
	if (argc > 3 && !strcmp(argv[3], "fork")) {
		pid_t child = fork();
		int status = 1;

		if (child < 0)
			return 1;
		if (child > 0)	/* the parent makes no call: the child makes them all */
			return waitpid(child, &status, 0) == child && WIFEXITED(status) ?
				WEXITSTATUS(status) : 1;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		p_free(ssl);
	t_free = now_ns() - t0;
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		p_shutdown(ssl);
	t_shut = now_ns() - t0;
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		p_read(ssl, buf, sizeof(buf));
	t_read = now_ns() - t0;
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		p_write(ssl, buf, sizeof(buf));
	t_write = now_ns() - t0;
	printf("calls=%ld free_ns=%.1f shutdown_ns=%.1f read_wantread_ns=%.1f write64_ns=%.1f\n", n,
	       t_free / n, t_shut / n, t_read / n, t_write / n);
	return 0;
}
