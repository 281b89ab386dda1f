/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Secret redaction: every rule's pattern is compiled into one Hyperscan
 * database and a text is scanned once for all of them (bench/format_bench.c
 * compares this with PCRE2-JIT, one pass per rule). Hyperscan finds
 * candidates; a small per-rule check then decides and narrows them (Luhn
 * for cards, the value after "password=", the whole PEM block...). Each
 * secret is replaced by [REDACTED:<rule name>]. A text holding escapes
 * (%XX, JSON's \u00XX) is scanned a second time decoded (p%61ssword=,
 * Bearer%20..., p\u0061ssword), and what is found there is replaced in
 * the text as written.
 *
 * A redactor is built once from struct redact_opts (the `redaction:`
 * section of the config, docs/formats.md) and is safe to share between
 * threads (its scratch space is locked; formatting is one thread today).
 */
#ifndef SOCKAUDIT_REDACT_H
#define SOCKAUDIT_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "json.h"

#define REDACT_MAX_RULES	64
#define REDACT_NAME_MAX		32	/* rule names: [a-z0-9_], 1..31 characters */
#define REDACT_MARK_PREFIX	"[REDACTED:"
/*
 * Bytes past the end of a body excerpt that are kept and scanned, so that
 * a secret the excerpt cuts is still recognised and replaced whole
 * (redactor__redact_cut); the longest fixed-length secret (a 40-character
 * AWS secret after its key, a spaced card) fits many times over.
 */
#define REDACT_LOOKAHEAD	256

struct redact_custom {
	const char *name;		/* becomes the kind in [REDACTED:<name>] */
	const char *regex;		/* Hyperscan (PCRE-like) syntax */
};

struct redact_opts {
	bool enabled;			/* redaction: enabled (default true) */
	const char *const *disable;	/* built-in rules switched off, by name */
	size_t ndisable;
	const char *const *enable;	/* rules off by default switched on (ipv4, ipv6) */
	size_t nenable;
	const struct redact_custom *custom;	/* redaction: custom_rules */
	size_t ncustom;
};

/* Which rules fired in one text, and how often. */
struct redact_hits {
	uint64_t mask;			/* bit i: rule i fired */
	uint32_t count[REDACT_MAX_RULES];
};

struct redactor;

void redact_opts__defaults(struct redact_opts *o);

/*
 * Build a redactor. NULL on error with a one-line message in err naming
 * the rule and what is wrong (unknown rule name, bad pattern and where).
 */
struct redactor *redactor__new(const struct redact_opts *o, char *err, size_t errlen);
void redactor__free(struct redactor *r);

/*
 * What redactor__new would refuse in o, found without building it (no
 * Hyperscan database, which takes most of a start-up): unknown or bad rule
 * names, and custom patterns PCRE2 or Hyperscan do not take. 0, or
 * -EINVAL / -ENOMEM with redactor__new's message in err. The config
 * reader checks with it; the redactor is built where the sinks open.
 */
int redact_opts__check(const struct redact_opts *o, char *err, size_t errlen);

/* The process-wide redactor with the default options (built on first use). */
const struct redactor *redactor__default(void);

/*
 * Append s with every secret replaced by [REDACTED:kind] to out; hits (may
 * be NULL) accumulates what fired. Returns 0, or -ENOMEM / -EIO when the
 * scan could not run: then nothing of s is appended, so a failure never
 * lets a secret through.
 */
int redactor__redact(const struct redactor *r, const uint8_t *s, size_t n, struct jbuf *out,
		     struct redact_hits *hits);

/*
 * As redactor__redact, but only the first keep bytes of s are written:
 * all n bytes are scanned, and a secret that starts before keep is
 * replaced whole even where it runs past keep (nothing of it is left at
 * the cut). For excerpts: n is the excerpt plus what followed it.
 */
int redactor__redact_cut(const struct redactor *r, const uint8_t *s, size_t n, size_t keep,
			 struct jbuf *out, struct redact_hits *hits);

/*
 * A number no other redactor of this process had or will have (a freed
 * one's address can come back; its id does not): what a cache of texts
 * found clean is keyed on. Never 0.
 */
uint64_t redactor__id(const struct redactor *r);

/* Rules, by index (the bits of redact_hits.mask); counters since start. */
size_t redactor__nrules(const struct redactor *r);
const char *redactor__rule_name(const struct redactor *r, size_t i);
uint64_t redactor__count(const struct redactor *r, size_t i);
bool redactor__rule_on(const struct redactor *r, size_t i);

/* Name of built-in rule i, NULL past the last (docs, config validation). */
const char *redact__builtin_name(size_t i);
/* Its pattern, whether it is caseless and on by default (the benchmark compiles them too). */
const char *redact__builtin_pattern(size_t i, bool *caseless, bool *on);

/* Luhn checksum over the digits of s (other characters skipped). */
bool redact__luhn(const char *s, size_t n);

#endif /* SOCKAUDIT_REDACT_H */
