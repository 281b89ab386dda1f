/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The YAML configuration (docs/configuration.md): audit sinks in the
 * auditing-plugin schema plus the collector's own settings. Loading checks
 * every key, type and range and fails with one message naming file:line, the
 * key and what is allowed; nothing here opens an output.
 */
#ifndef SOCKAUDIT_CONFIG_H
#define SOCKAUDIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "redact.h"
#include "settings.h"
#include "targets.h"

#define CONFIG_MAX_SINKS	32
#define CONFIG_MAX_RULES	16
#define CONFIG_ERR_LEN		512

enum flush_mode { FLUSH_IMMEDIATE = 0, FLUSH_BATCHED, FLUSH_HYBRID };
enum rotate_interval { ROTATE_NONE = 0, ROTATE_HOURLY, ROTATE_DAILY };
enum space_action { SPACE_WARN = 0, SPACE_ROTATE, SPACE_SUSPEND, SPACE_EXIT };

/* A sink's integrity chain (docs/integrity.md); off while key_file is NULL. */
struct integrity_config {
	char *key_file;
	char *state_file;		/* NULL: output_file + ".chain" */
	char *anchor_file;		/* NULL: output_file + ".anchor" */
	uint32_t checkpoint_every;	/* records between checkpoints; 0: none by count */
	uint32_t checkpoint_interval_s;	/* seconds between checkpoints; 0: none by time */
};

/* A sink's forward section (docs/fleet.md); off while target is NULL. */
struct forward_config {
	char *target;			/* host:port of the RELP server */
	char *ca_file, *cert_file, *key_file;
	char *peer_names;		/* comma-separated */
	char *cursor_file;		/* NULL: output_file + ".fwd" */
	char *hostname;			/* HOSTNAME of the messages; NULL: gethostname */
	uint32_t window;		/* unacknowledged frames in flight */
	uint64_t spool_limit;		/* bytes of unshipped rotated files beyond backup_count */
	uint32_t reconnect_max_ms;	/* backoff ceiling */
	uint32_t nice;			/* the forward thread's nice value (0..19) */
};

struct redactor;

/* One `auditing_plugins` entry. Paths are kept as written (after `~`). */
struct sink_config {
	char *type;			/* json_lines, cef, syslog, line or csv */
	char *output_file;
	char *base_directory;		/* NULL: none */
	char *log_group;		/* NULL: none */
	uint64_t max_file_size;		/* bytes; 0: no size rotation */
	uint64_t space_left;		/* bytes; 0: no check */
	uint32_t backup_count;
	uint32_t max_age_days;		/* 0: keep by count only */
	uint32_t batch_size;
	uint32_t batch_interval_ms;
	uint32_t event_buffer_size;
	uint32_t max_message_length;
	uint32_t file_mode;
	gid_t gid;			/* of log_group, when set */
	enum rotate_interval rotate_interval;
	enum flush_mode flush_mode;
	enum space_action space_left_action;
	bool compress;
	bool critical;
	bool allow_shared_directory;	/* a sticky directory others write (/tmp) is accepted */
	struct integrity_config integrity;
	struct forward_config forward;
	/* the config's redaction section, borrowed from struct config (NULL: defaults) */
	const struct redactor *redactor;
	int line;			/* where the entry starts, for messages */
};

/* Extra records that hybrid sinks sync at once (besides 401/403 and loss). */
struct critical_rules {
	int http_status[CONFIG_MAX_RULES];
	int n_status;
	char *methods[CONFIG_MAX_RULES];
	int n_methods;
	char *target_prefixes[CONFIG_MAX_RULES];
	int n_prefixes;
};

/* Collector settings; has_* says the file set them (the CLI may override). */
struct collector_config {
	uint32_t max_capture_bytes;
	uint32_t capture_budget_bytes;	/* 0: not set */
	uint32_t ringbuf_mb;
	uint32_t body_excerpt;
	uint32_t drain_ms;
	double request_ttl_s;
	uint64_t request_ttl_ns;	/* the same, as parsed (no rounding back and forth) */
	int attach;			/* enum attach_mode */
	bool has_max_capture, has_ringbuf, has_excerpt, has_drain, has_ttl, has_attach;
	bool has_fd_kinds;
	/* correlation bounds; 0: not set (the collector's defaults apply) */
	uint32_t max_pending, max_pending_per_conn, max_connections;
	double idle_timeout_s;
	uint64_t idle_timeout_ns;
	uint32_t wakeup_bytes;		/* command line only; 0: not set */
	bool capture_pipes;		/* fd_kinds lists pipes: stdin/stdout too */
	bool tls, has_tls;		/* capture.tls: on (default) or off */
};

/* The `metrics:` section (issue 18): the endpoint and the stats record; read at start only. */
struct metrics_config {
	char *listen;			/* HOST:PORT or unix:PATH; NULL: no endpoint */
	char *group;			/* unix socket group; NULL: the collector's */
	gid_t gid;			/* of group, when set; else (gid_t)-1 */
	bool allow_remote;		/* a non-loopback address is accepted */
	uint32_t stats_interval_s;	/* a stats record this often; 0: none */
	uint32_t loss_window_s;		/* health: loss counted over this long (0: 60) */
};

/*
 * The `redaction:` section as read, strings owned (ro points into the
 * arrays). The config only parses and checks it (redact_opts__check); the
 * redactor is built from it where the sinks are opened
 * (config__set_redactor), at each start and reload.
 */
struct redaction_config {
	bool present;			/* the file has the section */
	struct redact_opts ro;
	char *disable[REDACT_MAX_RULES], *enable[REDACT_MAX_RULES];
	struct redact_custom custom[REDACT_MAX_RULES];
};

struct config {
	char *path;
	struct sink_config sinks[CONFIG_MAX_SINKS];
	int n_sinks;
	struct critical_rules rules;
	struct collector_config col;
	struct redaction_config redaction;
	/* built from redaction where the sinks open (NULL: not yet, or the built-in defaults) */
	struct redactor *redactor;
	char digest[65];		/* SHA-256 of the file, hex */
	struct target_set targets;	/* the `targets:` section (unresolved) */
	char *user, *group;		/* `user:`/`group:`: run as them after attach (NULL: stay) */
	struct metrics_config metrics;
};

/* Defaults for one sink writing to path (NULL: none yet). */
void sink_config__defaults(struct sink_config *sc);
/* Deep copy; -ENOMEM on failure (dst is then freed). */
int sink_config__copy(struct sink_config *dst, const struct sink_config *src);
void sink_config__free(struct sink_config *sc);
/* Set output_file (after `~` expansion and the `$` check). 0 or -EINVAL + err. */
int sink_config__set_output(struct sink_config *sc, const char *path, char *err, size_t errlen);

/* Load and check path. 0, or -errno with one line in err. */
int config__load(struct config *c, const char *path, char *err, size_t errlen);
void config__free(struct config *c);

/*
 * Build the redactor of c's redaction section and lend it to every sink;
 * called where the sinks are opened (start, reload, check-config), never
 * by config__load. Nothing to do without the section (the sinks use the
 * built-in defaults) or when built already. 0, or -errno + err.
 */
int config__set_redactor(struct config *c, char *err, size_t errlen);

/*
 * CLI overrides: output (-o, may be NULL) replaces the first sink's
 * output_file, or makes the one sink when there is none; flush >= 0
 * (--flush-mode) applies to every sink. 0 or -errno + err.
 */
int config__override(struct config *c, const char *output, int flush, char *err, size_t errlen);

/* Set one setting of the table (settings.h), value as setting__parse gave it. */
void collector_config__set(struct collector_config *cc, enum setting_id id, uint64_t v);

/* Parse a flush mode name; -EINVAL when unknown. */
int config__flush_mode(const char *name, enum flush_mode *out);
const char *config__flush_mode_name(enum flush_mode m);

/* Hex SHA-256 of n bytes into out[65]. */
void config__sha256_hex(const void *data, size_t n, char out[65]);

#endif /* SOCKAUDIT_CONFIG_H */
