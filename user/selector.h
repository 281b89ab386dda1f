/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The selectors of `sockaudit search` and `sockaudit report`
 * (docs/search.md): criteria combine with AND, the values of one criterion
 * (a comma list, or the option repeated) with OR. Each criterion that has
 * one value also gives a literal the raw line must contain ("needle"), so
 * lines that cannot match are skipped with memmem before any parsing.
 */
#ifndef SOCKAUDIT_SELECTOR_H
#define SOCKAUDIT_SELECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "logrec.h"

enum sel_kind {
	SK_PID, SK_COMM, SK_EXE, SK_UID, SK_PEER, SK_LPORT, SK_TRANSPORT, SK_ROLE, SK_PROTO,
	SK_METHOD, SK_TARGET, SK_STATUS, SK_OUTCOME, SK_RPC_METHOD, SK_TOOL, SK_RPC_ERROR,
	SK_SLOWER, SK_FASTER, SK_CRITICAL, SK_REDACTED, SK_TYPE, SK_SEQ, SK_TEXT, SK_COUNTER,
	SK__N
};

struct sel_alt {
	char *s;			/* string, glob, rule name; NULL for "any" */
	int64_t lo, hi;			/* numeric range, inclusive */
	uint8_t addr[16];		/* peer: network address */
	int bits;			/* prefix length; -1: s is compared as a whole */
	int family;			/* AF_INET, AF_INET6, 0 */
};

struct sel_crit {
	enum sel_kind kind;
	struct sel_alt *alt;
	int nalt;
};

#define SEL_MAX_NEEDLES	SK__N

struct selector {
	struct sel_crit crit[SK__N];	/* one per kind used */
	int n;
	bool has_start, has_end;
	int64_t start_ns, end_ns;	/* ts in [start, end) */
	char *needle[SEL_MAX_NEEDLES];
	size_t needle_len[SEL_MAX_NEEDLES];
	int nneedles;
};

/* A selector option of the command line ("--status", "-ts", ...). */
struct sel_option {
	const char *name, *alias;
	int kind;			/* enum sel_kind, or -1 / -2 for -ts / -te */
	bool takes_arg;
	const char *help;
};

/* The option named (with its dashes), or NULL. */
const struct sel_option *selector__option(const char *name);
/* The option table, for usage texts; NULL-terminated by name. */
extern const struct sel_option selector__options[];

void selector__init(struct selector *s);
void selector__free(struct selector *s);

/*
 * Add one option's value (NULL for a flag). 0, or -EINVAL with one line in
 * err naming the option, the value and what is accepted.
 */
int selector__add(struct selector *s, const struct sel_option *o, const char *arg,
		  char *err, size_t errlen);
/* -ts / -te with the time of day in arg2 when it is one (*used2 then). */
int selector__add_time(struct selector *s, const struct sel_option *o, const char *arg,
		       const char *arg2, bool *used2, char *err, size_t errlen);
/*
 * -ts / -te: arg and optionally a time of day in arg2 (ausearch's
 * "-ts 11/23/2026 17:00:00"). *used2 says whether arg2 was taken. Times
 * without a zone are local; keywords: now, recent (10 minutes ago), today,
 * yesterday, this-week (Monday), this-month, this-year, boot.
 */
int selector__parse_time(const char *arg, const char *arg2, time_t now, int64_t *ns,
			 bool *used2, char *err, size_t errlen);
/* "250ms", "1.5s", "800us", "2m", a bare number is ms; to microseconds. */
int selector__parse_duration(const char *arg, uint64_t *us);

/*
 * argv[*i] as a selector option ("--status 5xx", "--status=5xx", "-ts DATE
 * [TIME]"): 1 taken (*i moved past its values), 0 not a selector option,
 * -EINVAL with err.
 */
int selector__parse_arg(struct selector *s, int argc, char **argv, int *i, char *err,
			size_t errlen);
void selector__usage(FILE *f);

/* Build the needles; call once after the last selector__add. */
void selector__finish(struct selector *s);

/* Can the raw line match (every needle in it)? */
static inline bool selector__prefilter(const struct selector *s, const char *line, size_t len)
{
	int i;

	for (i = 0; i < s->nneedles; i++)
		if (!memmem(line, len, s->needle[i], s->needle_len[i]))
			return false;
	return true;
}

/* Does the parsed record match every criterion? */
bool selector__match(const struct selector *s, const struct logrec *r);

#endif /* SOCKAUDIT_SELECTOR_H */
