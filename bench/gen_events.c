// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Write a synthetic raw event file (the format `sockaudit record` writes) for
 * memory and scale runs through `sockaudit replay`:
 *
 *   gen_events OUT CONNS REQUESTS_PER_CONN ANSWER(0|1) [PROTO http|jsonrpc]
 *
 * Every connection is opened, sends its requests (one event each) and, with
 * ANSWER=1, gets each answered; event times advance 1 us per event, so with
 * ANSWER=0 nothing expires during the run unless the TTL is shorter.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "recfile.h"
#include "sockaudit/events.h"

static uint64_t now_ns = 1000000000ULL;

static int put_conn(struct recfile *rf, uint32_t fd)
{
	struct sa_conn_event ev = { 0 };

	ev.hdr = (struct sa_event_hdr){ .ts_ns = now_ns += 1000, .type = SA_EV_CONN_OPEN,
					.tgid = 4242, .pid = 4242, .size = sizeof(ev) };
	memcpy(ev.hdr.comm, "synthetic", 10);
	ev.fd = fd;
	ev.gen = fd;
	ev.role = SA_ROLE_SERVER;
	ev.transport = SA_TRANSPORT_TCP;
	ev.local.family = ev.peer.family = 2;
	ev.local.addr[0] = ev.peer.addr[0] = 127;
	ev.local.addr[3] = ev.peer.addr[3] = 1;
	ev.local.port = 8080;
	ev.peer.port = 10000 + fd % 50000;
	return recfile__append(rf, &ev, sizeof(ev));
}

static int put_data(struct recfile *rf, uint32_t fd, int dir, uint64_t pos, const char *s)
{
	uint8_t buf[sizeof(struct sa_data_event) + 256];
	struct sa_data_event *ev = (struct sa_data_event *)buf;
	size_t n = strlen(s);

	memset(ev, 0, sizeof(*ev));
	ev->hdr = (struct sa_event_hdr){ .ts_ns = now_ns += 1000, .type = SA_EV_DATA,
					 .tgid = 4242, .pid = 4242,
					 .size = (uint32_t)(sizeof(*ev) + n) };
	ev->fd = fd;
	ev->gen = fd;
	ev->dir = dir;
	ev->pos = pos;
	ev->orig_len = ev->cap_len = n;
	memcpy(buf + sizeof(*ev), s, n);
	return recfile__append(rf, buf, sizeof(*ev) + n);
}

static void message(char *out, size_t len, bool jsonrpc, bool request, uint64_t i)
{
	if (jsonrpc && request)
		snprintf(out, len, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"method\":\"tools/call\","
			 "\"params\":{\"name\":\"t\"}}\n", (unsigned long long)i);
	else if (jsonrpc)
		snprintf(out, len, "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":{}}\n",
			 (unsigned long long)i);
	else if (request)
		snprintf(out, len, "GET /item/%llu HTTP/1.1\r\nHost: x\r\n\r\n",
			 (unsigned long long)i);
	else
		snprintf(out, len, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
}

int main(int argc, char **argv)
{
	uint64_t conns, per, c, i, pos[2] = { 0, 0 };
	bool answer, jsonrpc;
	struct recfile rf;
	char msg[200];

	if (argc < 5) {
		fprintf(stderr, "usage: gen_events OUT CONNS REQUESTS_PER_CONN ANSWER [http|jsonrpc]\n");
		return 2;
	}
	conns = strtoull(argv[2], NULL, 10);
	per = strtoull(argv[3], NULL, 10);
	answer = atoi(argv[4]) != 0;
	jsonrpc = argc > 5 && strcmp(argv[5], "jsonrpc") == 0;
	if (recfile__create(&rf, argv[1], 0))
		return 1;
	for (c = 0; c < conns; c++)
		if (put_conn(&rf, 3 + c))
			return 1;
	/*
	 * Round-robin over connections: all of them are open and busy at once.
	 * Every connection carries the same messages, so one running position
	 * per direction serves them all.
	 */
	for (i = 0; i < per; i++) {
		char resp[200];

		message(msg, sizeof(msg), jsonrpc, true, i);
		message(resp, sizeof(resp), jsonrpc, false, i);
		for (c = 0; c < conns; c++) {
			if (put_data(&rf, 3 + c, SA_DIR_INGRESS, pos[0], msg) ||
			    (answer && put_data(&rf, 3 + c, SA_DIR_EGRESS, pos[1], resp)))
				return 1;
		}
		pos[0] += strlen(msg);
		pos[1] += strlen(resp);
	}
	return recfile__close(&rf) ? 1 : 0;
}
