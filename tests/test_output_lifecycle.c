// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The lifecycle records' members (output_lifecycle.c): which members each
 * kind has, in the record's order, made from the collector's facts; texts
 * that could overrun their room are cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "format.h"
#include "output_lifecycle.h"
#include "targets.h"

static const char *kname(int i)
{
	static const char *const n[] = { "a", "events", "c" };

	return n[i];
}

static const char *tname(int i)
{
	return i ? "tls_two" : "tls_one";
}

static const uint64_t kv[3] = { 1, 2, 3 }, pv[2] = { 4, 5 }, tv[2] = { 6, 7 };

static struct lc_facts facts(void)
{
	static const pid_t pids[] = { 11, 12 };

	return (struct lc_facts){
		.run_id = "r1", .attach = "raw_tp", .child = 10, .pids = pids, .npids = 2,
		.max_capture_bytes = 4096, .capture_budget_bytes = 8192, .request_ttl_ms = 300000,
		.reason = "command exited", .exit_status = -9, .events = 20, .exchanges = 9,
		.records = 11, .kernel_targets = 3,
		.kernel = { kv, 3, 1, kname }, .pipeline = { pv, 2, -1, kname },
	};
}

/* The record's keys, comma-separated, into out. */
static void keys_of(enum lc_kind kind, const struct lc_facts *f, char *out, size_t len)
{
	struct lc_record *r = lifecycle__build(kind, f);
	const struct format_field *fl;
	size_t n, off = 0;

	assert_non_null(r);
	fl = lifecycle__fields(r, &n);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		off += snprintf(out + off, len - off, "%s%s", i ? "," : "", fl[i].key);
	lifecycle__free(r);
}

/* The member named key of a record of kind (copied out: the record is freed). */
static struct format_field member(enum lc_kind kind, const struct lc_facts *f, const char *key,
				  char *text, size_t len)
{
	struct lc_record *r = lifecycle__build(kind, f);
	struct format_field m = { 0 };
	const struct format_field *fl;
	size_t n;

	assert_non_null(r);
	fl = lifecycle__fields(r, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(fl[i].key, key))
			m = fl[i];
	assert_non_null(m.key);
	if (m.kind == FF_STR)
		snprintf(text, len, "%s", m.s);
	lifecycle__free(r);
	return m;
}

static void test_start_members_in_order(void **state)
{
	struct lc_facts f = facts();
	char k[512], t[64];

	(void)state;
	keys_of(LC_START, &f, k, sizeof(k));
	assert_string_equal(k, "run_id,version,attach,targets,max_capture_bytes,"
			       "capture_budget_bytes,request_ttl_ms,sinks");
	member(LC_START, &f, "targets", t, sizeof(t));
	assert_string_equal(t, "10,11,12");
	assert_int_equal(member(LC_START, &f, "request_ttl_ms", t, sizeof(t)).u, 300000);
}

/* The kernel's events counter is skipped (not kept there); TLS members only with TLS on. */
static void test_stop_counters(void **state)
{
	struct lc_facts f = facts();
	char k[512], t[8];

	(void)state;
	keys_of(LC_STOP, &f, k, sizeof(k));
	assert_string_equal(k, "run_id,reason,exit_status,events,exchanges,kernel_a,kernel_c,"
			       "pipeline_a,pipeline_events");
	assert_int_equal(member(LC_STOP, &f, "exit_status", t, sizeof(t)).i, -9);
	assert_int_equal(member(LC_STOP, &f, "kernel_c", t, sizeof(t)).u, 3);
	f.tls = (struct lc_counters){ tv, 2, -1, tname };
	f.tls_files = 2;
	f.tls_swept = 1;
	f.child = 0;
	f.command_signal = "SIGTERM";
	keys_of(LC_STOP, &f, k, sizeof(k));
	assert_string_equal(k, "run_id,reason,command_signal,events,exchanges,kernel_a,kernel_c,"
			       "pipeline_a,pipeline_events,tls_files_attached,tls_links_swept,"
			       "tls_one,tls_two");
	assert_int_equal(member(LC_STOP, &f, "tls_two", t, sizeof(t)).u, 7);
}

/* A reload names its config and sinks; error only when it failed. */
static void test_reload_config_and_error(void **state)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	struct lc_facts f = facts();
	char k[512], t[64];

	(void)state;
	assert_non_null(cfg);
	cfg->path = "/etc/sa.yaml";
	snprintf(cfg->digest, sizeof(cfg->digest), "abc");
	cfg->n_sinks = 2;
	cfg->sinks[0].output_file = "/var/log/a.log";
	cfg->sinks[1].output_file = "/var/log/b.log";
	f.cfg = cfg;
	f.status = "applied";
	f.reload_ms = 7;
	keys_of(LC_RELOAD, &f, k, sizeof(k));
	assert_string_equal(k, "status,reload_ms,held_events,config,config_digest,sinks,"
			       "sink_1,sink_2");
	member(LC_RELOAD, &f, "sink_2", t, sizeof(t));
	assert_string_equal(t, "/var/log/b.log");
	f.status = "rejected";
	f.error = "line 3: bad key";
	keys_of(LC_RELOAD, &f, k, sizeof(k));
	assert_string_equal(k, "status,error,reload_ms,held_events,config,config_digest,sinks,"
			       "sink_1,sink_2");
	free(cfg);
}

/* The state file: state, pid, time, the start members, progress and counters. */
static void test_state_members(void **state)
{
	struct lc_facts f = facts();
	char k[512], t[8];

	(void)state;
	f.state = "running";
	f.caps = "cap_bpf";
	keys_of(LC_STATE, &f, k, sizeof(k));
	assert_string_equal(k, "state,pid,updated,run_id,version,attach,targets,capabilities,uid,"
			       "max_capture_bytes,capture_budget_bytes,request_ttl_ms,sinks,"
			       "kernel_targets,events,exchanges,records,kernel_a,kernel_c,"
			       "pipeline_a,pipeline_events");
	assert_int_equal(member(LC_STATE, &f, "pid", t, sizeof(t)).u, (uint64_t)getpid());
	assert_int_equal(member(LC_STATE, &f, "uid", t, sizeof(t)).u, (uint64_t)geteuid());
}

/* The most pids the collector takes, each as long as a pid gets: the text fits, nothing overruns. */
static void test_targets_text_bounded(void **state)
{
	pid_t pids[LC_TARGETS_PIDS - 1];
	struct lc_facts f = facts();
	char t[LC_TARGETS_PIDS * 12 + 16];

	(void)state;
	for (size_t i = 0; i < LC_TARGETS_PIDS - 1; i++)
		pids[i] = 2147483647;
	f.child = 2147483647;
	f.pids = pids;
	f.npids = LC_TARGETS_PIDS - 1;
	member(LC_START, &f, "targets", t, sizeof(t));
	assert_int_equal(strlen(t), LC_TARGETS_PIDS * 11 - 1);	/* every pid, whole */
}

/* run: the selectors in force and what each matched. */
static void test_selectors_summary(void **state)
{
	static struct target_set ts;
	struct lc_facts f = facts();
	char t[64], k[512];

	(void)state;
	ts.n = 1;
	ts.s[0].kind = SEL_EXE;
	ts.s[0].arg = "/usr/sbin/nginx";
	ts.s[0].matches = 2;
	f.selectors = &ts;
	member(LC_START, &f, "selectors", t, sizeof(t));
	assert_string_equal(t, "exe:/usr/sbin/nginx=2");
	ts.n = 0;	/* none in force: no member */
	keys_of(LC_START, &f, k, sizeof(k));
	assert_null(strstr(k, "selectors"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_members_in_order),
		cmocka_unit_test(test_stop_counters),
		cmocka_unit_test(test_reload_config_and_error),
		cmocka_unit_test(test_state_members),
		cmocka_unit_test(test_targets_text_bounded),
		cmocka_unit_test(test_selectors_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
