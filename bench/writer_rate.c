// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Records/s of the writer alone, per flush mode: the reader's side is a
 * tight loop handing batches of 800-byte records to one sink, as the
 * pipeline does once per drain cycle; the time runs until everything is
 * written (and, per the mode, fdatasync'ed).
 *
 *   writer_rate DIR [RECORDS] [BATCH]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "sink.h"

#define RECORD_BYTES 800

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One batch of n records, each a JSON line of RECORD_BYTES with its number. */
static char *make_batch(unsigned int n, size_t *len)
{
	char *b = malloc((size_t)n * RECORD_BYTES);
	unsigned int i;

	for (i = 0; b && i < n; i++) {
		char *r = b + (size_t)i * RECORD_BYTES;
		int k = snprintf(r, RECORD_BYTES, "{\"type\":\"rec\",\"n\":%u,\"pad\":\"", i);

		memset(r + k, 'x', RECORD_BYTES - k - 3);
		memcpy(r + RECORD_BYTES - 3, "\"}\n", 3);
	}
	*len = (size_t)n * RECORD_BYTES;
	return b;
}

static int run(const char *dir, enum flush_mode mode, unsigned int records, unsigned int batch)
{
	struct sink_config cfg;
	char path[512], err[256];
	struct sink *s;
	size_t len;
	char *b = make_batch(batch, &len);
	unsigned int done;
	double t0, dt;

	snprintf(path, sizeof(path), "%s/%s.log", dir, config__flush_mode_name(mode));
	remove(path);
	sink_config__defaults(&cfg);
	if (!b || sink_config__set_output(&cfg, path, err, sizeof(err))) {
		fprintf(stderr, "writer_rate: %s\n", b ? err : "out of memory");
		return 1;
	}
	cfg.flush_mode = mode;
	cfg.max_file_size = 0;	/* measure writing, not rotation */
	if (sink__create(&s, &cfg, 0, err, sizeof(err))) {
		fprintf(stderr, "writer_rate: %s\n", err);
		return 1;
	}
	t0 = now_s();
	for (done = 0; done < records; done += batch)
		while (sink__put(s, b, len, batch, 0))	/* queue full: let the writer catch up */
			sink__flush(s);
	sink__close(s);
	dt = now_s() - t0;
	printf("flush_mode %-9s %10.0f records/s (%u records of %d bytes, batches of %u)\n",
	       config__flush_mode_name(mode), done / dt, done, RECORD_BYTES, batch);
	sink_config__free(&cfg);
	free(b);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int records = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
	unsigned int batch = argc > 3 ? strtoul(argv[3], NULL, 10) : 100;
	int err = 0;

	if (argc < 2 || !batch) {
		fprintf(stderr, "usage: writer_rate DIR [RECORDS] [BATCH]\n");
		return 2;
	}
	err |= run(argv[1], FLUSH_IMMEDIATE, records, batch);
	err |= run(argv[1], FLUSH_BATCHED, records, batch);
	err |= run(argv[1], FLUSH_HYBRID, records, batch);
	return err;
}
