// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness for user/redact.c: fuzzed bytes around a planted
 * secret; after redaction the secret is gone, every marker is a rule name,
 * and the text outside the markers is what went in (nothing is lost but
 * what was replaced: the output is never longer than the input plus the
 * markers). The same text cut at a point the input chooses
 * (redactor__redact_cut, an excerpt with its look-ahead) gives a prefix
 * of the whole text's output: a secret across the cut is replaced as
 * when it is whole, and nothing after the cut is written.
 */
#include "redact.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s cut at keep: a prefix of whole, the output of all n bytes. */
static void check_cut(const struct redactor *r, const uint8_t *s, size_t n, size_t keep,
		      const struct jbuf *whole)
{
	struct jbuf cut;

	jbuf__init(&cut);
	if (redactor__redact_cut(r, s, n, keep, &cut, NULL))
		abort();
	if (cut.len > whole->len || (cut.len && memcmp(cut.buf, whole->buf, cut.len)))
		fuzz_fail("a cut text is not a prefix of the whole text's output",
			  cut.buf ? cut.buf : "");
	jbuf__free(&cut);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct redactor *r = redactor__default();
	struct redact_hits hits = { 0 };
	struct jbuf out;
	size_t n, i, marks = 0;
	int which;
	uint8_t *buf = fuzz_plant(data, size, &n, &which);

	if (!r)
		abort();
	jbuf__init(&out);
	if (redactor__redact(r, buf, n, &out, &hits))
		abort();
	/* redaction sees stripped text in the pipeline; here the raw bytes */
	if (!out.buf || count_in(out.buf, out.len, plants[which].secret) >
			count_in(data, size, plants[which].secret))
		fuzz_fail("planted secret survived", out.buf ? out.buf : "");
	if (!hits.mask)
		fuzz_fail("no rule fired", out.buf);
	for (i = 0; i < REDACT_MAX_RULES; i++)
		marks += hits.count[i] * (sizeof(REDACT_MARK_PREFIX) + REDACT_NAME_MAX);
	if (out.len > n + marks)
		fuzz_fail("output longer than input plus markers", out.buf);
	check_cut(r, buf, n, size ? n * data[size - 1] / 256 : 0, &out);
	jbuf__free(&out);
	free(buf);
	return 0;
}
