/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `sockaudit search [selectors] [options] [LOG|DIR|- ...]` (docs/search.md):
 * the records of json_lines logs that match. Exit 0 found, 1 nothing
 * found, 2 usage, unreadable input, or a log that failed --verify.
 */
#ifndef SOCKAUDIT_SEARCH_H
#define SOCKAUDIT_SEARCH_H

#define SEARCH_FOUND	0
#define SEARCH_NONE	1
#define SEARCH_ERROR	2

/* argv[0] is "search". */
int search__main(int argc, char **argv);

#endif /* SOCKAUDIT_SEARCH_H */
