// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The numeric settings table and its one parser (settings.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "settings.h"
#include "sockaudit/events.h"

#define YEAR_MS (86400ULL * 365 * 1000)

const struct setting settings[SET__COUNT] = {
	{ SET_MAX_CAPTURE, "capture", "max_capture_bytes", "--max-capture", SU_BYTES,
	  1, SA_MAX_CAPTURE, false },
	{ SET_CAPTURE_BUDGET, "capture", "capture_budget_bytes", "--capture-budget", SU_BYTES,
	  1, SA_MAX_BUDGET, false },
	{ SET_RINGBUF_MB, "capture", "ringbuf_mb", "--ringbuf-mb", SU_MIB, 1, 1024, true },
	{ SET_DRAIN_MS, "capture", "drain_ms", "--drain-ms", SU_MS, 1, 1000, false },
	{ SET_REQUEST_TTL, "correlation", "request_ttl_s", "--ttl", SU_SECONDS, 1, YEAR_MS, false },
	{ SET_BODY_EXCERPT, "correlation", "body_excerpt", "--body-excerpt", SU_BYTES,
	  0, SA_MAX_CAPTURE, false },
	{ SET_MAX_PENDING, "correlation", "max_pending_requests", "--max-pending", SU_COUNT,
	  1, 100000000, false },
	{ SET_MAX_PER_CONN, "correlation", "max_pending_per_conn", "--max-pending-per-conn",
	  SU_COUNT, 1, 10000000, false },
	{ SET_MAX_CONNECTIONS, "correlation", "max_connections", "--max-connections", SU_COUNT,
	  1, 10000000, false },
	{ SET_IDLE_TIMEOUT, "correlation", "idle_timeout_s", "--idle-timeout", SU_SECONDS,
	  1, YEAR_MS, false },
	{ SET_WAKEUP_BYTES, NULL, NULL, "--wakeup-bytes", SU_BYTES, 1, 1ULL << 30, false },
	{ SET_PID, NULL, NULL, "--pid", SU_PID, 1, 4194304, false },	/* PID_MAX_LIMIT */
	{ SET_STATS_INTERVAL, "metrics", "stats_interval_s", "--stats-interval", SU_WHOLE_SECONDS,
	  0, 86400, false },
};

static const char *const unit_names[] = {
	[SU_COUNT] = "", [SU_BYTES] = " (bytes)", [SU_MIB] = " (MiB)", [SU_MS] = " (ms)",
	[SU_SECONDS] = " (seconds)", [SU_WHOLE_SECONDS] = " (seconds)", [SU_PID] = " (a process id)",
};

const struct setting *settings__by_key(const char *section, const char *key)
{
	int i;

	for (i = 0; i < SET__COUNT; i++)
		if (settings[i].section && !strcmp(settings[i].section, section) &&
		    !strcmp(settings[i].key, key))
			return &settings[i];
	return NULL;
}

const struct setting *settings__by_flag(const char *flag)
{
	int i;

	for (i = 0; i < SET__COUNT; i++)
		if (settings[i].flag && !strcmp(settings[i].flag, flag))
			return &settings[i];
	return NULL;
}

static size_t digits(const char *s)
{
	return strspn(s, "0123456789");
}

int settings__parse_uint(const char *text, uint64_t lo, uint64_t hi, uint64_t *out)
{
	size_t n = digits(text);
	unsigned long long v;

	/* strtoull alone takes blanks, a sign and (base 0) hex: digits only, as YAML shows them */
	if (!n || text[n] || n > 19)
		return -EINVAL;
	errno = 0;
	v = strtoull(text, NULL, 10);
	if (errno || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* 12, 1.5, .5, 2e3, 1.5E-2: a decimal number, nothing strtod would also take (hex, inf). */
static bool is_decimal(const char *s)
{
	size_t whole = digits(s), frac = 0, n = whole, e;

	if (s[n] == '.') {
		frac = digits(s + n + 1);
		n += 1 + frac;
	}
	if (!whole && !frac)
		return false;
	if (s[n] == 'e' || s[n] == 'E') {
		e = n + 1 + (s[n + 1] == '-' || s[n + 1] == '+');
		if (!digits(s + e))
			return false;
		n = e + digits(s + e);
	}
	return s[n] == '\0';
}

static int parse_seconds(const struct setting *s, const char *text, uint64_t *ns, char *err,
			 size_t errlen)
{
	double v = is_decimal(text) ? strtod(text, NULL) : NAN;

	if (!isfinite(v) || v * 1000 > (double)s->hi) {
		snprintf(err, errlen, "'%s' is not a number of seconds in %.10g..%.10g", text,
			 s->lo / 1000.0, s->hi / 1000.0);
		return -EINVAL;
	}
	if (v * 1000 + 0.5 < (double)s->lo) {	/* rounds to less than 1 ms */
		snprintf(err, errlen, "'%s' is less than 1 ms (it would round to 0); give seconds "
			 "in %.10g..%.10g", text, s->lo / 1000.0, s->hi / 1000.0);
		return -EINVAL;
	}
	*ns = (uint64_t)(v * 1e9 + 0.5);
	return 0;
}

int setting__parse(const struct setting *s, const char *text, uint64_t *out, char *err,
		   size_t errlen)
{
	uint64_t v;

	if (s->unit == SU_SECONDS)
		return parse_seconds(s, text, out, err, errlen);
	if (settings__parse_uint(text, s->lo, s->hi, &v)) {
		snprintf(err, errlen, "'%s' is not a whole number in %llu..%llu%s", text,
			 (unsigned long long)s->lo, (unsigned long long)s->hi, unit_names[s->unit]);
		return -EINVAL;
	}
	if (s->pow2 && (v & (v - 1))) {
		snprintf(err, errlen, "%llu is not a power of two in %llu..%llu%s",
			 (unsigned long long)v, (unsigned long long)s->lo,
			 (unsigned long long)s->hi, unit_names[s->unit]);
		return -EINVAL;
	}
	*out = v;
	return 0;
}
