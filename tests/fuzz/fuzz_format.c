// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness for every formatter: fuzzed bytes with a planted
 * secret become the request body, the response body and the target of an
 * exchange, rendered in each format with a max_message_length chosen by
 * the input; every record must be one line, valid for its format, within
 * the length cap and without the secret (fuzz_check.h). The request body
 * is an excerpt cut at a point the input chooses, followed by its
 * redaction look-ahead.
 */
#include "format.h"
#include "fuzz_check.h"
#include "../format_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const types[] = { "json_lines", "cef", "syslog", "line", "csv" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct format_opts o = {
		.max_message_length = FORMAT_MAX_MESSAGE_MIN + (size > 2 ? data[2] : 0) * 32,
	};
	static struct jbuf jb;
	struct fixture fx;
	size_t n, i, tlen;
	int which;
	uint8_t *body = fuzz_plant(data, size, &n, &which);
	/* the target, two bodies, and syslog repeats the target in MSG */
	size_t budget = 4 * secret_budget(body, n, which);

	fixture__init(&fx, body, n, body, n);
	/* the request body is an excerpt cut where the input says, with its look-ahead */
	fx.req.m.body_ahead = size > 3 && data[3] < n ? data[3] : 0;
	fx.req.m.body_len = n - fx.req.m.body_ahead;
	fx.req.m.body_cut = fx.req.m.body_ahead > 0;
	tlen = n < sizeof(fx.req.http.target) - 1 ? n : sizeof(fx.req.http.target) - 1;
	memcpy(fx.req.http.target, body, tlen);	/* may hold NULs: cut there, as http.c would */
	fx.req.http.target[tlen] = '\0';
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const struct formatter *f = formatter__find(types[i]);

		jbuf__reset(&jb);
		if (format__exchange_once(f, &jb, &o, 1, &fx.x, NULL, FIXTURE_OFF))
			continue;	/* out of memory: nothing written */
		check_record(types[i], jb.buf, jb.len, which, budget);
		if (jb.len > o.max_message_length)
			fuzz_fail("longer than max_message_length", jb.buf);
	}
	free(body);
	return 0;
}
