// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The connection table (conntrack.c): lookup by (tgid, fd), a new
 * generation replaces the old one (handed back as stale), the activity
 * order, growth past the first buckets, and the names made once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include "conntrack.h"

static void test_get_lookup_generation(void **state)
{
	struct conntrack *ct = conntrack__new();
	struct conn *a, *b, *stale;

	assert_non_null(ct);
	a = conntrack__get(ct, 10, 7, 1, &stale);
	assert_non_null(a);
	assert_null(stale);
	assert_ptr_equal(conntrack__get(ct, 10, 7, 1, &stale), a);	/* same generation: same conn */
	assert_ptr_equal(conntrack__lookup(ct, 10, 7), a);
	assert_null(conntrack__lookup(ct, 10, 8));
	assert_null(conntrack__lookup(ct, 11, 7));
	/* the fd now names another socket: the old conn comes back for the caller to close */
	b = conntrack__get(ct, 10, 7, 2, &stale);
	assert_ptr_equal(stale, a);
	assert_ptr_not_equal(b, a);
	assert_ptr_equal(conntrack__lookup(ct, 10, 7), b);
	assert_int_equal(conntrack__count(ct), 1);
	conntrack__release(stale);
	conntrack__free(ct);
}

/* Least recently active first; touching moves a conn to the end; growth keeps every conn. */
static void test_activity_order_and_growth(void **state)
{
	struct conntrack *ct = conntrack__new();
	struct conn *first, *stale, *c;
	int i;

	assert_non_null(ct);
	first = conntrack__get(ct, 1, 0, 0, &stale);
	for (i = 1; i < 5000; i++)
		assert_non_null(conntrack__get(ct, 1, i, 0, &stale));
	assert_int_equal(conntrack__count(ct), 5000);
	assert_ptr_equal(conntrack__oldest(ct), first);
	conntrack__touch(ct, first);
	c = conntrack__oldest(ct);
	assert_int_equal(c->fd, 1);
	for (i = 0; i < 5000; i++)
		assert_non_null(conntrack__lookup(ct, 1, i));
	conntrack__remove(ct, c);
	conntrack__release(c);
	assert_int_equal(conntrack__count(ct), 4999);
	assert_null(conntrack__lookup(ct, 1, 1));
	conntrack__free(ct);
}

static void test_names(void **state)
{
	struct conntrack *ct = conntrack__new();
	struct conn *c, *stale;

	assert_non_null(ct);
	c = conntrack__get(ct, 42, 5, 3, &stale);
	c->transport = SA_TRANSPORT_TCP;
	c->addrs_known = true;
	c->local.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", c->local.addr);
	c->local.port = 8080;
	c->peer.family = AF_INET6;
	inet_pton(AF_INET6, "::1", c->peer.addr);
	c->peer.port = 51234;
	conn__name(c);
	assert_string_equal(c->names.id, "42:5:3");
	assert_string_equal(c->names.local, "127.0.0.1:8080");
	assert_string_equal(c->names.peer, "[::1]:51234");
	c->local.port = 9;	/* named once: later exchanges reuse the names */
	conn__name(c);
	assert_string_equal(c->names.local, "127.0.0.1:8080");
	assert_string_equal(conn__transport_name(c), "tcp");
	c = conntrack__get(ct, 42, CONN_STDIO_FD, 0, &stale);
	c->transport = SA_TRANSPORT_PIPE;
	conn__name(c);
	assert_string_equal(c->names.id, "42:stdio");
	assert_string_equal(c->names.local, "pipe:stdin");
	assert_string_equal(conn__transport_name(c), "pipe");
	conntrack__free(ct);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_lookup_generation),
		cmocka_unit_test(test_activity_order_and_growth),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
