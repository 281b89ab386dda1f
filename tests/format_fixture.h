/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A hand-made exchange for the sanitize/redact/format tests and fuzzers:
 * one connection, a request and a response whose bodies the caller sets.
 */
#ifndef SOCKAUDIT_TEST_FORMAT_FIXTURE_H
#define SOCKAUDIT_TEST_FORMAT_FIXTURE_H

#include <stdio.h>
#include <string.h>
#include "correlate.h"

struct fixture {
	struct conn conn;
	struct msg_copy req, resp;
	struct exchange x;
};

static inline void fixture__init(struct fixture *fx, const void *req_body, size_t req_len,
				 const void *resp_body, size_t resp_len)
{
	memset(fx, 0, sizeof(*fx));
	fx->conn.tgid = 4451;
	fx->conn.fd = 7;
	fx->conn.gen = 3;
	fx->conn.uid = 33;
	fx->conn.role = SA_ROLE_SERVER;
	fx->conn.proto = PROTO_HTTP;
	snprintf(fx->conn.comm, sizeof(fx->conn.comm), "nginx");
	fx->conn.names.ready = true;
	snprintf(fx->conn.names.id, sizeof(fx->conn.names.id), "4451:7:3");
	snprintf(fx->conn.names.local, sizeof(fx->conn.names.local), "127.0.0.1:8080");
	snprintf(fx->conn.names.peer, sizeof(fx->conn.names.peer), "127.0.0.1:51234");

	fx->req.m.http = &fx->req.http;
	fx->resp.m.http = &fx->resp.http;
	fx->req.m.is_request = true;
	fx->req.http.version = 11;
	fx->req.m.ts_first_ns = 1000000000ULL;
	fx->req.m.ts_last_ns = 1000000000ULL;
	snprintf(fx->req.http.method, sizeof(fx->req.http.method), "POST");
	snprintf(fx->req.http.target, sizeof(fx->req.http.target), "/v1/items?id=7");
	snprintf(fx->req.http.host, sizeof(fx->req.http.host), "localhost");
	snprintf(fx->req.http.content_type, sizeof(fx->req.http.content_type), "text/plain");
	fx->req.m.body = req_body;
	fx->req.m.body_len = req_len;
	fx->req.m.body_bytes = req_len;
	fx->req.m.wire_bytes = 120 + req_len;

	fx->resp.http.version = 11;
	fx->resp.http.status = 200;
	fx->resp.m.ts_first_ns = 1000143000ULL;
	fx->resp.m.ts_last_ns = 1000143000ULL;
	snprintf(fx->resp.http.reason, sizeof(fx->resp.http.reason), "OK");
	snprintf(fx->resp.http.content_type, sizeof(fx->resp.http.content_type), "text/plain");
	fx->resp.m.body = resp_body;
	fx->resp.m.body_len = resp_len;
	fx->resp.m.body_bytes = resp_len;
	fx->resp.m.wire_bytes = 80 + resp_len;

	fx->x.conn = &fx->conn;
	fx->x.req = &fx->req;
	fx->x.resp = &fx->resp;
	fx->x.outcome = OUTCOME_OK;
}

/* 2026-11-23T15:36:01Z, minus the 1 s the fixture's event clock starts at. */
#define FIXTURE_OFF ((int64_t)1795448161000000000LL - 1000000000LL)

#endif /* SOCKAUDIT_TEST_FORMAT_FIXTURE_H */
