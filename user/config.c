// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * YAML configuration with libyaml's document API: the whole file becomes a
 * node tree whose nodes carry their line, so every error can name file:line.
 * Three passes: the parser's events first (a second document, tags,
 * anchors, aliases, NUL in a value, nesting past CONFIG_MAX_DEPTH: refused
 * before any tree is built), then every mapping of the tree for duplicate
 * keys, then one function per map (top_key, sink_key, capture_key, ...)
 * matching its keys. The collector's numbers are read with the settings
 * table (settings.h), the same parser and ranges as the command line's.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include <openssl/evp.h>
#include "capture.h"
#include "chain.h"
#include "config.h"
#include "format.h"
#include "outpath.h"
#include "redact.h"
#include "settings.h"

#define CONFIG_MAX_BYTES (1u << 20)
/* a config needs 5 levels (auditing_plugins, entry, config, integrity, value) */
#define CONFIG_MAX_DEPTH 16
#define CONFIG_MAX_DEPTH_S "16"

/* Parsing state: the document, where errors go, the key path for messages. */
struct cfg_ctx {
	yaml_document_t doc;
	const char *file;
	char *err;
	size_t errlen;
	char key[160];
};

static int cfg_error(struct cfg_ctx *cx, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One line: FILE:LINE: key 'K': what is wrong and what is allowed. */
static int cfg_error(struct cfg_ctx *cx, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int off;

	off = snprintf(cx->err, cx->errlen, "%s:%lu: key '%s': ", cx->file,
		       n ? (unsigned long)n->start_mark.line + 1 : 1UL, cx->key);
	if (off < 0 || (size_t)off >= cx->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(cx->err + off, cx->errlen - off, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* YAML's null spellings, unquoted: a value the operator did not give. */
static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "~", "null", "Null", "NULL" };
	size_t i;

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp((const char *)n->data.scalar.value, nulls[i]))
			return true;
	return false;
}

static int want_scalar(struct cfg_ctx *cx, const yaml_node_t *n, const char *what,
		       const char **out)
{
	*out = scalar(n);
	if (!*out)
		return cfg_error(cx, n, "expected %s, got a %s", what,
				 n && n->type == YAML_MAPPING_NODE ? "mapping" : "list");
	if (is_null(n))
		return cfg_error(cx, n, "is null ('%s'); give %s or leave the key out", *out, what);
	return 0;
}

/* Whole numbers go through the settings' parser: one spelling for the file and the flags. */
static int parse_u64(struct cfg_ctx *cx, const yaml_node_t *n, uint64_t lo, uint64_t hi,
		     uint64_t *out)
{
	const char *s;

	if (want_scalar(cx, n, "a whole number", &s))
		return -EINVAL;
	if (settings__parse_uint(s, lo, hi, out))
		return cfg_error(cx, n, "'%s' is not a whole number in %llu..%llu", s,
				 (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

static int parse_u32(struct cfg_ctx *cx, const yaml_node_t *n, uint32_t lo, uint32_t hi,
		     uint32_t *out)
{
	uint64_t v;
	int err = parse_u64(cx, n, lo, hi, &v);

	if (!err)
		*out = v;
	return err;
}

static int parse_bool(struct cfg_ctx *cx, const yaml_node_t *n, bool *out)
{
	const char *s;

	if (want_scalar(cx, n, "true or false", &s))
		return -EINVAL;
	if (!strcmp(s, "true") || !strcmp(s, "false")) {
		*out = s[0] == 't';
		return 0;
	}
	return cfg_error(cx, n, "'%s' is not allowed; use true or false", s);
}

/* names[] is NULL-terminated; the index found goes to *out. */
static int parse_enum(struct cfg_ctx *cx, const yaml_node_t *n, const char *const *names,
		      const char *allowed, int *out)
{
	const char *s;
	int i;

	if (want_scalar(cx, n, allowed, &s))
		return -EINVAL;
	for (i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	return cfg_error(cx, n, "'%s' is not allowed; use %s", s, allowed);
}

static int parse_str(struct cfg_ctx *cx, const yaml_node_t *n, char **out)
{
	const char *s;

	if (want_scalar(cx, n, "a string", &s))
		return -EINVAL;
	if (!s[0])
		return cfg_error(cx, n, "is empty; give a value or leave the key out");
	free(*out);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int parse_path(struct cfg_ctx *cx, const yaml_node_t *n, char **out)
{
	char msg[CONFIG_ERR_LEN];
	const char *s;
	int err;

	if (want_scalar(cx, n, "a path", &s))
		return -EINVAL;
	if (!s[0])
		return cfg_error(cx, n, "is empty; give a path");
	free(*out);
	*out = NULL;
	err = outpath__expand(s, out, msg, sizeof(msg));
	if (err == -EINVAL)
		return cfg_error(cx, n, "%s", msg);
	return err;
}

/* ---- sinks ---- */

static const char *const flush_names[] = { "immediate", "batched", "hybrid", NULL };
static const char *const interval_names[] = { "none", "hourly", "daily", NULL };
static const char *const action_names[] = { "warn", "rotate", "suspend", "exit", NULL };
static const char *const attach_names[] = { "tracepoint", "raw_tp", NULL };
static const char *const tls_names[] = { "off", "on", NULL };

/* format.h's format_types: every type has a formatter (and a chain field, chain.h) */
#define sink_types format_types
#define SINK_TYPES_ALLOWED "json_lines, cef, syslog, line or csv"

int config__flush_mode(const char *name, enum flush_mode *out)
{
	int i;

	for (i = 0; flush_names[i]; i++) {
		if (!strcmp(name, flush_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *config__flush_mode_name(enum flush_mode m)
{
	return m <= FLUSH_HYBRID ? flush_names[m] : "unknown";
}

void sink_config__defaults(struct sink_config *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->max_file_size = 10ULL << 20;
	sc->backup_count = 5;
	sc->critical = true;
	sc->flush_mode = FLUSH_IMMEDIATE;
	sc->batch_size = 100;
	sc->batch_interval_ms = 1000;
	sc->event_buffer_size = 100;
	sc->file_mode = 0600;
	sc->gid = (gid_t)-1;
	sc->max_message_length = 10000;
	sc->space_left_action = SPACE_WARN;
	sc->integrity.checkpoint_every = 10000;
	sc->integrity.checkpoint_interval_s = 60;
	sc->forward.window = 256;
	sc->forward.spool_limit = 1ULL << 30;
	sc->forward.reconnect_max_ms = 30000;
}

/* The forward section's strings (one list for free and copy). */
static char **forward_strs(struct forward_config *f, int i)
{
	char **all[] = { &f->target, &f->ca_file, &f->cert_file, &f->key_file, &f->peer_names,
			 &f->cursor_file, &f->hostname };

	return i < (int)(sizeof(all) / sizeof(all[0])) ? all[i] : NULL;
}

void sink_config__free(struct sink_config *sc)
{
	if (!sc)
		return;
	free(sc->type);
	free(sc->output_file);
	free(sc->base_directory);
	free(sc->log_group);
	free(sc->integrity.key_file);
	free(sc->integrity.state_file);
	free(sc->integrity.anchor_file);
	sc->type = sc->output_file = sc->base_directory = sc->log_group = NULL;
	sc->integrity.key_file = sc->integrity.state_file = sc->integrity.anchor_file = NULL;
	for (int i = 0; forward_strs(&sc->forward, i); i++) {
		free(*forward_strs(&sc->forward, i));
		*forward_strs(&sc->forward, i) = NULL;
	}
}

static int dup_or_null(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

static int forward_copy(struct forward_config *dst, const struct forward_config *src)
{
	int e = 0;

	for (int i = 0; forward_strs(dst, i); i++)
		e |= dup_or_null(forward_strs(dst, i), *forward_strs((struct forward_config *)src, i));
	return e;
}

int sink_config__copy(struct sink_config *dst, const struct sink_config *src)
{
	*dst = *src;
	if (dup_or_null(&dst->type, src->type) | dup_or_null(&dst->output_file, src->output_file) |
	    dup_or_null(&dst->base_directory, src->base_directory) |
	    dup_or_null(&dst->log_group, src->log_group) |
	    dup_or_null(&dst->integrity.key_file, src->integrity.key_file) |
	    dup_or_null(&dst->integrity.state_file, src->integrity.state_file) |
	    dup_or_null(&dst->integrity.anchor_file, src->integrity.anchor_file) |
	    forward_copy(&dst->forward, &src->forward)) {
		sink_config__free(dst);
		return -ENOMEM;
	}
	return 0;
}

int sink_config__set_output(struct sink_config *sc, const char *path, char *err, size_t errlen)
{
	char *p = NULL;
	int e;

	if (!path[0]) {
		snprintf(err, errlen, "the audit log path is empty; give a file path");
		return -EINVAL;
	}
	e = outpath__expand(path, &p, err, errlen);
	if (e)
		return e;
	free(sc->output_file);
	sc->output_file = p;
	return 0;
}

static int parse_file_mode(struct cfg_ctx *cx, const yaml_node_t *n, uint32_t *out)
{
	const char *s;
	char *end;
	unsigned long v;

	if (want_scalar(cx, n, "0600 or 0640", &s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 8);
	/* strtoul takes blanks and a sign: octal digits only, as the flags' numbers */
	if (errno || !s[0] || s[strspn(s, "01234567")] || (v != 0600 && v != 0640))
		return cfg_error(cx, n, "'%s' is not allowed; use 0600, or 0640 with log_group", s);
	*out = v;
	return 0;
}

static int parse_group(struct cfg_ctx *cx, const yaml_node_t *n, struct sink_config *sc)
{
	struct group *gr;
	int err = parse_str(cx, n, &sc->log_group);

	if (err)
		return err;
	gr = getgrnam(sc->log_group);
	if (!gr)
		return cfg_error(cx, n, "group '%s' does not exist; give an existing group name",
				 sc->log_group);
	sc->gid = gr->gr_gid;
	return 0;
}

/* One key of a sink's integrity: map. */
static int integrity_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	struct integrity_config *ic = arg;

	if (!strcmp(k, "key_file"))
		return parse_path(cx, v, &ic->key_file);
	if (!strcmp(k, "state_file"))
		return parse_path(cx, v, &ic->state_file);
	if (!strcmp(k, "anchor_file"))
		return parse_path(cx, v, &ic->anchor_file);
	if (!strcmp(k, "checkpoint_every_records"))
		return parse_u32(cx, v, 0, 100000000, &ic->checkpoint_every);
	if (!strcmp(k, "checkpoint_interval_s"))
		return parse_u32(cx, v, 0, 86400, &ic->checkpoint_interval_s);
	return cfg_error(cx, v, "unknown key; allowed: key_file, state_file, anchor_file, "
			 "checkpoint_every_records, checkpoint_interval_s");
}

/* One key of a sink's forward: map (docs/fleet.md). */
static int forward_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	struct forward_config *f = arg;
	uint64_t mb;
	int err;

	if (!strcmp(k, "target"))
		return parse_str(cx, v, &f->target);
	if (!strcmp(k, "ca_file"))
		return parse_path(cx, v, &f->ca_file);
	if (!strcmp(k, "cert_file"))
		return parse_path(cx, v, &f->cert_file);
	if (!strcmp(k, "key_file"))
		return parse_path(cx, v, &f->key_file);
	if (!strcmp(k, "peer_names"))
		return parse_str(cx, v, &f->peer_names);
	if (!strcmp(k, "cursor_file"))
		return parse_path(cx, v, &f->cursor_file);
	if (!strcmp(k, "hostname"))
		return parse_str(cx, v, &f->hostname);
	if (!strcmp(k, "window"))
		return parse_u32(cx, v, 1, 65536, &f->window);
	if (!strcmp(k, "reconnect_max_ms"))
		return parse_u32(cx, v, 100, 3600000, &f->reconnect_max_ms);
	if (!strcmp(k, "nice"))
		return parse_u32(cx, v, 0, 19, &f->nice);
	if (!strcmp(k, "spool_limit_mb")) {
		err = parse_u64(cx, v, 0, 1 << 30, &mb);
		f->spool_limit = mb << 20;
		return err;
	}
	if (!strcmp(k, "spool_limit_kb")) {	/* small limits for tests and tiny hosts */
		err = parse_u64(cx, v, 0, 1ULL << 40, &mb);
		f->spool_limit = mb << 10;
		return err;
	}
	return cfg_error(cx, v, "unknown key; allowed: target, ca_file, cert_file, key_file, "
			 "peer_names, cursor_file, hostname, window, reconnect_max_ms, "
			 "spool_limit_mb, spool_limit_kb, nice");
}

typedef int (*key_fn)(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg);
static int each_key(struct cfg_ctx *cx, const yaml_node_t *map, const char *prefix, key_fn fn,
		    void *arg);

/* One key of a sink's config: map. */
static int sink_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v,
		    struct sink_config *sc)
{
	uint64_t mb;
	int e, err;

	if (!strcmp(k, "output_file"))
		return parse_path(cx, v, &sc->output_file);
	if (!strcmp(k, "base_directory"))
		return parse_path(cx, v, &sc->base_directory);
	if (!strcmp(k, "max_file_size_mb")) {
		err = parse_u64(cx, v, 0, 1 << 20, &mb);
		sc->max_file_size = mb << 20;
		return err;
	}
	if (!strcmp(k, "space_left_mb")) {
		err = parse_u64(cx, v, 0, 1 << 30, &mb);
		sc->space_left = mb << 20;
		return err;
	}
	if (!strcmp(k, "backup_count"))
		return parse_u32(cx, v, 0, 1000, &sc->backup_count);
	if (!strcmp(k, "max_age_days"))
		return parse_u32(cx, v, 0, 36500, &sc->max_age_days);
	if (!strcmp(k, "batch_size"))
		return parse_u32(cx, v, 1, 1000000, &sc->batch_size);
	if (!strcmp(k, "batch_interval_ms"))
		return parse_u32(cx, v, 1, 3600000, &sc->batch_interval_ms);
	if (!strcmp(k, "event_buffer_size"))
		return parse_u32(cx, v, 0, 1000000, &sc->event_buffer_size);
	if (!strcmp(k, "max_message_length"))
		return parse_u32(cx, v, FORMAT_MAX_MESSAGE_MIN, 16 << 20, &sc->max_message_length);
	if (!strcmp(k, "file_mode"))
		return parse_file_mode(cx, v, &sc->file_mode);
	if (!strcmp(k, "log_group"))
		return parse_group(cx, v, sc);
	if (!strcmp(k, "compress"))
		return parse_bool(cx, v, &sc->compress);
	if (!strcmp(k, "critical"))
		return parse_bool(cx, v, &sc->critical);
	if (!strcmp(k, "allow_shared_directory"))
		return parse_bool(cx, v, &sc->allow_shared_directory);
	if (!strcmp(k, "rotate_interval")) {
		err = parse_enum(cx, v, interval_names, "none, hourly or daily", &e);
		sc->rotate_interval = e;
		return err;
	}
	if (!strcmp(k, "flush_mode")) {
		err = parse_enum(cx, v, flush_names, "immediate, batched or hybrid", &e);
		sc->flush_mode = e;
		return err;
	}
	if (!strcmp(k, "integrity")) {
		char prefix[sizeof(cx->key)];

		snprintf(prefix, sizeof(prefix), "%s", cx->key);
		return each_key(cx, v, prefix, integrity_key, &sc->integrity);
	}
	if (!strcmp(k, "forward")) {
		char prefix[sizeof(cx->key)];

		snprintf(prefix, sizeof(prefix), "%s", cx->key);
		return each_key(cx, v, prefix, forward_key, &sc->forward);
	}
	if (!strcmp(k, "space_left_action")) {
		err = parse_enum(cx, v, action_names, "warn, rotate, suspend or exit", &e);
		sc->space_left_action = e;
		return err;
	}
	return cfg_error(cx, v, "unknown key; allowed: output_file, max_file_size_mb, "
			 "backup_count, rotate_interval, compress, max_age_days, critical, "
			 "flush_mode, batch_size, batch_interval_ms, event_buffer_size, "
			 "base_directory, file_mode, log_group, space_left_mb, space_left_action, "
			 "max_message_length, integrity, allow_shared_directory, forward");
}

/* Call fn for every key of a mapping, with cx->key set to prefix.key. */
static int each_key(struct cfg_ctx *cx, const yaml_node_t *map, const char *prefix, key_fn fn,
		    void *arg)
{
	yaml_node_pair_t *pr;

	if (!map || map->type != YAML_MAPPING_NODE) {
		snprintf(cx->key, sizeof(cx->key), "%s", prefix);
		return cfg_error(cx, map, "expected a mapping of keys");
	}
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		const yaml_node_t *kn = yaml_document_get_node(&cx->doc, pr->key);
		const yaml_node_t *vn = yaml_document_get_node(&cx->doc, pr->value);
		const char *k = scalar(kn);
		int err;

		snprintf(cx->key, sizeof(cx->key), "%s%s%s", prefix, prefix[0] ? "." : "",
			 k ? k : "?");
		if (!k)
			return cfg_error(cx, kn, "keys must be plain names");
		err = fn(cx, k, vn, arg);
		if (err)
			return err;
	}
	return 0;
}

static int sink_config_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	return sink_key(cx, k, v, arg);
}

static int plugin_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	struct sink_config *sc = arg;
	char prefix[sizeof(cx->key)];
	int t;

	if (!strcmp(k, "type")) {
		if (parse_enum(cx, v, sink_types, SINK_TYPES_ALLOWED, &t))
			return -EINVAL;
		return parse_str(cx, v, &sc->type);
	}
	if (!strcmp(k, "config")) {
		snprintf(prefix, sizeof(prefix), "%s", cx->key);
		return each_key(cx, v, prefix, sink_config_key, sc);
	}
	return cfg_error(cx, v, "unknown key; allowed: type, config");
}

/* Cross-key rules, checked once the entry is read. */
static int sink_check(struct cfg_ctx *cx, const yaml_node_t *n, struct sink_config *sc)
{
	if (!sc->type)
		return cfg_error(cx, n, "missing 'type'; use " SINK_TYPES_ALLOWED);
	if (!sc->output_file)
		return cfg_error(cx, n, "missing 'config.output_file'; give the audit log's path");
	if (sc->file_mode == 0640 && !sc->log_group)
		return cfg_error(cx, n, "file_mode 0640 needs log_group; set log_group or use 0600");
	if (sc->output_file[0] != '/' && !sc->base_directory)
		return cfg_error(cx, n, "output_file '%s' is relative; give an absolute path or "
				 "set base_directory", sc->output_file);
	if (!sc->integrity.key_file &&
	    (sc->integrity.state_file || sc->integrity.anchor_file))
		return cfg_error(cx, n, "integrity needs key_file; make one with "
				 "`sockaudit keygen FILE` and set integrity.key_file");
	if (sc->forward.target && (!sc->forward.ca_file || !sc->forward.peer_names ||
				   !strrchr(sc->forward.target, ':')))
		return cfg_error(cx, n, "forward needs target (host:port), ca_file and peer_names "
				 "(TLS is not optional)");
	if (sc->forward.target && !sc->forward.cert_file != !sc->forward.key_file)
		return cfg_error(cx, n, "forward needs cert_file and key_file together");
	if (sc->forward.target && !sc->backup_count)
		return cfg_error(cx, n, "forward needs backup_count of 1 or more: rotated files "
				 "are shipped from FILE.1");
	if (sc->base_directory && sc->base_directory[0] != '/')
		return cfg_error(cx, n, "base_directory '%s' must be an absolute path",
				 sc->base_directory);
	return 0;
}

static int parse_plugins(struct cfg_ctx *cx, const yaml_node_t *seq, struct config *c)
{
	yaml_node_item_t *it;

	if (seq->type != YAML_SEQUENCE_NODE)
		return cfg_error(cx, seq, "expected a list of {type, config} entries");
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		const yaml_node_t *n = yaml_document_get_node(&cx->doc, *it);
		struct sink_config *sc = &c->sinks[c->n_sinks];
		char prefix[48];

		snprintf(prefix, sizeof(prefix), "auditing_plugins[%d]", c->n_sinks);
		snprintf(cx->key, sizeof(cx->key), "%s", prefix);
		if (c->n_sinks == CONFIG_MAX_SINKS)
			return cfg_error(cx, n, "too many sinks; at most %d", CONFIG_MAX_SINKS);
		sink_config__defaults(sc);
		sc->line = n->start_mark.line + 1;
		c->n_sinks++;
		if (each_key(cx, n, prefix, plugin_key, sc))
			return -EINVAL;
		snprintf(cx->key, sizeof(cx->key), "%s", prefix);
		if (sink_check(cx, n, sc))
			return -EINVAL;
	}
	return 0;
}

/* ---- collector settings ---- */

/* fd_kinds: [sockets, pipes]. Sockets are always audited; pipes means stdin/stdout. */
static int parse_fd_kinds(struct cfg_ctx *cx, const yaml_node_t *v, bool *pipes)
{
	const yaml_node_item_t *it;
	bool sockets = false;

	if (v->type != YAML_SEQUENCE_NODE)
		return cfg_error(cx, v, "a list of fd kinds: sockets, pipes");
	*pipes = false;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *n = yaml_document_get_node(&cx->doc, *it);
		const char *s;

		if (want_scalar(cx, n, "sockets or pipes", &s))
			return -EINVAL;
		if (!strcmp(s, "sockets"))
			sockets = true;
		else if (!strcmp(s, "pipes"))
			*pipes = true;
		else
			return cfg_error(cx, n, "unknown fd kind '%s'; allowed: sockets, pipes", s);
	}
	if (!sockets)
		return cfg_error(cx, v, "sockets are always audited: list sockets (and pipes)");
	return 0;
}

/* The value of a key of the settings table (settings.h): parsed as its flag is. */
static int table_value(struct cfg_ctx *cx, const struct setting *st, const yaml_node_t *v,
		       uint64_t *val)
{
	char msg[CONFIG_ERR_LEN];
	const char *s;

	if (want_scalar(cx, v, st->unit == SU_SECONDS ? "a number of seconds" : "a whole number",
			&s))
		return -EINVAL;
	if (setting__parse(st, s, val, msg, sizeof(msg)))
		return cfg_error(cx, v, "%s", msg);
	return 0;
}

static int setting_key(struct cfg_ctx *cx, const struct setting *st, const yaml_node_t *v,
		       struct collector_config *cc)
{
	uint64_t val;

	if (table_value(cx, st, v, &val))
		return -EINVAL;
	collector_config__set(cc, st->id, val);
	return 0;
}

static int capture_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	const struct setting *st = settings__by_key("capture", k);
	struct collector_config *cc = arg;

	if (st)
		return setting_key(cx, st, v, cc);
	if (!strcmp(k, "attach")) {
		cc->has_attach = true;
		return parse_enum(cx, v, attach_names, "tracepoint or raw_tp", &cc->attach);
	}
	if (!strcmp(k, "fd_kinds")) {
		cc->has_fd_kinds = true;
		return parse_fd_kinds(cx, v, &cc->capture_pipes);
	}
	if (!strcmp(k, "tls")) {
		int on = 0, err = parse_enum(cx, v, tls_names, "on or off", &on);

		cc->tls = on, cc->has_tls = true;
		return err;
	}
	return cfg_error(cx, v, "unknown key; allowed: max_capture_bytes, capture_budget_bytes, "
			 "attach, ringbuf_mb, drain_ms, fd_kinds, tls");
}

static int correlation_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	const struct setting *st = settings__by_key("correlation", k);

	if (st)
		return setting_key(cx, st, v, arg);
	return cfg_error(cx, v, "unknown key; allowed: request_ttl_s, body_excerpt, "
			 "max_pending_requests, max_pending_per_conn, max_connections, "
			 "idle_timeout_s");
}

void collector_config__set(struct collector_config *cc, enum setting_id id, uint64_t v)
{
	switch (id) {
	case SET_MAX_CAPTURE:
		cc->max_capture_bytes = v, cc->has_max_capture = true;
		break;
	case SET_CAPTURE_BUDGET:
		cc->capture_budget_bytes = v;
		break;
	case SET_RINGBUF_MB:
		cc->ringbuf_mb = v, cc->has_ringbuf = true;
		break;
	case SET_DRAIN_MS:
		cc->drain_ms = v, cc->has_drain = true;
		break;
	case SET_REQUEST_TTL:
		cc->request_ttl_ns = v, cc->request_ttl_s = v / 1e9, cc->has_ttl = true;
		break;
	case SET_BODY_EXCERPT:
		cc->body_excerpt = v, cc->has_excerpt = true;
		break;
	case SET_MAX_PENDING:
		cc->max_pending = v;
		break;
	case SET_MAX_PER_CONN:
		cc->max_pending_per_conn = v;
		break;
	case SET_MAX_CONNECTIONS:
		cc->max_connections = v;
		break;
	case SET_IDLE_TIMEOUT:
		cc->idle_timeout_ns = v, cc->idle_timeout_s = v / 1e9;
		break;
	case SET_WAKEUP_BYTES:
		cc->wakeup_bytes = v;
		break;
	case SET_PID:
	case SET_STATS_INTERVAL:	/* a metrics: value (struct metrics_config) */
	case SET__COUNT:
		break;	/* pids are a list (collector_opts), not a setting value */
	}
}

/* A list of scalars: each passed to fn with its index. */
static int each_item(struct cfg_ctx *cx, const yaml_node_t *seq,
		     int (*fn)(struct cfg_ctx *, const yaml_node_t *, struct critical_rules *),
		     struct critical_rules *r)
{
	yaml_node_item_t *it;

	if (seq->type != YAML_SEQUENCE_NODE)
		return cfg_error(cx, seq, "expected a list");
	if (seq->data.sequence.items.top - seq->data.sequence.items.start > CONFIG_MAX_RULES)
		return cfg_error(cx, seq, "too many entries; at most %d", CONFIG_MAX_RULES);
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++)
		if (fn(cx, yaml_document_get_node(&cx->doc, *it), r))
			return -EINVAL;
	return 0;
}

static int rule_status(struct cfg_ctx *cx, const yaml_node_t *n, struct critical_rules *r)
{
	uint32_t v;
	int err = parse_u32(cx, n, 100, 599, &v);

	if (!err)
		r->http_status[r->n_status++] = v;
	return err;
}

static int rule_method(struct cfg_ctx *cx, const yaml_node_t *n, struct critical_rules *r)
{
	r->methods[r->n_methods] = NULL;
	if (parse_str(cx, n, &r->methods[r->n_methods]))
		return -EINVAL;
	r->n_methods++;
	return 0;
}

static int rule_prefix(struct cfg_ctx *cx, const yaml_node_t *n, struct critical_rules *r)
{
	r->target_prefixes[r->n_prefixes] = NULL;
	if (parse_str(cx, n, &r->target_prefixes[r->n_prefixes]))
		return -EINVAL;
	r->n_prefixes++;
	return 0;
}

static int rules_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	if (!strcmp(k, "http_status"))
		return each_item(cx, v, rule_status, arg);
	if (!strcmp(k, "methods"))
		return each_item(cx, v, rule_method, arg);
	if (!strcmp(k, "target_prefixes"))
		return each_item(cx, v, rule_prefix, arg);
	return cfg_error(cx, v, "unknown key; allowed: http_status, methods, target_prefixes");
}

/* ---- redaction (docs/formats.md) ---- */

/* What the section says, with the node of each name so errors can point at it. */
struct redact_section {
	struct redact_opts ro;
	const char *disable[REDACT_MAX_RULES], *enable[REDACT_MAX_RULES];
	struct redact_custom custom[REDACT_MAX_RULES];
	const yaml_node_t *node[3 * REDACT_MAX_RULES];	/* each name given, in file order */
	const char *node_name[3 * REDACT_MAX_RULES];
	int nnodes;
	const yaml_node_t *section;
};

/* A list of rule names (disable, enable): pointers into the document. */
static int rule_names(struct cfg_ctx *cx, const yaml_node_t *seq, struct redact_section *rs,
		      const char **names, size_t *n)
{
	const yaml_node_item_t *it;
	const char *s;

	if (seq->type != YAML_SEQUENCE_NODE)
		return cfg_error(cx, seq, "expected a list of rule names, e.g. [email, ipv4]");
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		const yaml_node_t *item = yaml_document_get_node(&cx->doc, *it);

		if (want_scalar(cx, item, "a rule name", &s))
			return -EINVAL;
		if (*n == REDACT_MAX_RULES)
			return cfg_error(cx, item, "too many rule names; at most %d",
					 REDACT_MAX_RULES);
		names[(*n)++] = s;
		rs->node_name[rs->nnodes] = s;
		rs->node[rs->nnodes++] = item;
	}
	return 0;
}

/* One custom_rules entry: {name, regex}. */
static int custom_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	struct redact_custom *c = arg;

	if (!strcmp(k, "name"))
		return want_scalar(cx, v, "a rule name", &c->name);
	if (!strcmp(k, "regex"))
		return want_scalar(cx, v, "a regular expression", &c->regex);
	return cfg_error(cx, v, "unknown key; allowed: name, regex");
}

static int custom_rules(struct cfg_ctx *cx, const yaml_node_t *seq, struct redact_section *rs)
{
	const yaml_node_item_t *it;
	char prefix[64];

	if (seq->type != YAML_SEQUENCE_NODE)
		return cfg_error(cx, seq, "expected a list of {name, regex} entries");
	for (it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		const yaml_node_t *item = yaml_document_get_node(&cx->doc, *it);
		struct redact_custom *c = &rs->custom[rs->ro.ncustom];

		snprintf(prefix, sizeof(prefix), "redaction.custom_rules[%zu]", rs->ro.ncustom);
		snprintf(cx->key, sizeof(cx->key), "%s", prefix);
		if (rs->ro.ncustom == REDACT_MAX_RULES)
			return cfg_error(cx, item, "too many custom rules; at most %d",
					 REDACT_MAX_RULES);
		if (each_key(cx, item, prefix, custom_key, c))
			return -EINVAL;
		snprintf(cx->key, sizeof(cx->key), "%s", prefix);
		if (!c->name || !c->regex)
			return cfg_error(cx, item, "needs both name and regex");
		rs->node_name[rs->nnodes] = c->name;
		rs->node[rs->nnodes++] = item;
		rs->ro.ncustom++;
	}
	return 0;
}

static int redaction_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	struct redact_section *rs = arg;

	if (!strcmp(k, "enabled"))
		return parse_bool(cx, v, &rs->ro.enabled);
	if (!strcmp(k, "disable"))
		return rule_names(cx, v, rs, rs->disable, &rs->ro.ndisable);
	if (!strcmp(k, "enable"))
		return rule_names(cx, v, rs, rs->enable, &rs->ro.nenable);
	if (!strcmp(k, "custom_rules"))
		return custom_rules(cx, v, rs);
	return cfg_error(cx, v, "unknown key; allowed: enabled, disable, enable, custom_rules");
}

/* The node whose rule name the redactor's message quotes ('name'), else the section. */
static const yaml_node_t *blamed_node(const struct redact_section *rs, const char *msg)
{
	char quoted[REDACT_NAME_MAX + 8];
	int i;

	for (i = 0; i < rs->nnodes; i++) {
		snprintf(quoted, sizeof(quoted), "'%s'", rs->node_name[i]);
		if (strstr(msg, quoted))
			return rs->node[i];
	}
	return rs->section;
}

/* Copy n names into owned storage (the document is freed after parsing). */
static int own_names(char **dst, const char *const *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(dst[i] = strdup(src[i])))
			return -ENOMEM;
	return 0;
}

/* The section kept, strings owned, for the redactor built where the sinks open. */
static int keep_redaction(struct redaction_config *rc, const struct redact_section *rs)
{
	size_t i;

	rc->present = true;
	rc->ro = rs->ro;
	rc->ro.disable = (const char *const *)rc->disable;
	rc->ro.enable = (const char *const *)rc->enable;
	rc->ro.custom = rc->custom;
	if (own_names(rc->disable, rs->disable, rs->ro.ndisable) ||
	    own_names(rc->enable, rs->enable, rs->ro.nenable))
		return -ENOMEM;
	for (i = 0; i < rs->ro.ncustom; i++)
		if (!(rc->custom[i].name = strdup(rs->custom[i].name)) ||
		    !(rc->custom[i].regex = strdup(rs->custom[i].regex)))
			return -ENOMEM;
	return 0;
}

static void redaction_config__free(struct redaction_config *rc)
{
	size_t i;

	for (i = 0; i < REDACT_MAX_RULES; i++) {
		free(rc->disable[i]);
		free(rc->enable[i]);
		free((char *)rc->custom[i].name);
		free((char *)rc->custom[i].regex);
	}
}

/*
 * Check the section now, while the document's nodes are alive: a bad
 * pattern or an unknown rule name is reported at its own line. The
 * redactor itself is built where the sinks open (config__set_redactor).
 */
static int parse_redaction(struct cfg_ctx *cx, const yaml_node_t *v, struct config *c)
{
	struct redact_section *rs = calloc(1, sizeof(*rs));
	char msg[CONFIG_ERR_LEN];
	int err;

	if (!rs)
		return -ENOMEM;
	redact_opts__defaults(&rs->ro);
	rs->ro.disable = rs->disable;
	rs->ro.enable = rs->enable;
	rs->ro.custom = rs->custom;
	rs->section = v;
	err = each_key(cx, v, "redaction", redaction_key, rs);
	if (!err) {
		snprintf(cx->key, sizeof(cx->key), "redaction");
		err = redact_opts__check(&rs->ro, msg, sizeof(msg));
		if (err)
			err = cfg_error(cx, blamed_node(rs, msg), "%s; fix it or remove the rule",
					!strncmp(msg, "redaction: ", 11) ? msg + 11 : msg);
		else
			err = keep_redaction(&c->redaction, rs);
	}
	free(rs);
	return err;
}

int config__set_redactor(struct config *c, char *err, size_t errlen)
{
	int i;

	if (c->redactor || !c->redaction.present)
		return 0;	/* built already (a reload's config, then its sinks), or the defaults */
	c->redactor = redactor__new(&c->redaction.ro, err, errlen);
	if (!c->redactor)
		return -EINVAL;
	for (i = 0; i < c->n_sinks; i++)
		c->sinks[i].redactor = c->redactor;
	return 0;
}

/* ---- targets (docs/configuration.md): selectors that follow restarts ---- */

static int target_item(struct cfg_ctx *cx, const yaml_node_t *n, enum sel_kind kind,
		       struct target_set *t)
{
	char msg[CONFIG_ERR_LEN];
	const char *s;

	if (want_scalar(cx, n, "a selector value", &s))
		return -EINVAL;
	if (targets__add(t, kind, s, msg, sizeof(msg)))
		return cfg_error(cx, n, "%s", msg);
	return 0;
}

/* targets: {pid, cgroup, unit, exe}: each a value or a list of values. */
static int targets_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	int kind = targets__kind(k);
	yaml_node_item_t *it;

	if (kind < 0)
		return cfg_error(cx, v, "unknown key; allowed: pid, cgroup, unit, exe");
	if (v->type != YAML_SEQUENCE_NODE)
		return target_item(cx, v, kind, arg);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
		if (target_item(cx, yaml_document_get_node(&cx->doc, *it), kind, arg))
			return -EINVAL;
	return 0;
}

/* ---- metrics (issue 18; docs/configuration.md) ---- */

static int metrics_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	struct metrics_config *mc = arg;
	struct group *gr;
	uint64_t val;

	if (!strcmp(k, "listen"))
		return parse_str(cx, v, &mc->listen);
	if (!strcmp(k, "allow_remote"))
		return parse_bool(cx, v, &mc->allow_remote);
	if (!strcmp(k, "stats_interval_s")) {	/* the range and parser of --stats-interval */
		if (table_value(cx, settings__by_key("metrics", k), v, &val))
			return -EINVAL;
		mc->stats_interval_s = (uint32_t)val;
		return 0;
	}
	if (!strcmp(k, "loss_window_s"))
		return parse_u32(cx, v, 1, 3599, &mc->loss_window_s);
	if (strcmp(k, "group"))
		return cfg_error(cx, v, "unknown key; allowed: listen, allow_remote, group, "
				 "stats_interval_s, loss_window_s");
	if (parse_str(cx, v, &mc->group))
		return -EINVAL;
	gr = getgrnam(mc->group);
	if (!gr)
		return cfg_error(cx, v, "group '%s' does not exist; give an existing group name",
				 mc->group);
	mc->gid = gr->gr_gid;
	return 0;
}

static int top_key(struct cfg_ctx *cx, const char *k, const yaml_node_t *v, void *arg)
{
	struct config *c = arg;

	if (!strcmp(k, "auditing_plugins"))
		return parse_plugins(cx, v, c);
	if (!strcmp(k, "capture"))
		return each_key(cx, v, "capture", capture_key, &c->col);
	if (!strcmp(k, "correlation"))
		return each_key(cx, v, "correlation", correlation_key, &c->col);
	if (!strcmp(k, "critical_rules"))
		return each_key(cx, v, "critical_rules", rules_key, &c->rules);
	if (!strcmp(k, "redaction"))
		return parse_redaction(cx, v, c);
	if (!strcmp(k, "metrics"))
		return each_key(cx, v, "metrics", metrics_key, &c->metrics);
	if (!strcmp(k, "targets"))
		return each_key(cx, v, "targets", targets_key, &c->targets);
	if (!strcmp(k, "user"))
		return parse_str(cx, v, &c->user);
	if (!strcmp(k, "group"))
		return parse_str(cx, v, &c->group);
	return cfg_error(cx, v, "unknown key; allowed: auditing_plugins, capture, correlation, "
			 "critical_rules, redaction, targets, user, group, metrics");
}

/* ---- file ---- */

/* Read the whole file, refusing one that anyone but root could have written. */
static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int e = 0;

	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open config %s: %s; check the path", path,
			 strerror(errno));
		return e;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "config %s is not a regular file; give the path of the YAML "
			 "file", path);
		e = -EINVAL;
	} else if (st.st_size > CONFIG_MAX_BYTES) {
		snprintf(err, errlen, "config %s is %lld bytes: larger than a config can be (at "
			 "most 1 MiB); give the path of the YAML file", path,
			 (long long)st.st_size);
		e = -EFBIG;
	} else if (st.st_uid != 0 && st.st_uid != geteuid()) {
		/* even mode 0444: its owner can chmod it back and rewrite it */
		struct passwd *pw = getpwuid(st.st_uid);

		snprintf(err, errlen, "config %s is owned by %s%s%s(uid %u), who can change it "
			 "at any time: chown root it", path, pw ? "user " : "", pw ? pw->pw_name : "",
			 pw ? " " : "", (unsigned)st.st_uid);
		e = -EPERM;
	} else if ((st.st_gid != 0 && (st.st_mode & S_IWGRP)) || (st.st_mode & S_IWOTH)) {
		snprintf(err, errlen, "config %s is writable by someone other than root (owner %u, "
			 "group %u, mode %04o): chown root:root and chmod go-w it", path,
			 (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
		e = -EPERM;
	} else if (!(*buf = malloc(st.st_size + 1))) {
		e = -ENOMEM;
	} else if ((n = read(fd, *buf, st.st_size)) != st.st_size) {
		snprintf(err, errlen, "cannot read config %s: %s", path,
			 n < 0 ? strerror(errno) : "short read");
		free(*buf);
		e = -EIO;
	} else {
		(*buf)[n] = 0;
		*len = n;
	}
	close(fd);
	return e;
}

/* FILE:LINE: what is wrong, for what the event pass finds (no key known yet). */
static int scan_error(struct cfg_ctx *cx, const yaml_mark_t *m, const char *what)
{
	snprintf(cx->err, cx->errlen, "%s:%lu: %s", cx->file, (unsigned long)m->line + 1, what);
	return -EINVAL;
}

static int syntax_error(struct cfg_ctx *cx, const yaml_parser_t *p)
{
	snprintf(cx->err, cx->errlen, "%s:%lu: YAML syntax error: %s; fix the file", cx->file,
		 (unsigned long)p->problem_mark.line + 1, p->problem ? p->problem : "unknown");
	return -EINVAL;
}

/* One event of the first pass: what the node tree would hide or take long to build. */
static int scan_event(struct cfg_ctx *cx, const yaml_event_t *ev, int *depth, int *docs)
{
	const yaml_char_t *tag = NULL, *anchor = NULL;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1)
			return scan_error(cx, &ev->start_mark, "a second YAML document (after "
					  "'---') is not allowed; keep one document per file");
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (++*depth > CONFIG_MAX_DEPTH)
			return scan_error(cx, &ev->start_mark, "nested deeper than "
					  CONFIG_MAX_DEPTH_S " levels; a config needs at most 5");
		tag = ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.tag :
			ev->data.sequence_start.tag;
		anchor = ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.anchor :
			ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		--*depth;
		break;
	case YAML_SCALAR_EVENT:
		tag = ev->data.scalar.tag;
		anchor = ev->data.scalar.anchor;
		if (strlen((const char *)ev->data.scalar.value) != ev->data.scalar.length)
			return scan_error(cx, &ev->start_mark, "a NUL character (\\0) in a value "
					  "is not allowed; remove it");
		break;
	case YAML_ALIAS_EVENT:
		return scan_error(cx, &ev->start_mark, "aliases (*name) are not allowed; write "
				  "the value out");
	default:
		break;
	}
	if (tag)
		return scan_error(cx, &ev->start_mark, "YAML tags (such as !!binary) are not "
				  "allowed; write the plain value");
	if (anchor)
		return scan_error(cx, &ev->start_mark, "anchors (&name) are not allowed; write "
				  "the value out");
	return 0;
}

/*
 * First pass over the events, stopping at the first problem: depth is
 * checked as the parser goes, so a file nested 100,000 levels deep is
 * refused after CONFIG_MAX_DEPTH of them instead of being built first.
 */
static int scan_doc(struct cfg_ctx *cx, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, docs = 0, err = 0;
	bool end = false;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!err && !end) {
		if (!yaml_parser_parse(&parser, &ev)) {
			err = syntax_error(cx, &parser);
			break;
		}
		err = scan_event(cx, &ev, &depth, &docs);
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return err;
}

struct key_at {
	const char *name;
	unsigned long line;
};

static int key_at_cmp(const void *a, const void *b)
{
	const struct key_at *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* A key given twice in one mapping: YAML would keep the last one silently. */
static int mapping_dups(struct cfg_ctx *cx, const yaml_node_t *map)
{
	size_t i, n = 0, cap = map->data.mapping.pairs.top - map->data.mapping.pairs.start;
	struct key_at *k = calloc(cap ? cap : 1, sizeof(*k));
	yaml_node_pair_t *pr;
	int err = 0;

	if (!k)
		return -ENOMEM;
	for (pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		const yaml_node_t *kn = yaml_document_get_node(&cx->doc, pr->key);

		if (scalar(kn))
			k[n++] = (struct key_at){ scalar(kn), kn->start_mark.line + 1 };
	}
	qsort(k, n, sizeof(*k), key_at_cmp);
	for (i = 1; i < n && !err; i++) {
		if (strcmp(k[i - 1].name, k[i].name))
			continue;
		snprintf(cx->err, cx->errlen, "%s:%lu: key '%s' is given twice, at lines %lu and "
			 "%lu; keep one", cx->file, k[i].line, k[i].name, k[i - 1].line, k[i].line);
		err = -EINVAL;
	}
	free(k);
	return err;
}

/* Every mapping of the document, nested or not: the node array holds them all. */
static int check_dups(struct cfg_ctx *cx)
{
	yaml_node_t *n;
	int err = 0;

	for (n = cx->doc.nodes.start; n < cx->doc.nodes.top && !err; n++)
		if (n->type == YAML_MAPPING_NODE)
			err = mapping_dups(cx, n);
	return err;
}

static int parse_doc(struct cfg_ctx *cx, const char *buf, size_t len, struct config *c)
{
	yaml_parser_t parser;
	yaml_node_t *root;
	int err;

	err = scan_doc(cx, buf, len);
	if (err)
		return err;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &cx->doc)) {
		err = syntax_error(cx, &parser);
		yaml_parser_delete(&parser);
		return err;
	}
	yaml_parser_delete(&parser);
	root = yaml_document_get_root_node(&cx->doc);
	if (!root)
		err = cfg_error(cx, NULL, "the file is empty; add auditing_plugins");
	else if (!(err = check_dups(cx)))
		err = each_key(cx, root, "", top_key, c);
	if (!err && !c->n_sinks) {
		snprintf(cx->key, sizeof(cx->key), "auditing_plugins");
		err = cfg_error(cx, root, "the config has no sink; add an auditing_plugins list "
				"with at least one {type: json_lines, config: {output_file: "
				"/var/log/sockaudit/audit.log}} entry");
	}
	yaml_document_delete(&cx->doc);
	return err;
}

int config__load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct cfg_ctx cx = { .file = path, .err = err, .errlen = errlen };
	char *buf = NULL;
	size_t len = 0;
	int e;

	memset(c, 0, sizeof(*c));
	snprintf(cx.key, sizeof(cx.key), "(top level)");
	e = read_file(path, &buf, &len, err, errlen);
	if (e)
		return e;
	config__sha256_hex(buf, len, c->digest);
	c->path = strdup(path);
	e = c->path ? parse_doc(&cx, buf, len, c) : -ENOMEM;
	free(buf);
	if (e)
		config__free(c);
	return e;
}

int config__override(struct config *c, const char *output, int flush, char *err, size_t errlen)
{
	int i, e;

	if (output && !c->n_sinks) {
		sink_config__defaults(&c->sinks[0]);
		c->sinks[0].type = strdup("json_lines");
		if (!c->sinks[0].type)
			return -ENOMEM;
		c->n_sinks = 1;
	}
	if (output) {
		e = sink_config__set_output(&c->sinks[0], output, err, errlen);
		if (e)
			return e;
	}
	for (i = 0; flush >= 0 && i < c->n_sinks; i++)
		c->sinks[i].flush_mode = flush;
	return 0;
}

void config__free(struct config *c)
{
	int i;

	for (i = 0; i < c->n_sinks; i++)
		sink_config__free(&c->sinks[i]);
	for (i = 0; i < c->rules.n_methods; i++)
		free(c->rules.methods[i]);
	for (i = 0; i < c->rules.n_prefixes; i++)
		free(c->rules.target_prefixes[i]);
	redactor__free(c->redactor);
	redaction_config__free(&c->redaction);
	free(c->metrics.listen);
	free(c->metrics.group);
	free(c->path);
	targets__free(&c->targets);
	free(c->user);
	free(c->group);
	memset(c, 0, sizeof(*c));
}

/* ---- the config digest in collector_start ---- */

/* libcrypto's SHA-256 (the collector links it for the integrity chain). */
void config__sha256_hex(const void *data, size_t n, char out[65])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!EVP_Digest(data, n, md, &len, EVP_sha256(), NULL) || len != 32) {
		memset(out, '0', 64);	/* cannot happen with a working libcrypto; never garbage */
		out[64] = '\0';
		return;
	}
	chain__hex(md, 32, out);
}
