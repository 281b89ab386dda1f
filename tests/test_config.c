// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Config loading: defaults, every error names file:line and the key, permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "chainfile.h"
#include "config.h"
#include "redact.h"
#include "settings.h"

static char dir[] = "/tmp/sa-config.XXXXXX";
static char path[64];

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

static void write_cfg(const char *text, mode_t mode)
{
	FILE *f;

	unlink(path);	/* a fresh file, owned by us */
	f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Load text; returns the error text ("" on success). */
static const char *load(const char *text, struct config *c)
{
	static char err[CONFIG_ERR_LEN];

	err[0] = 0;
	write_cfg(text, 0644);
	if (!config__load(c, path, err, sizeof(err)))
		return "";
	return err;
}

#define SINK "auditing_plugins:\n  - type: json_lines\n    config:\n      output_file: /var/log/a.log\n"

static void test_defaults(void **state)
{
	struct config c;

	assert_string_equal(load(SINK, &c), "");
	assert_int_equal(c.n_sinks, 1);
	assert_int_equal(c.sinks[0].max_file_size, 10 << 20);
	assert_int_equal(c.sinks[0].backup_count, 5);
	assert_true(c.sinks[0].critical);
	assert_int_equal(c.sinks[0].flush_mode, FLUSH_IMMEDIATE);
	assert_int_equal(c.sinks[0].batch_size, 100);
	assert_int_equal(c.sinks[0].batch_interval_ms, 1000);
	assert_int_equal(c.sinks[0].event_buffer_size, 100);
	assert_int_equal(c.sinks[0].file_mode, 0600);
	assert_int_equal(c.sinks[0].max_message_length, 10000);
	assert_int_equal(strlen(c.digest), 64);
	config__free(&c);
}

static void test_all_keys(void **state)
{
	struct config c;

	assert_string_equal(load(SINK "      max_file_size_mb: 2\n      backup_count: 3\n"
				 "      rotate_interval: hourly\n      compress: true\n"
				 "      max_age_days: 7\n      critical: false\n"
				 "      flush_mode: hybrid\n      batch_size: 10\n"
				 "      batch_interval_ms: 50\n      event_buffer_size: 5\n"
				 "      base_directory: /var/log\n      space_left_mb: 100\n"
				 "      space_left_action: suspend\n      max_message_length: 4096\n"
				 "capture: {max_capture_bytes: 8192, attach: raw_tp, ringbuf_mb: 32}\n"
				 "correlation: {request_ttl_s: 1.5, body_excerpt: 64}\n"
				 "critical_rules: {http_status: [500], methods: [DELETE], "
				 "target_prefixes: [/admin]}\n", &c), "");
	assert_int_equal(c.sinks[0].max_file_size, 2 << 20);
	assert_int_equal(c.sinks[0].rotate_interval, ROTATE_HOURLY);
	assert_true(c.sinks[0].compress);
	assert_false(c.sinks[0].critical);
	assert_int_equal(c.sinks[0].flush_mode, FLUSH_HYBRID);
	assert_int_equal(c.sinks[0].space_left, 100ULL << 20);
	assert_int_equal(c.sinks[0].space_left_action, SPACE_SUSPEND);
	assert_string_equal(c.sinks[0].base_directory, "/var/log");
	assert_true(c.col.has_attach && c.col.attach == 1);
	assert_int_equal(c.col.ringbuf_mb, 32);
	assert_true(c.col.request_ttl_s == 1.5);
	assert_int_equal(c.rules.http_status[0], 500);
	assert_string_equal(c.rules.methods[0], "DELETE");
	assert_string_equal(c.rules.target_prefixes[0], "/admin");
	config__free(&c);
}

static void expect_error(const char *text, int line, const char *key, const char *allowed)
{
	char want[128];
	struct config c;
	const char *err = load(text, &c);

	snprintf(want, sizeof(want), "%s:%d: key '%s'", path, line, key);
	if (!strstr(err, want) || !strstr(err, allowed))
		fail_msg("error '%s' lacks '%s' or '%s'", err, want, allowed);
}

static void test_errors(void **state)
{
	expect_error(SINK "      flush_mode: fast\n", 5, "auditing_plugins[0].config.flush_mode",
		     "immediate, batched or hybrid");
	expect_error(SINK "      backup_count: -1\n", 5, "auditing_plugins[0].config.backup_count",
		     "0..1000");
	expect_error(SINK "      batch_size: 0\n", 5, "auditing_plugins[0].config.batch_size",
		     "1..1000000");
	expect_error(SINK "      colour: red\n", 5, "auditing_plugins[0].config.colour",
		     "allowed: output_file");
	expect_error(SINK "      compress: [1]\n", 5, "auditing_plugins[0].config.compress",
		     "true or false");
	expect_error(SINK "      file_mode: 0644\n", 5, "auditing_plugins[0].config.file_mode",
		     "0600, or 0640 with log_group");
	expect_error(SINK "      file_mode: \" 0600\"\n", 5,
		     "auditing_plugins[0].config.file_mode", "0600, or 0640 with log_group");
	expect_error(SINK "bogus: 1\n", 5, "bogus", "allowed: auditing_plugins");
	expect_error(SINK "capture: {ringbuf_mb: 3}\n", 5, "capture.ringbuf_mb", "power of two");
	expect_error("auditing_plugins:\n  - type: xml\n", 2, "auditing_plugins[0].type",
		     "json_lines");
	expect_error("auditing_plugins:\n  - type: json_lines\n    config:\n"
		     "      output_file: ~/$LOGDIR/a.log\n", 4,
		     "auditing_plugins[0].config.output_file", "environment variables are not expanded");
	expect_error("auditing_plugins:\n  - type: json_lines\n    config:\n"
		     "      output_file: a.log\n", 2, "auditing_plugins[0]", "base_directory");
}

/* Every format is a sink type; each sink keeps its own max_message_length. */
static void test_types(void **state)
{
	static const char *const types[] = { "json_lines", "cef", "syslog", "line", "csv" };
	char text[512];
	struct config c;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(text, sizeof(text), "auditing_plugins:\n  - type: %s\n    config:\n"
			 "      output_file: /var/log/a.%zu\n      max_message_length: %zu\n",
			 types[i], i, 4096 + i);
		assert_string_equal(load(text, &c), "");
		assert_string_equal(c.sinks[0].type, types[i]);
		assert_int_equal(c.sinks[0].max_message_length, 4096 + i);
		assert_null(c.redactor);
		assert_null(c.sinks[0].redactor);
		config__free(&c);
	}
	expect_error("auditing_plugins:\n  - type: xml\n", 2, "auditing_plugins[0].type",
		     "json_lines, cef, syslog, line or csv");
	expect_error(SINK "      max_message_length: 1000\n", 5,
		     "auditing_plugins[0].config.max_message_length", "2048..16777216");
}

#define REDACT_SINKS SINK "  - type: csv\n    config:\n      output_file: /var/log/b.csv\n"

/*
 * The redaction section is only read by config__load; where the sinks open,
 * config__set_redactor builds one redactor, shared by every sink.
 */
static void test_redaction(void **state)
{
	struct redact_hits hits = { 0 };
	struct jbuf out;
	struct config c;
	char err[256];
	const char *in = "id EMP-123456 mail bob@example.com from 10.1.2.3";

	assert_string_equal(load(REDACT_SINKS "redaction:\n  enabled: true\n  disable: [email]\n"
				 "  enable: [ipv4]\n  custom_rules:\n    - name: employee_id\n"
				 "      regex: \"EMP-[0-9]{6}\"\n", &c), "");
	assert_null(c.redactor);	/* parsed, not compiled */
	assert_null(c.sinks[0].redactor);
	assert_true(c.redaction.present);
	assert_int_equal(config__set_redactor(&c, err, sizeof(err)), 0);
	assert_non_null(c.redactor);
	assert_ptr_equal(c.sinks[0].redactor, c.redactor);
	assert_ptr_equal(c.sinks[1].redactor, c.redactor);
	jbuf__init(&out);
	assert_int_equal(redactor__redact(c.redactor, (const uint8_t *)in, strlen(in), &out,
					  &hits), 0);
	jbuf__raw(&out, "", 1);
	assert_non_null(strstr(out.buf, "[REDACTED:employee_id]"));
	assert_non_null(strstr(out.buf, "bob@example.com"));	/* email switched off */
	assert_non_null(strstr(out.buf, "[REDACTED:ipv4]"));	/* ipv4 switched on */
	jbuf__free(&out);
	config__free(&c);
}

static void test_redaction_errors(void **state)
{
	expect_error(SINK "redaction:\n  custom_rules:\n    - name: employee_id\n"
		     "      regex: \"EMP-([0-9]{6}\"\n", 7, "redaction",
		     "rule 'employee_id': bad pattern /EMP-([0-9]{6}/");
	expect_error(SINK "redaction:\n  disable:\n    - email\n    - credit_cards\n", 8,
		     "redaction", "disable: unknown rule 'credit_cards'");
	expect_error(SINK "redaction:\n  custom_rules:\n    - name: My Rule\n      regex: x\n", 7,
		     "redaction", "must be 1-31 characters");
	expect_error(SINK "redaction:\n  custom_rules:\n    - name: a\n", 7,
		     "redaction.custom_rules[0]", "needs both name and regex");
	expect_error(SINK "redaction:\n  custom_rules:\n    - name: a\n      regexp: x\n", 8,
		     "redaction.custom_rules[0].regexp", "allowed: name, regex");
	expect_error(SINK "redaction:\n  ip: true\n", 6, "redaction.ip",
		     "allowed: enabled, disable, enable, custom_rules");
	expect_error(SINK "redaction:\n  enabled: yes\n", 6, "redaction.enabled", "true or false");
	expect_error(SINK "redaction:\n  disable: email\n", 6, "redaction.disable",
		     "list of rule names");
	/* PCRE2 takes these, Hyperscan does not: still refused at the rule's line, unbuilt */
	expect_error(SINK "redaction:\n  custom_rules:\n    - name: twice\n"
		     "      regex: \"(ab)\\\\1\"\n", 7, "redaction",
		     "rule 'twice': bad pattern /(ab)\\1/");
	expect_error(SINK "redaction:\n  custom_rules:\n    - name: ok\n      regex: \"x[0-9]+\"\n"
		     "    - name: nothing\n      regex: \"a*\"\n", 9, "redaction",
		     "rule 'nothing': bad pattern /a*/: the pattern matches the empty text");
}

/* Without a redaction section nothing is built: the sinks use the built-in defaults. */
static void test_redaction_default(void **state)
{
	struct config c;
	char err[256];

	assert_string_equal(load(SINK, &c), "");
	assert_false(c.redaction.present);
	assert_int_equal(config__set_redactor(&c, err, sizeof(err)), 0);
	assert_null(c.redactor);
	assert_null(c.sinks[0].redactor);
	config__free(&c);
}

/* fd_kinds turns stdio capture on; the correlation bounds come from the file too. */
static void test_capture_and_bounds(void **state)
{
	struct config c;

	assert_string_equal(load(SINK "capture:\n  fd_kinds: [sockets, pipes]\n"
				 "correlation:\n  max_pending_requests: 500\n"
				 "  max_pending_per_conn: 7\n  max_connections: 2000\n"
				 "  idle_timeout_s: 2.5\n", &c), "");
	assert_true(c.col.has_fd_kinds);
	assert_true(c.col.capture_pipes);
	assert_int_equal(c.col.max_pending, 500);
	assert_int_equal(c.col.max_pending_per_conn, 7);
	assert_int_equal(c.col.max_connections, 2000);
	assert_true(c.col.idle_timeout_s > 2.4 && c.col.idle_timeout_s < 2.6);
	config__free(&c);
	expect_error(SINK "capture:\n  fd_kinds: [pipes]\n", 6, "capture.fd_kinds",
		     "sockets are always audited");
	expect_error(SINK "capture:\n  fd_kinds: [sockets, files]\n", 6, "capture.fd_kinds",
		     "allowed: sockets, pipes");
	expect_error(SINK "correlation:\n  max_connections: 0\n", 6, "correlation.max_connections",
		     "1..10000000");
}

static void test_capture_budget(void **state)
{
	struct config c;

	assert_string_equal(load(SINK "capture:\n  capture_budget_bytes: 65536\n", &c), "");
	assert_int_equal(c.col.capture_budget_bytes, 65536);
	config__free(&c);
	expect_error(SINK "capture:\n  capture_budget_bytes: 0\n", 6,
		     "capture.capture_budget_bytes", "1..268435456");
	expect_error(SINK "capture:\n  capture_budget_bytes: 268435457\n", 6,
		     "capture.capture_budget_bytes", "1..268435456");
	expect_error(SINK "capture:\n  budget: 1\n", 6, "capture.budget", "capture_budget_bytes");
}

static void test_tilde(void **state)
{
	struct config c;

	assert_string_equal(load("auditing_plugins:\n  - type: json_lines\n    config:\n"
				 "      output_file: ~/a.log\n", &c), "");
	assert_true(c.sinks[0].output_file[0] == '/');
	assert_non_null(strstr(c.sinks[0].output_file, "/a.log"));
	assert_null(strchr(c.sinks[0].output_file, '~'));
	config__free(&c);
}

static void test_writable_config_refused(void **state)
{
	char err[CONFIG_ERR_LEN];
	struct config c;

	write_cfg(SINK, 0666);
	assert_int_equal(config__load(&c, path, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "writable by someone other than root"));
	write_cfg(SINK, 0644);
	assert_int_equal(chown(path, 65534, 0), 0);
	assert_int_equal(config__load(&c, path, err, sizeof(err)), -EPERM);
}

static void test_syntax_error(void **state)
{
	char err[CONFIG_ERR_LEN];
	struct config c;

	write_cfg("auditing_plugins: [\n  - x\n", 0644);
	assert_int_equal(config__load(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "YAML syntax error"));
}

static void test_override(void **state)
{
	char err[CONFIG_ERR_LEN];
	struct config c = { 0 };

	assert_int_equal(config__override(&c, "/tmp/x.log", FLUSH_BATCHED, err, sizeof(err)), 0);
	assert_int_equal(c.n_sinks, 1);
	assert_string_equal(c.sinks[0].output_file, "/tmp/x.log");
	assert_int_equal(c.sinks[0].flush_mode, FLUSH_BATCHED);
	config__free(&c);
}

/* Load text and expect an error containing each of the given parts. */
static void expect_refused(const char *text, const char *part1, const char *part2)
{
	struct config c;
	const char *err = load(text, &c);

	if (!err[0])
		config__free(&c);
	if (!err[0] || !strstr(err, part1) || (part2 && !strstr(err, part2)))
		fail_msg("error '%s' lacks '%s' / '%s'", err, part1, part2 ? part2 : "");
}

/* The clobber: the last output_file was /etc/passwd; both lines are named. */
static void test_duplicate_keys(void **state)
{
	char line[160];

	snprintf(line, sizeof(line), "%s:5: key 'output_file' is given twice", path);
	expect_refused(SINK "      output_file: /etc/passwd\n", line, "at lines 4 and 5");
	snprintf(line, sizeof(line), "%s:6: key 'auditing_plugins' is given twice", path);
	expect_refused(SINK "capture: {}\nauditing_plugins:\n  - type: csv\n    config:\n"
		       "      output_file: /var/log/b\n", line, "at lines 1 and 6");
	/* nested deeper, and in a flow mapping */
	expect_refused(SINK "      integrity: {key_file: /k, key_file: /j}\n",
		       "key 'key_file' is given twice", "at lines 5 and 5");
	expect_refused(SINK "redaction:\n  custom_rules:\n    - name: a\n      regex: x\n"
		       "      name: b\n", "key 'name' is given twice", "at lines 7 and 9");
}

static void test_second_document(void **state)
{
	char line[160];

	snprintf(line, sizeof(line), "%s:5: a second YAML document", path);
	expect_refused(SINK "---\nauditing_plugins: []\n", line, "keep one document");
	/* a first '---' alone starts the one document: fine */
	expect_refused("---\n" SINK "...\n---\n" SINK, "a second YAML document", NULL);
}

/* "\0" in a double-quoted string: once cut at the NUL, now refused. */
static void test_nul_in_string(void **state)
{
	char line[160];

	snprintf(line, sizeof(line), "%s:4: a NUL character", path);
	expect_refused("auditing_plugins:\n  - type: json_lines\n    config:\n"
		       "      output_file: \"/var/log/a.log\\0/etc/passwd\"\n", line, "remove it");
	expect_refused(SINK "critical_rules: {methods: [\"GET\\0X\"]}\n", "a NUL character",
		       NULL);
}

static void test_tags_and_aliases(void **state)
{
	expect_refused("auditing_plugins:\n  - type: json_lines\n    config:\n"
		       "      output_file: !!binary L3Zhci9sb2cvYQ==\n", "YAML tags", "!!binary");
	expect_refused(SINK "      critical: !!bool true\n", "YAML tags", NULL);
	expect_refused(SINK "capture: !custom {}\n", "YAML tags", NULL);
	expect_refused(SINK "      base_directory: &d /var/log\n", "anchors (&name)", NULL);
	expect_refused("x: &a [1]\n" SINK, "anchors (&name)", NULL);
}

/* `~` and null are no value: output_file once became the home directory. */
static void test_null_values(void **state)
{
	static const char *const nulls[] = { "~", "null", "Null", "NULL" };
	char text[256];
	size_t i;
	struct config c;

	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		snprintf(text, sizeof(text), "auditing_plugins:\n  - type: json_lines\n"
			 "    config:\n      output_file: %s\n", nulls[i]);
		expect_refused(text, "key 'auditing_plugins[0].config.output_file': is null",
			       "leave the key out");
	}
	expect_refused(SINK "      log_group: ~\n", "config.log_group': is null", NULL);
	expect_refused(SINK "correlation: {request_ttl_s: null}\n", "request_ttl_s': is null",
		       NULL);
	/* quoted, it is a name like any other */
	assert_string_equal(load(SINK "critical_rules: {methods: [\"null\"]}\n", &c), "");
	assert_string_equal(c.rules.methods[0], "null");
	config__free(&c);
}

/* 100,000 levels deep: refused at the bound, before any tree is built. */
static void test_depth_bomb(void **state)
{
	size_t levels = 100000, i, n = 0;
	char *text = malloc(2 * levels + 16);
	char line[160];

	assert_non_null(text);
	n += sprintf(text, "x: ");
	for (i = 0; i < levels; i++)
		text[n++] = '[';
	for (i = 0; i < levels; i++)
		text[n++] = ']';
	text[n++] = '\n';
	text[n] = 0;
	snprintf(line, sizeof(line), "%s:1: nested deeper than 16 levels", path);
	expect_refused(text, line, "at most 5");
	free(text);
	expect_refused(SINK "capture: {a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: {l: {m: {n: "
		       "{o: {p: 1}}}}}}}}}}}}}}}}\n", "nested deeper than 16 levels", NULL);
}

static void test_size_bound(void **state)
{
	size_t n = (1u << 20) + 2;
	char *text = malloc(n + 1);

	assert_non_null(text);
	memset(text, '#', n);
	memcpy(text, SINK, strlen(SINK));
	text[strlen(SINK)] = '#';
	text[n] = 0;
	expect_refused(text, "1048578 bytes: larger than a config can be", "at most 1 MiB");
	free(text);
}

/* A config with no sink says so and what to add, not a key of another section. */
static void test_no_sink(void **state)
{
	expect_refused("capture: {attach: raw_tp}\n", "key 'auditing_plugins': the config has "
		       "no sink", "output_file");
	expect_refused("auditing_plugins: []\n", "the config has no sink", NULL);
}

/* One parser for the flags and the file: the same text gets the same answer. */
static void test_settings_shared(void **state)
{
	static const struct { const char *text; bool ok; uint64_t ns; } ttl[] = {
		{ "1.5", true, 1500000000ULL }, { "2e3", true, 2000000000000ULL },
		{ ".25", true, 250000000ULL }, { "0.001", true, 1000000ULL },
		{ "1e-9", false, 0 }, { "0.0004", false, 0 }, { "0", false, 0 },
		{ "0x10", false, 0 }, { " 5", false, 0 }, { "+5", false, 0 }, { "-1", false, 0 },
		{ "inf", false, 0 }, { "nan", false, 0 }, { "5s", false, 0 }, { ".", false, 0 },
		{ "1e", false, 0 }, { "31536001", false, 0 },
	};
	const struct setting *st = settings__by_flag("--ttl");
	char err[CONFIG_ERR_LEN], text[256];
	struct config c;
	uint64_t v;
	size_t i;

	assert_ptr_equal(st, settings__by_key("correlation", "request_ttl_s"));
	for (i = 0; i < sizeof(ttl) / sizeof(ttl[0]); i++) {
		int e = setting__parse(st, ttl[i].text, &v, err, sizeof(err));

		snprintf(text, sizeof(text), SINK "correlation: {request_ttl_s: \"%s\"}\n",
			 ttl[i].text);
		if (ttl[i].ok) {
			assert_int_equal(e, 0);
			assert_int_equal(v, ttl[i].ns);
			assert_string_equal(load(text, &c), "");
			assert_int_equal(c.col.request_ttl_ns, ttl[i].ns);
			config__free(&c);
		} else {
			assert_int_equal(e, -EINVAL);
			/* the file says the same thing as the flag, after its file:line: key */
			assert_non_null(strstr(load(text, &c), err));
		}
	}
	assert_int_equal(setting__parse(st, "1e-9", &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "less than 1 ms"));
}

static void test_settings_whole_numbers(void **state)
{
	const struct setting *rb = settings__by_flag("--ringbuf-mb");
	const struct setting *pid = settings__by_flag("--pid");
	char err[CONFIG_ERR_LEN];
	uint64_t v;

	assert_ptr_equal(rb, settings__by_key("capture", "ringbuf_mb"));
	assert_int_equal(setting__parse(rb, "64", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 64);
	assert_int_equal(setting__parse(rb, "3", &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "power of two in 1..1024"));
	assert_int_equal(setting__parse(rb, "0x10", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(setting__parse(rb, " 16", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(setting__parse(rb, "16 ", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(setting__parse(rb, "", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(setting__parse(pid, "99999999999999999999999", &v, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(setting__parse(pid, "0", &v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "1..4194304"));
	assert_null(settings__by_key("capture", "wakeup_bytes"));	/* a flag only */
	/* YAML refuses what the flag refuses, with the same words */
	expect_refused(SINK "capture: {ringbuf_mb: \" 16\"}\n", "capture.ringbuf_mb",
		       "' 16' is not a whole number in 1..1024 (MiB)");
	expect_refused(SINK "capture: {drain_ms: 0x10}\n", "capture.drain_ms", "1..1000 (ms)");
	expect_refused(SINK "      backup_count: \"+3\"\n", "backup_count", "0..1000");
}

static char keypath[96];

/* A config whose one sink has integrity with key_file k. */
static const char *integrity_cfg(const char *k)
{
	static char text[512];

	snprintf(text, sizeof(text), SINK "      integrity: {key_file: %s}\n", k);
	return text;
}

static int key_error(char *err, size_t len)
{
	uint8_t key[CHAIN_KEY_LEN];

	return chainfile__load_key(keypath, key, err, len);
}

/* The key file: owner, mode, type, symlink, content. */
static void test_key_file_checks(void **state)
{
	char err[CONFIG_ERR_LEN], target[128];
	struct config c;

	snprintf(keypath, sizeof(keypath), "%s/k.key", dir);
	unlink(keypath);
	assert_int_equal(chainfile__keygen(keypath, err, sizeof(err)), 0);
	assert_int_equal(key_error(err, sizeof(err)), 0);
	assert_string_equal(load(integrity_cfg(keypath), &c), "");
	config__free(&c);

	assert_int_equal(chown(keypath, 65534, 65534), 0);
	assert_int_equal(key_error(err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "is owned by"));
	assert_non_null(strstr(err, "uid 65534"));
	assert_int_equal(chown(keypath, 0, 0), 0);
	assert_int_equal(chmod(keypath, 0644), 0);
	assert_int_equal(key_error(err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode 0644"));
	assert_int_equal(chmod(keypath, 0640), 0);
	assert_int_equal(key_error(err, sizeof(err)), -EPERM);

	/* a symlink to a good key */
	snprintf(target, sizeof(target), "%s/real.key", dir);
	assert_int_equal(chmod(keypath, 0600), 0);
	assert_int_equal(rename(keypath, target), 0);
	assert_int_equal(symlink(target, keypath), 0);
	assert_int_equal(key_error(err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "is a symbolic link"));
	unlink(keypath);
	unlink(target);

	/* a FIFO: refused at once, never waited on */
	assert_int_equal(mkfifo(keypath, 0600), 0);
	assert_int_equal(key_error(err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(keypath);

	/* bad hex */
	write_cfg("not hex at all\n", 0600);
	assert_int_equal(rename(path, keypath), 0);
	assert_int_not_equal(key_error(err, sizeof(err)), 0);
	assert_non_null(strstr(err, "64 lower-case hex digits"));
	unlink(keypath);
}

/* A config owned by another user is refused even read-only: its owner can chmod it back. */
static void test_config_owner(void **state)
{
	char err[CONFIG_ERR_LEN];
	struct config c;

	write_cfg(SINK, 0444);
	assert_int_equal(chown(path, 65534, 0), 0);
	assert_int_equal(config__load(&c, path, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "is owned by"));
	assert_non_null(strstr(err, "(uid 65534)"));
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(config__load(&c, path, err, sizeof(err)), 0);
	config__free(&c);
}

/* -o "" (and an empty path anywhere) is an empty path, not "a directory". */
static void test_empty_output(void **state)
{
	char err[CONFIG_ERR_LEN];
	struct config c = { 0 };

	assert_int_equal(config__override(&c, "", FLUSH_BATCHED, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "the audit log path is empty"));
	config__free(&c);
	expect_refused("auditing_plugins:\n  - type: json_lines\n    config:\n"
		       "      output_file: \"\"\n", "config.output_file': is empty", "give a path");
}

static void test_sha256(void **state)
{
	char hex[65];

	config__sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	config__sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* The metrics: section (issue 18): its keys, their ranges, the group looked up. */
static void test_metrics_section(void **state)
{
	struct config c;

	assert_string_equal(load(SINK "metrics:\n  listen: unix:/run/sockaudit/m.sock\n"
				 "  group: root\n  allow_remote: false\n  stats_interval_s: 60\n"
				 "  loss_window_s: 5\n", &c), "");
	assert_string_equal(c.metrics.listen, "unix:/run/sockaudit/m.sock");
	assert_int_equal(c.metrics.gid, 0);
	assert_false(c.metrics.allow_remote);
	assert_int_equal(c.metrics.stats_interval_s, 60);
	assert_int_equal(c.metrics.loss_window_s, 5);
	config__free(&c);
	/* absent: everything off */
	assert_string_equal(load(SINK, &c), "");
	assert_null(c.metrics.listen);
	assert_int_equal(c.metrics.stats_interval_s, 0);
	config__free(&c);
	expect_error(SINK "metrics:\n  port: 9464\n", 6, "metrics.port",
		     "allowed: listen, allow_remote, group, stats_interval_s, loss_window_s");
	expect_error(SINK "metrics:\n  group: no-such-group-sa\n", 6, "metrics.group",
		     "group 'no-such-group-sa' does not exist");
	expect_error(SINK "metrics:\n  loss_window_s: 0\n", 6, "metrics.loss_window_s",
		     "1..3599");
	expect_error(SINK "metrics:\n  stats_interval_s: 90000\n", 6,
		     "metrics.stats_interval_s", "0..86400");
	expect_error(SINK "metrics:\n  allow_remote: yes\n", 6, "metrics.allow_remote",
		     "true or false");
	expect_error(SINK "metric: {}\n", 5, "metric", "group, metrics");
}

#define FWD "      forward:\n        target: logs:2514\n        ca_file: /ca.pem\n"

/* forward: every key read, copied and freed; TLS and rotation are required. */
static void test_forward(void **state)
{
	struct config c;
	struct sink_config copy;

	assert_string_equal(load(SINK FWD "        peer_names: logs, logs2\n"
				 "        cert_file: /c.pem\n        key_file: /c.key\n"
				 "        window: 1024\n        spool_limit_mb: 5\n"
				 "        cursor_file: /var/log/a.cur\n        hostname: h1\n"
				 "        reconnect_max_ms: 2000\n        nice: 19\n", &c), "");
	assert_string_equal(c.sinks[0].forward.target, "logs:2514");
	assert_int_equal(c.sinks[0].forward.nice, 19);
	assert_string_equal(c.sinks[0].forward.peer_names, "logs, logs2");
	assert_int_equal(c.sinks[0].forward.window, 1024);
	assert_int_equal(c.sinks[0].forward.spool_limit, 5ULL << 20);
	assert_int_equal(sink_config__copy(&copy, &c.sinks[0]), 0);
	assert_string_equal(copy.forward.hostname, "h1");
	assert_ptr_not_equal(copy.forward.cursor_file, c.sinks[0].forward.cursor_file);
	sink_config__free(&copy);
	config__free(&c);
	assert_string_equal(load(SINK, &c), "");
	assert_null(c.sinks[0].forward.target);
	assert_int_equal(c.sinks[0].forward.window, 256);
	config__free(&c);
	expect_refused(SINK FWD, "forward needs target", "peer_names");
	expect_refused(SINK "      forward: {target: logs, ca_file: /ca, peer_names: x}\n",
		       "host:port", NULL);
	expect_refused(SINK FWD "        peer_names: x\n        cert_file: /c.pem\n",
		       "cert_file and key_file together", NULL);
	expect_refused(SINK "      backup_count: 0\n" FWD "        peer_names: x\n",
		       "backup_count of 1 or more", NULL);
	expect_refused(SINK FWD "        peer_names: x\n        window: 0\n", "window", NULL);
	expect_refused(SINK FWD "        peer_names: x\n        tls: off\n", "unknown key", NULL);
	expect_refused(SINK FWD "        peer_names: x\n        nice: 20\n", "0..19", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_capture_and_bounds),
		cmocka_unit_test(test_capture_budget),
		cmocka_unit_test(test_tilde),
		cmocka_unit_test(test_writable_config_refused),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_override),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_redaction),
		cmocka_unit_test(test_redaction_errors),
		cmocka_unit_test(test_redaction_default),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_second_document),
		cmocka_unit_test(test_nul_in_string),
		cmocka_unit_test(test_tags_and_aliases),
		cmocka_unit_test(test_null_values),
		cmocka_unit_test(test_depth_bomb),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_no_sink),
		cmocka_unit_test(test_settings_shared),
		cmocka_unit_test(test_settings_whole_numbers),
		cmocka_unit_test(test_key_file_checks),
		cmocka_unit_test(test_config_owner),
		cmocka_unit_test(test_empty_output),
		cmocka_unit_test(test_metrics_section),
		cmocka_unit_test(test_forward),
	};

	return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
