/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `sockaudit report [selectors] [--html OUT.html] [LOG|DIR|- ...]`
 * (docs/search.md): what the logs hold, summed up in constant memory.
 * Exit 0 something matched, 1 nothing, 2 error.
 */
#ifndef SOCKAUDIT_REPORT_H
#define SOCKAUDIT_REPORT_H

/* argv[0] is "report". */
int report__main(int argc, char **argv);

#endif /* SOCKAUDIT_REPORT_H */
