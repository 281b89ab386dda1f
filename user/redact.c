// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Secret redaction (redact.h): Hyperscan finds which rules occur, PCRE2-JIT
 * finds where.
 *
 * Why: a record's excerpts are scanned for ~20 patterns on the collector's
 * hot path, and nearly every excerpt holds no secret at all. Hyperscan
 * answers "does any rule match?" for all of them in one pass at memory
 * speed (HS_FLAG_SINGLEMATCH, no start-of-match tracking, which is what
 * makes Hyperscan slow). Only for the rules that fired does a PCRE2-JIT
 * pass locate the matches. PCRE2 alone needs one pass per rule over every
 * text; Hyperscan with leftmost-start reporting (HS_FLAG_SOM_LEFTMOST) was
 * measured at a few tens of MB/s on these patterns. Figures:
 * bench/format_bench.c, docs/formats.md.
 *
 * A located match is a candidate; a per-rule refine step turns it into the
 * spans to replace (zero when a check such as Luhn fails); overlapping
 * spans of different rules are resolved leftmost-longest, then by rule
 * order, so a specific rule listed first wins a tie.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <hs/hs.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "redact.h"

struct span {
	size_t from, to;
	int rule;
};

/* A growable list of spans; oom once a push failed. */
struct spans {
	struct span *v;
	size_t n, cap;
	bool oom;
};

/* Spans to replace inside the candidate region [from, to) of s. */
typedef size_t (*refine_fn)(const uint8_t *s, size_t n, size_t from, size_t to,
			    struct span *out, size_t max);

/* True when a text may hold what a native rule looks for (cheap, no regex). */
typedef bool (*quick_fn)(const uint8_t *s, size_t n);

struct rule_def {
	const char *name;
	const char *re;		/* the pattern (a native rule keeps it for docs and benchmarks) */
	unsigned flags;
	bool off;		/* off unless enabled by name */
	refine_fn refine;	/* NULL: the whole region */
	quick_fn native;	/* set: no regex; refine scans the whole text when this says so */
};

/*
 * Short texts found clean, remembered: the side texts of records (Host,
 * Content-Type, method, reason, the process name) repeat from one record
 * to the next, and a remembered one skips the scan. Only clean texts are
 * kept, so no secret stays in memory; a text matches a slot byte for byte.
 */
#define CLEAN_SLOTS	128	/* 64 sets of two: two texts of one hash both stay */
#define CLEAN_MAX	48	/* longer texts are not remembered */

struct clean_slot {
	uint8_t len;		/* 0: empty */
	uint8_t text[CLEAN_MAX];
};

struct redactor {
	uint64_t id;			/* redactor__id */
	hs_database_t *db;
	pcre2_code *pc[REDACT_MAX_RULES];	/* NULL for rules that are off */
	int nrules;
	char names[REDACT_MAX_RULES][REDACT_NAME_MAX];
	refine_fn refine[REDACT_MAX_RULES];
	quick_fn native[REDACT_MAX_RULES];
	bool on[REDACT_MAX_RULES];
	bool enabled;
	size_t min_len;			/* shortest text any rule that is on can match */
	/* mutable state behind a const redactor: the scan is one at a time */
	pthread_mutex_t *lock;
	hs_scratch_t *scratch;
	pcre2_match_data *md;
	uint64_t fired;			/* rules Hyperscan saw in the current text */
	struct spans cand;		/* candidate regions of one pass */
	struct spans sp;		/* spans to replace, every pass */
	uint64_t *counts;
	uint8_t *pad;			/* the text as Hyperscan scans it (scan_copy, unescape) */
	size_t pad_cap;
	uint32_t *map;			/* unescape: decoded offset -> original offset */
	size_t map_cap;
	struct clean_slot *clean;	/* CLEAN_SLOTS, in sets of two by hash */
};

/* ---- refine steps ---- */

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(uint8_t c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static size_t one(struct span *out, size_t max, size_t from, size_t to)
{
	if (!max || from >= to)
		return 0;
	out[0].from = from;
	out[0].to = to;
	return 1;
}

/* key=value, "key": "value", key: value — the value alone, quotes kept outside. */
static size_t refine_kv(const uint8_t *s, size_t n, size_t from, size_t to, struct span *out,
			size_t max)
{
	size_t v = from;
	uint8_t q = 0;

	while (v < to && s[v] != ':' && s[v] != '=')
		v++;
	for (v++; v < to && (s[v] == ' ' || s[v] == '\t'); v++)
		;
	if (v < to && (s[v] == '"' || s[v] == '\''))
		q = s[v++];
	if (q && to > v && s[to - 1] == q)
		to--;
	return one(out, max, v, to);
}

/* "Bearer <token>", "Basic <b64>": the part after the scheme and its blanks. */
static size_t after_blank(const uint8_t *s, size_t from, size_t to)
{
	while (from < to && s[from] != ' ' && s[from] != '\t')
		from++;
	while (from < to && (s[from] == ' ' || s[from] == '\t'))
		from++;
	return from;
}

static size_t refine_bearer(const uint8_t *s, size_t n, size_t from, size_t to,
			    struct span *out, size_t max)
{
	return one(out, max, after_blank(s, from, to), to);
}

static int b64_val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (is_digit(c))
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Basic credentials decode to "user:password": anything else is prose ("basic setup"). */
static bool b64_has_colon(const uint8_t *s, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i;

	if (n % 4)
		return false;
	for (i = 0; i < n && s[i] != '='; i++) {
		int v = b64_val(s[i]);

		if (v < 0)
			return false;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (((acc >> bits) & 0xff) == ':')
				return true;
		}
	}
	return false;
}

static size_t refine_basic(const uint8_t *s, size_t n, size_t from, size_t to,
			   struct span *out, size_t max)
{
	size_t v = after_blank(s, from, to);

	return b64_has_colon(s + v, to - v) ? one(out, max, v, to) : 0;
}

/* Cookie: / Set-Cookie: — the whole header value. */
static size_t refine_cookie(const uint8_t *s, size_t n, size_t from, size_t to,
			    struct span *out, size_t max)
{
	const uint8_t *c = memchr(s + from, ':', to - from);
	size_t v = c ? (size_t)(c - s) + 1 : to;

	while (v < to && (s[v] == ' ' || s[v] == '\t'))
		v++;
	while (to > v && (s[to - 1] == ' ' || s[to - 1] == '\t'))
		to--;
	return one(out, max, v, to);
}

/* The last 40 characters: the key itself, after "aws_secret_access_key=". */
static size_t refine_tail40(const uint8_t *s, size_t n, size_t from, size_t to,
			    struct span *out, size_t max)
{
	return to - from >= 40 ? one(out, max, to - 40, to) : 0;
}

/* A PEM private key block up to its END line, or to the end of the text. */
static size_t refine_pem(const uint8_t *s, size_t n, size_t from, size_t to, struct span *out,
			 size_t max)
{
	const uint8_t *end = memmem(s + to, n - to, "-----END", 8);
	const uint8_t *dash;

	if (!end)
		return one(out, max, from, n);
	dash = memmem(end + 8, n - (size_t)(end + 8 - s), "-----", 5);
	return one(out, max, from, dash ? (size_t)(dash + 5 - s) : n);
}

bool redact__luhn(const char *s, size_t n)
{
	int sum = 0, dbl = 0, digits = 0;
	size_t i;

	for (i = n; i-- > 0;) {
		int d;

		if (!is_digit((uint8_t)s[i]))
			continue;
		d = s[i] - '0';
		if (dbl && (d *= 2) > 9)
			d -= 9;
		sum += d;
		dbl = !dbl;
		digits++;
	}
	return digits && sum % 10 == 0;
}

/* A card's digits may be grouped by one kind of these, or none. */
static bool card_sep(uint8_t c)
{
	return c == ' ' || c == '-' || c == '.';
}

/*
 * Dots also group decimals, versions and addresses: a dotted card has at
 * least three groups of at least four digits (4111.1111.1111.1111, amex
 * 3782.822463.10005), which no IPv4 address, version or "secs.micros"
 * timestamp has.
 */
static bool dotted_card_ok(int groups, int shortest)
{
	return groups >= 3 && shortest >= 4;
}

/*
 * A card at s[p]: 13-19 digits, grouped by one kind of separator (space,
 * dash or dot) or none, passing Luhn, not all zeros. A dash-, dot- or
 * un-separated run longer than 19 digits is something else (a UUID, an
 * id) and is left whole; space-separated runs may continue with other
 * numbers ("... exp 12 25"), so their longest valid prefix ending at a
 * group boundary is taken.
 */
static size_t card_at(const uint8_t *s, size_t n, size_t p)
{
	size_t q = p, ends[24], best = 0;
	int digits = 0, nends = 0, i, groups = 0, group = 0, shortest = 99;
	uint8_t sep = 0;
	bool nonzero = false;

	while (q < n && is_digit(s[q])) {
		nonzero |= s[q] != '0';
		digits++, group++, q++;
		if (q < n && is_digit(s[q]))
			continue;
		groups++;
		shortest = group < shortest ? group : shortest;
		group = 0;
		if (digits >= 13 && digits <= 19 && nends < 24 &&
		    (sep != '.' || dotted_card_ok(groups, shortest)))
			ends[nends++] = q;
		if (q + 1 < n && card_sep(s[q]) && is_digit(s[q + 1]) && (!sep || s[q] == sep)) {
			sep = s[q++];
			continue;
		}
		break;
	}
	if (!nonzero || (digits > 19 && sep != ' ') || (q < n && (is_alnum(s[q]) || s[q] == '_')))
		return 0;
	for (i = nends - 1; i >= 0 && !best; i--)
		if (redact__luhn((const char *)s + p, ends[i] - p))
			best = ends[i];
	return best;
}

/* A digit that starts a run: not after a letter, digit, '_', '.' or "digit-". */
static bool run_start(const uint8_t *s, size_t p)
{
	if (!p)
		return true;
	if (is_alnum(s[p - 1]) || s[p - 1] == '_' || s[p - 1] == '.')
		return false;
	return !(p >= 2 && s[p - 1] == '-' && is_digit(s[p - 2]));
}

static size_t refine_card(const uint8_t *s, size_t n, size_t from, size_t to,
			  struct span *out, size_t max)
{
	size_t p = from, k = 0, end;

	while (p < to && k < max) {
		if (is_digit(s[p]) && run_start(s, p) && (end = card_at(s, n, p))) {
			k += one(out + k, max - k, p, end);
			p = end;
			continue;
		}
		while (p < to && is_digit(s[p]))
			p++;
		p++;
	}
	return k;
}

/*
 * A card needs 13 digits: fewer in the whole text, no card. Digit runs
 * made Hyperscan's card pattern the slowest of all (5x the rest together
 * on base64 text); this count is one vectorised pass.
 */
static bool enough_digits(const uint8_t *s, size_t n)
{
	size_t i, digits = 0;

	for (i = 0; i < n; i++)
		digits += (uint8_t)(s[i] - '0') < 10;
	return digits >= 13;
}

/* 123-45-6789 with a valid area (not 000, 666, 9xx), group and serial, standing alone. */
static size_t refine_ssn(const uint8_t *s, size_t n, size_t from, size_t to, struct span *out,
			 size_t max)
{
	const uint8_t *d = s + from;

	if (to - from != 11 || !memcmp(d, "000", 3) || !memcmp(d, "666", 3) || d[0] == '9' ||
	    !memcmp(d + 4, "00", 2) || !memcmp(d + 7, "0000", 4))
		return 0;
	if (from >= 2 && s[from - 1] == '-' && is_digit(s[from - 2]))
		return 0;
	if (to + 1 < n && s[to] == '-' && is_digit(s[to + 1]))
		return 0;
	return one(out, max, from, to);
}

static size_t refine_ipv6(const uint8_t *s, size_t n, size_t from, size_t to,
			  struct span *out, size_t max)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	struct in6_addr a;

	if (to - from >= sizeof(tmp))
		return 0;
	memcpy(tmp, s + from, to - from);
	tmp[to - from] = '\0';
	return inet_pton(AF_INET6, tmp, &a) == 1 ? one(out, max, from, to) : 0;
}

#define CL HS_FLAG_CASELESS
#define KEY_PREFIX "[\"']?[A-Za-z0-9_.-]*"
#define KV_VALUE "[\"']?\\s*[:=]\\s*(\"(\\\\.|[^\"\\\\\\r\\n])*\"|'[^'\\r\\n]*'|[^\\s&,;\"'<>}\\])]+)"

/* Order matters on ties: a more specific rule comes before a general one. */
static const struct rule_def builtin[] = {
	{ "pem_private_key", "-----BEGIN[A-Z ]{0,30}PRIVATE KEY-----", 0, false, refine_pem, NULL },
	{ "bearer_token", "\\bbearer[ \\t]+[A-Za-z0-9._~+/-]{8,}=*", CL, false, refine_bearer, NULL },
	{ "jwt", "\\beyJ[A-Za-z0-9_-]{4,}\\.eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*", 0, false,
	  NULL, NULL },
	{ "basic_auth", "\\bbasic[ \\t]+[A-Za-z0-9+/]{4,}={0,2}", CL, false, refine_basic, NULL },
	{ "set_cookie", "\\bset-cookie[ \\t]*:[^\\r\\n]+", CL, false, refine_cookie, NULL },
	{ "cookie", "\\bcookie[ \\t]*:[^\\r\\n]+", CL, false, refine_cookie, NULL },
	{ "aws_access_key", "\\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\\b", 0,
	  false, NULL, NULL },
	{ "aws_secret_key",
	  "aws_?secret_?(access_?)?key[\"']?\\s*[:=]\\s*[\"']?[A-Za-z0-9/+]{40}", CL, false,
	  refine_tail40, NULL },
	{ "github_token", "\\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
	  0, false, NULL, NULL },
	{ "slack_token",
	  "\\bxox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\\.slack\\.com/services/[A-Za-z0-9/_-]+",
	  0, false, NULL, NULL },
	{ "stripe_key", "\\b([rsp]k|whsec)_(live|test)_[A-Za-z0-9]{16,}|\\bwhsec_[A-Za-z0-9]{24,}",
	  0, false, NULL, NULL },
	{ "google_api_key", "\\bAIza[0-9A-Za-z_-]{35}", 0, false, NULL, NULL },
	{ "anthropic_key", "\\bsk-ant-[A-Za-z0-9_-]{20,}", 0, false, NULL, NULL },
	{ "openai_key", "\\bsk-(proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}", 0, false, NULL, NULL },
	{ "password", KEY_PREFIX "(passw(or)?d|pwd|passphrase)" KV_VALUE, CL, false, refine_kv, NULL },
	{ "secret_field",
	  KEY_PREFIX "(secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
	  "client[_-]?secret|credentials?)" KV_VALUE, CL, false, refine_kv, NULL },
	{ "credit_card", "\\d([ .-]?\\d){12,18}", 0, false, refine_card, enough_digits },
	{ "ssn", "\\b\\d{3}-\\d{2}-\\d{4}\\b", 0, false, refine_ssn, NULL },
	{ "email", "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}",
	  0, false, NULL, NULL },
	{ "ipv4", "\\b(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}\\b", 0,
	  true, NULL, NULL },
	{ "ipv6", "[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}", 0, true, refine_ipv6, NULL },
};

#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

const char *redact__builtin_name(size_t i)
{
	return i < NBUILTIN ? builtin[i].name : NULL;
}

const char *redact__builtin_pattern(size_t i, bool *caseless, bool *on)
{
	if (i >= NBUILTIN)
		return NULL;
	*caseless = builtin[i].flags & HS_FLAG_CASELESS;
	*on = !builtin[i].off;
	return builtin[i].re;
}

void redact_opts__defaults(struct redact_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->enabled = true;
}

/* ---- building ---- */

static int builtin_index(const char *name)
{
	size_t i;

	for (i = 0; i < NBUILTIN; i++)
		if (!strcmp(builtin[i].name, name))
			return (int)i;
	return -1;
}

static bool name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (!n || n >= REDACT_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!(is_digit((uint8_t)name[i]) || (name[i] >= 'a' && name[i] <= 'z') ||
		      name[i] == '_'))
			return false;
	return true;
}

/* Switch built-ins on and off by name; an unknown name is an error, not a no-op. */
static int apply_switches(struct redactor *r, const struct redact_opts *o, char *err,
			  size_t errlen)
{
	size_t i;
	int k;

	for (i = 0; i < o->nenable; i++) {
		if ((k = builtin_index(o->enable[i])) < 0)
			goto out_unknown_enable;
		r->on[k] = true;
	}
	for (i = 0; i < o->ndisable; i++) {
		if ((k = builtin_index(o->disable[i])) < 0)
			goto out_unknown_disable;
		r->on[k] = false;
	}
	return 0;

out_unknown_enable:
	snprintf(err, errlen, "redaction: enable: unknown rule '%s' (see docs/formats.md)",
		 o->enable[i]);
	return -EINVAL;
out_unknown_disable:
	snprintf(err, errlen, "redaction: disable: unknown rule '%s' (see docs/formats.md)",
		 o->disable[i]);
	return -EINVAL;
}

static int add_custom(struct redactor *r, const struct redact_custom *c, char *err,
		      size_t errlen)
{
	int i;

	if (!c->name || !name_ok(c->name)) {
		snprintf(err, errlen, "redaction: custom rule name '%s' must be 1-%d characters "
			 "of a-z, 0-9 and _", c->name ? c->name : "", REDACT_NAME_MAX - 1);
		return -EINVAL;
	}
	for (i = 0; i < r->nrules; i++)
		if (!strcmp(r->names[i], c->name)) {
			snprintf(err, errlen, "redaction: custom rule '%s': name already used",
				 c->name);
			return -EINVAL;
		}
	if (!c->regex || !c->regex[0]) {
		snprintf(err, errlen, "redaction: custom rule '%s': empty regex", c->name);
		return -EINVAL;
	}
	if (r->nrules >= REDACT_MAX_RULES) {
		snprintf(err, errlen, "redaction: custom rule '%s': more than %d rules", c->name,
			 REDACT_MAX_RULES);
		return -E2BIG;
	}
	snprintf(r->names[r->nrules], REDACT_NAME_MAX, "%s", c->name);
	r->on[r->nrules++] = true;
	return 0;
}

/* The locating pattern of rule i; the error names the rule and the offset. */
static int compile_pcre(struct redactor *r, int i, const char *re, unsigned hsflags, char *err,
			size_t errlen)
{
	uint32_t opts = hsflags & HS_FLAG_CASELESS ? PCRE2_CASELESS : 0;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	int code;

	r->pc[i] = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &code, &off, NULL);
	if (!r->pc[i]) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "redaction: rule '%s': bad pattern /%s/ at offset %zu: %s",
			 r->names[i], re, (size_t)off, (const char *)msg);
		return -EINVAL;
	}
	/* JIT is an optimisation: without it (no executable memory) matching still works */
	pcre2_jit_compile(r->pc[i], PCRE2_JIT_COMPLETE);
	return 0;
}

/* *min lowered to re's shortest match; false when Hyperscan cannot tell. */
static bool width_at_most(const char *re, unsigned flags, size_t *min)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *ce = NULL;
	bool ok;

	if (hs_expression_info(re, flags, &info, &ce) != HS_SUCCESS) {
		hs_free_compile_error(ce);
		return false;
	}
	ok = info->min_width > 0;
	if (ok && info->min_width < *min)
		*min = info->min_width;
	free(info);
	return ok;
}

/*
 * The shortest text any rule can match (Hyperscan's min_width over every
 * pattern, native rules' kept patterns included): a shorter text, like
 * most paths, method names and small bodies, needs no scan at all. 0 when
 * a width is unknown, which turns the shortcut off.
 */
static size_t min_match_len(const char *const *exprs, const unsigned *flags, unsigned n,
			    const struct redactor *r)
{
	size_t min = SIZE_MAX;
	unsigned i;
	int k;

	for (k = 0; k < r->nrules && k < (int)NBUILTIN; k++)
		if (r->on[k] && r->native[k] && !width_at_most(builtin[k].re, builtin[k].flags, &min))
			return 0;
	for (i = 0; i < n; i++)
		if (!width_at_most(exprs[i], flags[i], &min))
			return 0;
	return min == SIZE_MAX ? 0 : min;
}

/*
 * Compile every rule that is on: each into PCRE2 (locating), all into one
 * Hyperscan database (detecting). Hyperscan refuses some constructs PCRE2
 * takes (backreferences, lookaround) and patterns that match the empty
 * string; its error names the rule too.
 */
static int compile(struct redactor *r, const struct redact_opts *o, char *err, size_t errlen)
{
	const char *exprs[REDACT_MAX_RULES];
	unsigned flags[REDACT_MAX_RULES], ids[REDACT_MAX_RULES];
	hs_compile_error_t *ce = NULL;
	unsigned n = 0;
	int i, e;

	for (i = 0; i < r->nrules; i++) {
		if (!r->on[i] || r->native[i])
			continue;
		exprs[n] = i < (int)NBUILTIN ? builtin[i].re : o->custom[i - NBUILTIN].regex;
		flags[n] = (i < (int)NBUILTIN ? builtin[i].flags : 0) | HS_FLAG_SINGLEMATCH;
		if ((e = compile_pcre(r, i, exprs[n], flags[n], err, errlen)))
			return e;
		ids[n++] = (unsigned)i;
	}
	r->min_len = min_match_len(exprs, flags, n, r);
	r->md = pcre2_match_data_create(4, NULL);
	if (!n)
		return r->md ? 0 : -ENOMEM;
	if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, &r->db, &ce) !=
	    HS_SUCCESS) {
		int bad = ce && ce->expression >= 0 ? (int)ids[ce->expression] : -1;

		snprintf(err, errlen, "redaction: rule '%s': bad pattern /%s/: %s",
			 bad >= 0 ? r->names[bad] : "?", bad >= 0 ? exprs[ce->expression] : "",
			 ce ? ce->message : "compile failed");
		hs_free_compile_error(ce);
		return -EINVAL;
	}
	if (hs_alloc_scratch(r->db, &r->scratch) != HS_SUCCESS || !r->md) {
		snprintf(err, errlen, "redaction: out of memory for the scan scratch");
		return -ENOMEM;
	}
	return 0;
}

/* The rule table of o: built-ins switched on and off, then the custom rules. */
static int name_rules(struct redactor *r, const struct redact_opts *o, char *err, size_t errlen)
{
	size_t i;
	int e;

	for (i = 0; i < NBUILTIN; i++) {
		snprintf(r->names[i], REDACT_NAME_MAX, "%s", builtin[i].name);
		r->refine[i] = builtin[i].refine;
		r->native[i] = builtin[i].native;
		r->on[i] = !builtin[i].off;
	}
	r->nrules = (int)NBUILTIN;
	if ((e = apply_switches(r, o, err, errlen)))
		return e;
	for (i = 0; i < o->ncustom; i++)
		if ((e = add_custom(r, &o->custom[i], err, errlen)))
			return e;
	return 0;
}

static int setup(struct redactor *r, const struct redact_opts *o, char *err, size_t errlen)
{
	int e = name_rules(r, o, err, errlen);

	return e ? e : compile(r, o, err, errlen);
}

/* Hyperscan's verdict on one custom pattern alone (no database): what hs_compile_multi would say. */
static int hs_check(const struct redactor *r, int i, const char *re, char *err, size_t errlen)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *ce = NULL;

	if (hs_expression_info(re, HS_FLAG_SINGLEMATCH, &info, &ce) == HS_SUCCESS) {
		bool empty = info->min_width == 0;

		free(info);
		if (!empty)
			return 0;
		snprintf(err, errlen, "redaction: rule '%s': bad pattern /%s/: the pattern "
			 "matches the empty text", r->names[i], re);
		return -EINVAL;
	}
	snprintf(err, errlen, "redaction: rule '%s': bad pattern /%s/: %s", r->names[i], re,
		 ce ? ce->message : "not accepted");
	hs_free_compile_error(ce);
	return -EINVAL;
}

int redact_opts__check(const struct redact_opts *o, char *err, size_t errlen)
{
	struct redactor *r = calloc(1, sizeof(*r));
	int i, e;

	snprintf(err, errlen, "redaction: out of memory");
	if (!r)
		return -ENOMEM;
	e = o->enabled ? name_rules(r, o, err, errlen) : 0;
	for (i = NBUILTIN; !e && i < r->nrules; i++) {
		const char *re = o->custom[i - NBUILTIN].regex;

		e = compile_pcre(r, i, re, 0, err, errlen);
		if (!e)
			e = hs_check(r, i, re, err, errlen);
	}
	for (i = 0; i < REDACT_MAX_RULES; i++)
		pcre2_code_free(r->pc[i]);
	free(r);
	if (!e)
		err[0] = '\0';
	return e;
}

struct redactor *redactor__new(const struct redact_opts *o, char *err, size_t errlen)
{
	static _Atomic uint64_t last_id;
	struct redactor *r = calloc(1, sizeof(*r));

	snprintf(err, errlen, "redaction: out of memory");
	if (!r)
		return NULL;
	r->id = ++last_id;
	r->enabled = o->enabled;
	r->lock = malloc(sizeof(*r->lock));
	r->counts = calloc(REDACT_MAX_RULES, sizeof(*r->counts));
	r->clean = calloc(CLEAN_SLOTS, sizeof(*r->clean));
	if (!r->lock || !r->counts || !r->clean) {
		free(r->lock);
		r->lock = NULL;
		goto out_free;
	}
	pthread_mutex_init(r->lock, NULL);
	if (r->enabled && setup(r, o, err, errlen))
		goto out_free;
	err[0] = '\0';
	return r;

out_free:
	redactor__free(r);
	return NULL;
}

void redactor__free(struct redactor *r)
{
	if (!r)
		return;
	hs_free_scratch(r->scratch);
	hs_free_database(r->db);
	for (int i = 0; i < REDACT_MAX_RULES; i++)
		pcre2_code_free(r->pc[i]);
	pcre2_match_data_free(r->md);
	if (r->lock)
		pthread_mutex_destroy(r->lock);
	free(r->lock);
	free(r->cand.v);
	free(r->sp.v);
	free(r->counts);
	free(r->pad);
	free(r->map);
	free(r->clean);
	free(r);
}

static struct redactor *default_r;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_build(void)
{
	struct redact_opts o;
	char err[256];

	redact_opts__defaults(&o);
	default_r = redactor__new(&o, err, sizeof(err));
	if (!default_r)
		fprintf(stderr, "sockaudit: %s\n", err);
}

const struct redactor *redactor__default(void)
{
	pthread_once(&default_once, default_build);
	return default_r;
}

/* ---- scanning ---- */

static bool spans_push(struct spans *v, size_t from, size_t to, int rule)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct span *c = realloc(v->v, cap * sizeof(*c));

		if (!c) {
			v->oom = true;
			return false;
		}
		v->v = c;
		v->cap = cap;
	}
	v->v[v->n++] = (struct span){ from, to, rule };
	return true;
}

/* Hyperscan only says which rules occur (SINGLEMATCH: once each). */
static int on_match(unsigned id, unsigned long long from, unsigned long long to,
		    unsigned flags, void *ctx)
{
	struct redactor *r = ctx;

	r->fired |= 1ULL << id;
	return 0;
}

/* Where rule i matches in s: each match becomes a candidate region. */
static bool locate(struct redactor *r, int i, const uint8_t *s, size_t n)
{
	PCRE2_SIZE at = 0, *ov = pcre2_get_ovector_pointer(r->md);

	if (r->native[i])	/* its refine step reads the whole text */
		return spans_push(&r->cand, 0, n, i);

	/* 0 is a match too: the ovector is kept small, groups are not needed */
	while (at < n && pcre2_match(r->pc[i], s, n, at, 0, r->md, NULL) >= 0) {
		if (!spans_push(&r->cand, ov[0], ov[1], i))
			return false;
		at = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	}
	return true;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to > y->to ? -1 : 1;
	return x->rule - y->rule;
}

/*
 * Candidate regions become spans to replace, in the offsets of the text
 * the caller gave: map (when the scanned text is a decoded copy) gives the
 * original offset of each scanned byte, map[n] the original length.
 */
static void refine_all(struct redactor *r, const uint8_t *s, size_t n, const uint32_t *map)
{
	struct span tmp[32];
	size_t i, k, j;

	for (i = 0; i < r->cand.n; i++) {
		struct span c = r->cand.v[i];

		k = r->refine[c.rule] ? r->refine[c.rule](s, n, c.from, c.to, tmp, 32) :
					one(tmp, 32, c.from, c.to);
		for (j = 0; j < k; j++)
			if (!spans_push(&r->sp, map ? map[tmp[j].from] : tmp[j].from,
					map ? map[tmp[j].to] : tmp[j].to, c.rule))
				return;
	}
}

static void put_marker(struct jbuf *out, const char *name)
{
	jbuf__raw(out, REDACT_MARK_PREFIX, sizeof(REDACT_MARK_PREFIX) - 1);
	jbuf__raw(out, name, strlen(name));
	jbuf__raw(out, "]", 1);
}

/*
 * s up to keep with the spans replaced. Spans that overlap are one secret
 * (the first marker stands for both, nothing of either is left); a span
 * that starts before keep is replaced whole, even where it runs past it.
 */
static void emit(const struct redactor *r, const uint8_t *s, size_t keep, struct span *sp,
		 size_t nsp, struct jbuf *out, struct redact_hits *hits)
{
	size_t last = 0, i;

	qsort(sp, nsp, sizeof(*sp), span_cmp);
	for (i = 0; i < nsp && sp[i].from < keep; i++) {
		if (sp[i].from < last) {
			last = sp[i].to > last ? sp[i].to : last;
			continue;
		}
		jbuf__raw(out, (const char *)s + last, sp[i].from - last);
		put_marker(out, r->names[sp[i].rule]);
		last = sp[i].to;
		r->counts[sp[i].rule]++;
		if (hits) {
			hits->mask |= 1ULL << sp[i].rule;
			hits->count[sp[i].rule]++;
		}
	}
	if (last < keep)
		jbuf__raw(out, (const char *)s + last, keep - last);
}

/*
 * Hyperscan 5.4.0's AVX-512 VBMI literal matcher reads past the end of the
 * text (vectorscan issue #322): a text that ends just before an unmapped
 * page crashes the scan (our fuzzer found it). Hyperscan and PCRE2's JIT
 * scan a copy followed by zeroed slack instead; offsets are the same.
 */
#define HS_SCAN_SLACK 64

static bool pad_reserve(struct redactor *r, size_t n)
{
	uint8_t *b;

	if (r->pad_cap >= n + HS_SCAN_SLACK)
		return true;
	b = realloc(r->pad, n + HS_SCAN_SLACK);
	if (!b)
		return false;
	r->pad = b;
	r->pad_cap = n + HS_SCAN_SLACK;
	return true;
}

static const uint8_t *scan_copy(struct redactor *r, const uint8_t *s, size_t n)
{
	if (!pad_reserve(r, n))
		return NULL;
	memcpy(r->pad, s, n);
	memset(r->pad + n, 0, HS_SCAN_SLACK);
	return r->pad;
}

static int hexval(uint8_t c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Bytes of the escape at s[i] and its value: %XX, or \u00XX below 0x80; 0 if none. */
static size_t escape_at(const uint8_t *s, size_t n, size_t i, uint8_t *v)
{
	int hi, lo;

	if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
	    (lo = hexval(s[i + 2])) >= 0) {
		*v = (uint8_t)(hi << 4 | lo);
		return 3;
	}
	/* JSON strings keep \uXXXX as written (jsonrpc.c): ASCII ones spell keys too */
	if (s[i] == '\\' && i + 5 < n && s[i + 1] == 'u' && s[i + 2] == '0' && s[i + 3] == '0' &&
	    (hi = hexval(s[i + 4])) >= 0 && hi < 8 && (lo = hexval(s[i + 5])) >= 0) {
		*v = (uint8_t)(hi << 4 | lo);
		return 6;
	}
	return 0;
}

/* Whether s may hold an escape escape_at decodes (memchr is vectorised). */
static bool may_hold_escape(const uint8_t *s, size_t n)
{
	return memchr(s, '%', n) || (memchr(s, '\\', n) && memmem(s, n, "\\u00", 4));
}

/*
 * s decoded (escape_at) into r->pad (zeroed slack after it), r->map[i] the
 * offset in s of decoded byte i, r->map[m] = n. Returns m, or 0 when s
 * holds no escape (nothing new to scan).
 */
static size_t unescape(struct redactor *r, const uint8_t *s, size_t n)
{
	size_t i = 0, m = 0, k;
	bool any = false;
	uint8_t v;

	if (r->map_cap < n + 1) {
		uint32_t *mp = realloc(r->map, (n + 1) * sizeof(*mp));

		if (!mp)
			return 0;
		r->map = mp;
		r->map_cap = n + 1;
	}
	if (!pad_reserve(r, n))
		return 0;
	while (i < n) {
		r->map[m] = (uint32_t)i;
		if ((k = escape_at(s, n, i, &v))) {
			r->pad[m++] = v;
			i += k;
			any = true;
			continue;
		}
		r->pad[m++] = s[i++];
	}
	r->map[m] = (uint32_t)n;
	memset(r->pad + m, 0, HS_SCAN_SLACK);
	return any ? m : 0;
}

/*
 * Spans of every secret in s (s has HS_SCAN_SLACK zeroed bytes after it
 * when padded), appended to r->sp in the caller's offsets (see refine_all).
 */
static int find_spans(struct redactor *r, const uint8_t *s, size_t n, bool padded,
		      const uint32_t *map)
{
	const uint8_t *copy = r->db && !padded ? scan_copy(r, s, n) : s;
	int i;

	r->cand.n = 0;
	r->fired = 0;
	if (!copy)
		return -ENOMEM;
	if (r->db && hs_scan(r->db, (const char *)copy, (unsigned)n, 0, r->scratch, on_match, r) !=
	    HS_SUCCESS)
		return -EIO;
	for (i = 0; i < r->nrules; i++)
		if (r->on[i] && r->native[i] && r->native[i](s, n))
			r->fired |= 1ULL << i;
	for (i = 0; r->fired && i < r->nrules; i++)
		if ((r->fired & (1ULL << i)) && !locate(r, i, copy, n))
			return -ENOMEM;
	refine_all(r, s, n, map);
	return r->cand.oom || r->sp.oom ? -ENOMEM : 0;
}

/*
 * The text as written, then, when it holds an escape, decoded: a key or
 * token spelt with escapes (p%61ssword=, Bearer%20..., p\u0061ssword) is
 * found in the decoded text and replaced in the original. Decoding can
 * also break a match (%26 becomes '&'), so both passes count and their
 * spans are merged.
 */
/*
 * The set of two slots for s, or NULL when s is too long to be remembered.
 * The hash takes eight bytes per step (a multiply-xorshift over words, the
 * last word zero-padded): a per-byte hash cost more than the rest of a
 * remembered text's lookup. Any spread will do: a slot is compared whole.
 */
static struct clean_slot *clean_set(struct redactor *r, const uint8_t *s, size_t n)
{
	uint64_t h = n * 0x9e3779b97f4a7c15ULL, w;
	size_t i;

	if (n > CLEAN_MAX)
		return NULL;
	for (i = 0; i < n; i += 8) {
		w = 0;
		memcpy(&w, s + i, n - i < 8 ? n - i : 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	return &r->clean[(h ^ h >> 16) % (CLEAN_SLOTS / 2) * 2];
}

static bool clean_is(const struct clean_slot *c, const uint8_t *s, size_t n)
{
	return c->len == n && !memcmp(c->text, s, n);
}

static bool clean_known(const struct clean_slot *set, const uint8_t *s, size_t n)
{
	return set && (clean_is(&set[0], s, n) || clean_is(&set[1], s, n));
}

/* s goes first in its set; what was first moves second, the second goes. */
static void clean_remember(struct clean_slot *set, const uint8_t *s, size_t n)
{
	set[1] = set[0];
	memcpy(set[0].text, s, n);
	set[0].len = (uint8_t)n;
}

static int scan_locked(struct redactor *r, const uint8_t *s, size_t n, size_t keep,
		       struct jbuf *out, struct redact_hits *hits)
{
	struct clean_slot *c = clean_set(r, s, n);
	size_t m;
	int err;

	if (clean_known(c, s, n)) {
		jbuf__raw(out, (const char *)s, keep);
		return 0;
	}
	r->sp.n = 0;
	r->cand.oom = r->sp.oom = false;
	if ((err = find_spans(r, s, n, false, NULL)))
		return err;
	if (may_hold_escape(s, n) && (m = unescape(r, s, n)) &&
	    (err = find_spans(r, r->pad, m, true, r->map)))
		return err;
	if (!r->sp.n) {
		if (c)
			clean_remember(c, s, n);
		jbuf__raw(out, (const char *)s, keep);
		return 0;
	}
	emit(r, s, keep, r->sp.v, r->sp.n, out, hits);
	return 0;
}

int redactor__redact_cut(const struct redactor *cr, const uint8_t *s, size_t n, size_t keep,
			 struct jbuf *out, struct redact_hits *hits)
{
	struct redactor *r = (struct redactor *)cr;	/* scan state only, under the lock */
	int err;

	if (keep > n)
		keep = n;
	if (!r->enabled || !r->md || n < r->min_len || !n) {
		jbuf__raw(out, (const char *)s, keep);
		return 0;
	}
	if (n > UINT32_MAX - 1)
		return -E2BIG;
	pthread_mutex_lock(r->lock);
	err = scan_locked(r, s, n, keep, out, hits);
	pthread_mutex_unlock(r->lock);
	return err;
}

int redactor__redact(const struct redactor *r, const uint8_t *s, size_t n, struct jbuf *out,
		     struct redact_hits *hits)
{
	return redactor__redact_cut(r, s, n, n, out, hits);
}

uint64_t redactor__id(const struct redactor *r)
{
	return r->id;
}

size_t redactor__nrules(const struct redactor *r)
{
	return (size_t)r->nrules;
}

const char *redactor__rule_name(const struct redactor *r, size_t i)
{
	return i < (size_t)r->nrules ? r->names[i] : NULL;
}

uint64_t redactor__count(const struct redactor *r, size_t i)
{
	return i < (size_t)r->nrules ? r->counts[i] : 0;
}

bool redactor__rule_on(const struct redactor *r, size_t i)
{
	return i < (size_t)r->nrules && r->enabled && r->on[i];
}
