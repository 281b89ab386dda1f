// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness for the verifier's line parser: chain__split on any
 * bytes (never reads outside the line; a split body is the line minus at
 * most the chain field), the writer-record and anchor parsers, and the
 * round trip the verifier relies on: for every format, sealing a line and
 * splitting it gives back exactly the line, with the chain value the MAC of
 * that line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct chain_crypto *cc;

static void check_split(const char *line, size_t len)
{
	struct chain_line l;
	struct verify_ctl_info c;
	uint64_t seq;
	uint8_t mac[32];

	if (!chain__split(line, len, &l)) {
		if (l.pre != line || l.pre_len + l.post_len > len || l.mid_len > 1)
			abort();
		verify__parse_ctl(l.pre, l.pre_len, &c);
	}
	verify__parse_ctl(line, len, &c);
	verify__parse_anchor(line, len, &seq, mac);
}

/* seal(line) as fmt, then split: the same bytes and the MAC of them come back. */
static void check_round_trip(enum chain_fmt fmt, const char *line, size_t len)
{
	static const uint8_t zero[32];
	struct chain_state st = { 0 };
	struct chain *c = chain__new(fmt, &st);
	char *in = malloc(len + 1), *out = NULL, *body;
	size_t cap = 0, olen = 0;
	struct chain_line l;
	uint8_t mac[32];

	if (!c || !in)
		abort();
	memcpy(in, line, len);
	in[len] = '\n';
	if (chain__seal(c, in, len + 1, &out, &cap, &olen) || !olen || out[olen - 1] != '\n' ||
	    chain__split(out, olen - 1, &l))
		abort();
	body = malloc(l.pre_len + l.mid_len + l.post_len + 1);
	memcpy(body, l.pre, l.pre_len);
	memcpy(body + l.pre_len, l.mid, l.mid_len);
	memcpy(body + l.pre_len + l.mid_len, l.post, l.post_len);
	if (l.pre_len + l.mid_len + l.post_len != len || memcmp(body, line, len))
		abort();
	if (chain__mac(cc, st.key, zero, 0, &l, mac) || memcmp(mac, l.mac, 32))
		abort();
	free(body);
	free(out);
	free(in);
	chain__free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	int f;

	if (!cc && !(cc = chain_crypto__new()))
		abort();
	check_split(line, size);
	if (memchr(data, '\n', size))
		return 0;	/* a record is one line: the writer never seals a '\n' inside one */
	for (f = CHAIN_FMT_JSON; f <= CHAIN_FMT_CSV; f++)
		check_round_trip(f, line, size);
	return 0;
}
