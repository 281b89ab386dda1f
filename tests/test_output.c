// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The output stage (user/output.c) alone: sinks grouped by rendering, one
 * record per exchange in each sink, lifecycle records, loss records only
 * for counters that moved, exchange counts by protocol and outcome.
 */
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "correlate.h"
#include "format.h"
#include "output.h"
#include "proc.h"
#include "sink.h"

struct fixture {
	char dir[64];
	struct proc_cache *pc;
	uint64_t queue_full;
	struct output *o;
	struct sink *sinks[3];
	int nsinks;
};

static struct sink *make_sink(struct fixture *f, const char *name, const char *type)
{
	struct sink_config c;
	struct sink *s;
	char err[256], path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	sink_config__defaults(&c);
	c.output_file = strdup(path);
	c.type = strdup(type);
	assert_int_equal(sink__create(&s, &c, 0, err, sizeof(err)), 0);
	sink_config__free(&c);
	f->sinks[f->nsinks++] = s;
	return s;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	/* a directory of its own: a log directly in /tmp (others write there) is refused */
	snprintf(f->dir, sizeof(f->dir), "/tmp/sa-test-output.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->pc = proc_cache__new(false);
	f->o = output__new(f->pc, &f->queue_full);
	assert_non_null(f->o);
	*state = f;
	return 0;
}

static void remove_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	output__free(f->o);
	for (int i = 0; i < f->nsinks; i++)
		if (f->sinks[i])
			sink__close(f->sinks[i]);
	proc_cache__free(f->pc);
	remove_dir(f->dir);
	free(f);
	return 0;
}

/* Close the sinks (everything written) and return sink i's file. */
static char *slurp(struct fixture *f, const char *name)
{
	char path[PATH_MAX], *buf = calloc(1, 1 << 16);
	FILE *in;

	for (int i = 0; i < f->nsinks; i++) {
		assert_int_equal(sink__close(f->sinks[i]), 0);
		f->sinks[i] = NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	in = fopen(path, "r");
	assert_non_null(in);
	assert_true(fread(buf, 1, (1 << 16) - 1, in) > 0);
	fclose(in);
	return buf;
}

static int count(const char *buf, const char *needle)
{
	int n = 0;

	for (const char *p = buf; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* An HTTP exchange on a named connection, as the correlator hands it. */
static void put_exchange(struct fixture *f, int status, int outcome)
{
	static struct conn c;
	static struct msg_copy req, resp;
	struct exchange x = { .conn = &c, .req = &req, .resp = &resp, .outcome = outcome };

	c.tgid = 42;
	c.fd = 5;
	c.gen = 1;
	c.proto = PROTO_HTTP;
	c.transport = SA_TRANSPORT_TCP;
	conn__name(&c);
	req.m.http = &req.http;
	resp.m.http = &resp.http;
	req.m.is_request = true;
	snprintf(req.http.method, sizeof(req.http.method), "GET");
	snprintf(req.http.target, sizeof(req.http.target), "/x");
	resp.http.status = status;
	output__exchange(f->o, &x);
}

/* Two json_lines sinks render alike: one group; a CEF sink is a second one. */
static void test_groups_and_records(void **state)
{
	struct fixture *f = *state;
	struct output_stats st;
	char *a, *b;

	make_sink(f, "a.log", "json_lines");
	make_sink(f, "b.log", "json_lines");
	make_sink(f, "c.log", "cef");
	assert_int_equal(output__set_sinks(f->o, f->sinks, 3), 0);
	assert_int_equal(output__ngroups(f->o), 2);
	put_exchange(f, 200, OUTCOME_OK);
	put_exchange(f, 401, OUTCOME_OK);
	assert_true(output__flush(f->o));
	output__stats(f->o, &st);
	assert_int_equal(st.exchanges, 2);
	assert_int_equal(st.records, 2);
	assert_int_equal(st.by_outcome[PROTO_HTTP][OUTCOME_OK], 2);
	assert_int_equal(f->queue_full, 0);
	a = slurp(f, "a.log");
	assert_int_equal(count(a, "\"type\":\"exchange\""), 2);
	assert_int_equal(count(a, "\"seq\":1,"), 1);
	assert_int_equal(count(a, "\"seq\":2,"), 1);
	free(a);
	b = slurp(f, "c.log");
	assert_int_equal(count(b, "CEF:"), 2);
	free(b);
}

/* Loss records: one per counter that moved, none for one that did not; lifecycle records go out at once. */
static void test_loss_and_lifecycle(void **state)
{
	struct fixture *f = *state;
	static const char *const names[2] = { "alpha_bytes", "beta_bytes" };
	uint64_t cnt[2] = { 5, 0 }, reported[2] = { 0, 0 };
	struct format_field fld = { .key = "run_id", .kind = FF_STR, .s = "r1" };
	char *a;

	make_sink(f, "a.log", "json_lines");
	assert_int_equal(output__set_sinks(f->o, f->sinks, 1), 0);
	output__lifecycle(f->o, "collector_start", &fld, 1, 1);
	output__report_counters(f->o, "collector", names, cnt, reported, 2, 2);
	assert_int_equal(reported[0], 5);
	output__report_counters(f->o, "collector", names, cnt, reported, 2, 3);	/* nothing moved */
	cnt[0] = 7;
	output__report_counters(f->o, "collector", names, cnt, reported, 2, 4);
	output__report_sinks(f->o, 5);
	a = slurp(f, "a.log");
	assert_int_equal(count(a, "\"type\":\"collector_start\""), 1);
	assert_int_equal(count(a, "\"type\":\"loss\""), 2);
	assert_int_equal(count(a, "\"counter\":\"alpha_bytes\",\"count\":5,\"total\":5"), 1);
	assert_int_equal(count(a, "\"counter\":\"alpha_bytes\",\"count\":2,\"total\":7"), 1);
	assert_int_equal(count(a, "beta_bytes"), 0);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_groups_and_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loss_and_lifecycle, setup, teardown),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
