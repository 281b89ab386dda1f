// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Exchange and lifecycle records as JSON Lines. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "format_json.h"

static const char *const role_names[] = { "unknown", "server", "client" };
static const char *const proto_names[] = { "unknown", "http", "raw" };

/* The date and time of one second, kept: most records share it with the last. */
struct ts_cache {
	time_t secs;
	char text[32];		/* "2026-11-23T15:36:01." */
	size_t len;
};

static __thread struct ts_cache ts_cache = { .secs = -1 };

void format__ts(struct jbuf *jb, uint64_t real_ns)
{
	time_t secs = real_ns / 1000000000ULL;
	uint32_t frac = real_ns % 1000000000ULL;
	char buf[48];
	int i;

	if (secs != ts_cache.secs) {
		struct tm tm;

		gmtime_r(&secs, &tm);
		ts_cache.len = strftime(ts_cache.text, sizeof(ts_cache.text),
					"%Y-%m-%dT%H:%M:%S.", &tm);
		ts_cache.secs = secs;
	}
	memcpy(buf, ts_cache.text, ts_cache.len);
	for (i = 8; i >= 0; i--, frac /= 10)
		buf[ts_cache.len + i] = '0' + frac % 10;
	buf[ts_cache.len + 9] = 'Z';
	jbuf__str(jb, (const uint8_t *)buf, ts_cache.len + 10);
}

void format__begin(struct jbuf *jb, uint64_t seq, uint64_t real_ns, const char *type)
{
	jbuf__obj_open(jb);
	JBUF_KEY(jb, "v");
	jbuf__u64(jb, RECORD_VERSION);
	JBUF_KEY(jb, "seq");
	jbuf__u64(jb, seq);
	JBUF_KEY(jb, "ts");
	format__ts(jb, real_ns);
	JBUF_KEY(jb, "type");
	jbuf__cstr(jb, type);
}

void format__end(struct jbuf *jb)
{
	jbuf__obj_close(jb);
	jbuf__raw(jb, "\n", 1);
}

bool exchange__critical(const struct exchange *x)
{
	return x->resp && (x->resp->m.status == 401 || x->resp->m.status == 403);
}

static void put_proc(struct jbuf *jb, const struct exchange *x, const struct proc_info *pi)
{
	const struct conn *c = x->conn;
	const struct msg_copy *m = x->req ? x->req : x->resp;

	JBUF_KEY(jb, "proc");
	jbuf__obj_open(jb);
	JBUF_KEY(jb, "pid");
	jbuf__u64(jb, c->tgid);
	JBUF_KEY(jb, "tid");
	jbuf__u64(jb, m ? m->tid : c->tid);
	JBUF_KEY(jb, "comm");
	jbuf__str(jb, (const uint8_t *)c->comm, strnlen(c->comm, sizeof(c->comm)));
	JBUF_KEY(jb, "exe");
	if (pi && pi->exe[0])
		jbuf__cstr(jb, pi->exe);
	else
		jbuf__null(jb);
	JBUF_KEY(jb, "uid");
	jbuf__u64(jb, c->uid);
	jbuf__obj_close(jb);
}

static void put_conn(struct jbuf *jb, const struct conn *c)
{
	JBUF_KEY(jb, "conn");
	jbuf__obj_open(jb);
	JBUF_KEY(jb, "id");
	jbuf__cstr(jb, c->names.id);
	JBUF_KEY(jb, "role");
	jbuf__cstr(jb, role_names[c->role <= SA_ROLE_CLIENT ? c->role : 0]);
	JBUF_KEY(jb, "transport");
	jbuf__cstr(jb, c->transport == SA_TRANSPORT_UNIX ? "unix" : "tcp");
	JBUF_KEY(jb, "local");
	jbuf__cstr(jb, c->names.local);
	JBUF_KEY(jb, "peer");
	jbuf__cstr(jb, c->names.peer);
	JBUF_KEY(jb, "tls");
	jbuf__bool(jb, false);
	jbuf__obj_close(jb);
}

static void put_opt_str(struct jbuf *jb, const char *key, const char *s)
{
	if (!s[0])
		return;
	jbuf__key(jb, key);
	jbuf__cstr(jb, s);
}

/* Members common to both sides: time, sizes, excerpt, completeness. */
static void put_side_common(struct jbuf *jb, const struct http_msg *m, int64_t off)
{
	JBUF_KEY(jb, "ts");
	format__ts(jb, m->ts_first_ns + off);
	JBUF_KEY(jb, "version");
	jbuf__cstr(jb, m->version == 10 ? "HTTP/1.0" : "HTTP/1.1");
	put_opt_str(jb, "content_type", m->content_type);
	JBUF_KEY(jb, "bytes");
	jbuf__u64(jb, m->wire_bytes);
	JBUF_KEY(jb, "body_bytes");
	jbuf__u64(jb, m->body_bytes);
	JBUF_KEY(jb, "body");
	jbuf__str(jb, m->body, m->body_len);
	if (m->body_cut) {
		JBUF_KEY(jb, "body_truncated");
		jbuf__bool(jb, true);
	}
	if (m->lost_bytes) {
		JBUF_KEY(jb, "lost_bytes");
		jbuf__u64(jb, m->lost_bytes);
	}
	if (m->incomplete) {
		JBUF_KEY(jb, "incomplete");
		jbuf__bool(jb, true);
	}
}

static void put_request(struct jbuf *jb, const struct http_msg *m, int64_t off)
{
	JBUF_KEY(jb, "request");
	jbuf__obj_open(jb);
	JBUF_KEY(jb, "method");
	jbuf__cstr(jb, m->method);
	JBUF_KEY(jb, "target");
	jbuf__cstr(jb, m->target);
	put_opt_str(jb, "host", m->host);
	put_side_common(jb, m, off);
	jbuf__obj_close(jb);
}

static void put_response(struct jbuf *jb, const struct http_msg *m, int64_t off)
{
	JBUF_KEY(jb, "response");
	jbuf__obj_open(jb);
	JBUF_KEY(jb, "status");
	jbuf__u64(jb, m->status);
	put_opt_str(jb, "reason", m->reason);
	put_side_common(jb, m, off);
	jbuf__obj_close(jb);
}

void format__exchange(struct jbuf *jb, uint64_t seq, const struct exchange *x,
		      const struct proc_info *pi, int64_t off)
{
	const struct http_msg *req = x->req ? &x->req->m : NULL;
	const struct http_msg *resp = x->resp ? &x->resp->m : NULL;
	uint64_t ts = req ? req->ts_first_ns : resp->ts_first_ns;

	conn__name((struct conn *)x->conn);
	format__begin(jb, seq, ts + off, "exchange");
	put_proc(jb, x, pi);
	put_conn(jb, x->conn);
	JBUF_KEY(jb, "proto");
	jbuf__cstr(jb, proto_names[x->conn->proto <= PROTO_RAW ? x->conn->proto : 0]);
	JBUF_KEY(jb, "outcome");
	jbuf__cstr(jb, outcome__name(x->outcome));
	JBUF_KEY(jb, "critical");
	jbuf__bool(jb, exchange__critical(x));
	if (req && resp) {
		JBUF_KEY(jb, "duration_ms");
		jbuf__ms(jb, resp->ts_last_ns > req->ts_first_ns ?
			 resp->ts_last_ns - req->ts_first_ns : 0);
	}
	if (req)
		put_request(jb, req, off);
	if (resp)
		put_response(jb, resp, off);
	format__end(jb);
}
