// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reassembly and the whole userspace pipeline, fed crafted kernel events:
 * gaps, truncated captures, reordering, fd reuse, close, process exit,
 * malformed events, raw protocols. Records are read back from the sink file.
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
#include "pipeline.h"
#include "redact.h"
#include "sink.h"

#define MAX_LINES 512

struct fixture {
	char dir[64], path[80];
	struct sink *sink;
	struct pipeline *pl;
	char *lines[MAX_LINES];
	int nlines;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pipeline_opts o = { .ttl_ns = 1000000000ULL, .body_excerpt = 64 };

	/* a directory of its own: a log directly in /tmp (others write there) is refused */
	snprintf(f->dir, sizeof(f->dir), "/tmp/sa-test-pipeline.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/audit.log", f->dir);
	assert_int_equal(sink__open(&f->sink, f->path, 0), 0);
	f->pl = pipeline__new(&o, f->sink);
	assert_non_null(f->pl);
	*state = f;
	return 0;
}

/* dir and the files in it (logs and their lock files) */
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
	int i;

	if (f->pl) {
		pipeline__free(f->pl);
		sink__close(f->sink);
	}
	for (i = 0; i < f->nlines; i++)
		free(f->lines[i]);
	remove_dir(f->dir);
	free(f);
	return 0;
}

/* Finish the pipeline and read every record back. */
static void finish(struct fixture *f)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *in;

	pipeline__finish(f->pl);
	pipeline__report_loss(f->pl, NULL, 0);
	pipeline__flush_batch(f->pl);
	assert_int_equal(sink__close(f->sink), 0);
	in = fopen(f->path, "r");
	assert_non_null(in);
	while (getline(&line, &cap, in) > 0 && f->nlines < MAX_LINES)
		f->lines[f->nlines++] = strdup(line);
	free(line);
	fclose(in);
	f->sink = NULL;
}

/* The n-th record (0-based) whose text contains all of the given needles. */
static const char *find(struct fixture *f, int nth, const char *a, const char *b)
{
	int i;

	for (i = 0; i < f->nlines; i++)
		if (strstr(f->lines[i], a) && (!b || strstr(f->lines[i], b)) && nth-- == 0)
			return f->lines[i];
	return NULL;
}

static int count(struct fixture *f, const char *a)
{
	int i, n = 0;

	for (i = 0; i < f->nlines; i++)
		n += strstr(f->lines[i], a) != NULL;
	return n;
}

static void fill_hdr(struct sa_event_hdr *h, uint32_t type, uint32_t tgid, uint64_t ts,
		     uint32_t size)
{
	h->ts_ns = ts;
	h->type = type;
	h->tgid = tgid;
	h->pid = tgid;
	h->size = size;
	memcpy(h->comm, "testd", 6);
}

static void ev_conn(struct fixture *f, uint32_t type, int fd, uint32_t gen, int role,
		    uint64_t sent, uint64_t recv, uint64_t ts)
{
	struct sa_conn_event ev = { 0 };

	fill_hdr(&ev.hdr, type, 100, ts, sizeof(ev));
	ev.fd = fd;
	ev.gen = gen;
	ev.role = role;
	ev.transport = SA_TRANSPORT_TCP;
	ev.local.family = 2;
	ev.local.addr[0] = 127;
	ev.local.addr[3] = 1;
	ev.local.port = 8080;
	ev.peer = ev.local;
	ev.peer.port = 40000 + fd;
	ev.sent = sent;
	ev.recv = recv;
	assert_int_equal(pipeline__event(f->pl, &ev, sizeof(ev)), 0);
}

/* A data event carrying the first cap bytes of s; orig_len = orig (0: strlen). */
static void ev_data(struct fixture *f, int fd, uint32_t gen, int dir, uint64_t pos,
		    const char *s, uint32_t orig, uint32_t cap, uint64_t ts)
{
	size_t len = strlen(s);
	uint8_t buf[sizeof(struct sa_data_event) + 4096];
	struct sa_data_event *ev = (struct sa_data_event *)buf;

	if (!cap || cap > len)
		cap = len;
	memset(ev, 0, sizeof(*ev));
	fill_hdr(&ev->hdr, SA_EV_DATA, 100, ts, sizeof(*ev) + cap);
	ev->fd = fd;
	ev->gen = gen;
	ev->dir = dir;
	ev->pos = pos;
	ev->orig_len = orig ? orig : len;
	ev->cap_len = cap;
	memcpy(buf + sizeof(*ev), s, cap);
	assert_int_equal(pipeline__event(f->pl, buf, sizeof(*ev) + cap), 0);
}

static const char GET_A[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
static const char OK_5[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

static void test_simple_exchange(void **state)
{
	struct fixture *f = *state;
	const char *r;

	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1000);
	ev_data(f, 5, 1, SA_DIR_INGRESS, 0, GET_A, 0, 0, 2000000);
	ev_data(f, 5, 1, SA_DIR_EGRESS, 0, OK_5, 0, 0, 2500000);
	finish(f);
	r = find(f, 0, "\"type\":\"exchange\"", NULL);
	assert_non_null(r);
	assert_non_null(strstr(r, "\"id\":\"100:5:1\""));
	assert_non_null(strstr(r, "\"role\":\"server\""));
	assert_non_null(strstr(r, "\"local\":\"127.0.0.1:8080\""));
	assert_non_null(strstr(r, "\"peer\":\"127.0.0.1:40005\""));
	assert_non_null(strstr(r, "\"outcome\":\"ok\""));
	assert_non_null(strstr(r, "\"duration_ms\":0.500"));
	assert_non_null(strstr(r, "\"method\":\"GET\",\"target\":\"/a\""));
	assert_non_null(strstr(r, "\"status\":200"));
	assert_non_null(strstr(r, "\"body\":\"hello\""));
	assert_int_equal(count(f, "\"type\":\"exchange\""), 1);
	assert_int_equal(count(f, "\"type\":\"loss\""), 0);
}

/* A redacted secret makes the exchange critical, and never reaches the log. */
static void test_secret_is_critical(void **state)
{
	struct fixture *f = *state;
	const char *req = "GET /login?user=al&password=c2lnbmF0dXJl HTTP/1.1\r\n\r\n";

	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 5, 1, SA_DIR_INGRESS, 0, GET_A, 0, 0, 2);
	ev_data(f, 5, 1, SA_DIR_EGRESS, 0, OK_5, 0, 0, 3);
	ev_data(f, 5, 1, SA_DIR_INGRESS, strlen(GET_A), req, 0, 0, 4);
	ev_data(f, 5, 1, SA_DIR_EGRESS, strlen(OK_5), OK_5, 0, 0, 5);
	finish(f);
	assert_int_equal(count(f, "\"critical\":true"), 1);
	assert_non_null(find(f, 0, "\"critical\":true", "\"redactions\""));
	assert_null(find(f, 0, "c2lnbmF0dXJl", NULL));
}

/* A sink of type `type` writing f->path + suffix; r: its redactor (NULL: defaults). */
static struct sink *typed_sink(struct fixture *f, const char *type, const char *suffix,
			       const struct redactor *r)
{
	struct sink_config c;
	struct sink *s = NULL;
	char path[96], err[512];

	snprintf(path, sizeof(path), "%s%s", f->path, suffix);
	unlink(path);
	sink_config__defaults(&c);
	c.output_file = strdup(path);
	c.type = strdup(type);
	c.redactor = r;
	assert_int_equal(sink__create(&s, &c, 0, err, sizeof(err)), 0);
	sink_config__free(&c);
	return s;
}

static char *slurp_path(struct fixture *f, const char *suffix)
{
	char path[96], *buf = calloc(1, 1 << 16);
	FILE *in;

	snprintf(path, sizeof(path), "%s%s", f->path, suffix);
	in = fopen(path, "r");
	assert_non_null(in);
	assert_true(fread(buf, 1, (1 << 16) - 1, in) > 0);
	fclose(in);
	unlink(path);
	return buf;
}

static void one_exchange_and_lifecycle(struct fixture *f)
{
	const char *req = "GET /emp/EMP-123456 HTTP/1.1\r\nHost: x\r\n\r\n";
	struct format_field lf[] = {
		{ .key = "reason", .kind = FF_STR, .s = "test" },
		{ .key = "events", .kind = FF_U64, .u = 3 },
	};

	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1000);
	ev_data(f, 5, 1, SA_DIR_INGRESS, 0, req, 0, 0, 2000000);
	ev_data(f, 5, 1, SA_DIR_EGRESS, 0, OK_5, 0, 0, 2500000);
	pipeline__lifecycle(f->pl, "collector_stop", lf, 2, 3000000);
}

/*
 * Each sink gets its own format; sinks that render alike share one
 * rendering (and so get the same bytes); a different redactor is a
 * different rendering.
 */
static void test_sinks_render_own_format(void **state)
{
	struct fixture *f = *state;
	struct redact_custom emp = { .name = "employee_id", .regex = "EMP-[0-9]{6}" };
	struct redact_opts ro;
	struct redactor *r;
	struct sink *s[5];
	char err[256], *cef1, *cef2, *csv, *own;
	int i;

	redact_opts__defaults(&ro);
	ro.custom = &emp;
	ro.ncustom = 1;
	r = redactor__new(&ro, err, sizeof(err));
	assert_non_null(r);
	s[0] = f->sink;
	s[1] = typed_sink(f, "cef", ".cef1", NULL);
	s[2] = typed_sink(f, "cef", ".cef2", NULL);
	s[3] = typed_sink(f, "csv", ".csv", NULL);
	s[4] = typed_sink(f, "json_lines", ".own", r);
	assert_int_equal(pipeline__set_sinks(f->pl, s, 5), 0);
	assert_int_equal(pipeline__ngroups(f->pl), 4);	/* json, cef (x2), csv, json+redactor */
	one_exchange_and_lifecycle(f);
	assert_int_equal(pipeline__set_sinks(f->pl, s, 1), 0);	/* flushes; then close the rest */
	for (i = 1; i < 5; i++)
		assert_int_equal(sink__close(s[i]), 0);
	finish(f);
	cef1 = slurp_path(f, ".cef1");
	cef2 = slurp_path(f, ".cef2");
	csv = slurp_path(f, ".csv");
	own = slurp_path(f, ".own");
	assert_string_equal(cef1, cef2);
	assert_int_equal(strncmp(cef1, "CEF:0|sockaudit|sockaudit|", 26), 0);
	assert_non_null(strstr(cef1, "|exchange|"));
	assert_non_null(strstr(cef1, "|collector_stop|collector_stop|3|"));
	assert_non_null(strstr(cef1, "reason=test events=3"));
	assert_int_equal(strncmp(csv, "seq,ts,type,", 12), 0);
	assert_non_null(strstr(csv, ",exchange,"));
	assert_non_null(strstr(csv, "\"reason=test;events=3\""));
	assert_non_null(find(f, 0, "\"type\":\"exchange\"", "/emp/EMP-123456"));
	assert_non_null(find(f, 0, "\"type\":\"collector_stop\"", "\"events\":3"));
	assert_non_null(strstr(own, "/emp/[REDACTED:employee_id]"));
	assert_null(strstr(own, "EMP-123456"));
	free(cef1);
	free(cef2);
	free(csv);
	free(own);
	redactor__free(r);
}

/* One sink (the common case): one rendering, the same as before. */
static void test_one_sink_one_group(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pipeline__ngroups(f->pl), 1);
	one_exchange_and_lifecycle(f);
	finish(f);
	assert_int_equal(count(f, "\"type\":\"exchange\""), 1);
	assert_int_equal(count(f, "\"type\":\"collector_stop\""), 1);
}

static void test_split_events(void **state)
{
	struct fixture *f = *state;
	size_t len = strlen(GET_A), i;

	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1);
	/* one byte per event, positions continuous */
	for (i = 0; i < len; i++) {
		char one[2] = { GET_A[i], 0 };

		ev_data(f, 5, 1, SA_DIR_INGRESS, i, one, 0, 0, 10 + i);
	}
	ev_data(f, 5, 1, SA_DIR_EGRESS, 0, OK_5, 0, 0, 1000);
	finish(f);
	assert_non_null(find(f, 0, "\"target\":\"/a\"", "\"outcome\":\"ok\""));
	assert_int_equal(count(f, "\"type\":\"loss\""), 0);
}

static void test_gap_in_body_is_skipped_exactly(void **state)
{
	struct fixture *f = *state;
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab";
	size_t hl = strlen(head);
	const char *r;

	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 5, 1, SA_DIR_INGRESS, 0, GET_A, 0, 0, 2);
	ev_data(f, 5, 1, SA_DIR_EGRESS, 0, head, 0, 0, 3);
	/* 5 bytes of body lost (an event dropped), then the last 3 */
	ev_data(f, 5, 1, SA_DIR_EGRESS, hl + 5, "xyz", 0, 0, 4);
	/* the next request on the connection still pairs correctly */
	ev_data(f, 5, 1, SA_DIR_INGRESS, strlen(GET_A), "GET /b HTTP/1.1\r\n\r\n", 0, 0, 5);
	ev_data(f, 5, 1, SA_DIR_EGRESS, hl + 8, OK_5, 0, 0, 6);
	finish(f);
	r = find(f, 0, "\"target\":\"/a\"", NULL);
	assert_non_null(r);
	assert_non_null(strstr(r, "\"lost_bytes\":5"));
	assert_non_null(strstr(r, "\"status\":200"));
	assert_non_null(find(f, 0, "\"target\":\"/b\"", "\"outcome\":\"ok\""));
	r = find(f, 0, "\"counter\":\"stream_gap_bytes\"", NULL);
	assert_non_null(r);
	assert_non_null(strstr(r, "\"count\":5"));
}

static void test_truncated_capture(void **state)
{
	struct fixture *f = *state;
	char resp[256];
	const char *r;

	snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n%0100d", 7);
	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 5, 1, SA_DIR_INGRESS, 0, GET_A, 0, 0, 2);
	/* only 60 of the bytes were captured */
	ev_data(f, 5, 1, SA_DIR_EGRESS, 0, resp, strlen(resp), 60, 3);
	finish(f);
	r = find(f, 0, "\"type\":\"exchange\"", NULL);
	assert_non_null(r);
	assert_non_null(strstr(r, "\"outcome\":\"ok\""));
	assert_non_null(strstr(r, "\"body_bytes\":100"));
	assert_non_null(find(f, 0, "\"counter\":\"capture_truncated_bytes\"", NULL));
}

/*
 * One receive of a 10000-byte POST body and a DELETE behind it, emitted by
 * the kernel as chunks of 4096 bytes with consecutive positions. On fd 5
 * every chunk arrives; on fd 6 the middle one (inside the body) was lost to
 * a full ring buffer. Both DELETEs are recorded; the loss is exactly the
 * chunk, and it lands on the POST.
 */
static void chunked_recv(struct fixture *f, int fd, bool lose_middle)
{
	static const char head[] = "POST /innocent HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n";
	static const char tail[] = "DELETE /admin/users/42 HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	char *stream = malloc(sizeof(head) + 10000 + sizeof(tail));
	size_t len, off;

	assert_non_null(stream);
	len = (size_t)sprintf(stream, "%s%0*d%s", head, 10000, 0, tail);
	ev_conn(f, SA_EV_CONN_OPEN, fd, 1, SA_ROLE_SERVER, 0, 0, 1);
	for (off = 0; off < len; off += 4096) {
		uint32_t n = len - off < 4096 ? len - off : 4096;

		if (!(lose_middle && off == 4096))
			ev_data(f, fd, 1, SA_DIR_INGRESS, off, stream + off, n, n, 2);
	}
	ev_data(f, fd, 1, SA_DIR_EGRESS, 0, resp, 0, 0, 3);
	ev_conn(f, SA_EV_CONN_CLOSE, fd, 1, SA_ROLE_SERVER, strlen(resp), len, 4);
	free(stream);
}

static void test_chunked_syscall(void **state)
{
	struct fixture *f = *state;
	const char *r;

	chunked_recv(f, 5, false);
	chunked_recv(f, 6, true);
	finish(f);
	assert_non_null(find(f, 0, "\"id\":\"100:5:1\"", "\"target\":\"/admin/users/42\""));
	assert_non_null(find(f, 0, "\"id\":\"100:6:1\"", "\"target\":\"/admin/users/42\""));
	r = find(f, 0, "\"id\":\"100:5:1\"", "\"target\":\"/innocent\"");
	assert_non_null(r);
	assert_null(strstr(r, "lost_bytes"));
	r = find(f, 0, "\"id\":\"100:6:1\"", "\"target\":\"/innocent\"");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"body_bytes\":10000"));
	assert_non_null(strstr(r, "\"lost_bytes\":4096"));
	r = find(f, 0, "\"counter\":\"stream_gap_bytes\"", NULL);
	assert_non_null(r);
	assert_non_null(strstr(r, "\"count\":4096"));
	assert_int_equal(count(f, "\"method\":\"DELETE\""), 2);
	assert_int_equal(count(f, "no_request"), 0);
}

/*
 * A connection's first event (a POST's head and the start of its body) was
 * lost: the next event, the rest of the body, starts no message. It is held
 * back, not taken for a raw stream; the GET after it is recorded as HTTP.
 */
static void test_first_event_lost(void **state)
{
	static const char post[] = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n"
				   "0123456789abcdefghij0123456789";
	struct fixture *f = *state;
	size_t cut = strlen(post) - 10, end = strlen(post);

	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 5, 1, SA_DIR_INGRESS, cut, post + cut, 0, 0, 2);
	ev_data(f, 5, 1, SA_DIR_INGRESS, end, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n", 0, 0, 3);
	ev_data(f, 5, 1, SA_DIR_EGRESS, 0, OK_5, 0, 0, 4);
	ev_data(f, 5, 1, SA_DIR_EGRESS, strlen(OK_5), OK_5, 0, 0, 5);
	finish(f);
	assert_non_null(find(f, 0, "\"proto\":\"http\"", "\"target\":\"/b\""));
	assert_int_equal(count(f, "\"proto\":\"raw\""), 0);
	assert_non_null(find(f, 0, "\"counter\":\"stream_gap_bytes\"", "\"count\":"));
}

static void test_fd_reuse_closes_old_generation(void **state)
{
	struct fixture *f = *state;

	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 5, 1, SA_DIR_INGRESS, 0, GET_A, 0, 0, 2);
	/* fd 5 is another socket now (close not seen): gen 2 */
	ev_conn(f, SA_EV_CONN_OPEN, 5, 2, SA_ROLE_SERVER, 0, 0, 3);
	ev_data(f, 5, 2, SA_DIR_INGRESS, 0, "GET /new HTTP/1.1\r\n\r\n", 0, 0, 4);
	ev_data(f, 5, 2, SA_DIR_EGRESS, 0, OK_5, 0, 0, 5);
	finish(f);
	assert_non_null(find(f, 0, "\"id\":\"100:5:1\"", "\"outcome\":\"conn_closed\""));
	assert_non_null(find(f, 0, "\"id\":\"100:5:2\"", "\"target\":\"/new\""));
	assert_null(find(f, 0, "\"id\":\"100:5:1\"", "\"status\":200"));
}

static void test_close_with_pending_and_tail_gap(void **state)
{
	struct fixture *f = *state;
	const char *r;

	ev_conn(f, SA_EV_CONN_OPEN, 6, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 6, 1, SA_DIR_INGRESS, 0, GET_A, 0, 0, 2);
	/* the kernel counted 7 more received bytes than we saw */
	ev_conn(f, SA_EV_CONN_CLOSE, 6, 1, SA_ROLE_SERVER, 0, strlen(GET_A) + 7, 3);
	finish(f);
	r = find(f, 0, "\"type\":\"exchange\"", NULL);
	assert_non_null(r);
	assert_non_null(strstr(r, "\"outcome\":\"conn_closed\""));
	r = find(f, 0, "\"counter\":\"stream_gap_bytes\"", NULL);
	assert_non_null(r);
	assert_non_null(strstr(r, "\"count\":7"));
}

static void test_proc_exit_and_shutdown(void **state)
{
	struct fixture *f = *state;
	struct sa_proc_event pe = { 0 };

	ev_conn(f, SA_EV_CONN_OPEN, 7, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 7, 1, SA_DIR_INGRESS, 0, GET_A, 0, 0, 2);
	fill_hdr(&pe.hdr, SA_EV_PROC_EXIT, 100, 3, sizeof(pe));
	assert_int_equal(pipeline__event(f->pl, &pe, sizeof(pe)), 0);
	ev_conn(f, SA_EV_CONN_OPEN, 8, 2, SA_ROLE_CLIENT, 0, 0, 4);
	ev_data(f, 8, 2, SA_DIR_EGRESS, 0, GET_A, 0, 0, 5);
	finish(f);
	assert_non_null(find(f, 0, "\"id\":\"100:7:1\"", "\"outcome\":\"proc_exit\""));
	assert_non_null(find(f, 0, "\"id\":\"100:8:2\"", "\"outcome\":\"shutdown\""));
	assert_non_null(find(f, 0, "\"role\":\"client\"", NULL));
}

static void test_invalid_and_reordered_events(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[sizeof(struct sa_data_event) + 8] = { 0 };
	struct sa_data_event *ev = (struct sa_data_event *)buf;
	const char *r;

	fill_hdr(&ev->hdr, SA_EV_DATA, 100, 1, sizeof(buf));
	ev->cap_len = 8;
	ev->orig_len = 4;	/* captured more than moved: invalid */
	pipeline__event(f->pl, buf, sizeof(buf));
	ev->orig_len = 8;
	pipeline__event(f->pl, buf, sizeof(buf) - 1);	/* size mismatch */
	ev->hdr.type = 99;
	pipeline__event(f->pl, buf, sizeof(buf));
	pipeline__event(f->pl, buf, 3);

	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 5, 1, SA_DIR_INGRESS, 0, GET_A, 0, 0, 2);
	ev_data(f, 5, 1, SA_DIR_INGRESS, 4, "/a H", 0, 0, 3);	/* already seen */
	ev_data(f, 5, 1, SA_DIR_EGRESS, 0, OK_5, 0, 0, 4);
	finish(f);
	r = find(f, 0, "\"counter\":\"invalid_events\"", NULL);
	assert_non_null(r);
	assert_non_null(strstr(r, "\"count\":4"));
	assert_non_null(find(f, 0, "\"counter\":\"reordered_events\"", NULL));
	assert_int_equal(count(f, "\"type\":\"exchange\""), 1);
}

static void test_keepalive_many(void **state)
{
	struct fixture *f = *state;
	uint64_t in = 0, out = 0;
	int i;

	ev_conn(f, SA_EV_CONN_OPEN, 9, 1, SA_ROLE_SERVER, 0, 0, 1);
	for (i = 0; i < 200; i++) {
		char req[64];

		snprintf(req, sizeof(req), "GET /r%d HTTP/1.1\r\n\r\n", i);
		ev_data(f, 9, 1, SA_DIR_INGRESS, in, req, 0, 0, 10 + 2 * i);
		in += strlen(req);
		ev_data(f, 9, 1, SA_DIR_EGRESS, out, OK_5, 0, 0, 11 + 2 * i);
		out += strlen(OK_5);
	}
	finish(f);
	assert_int_equal(count(f, "\"outcome\":\"ok\""), 200);
	assert_non_null(find(f, 0, "\"target\":\"/r199\"", NULL));
}

static void test_raw_protocol(void **state)
{
	struct fixture *f = *state;
	const char *r;

	ev_conn(f, SA_EV_CONN_OPEN, 10, 1, SA_ROLE_CLIENT, 0, 0, 1);
	ev_data(f, 10, 1, SA_DIR_EGRESS, 0, "PING 1\n", 0, 0, 2);
	ev_data(f, 10, 1, SA_DIR_INGRESS, 0, "PONG 1\n", 0, 0, 3);
	ev_data(f, 10, 1, SA_DIR_EGRESS, 7, "PING 2\n", 0, 0, 4);
	ev_conn(f, SA_EV_CONN_CLOSE, 10, 1, SA_ROLE_CLIENT, 14, 7, 5);
	finish(f);
	assert_int_equal(count(f, "\"proto\":\"raw\""), 2);
	r = find(f, 0, "\"proto\":\"raw\"", "\"outcome\":\"ok\"");
	assert_non_null(r);
	/* LF is a C0 control: the sanitizer writes it as the text \x0a */
	assert_non_null(strstr(r, "PONG 1\\\\x0a"));
	assert_non_null(find(f, 0, "PING 2", "\"outcome\":\"conn_closed\""));
}

static void test_unknown_role_inferred(void **state)
{
	struct fixture *f = *state;

	/* a socket that existed before the collector: role unknown */
	ev_conn(f, SA_EV_CONN_OPEN, 11, 1, SA_ROLE_UNKNOWN, 0, 0, 1);
	ev_data(f, 11, 1, SA_DIR_EGRESS, 0, GET_A, 0, 0, 2);
	ev_data(f, 11, 1, SA_DIR_INGRESS, 0, OK_5, 0, 0, 3);
	finish(f);
	assert_non_null(find(f, 0, "\"role\":\"client\"", "\"status\":200"));
}

static void test_ttl_expiry_record(void **state)
{
	struct fixture *f = *state;

	ev_conn(f, SA_EV_CONN_OPEN, 12, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 12, 1, SA_DIR_INGRESS, 0, GET_A, 0, 0, 1000);
	pipeline__tick(f->pl, 1000 + 1000000000ULL);
	finish(f);
	assert_non_null(find(f, 0, "\"outcome\":\"no_response\"", "\"target\":\"/a\""));
	assert_null(find(f, 0, "\"outcome\":\"shutdown\"", NULL));
}

static void test_jsonrpc_stream(void **state)
{
	struct fixture *f = *state;
	const char *a = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"t1\"}}\n"
			"{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"tools/list\"}\n";
	const char *b = "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"result\":{}}\n"
			"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n"
			"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":\"boom\"}}\n";

	ev_conn(f, SA_EV_CONN_OPEN, 20, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 20, 1, SA_DIR_INGRESS, 0, a, 0, 0, 1000);
	ev_data(f, 20, 1, SA_DIR_EGRESS, 0, b, 0, 0, 3000);
	finish(f);
	assert_non_null(find(f, 0, "\"proto\":\"jsonrpc\"", "\"method\":\"tools/list\",\"id\":\"\\\"x\\\"\""));
	assert_non_null(find(f, 0, "\"tool\":\"t1\"", "\"outcome\":\"error\""));
	/* a JSON-RPC error is critical: hybrid sinks sync it at once */
	assert_non_null(find(f, 0, "\"outcome\":\"error\"", "\"critical\":true"));
	assert_null(find(f, 0, "\"tools/list\"", "\"critical\":true"));
	assert_non_null(find(f, 0, "\"code\":-32000", "\"message\":\"boom\""));
	assert_non_null(find(f, 0, "\"outcome\":\"notification\"", "notifications/progress"));
	assert_int_equal(count(f, "\"type\":\"exchange\""), 3);
}

/* stdin and stdout pipes of one process are one stream, in either order of opening */
static void test_stdio_merged(void **state)
{
	struct fixture *f = *state;
	struct sa_conn_event ev = { 0 };
	const char *req = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"initialize\"}\n";
	const char *resp = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n";
	uint8_t buf[sizeof(struct sa_data_event) + 128];
	struct sa_data_event *d = (struct sa_data_event *)buf;
	int i;

	for (i = 0; i < 2; i++) {
		const char *s = i ? resp : req;

		memset(buf, 0, sizeof(buf));
		fill_hdr(&d->hdr, SA_EV_DATA, 100, 10 + i, sizeof(*d) + strlen(s));
		d->fd = i;			/* read on stdin, write on stdout */
		d->gen = 40 + i;		/* each pipe its own generation */
		d->dir = i ? SA_DIR_EGRESS : SA_DIR_INGRESS;
		d->orig_len = d->cap_len = strlen(s);
		d->flags = SA_DATA_F_PIPE;
		memcpy(buf + sizeof(*d), s, strlen(s));
		assert_int_equal(pipeline__event(f->pl, buf, sizeof(*d) + strlen(s)), 0);
	}
	fill_hdr(&ev.hdr, SA_EV_CONN_CLOSE, 100, 20, sizeof(ev));
	ev.transport = SA_TRANSPORT_PIPE;
	ev.fd = 1;
	ev.gen = 41;
	ev.sent = strlen(resp);
	assert_int_equal(pipeline__event(f->pl, &ev, sizeof(ev)), 0);
	finish(f);
	assert_non_null(find(f, 0, "\"id\":\"100:stdio\"", "\"method\":\"initialize\""));
	assert_non_null(find(f, 0, "\"transport\":\"pipe\"", "\"outcome\":\"ok\""));
	assert_int_equal(count(f, "\"type\":\"exchange\""), 1);
}

/* A conn open of any process and transport; peer_ino: a socketpair's other end. */
static void ev_open_sock(struct fixture *f, uint32_t tgid, int fd, uint32_t gen, int tr,
			 uint64_t ino, uint64_t peer_ino)
{
	struct sa_conn_event ev = { 0 };

	fill_hdr(&ev.hdr, SA_EV_CONN_OPEN, tgid, gen, sizeof(ev));
	ev.fd = fd;
	ev.gen = gen;
	ev.transport = tr;
	ev.inode = ino;
	ev.local.family = ev.peer.family = tr == SA_TRANSPORT_TCP ? 2 : 1;	/* AF_INET, AF_UNIX */
	memcpy(ev.peer.addr, &peer_ino, sizeof(peer_ino));
	assert_int_equal(pipeline__event(f->pl, &ev, sizeof(ev)), 0);
}

/* A data event of any process; flags SA_DATA_F_PIPE for stdio. */
static void ev_data_of(struct fixture *f, uint32_t tgid, int fd, uint32_t gen, int dir,
		       const char *s, uint8_t flags, uint64_t ts)
{
	uint8_t buf[sizeof(struct sa_data_event) + 256];
	struct sa_data_event *d = (struct sa_data_event *)buf;

	memset(buf, 0, sizeof(buf));
	fill_hdr(&d->hdr, SA_EV_DATA, tgid, ts, sizeof(*d) + strlen(s));
	d->fd = fd;
	d->gen = gen;
	d->dir = dir;
	d->orig_len = d->cap_len = strlen(s);
	d->flags = flags;
	memcpy(buf + sizeof(*d), s, strlen(s));
	assert_int_equal(pipeline__event(f->pl, buf, sizeof(*d) + strlen(s)), 0);
}

static const char RPC_REQ[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"t\"}}\n";
static const char RPC_RESP[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n";

/* A socket opened by a process, and one message moved on it (gen doubles as the time). */
struct sock_step {
	uint32_t tgid;
	int fd;
	uint32_t gen;
	int tr;
	uint64_t ino, peer_ino;
	int dir;
	const char *msg;
};

static void run_steps(struct fixture *f, const struct sock_step *st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t flags = st[i].tr == SA_TRANSPORT_PIPE ? SA_DATA_F_PIPE : 0;

		ev_open_sock(f, st[i].tgid, st[i].fd, st[i].gen, st[i].tr, st[i].ino, st[i].peer_ino);
		ev_data_of(f, st[i].tgid, st[i].fd, st[i].gen, st[i].dir, st[i].msg, flags,
			   10 + st[i].gen);
	}
}

/*
 * A host (200) and its server (100) on socketpairs, both audited: the host
 * writes before the server's stdin is seen, reads after its stdout is. One
 * record, at the server's stdio; the host's bytes counted.
 */
static void test_host_end_counted(void **state)
{
	static const struct sock_step st[] = {
		{ 200, 9, 1, SA_TRANSPORT_UNIX, 601, 500, SA_DIR_EGRESS, RPC_REQ },
		{ 100, 0, 2, SA_TRANSPORT_PIPE, 500, 601, SA_DIR_INGRESS, RPC_REQ },
		{ 100, 1, 3, SA_TRANSPORT_PIPE, 501, 602, SA_DIR_EGRESS, RPC_RESP },
		{ 200, 10, 4, SA_TRANSPORT_UNIX, 602, 501, SA_DIR_INGRESS, RPC_RESP },
		/* a socketpair whose other end is no target's stdio is a connection as ever */
		{ 200, 11, 5, SA_TRANSPORT_UNIX, 700, 701, SA_DIR_EGRESS, RPC_REQ },
	};
	struct fixture *f = *state;
	char want[64];

	run_steps(f, st, sizeof(st) / sizeof(st[0]));
	finish(f);
	assert_non_null(find(f, 0, "\"id\":\"100:stdio\"", "\"outcome\":\"ok\""));
	assert_non_null(find(f, 0, "\"local\":\"socketpair:stdin\"", "\"peer\":\"socketpair:stdout\""));
	assert_non_null(find(f, 0, "\"id\":\"200:11:5\"", "\"tools/call\""));
	assert_null(find(f, 0, "\"id\":\"200:9:1\"", "\"tools/call\""));
	assert_null(find(f, 0, "\"id\":\"200:10:4\"", "\"tools/call\""));
	assert_int_equal(count(f, "\"type\":\"exchange\""), 2);
	snprintf(want, sizeof(want), "\"count\":%zu", strlen(RPC_REQ) + strlen(RPC_RESP));
	assert_non_null(find(f, 0, "\"counter\":\"stdio_host_end_bytes\"", want));
}

/* inetd-style: one TCP socket on fd 0 and fd 1 is one connection; another socket is not. */
static void test_inetd_one_socket(void **state)
{
	static const struct sock_step st[] = {
		{ 100, 0, 5, SA_TRANSPORT_TCP, 77, 0, SA_DIR_INGRESS, RPC_REQ },
		{ 100, 1, 6, SA_TRANSPORT_TCP, 77, 0, SA_DIR_EGRESS, RPC_RESP },
		/* a later process: fd 1 is another socket than fd 0 */
		{ 101, 0, 7, SA_TRANSPORT_TCP, 80, 0, SA_DIR_INGRESS, RPC_REQ },
		{ 101, 1, 8, SA_TRANSPORT_TCP, 81, 0, SA_DIR_EGRESS, RPC_RESP },
	};
	struct fixture *f = *state;

	run_steps(f, st, sizeof(st) / sizeof(st[0]));
	finish(f);
	assert_non_null(find(f, 0, "\"id\":\"100:0:5\"", "\"outcome\":\"ok\""));
	assert_null(find(f, 0, "\"id\":\"100:1:6\"", "\"outcome\""));
	assert_non_null(find(f, 0, "\"id\":\"101:1:8\"", "\"outcome\":\"no_request\""));
	assert_int_equal(count(f, "\"type\":\"exchange\""), 3);
}

static void test_max_connections_and_idle(void **state)
{
	struct fixture *f = *state;
	struct pipeline_opts o = { .ttl_ns = 1000000000ULL, .body_excerpt = 64,
				   .max_connections = 2, .idle_ns = 5000 };
	int fd;

	pipeline__free(f->pl);
	f->pl = pipeline__new(&o, f->sink);
	assert_non_null(f->pl);
	for (fd = 30; fd < 33; fd++) {
		ev_conn(f, SA_EV_CONN_OPEN, fd, fd, SA_ROLE_SERVER, 0, 0, fd);
		ev_data(f, fd, fd, SA_DIR_INGRESS, 0, GET_A, 0, 0, 100 + fd);
	}
	/* a third connection evicted the least recently active one, fd 30 */
	assert_int_equal(pipeline__counters(f->pl)[PL_EVICTED_CONNS], 1);
	pipeline__tick(f->pl, 200);
	assert_int_equal(pipeline__counters(f->pl)[PL_EVICTED_CONNS], 1);
	/* idle past 5 us: the other two are freed */
	pipeline__tick(f->pl, 6000);
	finish(f);
	assert_non_null(find(f, 0, "\"id\":\"100:30:30\"", "\"outcome\":\"evicted\""));
	assert_non_null(find(f, 0, "\"counter\":\"evicted_connections\"", NULL));
	assert_int_equal(count(f, "\"type\":\"exchange\""), 3);
}

static void test_websocket_upgrade_goes_raw(void **state)
{
	struct fixture *f = *state;
	const char *up = "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
	const char *sw = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";

	ev_conn(f, SA_EV_CONN_OPEN, 40, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 40, 1, SA_DIR_INGRESS, 0, up, 0, 0, 2);
	ev_data(f, 40, 1, SA_DIR_EGRESS, 0, sw, 0, 0, 3);
	ev_data(f, 40, 1, SA_DIR_INGRESS, strlen(up), "\x81\x05hello", 0, 0, 4);
	ev_data(f, 40, 1, SA_DIR_EGRESS, strlen(sw), "\x81\x05world", 0, 0, 5);
	finish(f);
	assert_non_null(find(f, 0, "\"status\":101", "\"target\":\"/ws\""));
	assert_non_null(find(f, 0, "\"proto\":\"raw\"", "world"));
	assert_null(find(f, 0, "\"counter\":\"unparsed_bytes\"", NULL));
}

static void test_pending_bound(void **state)
{
	struct fixture *f = *state;
	struct pipeline_opts o = { .ttl_ns = 1000000000ULL, .body_excerpt = 64,
				   .max_pending_per_conn = 3 };
	uint64_t pos = 0;
	int i;

	pipeline__free(f->pl);
	f->pl = pipeline__new(&o, f->sink);
	ev_conn(f, SA_EV_CONN_OPEN, 50, 1, SA_ROLE_SERVER, 0, 0, 1);
	for (i = 0; i < 10; i++) {
		ev_data(f, 50, 1, SA_DIR_INGRESS, pos, GET_A, 0, 0, 10 + i);
		pos += strlen(GET_A);
	}
	pipeline__tick(f->pl, 100);
	assert_int_equal(pipeline__counters(f->pl)[PL_EVICTED_REQUESTS], 7);
	finish(f);
	assert_int_equal(count(f, "\"outcome\":\"evicted\""), 7);
	assert_int_equal(count(f, "\"outcome\":\"shutdown\""), 3);
}

/* ---- issue 13: lenient HTTP, gaps ---- */

/* Like ev_data, with a length: the bytes may hold a NUL. */
static void ev_bytes(struct fixture *f, int fd, int dir, uint64_t pos, const char *b, size_t n,
		     uint64_t ts)
{
	uint8_t buf[sizeof(struct sa_data_event) + 512];
	struct sa_data_event *ev = (struct sa_data_event *)buf;

	assert_true(n <= 512);
	memset(ev, 0, sizeof(*ev));
	fill_hdr(&ev->hdr, SA_EV_DATA, 100, ts, sizeof(*ev) + n);
	ev->fd = fd;
	ev->gen = 1;
	ev->dir = dir;
	ev->pos = pos;
	ev->orig_len = ev->cap_len = n;
	memcpy(buf + sizeof(*ev), b, n);
	assert_int_equal(pipeline__event(f->pl, buf, sizeof(*ev) + n), 0);
}

struct odd_request {
	const char *head;	/* up to (not including) the blank line */
	size_t len;		/* of head; 0: strlen */
	const char *method;	/* as the record shows it */
	const char *reason;	/* "malformed", or NULL for none */
};

#define ODD(h, m, r) { h, sizeof(h) - 1, m, r }
static const struct odd_request odd_requests[] = {
	ODD("GET /t\tab HTTP/1.1", "GET", "control_char"),
	ODD("GET /t\0ab HTTP/1.1", "GET", "control_char"),
	ODD("GET /t\x01" "ab HTTP/1.1", "GET", "control_char"),
	ODD("GET /t\x1b" "ab HTTP/1.1", "GET", "control_char"),
	ODD("GET /t\x7f" "ab HTTP/1.1", "GET", "control_char"),
	ODD("GET /t\rab HTTP/1.1", "GET", "bare_cr"),
	ODD("GET /t\nab HTTP/1.1", "GET", "bare_lf"),
	ODD("GET  /tab HTTP/1.1", "GET", "whitespace"),
	ODD("GET /tab HTTP/2.0", "GET", "version"),
	ODD("GET /tab HTTP/0.9", "GET", "version"),
	ODD("ABCDEFGHIJKLMNOPQRSTUVWXYZABCD /tab HTTP/1.1", "ABCDEFGHIJKLMNOPQRSTUVW", "method_length"),
	ODD("get /tab HTTP/1.1", "get", NULL),
	ODD("POST /tab HTTP/1.1\r\nContent-Length: 1x", "POST", "content_length"),
	ODD("POST /tab HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz", "POST", "chunk_size"),
};

/*
 * One connection: [GET /a,] the odd request, DELETE /secret, each answered.
 * Every request is written with its method and target, paired with its
 * answer, and the odd one says why it is odd.
 */
static void run_odd(struct fixture *f, const struct odd_request *o, bool second, int fd)
{
	char req[256];
	uint64_t in = 0, out = 0, ts = 10;
	size_t n = o->len;

	ev_conn(f, SA_EV_CONN_OPEN, fd, 1, SA_ROLE_SERVER, 0, 0, 1);
	if (second) {
		ev_bytes(f, fd, SA_DIR_INGRESS, in, GET_A, strlen(GET_A), ts++);
		in += strlen(GET_A);
		ev_bytes(f, fd, SA_DIR_EGRESS, out, OK_5, strlen(OK_5), ts++);
		out += strlen(OK_5);
	}
	memcpy(req, o->head, n);
	memcpy(req + n, "\r\n\r\n", 4);
	ev_bytes(f, fd, SA_DIR_INGRESS, in, req, n + 4, ts++);
	in += n + 4;
	ev_bytes(f, fd, SA_DIR_EGRESS, out, OK_5, strlen(OK_5), ts++);
	out += strlen(OK_5);
	ev_bytes(f, fd, SA_DIR_INGRESS, in, "DELETE /secret HTTP/1.1\r\n\r\n", 27, ts++);
	ev_bytes(f, fd, SA_DIR_EGRESS, out, OK_5, strlen(OK_5), ts++);
	ev_conn(f, SA_EV_CONN_CLOSE, fd, 1, SA_ROLE_SERVER, out + strlen(OK_5), in + 27, ts++);
}

static void check_odd(struct fixture *f, const struct odd_request *o, bool second, int fd)
{
	char id[32], method[64], reason[64];
	int i, n = 0, want = second ? 3 : 2;

	snprintf(id, sizeof(id), "\"id\":\"100:%d:1\"", fd);
	snprintf(method, sizeof(method), "\"method\":\"%s\"", o->method);
	snprintf(reason, sizeof(reason), "\"malformed\":\"%s\"", o->reason ? o->reason : "");
	for (i = 0; i < f->nlines; i++) {
		const char *l = f->lines[i];

		if (!strstr(l, id))
			continue;
		n++;
		assert_non_null(strstr(l, "\"proto\":\"http\""));
		assert_non_null(strstr(l, "\"outcome\":\"ok\""));
		assert_non_null(strstr(l, "\"status\":200"));
	}
	assert_int_equal(n, want);
	if (second)
		assert_non_null(find(f, 0, id, "\"target\":\"/a\""));
	assert_non_null(find(f, 0, id, "\"target\":\"/secret\""));
	assert_non_null(find(f, 0, id, method));
	if (o->reason)
		assert_non_null(find(f, 0, id, reason));
	else
		assert_null(find(f, 0, id, "\"malformed\""));
}

static void test_odd_requests_first_and_second(void **state)
{
	struct fixture *f = *state;
	size_t i, n = sizeof(odd_requests) / sizeof(odd_requests[0]);

	for (i = 0; i < n; i++) {
		run_odd(f, &odd_requests[i], false, 100 + (int)i);
		run_odd(f, &odd_requests[i], true, 200 + (int)i);
	}
	finish(f);
	for (i = 0; i < n; i++) {
		check_odd(f, &odd_requests[i], false, 100 + (int)i);
		check_odd(f, &odd_requests[i], true, 200 + (int)i);
	}
	assert_int_equal(count(f, "\"outcome\":\"no_request\""), 0);
}

/*
 * A request event lost (ring buffer full): its answer pairs with a
 * placeholder that says what was lost, not with the next request, and is
 * not a bare no_request; the next exchange is whole.
 */
static void test_lost_request_pairs_placeholder(void **state)
{
	struct fixture *f = *state;
	size_t q = strlen(GET_A), r = strlen(OK_5);
	const char *l;

	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1);
	ev_data(f, 5, 1, SA_DIR_INGRESS, 0, GET_A, 0, 0, 2);
	ev_data(f, 5, 1, SA_DIR_EGRESS, 0, OK_5, 0, 0, 3);
	/* the second request's event was dropped */
	ev_data(f, 5, 1, SA_DIR_EGRESS, r, OK_5, 0, 0, 5);
	ev_data(f, 5, 1, SA_DIR_INGRESS, 2 * q, "GET /c HTTP/1.1\r\n\r\n", 0, 0, 6);
	ev_data(f, 5, 1, SA_DIR_EGRESS, 2 * r, OK_5, 0, 0, 7);
	/* and the fourth's answer */
	ev_data(f, 5, 1, SA_DIR_INGRESS, 2 * q + 19, "GET /d HTTP/1.1\r\n\r\n", 0, 0, 8);
	ev_data(f, 5, 1, SA_DIR_INGRESS, 2 * q + 38, "GET /e HTTP/1.1\r\n\r\n", 0, 0, 9);
	ev_data(f, 5, 1, SA_DIR_EGRESS, 4 * r, OK_5, 0, 0, 10);
	finish(f);
	assert_int_equal(count(f, "\"type\":\"exchange\""), 5);
	assert_int_equal(count(f, "\"outcome\":\"no_request\""), 0);
	l = find(f, 0, "\"outcome\":\"incomplete\"", "\"lost_bytes\":28");
	assert_non_null(l);
	assert_non_null(strstr(l, "\"status\":200"));
	assert_non_null(find(f, 0, "\"target\":\"/c\"", "\"outcome\":\"ok\""));
	l = find(f, 0, "\"target\":\"/d\"", NULL);
	assert_non_null(strstr(l, "\"outcome\":\"incomplete\""));
	assert_non_null(strstr(l, "\"lost_bytes\":43"));
	assert_non_null(find(f, 0, "\"target\":\"/e\"", "\"outcome\":\"ok\""));
}

/* ---- TLS plaintext streams (user/tls.c) ---- */

/* Plaintext of one SSL call of ssl on thread tid, from enter to ts. */
static void ev_tls(struct fixture *f, uint64_t ssl, uint32_t tid, int dir, uint64_t pos,
		   const char *s, uint8_t func, uint8_t flags, uint64_t enter, uint64_t ts)
{
	uint8_t buf[sizeof(struct sa_tls_event) + 4096];
	struct sa_tls_event *ev = (struct sa_tls_event *)buf;
	size_t len = s ? strlen(s) : 0;

	memset(ev, 0, sizeof(*ev));
	fill_hdr(&ev->hdr, SA_EV_TLS_DATA, 100, ts, sizeof(*ev) + len);
	ev->hdr.pid = tid;
	ev->ssl = ssl;
	ev->pos = pos;
	ev->enter_ns = enter;
	ev->orig_len = ev->cap_len = len;
	ev->dir = dir;
	ev->func = func;
	ev->flags = flags;
	memcpy(buf + sizeof(*ev), s ? s : "", len);
	assert_int_equal(pipeline__event(f->pl, buf, sizeof(*ev) + len), 0);
}

/* A ciphertext record on a socket: header, then 16 bytes made from seed. */
static void ev_record(struct fixture *f, int fd, uint32_t tid, int dir, uint64_t pos, uint8_t seed,
		      uint64_t ts)
{
	uint8_t buf[sizeof(struct sa_data_event) + 5 + 32];
	struct sa_data_event *ev = (struct sa_data_event *)buf;
	uint8_t *rec = buf + sizeof(*ev);

	memset(buf, 0, sizeof(buf));
	fill_hdr(&ev->hdr, SA_EV_DATA, 100, ts, sizeof(buf));
	ev->hdr.pid = tid;
	ev->fd = fd;
	ev->gen = 1;
	ev->dir = dir;
	ev->pos = pos;
	ev->orig_len = ev->cap_len = 5 + 32;
	rec[0] = 23, rec[1] = 3, rec[2] = 3, rec[4] = 32;
	for (int i = 0; i < 32; i++)
		rec[5 + i] = seed + i * 7;
	assert_int_equal(pipeline__event(f->pl, buf, sizeof(buf)), 0);
}

/* The fingerprint a memory BIO write of ssl gives for ev_record(seed). */
static void ev_fp(struct fixture *f, uint64_t ssl, int dir, uint8_t seed, uint64_t ts)
{
	struct sa_tls_cipher_event ev = { 0 };

	fill_hdr(&ev.hdr, SA_EV_TLS_CIPHER, 100, ts, sizeof(ev));
	ev.ssl = ssl;
	ev.len = 37;
	ev.dir = dir;
	for (int i = 0; i < SA_TLS_FP_LEN; i++)
		ev.fp[i] = seed + i * 7;
	assert_int_equal(pipeline__event(f->pl, &ev, sizeof(ev)), 0);
}

static void ev_tls_free(struct fixture *f, uint64_t ssl, uint64_t ts)
{
	struct sa_tls_end_event ev = { 0 };

	fill_hdr(&ev.hdr, SA_EV_TLS_END, 100, ts, sizeof(ev));
	ev.ssl = ssl;
	ev.func = SA_TLS_FN_FREE;
	assert_int_equal(pipeline__event(f->pl, &ev, sizeof(ev)), 0);
}

/*
 * BIO-socket: the ClientHello read inside SSL_do_handshake ties the SSL*
 * to fd 5 before any ciphertext is parsed; the plaintext is the exchange,
 * tls true, and no raw ciphertext record is written.
 */
static void test_tls_tied_by_syscall(void **state)
{
	struct fixture *f = *state;
	const char *r;

	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1000);
	ev_tls(f, 0xA0, 7, SA_DIR_EGRESS, 0, NULL, SA_TLS_FN_HANDSHAKE, SA_TLS_F_ENTRY, 2000, 2000);
	ev_record(f, 5, 7, SA_DIR_INGRESS, 0, 1, 3000);
	ev_record(f, 5, 7, SA_DIR_EGRESS, 0, 2, 4000);
	ev_tls(f, 0xA0, 7, SA_DIR_EGRESS, 0, NULL, SA_TLS_FN_HANDSHAKE, 0, 2000, 5000);
	ev_record(f, 5, 7, SA_DIR_INGRESS, 37, 3, 6000);
	ev_tls(f, 0xA0, 7, SA_DIR_INGRESS, 0, GET_A, SA_TLS_FN_READ, 0, 5500, 6500);
	ev_tls(f, 0xA0, 7, SA_DIR_EGRESS, 0, OK_5, SA_TLS_FN_WRITE, 0, 7000, 7500);
	ev_record(f, 5, 7, SA_DIR_EGRESS, 37, 4, 7200);
	ev_conn(f, SA_EV_CONN_CLOSE, 5, 1, SA_ROLE_SERVER, 74, 74, 8000);
	finish(f);
	r = find(f, 0, "\"type\":\"exchange\"", NULL);
	assert_non_null(r);
	assert_non_null(strstr(r, "\"id\":\"100:5:1\""));
	assert_non_null(strstr(r, "\"peer\":\"127.0.0.1:40005\",\"tls\":true"));
	assert_non_null(strstr(r, "\"method\":\"GET\",\"target\":\"/a\""));
	assert_non_null(strstr(r, "\"body\":\"hello\""));
	assert_int_equal(count(f, "\"type\":\"exchange\""), 1);
	assert_int_equal(count(f, "\"proto\":\"raw\""), 0);
	assert_int_equal(count(f, "\"type\":\"loss\""), 0);	/* ciphertext totals are no gap */
}

/*
 * Memory BIOs, two sessions on two sockets of one thread: each is tied by
 * its own fingerprint, never by which socket the thread used last; a
 * fingerprint both wrote is not used; a session nothing ties is written
 * with the socket unknown at SSL_free.
 */
static void test_tls_fingerprints_no_crosstalk(void **state)
{
	struct fixture *f = *state;
	const char *a, *b, *c;

	ev_conn(f, SA_EV_CONN_OPEN, 5, 1, SA_ROLE_SERVER, 0, 0, 1000);
	ev_conn(f, SA_EV_CONN_OPEN, 6, 1, SA_ROLE_SERVER, 0, 0, 1100);
	ev_fp(f, 0xA0, SA_DIR_EGRESS, 10, 2000);	/* A's ServerHello */
	ev_fp(f, 0xB0, SA_DIR_EGRESS, 20, 2100);
	ev_fp(f, 0xA0, SA_DIR_EGRESS, 30, 2200);	/* the same bytes from A and C: */
	ev_fp(f, 0xC0, SA_DIR_EGRESS, 30, 2300);	/* ambiguous, ties neither */
	ev_record(f, 6, 1, SA_DIR_EGRESS, 0, 30, 2400);
	ev_record(f, 6, 1, SA_DIR_EGRESS, 37, 20, 2500);	/* B is fd 6 */
	ev_record(f, 5, 1, SA_DIR_EGRESS, 0, 10, 2600);		/* A is fd 5 */
	/* thread 1 read fd 6 last, yet this plaintext is A's */
	ev_record(f, 6, 1, SA_DIR_INGRESS, 0, 40, 2700);
	ev_tls(f, 0xA0, 1, SA_DIR_INGRESS, 0, GET_A, SA_TLS_FN_READ, 0, 2800, 2900);
	ev_tls(f, 0xB0, 1, SA_DIR_INGRESS, 0, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n",
	       SA_TLS_FN_READ, 0, 3000, 3100);
	ev_tls(f, 0xC0, 1, SA_DIR_INGRESS, 0, "GET /c HTTP/1.1\r\nHost: x\r\n\r\n",
	       SA_TLS_FN_READ, 0, 3200, 3300);
	ev_tls(f, 0xA0, 1, SA_DIR_EGRESS, 0, OK_5, SA_TLS_FN_WRITE, 0, 3400, 3500);
	ev_tls(f, 0xB0, 1, SA_DIR_EGRESS, 0, OK_5, SA_TLS_FN_WRITE, 0, 3600, 3700);
	ev_tls(f, 0xC0, 1, SA_DIR_EGRESS, 0, OK_5, SA_TLS_FN_WRITE, 0, 3800, 3900);
	ev_tls_free(f, 0xC0, 4000);
	finish(f);
	a = find(f, 0, "\"target\":\"/a\"", NULL);
	b = find(f, 0, "\"target\":\"/b\"", NULL);
	c = find(f, 0, "\"target\":\"/c\"", NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(strstr(a, "\"id\":\"100:5:1\""));
	assert_non_null(strstr(b, "\"id\":\"100:6:1\""));
	assert_non_null(strstr(c, "\"id\":\"100:-1000000:0\""));
	assert_non_null(strstr(c, "\"local\":\"unknown\",\"peer\":\"unknown\",\"tls\":true"));
	assert_int_equal(count(f, "\"type\":\"exchange\""), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_is_critical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_in_body_is_skipped_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_capture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked_syscall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_event_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_reuse_closes_old_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_with_pending_and_tail_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_exit_and_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_and_reordered_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_protocol, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_role_inferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ttl_expiry_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jsonrpc_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdio_merged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_end_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inetd_one_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_connections_and_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_websocket_upgrade_goes_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sinks_render_own_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_sink_one_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_requests_first_and_second, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_request_pairs_placeholder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_tied_by_syscall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_fingerprints_no_crosstalk, setup, teardown),
	};

	return cmocka_run_group_tests_name("pipeline", tests, NULL, NULL);
}
