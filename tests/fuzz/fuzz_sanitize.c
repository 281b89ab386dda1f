// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer harness for user/sanitize.c: whatever the bytes, strip+escape
 * gives safe text (no control byte but tab, no CR/LF/ESC, no bidi, valid
 * UTF-8) within the limit, consumes input in order, and a cut keeps it
 * safe and ends with the mark. Detection never reads past the input.
 */
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t limit = size ? data[0] * 4 : 0, used, m, consumed;
	uint8_t *tmp = malloc(size + 1);
	struct jbuf out;

	if (!tmp)
		return 0;
	m = sanitize__strip(tmp, size, data, size, &used);
	if (used != size || m > size)
		abort();
	jbuf__init(&out);
	consumed = sanitize__escape(&out, tmp, m, limit);
	if (out.len > limit || consumed > m)
		abort();
	if (out.len && !sanitize__is_safe((const uint8_t *)out.buf, out.len))
		fuzz_fail("unsafe output", out.buf);
	sanitize__cut(&out, limit / 2 + SANITIZE_TRUNC_MARK_LEN);
	if (out.len && !sanitize__is_safe((const uint8_t *)out.buf, out.len))
		fuzz_fail("unsafe after cut", out.buf);
	(void)sanitize__detect(data, size, size > 3 ? (const char *)"image/png" : NULL);
	jbuf__free(&out);
	free(tmp);
	return 0;
}
