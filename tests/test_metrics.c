// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus exposition (escaping, cumulative histograms, # HELP and
 * # TYPE once per family with its samples together), the health rules, the
 * lock-free snapshot publication and the loss window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "health.h"
#include "metrics.h"
#include "snapshot.h"

#define NOW 1800000000000000000ULL	/* CLOCK_REALTIME ns of the synthetic snapshots */

static char *render(const struct snapshot *s)
{
	struct jbuf jb;
	char *out;

	jbuf__init(&jb);
	metrics__render(s, &jb);
	assert_false(jb.oom);
	out = strdup(jb.buf);
	jbuf__free(&jb);
	return out;
}

/* A snapshot as a running collector would publish it: two sinks, one critical. */
static struct snapshot *healthy(void)
{
	struct snapshot *s = calloc(1, sizeof(*s));

	s->taken_ns = NOW - 20000000;
	s->start_ns = NOW - 60000000000ULL;
	s->version = "0.1.0";
	s->attach = "tracepoint";
	s->attached = true;
	s->ringbuf_size = 16 << 20;
	s->loss_window_s = 60;
	s->pm.pending_limit = 100000;
	s->pm.conns_limit = 65536;
	s->pm.exchanges[1][0] = 42;
	s->nsinks = 2;
	snprintf(s->sinks[0].path, SNAP_PATH_LEN, "/var/log/sockaudit/a.log");
	s->sinks[0].st.critical = true;
	s->sinks[0].st.queue_limit = 64 << 20;
	s->sinks[0].st.last_write_ns = NOW - 1000000;
	snprintf(s->sinks[1].path, SNAP_PATH_LEN, "/var/log/odd \"quoted\\\" dir\nx/b.log");
	s->sinks[1].st.queue_limit = 64 << 20;
	s->nmaps = 1;
	snprintf(s->maps[0].name, SNAP_NAME_LEN, "conns");
	s->maps[0].entries = 3;
	s->maps[0].capacity = 65536;
	s->nrules = 1;
	snprintf(s->rules[0].name, SNAP_NAME_LEN, "bearer_token");
	s->rules[0].count = 7;
	return s;
}

/* A label value's backslash, double quote and newline are escaped; nothing else. */
static void test_label_escaping(void **state)
{
	struct expo_label l[2] = { { "sink", "a\"b\\c\nd" }, { "x", "é plain" } };
	struct jbuf jb;

	jbuf__init(&jb);
	expo__u64(&jb, "m_total", l, 2, 5);
	assert_string_equal(jb.buf, "m_total{sink=\"a\\\"b\\\\c\\nd\",x=\"é plain\"} 5\n");
	jbuf__reset(&jb);
	/* HELP escapes backslash and newline, not quotes */
	expo__family(&jb, "m", "gauge", "say \"hi\"\\\nbye");
	assert_string_equal(jb.buf, "# HELP m say \"hi\"\\\\\\nbye\n# TYPE m gauge\n");
	jbuf__reset(&jb);
	expo__u64(&jb, "bare", NULL, 0, 18446744073709551615ULL);
	assert_string_equal(jb.buf, "bare 18446744073709551615\n");
	jbuf__free(&jb);
}

/* Per-bucket counts become cumulative buckets, +Inf equals _count. */
static void test_histogram_cumulative(void **state)
{
	static const double le[3] = { 0.001, 0.01, 1 };
	static const uint64_t counts[4] = { 2, 0, 3, 1 };
	struct expo_label l[1] = { { "sink", "s" } };
	struct jbuf jb;

	jbuf__init(&jb);
	expo__histogram(&jb, "h_seconds", l, 1, le, counts, 3, 0.5);
	assert_string_equal(jb.buf,
			    "h_seconds_bucket{sink=\"s\",le=\"0.001\"} 2\n"
			    "h_seconds_bucket{sink=\"s\",le=\"0.01\"} 2\n"
			    "h_seconds_bucket{sink=\"s\",le=\"1\"} 5\n"
			    "h_seconds_bucket{sink=\"s\",le=\"+Inf\"} 6\n"
			    "h_seconds_sum{sink=\"s\"} 0.5\n"
			    "h_seconds_count{sink=\"s\"} 6\n");
	jbuf__free(&jb);
}

/* The family a sample line belongs to: its name less a histogram suffix. */
static void family_of(const char *line, char *out, size_t n)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	size_t len = strcspn(line, "{ "), i, sl;

	snprintf(out, n, "%.*s", (int)len, line);
	for (i = 0; i < 3; i++) {
		sl = strlen(sfx[i]);
		if (len > sl && !strcmp(out + len - sl, sfx[i]) && strstr(out, "_seconds"))
			out[len - sl] = '\0';
	}
}

/*
 * Every family of the whole page: # HELP then # TYPE, once each, and every
 * sample right after its own family's header (never after another's).
 */
static void test_help_type_once(void **state)
{
	struct snapshot *s = healthy();
	char *page = render(s), *save = NULL, *line;
	char seen[128][96], cur[96] = "", fam[96];
	int nseen = 0, i, samples = 0;

	for (line = strtok_r(page, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[96];

		if (!strncmp(line, "# HELP ", 7)) {
			sscanf(line + 7, "%95s", name);
			for (i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], name);
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
			snprintf(cur, sizeof(cur), "%s", name);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			sscanf(line + 7, "%95s", name);
			assert_string_equal(name, cur);	/* right after its HELP */
			continue;
		}
		family_of(line, fam, sizeof(fam));
		assert_string_equal(fam, cur);
		samples++;
	}
	assert_true(nseen > 25);
	assert_true(samples > 100);
	free(page);
	/* the odd sink path is one escaped label value, on one line */
	page = render(s);
	assert_non_null(strstr(page, "sockaudit_sink_records_total{sink=\"/var/log/odd "
				     "\\\"quoted\\\\\\\" dir\\nx/b.log\"} 0\n"));
	assert_non_null(strstr(page, "sockaudit_exchanges_total{proto=\"http\",outcome=\"ok\"} 42\n"));
	assert_non_null(strstr(page, "sockaudit_redactions_total{rule=\"bearer_token\"} 7\n"));
	assert_non_null(strstr(page, "sockaudit_bpf_map_entries{map=\"conns\"} 3\n"));
	free(page);
	free(s);
}

static enum health_status health(const struct snapshot *s, char **json)
{
	struct jbuf jb;
	enum health_status st;

	jbuf__init(&jb);
	st = health__render(s, NOW, &jb);
	*json = strdup(jb.buf);
	jbuf__free(&jb);
	return st;
}

static void expect(const struct snapshot *s, enum health_status want, const char *fragment)
{
	char *json;

	assert_int_equal(health(s, &json), want);
	if (fragment && !strstr(json, fragment))
		fail_msg("%s not in %s", fragment, json);
	free(json);
}

/* Each rule of docs/operations.md, one condition at a time. */
static void test_health_rules(void **state)
{
	struct snapshot *s = healthy();

	expect(s, HEALTH_OK, "{\"status\":\"ok\",\"checks\":{");
	s->ringbuf_used = s->ringbuf_size * 95 / 100;
	expect(s, HEALTH_DEGRADED, "\"ringbuf_used_bytes\":15938355");
	s->ringbuf_used = 0;
	s->kernel_loss_window = 3;
	expect(s, HEALTH_DEGRADED, "\"kernel\":3,\"pipeline\":0,\"sinks\":0,\"status\":\"degraded\"");
	s->kernel_loss_window = 0;
	s->sinks[1].st.state = SINK_RETRYING;	/* not critical */
	s->sinks[1].st.last_errno = 28;
	expect(s, HEALTH_DEGRADED, "\"state\":\"retrying\",\"critical\":false,"
				   "\"last_error\":\"No space left on device\"");
	s->sinks[0].st.state = SINK_SUSPENDED;	/* critical */
	expect(s, HEALTH_FAILING, "\"status\":\"failing\",\"state\":\"suspended\",\"critical\":true");
	s->sinks[0].st.state = s->sinks[1].st.state = SINK_WRITING;
	s->sinks[0].st.queued_bytes = s->sinks[0].st.queue_limit;
	expect(s, HEALTH_DEGRADED, NULL);
	s->sinks[0].st.queued_bytes = 1;	/* queued, nothing written for 11 s: stalled */
	s->sinks[0].st.last_write_ns = NOW - 11000000000ULL;
	expect(s, HEALTH_DEGRADED, NULL);
	s->sinks[0].st.queued_bytes = 0;
	expect(s, HEALTH_OK, NULL);	/* idle is not stalled */
	s->pl.pending = 95000;
	expect(s, HEALTH_DEGRADED, "\"requests\":95000,\"requests_limit\":100000");
	s->pl.pending = 0;
	s->attached = false;
	expect(s, HEALTH_FAILING, "\"attached\":false");
	s->attached = true;
	s->taken_ns = NOW - 6000000000ULL;	/* the reader thread stopped publishing */
	expect(s, HEALTH_FAILING, "\"snapshot\":{\"age_ms\":6000.000,\"status\":\"failing\"}");
	free(s);
}

/* Nothing before the first publish; then the newest; a slot being read is not overwritten. */
static void test_publish_read(void **state)
{
	struct snapshot_pub *p = calloc(1, sizeof(*p));
	struct snapshot *a = healthy(), *out = calloc(1, sizeof(*out));

	assert_false(snapshot__read(p, out));
	a->pl.events = 1;
	assert_true(snapshot__publish(p, a));
	assert_true(snapshot__read(p, out));
	assert_int_equal(out->pl.events, 1);
	a->pl.events = 2;
	assert_true(snapshot__publish(p, a));
	/* a reader still on the older slot (1 - cur): the next publish must skip it */
	p->readers[!p->cur]++;
	a->pl.events = 3;
	assert_false(snapshot__publish(p, a));
	assert_true(snapshot__read(p, out));
	assert_int_equal(out->pl.events, 2);
	p->readers[!p->cur]--;
	assert_true(snapshot__publish(p, a));
	assert_true(snapshot__read(p, out));
	assert_int_equal(out->pl.events, 3);
	free(a);
	free(out);
	free(p);
}

/* A loss shows for window_s seconds, then the window is clean again. */
static void test_loss_window(void **state)
{
	static const uint64_t totals[] = { 0, 5, 5, 5, 5 };
	static const uint64_t want[] = { 0, 5, 5, 0, 0 };
	struct loss_window *w = calloc(1, sizeof(*w));
	struct snapshot *s = healthy();
	struct snapshot_src src = { .nsinks = 0 };
	size_t i;

	loss_window__init(w, 2);
	for (i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
		s->kcnt[SA_CNT_RB_FULL] = totals[i];
		s->kcnt[SA_CNT_RB_FULL_BYTES] = totals[i] * 1000;	/* bytes: not events */
		snapshot__gather_slow(s, &src, w);
		assert_int_equal(s->kernel_loss_window, want[i]);
		assert_int_equal(s->loss_window_s, 2);
	}
	free(w);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_histogram_cumulative),
		cmocka_unit_test(test_help_type_once),
		cmocka_unit_test(test_health_rules),
		cmocka_unit_test(test_publish_read),
		cmocka_unit_test(test_loss_window),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
