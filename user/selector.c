// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Selector parsing and matching. Parsing names the option and the value in
 * every error; matching works on a record taken apart by logrec.c, after
 * the needles (selector.h) let the raw line through.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "selector.h"

#define TS_START	-1
#define TS_END		-2

const struct sel_option selector__options[] = {
	{ "-ts", "--start", TS_START, true, "records from this time (DATE [TIME], keyword)" },
	{ "-te", "--end", TS_END, true, "records before this time" },
	{ "--pid", "-p", SK_PID, true, "process id(s) or ranges A-B" },
	{ "--comm", "-C", SK_COMM, true, "command name(s)" },
	{ "--exe", "-x", SK_EXE, true, "executable path glob(s)" },
	{ "--uid", "-ui", SK_UID, true, "uid(s) or ranges" },
	{ "--peer", "-P", SK_PEER, true, "peer address, CIDR, host:port, unix:PATH" },
	{ "--local-port", "--lport", SK_LPORT, true, "local port(s) or ranges" },
	{ "--transport", NULL, SK_TRANSPORT, true, "tcp, unix, pipe" },
	{ "--role", NULL, SK_ROLE, true, "server, client, unknown" },
	{ "--proto", NULL, SK_PROTO, true, "http, jsonrpc, raw" },
	{ "--method", "-m", SK_METHOD, true, "HTTP method(s) (case as sent)" },
	{ "--target", "-t", SK_TARGET, true, "request target glob(s), query included" },
	{ "--status", "-s", SK_STATUS, true, "HTTP status: 404, 5xx, 400-499" },
	{ "--outcome", "-o", SK_OUTCOME, true, "ok, error, no_response, ..." },
	{ "--rpc-method", NULL, SK_RPC_METHOD, true, "JSON-RPC method(s)" },
	{ "--tool", NULL, SK_TOOL, true, "MCP tool name(s) (tools/call)" },
	{ "--rpc-error", NULL, SK_RPC_ERROR, true, "any, or JSON-RPC error code(s)" },
	{ "--slower-than", NULL, SK_SLOWER, true, "duration above: 250ms, 1.5s, 800us" },
	{ "--faster-than", NULL, SK_FASTER, true, "duration below" },
	{ "--critical", NULL, SK_CRITICAL, false, "critical records only" },
	{ "--redacted", NULL, SK_REDACTED, true, "any, or redaction rule name(s)" },
	{ "--type", "-y", SK_TYPE, true, "record type(s): exchange, loss, ..." },
	{ "--seq", NULL, SK_SEQ, true, "seq number(s) or ranges A-B, A-" },
	{ "--text", NULL, SK_TEXT, true, "text in a body excerpt (request or response)" },
	{ "--counter", NULL, SK_COUNTER, true, "loss counter name(s)" },
	{ NULL, NULL, 0, false, NULL },
};

static const char *const outcomes[] = { "ok", "no_response", "conn_closed", "no_request",
	"incomplete", "proc_exit", "shutdown", "error", "notification", "evicted", NULL };
static const char *const types[] = { "exchange", "loss", "collector_start", "collector_stop",
	"config_reload", "rotate", "chain_resume", "chain_gap", "checkpoint", "anchor_missing",
	NULL };
static const char *const transports[] = { "tcp", "unix", "pipe", NULL };
static const char *const roles[] = { "server", "client", "unknown", NULL };
static const char *const protos[] = { "http", "jsonrpc", "raw", NULL };

const struct sel_option *selector__option(const char *name)
{
	const struct sel_option *o;

	for (o = selector__options; o->name; o++)
		if (!strcmp(name, o->name) || (o->alias && !strcmp(name, o->alias)))
			return o;
	return NULL;
}

void selector__init(struct selector *s)
{
	memset(s, 0, sizeof(*s));
}

void selector__free(struct selector *s)
{
	int i, j;

	for (i = 0; i < s->n; i++) {
		for (j = 0; j < s->crit[i].nalt; j++)
			free(s->crit[i].alt[j].s);
		free(s->crit[i].alt);
	}
	for (i = 0; i < s->nneedles; i++)
		free(s->needle[i]);
	memset(s, 0, sizeof(*s));
}

static int fail(char *err, size_t errlen, const struct sel_option *o, const char *v,
		const char *want)
{
	snprintf(err, errlen, "%s '%s': %s", o->name, v ? v : "", want);
	return -EINVAL;
}

static bool parse_i64(const char *s, int64_t *out)
{
	char *e;

	if (!*s)
		return false;
	errno = 0;
	*out = strtoll(s, &e, 10);
	return !errno && !*e;
}

/* N, A-B, or A- (up to any): an inclusive range of non-negative numbers. */
static bool parse_range(const char *v, int64_t *lo, int64_t *hi)
{
	char buf[64], *dash;

	if (strlen(v) >= sizeof(buf) || !*v || *v == '-')
		return false;
	snprintf(buf, sizeof(buf), "%s", v);
	dash = strchr(buf, '-');
	if (!dash)
		return parse_i64(buf, lo) && *lo >= 0 && (*hi = *lo, true);
	*dash = '\0';
	if (!parse_i64(buf, lo) || *lo < 0)
		return false;
	if (!dash[1]) {
		*hi = INT64_MAX;
		return true;
	}
	return parse_i64(dash + 1, hi) && *hi >= *lo;
}

/* 404, 5xx, 400-499 */
static bool parse_status(const char *v, int64_t *lo, int64_t *hi)
{
	if (strlen(v) == 3 && v[0] >= '1' && v[0] <= '5' && (v[1] | 0x20) == 'x' &&
	    (v[2] | 0x20) == 'x') {
		*lo = (v[0] - '0') * 100;
		*hi = *lo + 99;
		return true;
	}
	return parse_range(v, lo, hi) && *lo >= 100 && *hi <= 999;
}

static bool one_of(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(v, *list))
			return true;
	return false;
}

static const char *list_text(const char *const *list, char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (; *list && o < n; list++)
		o += snprintf(buf + o, n - o, "%s%s", o ? ", " : "", *list);
	return buf;
}

/* 10.0.0.0/8, ::1, [::1], 1.2.3.4 (bits -1 when there is a :port or a unix: path). */
static bool parse_peer(const char *v, struct sel_alt *a)
{
	char buf[80], *slash;
	size_t n = strlen(v);

	a->bits = -1;
	if (!strncmp(v, "unix:", 5) || !strncmp(v, "pipe:", 5))
		return true;	/* compared as written */
	if (n >= sizeof(buf))
		return false;
	if (v[0] == '[' && v[n - 1] == ']') {
		memcpy(buf, v + 1, n - 2);
		buf[n - 2] = '\0';
	} else {
		memcpy(buf, v, n + 1);
	}
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, a->addr) == 1)
		a->family = AF_INET6;
	else
		/* host:port or [v6]:port, compared as written */
		return strchr(v, ':') && (v[0] == '[' || strchr(v, '.'));
	a->bits = a->family == AF_INET ? 32 : 128;
	if (slash) {
		int64_t b;

		if (!parse_i64(slash + 1, &b) || b < 0 || b > a->bits)
			return false;
		a->bits = (int)b;
	}
	return true;
}

int selector__parse_duration(const char *v, uint64_t *us)
{
	static const struct { const char *unit; double mul; } units[] = {
		{ "us", 1 }, { "ms", 1e3 }, { "s", 1e6 }, { "m", 60e6 }, { "", 1e3 },
	};
	char *e;
	double d;
	size_t i;

	errno = 0;
	d = strtod(v, &e);
	if (e == v || errno || d < 0)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(e, units[i].unit)) {
			*us = (uint64_t)(d * units[i].mul + 0.5);
			return 0;
		}
	return -EINVAL;
}

static int check_value(const struct sel_option *o, const char *v, struct sel_alt *a,
		       char *err, size_t errlen)
{
	char lst[200];
	uint64_t us;

	a->lo = a->hi = 0;
	a->bits = -1;
	switch ((enum sel_kind)o->kind) {
	case SK_PID: case SK_UID: case SK_SEQ: case SK_LPORT:
		return parse_range(v, &a->lo, &a->hi) ? 0 :
			fail(err, errlen, o, v, "want a number N, a range A-B, or A- (A and B >= 0)");
	case SK_STATUS:
		return parse_status(v, &a->lo, &a->hi) ? 0 :
			fail(err, errlen, o, v, "want a status (404), a class (5xx) or a range (400-499)");
	case SK_SLOWER: case SK_FASTER:
		if (selector__parse_duration(v, &us))
			return fail(err, errlen, o, v, "want a duration: 250ms, 1.5s, 800us, 2m (bare: ms)");
		a->lo = (int64_t)us;
		return 0;
	case SK_PEER:
		return parse_peer(v, a) ? 0 : fail(err, errlen, o, v, "want an address (10.1.2.3, "
			"::1), a CIDR (10.0.0.0/8), host:port, or unix:PATH");
	case SK_RPC_ERROR:
		if (!strcmp(v, "any"))
			return 0;
		return parse_i64(v, &a->lo) ? (a->hi = a->lo, a->bits = 0, 0) :
			fail(err, errlen, o, v, "want any, or an error code (-32601)");
	case SK_OUTCOME:
		return one_of(v, outcomes) ? 0 : fail(err, errlen, o, v,
			list_text(outcomes, lst, sizeof(lst)));
	case SK_TYPE:
		return one_of(v, types) ? 0 : fail(err, errlen, o, v, list_text(types, lst, sizeof(lst)));
	case SK_TRANSPORT:
		return one_of(v, transports) ? 0 : fail(err, errlen, o, v,
			list_text(transports, lst, sizeof(lst)));
	case SK_ROLE:
		return one_of(v, roles) ? 0 : fail(err, errlen, o, v, list_text(roles, lst, sizeof(lst)));
	case SK_PROTO:
		return one_of(v, protos) ? 0 : fail(err, errlen, o, v, list_text(protos, lst, sizeof(lst)));
	default:
		return *v ? 0 : fail(err, errlen, o, v, "want a non-empty value");
	}
}

static struct sel_crit *crit_for(struct selector *s, enum sel_kind k)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->crit[i].kind == k)
			return &s->crit[i];
	s->crit[s->n].kind = k;
	return &s->crit[s->n++];
}

static int add_alt(struct sel_crit *c, const struct sel_alt *a, const char *v)
{
	struct sel_alt *p = realloc(c->alt, (c->nalt + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	c->alt = p;
	p[c->nalt] = *a;
	p[c->nalt].s = v ? strdup(v) : NULL;
	if (v && !p[c->nalt].s)
		return -ENOMEM;
	c->nalt++;
	return 0;
}

/* Kinds whose value is never split at commas (text may hold one). */
static bool whole_value(enum sel_kind k)
{
	return k == SK_TEXT || k == SK_TARGET || k == SK_EXE;
}

int selector__add(struct selector *s, const struct sel_option *o, const char *arg,
		  char *err, size_t errlen)
{
	struct sel_crit *c;
	char *copy, *tok, *save = NULL;
	int e = 0;

	if (o->kind < 0)
		return selector__add_time(s, o, arg, NULL, NULL, err, errlen);
	c = crit_for(s, o->kind);
	if (!o->takes_arg)
		return c->nalt ? 0 : add_alt(c, &(struct sel_alt){ .bits = -1 }, NULL);
	if (!arg || !*arg)
		return fail(err, errlen, o, arg, "wants a value");
	copy = strdup(arg);
	if (!copy)
		return -ENOMEM;
	for (tok = whole_value(o->kind) ? copy : strtok_r(copy, ",", &save); tok && !e;
	     tok = whole_value(o->kind) ? NULL : strtok_r(NULL, ",", &save)) {
		struct sel_alt a = { 0 };
		bool any = (o->kind == SK_REDACTED || o->kind == SK_RPC_ERROR) && !strcmp(tok, "any");

		e = check_value(o, tok, &a, err, errlen);
		if (!e)
			e = add_alt(c, &a, any ? NULL : tok);
	}
	free(copy);
	return e;
}

/* ---- time ---- */

static int64_t local_midnight(time_t t, int day_offset)
{
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday += day_offset;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000000000LL;
}

static int boot_time(int64_t *ns)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	long long bt = -1;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &bt) == 1)
			break;
	fclose(f);
	if (bt < 0)
		return -ENOENT;
	*ns = bt * 1000000000LL;
	return 0;
}

static int keyword(const char *v, time_t now, int64_t *ns)
{
	struct tm tm;

	localtime_r(&now, &tm);
	if (!strcmp(v, "now"))
		*ns = (int64_t)now * 1000000000LL;
	else if (!strcmp(v, "recent"))
		*ns = ((int64_t)now - 600) * 1000000000LL;
	else if (!strcmp(v, "today"))
		*ns = local_midnight(now, 0);
	else if (!strcmp(v, "yesterday"))
		*ns = local_midnight(now, -1);
	else if (!strcmp(v, "this-week"))
		*ns = local_midnight(now, -((tm.tm_wday + 6) % 7));
	else if (!strcmp(v, "this-month"))
		*ns = local_midnight(now, 1 - tm.tm_mday);
	else if (!strcmp(v, "this-year"))
		*ns = local_midnight(now, -tm.tm_yday);
	else if (!strcmp(v, "boot"))
		return boot_time(ns) ? -EINVAL : 0;
	else
		return -ENOENT;
	return 0;
}

/* HH:MM[:SS] into tm; true when v is one. */
static bool time_of_day(const char *v, struct tm *tm)
{
	int h, m, s = 0, n = 0, n2 = 0;

	if (sscanf(v, "%2d:%2d%n", &h, &m, &n) != 2)
		return false;
	if (v[n] == ':') {
		if (sscanf(v + n + 1, "%2d%n", &s, &n2) != 1)
			return false;
		n += 1 + n2;
	}
	if (v[n] || h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60)
		return false;
	tm->tm_hour = h;
	tm->tm_min = m;
	tm->tm_sec = s;
	return true;
}

/* A local date: YYYY-MM-DD or MM/DD/YYYY (ausearch's), its time 00:00:00. */
static bool date_part(const char *v, struct tm *tm)
{
	int y, mo, d, n = 0;
	bool iso = sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10 && !v[n];

	memset(tm, 0, sizeof(*tm));
	if (!iso && !(sscanf(v, "%2d/%2d/%4d%n", &mo, &d, &y, &n) == 3 && !v[n]))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970)
		return false;
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_isdst = -1;
	return true;
}

int selector__parse_time(const char *v, const char *v2, time_t now, int64_t *ns, bool *used2,
			 char *err, size_t errlen)
{
	struct tm tm, base;
	char date[32];
	const char *sp;
	int64_t e;
	int k;

	*used2 = false;
	if (!v || !*v)
		goto bad;
	k = keyword(v, now, ns);
	if (k != -ENOENT) {
		if (k)
			goto bad;
		return 0;
	}
	if (v[0] == '@' && parse_i64(v + 1, &e) && e >= 0) {
		*ns = e * 1000000000LL;
		return 0;
	}
	if (!logrec__parse_ts(v, strlen(v), ns))
		return 0;		/* RFC 3339 UTC, as in the records */
	sp = strchr(v, ' ');
	if (sp && (size_t)(sp - v) < sizeof(date)) {	/* "DATE TIME" in one argument */
		memcpy(date, v, sp - v);
		date[sp - v] = '\0';
		if (date_part(date, &tm) && time_of_day(sp + 1, &tm))
			goto local;
		goto bad;
	}
	if (date_part(v, &tm)) {
		if (v2 && time_of_day(v2, &tm))
			*used2 = true;
		goto local;
	}
	localtime_r(&now, &base);
	tm = base;
	if (time_of_day(v, &tm)) {	/* a time today */
		tm.tm_isdst = -1;
		goto local;
	}
bad:
	snprintf(err, errlen, "time '%s': want now, recent, today, yesterday, this-week, "
		 "this-month, this-year, boot, YYYY-MM-DD [HH:MM[:SS]], MM/DD/YYYY [HH:MM:SS], "
		 "HH:MM[:SS], 2026-11-23T17:18:40Z or @EPOCH", v ? v : "");
	return -EINVAL;
local:
	*ns = (int64_t)mktime(&tm) * 1000000000LL;
	return 0;
}

int selector__add_time(struct selector *s, const struct sel_option *o, const char *arg,
		       const char *arg2, bool *used2, char *err, size_t errlen)
{
	bool u2;
	int64_t ns;
	int e = selector__parse_time(arg, arg2, time(NULL), &ns, &u2, err, errlen);

	if (e)
		return e;
	if (used2)
		*used2 = u2;
	if (o->kind == TS_START) {
		s->has_start = true;
		s->start_ns = ns;
	} else {
		s->has_end = true;
		s->end_ns = ns;
	}
	return 0;
}

/* ---- needles ---- */

/* Bytes that the record holds as they are (no JSON escape). */
static bool plain(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || s[i] == '"' ||
		    s[i] == '\\')
			return false;
	return n > 0;
}

static void add_needle(struct selector *s, const char *pre, const char *v, size_t vn,
		       const char *post)
{
	char *n;

	if (s->nneedles >= SEL_MAX_NEEDLES || !plain(v, vn) ||
	    asprintf(&n, "%s%.*s%s", pre, (int)vn, v, post) < 0)
		return;
	s->needle[s->nneedles] = n;
	s->needle_len[s->nneedles++] = strlen(n);
}

/* The decimal digits every number in [lo, hi] starts with (same length only). */
static void range_prefix(int64_t lo, int64_t hi, char *out, size_t n)
{
	char a[24], b[24];
	size_t i = 0;

	snprintf(a, sizeof(a), "%" PRId64, lo);
	snprintf(b, sizeof(b), "%" PRId64, hi);
	if (strlen(a) == strlen(b))
		while (a[i] && a[i] == b[i] && i + 1 < n)
			i++;
	memcpy(out, a, i);
	out[i] = '\0';
}

static const char *const string_keys[SK__N] = {
	[SK_COMM] = "\"comm\":\"", [SK_TRANSPORT] = "\"transport\":\"",
	[SK_ROLE] = "\"role\":\"", [SK_PROTO] = "\"proto\":\"", [SK_METHOD] = "\"method\":\"",
	[SK_OUTCOME] = "\"outcome\":\"", [SK_RPC_METHOD] = "\"method\":\"",
	[SK_TOOL] = "\"tool\":\"", [SK_TYPE] = "\"type\":\"", [SK_COUNTER] = "\"counter\":\"",
};
static const char *const number_keys[SK__N] = {
	[SK_PID] = "\"pid\":", [SK_UID] = "\"uid\":", [SK_STATUS] = "\"status\":",
	[SK_SEQ] = "\"seq\":",
};

/* The literal start of a glob (up to its first wildcard). */
static size_t glob_prefix(const char *g)
{
	return strcspn(g, "*?[");
}

static void crit_needle(struct selector *s, const struct sel_crit *c)
{
	const struct sel_alt *a = &c->alt[0];
	char num[24];

	if (string_keys[c->kind]) {
		add_needle(s, string_keys[c->kind], a->s, strlen(a->s), "\"");
	} else if (number_keys[c->kind]) {
		range_prefix(a->lo, a->hi, num, sizeof(num));
		add_needle(s, number_keys[c->kind], num, strlen(num), "");
	} else if (c->kind == SK_TARGET || c->kind == SK_EXE) {
		add_needle(s, c->kind == SK_TARGET ? "\"target\":\"" : "\"exe\":\"", a->s,
			   glob_prefix(a->s), "");
	} else if (c->kind == SK_TEXT) {
		add_needle(s, "", a->s, strlen(a->s), "");
	} else if (c->kind == SK_CRITICAL) {
		add_needle(s, "", "\"critical\":true", 15, "");
	} else if (c->kind == SK_REDACTED) {
		if (a->s)
			add_needle(s, "\"", a->s, strlen(a->s), "\"");
		else
			add_needle(s, "", "\"redactions\":[", 14, "");
	} else if (c->kind == SK_RPC_ERROR) {
		if (a->s)
			add_needle(s, "\"code\":", a->s, strlen(a->s), "");
		else
			add_needle(s, "", "\"error\":{", 9, "");
	} else if (c->kind == SK_PEER && a->family == AF_INET && a->bits >= 8) {
		char ip[INET_ADDRSTRLEN], *cut = ip;
		int octets = a->bits / 8, i;

		inet_ntop(AF_INET, a->addr, ip, sizeof(ip));
		for (i = 0; i < octets && cut; i++)
			cut = strchr(cut + (i > 0), '.');
		/* a /32 ends at the port's colon; a /8../24 at its last whole octet's dot */
		add_needle(s, "\"peer\":\"", ip, cut ? (size_t)(cut - ip) + 1 : strlen(ip),
			   cut ? "" : ":");
	}
}

void selector__finish(struct selector *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->crit[i].nalt == 1)
			crit_needle(s, &s->crit[i]);
}

/* ---- matching ---- */

/* The host part of "1.2.3.4:5", "[::1]:5" into out; false for unix: and the like. */
static bool host_of(const char *addr, char *out, size_t n)
{
	const char *c;

	if (addr[0] == '[') {
		c = strchr(addr, ']');
		if (!c || (size_t)(c - addr - 1) >= n)
			return false;
		memcpy(out, addr + 1, c - addr - 1);
		out[c - addr - 1] = '\0';
		return true;
	}
	c = strrchr(addr, ':');
	if (!c || (size_t)(c - addr) >= n || !strncmp(addr, "unix:", 5) || !strncmp(addr, "pipe:", 5))
		return false;
	memcpy(out, addr, c - addr);
	out[c - addr] = '\0';
	return true;
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full))
		return false;
	return !rest || !((a[full] ^ b[full]) & (0xff00 >> rest));
}

static bool peer_match(const struct sel_alt *a, const char *peer)
{
	char host[64];
	uint8_t addr[16];
	int fam;

	if (a->bits < 0)	/* host:port or unix:PATH, as written; "unix:" any unix peer */
		return !strcmp(a->s, peer) || (!strcmp(a->s, "unix:") && !strncmp(peer, "unix:", 5));
	if (!host_of(peer, host, sizeof(host)))
		return false;
	fam = strchr(host, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(fam, host, addr) != 1)
		return false;
	if (fam == AF_INET6 && a->family == AF_INET && !memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
		return prefix_match(addr + 12, a->addr, a->bits);	/* v4-mapped */
	return fam == a->family && prefix_match(addr, a->addr, a->bits);
}

static bool in_range(const struct sel_alt *a, int64_t v)
{
	return v >= a->lo && v <= a->hi;
}

static bool local_port(const struct logrec *r, int64_t *port)
{
	char local[128], *c;

	logrec__str(r, LF_LOCAL, local, sizeof(local));
	c = strrchr(local, ':');
	return c && strncmp(local, "unix:", 5) && strncmp(local, "pipe:", 5) &&
	       (*port = strtoll(c + 1, NULL, 10), true);
}

static bool body_has(const struct logrec *r, const char *text)
{
	char buf[16384];

	logrec__str(r, LF_REQ_BODY, buf, sizeof(buf));
	if (strstr(buf, text))
		return true;
	logrec__str(r, LF_RESP_BODY, buf, sizeof(buf));
	return strstr(buf, text) != NULL;
}

static enum logrec_field string_field(enum sel_kind k)
{
	switch (k) {
	case SK_COMM: return LF_COMM;
	case SK_TRANSPORT: return LF_TRANSPORT;
	case SK_ROLE: return LF_ROLE;
	case SK_PROTO: return LF_PROTO;
	case SK_METHOD: return LF_REQ_METHOD;
	case SK_OUTCOME: return LF_OUTCOME;
	case SK_RPC_METHOD: return LF_RPC_METHOD;
	case SK_TOOL: return LF_RPC_TOOL;
	case SK_TYPE: return LF_TYPE;
	case SK_COUNTER: return LF_COUNTER;
	default: return LF_N;
	}
}

static enum logrec_field number_field(enum sel_kind k)
{
	switch (k) {
	case SK_PID: return LF_PID;
	case SK_UID: return LF_UID;
	case SK_STATUS: return LF_RESP_STATUS;
	case SK_SEQ: return LF_SEQ;
	default: return LF_N;
	}
}

static bool alt_match(const struct sel_crit *c, const struct sel_alt *a, const struct logrec *r)
{
	enum logrec_field f = string_field(c->kind);
	char buf[4096];
	int64_t v;
	uint64_t us;

	if (f != LF_N)
		return logrec__eq(r, f, a->s);
	f = number_field(c->kind);
	if (f != LF_N)
		return logrec__i64(r, f, &v) && in_range(a, v);
	switch (c->kind) {
	case SK_EXE:
		return logrec__str(r, LF_EXE, buf, sizeof(buf)), logrec__has(r, LF_EXE) &&
		       !fnmatch(a->s, buf, 0);
	case SK_TARGET:
		return logrec__str(r, LF_REQ_TARGET, buf, sizeof(buf)), logrec__has(r, LF_REQ_TARGET) &&
		       !fnmatch(a->s, buf, 0);
	case SK_PEER:
		return logrec__str(r, LF_PEER, buf, sizeof(buf)), peer_match(a, buf);
	case SK_LPORT:
		return local_port(r, &v) && in_range(a, v);
	case SK_RPC_ERROR:
		return logrec__has(r, LF_RPC_ERR_CODE) &&
		       (!a->s || (logrec__i64(r, LF_RPC_ERR_CODE, &v) && v == a->lo));
	case SK_SLOWER:
		return logrec__dur_us(r, &us) && us > (uint64_t)a->lo;
	case SK_FASTER:
		return logrec__dur_us(r, &us) && us < (uint64_t)a->lo;
	case SK_CRITICAL:
		return r->f[LF_CRITICAL].p && r->f[LF_CRITICAL].n == 4 &&
		       !memcmp(r->f[LF_CRITICAL].p, "true", 4);
	case SK_REDACTED:
		return logrec__arr_has(r, LF_REDACTIONS, a->s);
	case SK_TEXT:
		return body_has(r, a->s);
	default:
		return false;
	}
}

bool selector__match(const struct selector *s, const struct logrec *r)
{
	int i, j;

	if (s->has_start || s->has_end) {
		int64_t ts;

		if (!logrec__ts(r, &ts) || (s->has_start && ts < s->start_ns) ||
		    (s->has_end && ts >= s->end_ns))
			return false;
	}
	for (i = 0; i < s->n; i++) {
		const struct sel_crit *c = &s->crit[i];
		bool any = false;

		for (j = 0; j < c->nalt && !any; j++)
			any = alt_match(c, &c->alt[j], r);
		if (!any)
			return false;
	}
	return true;
}

/* ---- command line ---- */

int selector__parse_arg(struct selector *s, int argc, char **argv, int *i, char *err,
			size_t errlen)
{
	char name[64];
	const char *a = argv[*i], *eq = strchr(a, '='), *val;
	const struct sel_option *o;
	bool used2 = false;
	int e;

	if (a[0] != '-' || !a[1])
		return 0;
	snprintf(name, sizeof(name), "%.*s", (int)(eq ? eq - a : (long)strlen(a)), a);
	o = selector__option(name);
	if (!o)
		return 0;
	val = eq ? eq + 1 : NULL;
	if (o->takes_arg && !val) {
		if (*i + 1 >= argc) {
			snprintf(err, errlen, "%s wants a value (%s)", o->name, o->help);
			return -EINVAL;
		}
		val = argv[++*i];
	} else if (!o->takes_arg && val) {
		snprintf(err, errlen, "%s takes no value", o->name);
		return -EINVAL;
	}
	if (o->kind >= 0)
		return selector__add(s, o, val, err, errlen) ?: 1;
	e = selector__add_time(s, o, val, !eq && *i + 1 < argc ? argv[*i + 1] : NULL, &used2,
			       err, errlen);
	*i += used2;
	return e ?: 1;
}

void selector__usage(FILE *f)
{
	const struct sel_option *o;

	fprintf(f, "selectors (AND; a comma list or a repeated option: OR):\n");
	for (o = selector__options; o->name; o++)
		fprintf(f, "  %-14s %-8s %s\n", o->name, o->alias ? o->alias : "", o->help);
}
