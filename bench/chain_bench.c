// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the integrity chain costs the writer thread: the same records
 * (realistic ~600-byte exchanges) pushed through a sink with and without
 * integrity, flush_mode batched, timed from the first put to the last
 * fdatasync. The chained log it leaves (LOG.chained, KEY) is what
 * `make bench-integrity` then verifies for MB/s and peak RSS.
 *
 * Then the chain alone, in ns per record (issue 15): the seal of the same
 * records in memory (chain__seal_recs: HMAC and key step per record, no
 * I/O), and `sockaudit verify` of the chained log (read, split, MAC,
 * key step, per record, end to end).
 *
 *   chain_bench DIR MEGABYTES
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "chain.h"
#include "chainfile.h"
#include "config.h"
#include "sink.h"
#include "verify.h"

#define BATCH 1000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * CPU time of this process: the seal and verify figures are CPU work of one
 * thread each, and on a shared machine wall time would charge them for
 * other programs' time slices.
 */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* BATCH records of about 600 bytes, numbered from seq. */
static size_t fill_batch(char *buf, uint64_t seq)
{
	size_t n = 0;
	int i;

	for (i = 0; i < BATCH; i++, seq++)
		n += sprintf(buf + n, "{\"v\":1,\"seq\":%llu,\"ts\":\"2026-11-23T17:13:32.914656123Z\","
			     "\"type\":\"exchange\",\"proc\":{\"pid\":4451,\"comm\":\"nginx\",\"exe\":"
			     "\"/usr/sbin/nginx\",\"uid\":33},\"conn\":{\"id\":\"4451:7:3\",\"role\":"
			     "\"server\",\"transport\":\"tcp\",\"local\":\"127.0.0.1:8080\",\"peer\":"
			     "\"127.0.0.1:51234\",\"tls\":false},\"proto\":\"http\",\"outcome\":\"ok\","
			     "\"critical\":false,\"duration_ms\":0.143,\"request\":{\"method\":\"GET\","
			     "\"target\":\"/v1/items?page=%llu\",\"bytes\":78,\"body\":\"\"},"
			     "\"response\":{\"status\":200,\"bytes\":160,\"body\":\"{\\\"items\\\":"
			     "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20],\\\"next\\\":"
			     "\\\"/v1/items?page=2\\\",\\\"total\\\":12345,\\\"pad\\\":\\\"abcdefghij"
			     "klmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij\\\"}\"},"
			     "\"redactions\":[]}\n", (unsigned long long)seq,
			     (unsigned long long)seq);
	return n;
}

static int run(const char *log, const char *key, uint64_t bytes, double *rps, double *mbs,
	       uint64_t *nrec)
{
	struct sink_config cfg;
	struct sink *s = NULL;
	char err[512], *buf = malloc(BATCH * 1024);
	uint64_t seq = 0, written = 0;
	double t0;
	int e;

	sink_config__defaults(&cfg);
	cfg.type = strdup("json_lines");
	cfg.max_file_size = 0;		/* one file: the cost measured is the chain's, not rotation */
	cfg.flush_mode = FLUSH_BATCHED;
	cfg.batch_size = 10000;
	cfg.integrity.key_file = key ? strdup(key) : NULL;
	unlink(log);
	e = sink_config__set_output(&cfg, log, err, sizeof(err));
	if (!e)
		e = sink__create(&s, &cfg, 256u << 20, err, sizeof(err));
	if (e || !buf) {
		fprintf(stderr, "chain_bench: %s\n", e ? err : "no memory");
		return 1;
	}
	t0 = now_s();
	while (written < bytes) {
		size_t n = fill_batch(buf, seq);

		/* queue full: the writer is the bottleneck, as meant; wait until it drained */
		while (sink__put(s, buf, n, BATCH, 0) == -ENOBUFS)
			sink__flush(s);
		seq += BATCH;
		written += n;
	}
	e = sink__close(s);
	*nrec = seq;
	*rps = seq / (now_s() - t0);
	*mbs = written / 1e6 / (now_s() - t0);
	sink_config__free(&cfg);
	free(buf);
	return e ? 1 : 0;
}

/* The record ends of a batch fill_batch made (the producer's view, as the pipeline passes it). */
static void batch_ends(const char *buf, size_t len, uint32_t *end)
{
	const char *p = buf, *nl;
	uint32_t n = 0;

	while ((nl = memchr(p, '\n', buf + len - p))) {
		end[n++] = (uint32_t)(nl + 1 - buf);
		p = nl + 1;
	}
}

/* ns per record of chain__seal_recs on batches of BATCH records, about seconds long. */
static double seal_ns(double seconds)
{
	struct chain_state st = { .seq = 0 };
	struct chain *c = chain__new(CHAIN_FMT_JSON, &st);
	char *buf = malloc(BATCH * 1024), *out = NULL;
	uint32_t end[BATCH];
	size_t cap = 0, olen, len;
	uint64_t recs = 0;
	double t0, dt;

	if (!c || !buf)
		return -1;
	len = fill_batch(buf, 0);
	batch_ends(buf, len, end);
	t0 = cpu_s();
	do {
		if (chain__seal_recs(c, &(struct recs){ .buf = buf, .end = end, .n = BATCH }, &out,
				     &cap, &olen))
			return -1;
		recs += BATCH;
	} while ((dt = cpu_s() - t0) < seconds);
	chain__free(c);
	free(buf);
	free(out);
	return dt * 1e9 / recs;
}

/* ns per record of `sockaudit verify --key KEY LOG` (its report to /dev/null). */
static double verify_ns(const char *key, const char *log, uint64_t recs)
{
	char *argv[] = { "verify", "--key", (char *)key, (char *)log, NULL };
	int saved = dup(1), e;
	double t0, dt;

	if (saved < 0 || !freopen("/dev/null", "w", stdout))
		return -1;
	t0 = cpu_s();
	e = verify__main(4, argv);
	dt = cpu_s() - t0;
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	return e ? -1 : dt * 1e9 / recs;
}

int main(int argc, char **argv)
{
	char key[4096], plain[4096], chained[4096], err[512];
	double rps[2], mbs[2], seal, ver;
	uint64_t mb, nrec[2];

	if (argc != 3 || !(mb = strtoull(argv[2], NULL, 10))) {
		fprintf(stderr, "usage: chain_bench DIR MEGABYTES\n");
		return 2;
	}
	snprintf(key, sizeof(key), "%s/bench.key", argv[1]);
	snprintf(plain, sizeof(plain), "%s/bench.plain", argv[1]);
	snprintf(chained, sizeof(chained), "%s/bench.chained", argv[1]);
	unlink(key);
	if (chainfile__keygen(key, err, sizeof(err))) {
		fprintf(stderr, "chain_bench: %s\n", err);
		return 1;
	}
	if (run(plain, NULL, mb << 20, &rps[0], &mbs[0], &nrec[0]) ||
	    run(chained, key, mb << 20, &rps[1], &mbs[1], &nrec[1]))
		return 1;
	unlink(plain);
	printf("writer without chain: %9.0f records/s %7.1f MB/s\n", rps[0], mbs[0]);
	printf("writer with chain:    %9.0f records/s %7.1f MB/s (%.0f%%)\n", rps[1], mbs[1],
	       100.0 * rps[1] / rps[0]);
	seal = seal_ns(1.0);
	ver = verify_ns(key, chained, nrec[1]);
	if (seal < 0 || ver < 0) {
		fprintf(stderr, "chain_bench: the seal or the verify of %s failed\n", chained);
		return 1;
	}
	printf("chain seal alone:     %9.0f ns CPU per record (~600-byte records, in memory)\n", seal);
	printf("chain verify:         %9.0f ns CPU per record (sockaudit verify --key, %llu records)\n",
	       ver, (unsigned long long)nrec[1]);
	return 0;
}
