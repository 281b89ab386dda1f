/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The collector's numeric settings, one table for the command line and the
 * YAML file: each has its YAML key, its flag, its unit and its range, and
 * one parser reads both, so `--ttl 1e-9` and `request_ttl_s: 1e-9` get the
 * same answer (refused: below 1 ms) and no spelling (hex, blanks, a sign)
 * passes in one place but not the other.
 */
#ifndef SOCKAUDIT_SETTINGS_H
#define SOCKAUDIT_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum setting_id {
	SET_MAX_CAPTURE, SET_CAPTURE_BUDGET, SET_RINGBUF_MB, SET_DRAIN_MS, SET_REQUEST_TTL, SET_BODY_EXCERPT,
	SET_MAX_PENDING, SET_MAX_PER_CONN, SET_MAX_CONNECTIONS, SET_IDLE_TIMEOUT,
	SET_WAKEUP_BYTES, SET_PID, SET_STATS_INTERVAL, SET__COUNT
};

enum setting_unit { SU_COUNT, SU_BYTES, SU_MIB, SU_MS, SU_SECONDS, SU_WHOLE_SECONDS, SU_PID };

struct setting {
	enum setting_id id;
	const char *section;	/* YAML section ("capture", "correlation"); NULL: flag only */
	const char *key;	/* YAML key in section */
	const char *flag;	/* command-line flag; NULL: file only */
	enum setting_unit unit;
	uint64_t lo, hi;	/* range, in the unit (seconds: in milliseconds) */
	bool pow2;		/* a power of two (ring buffer pages) */
};

extern const struct setting settings[SET__COUNT];

/* The setting with this YAML key in section, or with this flag; NULL: none. */
const struct setting *settings__by_key(const char *section, const char *key);
const struct setting *settings__by_flag(const char *flag);

/*
 * Parse text as s's value: whole numbers are decimal digits only; seconds
 * are a decimal number (fraction and exponent allowed) of at least 1 ms,
 * returned in nanoseconds. 0, or -EINVAL with err saying what is allowed
 * (without the name: the caller says where the value came from).
 */
int setting__parse(const struct setting *s, const char *text, uint64_t *out, char *err,
		   size_t errlen);

/* Decimal digits only, in lo..hi. 0 or -EINVAL. */
int settings__parse_uint(const char *text, uint64_t lo, uint64_t hi, uint64_t *out);

#endif /* SOCKAUDIT_SETTINGS_H */
