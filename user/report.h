/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `sockaudit report [selectors] [--html OUT.html] [LOG|DIR|- ...]`
 * (docs/search.md): what the logs hold, summed up in constant memory.
 * Exit 0 something matched, 1 nothing, 2 error.
 */
#ifndef SOCKAUDIT_REPORT_H
#define SOCKAUDIT_REPORT_H

#include <stddef.h>

/*
 * A request target with the parts that name one item collapsed, so the
 * report groups by endpoint: the query is dropped, a path segment of digits
 * becomes {n}, a UUID, a long hex string or a long token with digits
 * becomes {id}. "/v1/items/42?x=1" -> "/v1/items/{n}". Returns the length.
 */
size_t report__normalize_target(const char *target, char *out, size_t n);

/* argv[0] is "report". */
int report__main(int argc, char **argv);

#endif /* SOCKAUDIT_REPORT_H */
