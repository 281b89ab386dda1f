/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The logs `search` and `report` read: each argument a log (its rotated
 * set LOG.N .. LOG), one rotated file as it is, a directory (every set in
 * it), or "-" (stdin); none: the json_lines sinks of the config (-c).
 */
#ifndef SOCKAUDIT_LOGINPUT_H
#define SOCKAUDIT_LOGINPUT_H

#include <stdbool.h>

struct loginput_set {
	char *name;		/* the log as named (LOG, or "-") */
	char **paths;		/* oldest first */
	int n;
};

struct loginput {
	struct loginput_set *set;
	int n;
	char *key_file;		/* the first sink's integrity key_file (config), or NULL */
};

/* 0, or -errno after one line on stderr naming the input and what to do. */
int loginput__resolve(struct loginput *in, char **args, int nargs, const char *config);
void loginput__free(struct loginput *in);

#endif /* SOCKAUDIT_LOGINPUT_H */
