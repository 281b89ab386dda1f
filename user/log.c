// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include "log.h"

int log_verbosity = LOG_INFO;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if ((int)lvl > log_verbosity)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one fprintf so concurrent threads never interleave within a line */
	fprintf(stderr, "sockaudit: %s: %s\n", level_names[lvl], line);
}
