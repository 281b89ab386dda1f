// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sockaudit command line: subcommands and their options, nothing else. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "collector.h"
#include "log.h"
#include "version.h"

#define DEFAULT_TTL_S		300
#define DEFAULT_EXCERPT		1024
#define DEFAULT_DRAIN_MS	20

static const char usage_text[] =
"usage: sockaudit run --pid PID [--pid PID ...] -o LOG [options]\n"
"       sockaudit exec -o LOG [options] -- CMD [ARGS...]\n"
"       sockaudit record EVENTS (--pid PID ... | -- CMD [ARGS...]) [-o LOG] [options]\n"
"       sockaudit replay EVENTS -o LOG [--ttl S] [--body-excerpt N]\n"
"       sockaudit version\n"
"options:\n"
"  -o, --output FILE       audit log, JSON Lines (created 0600, appended)\n"
"  -p, --pid PID           audit PID and its children (repeatable)\n"
"      --max-capture N     payload bytes captured per syscall (default 4096, 1..32768)\n"
"      --ttl SECONDS       unanswered requests are written as no_response after this (default 300)\n"
"      --body-excerpt N    body bytes kept per message in a record (default 1024)\n"
"      --attach MODE       tracepoint (per-syscall, default) or raw_tp\n"
"      --ringbuf-mb N      ring buffer size in MiB (default 16)\n"
"      --drain-ms N        ring buffer drain period (default 20)\n"
"      --wakeup-bytes N    wake the reader once N bytes wait (default: a quarter of the\n"
"                          ring; 1 wakes it for every event, for comparison)\n"
"  -v, --verbose           debug and libbpf messages\n"
"  -q, --quiet             errors only\n";

enum { OPT_MAX_CAPTURE = 256, OPT_TTL, OPT_EXCERPT, OPT_ATTACH, OPT_RINGBUF, OPT_DRAIN,
       OPT_WAKEUP };

static const struct option long_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "pid", required_argument, NULL, 'p' },
	{ "max-capture", required_argument, NULL, OPT_MAX_CAPTURE },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "body-excerpt", required_argument, NULL, OPT_EXCERPT },
	{ "attach", required_argument, NULL, OPT_ATTACH },
	{ "ringbuf-mb", required_argument, NULL, OPT_RINGBUF },
	{ "drain-ms", required_argument, NULL, OPT_DRAIN },
	{ "wakeup-bytes", required_argument, NULL, OPT_WAKEUP },
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

static int parse_ttl(const char *s, uint64_t *ttl_ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 86400 * 365) {
		fprintf(stderr, "sockaudit: error: --ttl '%s' is not a number of seconds "
			"in (0, 31536000]\n", s);
		return -EINVAL;
	}
	*ttl_ns = (uint64_t)(v * 1e9);
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
	case OPT_TTL:
		err = parse_ttl(arg, &o->pl.ttl_ns);
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
	o->cap.mode = ATTACH_TRACEPOINT;
	o->pl.ttl_ns = DEFAULT_TTL_S * 1000000000ULL;
	o->pl.body_excerpt = DEFAULT_EXCERPT;
	o->drain_ms = DEFAULT_DRAIN_MS;
}

static int parse_args(struct collector_opts *o, int argc, char **argv)
{
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:p:vqh", long_opts, NULL)) != -1) {
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
	if (!is_record && !o.output)
		return usage_error("%s needs -o LOG, the audit log to write", cmd);
	return collector__run(&o);
}

static int cmd_replay(int argc, char **argv)
{
	struct collector_opts o;
	const char *events;
	int err;

	set_defaults(&o);
	if (argc < 2 || argv[1][0] == '-')
		return usage_error("replay needs the event file to read%s", "");
	events = argv[1];
	err = parse_args(&o, argc - 1, argv + 1);
	if (err)
		return err;
	if (!o.output)
		return usage_error("replay needs -o LOG, the audit log to write%s", "");
	return collector__replay(&o, events);
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
	return usage_error("unknown command '%s'", cmd);
}
