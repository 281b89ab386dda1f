// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sockaudit command line: subcommands and their options, nothing else. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chainfile.h"
#include "collector.h"
#include "log.h"
#include "report.h"
#include "search.h"
#include "settings.h"
#include "status.h"
#include "verify.h"
#include "version.h"

#define DEFAULT_TTL_S		300
#define DEFAULT_EXCERPT		1024
#define DEFAULT_DRAIN_MS	20

static const char usage_text[] =
"usage: sockaudit run TARGETS (-o LOG | -c CONFIG) [options]\n"
"       sockaudit exec (-o LOG | -c CONFIG) [options] -- CMD [ARGS...]\n"
"       sockaudit check-config -c CONFIG\n"
"       sockaudit record EVENTS (--pid PID ... | -- CMD [ARGS...]) [-o LOG] [options]\n"
"       sockaudit replay EVENTS -o LOG [--ttl S] [--body-excerpt N]\n"
"       sockaudit keygen KEYFILE\n"
"       sockaudit verify [--key KEYFILE] [--anchor ANCHOR] [--allow-gaps] LOG...\n"
"       sockaudit status [--state-file PATH] [--json]\n"
"       sockaudit search [selectors] [--format raw|text|csv] [--count] [--verify] LOG...\n"
"       sockaudit report [selectors] [--html OUT.html] LOG...\n"
"       sockaudit version\n"
"options (a value out of range is refused with the allowed range; the ranges are in\n"
"docs/operations.md and come from one table for flags and config keys):\n"
"  -o, --output FILE       audit log, JSON Lines (created 0600, appended); with -c it\n"
"                          replaces the first sink's output_file\n"
"  -c, --config FILE       YAML config (docs/configuration.md); flags override it\n"
"      --flush-mode MODE   immediate (default), batched or hybrid, for every sink\n"
"  -p, --pid PID           audit PID and its children (repeatable)\n"
"targets of run that follow restarts (repeatable, any mix; or `targets:` in the config):\n"
"      --cgroup PATH       every process in this cgroup v2 directory or below it\n"
"      --unit NAME         the cgroup of a systemd unit (NAME.service)\n"
"      --exe PATH          every process running this file (matched by device and inode)\n"
"      --state-file PATH   write the state `sockaudit status` reads (e.g.\n"
"                          /run/sockaudit/state.json)\n"
"      --max-capture N     payload bytes per captured event (default 4096)\n"
"      --capture-budget N  payload bytes captured per syscall, in events of --max-capture\n"
"                          bytes (default 1048576)\n"
"      --ttl SECONDS       unanswered requests are written as no_response after this (default 300)\n"
"      --body-excerpt N    body bytes kept per message in a record (default 1024)\n"
"      --attach MODE       tracepoint (per-syscall, default) or raw_tp\n"
"      --ringbuf-mb N      ring buffer size in MiB (default 16)\n"
"      --drain-ms N        ring buffer drain period (default 20)\n"
"      --capture-pipes     also audit targets' stdin/stdout pipes and socketpairs (MCP stdio)\n"
"      --tls on|off        TLS plaintext from OpenSSL uprobes (default on)\n"
"      --max-pending N     requests waiting for answers, all connections (default 100000)\n"
"      --max-pending-per-conn N  requests waiting on one connection (default 1000)\n"
"      --max-connections N connections tracked at once (default 65536)\n"
"      --idle-timeout S    connection state kept this long without traffic (default 900)\n"
"      --wakeup-bytes N    wake the reader once N bytes wait (default: a quarter of the\n"
"                          ring; 1 wakes it for every event, for comparison)\n"
"      --listen ADDR       serve GET /healthz and /metrics on ADDR: 127.0.0.1:PORT or\n"
"                          unix:PATH (off by default; docs/operations.md)\n"
"      --stats-interval S  write a stats record every S seconds (default 0: none)\n"
"  -v, --verbose           debug and libbpf messages\n"
"  -q, --quiet             errors only\n";

enum { OPT_MAX_CAPTURE = 256, OPT_TTL, OPT_EXCERPT, OPT_ATTACH, OPT_RINGBUF, OPT_DRAIN,
       OPT_WAKEUP, OPT_FLUSH, OPT_PIPES, OPT_MAX_PENDING, OPT_MAX_PER_CONN, OPT_MAX_CONNS,
       OPT_IDLE, OPT_BUDGET, OPT_CGROUP, OPT_UNIT, OPT_EXE, OPT_STATE, OPT_LISTEN, OPT_STATS, OPT_TLS, OPT__END };

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
	{ "tls", required_argument, NULL, OPT_TLS },
	{ "max-pending", required_argument, NULL, OPT_MAX_PENDING },
	{ "max-pending-per-conn", required_argument, NULL, OPT_MAX_PER_CONN },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "unit", required_argument, NULL, OPT_UNIT },
	{ "exe", required_argument, NULL, OPT_EXE },
	{ "state-file", required_argument, NULL, OPT_STATE },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "stats-interval", required_argument, NULL, OPT_STATS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	log_err("%s (sockaudit help: usage)", msg);
	return 2;
}

/* A flag of the settings table (settings.h): the same parser and range as the file's key. */
static int parse_setting(struct collector_config *cli, const char *flag, const char *arg,
			 uint64_t *out)
{
	const struct setting *st = settings__by_flag(flag);
	char msg[CONFIG_ERR_LEN];
	uint64_t v;

	if (setting__parse(st, arg, &v, msg, sizeof(msg))) {
		log_err("%s %s", flag, msg);
		return 2;
	}
	if (out)
		*out = v;
	else
		collector_config__set(cli, st->id, v);
	return 0;
}

/* Read /proc/PID/stat: state letter and the task flags (field 9). */
static int pid_stat(pid_t pid, char *state, unsigned long *flags)
{
	char path[64], buf[1024];
	const char *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the command name may hold blanks and ')' */
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", state, flags) != 2)
		return -EINVAL;
	return 0;
}

/* The thread group a pid belongs to (its own id unless it is a thread). */
static pid_t pid_tgid(pid_t pid)
{
	char path[64], line[128];
	pid_t tgid = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

#define PF_KTHREAD 0x00200000	/* include/linux/sched.h */

/* A --pid must be a live user-space process: a kernel thread or a zombie has no traffic. */
static int check_pid(pid_t pid)
{
	unsigned long flags = 0;
	char state = 0;
	pid_t tgid;
	int e = pid_stat(pid, &state, &flags);

	if (e) {
		log_err("pid %d does not exist (%s): check the --pid "
			"value", (int)pid, strerror(-e));
		return 2;
	}
	if (flags & PF_KTHREAD) {
		log_err("--pid %d is a kernel thread: it has no "
			"sockets to audit; give the pid of a user-space program", (int)pid);
		return 2;
	}
	if (state == 'Z' || state == 'X') {
		log_err("--pid %d is a zombie (it exited and waits for "
			"its parent): nothing left to audit", (int)pid);
		return 2;
	}
	tgid = pid_tgid(pid);
	if (tgid != pid) {
		log_err("--pid %d is a thread of process %d; give %d",
			(int)pid, (int)tgid, (int)tgid);
		return 2;
	}
	return 0;
}

static int add_pid(struct collector_opts *o, const char *arg)
{
	uint64_t v;
	int err;

	if (o->npids == COLLECTOR_MAX_PIDS)
		return usage_error("too many --pid options (at most 64)%s", "");
	err = parse_setting(NULL, "--pid", arg, &v);
	if (!err)
		err = check_pid(v);
	if (!err)
		o->pids[o->npids++] = v;
	return err;
}

/* --cgroup, --unit, --exe: resolved when the collector starts (targets.c). */
static int add_selector(struct collector_opts *o, int c, const char *arg)
{
	enum sel_kind k = c == OPT_CGROUP ? SEL_CGROUP : c == OPT_UNIT ? SEL_UNIT : SEL_EXE;
	char msg[128];

	if (targets__add(&o->targets, k, arg, msg, sizeof(msg))) {
		fprintf(stderr, "sockaudit: error: %s\n", msg);
		return 2;
	}
	return 0;
}

/* -o: an empty path would otherwise reach the file checks as "a directory". */
static int set_output(struct collector_opts *o, const char *arg)
{
	if (!arg[0])
		return usage_error("-o: the audit log path is empty; give a file path such as "
				   "/var/log/sockaudit/audit.log%s", "");
	o->output = arg;
	return 0;
}

static const char *const flag_of[OPT__END] = {
	[OPT_MAX_CAPTURE] = "--max-capture", [OPT_BUDGET] = "--capture-budget", [OPT_TTL] = "--ttl",
	[OPT_EXCERPT] = "--body-excerpt", [OPT_RINGBUF] = "--ringbuf-mb",
	[OPT_DRAIN] = "--drain-ms", [OPT_WAKEUP] = "--wakeup-bytes",
	[OPT_MAX_PENDING] = "--max-pending", [OPT_MAX_PER_CONN] = "--max-pending-per-conn",
	[OPT_MAX_CONNS] = "--max-connections", [OPT_IDLE] = "--idle-timeout",
};

/* --listen and --stats-interval (issue 18); they override the metrics: section. */
static int parse_metrics_option(struct collector_opts *o, int c, const char *arg)
{
	uint64_t v;

	if (c == OPT_LISTEN) {
		if (!arg[0])
			return usage_error("--listen: give 127.0.0.1:PORT or unix:PATH%s", "");
		o->listen = arg;
		return 0;
	}
	if (parse_setting(NULL, "--stats-interval", arg, &v))
		return 2;
	o->stats_interval_s = v;
	o->has_stats_interval = true;
	return 0;
}

static int parse_option(struct collector_opts *o, struct collector_config *cli, int c,
			const char *arg)
{
	if (c >= OPT_MAX_CAPTURE && c < OPT__END && flag_of[c])
		return parse_setting(cli, flag_of[c], arg, NULL);
	switch (c) {
	case 'o':
		return set_output(o, arg);
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
		return add_pid(o, arg);
	case OPT_CGROUP:
	case OPT_UNIT:
	case OPT_EXE:
		return add_selector(o, c, arg);
	case OPT_STATE:
		o->state_file = arg;
		break;
	case OPT_ATTACH:
		if (strcmp(arg, "tracepoint") == 0)
			cli->attach = ATTACH_TRACEPOINT;
		else if (strcmp(arg, "raw_tp") == 0)
			cli->attach = ATTACH_RAW_TP;
		else
			return usage_error("--attach '%s': use tracepoint or raw_tp", arg);
		cli->has_attach = true;
		break;
	case OPT_PIPES:
		cli->capture_pipes = cli->has_fd_kinds = true;
		break;
	case OPT_LISTEN:
	case OPT_STATS:
		return parse_metrics_option(o, c, arg);
	case OPT_TLS:
		if (strcmp(arg, "on") && strcmp(arg, "off"))
			return usage_error("--tls '%s': use on or off", arg);
		cli->tls = !strcmp(arg, "on");
		cli->has_tls = true;
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
	return 0;
}

static void set_defaults(struct collector_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cap.max_capture = SA_DEFAULT_CAPTURE;
	o->cap.capture_budget = SA_DEFAULT_BUDGET;
	o->cap.mode = ATTACH_TRACEPOINT;
	o->cap.tls = true;
	o->pl.ttl_ns = DEFAULT_TTL_S * 1000000000ULL;
	o->pl.body_excerpt = DEFAULT_EXCERPT;
	o->drain_ms = DEFAULT_DRAIN_MS;
	o->flush_mode = -1;
}

/* Settings the file (then the flags, the same way) give, over the defaults. */
static void apply_settings(struct collector_opts *o, const struct collector_config *cc)
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
	if (cc->has_tls)
		o->cap.tls = cc->tls;
	if (cc->max_pending)
		o->pl.max_pending = cc->max_pending;
	if (cc->max_pending_per_conn)
		o->pl.max_pending_per_conn = cc->max_pending_per_conn;
	if (cc->max_connections)
		o->pl.max_connections = cc->max_connections;
	if (cc->idle_timeout_ns)
		o->pl.idle_ns = cc->idle_timeout_ns;
	if (cc->has_drain)
		o->drain_ms = cc->drain_ms;
	if (cc->has_ttl)
		o->pl.ttl_ns = cc->request_ttl_ns;
	if (cc->has_excerpt)
		o->pl.body_excerpt = cc->body_excerpt;
	if (cc->wakeup_bytes)
		o->cap.wakeup_bytes = cc->wakeup_bytes;
}

/* The metrics: section under --listen and --stats-interval, which win. */
static void apply_metrics(struct collector_opts *o, const struct metrics_config *mc)
{
	if (!o->listen)
		o->listen = mc->listen;
	if (!o->has_stats_interval)
		o->stats_interval_s = mc->stats_interval_s;
	o->allow_remote = mc->allow_remote;
	o->listen_gid = mc->group ? mc->gid : (gid_t)-1;
	o->loss_window_s = mc->loss_window_s;
}

/* Apply -o and --flush-mode to the loaded config; o->cfg points at cfg. */
static int build_config(struct collector_opts *o, struct config *cfg)
{
	char err[CONFIG_ERR_LEN];

	if (config__override(cfg, o->output, o->flush_mode, err, sizeof(err))) {
		log_err("%s", err);
		return 2;
	}
	o->cfg = cfg->n_sinks ? cfg : NULL;
	return 0;
}

/*
 * The flags, then -c loaded once, into cfg (kept for the sinks): the file's
 * collector settings are applied first, so every flag overrides them.
 */
static int parse_args(struct collector_opts *o, struct config *cfg, int argc, char **argv)
{
	struct collector_config cli = { 0 };
	char msg[CONFIG_ERR_LEN];
	int c, err;

	memset(cfg, 0, sizeof(*cfg));
	optind = 1;
	opterr = 0;	/* getopt's own message lacks our prefix: ours is below */
	while ((c = getopt_long(argc, argv, "+o:c:p:vqh", long_opts, NULL)) != -1) {
		if (c == '?')
			return usage_error("unknown option or missing value in '%s'",
					   argv[optind - 1]);
		err = parse_option(o, &cli, c, optarg);
		if (err)
			return err;
	}
	if (o->config_path && config__load(cfg, o->config_path, msg, sizeof(msg))) {
		log_err("%s", msg);
		return 2;
	}
	apply_settings(o, &cfg->col);
	apply_settings(o, &cli);
	apply_metrics(o, &cfg->metrics);
	return 0;
}

/* What run, exec and record need besides their options. */
static int check_targets(const struct collector_opts *o, const struct config *cfg,
			 const char *cmd, bool is_exec, bool is_record)
{
	bool selectors = o->targets.n || cfg->targets.n;

	if (is_exec && selectors)
		return usage_error("--cgroup, --unit, --exe and `targets:` are for run (and "
				   "record); exec audits the command it starts%s", "");
	if (is_exec && (cfg->user || cfg->group))
		return usage_error("`user:`/`group:` are for run: exec keeps root's privileges "
				   "for the command it starts%s", "");
	if ((is_exec || (is_record && !o->npids && !selectors)) && !o->argv)
		return usage_error("%s needs a command after --", cmd);
	if (o->argv && (o->npids || selectors))
		return usage_error("give targets (--pid, --cgroup, --unit, --exe) or a command, not "
				   "both%s", "");
	if (!is_exec && !is_record && (o->argv || (!o->npids && !selectors)))
		return usage_error("run needs a target: --pid, --cgroup, --unit, --exe or a "
				   "`targets:` section (use exec to start a command)%s", "");
	if (!is_record && !o->output && !o->config_path)
		return usage_error("%s needs -o LOG or -c CONFIG, where to write the audit log",
				   cmd);
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
	err = parse_args(&o, &cfg, argc, argv);
	if (err) {
		targets__free(&o.targets);
		return err;
	}
	if (optind < argc)
		o.argv = &argv[optind];
	err = check_targets(&o, &cfg, cmd, is_exec, is_record);
	if (!err)
		err = build_config(&o, &cfg);
	if (!err)
		err = collector__run(&o);
	config__free(&cfg);
	targets__free(&o.targets);
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
	err = parse_args(&o, &cfg, argc - 1, argv + 1);
	if (err)
		return err;
	if (!o.output && !o.config_path)
		err = usage_error("replay needs -o LOG or -c CONFIG, where to write the audit "
				  "log%s", "");
	if (!err)
		err = build_config(&o, &cfg);
	if (!err)
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
		log_err("%s", err);
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
	if (!strcmp(cmd, "status"))
		return status__main(argc - 1, argv + 1);
	if (!strcmp(cmd, "search"))
		return search__main(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return report__main(argc - 1, argv + 1);
	if (!strcmp(cmd, "check-config"))
		return cmd_check_config(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", cmd);
}
