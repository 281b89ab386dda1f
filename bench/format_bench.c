// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Throughput of sanitize + redact + format on a mixed corpus (clean JSON,
 * HTTP with headers, secret-dense text, binary), per format: MB/s of
 * payload and ns per record. Then the choice of scanner: the built-in rules
 * scanned by Hyperscan (one database, one pass) against PCRE2 with JIT
 * (one compiled pattern per rule, one pass each), on the same texts.
 *
 *	make bench-format        (or build/bench/format_bench [SECONDS])
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "redact.h"
#include "sanitize.h"
#include "../tests/format_fixture.h"

struct sample {
	const char *name;
	uint8_t *body;
	size_t len;
};

/*
 * CPU time of this thread, not wall time: the machines are shared, and a
 * preempted benchmark would charge other programs' time to the formatter.
 */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *fill(const char *unit, size_t len)
{
	uint8_t *b = malloc(len);
	size_t i, n = strlen(unit);

	if (!b)
		exit(1);
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)unit[i % n];
	return b;
}

/* ~1 KB each: what a body excerpt (default 1024 bytes) holds. */
static void make_corpus(struct sample *s)
{
	uint8_t *bin = malloc(1024);
	size_t i;

	s[0] = (struct sample){ "clean_json", fill("{\"id\":12345,\"name\":\"widget\",\"tags\":"
		"[\"a\",\"b\"],\"price\":9.99,\"ok\":true},", 1024), 1024 };
	s[1] = (struct sample){ "http_headers", fill("GET /api/v1/items?page=2 HTTP/1.1\r\n"
		"Host: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n"
		"Content-Type: application/json\r\nX-Request-Id: 1f2e3d4c\r\n\r\n", 1024), 1024 };
	s[2] = (struct sample){ "secret_dense", fill("Authorization: Bearer abc.DEF-123_xyz\r\n"
		"{\"password\":\"hunter2\",\"card\":\"4111 1111 1111 1111\"} jane@example.com "
		"AKIAIOSFODNN7EXAMPLE ssn 123-45-6789 token=ghp_abcdefghijklmnopqrstuvwxyz0123456789AB\n",
		1024), 1024 };
	if (!bin)
		exit(1);
	bin[0] = 0x1f, bin[1] = 0x8b;
	for (i = 2; i < 1024; i++)
		bin[i] = (uint8_t)(i * 131 + 7);
	s[3] = (struct sample){ "binary_gzip", bin, 1024 };
}

/* Records of one format over the samples in turn, for secs seconds. */
/* Records of one format over the samples in turn, for secs seconds. */
static void bench_format(const char *type, struct sample *s, size_t ns, double secs, int only)
{
	const struct formatter *f = formatter__find(type);
	struct fixture fx[4];
	struct jbuf jb;
	uint64_t recs = 0, bytes = 0;
	double t0, t;
	size_t i;

	for (i = 0; i < ns && i < 4; i++)	/* built once: only formatting is timed */
		fixture__init(&fx[i], s[i].body, s[i].len, "{\"ok\":true}", 11);
	jbuf__init(&jb);
	t0 = now_s();
	do {
		for (int k = 0; k < 256; k++) {
			i = only >= 0 ? (size_t)only : recs % ns;
			jbuf__reset(&jb);
			format__exchange_once(f, &jb, NULL, recs, &fx[i].x, NULL, FIXTURE_OFF);
			bytes += s[i].len + 11;
			recs++;
		}
		t = now_s() - t0;
	} while (t < secs);
	printf("  %-10s %-13s %8.1f MB/s  %7.0f ns/record\n", type,
	       only >= 0 ? s[only].name : "mixed", (double)bytes / t / 1e6, t * 1e9 / (double)recs);
	jbuf__free(&jb);
}

/* ---- scanner comparison ---- */

struct pcre_set {
	pcre2_code *code[REDACT_MAX_RULES];
	pcre2_match_data *md;
	int n;
};

static void pcre_build(struct pcre_set *ps)
{
	bool cl, on;
	const char *re;
	size_t i;
	int err;
	PCRE2_SIZE off;

	memset(ps, 0, sizeof(*ps));
	for (i = 0; (re = redact__builtin_pattern(i, &cl, &on)); i++) {
		if (!on)
			continue;
		ps->code[ps->n] = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
						cl ? PCRE2_CASELESS : 0, &err, &off, NULL);
		if (!ps->code[ps->n] || pcre2_jit_compile(ps->code[ps->n], PCRE2_JIT_COMPLETE)) {
			fprintf(stderr, "pcre2: rule %zu does not compile\n", i);
			exit(1);
		}
		ps->n++;
	}
	ps->md = pcre2_match_data_create(4, NULL);
}

/* Every match of every rule, as the redactor needs them: one pass per rule. */
static size_t pcre_scan(struct pcre_set *ps, const uint8_t *s, size_t n)
{
	size_t hits = 0;

	for (int r = 0; r < ps->n; r++) {
		PCRE2_SIZE at = 0;

		while (at < n && pcre2_jit_match(ps->code[r], s, n, at, 0, ps->md, NULL) >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ps->md);

			hits++;
			at = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		}
	}
	return hits;
}

/* MB/s of fn over one sample for secs seconds. */
static double rate(struct sample *x, double secs, const struct redactor *r, struct pcre_set *ps,
		   struct jbuf *out)
{
	double t0 = now_s(), t;
	uint64_t bytes = 0;

	do {
		for (int k = 0; k < 64; k++) {
			if (r) {
				jbuf__reset(out);
				redactor__redact(r, x->body, x->len, out, NULL);
			} else {
				pcre_scan(ps, x->body, x->len);
			}
			bytes += x->len;
		}
	} while ((t = now_s() - t0) < secs);
	return (double)bytes / t / 1e6;
}

static void bench_scanners(struct sample *s, size_t ns, double secs)
{
	const struct redactor *r = redactor__default();
	struct pcre_set ps;
	struct jbuf out;

	pcre_build(&ps);
	jbuf__init(&out);
	printf("\nscanner, %d built-in rules on by default (MB/s; binary bodies are never scanned)\n"
	       "  %-13s %14s %14s %7s\n", ps.n, "sample", "hs+pcre2", "pcre2-jit", "ratio");
	for (size_t i = 0; i < ns - 1; i++) {
		double h = rate(&s[i], secs / 2, r, NULL, &out);
		double p = rate(&s[i], secs / 2, NULL, &ps, &out);

		printf("  %-13s %14.1f %14.1f %6.1fx\n", s[i].name, h, p, h / p);
	}
	for (int i = 0; i < ps.n; i++)
		pcre2_code_free(ps.code[i]);
	pcre2_match_data_free(ps.md);
	jbuf__free(&out);
}

/*
 * --render TYPE PID COMM LOCAL PEER METHOD TARGET HOST REQ_BODY STATUS RESP_BODY TS_NS DUR_NS:
 * one exchange (fields taken from a real record, bench/format_samples.sh)
 * in one format, for docs/formats.md.
 */
static int render_one(char **a)
{
	const struct formatter *f = formatter__find(a[0]);
	struct fixture fx;
	struct jbuf jb;
	uint64_t ts = strtoull(a[11], NULL, 10), dur = strtoull(a[12], NULL, 10);

	if (!f)
		return 2;
	fixture__init(&fx, a[8], strlen(a[8]), a[10], strlen(a[10]));
	fx.conn.tgid = (uint32_t)atoi(a[1]);
	snprintf(fx.conn.comm, sizeof(fx.conn.comm), "%s", a[2]);
	snprintf(fx.conn.names.id, sizeof(fx.conn.names.id), "%s:7:3", a[1]);
	snprintf(fx.conn.names.local, sizeof(fx.conn.names.local), "%s", a[3]);
	snprintf(fx.conn.names.peer, sizeof(fx.conn.names.peer), "%s", a[4]);
	snprintf(fx.req.http.method, sizeof(fx.req.http.method), "%s", a[5]);
	snprintf(fx.req.http.target, sizeof(fx.req.http.target), "%s", a[6]);
	snprintf(fx.req.http.host, sizeof(fx.req.http.host), "%s", a[7]);
	fx.resp.http.status = atoi(a[9]);
	fx.req.m.ts_first_ns = fx.req.m.ts_last_ns = ts;
	fx.resp.m.ts_first_ns = fx.resp.m.ts_last_ns = ts + dur;
	jbuf__init(&jb);
	format__exchange_once(f, &jb, NULL, 1, &fx.x, NULL, 0);
	fputs(jb.buf, stdout);
	jbuf__free(&jb);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const types[] = { "json_lines", "cef", "syslog", "line", "csv" };
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	struct sample s[4];
	size_t i;
	int k;

	if (argc == 15 && !strcmp(argv[1], "--render"))
		return render_one(argv + 2);
	make_corpus(s);
	redactor__default();	/* built once, outside the timings */
	printf("format: sanitize + redact + format, ~1 KB request body + 11 B response\n");
	for (k = 0; k < 4; k++)
		bench_format("json_lines", s, 4, secs, k);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		bench_format(types[i], s, 4, secs, -1);
	bench_scanners(s, 4, secs);
	for (k = 0; k < 4; k++)
		free(s[k].body);
	return 0;
}
