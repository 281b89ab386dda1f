// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * search and report, without BPF: selector parsing (each form, each error),
 * time keywords, matching against records shaped as the collector writes
 * them, the prefilter never dropping a line that matches, target
 * normalization, and percentiles against exact values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <cmocka.h>
#include "lathist.h"
#include "logrec.h"
#include "report.h"
#include "selector.h"

static const char http_rec[] =
	"{\"v\":1,\"seq\":189,\"ts\":\"2026-11-23T17:18:40.589726874Z\",\"type\":\"exchange\","
	"\"proc\":{\"pid\":7795,\"tid\":7887,\"comm\":\"python3\",\"exe\":\"/usr/bin/python3.11\","
	"\"uid\":0},\"conn\":{\"id\":\"7795:6:4\",\"role\":\"server\",\"transport\":\"tcp\","
	"\"local\":\"127.0.0.1:42641\",\"peer\":\"10.1.2.3:49080\",\"tls\":false},\"proto\":\"http\","
	"\"outcome\":\"ok\",\"critical\":true,\"duration_ms\":250.424,\"request\":{\"method\":\"POST\","
	"\"target\":\"/v1/items/42?x=1\",\"ts\":\"2026-11-23T17:18:40.589726874Z\",\"bytes\":191,"
	"\"body_bytes\":36,\"body\":\"{\\\"name\\\": \\\"item-2-46\\\", \\\"pw\\\": \\\"[REDACTED:password]\\\"}\"},"
	"\"response\":{\"status\":503,\"reason\":\"Unavailable\",\"ts\":\"2026-11-23T17:18:40.59Z\","
	"\"bytes\":182,\"body_bytes\":2,\"body\":\"no\\u0007\"},\"redactions\":[\"password\"],"
	"\"chain\":\"00\"}";

static const char rpc_rec[] =
	"{\"v\":1,\"seq\":16,\"ts\":\"2026-11-23T17:16:11.664380819Z\",\"type\":\"exchange\","
	"\"proc\":{\"pid\":27226,\"tid\":27455,\"comm\":\"python3\",\"exe\":null,\"uid\":1000},"
	"\"conn\":{\"id\":\"27226:8:12\",\"role\":\"server\",\"transport\":\"unix\",\"local\":"
	"\"unix:/run/x.sock\",\"peer\":\"unix:\",\"tls\":false},\"proto\":\"jsonrpc\",\"outcome\":"
	"\"error\",\"critical\":false,\"duration_ms\":0.023,\"rpc\":{\"method\":\"tools/call\","
	"\"id\":\"7\",\"tool\":\"get_weather\",\"direction\":\"inbound\",\"error\":{\"code\":-32601,"
	"\"message\":\"Method not found\"}},\"request\":{\"ts\":\"2026-11-23T17:16:11.664380819Z\","
	"\"bytes\":10,\"body_bytes\":10,\"body\":\"{}\"},\"response\":{\"ts\":"
	"\"2026-11-23T17:16:11.664Z\",\"bytes\":10,\"body_bytes\":10,\"body\":\"{}\"}}";

static const char loss_rec[] =
	"{\"v\":1,\"seq\":1397,\"ts\":\"2026-11-23T17:16:43.940818044Z\",\"type\":\"loss\","
	"\"source\":\"kernel\",\"counter\":\"ringbuf_full_events\",\"count\":2380,\"total\":2380}";

/* Parse argv-like words into s; the last return value of selector__parse_arg. */
static int sel(struct selector *s, char *err, size_t n, int argc, char **argv)
{
	int i, e = 0;

	selector__init(s);
	for (i = 0; i < argc; i++) {
		e = selector__parse_arg(s, argc, argv, &i, err, n);
		if (e <= 0)
			return e;
	}
	selector__finish(s);
	return e;
}

/* Does the selector (words) match line, and does the prefilter agree? */
static bool matches(const char *line, int argc, ...)
{
	char *argv[8], err[300];
	struct selector s;
	struct logrec r;
	va_list ap;
	bool m, pf;
	int i;

	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	assert_int_equal(sel(&s, err, sizeof(err), argc, argv), 1);
	assert_int_equal(logrec__parse(line, strlen(line), &r), 0);
	m = selector__match(&s, &r);
	pf = selector__prefilter(&s, line, strlen(line));
	/* the needles are necessary conditions: a match always passes them */
	if (m)
		assert_true(pf);
	selector__free(&s);
	return m && pf;
}

static void test_logrec_fields(void **state)
{
	struct logrec r;
	char buf[256];
	int64_t v;
	uint64_t us;

	assert_int_equal(logrec__parse(http_rec, strlen(http_rec), &r), 0);
	assert_true(logrec__eq(&r, LF_COMM, "python3"));
	assert_true(logrec__i64(&r, LF_RESP_STATUS, &v) && v == 503);
	assert_true(logrec__dur_us(&r, &us) && us == 250424);
	logrec__str(&r, LF_REQ_BODY, buf, sizeof(buf));
	assert_string_equal(buf, "{\"name\": \"item-2-46\", \"pw\": \"[REDACTED:password]\"}");
	logrec__str(&r, LF_RESP_BODY, buf, sizeof(buf));
	assert_string_equal(buf, "no\a");
	assert_true(logrec__arr_has(&r, LF_REDACTIONS, "password"));
	assert_false(logrec__arr_has(&r, LF_REDACTIONS, "email"));
	/* request.ts is not the record's ts */
	assert_int_equal(r.f[LF_TS].n, 30);
	assert_int_equal(logrec__parse(rpc_rec, strlen(rpc_rec), &r), 0);
	assert_false(logrec__has(&r, LF_EXE));	/* null */
	assert_true(logrec__i64(&r, LF_RPC_ERR_CODE, &v) && v == -32601);
	/* not one JSON object */
	assert_int_not_equal(logrec__parse("{\"v\":1,", 7, &r), 0);
	assert_int_not_equal(logrec__parse("{\"a\":1} x", 9, &r), 0);
	assert_int_not_equal(logrec__parse("[1]", 3, &r), 0);
	assert_int_not_equal(logrec__parse("{\"a\":\"x}", 8, &r), 0);
}

static void test_ts_parse(void **state)
{
	int64_t ns;

	assert_int_equal(logrec__parse_ts("1970-01-01T00:00:01.5Z", 22, &ns), 0);
	assert_int_equal(ns, 1500000000LL);
	assert_int_equal(logrec__parse_ts("2026-11-23T17:18:40.589726874Z", 30, &ns), 0);
	assert_int_equal(ns, 1795454320589726874LL);
	assert_int_not_equal(logrec__parse_ts("2026-13-23T17:18:40Z", 20, &ns), 0);
	assert_int_not_equal(logrec__parse_ts("2026-11-23T17:18:40", 19, &ns), 0);
}

static void test_selectors_match(void **state)
{
	assert_true(matches(http_rec, 2, "--status", "5xx"));
	assert_true(matches(http_rec, 2, "--status", "500-503"));
	assert_false(matches(http_rec, 2, "--status", "4xx,200"));
	assert_true(matches(http_rec, 2, "--status", "404,503"));	/* OR within */
	assert_true(matches(http_rec, 2, "--pid", "7000-8000"));
	assert_true(matches(http_rec, 2, "--pid", "7795"));
	assert_false(matches(http_rec, 2, "--pid", "779"));
	assert_true(matches(http_rec, 2, "--uid", "0"));
	assert_true(matches(http_rec, 2, "--comm", "python3"));
	assert_true(matches(http_rec, 2, "--exe", "/usr/bin/python*"));
	assert_true(matches(http_rec, 2, "--peer", "10.0.0.0/8"));
	assert_true(matches(http_rec, 2, "--peer", "10.1.2.3"));
	assert_false(matches(http_rec, 2, "--peer", "10.1.2.30"));
	assert_true(matches(http_rec, 2, "--peer", "10.1.2.3:49080"));
	assert_false(matches(http_rec, 2, "--peer", "192.168.0.0/16"));
	assert_true(matches(http_rec, 2, "--local-port", "42641"));
	assert_true(matches(http_rec, 2, "--transport", "tcp"));
	assert_true(matches(http_rec, 2, "--proto", "http"));
	assert_true(matches(http_rec, 2, "--method", "POST"));
	assert_false(matches(http_rec, 2, "--method", "post"));	/* methods are case-sensitive */
	assert_true(matches(http_rec, 2, "--target", "/v1/items/*"));
	assert_false(matches(http_rec, 2, "--target", "/v1/items/42"));	/* the query is part of it */
	assert_true(matches(http_rec, 2, "--outcome", "ok"));
	assert_true(matches(http_rec, 2, "--slower-than", "250ms"));
	assert_false(matches(http_rec, 2, "--slower-than", "0.3s"));
	assert_true(matches(http_rec, 2, "--faster-than", "251ms"));
	assert_true(matches(http_rec, 1, "--critical"));
	assert_true(matches(http_rec, 2, "--redacted", "any"));
	assert_true(matches(http_rec, 2, "--redacted", "password"));
	assert_false(matches(http_rec, 2, "--redacted", "email"));
	assert_true(matches(http_rec, 2, "--type", "exchange"));
	assert_true(matches(http_rec, 2, "--seq", "100-200"));
	assert_true(matches(http_rec, 2, "--seq", "189-"));
	assert_false(matches(http_rec, 2, "--seq", "190-"));
	assert_true(matches(http_rec, 2, "--text", "item-2-46"));
	assert_true(matches(http_rec, 2, "--text", "\"pw\""));	/* decoded, not as escaped */
	assert_false(matches(http_rec, 2, "--text", "Unavailable"));	/* the reason is no body */
	assert_true(matches(http_rec, 4, "-ts", "2026-11-23T17:18:40Z", "-te", "2026-11-23T17:18:41Z"));
	assert_false(matches(http_rec, 2, "-te", "2026-11-23T17:18:40Z"));	/* end is exclusive */
	assert_false(matches(http_rec, 4, "--status", "5xx", "--comm", "nginx"));	/* AND */
	assert_true(matches(rpc_rec, 2, "--tool", "get_weather"));
	assert_true(matches(rpc_rec, 2, "--rpc-method", "tools/call"));
	assert_true(matches(rpc_rec, 2, "--rpc-error", "any"));
	assert_true(matches(rpc_rec, 2, "--rpc-error", "-32601"));
	assert_false(matches(rpc_rec, 2, "--rpc-error", "-32600"));
	assert_false(matches(http_rec, 2, "--rpc-error", "any"));
	assert_true(matches(rpc_rec, 2, "--peer", "unix:"));
	assert_false(matches(rpc_rec, 2, "--exe", "*"));	/* exe null */
	assert_false(matches(rpc_rec, 2, "--local-port", "1-65535"));
	assert_true(matches(rpc_rec, 2, "--role", "server"));
	assert_true(matches(loss_rec, 2, "--counter", "ringbuf_full_events"));
	assert_true(matches(loss_rec, 2, "--type", "loss"));
	assert_false(matches(loss_rec, 2, "--status", "1xx"));
}

static void expect_error(const char *opt, const char *val, const char *says)
{
	char *argv[2] = { (char *)opt, (char *)val }, err[400] = "";
	struct selector s;

	assert_int_equal(sel(&s, err, sizeof(err), val ? 2 : 1, argv), -EINVAL);
	if (!strstr(err, says))
		fail_msg("%s %s: error '%s' does not say '%s'", opt, val ? val : "", err, says);
	selector__free(&s);
}

static void test_selector_errors(void **state)
{
	expect_error("--status", "7xx", "--status '7xx'");
	expect_error("--status", "abc", "a class (5xx)");
	expect_error("--pid", "-3", "a range A-B");
	expect_error("--pid", "9-3", "a range A-B");
	expect_error("--seq", "x", "--seq 'x'");
	expect_error("--outcome", "okk", "no_response");
	expect_error("--type", "exchanges", "collector_start");
	expect_error("--transport", "udp", "tcp, unix, pipe");
	expect_error("--proto", "grpc", "http, jsonrpc, raw");
	expect_error("--peer", "10.0.0.0/33", "CIDR");
	expect_error("--peer", "nonsense", "CIDR");
	expect_error("--slower-than", "fast", "250ms");
	expect_error("--slower-than", "10h", "250ms");
	expect_error("--rpc-error", "some", "any, or an error code");
	expect_error("-ts", "tomorrow", "yesterday");
	expect_error("-ts", "2026-02-30x", "YYYY-MM-DD");
	expect_error("--status", NULL, "wants a value");
	expect_error("--critical=yes", NULL, "takes no value");
}

static void test_time_keywords(void **state)
{
	/* 2026-11-25 (a Wednesday) 13:14:15 UTC, read in UTC */
	time_t now = 1795612455;
	int64_t ns;
	bool u2;
	char err[300];

	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(selector__parse_time("now", NULL, now, &ns, &u2, err, sizeof(err)), 0);
	assert_int_equal(ns, now * 1000000000LL);
	assert_int_equal(selector__parse_time("recent", NULL, now, &ns, &u2, err, sizeof(err)), 0);
	assert_int_equal(ns, (now - 600) * 1000000000LL);
	assert_int_equal(selector__parse_time("today", NULL, now, &ns, &u2, err, sizeof(err)), 0);
	assert_int_equal(ns, 1795564800LL * 1000000000LL);
	assert_int_equal(selector__parse_time("yesterday", NULL, now, &ns, &u2, err, sizeof(err)), 0);
	assert_int_equal(ns, (1795564800LL - 86400) * 1000000000LL);
	assert_int_equal(selector__parse_time("this-week", NULL, now, &ns, &u2, err, sizeof(err)), 0);
	assert_int_equal(ns, (1795564800LL - 2 * 86400) * 1000000000LL);	/* Monday */
	assert_int_equal(selector__parse_time("this-month", NULL, now, &ns, &u2, err, sizeof(err)), 0);
	assert_int_equal(ns, (1795564800LL - 24 * 86400) * 1000000000LL);
	assert_int_equal(selector__parse_time("this-year", NULL, now, &ns, &u2, err, sizeof(err)), 0);
	assert_int_equal(ns, 1767225600LL * 1000000000LL);
	assert_int_equal(selector__parse_time("boot", NULL, now, &ns, &u2, err, sizeof(err)), 0);
	assert_true(ns > 0 && ns < (int64_t)time(NULL) * 1000000000LL);
	/* ausearch's date and time as two words, and the ISO forms */
	assert_int_equal(selector__parse_time("11/24/2026", "06:00:00", now, &ns, &u2, err,
					      sizeof(err)), 0);
	assert_true(u2);
	assert_int_equal(ns, (1795564800LL - 86400 + 6 * 3600) * 1000000000LL);
	assert_int_equal(selector__parse_time("2026-11-24", "--status", now, &ns, &u2, err,
					      sizeof(err)), 0);
	assert_false(u2);
	assert_int_equal(ns, (1795564800LL - 86400) * 1000000000LL);
	assert_int_equal(selector__parse_time("2026-11-24 06:30", NULL, now, &ns, &u2, err,
					      sizeof(err)), 0);
	assert_int_equal(ns, (1795564800LL - 86400 + 6 * 3600 + 1800) * 1000000000LL);
	assert_int_equal(selector__parse_time("12:00", NULL, now, &ns, &u2, err, sizeof(err)), 0);
	assert_int_equal(ns, (1795564800LL + 12 * 3600) * 1000000000LL);
	assert_int_equal(selector__parse_time("@1000", NULL, now, &ns, &u2, err, sizeof(err)), 0);
	assert_int_equal(ns, 1000 * 1000000000LL);
	assert_int_not_equal(selector__parse_time("25:00", NULL, now, &ns, &u2, err, sizeof(err)), 0);
}

static void test_durations(void **state)
{
	uint64_t us;

	assert_int_equal(selector__parse_duration("250ms", &us), 0);
	assert_int_equal(us, 250000);
	assert_int_equal(selector__parse_duration("1.5s", &us), 0);
	assert_int_equal(us, 1500000);
	assert_int_equal(selector__parse_duration("800us", &us), 0);
	assert_int_equal(us, 800);
	assert_int_equal(selector__parse_duration("2m", &us), 0);
	assert_int_equal(us, 120000000);
	assert_int_equal(selector__parse_duration("40", &us), 0);
	assert_int_equal(us, 40000);
	assert_int_not_equal(selector__parse_duration("-1ms", &us), 0);
}

static void test_needles(void **state)
{
	char *argv[] = { "--status", "5xx", "--tool", "x", "--peer", "10.0.0.0/8", "--pid", "1,2" };
	char err[200];
	struct selector s;

	assert_int_equal(sel(&s, err, sizeof(err), 8, argv), 1);
	/* --pid has two values: no needle; the others one each */
	assert_int_equal(s.nneedles, 3);
	assert_string_equal(s.needle[0], "\"status\":5");
	assert_string_equal(s.needle[1], "\"tool\":\"x\"");
	assert_string_equal(s.needle[2], "\"peer\":\"10.");
	selector__free(&s);
}

static void norm(const char *in, const char *want)
{
	char out[256];

	report__normalize_target(in, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_normalize(void **state)
{
	norm("/v1/items/42", "/v1/items/{n}");
	norm("/v1/items/42?x=1", "/v1/items/{n}");
	norm("/v1/items/42/tags/7", "/v1/items/{n}/tags/{n}");
	norm("/users/3f2504e0-4f89-11d3-9a0c-0305e82c3301/profile", "/users/{id}/profile");
	norm("/blob/9f86d081884c7d659a2feaa0c55ad015", "/blob/{id}");
	norm("/v2/status", "/v2/status");	/* "v2" is a name, not an id */
	norm("/", "/");
	norm("", "");
	norm("*", "*");
	norm("/a//b/", "/a//b/");
	norm("/sess/tok_8xkq2m4n7p1r9s3t5v", "/sess/{id}");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentiles from the histogram against the exact ones of the same data: within 1/64. */
static void test_percentiles(void **state)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
	enum { N = 100000 };
	uint64_t *v = malloc(N * sizeof(*v)), x = 88172645463325252ULL;
	struct lathist h;
	size_t i, k;

	assert_non_null(v);
	assert_int_equal(lathist__init(&h, 6), 0);
	for (i = 0; i < N; i++) {
		/* log-uniform from 1us to about 10s, like latencies */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = (uint64_t)exp((double)(x % 1000000) / 1000000.0 * 16.1);
		lathist__add(&h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	for (k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		size_t rank = (size_t)(qs[k] * N + 0.999999999);
		uint64_t exact = v[rank - 1], got = lathist__quantile(&h, qs[k]);
		double err = exact ? fabs((double)got - exact) / exact : (double)got;

		if (err > 1.0 / 64 + 1e-9)
			fail_msg("p%g: histogram %llu, exact %llu (%.2f%%)", qs[k] * 100,
				 (unsigned long long)got, (unsigned long long)exact, err * 100);
	}
	assert_int_equal(lathist__quantile(&h, 1.0), v[N - 1]);
	/* small values are exact */
	for (i = 0; i < 64; i++)
		assert_int_equal(lathist__lower(6, lathist__bucket(6, i)), i);
	/* every value falls in the bucket whose range holds it */
	for (x = 64; x < 5000000; x = x * 3 / 2 + 1) {
		uint32_t b = lathist__bucket(6, x);

		assert_true(lathist__lower(6, b) <= x && x < lathist__lower(6, b + 1));
	}
	lathist__free(&h);
	free(v);
}

/* report__main on a log of n_light endpoints seen once and one seen n_heavy times, last. */
static void test_report_top_rows(void **state)
{
	char dir[] = "/tmp/sa-report.XXXXXX", logp[64], outp[64], cmd[160], line[512], *out;
	char *argv[] = { "report", logp, NULL };
	FILE *f;
	int i, fd, saved, rc;
	long n;

	assert_non_null(mkdtemp(dir));
	snprintf(logp, sizeof(logp), "%s/a.log", dir);
	snprintf(outp, sizeof(outp), "%s/out", dir);
	f = fopen(logp, "w");
	assert_non_null(f);
	for (i = 1; i <= 1500; i++)
		fprintf(f, "{\"v\":1,\"seq\":%d,\"ts\":\"2026-11-23T17:00:%02d.000000000Z\","
			"\"type\":\"exchange\",\"proc\":{\"pid\":1,\"comm\":\"x\",\"uid\":0},"
			"\"conn\":{\"peer\":\"10.0.%d.%d:1\"},\"proto\":\"http\",\"outcome\":\"ok\","
			"\"duration_ms\":%d.5,\"request\":{\"method\":\"GET\",\"target\":\"%s%c%c\"},"
			"\"response\":{\"status\":200}}\n", i, i % 60, i / 256, i % 256, i % 7,
			i > 1000 ? "/heavy" : "/p-", i > 1000 ? ' ' : 'a' + i % 26,
			i > 1000 ? ' ' : 'a' + (i / 26) % 26);
	fclose(f);
	fflush(stdout);
	saved = dup(1);
	fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	rc = report__main(2, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	close(fd);
	assert_int_equal(rc, 0);
	f = fopen(outp, "r");
	assert_non_null(f);
	out = NULL;
	while (fgets(line, sizeof(line), f))
		if (!out && strstr(line, "GET /heavy"))
			out = strdup(line);
	fclose(f);
	/* the 500 late records of /heavy win their row back from 676 keys seen once */
	assert_non_null(out);
	n = strtol(out + strlen("  GET /heavy  "), NULL, 10);
	assert_true(n >= 500 && n < 520);
	free(out);
	snprintf(cmd, sizeof(cmd), "grep -q 'took over the smallest' %s && rm -rf %s", outp, dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logrec_fields),
		cmocka_unit_test(test_ts_parse),
		cmocka_unit_test(test_selectors_match),
		cmocka_unit_test(test_selector_errors),
		cmocka_unit_test(test_time_keywords),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_needles),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_report_top_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
