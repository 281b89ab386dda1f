// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sockaudit command line: subcommands and their options, nothing else. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chainfile.h"
#include "collector.h"
#include "log.h"
#include "verify.h"
#include "version.h"

#define DEFAULT_TTL_S		300
#define DEFAULT_EXCERPT		1024
#define DEFAULT_DRAIN_MS	20

static const char usage_text[] =
"usage: sockaudit run --pid PID [--pid PID ...] (-o LOG | -c CONFIG) [options]\n"
"       sockaudit exec (-o LOG | -c CONFIG) [options] -- CMD [ARGS...]\n"
"       sockaudit check-config -c CONFIG\n"
"       sockaudit record EVENTS (--pid PID ... | -- CMD [ARGS...]) [-o LOG] [options]\n"
"       sockaudit replay EVENTS -o LOG [--ttl S] [--body-excerpt N]\n"
"       sockaudit keygen KEYFILE\n"
"       sockaudit verify [--key KEYFILE] [--anchor ANCHOR] [--allow-gaps] LOG...\n"
"       sockaudit version\n"
"options:\n"
"  -o, --output FILE       audit log, JSON Lines (created 0600, appended); with -c it\n"
"                          replaces the first sink's output_file\n"
"  -c, --config FILE       YAML config (docs/configuration.md); flags override it\n"
"      --flush-mode MODE   immediate (default), batched or hybrid, for every sink\n"
"  -p, --pid PID           audit PID and its children (repeatable)\n"
"      --max-capture N     payload bytes per captured event (default 4096, 1..32768)\n"
"      --capture-budget N  payload bytes captured per syscall, in events of --max-capture\n"
"                          bytes (default 1048576, 1..268435456)\n"
"      --ttl SECONDS       unanswered requests are written as no_response after this (default 300)\n"
"      --body-excerpt N    body bytes kept per message in a record (default 1024)\n"
"      --attach MODE       tracepoint (per-syscall, default) or raw_tp\n"
"      --ringbuf-mb N      ring buffer size in MiB (default 16)\n"
"      --drain-ms N        ring buffer drain period (default 20)\n"
"      --capture-pipes     also audit targets' stdin/stdout pipes (MCP stdio servers)\n"
"      --max-pending N     requests waiting for answers, all connections (default 100000)\n"
"      --max-pending-per-conn N  requests waiting on one connection (default 1000)\n"
"      --max-connections N connections tracked at once (default 65536)\n"
"      --idle-timeout S    connection state kept this long without traffic (default 900)\n"
"      --wakeup-bytes N    wake the reader once N bytes wait (default: a quarter of the\n"
"                          ring; 1 wakes it for every event, for comparison)\n"
"  -v, --verbose           debug and libbpf messages\n"
"  -q, --quiet             errors only\n";

enum { OPT_MAX_CAPTURE = 256, OPT_TTL, OPT_EXCERPT, OPT_ATTACH, OPT_RINGBUF, OPT_DRAIN,
       OPT_WAKEUP, OPT_FLUSH, OPT_PIPES, OPT_MAX_PENDING, OPT_MAX_PER_CONN, OPT_MAX_CONNS,
       OPT_IDLE, OPT_BUDGET };

static const struct option long_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "config", required_argument, NULL, 'c' },
	{ "flush-mode", required_argument, NULL, OPT_FLUSH },
	{ "pid", required_argument, NULL, 'p' },
	{ "max-capture", required_argument, NULL, OPT_MAX_CAPTURE },
	{ "capture-budget", required_argument, NULL, OPT_BUDGET },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "body-excerpt", required_argument, NULL, OPT_EXCERPT },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "ringbuf-mb", required_argument, NULL, OPT_RINGBUF },
	{ "drain-ms", required_argument, NULL, OPT_DRAIN },
	{ "wakeup-bytes", required_argument, NULL, OPT_WAKEUP },
	{ "capture-pipes", no_argument, NULL, OPT_PIPES },
	{ "max-pending", required_argument, NULL, OPT_MAX_PENDING },
	{ "max-pending-per-conn", required_argument, NULL, OPT_MAX_PER_CONN },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "sockaudit: error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (sockaudit help: usage)\n");
	return 2;
}

/* Parse an integer option in [lo, hi]; -EINVAL with a message otherwise. */
static int parse_uint(const char *opt, const char *s, unsigned long lo, unsigned long hi,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "sockaudit: error: %s '%s' is not a whole number in %lu..%lu\n",
			opt, s, lo, hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_seconds(const char *opt, const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 86400 * 365) {
		fprintf(stderr, "sockaudit: error: %s '%s' is not a number of seconds "
			"in (0, 31536000]\n", opt, s);
		return -EINVAL;
	}
	*ns = (uint64_t)(v * 1e9);
	return 0;
}

static int parse_option(struct collector_opts *o, int c, const char *arg)
{
	unsigned long v;
	int err = 0;

	switch (c) {
	case 'o':
		o->output = arg;
		break;
	case 'c':
		o->config_path = arg;
		break;
	case OPT_FLUSH: {
		enum flush_mode m;

		if (config__flush_mode(arg, &m))
			return usage_error("--flush-mode '%s': use immediate, batched or hybrid", arg);
		o->flush_mode = m;
		break;
	}
	case 'p':
		if (o->npids == COLLECTOR_MAX_PIDS)
			return usage_error("too many --pid options (at most 64)%s", "");
		err = parse_uint("--pid", arg, 1, 0x7fffffff, &v);
		o->pids[o->npids++] = v;
		break;
	case OPT_MAX_CAPTURE:
		err = parse_uint("--max-capture", arg, 1, SA_MAX_CAPTURE, &v);
		o->cap.max_capture = v;
		break;
	case OPT_BUDGET:
		err = parse_uint("--capture-budget", arg, 1, SA_MAX_BUDGET, &v);
		o->cap.capture_budget = v;
		break;
	case OPT_TTL:
		err = parse_seconds("--ttl", arg, &o->pl.ttl_ns);
		break;
	case OPT_EXCERPT:
		err = parse_uint("--body-excerpt", arg, 0, SA_MAX_CAPTURE, &v);
		o->pl.body_excerpt = v;
		break;
	case OPT_ATTACH:
		if (strcmp(arg, "tracepoint") == 0)
			o->cap.mode = ATTACH_TRACEPOINT;
		else if (strcmp(arg, "raw_tp") == 0)
			o->cap.mode = ATTACH_RAW_TP;
		else
			return usage_error("--attach '%s': use tracepoint or raw_tp", arg);
		break;
	case OPT_RINGBUF:
		err = parse_uint("--ringbuf-mb", arg, 1, 1024, &v);
		/* the ring buffer size must be a power of two pages */
		if (!err && (v & (v - 1)))
			return usage_error("--ringbuf-mb %s is not a power of two", arg);
		o->cap.ringbuf_mb = v;
		break;
	case OPT_DRAIN:
		err = parse_uint("--drain-ms", arg, 1, 1000, &v);
		o->drain_ms = v;
		break;
	case OPT_PIPES:
		o->cap.capture_pipes = true;
		break;
	case OPT_MAX_PENDING:
		err = parse_uint("--max-pending", arg, 1, 100000000, &v);
		o->pl.max_pending = v;
		break;
	case OPT_MAX_PER_CONN:
		err = parse_uint("--max-pending-per-conn", arg, 1, 10000000, &v);
		o->pl.max_pending_per_conn = v;
		break;
	case OPT_MAX_CONNS:
		err = parse_uint("--max-connections", arg, 1, 10000000, &v);
		o->pl.max_connections = v;
		break;
	case OPT_IDLE:
		err = parse_seconds("--idle-timeout", arg, &o->pl.idle_ns);
		break;
	case OPT_WAKEUP:
		err = parse_uint("--wakeup-bytes", arg, 1, 1UL << 30, &v);
		o->cap.wakeup_bytes = v;
		break;
	case 'v':
		o->cap.verbose = true;
		log_verbosity = LOG_DEBUG;
		break;
	case 'q':
		log_verbosity = LOG_ERR;
		break;
	case 'h':
		fputs(usage_text, stdout);
		exit(0);
	default:
		return 2;
	}
	return err ? 2 : 0;
}

static void set_defaults(struct collector_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cap.max_capture = SA_DEFAULT_CAPTURE;
	o->cap.capture_budget = SA_DEFAULT_BUDGET;
	o->cap.mode = ATTACH_TRACEPOINT;
	o->pl.ttl_ns = DEFAULT_TTL_S * 1000000000ULL;
	o->pl.body_excerpt = DEFAULT_EXCERPT;
	o->drain_ms = DEFAULT_DRAIN_MS;
	o->flush_mode = -1;
}

/* The collector settings a config file gives, before the flags override them. */
static void apply_file(struct collector_opts *o, const struct collector_config *cc)
{
	if (cc->has_max_capture)
		o->cap.max_capture = cc->max_capture_bytes;
	if (cc->capture_budget_bytes)
		o->cap.capture_budget = cc->capture_budget_bytes;
	if (cc->has_ringbuf)
		o->cap.ringbuf_mb = cc->ringbuf_mb;
	if (cc->has_attach)
		o->cap.mode = cc->attach;
	if (cc->has_fd_kinds)
		o->cap.capture_pipes = cc->capture_pipes;
	if (cc->max_pending)
		o->pl.max_pending = cc->max_pending;
	if (cc->max_pending_per_conn)
		o->pl.max_pending_per_conn = cc->max_pending_per_conn;
	if (cc->max_connections)
		o->pl.max_connections = cc->max_connections;
	if (cc->idle_timeout_s > 0)
		o->pl.idle_ns = (uint64_t)(cc->idle_timeout_s * 1e9);
	if (cc->has_drain)
		o->drain_ms = cc->drain_ms;
	if (cc->has_ttl)
		o->pl.ttl_ns = (uint64_t)(cc->request_ttl_s * 1e9);
	if (cc->has_excerpt)
		o->pl.body_excerpt = cc->body_excerpt;
}

/* First pass: only -c, so the file's values come before the flags. */
static const char *find_config(int argc, char **argv)
{
	const char *path = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:c:p:vqh", long_opts, NULL)) != -1)
		if (c == 'c')
			path = optarg;
	opterr = 1;
	return path;
}

/* Load -c (if any), apply -o and --flush-mode on top; o->cfg points at cfg. */
static int build_config(struct collector_opts *o, struct config *cfg)
{
	char err[CONFIG_ERR_LEN];

	memset(cfg, 0, sizeof(*cfg));
	if (o->config_path && config__load(cfg, o->config_path, err, sizeof(err))) {
		fprintf(stderr, "sockaudit: error: %s\n", err);
		return 2;
	}
	if (config__override(cfg, o->output, o->flush_mode, err, sizeof(err))) {
		fprintf(stderr, "sockaudit: error: %s\n", err);
		config__free(cfg);
		return 2;
	}
	o->cfg = cfg->n_sinks ? cfg : NULL;
	return 0;
}

static int parse_args(struct collector_opts *o, int argc, char **argv)
{
	int c, err;

	const char *cfg_path = find_config(argc, argv);
	struct config probe;
	char msg[CONFIG_ERR_LEN];

	/* the file's collector settings first, so every flag below overrides them */
	if (cfg_path) {
		if (config__load(&probe, cfg_path, msg, sizeof(msg))) {
			fprintf(stderr, "sockaudit: error: %s\n", msg);
			return 2;
		}
		apply_file(o, &probe.col);
		config__free(&probe);
	}
	optind = 1;
	opterr = 0;	/* getopt's own message lacks our prefix: ours is below */
	while ((c = getopt_long(argc, argv, "+o:c:p:vqh", long_opts, NULL)) != -1) {
		if (c == '?')
			return usage_error("unknown option or missing value in '%s'",
					   argv[optind - 1]);
		err = parse_option(o, c, optarg);
		if (err)
			return err;
	}
	return 0;
}

static int cmd_capture(const char *cmd, int argc, char **argv)
{
	struct collector_opts o;
	bool is_exec = strcmp(cmd, "exec") == 0, is_record = strcmp(cmd, "record") == 0;
	struct config cfg;
	int err;

	set_defaults(&o);
	if (is_record) {
		if (argc < 2 || argv[1][0] == '-')
			return usage_error("record needs the event file to write%s", "");
		o.record_path = argv[1];
		argc--;
		argv++;
	}
	err = parse_args(&o, argc, argv);
	if (err)
		return err;
	if (optind < argc)
		o.argv = &argv[optind];
	if ((is_exec || (is_record && !o.npids)) && !o.argv)
		return usage_error("%s needs a command after --", cmd);
	if (o.argv && o.npids)
		return usage_error("give --pid or a command, not both%s", "");
	if (!is_exec && !is_record && (o.argv || !o.npids))
		return usage_error("run needs --pid PID (use exec to start a command)%s", "");
	if (!is_record && !o.output && !o.config_path)
		return usage_error("%s needs -o LOG or -c CONFIG, where to write the audit log", cmd);
	err = build_config(&o, &cfg);
	if (err)
		return err;
	err = collector__run(&o);
	config__free(&cfg);
	return err;
}

static int cmd_replay(int argc, char **argv)
{
	struct collector_opts o;
	struct config cfg;
	const char *events;
	int err;

	set_defaults(&o);
	if (argc < 2 || argv[1][0] == '-')
		return usage_error("replay needs the event file to read%s", "");
	events = argv[1];
	err = parse_args(&o, argc - 1, argv + 1);
	if (err)
		return err;
	if (!o.output && !o.config_path)
		return usage_error("replay needs -o LOG or -c CONFIG, where to write the audit "
				   "log%s", "");
	err = build_config(&o, &cfg);
	if (err)
		return err;
	err = collector__replay(&o, events);
	config__free(&cfg);
	return err;
}

static int cmd_check_config(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "-c") && strcmp(argv[1], "--config")))
		return usage_error("check-config needs -c CONFIG%s", "");
	return collector__check_config(argv[2]);
}

/* A new integrity key (docs/integrity.md); copy it off the host for verify. */
static int cmd_keygen(int argc, char **argv)
{
	char err[512];

	if (argc != 2 || argv[1][0] == '-')
		return usage_error("keygen needs the key file to create%s", "");
	if (chainfile__keygen(argv[1], err, sizeof(err))) {
		fprintf(stderr, "sockaudit: error: %s\n", err);
		return 1;
	}
	printf("wrote %s (mode 0600); keep a copy off this host: `sockaudit verify --key` "
	       "needs it\n", argv[1]);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd || !strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		fputs(usage_text, cmd ? stdout : stderr);
		return cmd ? 0 : 2;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("sockaudit %s\n", SOCKAUDIT_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "run") || !strcmp(cmd, "exec") || !strcmp(cmd, "record"))
		return cmd_capture(cmd, argc - 1, argv + 1);
	if (!strcmp(cmd, "replay"))
		return cmd_replay(argc - 1, argv + 1);
	if (!strcmp(cmd, "keygen"))
		return cmd_keygen(argc - 1, argv + 1);
	if (!strcmp(cmd, "verify"))
		return verify__main(argc - 1, argv + 1);
	if (!strcmp(cmd, "check-config"))
		return cmd_check_config(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", cmd);
}
