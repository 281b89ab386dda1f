/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Invariants shared by the sanitize/redact/format fuzz harnesses: a record
 * is one line, safe text, valid for its format (a strict JSON parser, the
 * RFC 5424 and CEF grammars as regular expressions, RFC 4180 quoting), and
 * holds no planted secret. Secrets are planted between newlines so the
 * fuzzed bytes around them cannot make them something else (a longer
 * number, a word) — only hide them further.
 */
#ifndef SOCKAUDIT_FUZZ_CHECK_H
#define SOCKAUDIT_FUZZ_CHECK_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"
#include "../format_grammar.h"

struct planted {
	const char *text;	/* what is inserted */
	const char *secret;	/* what must not come out */
};

static const struct planted plants[] = {
	{ "Authorization: Bearer abcdefgh12345678", "abcdefgh12345678" },
	{ "4111 1111 1111 1111", "4111 1111 1111 1111" },
	{ "5500-0000-0000-0004", "5500-0000-0000-0004" },
	{ "ssn 123-45-6789", "123-45-6789" },
	{ "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE" },
	{ "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB", "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB" },
	{ "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig", "eyJzdWIiOiIxMjM0In0" },
	{ "password=hunter2hunter2", "hunter2hunter2" },
	{ "jane.doe@example.com", "jane.doe@example.com" },
	{ "sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz" },
	/* spellings that got past the redactor before issue 13 */
	{ "p%61ssword=hunter2hunter2", "hunter2hunter2" },
	{ "Bearer%20abcdefgh12345678", "abcdefgh12345678" },
	{ "4111.1111.1111.1111", "4111.1111.1111.1111" },
	{ "4111%201111%201111%201111", "4111%201111%201111%201111" },
	{ "p\\u0061ssword=hunter2hunter2", "hunter2hunter2" },
};

#define NPLANTS (sizeof(plants) / sizeof(plants[0]))

/* data with "\n<plant>\n" inserted at a place chosen by the first byte; caller frees. */
static uint8_t *fuzz_plant(const uint8_t *data, size_t size, size_t *out_len, int *which)
{
	const struct planted *p;
	size_t at, plen;
	uint8_t *buf;

	*which = size ? data[0] % NPLANTS : 0;
	p = &plants[*which];
	plen = strlen(p->text);
	at = size > 1 ? data[1] % size : 0;
	buf = malloc(size + plen + 2);
	if (!buf)
		abort();
	memcpy(buf, data, at);
	buf[at] = '\n';
	memcpy(buf + at + 1, p->text, plen);
	buf[at + 1 + plen] = '\n';
	memcpy(buf + at + 2 + plen, data + at, size - at);
	*out_len = size + plen + 2;
	return buf;
}

/* Occurrences of needle in s[0..n). */
static size_t count_in(const void *s, size_t n, const char *needle)
{
	size_t k = 0, m = strlen(needle);
	const uint8_t *p = s, *end = p + n, *q;

	while ((q = memmem(p, (size_t)(end - p), needle, m))) {
		k++;
		p = q + 1;
	}
	return k;
}

/*
 * Copies of the secret the fuzzer wrote itself, glued to other text
 * ("xghp_..."), are not secrets at a boundary and may stay; the planted one
 * must go: fewer copies out than in the stripped planted text. Counted on
 * the planted text, not the fuzzed bytes alone: the plant can split an
 * escape sequence, and then bytes the sequence would have swallowed
 * (a copy of the secret among them) are left as text.
 */
static size_t secret_budget(const uint8_t *planted, size_t size, int which)
{
	uint8_t *tmp = malloc(size + 1);
	size_t used, m, k;

	if (!tmp)
		abort();
	m = sanitize__strip(tmp, size, planted, size, &used);
	k = count_in(tmp, m, plants[which].secret);
	free(tmp);
	return k ? k - 1 : 0;
}

static void fuzz_fail(const char *what, const char *rec)
{
	fprintf(stderr, "invariant broken: %s\nrecord: %s\n", what, rec);
	abort();
}

/* ---- a strict JSON parser (RFC 8259), enough to say valid or not ---- */

static const char *js_value(const char *s, int depth);

static const char *js_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static const char *js_string(const char *s)
{
	if (*s++ != '"')
		return NULL;
	while (*s != '"') {
		if ((unsigned char)*s < 0x20)
			return NULL;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i])
						return NULL;
				s += 4;
			} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
				return NULL;
			}
		}
		s++;
	}
	return s + 1;
}

static const char *js_number(const char *s)
{
	const char *b = s;

	if (*s == '-')
		s++;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	return s > b ? s : NULL;
}

static const char *js_members(const char *s, char close, bool obj, int depth)
{
	s = js_ws(s);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (obj) {
			if (!(s = js_string(js_ws(s))))
				return NULL;
			s = js_ws(s);
			if (*s++ != ':')
				return NULL;
		}
		if (!(s = js_value(s, depth + 1)))
			return NULL;
		s = js_ws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}

static const char *js_value(const char *s, int depth)
{
	s = js_ws(s);
	if (depth > 32)
		return NULL;
	if (*s == '{')
		return js_members(s + 1, '}', true, depth);
	if (*s == '[')
		return js_members(s + 1, ']', false, depth);
	if (*s == '"')
		return js_string(s);
	if (!strncmp(s, "true", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	if (!strncmp(s, "null", 4))
		return s + 4;
	return js_number(s);
}

static bool json_valid(const char *rec)
{
	const char *e = js_value(rec, 0);

	return e && !strcmp(e, "\n");
}

/* ---- grammars ---- */

static bool rx_match(const char *re, const char *s)
{
	static regex_t rx[2];
	static bool ready[2];
	int k = re[1] == '<' ? 0 : 1;

	if (!ready[k]) {
		if (regcomp(&rx[k], re, REG_EXTENDED | REG_NOSUB))
			abort();
		ready[k] = true;
	}
	return regexec(&rx[k], s, 0, NULL, 0) == 0;
}

/* RFC 4180: fields separated by commas, quoted ones with "" inside; n columns. */
static bool csv_valid(const char *s, int ncols)
{
	int cols = 1;

	while (*s && *s != '\n') {
		if (*s == '"') {
			for (s++;; s++) {
				if (!*s)
					return false;
				if (*s == '"' && s[1] == '"')
					s++;
				else if (*s == '"')
					break;
			}
			s++;
			if (*s != ',' && *s != '\n')
				return false;
			/* a formula guard: quoted text never starts with = + - @ */
		} else if (*s == ',') {
			cols++;
			s++;
		} else {
			s++;
		}
	}
	return *s == '\n' && !s[1] && cols == ncols;
}

/*
 * Occurrences of the secret in a record, not counting those that begin
 * inside an escape: "\x0a" followed by "bcdef..." reads "abcdef...", but
 * the 'a' belongs to the escape of a newline, not to a copied secret.
 */
static size_t count_secret(const char *rec, size_t len, const char *secret)
{
	size_t k = 0, m = strlen(secret);
	const char *p = rec, *end = rec + len, *q;

	while ((q = memmem(p, (size_t)(end - p), secret, m))) {
		size_t at = (size_t)(q - rec), back;
		bool in_escape = false;

		for (back = 2; back <= 9 && back <= at; back++) {
			char c = rec[at - back + 1];

			if (rec[at - back] == '\\' && ((c == 'x' && back <= 3) ||
			    (c == 'u' && back <= 5) || (c == 'U' && back <= 9)))
				in_escape = true;
		}
		k += !in_escape;
		p = q + 1;
	}
	return k;
}

/* Every invariant for one record of the given type. */
static void check_record(const char *type, const char *rec, size_t len, int which,
			 size_t budget)
{
	if (!len || rec[len - 1] != '\n' || memchr(rec, '\n', len - 1) || strlen(rec) != len)
		fuzz_fail("not exactly one line", rec);
	if (!sanitize__is_safe((const uint8_t *)rec, len - 1))
		fuzz_fail("unsafe byte in record", rec);
	if (count_secret(rec, len, plants[which].secret) > budget)
		fuzz_fail("planted secret survived", rec);
	if (!strcmp(type, "json_lines") && !json_valid(rec))
		fuzz_fail("invalid JSON", rec);
	if (!strcmp(type, "syslog") && !rx_match(SYSLOG_RE, rec))
		fuzz_fail("not RFC 5424", rec);
	if (!strcmp(type, "cef") && !rx_match(CEF_RE, rec))
		fuzz_fail("not CEF", rec);
	if (!strcmp(type, "csv") && !csv_valid(rec, 26))
		fuzz_fail("not RFC 4180 with 26 columns", rec);
}

#endif /* SOCKAUDIT_FUZZ_CHECK_H */
