/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One json_lines record taken apart for `search` and `report`: where the
 * value of each member they look at sits in the line (docs/record-schema.md).
 * Nothing is copied or unescaped until asked; a line that is not one JSON
 * object is refused.
 */
#ifndef SOCKAUDIT_LOGREC_H
#define SOCKAUDIT_LOGREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum logrec_field {
	LF_SEQ, LF_TS, LF_TYPE, LF_PID, LF_COMM, LF_EXE, LF_UID, LF_CONN_ID, LF_ROLE,
	LF_TRANSPORT, LF_LOCAL, LF_PEER, LF_PROTO, LF_OUTCOME, LF_CRITICAL, LF_DURATION,
	LF_RPC_METHOD, LF_RPC_TOOL, LF_RPC_ERR_CODE, LF_RPC_ERR_MSG, LF_REQ_METHOD,
	LF_REQ_TARGET, LF_REQ_BODY, LF_RESP_STATUS, LF_RESP_BODY, LF_REDACTIONS,
	LF_SOURCE, LF_SINK, LF_COUNTER, LF_COUNT, LF_N
};

/* A value's text: inside the quotes for a string (still escaped), else as written. */
struct lspan {
	const char *p;
	uint32_t n;
	bool str;
};

struct logrec {
	struct lspan f[LF_N];		/* p NULL: absent (or JSON null) */
};

/* 0, or -EINVAL when the line is not one JSON object (nesting at most 8). */
int logrec__parse(const char *line, size_t len, struct logrec *r);

static inline bool logrec__has(const struct logrec *r, enum logrec_field f)
{
	return r->f[f].p != NULL;
}

/* A string value unescaped into out (NUL-terminated, cut at cap - 1); its length. */
size_t logrec__str(const struct logrec *r, enum logrec_field f, char *out, size_t cap);
/* Does the (unescaped) string value equal s? */
bool logrec__eq(const struct logrec *r, enum logrec_field f, const char *s);
/* Numbers; false when absent or not one. */
bool logrec__i64(const struct logrec *r, enum logrec_field f, int64_t *out);
bool logrec__dbl(const struct logrec *r, enum logrec_field f, double *out);
/* duration_ms as microseconds. */
bool logrec__dur_us(const struct logrec *r, uint64_t *out);
/* Does the array of strings (redactions) hold s (NULL: any element)? */
bool logrec__arr_has(const struct logrec *r, enum logrec_field f, const char *s);
/* Calls fn for each string of the array (unescaped). */
void logrec__arr_each(const struct logrec *r, enum logrec_field f,
		      void (*fn)(const char *s, void *arg), void *arg);

/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SS[.frac]Z" to ns since the epoch; 0 or -EINVAL. */
int logrec__parse_ts(const char *s, size_t n, int64_t *ns);
/* The record's ts; false when absent or unreadable. */
bool logrec__ts(const struct logrec *r, int64_t *ns);

#endif /* SOCKAUDIT_LOGREC_H */
