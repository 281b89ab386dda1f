// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A small JSON walker over one record line: it notes where the members of
 * the table below sit and skips everything else. It never allocates: a
 * search reads gigabytes and parses only the lines its prefilter let through.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "logrec.h"

#define MAX_DEPTH	8
#define MAX_PATH	48

static const struct { const char *path; enum logrec_field f; } members[] = {
	{ "seq", LF_SEQ }, { "ts", LF_TS }, { "type", LF_TYPE },
	{ "proc.pid", LF_PID }, { "proc.comm", LF_COMM }, { "proc.exe", LF_EXE },
	{ "proc.uid", LF_UID }, { "conn.id", LF_CONN_ID }, { "conn.role", LF_ROLE },
	{ "conn.transport", LF_TRANSPORT }, { "conn.local", LF_LOCAL },
	{ "conn.peer", LF_PEER }, { "proto", LF_PROTO }, { "outcome", LF_OUTCOME },
	{ "critical", LF_CRITICAL }, { "duration_ms", LF_DURATION },
	{ "rpc.method", LF_RPC_METHOD }, { "rpc.tool", LF_RPC_TOOL },
	{ "rpc.error.code", LF_RPC_ERR_CODE }, { "rpc.error.message", LF_RPC_ERR_MSG },
	{ "request.method", LF_REQ_METHOD }, { "request.target", LF_REQ_TARGET },
	{ "request.body", LF_REQ_BODY }, { "response.status", LF_RESP_STATUS },
	{ "response.body", LF_RESP_BODY }, { "redactions", LF_REDACTIONS },
	{ "source", LF_SOURCE }, { "sink", LF_SINK }, { "counter", LF_COUNTER },
	{ "count", LF_COUNT },
};

struct walker {
	const char *p, *end;
	struct logrec *r;
	char path[MAX_PATH + 1];
	size_t plen;
	bool path_ok;			/* the path fits (longer ones are no member of ours) */
};

static void skip_ws(struct walker *w)
{
	while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\r' || *w->p == '\n'))
		w->p++;
}

/* At the opening quote: past the closing one. */
static int skip_string(struct walker *w)
{
	const char *p = w->p + 1;

	for (;;) {
		const char *q = memchr(p, '"', w->end - p), *b;

		if (!q)
			return -EINVAL;
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		p = q + 1;
		if (!((q - b) & 1))	/* an even run of backslashes: the quote ends it */
			break;
	}
	w->p = p;
	return 0;
}

/* The members by hash of their path: one lookup per key instead of a strcmp per member. */
#define SLOTS 128

static int8_t slot_member[SLOTS];	/* index into members + 1; 0: empty */

static uint32_t path_hash(const char *p)
{
	uint32_t h = 2166136261u;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static void slots_init(void)
{
	static bool done;
	size_t i;

	if (done)
		return;
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		uint32_t k = path_hash(members[i].path) % SLOTS;

		while (slot_member[k])
			k = (k + 1) % SLOTS;
		slot_member[k] = (int8_t)(i + 1);
	}
	done = true;
}

static void note(struct walker *w, const char *start, bool str)
{
	uint32_t k;
	int m;

	if (!w->path_ok)
		return;
	for (k = path_hash(w->path) % SLOTS; (m = slot_member[k]); k = (k + 1) % SLOTS) {
		struct lspan *f = &w->r->f[members[m - 1].f];

		if (strcmp(members[m - 1].path, w->path))
			continue;
		if (!str && w->p - start == 4 && !memcmp(start, "null", 4))
			return;
		f->p = str ? start + 1 : start;
		f->n = str ? w->p - start - 2 : w->p - start;
		f->str = str;
		return;
	}
}

/* Where a number, true, false or null ends. */
static bool scalar_end(char c)
{
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int value(struct walker *w, int depth);

static int object(struct walker *w, int depth)
{
	w->p++;
	skip_ws(w);
	if (w->p < w->end && *w->p == '}') {
		w->p++;
		return 0;
	}
	for (;;) {
		const char *k = w->p;
		size_t saved = w->plen, kl;
		bool saved_ok = w->path_ok;

		if (k >= w->end || *k != '"' || skip_string(w))
			return -EINVAL;
		kl = w->p - k - 2;
		if (w->path_ok && saved + !!saved + kl <= MAX_PATH) {
			if (saved)
				w->path[w->plen++] = '.';
			memcpy(w->path + w->plen, k + 1, kl);
			w->plen += kl;
			w->path[w->plen] = '\0';
		} else {
			w->path_ok = false;
		}
		skip_ws(w);
		if (w->p >= w->end || *w->p++ != ':')
			return -EINVAL;
		skip_ws(w);
		if (value(w, depth + 1))
			return -EINVAL;
		w->plen = saved;
		w->path[saved] = '\0';
		w->path_ok = saved_ok;
		skip_ws(w);
		if (w->p < w->end && *w->p == ',') {
			w->p++;
			skip_ws(w);
			continue;
		}
		if (w->p < w->end && *w->p == '}') {
			w->p++;
			return 0;
		}
		return -EINVAL;
	}
}

static int array(struct walker *w, int depth)
{
	bool saved_ok = w->path_ok;

	w->p++;
	w->path_ok = false;	/* elements are no members of ours; the array is */
	skip_ws(w);
	if (w->p < w->end && *w->p == ']') {
		w->p++;
		w->path_ok = saved_ok;
		return 0;
	}
	for (;;) {
		if (value(w, depth + 1))
			return -EINVAL;
		skip_ws(w);
		if (w->p < w->end && *w->p == ',') {
			w->p++;
			skip_ws(w);
			continue;
		}
		if (w->p < w->end && *w->p == ']') {
			w->p++;
			w->path_ok = saved_ok;
			return 0;
		}
		return -EINVAL;
	}
}

static int value(struct walker *w, int depth)
{
	const char *start = w->p;
	int e;

	if (depth > MAX_DEPTH || w->p >= w->end)
		return -EINVAL;
	switch (*w->p) {
	case '{':
		return object(w, depth);
	case '[':
		e = array(w, depth);
		if (!e)
			note(w, start, false);
		return e;
	case '"':
		e = skip_string(w);
		if (!e)
			note(w, start, true);
		return e;
	default:
		while (w->p < w->end && !scalar_end(*w->p))
			w->p++;
		if (w->p == start)
			return -EINVAL;
		note(w, start, false);
		return 0;
	}
}

int logrec__parse(const char *line, size_t len, struct logrec *r)
{
	struct walker w = { .p = line, .end = line + len, .r = r, .path_ok = true };

	memset(r, 0, sizeof(*r));
	slots_init();
	skip_ws(&w);
	if (w.p >= w.end || *w.p != '{' || object(&w, 0))
		return -EINVAL;
	skip_ws(&w);
	return w.p == w.end ? 0 : -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static unsigned u4(const char *p)
{
	int a = hexval(p[0]), b = hexval(p[1]), c = hexval(p[2]), d = hexval(p[3]);

	return a < 0 || b < 0 || c < 0 || d < 0 ? 0xfffd : (unsigned)(a << 12 | b << 8 | c << 4 | d);
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = 0xc0 | cp >> 6;
		o[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = 0xe0 | cp >> 12;
		o[1] = 0x80 | (cp >> 6 & 0x3f);
		o[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	o[0] = 0xf0 | cp >> 18;
	o[1] = 0x80 | (cp >> 12 & 0x3f);
	o[2] = 0x80 | (cp >> 6 & 0x3f);
	o[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* One escape at p (after the backslash) into o; how far p moved. */
static size_t unescape_one(const char *p, const char *end, char *o, size_t *olen)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k = memchr(from, *p, sizeof(from) - 1);
	unsigned cp, lo;

	if (k) {
		o[0] = to[k - from];
		*olen = 1;
		return 1;
	}
	if (*p != 'u' || end - p < 5) {
		o[0] = *p;
		*olen = 1;
		return 1;
	}
	cp = u4(p + 1);
	if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 11 && p[5] == '\\' && p[6] == 'u' &&
	    (lo = u4(p + 7)) >= 0xdc00 && lo < 0xe000) {
		*olen = put_utf8(o, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
		return 11;
	}
	*olen = put_utf8(o, cp);
	return 5;
}

static size_t unescape(const char *p, size_t n, char *out, size_t cap)
{
	const char *end = p + n;
	size_t o = 0, ol;
	char tmp[4];

	if (!cap)
		return 0;
	while (p < end && o + 1 < cap) {
		if (*p != '\\') {
			out[o++] = *p++;
			continue;
		}
		p++;
		if (p >= end)
			break;
		p += unescape_one(p, end, tmp, &ol);
		if (o + ol >= cap)
			break;
		memcpy(out + o, tmp, ol);
		o += ol;
	}
	out[o] = '\0';
	return o;
}

size_t logrec__str(const struct logrec *r, enum logrec_field f, char *out, size_t cap)
{
	const struct lspan *s = &r->f[f];

	if (!s->p || !s->str) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	return unescape(s->p, s->n, out, cap);
}

bool logrec__eq(const struct logrec *r, enum logrec_field f, const char *s)
{
	const struct lspan *v = &r->f[f];
	size_t n = strlen(s);
	char buf[1024];

	if (!v->p || !v->str)
		return false;
	if (!memchr(v->p, '\\', v->n))	/* the usual case: nothing escaped */
		return v->n == n && !memcmp(v->p, s, n);
	return n < sizeof(buf) && logrec__str(r, f, buf, sizeof(buf)) == n && !memcmp(buf, s, n);
}

bool logrec__i64(const struct logrec *r, enum logrec_field f, int64_t *out)
{
	const struct lspan *v = &r->f[f];
	char buf[32], *e;

	if (!v->p || v->str || !v->n || v->n >= sizeof(buf))
		return false;
	memcpy(buf, v->p, v->n);
	buf[v->n] = '\0';
	errno = 0;
	*out = strtoll(buf, &e, 10);
	return !errno && *e == '\0';
}

bool logrec__dbl(const struct logrec *r, enum logrec_field f, double *out)
{
	const struct lspan *v = &r->f[f];
	char buf[48], *e;

	if (!v->p || v->str || !v->n || v->n >= sizeof(buf))
		return false;
	memcpy(buf, v->p, v->n);
	buf[v->n] = '\0';
	*out = strtod(buf, &e);
	return *e == '\0';
}

bool logrec__dur_us(const struct logrec *r, uint64_t *out)
{
	double ms;

	if (!logrec__dbl(r, LF_DURATION, &ms) || ms < 0)
		return false;
	*out = (uint64_t)(ms * 1000.0 + 0.5);
	return true;
}

void logrec__arr_each(const struct logrec *r, enum logrec_field f,
		      void (*fn)(const char *s, void *arg), void *arg)
{
	const struct lspan *v = &r->f[f];
	struct walker w;
	char buf[256];

	if (!v->p || v->str || v->n < 2 || v->p[0] != '[')
		return;
	w.p = v->p + 1;
	w.end = v->p + v->n - 1;
	while (w.p < w.end) {
		const char *s;

		skip_ws(&w);
		if (w.p >= w.end || *w.p != '"')
			return;
		s = w.p;
		if (skip_string(&w))
			return;
		unescape(s + 1, w.p - s - 2, buf, sizeof(buf));
		fn(buf, arg);
		skip_ws(&w);
		if (w.p < w.end && *w.p == ',')
			w.p++;
	}
}

struct arr_find {
	const char *want;
	bool found;
};

static void arr_find(const char *s, void *arg)
{
	struct arr_find *a = arg;

	a->found |= !a->want || !strcmp(a->want, s);
}

bool logrec__arr_has(const struct logrec *r, enum logrec_field f, const char *s)
{
	struct arr_find a = { .want = s };

	logrec__arr_each(r, f, arr_find, &a);
	return a.found;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int logrec__parse_ts(const char *s, size_t n, int64_t *ns)
{
	int y, mo, d, h, mi, se, frac = 0, scale = 1000000000;
	size_t i = 19;

	if (n < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se) ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -EINVAL;
	if (s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			if (scale > 1) {
				scale /= 10;
				frac += (s[i] - '0') * scale;
			}
		}
	}
	if (i != n - 1 || s[i] != 'Z')
		return -EINVAL;
	*ns = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) * 1000000000LL) + frac;
	return 0;
}

bool logrec__ts(const struct logrec *r, int64_t *ns)
{
	const struct lspan *v = &r->f[LF_TS];

	return v->p && v->str && !logrec__parse_ts(v->p, v->n, ns);
}
