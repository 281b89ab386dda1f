// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Collector main loop: run, exec, record and replay. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/types.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "forward.h"
#include "chainfile.h"
#include "backlog.h"
#include "bpf_release.h"
#include "collector.h"
#include "pipeline_tls.h"
#include "tls.h"
#include "tlsprobe.h"
#include "format.h"
#include "httpd.h"
#include "log.h"
#include "observe.h"
#include "outpath.h"
#include "output_lifecycle.h"
#include "privs.h"
#include "recfile.h"
#include "redact.h"
#include "service.h"
#include "status.h"
#include "sink.h"
#include "version.h"

#define TICK_NS 1000000000ULL	/* expiry and loss reports, once a second */
#define RUN_ID_BYTES 16		/* 128 random bits: runs sharing a log never collide */
#define RUN_ID_HEX (2 * RUN_ID_BYTES)
#define COMMAND_GRACE_NS (5 * 1000000000ULL)	/* SIGTERM to SIGKILL, sink failure in exec */
/* events the reader sets aside while a reload swaps the sinks (beyond: counted, lost) */
#define BACKLOG_MAX_BYTES (256u << 20)

static volatile sig_atomic_t stop_signal, reload_signal, rotate_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void on_reload_signal(int sig)
{
	reload_signal = 1;
}

static void on_rotate_signal(int sig)
{
	rotate_signal = 1;
}

/*
 * A SIGHUP reload, off the capture path: the thread parses the config
 * (PARSING) while the reader goes on as before; then it asks for the sinks
 * (SWAP_WANTED), the reader hands them over and sets events aside
 * (SWAPPING), the thread closes the old sinks and opens the new ones, or
 * reopens the old on failure, and says so (SWAPPED). The reader then writes
 * the config_reload record and feeds the events it set aside.
 */
enum reload_phase { RELOAD_IDLE = 0, RELOAD_PARSING, RELOAD_SWAP_WANTED, RELOAD_SWAPPING,
		    RELOAD_SWAPPED };

struct reload_job {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int phase;			/* enum reload_phase; read by the reader without mu */
	struct config next;
	bool have_next;
	int result;			/* 0, or -EIO: no sink could be reopened */
	const char *status;		/* "applied" or "rejected" */
	char err[CONFIG_ERR_LEN];
	uint64_t started_ns;
	/* what parsing needs, copied: a stop may leave the thread behind (see reload_wait) */
	const char *path, *output;
	int flush_mode;
	bool cancel;			/* under mu: the collector stopped while parsing */
	bool dropped;			/* run: privileges were given up after attach */
	struct target_set targets;	/* run: the selectors re-read, resolved in the thread */
	bool have_targets;
	struct collector *co;		/* touched only once the reader handed the sinks over */
};

struct collector {
	const struct collector_opts *o;
	struct capture *cap;
	struct tlsprobe *tp;		/* TLS uprobes, or NULL (--tls off) */
	uint32_t tls_files;		/* files the TLS uprobes were attached to, in all */
	uint64_t tls_swept;		/* processes whose TLS links the sweep closed */
	struct pipeline *pl;
	struct config *cfg;		/* the config in force */
	struct config reloaded;		/* owned once a reload was applied */
	struct sink *handles[CONFIG_MAX_SINKS];	/* one per configured sink */
	struct forwarder *fwd[CONFIG_MAX_SINKS];	/* a sink's forward section (NULL: none) */
	int nhandles;
	char fail_reason[1024];
	struct recfile rec;
	pid_t child;
	int child_status;		/* exit status to pass on (exec) */
	bool child_done;
	const char *stop_reason;
	const char *command_signal;	/* what the collector sent the command (sink failure) */
	uint64_t kcnt[SA_CNT_MAX];
	char run_id[RUN_ID_HEX + 1];	/* names this run in its start and stop records */
	struct reload_job *reload;	/* in flight, or NULL */
	bool deferring;			/* the sinks are being swapped: events go to backlog */
	struct backlog backlog;
	uint64_t backlog_dropped;	/* events not held, all reloads: the loss record's total */
	struct target_set active;	/* run: the selectors in force, resolved */
	char *caps;			/* run: effective capabilities after attach (privs.h) */
	bool state_failed;		/* the state file could not be written (said once) */
	struct observer *obs;		/* health, metrics, stats records (NULL: off) */
	int listen_fd;			/* run: the endpoint's socket until the observer takes it */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int64_t mono_to_real_offset(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return (int64_t)(r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

static int on_event(void *ctx, const void *data, size_t size)
{
	struct collector *co = ctx;

	if (co->o->cap.tls)	/* a target the kernel stopped at mmap is continued here */
		tlsprobe__event(co->tp, data, size);
	if (co->rec.f)
		recfile__append(&co->rec, data, size);
	if (co->deferring)
		backlog__put(&co->backlog, data, size);
	else if (co->pl)
		pipeline__event(co->pl, data, size);
	return 0;
}

static void on_target_exit(void *ctx, uint32_t tgid)
{
	struct collector *co = ctx;

	if (co->cap)
		capture__forget_tgid(co->cap, tgid);
}

/* 0, or -1 when a handler cannot be set: the collector could not be stopped cleanly. */
static int install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	/* no SA_RESTART: a signal interrupts the ring buffer wait */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		goto fail;
	sa.sa_handler = on_reload_signal;
	if (sigaction(SIGHUP, &sa, NULL))
		goto fail;
	sa.sa_handler = on_rotate_signal;
	if (sigaction(SIGUSR1, &sa, NULL))
		goto fail;
	signal(SIGPIPE, SIG_IGN);
	return 0;
fail:
	log_err("cannot install the signal handlers: %s; nothing was started", strerror(errno));
	return -1;
}

/*
 * The facts the lifecycle records show (output_lifecycle.h builds their
 * members): what runs, attached to what, and its counters.
 */
_Static_assert(COLLECTOR_MAX_PIDS + 1 <= LC_TARGETS_PIDS, "targets names the command and every --pid");

static void lc_facts(const struct collector *co, struct lc_facts *f)
{
	struct pipeline_stats st;

	pipeline__stats(co->pl, &st);
	*f = (struct lc_facts){
		.run_id = co->run_id, .attach = co->cap ? capture__mode_name(co->cap) : NULL,
		.child = co->child, .pids = co->o->pids, .npids = co->o->npids,
		.selectors = &co->active, .caps = co->caps,
		.max_capture_bytes = co->o->cap.max_capture,
		.capture_budget_bytes = co->o->cap.capture_budget,
		.request_ttl_ms = co->o->pl.ttl_ns / 1000000, .cfg = co->cfg,
		.reason = co->stop_reason, .exit_status = co->child_status,
		.command_signal = co->command_signal,
		.events = st.events, .exchanges = st.exchanges, .records = st.records,
		/* events are not kept in the kernel: "events" counts them */
		.kernel = { co->kcnt, SA_CNT_MAX, SA_CNT_EVENTS, kernel_counter_name },
		.pipeline = { pipeline__counters(co->pl), PL_CNT_MAX, -1, pipeline__counter_name },
		.tls_files = co->tls_files, .tls_swept = co->tls_swept,
	};
	if (co->o->cap.tls)
		f->tls = (struct lc_counters){ pipeline__tls_counters(co->pl), TLS_CNT_MAX, -1,
					       tls__counter_name };
}

/*
 * A run identifier, so a reader of a shared (appended, rotated) log can pick
 * this run's records from its collector_start to its collector_stop.
 */
static int make_run_id(struct collector *co)
{
	unsigned char b[RUN_ID_BYTES];
	int i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		log_err("cannot draw a random run_id: %s", strerror(errno));
		return -errno;
	}
	for (i = 0; i < RUN_ID_BYTES; i++)
		snprintf(co->run_id + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* Fork the command, held at a gate until its pid is a target, then exec it. */
static int start_child(struct collector *co)
{
	int gate[2];
	char go = 1;
	pid_t pid;

	if (pipe2(gate, O_CLOEXEC)) {
		log_err("cannot create a pipe to start %s: %s", co->o->argv[0], strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		log_err("cannot fork to start %s: %s", co->o->argv[0], strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		close(gate[1]);
		if (read(gate[0], &go, 1) != 1)
			_exit(127);	/* the collector failed before releasing us */
		execvp(co->o->argv[0], co->o->argv);
		log_err("cannot execute %s: %s", co->o->argv[0],
			strerror(errno));
		_exit(127);
	}
	close(gate[0]);
	co->child = pid;
	if (capture__add_target(co->cap, pid, false)) {
		close(gate[1]);
		waitpid(pid, NULL, 0);
		co->child = 0;
		return -EINVAL;
	}
	if (write(gate[1], &go, 1) != 1) {
		close(gate[1]);
		return -errno;
	}
	close(gate[1]);
	return 0;
}

static bool pids_gone(const struct collector *co)
{
	int i;

	for (i = 0; i < co->o->npids; i++)
		if (kill(co->o->pids[i], 0) == 0 || errno != ESRCH)
			return false;
	/* selectors that follow restarts keep a service running with no process */
	return co->o->npids > 0 && !targets__n_following(&co->active);
}

/* A wait status as an exit status: 128 + N when signal N ended the command. */
static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void reap_child(struct collector *co)
{
	int status;

	if (!co->child || co->child_done || waitpid(co->child, &status, WNOHANG) != co->child)
		return;
	co->child_done = true;
	co->child_status = exit_code(status);
	co->stop_reason = "command exited";
}

/* A stop signal: exec forwards the first one to the command and waits for it. */
static bool should_stop(struct collector *co, int *signals_seen)
{
	if (stop_signal) {
		int sig = stop_signal;

		stop_signal = 0;
		(*signals_seen)++;
		if (co->child && !co->child_done && *signals_seen == 1) {
			kill(co->child, sig);
		} else {
			co->stop_reason = sig == SIGINT ? "SIGINT" : "SIGTERM";
			/* the command did not stop: we did, as the signal asked */
			if (co->child && !co->child_done)
				co->child_status = 128 + sig;
			return true;
		}
	}
	reap_child(co);
	if (co->child_done)
		return true;
	if (pids_gone(co)) {
		co->stop_reason = "targets exited";
		return true;
	}
	return false;
}

/* how long a stopping forwarder may go on shipping the log's tail */
#define FORWARD_DRAIN_MS 3000

/* ---- sinks ---- */

static int close_sinks(struct collector *co)
{
	int i, e, err = 0;

	for (i = 0; i < co->nhandles; i++) {
		forward__detach(co->fwd[i]);
		if ((e = sink__close(co->handles[i])) && !err)
			err = e;
		/* after the writer's last records; its rotator goes with the forwarder */
		forward__stop(co->fwd[i], FORWARD_DRAIN_MS, e != -EIO);
		co->fwd[i] = NULL;
	}
	co->nhandles = 0;
	return err;
}

/* A `forward` record when a forwarder's link changed state, or its lag every minute. */
static void report_forward(struct collector *co, uint64_t now)
{
	struct format_field f[FORWARD_FIELDS];
	size_t n;
	int i;

	for (i = 0; i < co->nhandles; i++)
		if ((n = forward__record_due(co->fwd[i], now, f)))
			pipeline__lifecycle(co->pl, "forward", f, n, now);
}

/* The pipeline writes once to each distinct writer (shared files). */
static int feed_sinks(struct collector *co)
{
	struct sink *d[CONFIG_MAX_SINKS];
	int i, j, n = 0;

	for (i = 0; i < co->nhandles; i++) {
		for (j = 0; j < n && d[j] != co->handles[i]; j++)
			;
		if (j == n)
			d[n++] = co->handles[i];
	}
	return pipeline__set_sinks(co->pl, d, n);
}

/*
 * Open every sink of cfg, its redactor first (built here, not when the
 * file is read); a critical one that cannot be set up fails all (err says why).
 */
static int open_sinks(struct collector *co, struct config *cfg, char *err, size_t errlen)
{
	int i, e = config__set_redactor(cfg, err, errlen);

	if (e)
		return e;
	/*
	 * The built-in rules compile in ~0.1 s of CPU (0.8 s under ASan): now,
	 * before the collector says it has started and before a forwarder
	 * ships (a stop during the compile would find it a backlog further),
	 * not while the first records wait (and the audited service with them).
	 */
	if (!cfg->redactor)
		redactor__default();
	for (i = 0; i < cfg->n_sinks; i++) {
		e = sink__create(&co->handles[i], &cfg->sinks[i], 0, err, errlen);
		if (!e && (e = forward__start(&co->fwd[i], co->handles[i], &cfg->sinks[i], err,
					      errlen)))
			sink__close(co->handles[i]);
		if (e) {
			close_sinks(co);
			feed_sinks(co);		/* the pipeline holds no closed sink */
			return e;
		}
		co->nhandles = i + 1;
	}
	pipeline__set_rules(co->pl, &cfg->rules);
	return feed_sinks(co);
}

/* At start: a sink that cannot be opened is fatal, said once. */
static int open_sinks_or_say(struct collector *co, struct config *cfg)
{
	char err[CONFIG_ERR_LEN];
	int e = open_sinks(co, cfg, err, sizeof(err));

	if (e)
		log_err("%s; the sink is critical: not starting it", err);
	return e;
}

/*
 * A sink that asks to stop (a critical one cannot go on, or its
 * space_left_action exit fired) stops the collector.
 */
static bool sink_failed(struct collector *co)
{
	const char *why;
	int i;

	for (i = 0; i < co->nhandles; i++) {
		if (sink__failed(co->handles[i], &why)) {
			snprintf(co->fail_reason, sizeof(co->fail_reason), "%s", why);
			co->stop_reason = co->fail_reason;
			return true;
		}
	}
	return false;
}

/* Write a lifecycle record of the facts f. */
static void lifecycle(struct collector *co, const char *type, enum lc_kind kind,
		      const struct lc_facts *f, uint64_t now)
{
	struct lc_record *r = lifecycle__build(kind, f);
	const struct format_field *fields;
	size_t n;

	if (!r)
		return;	/* said */
	fields = lifecycle__fields(r, &n);
	pipeline__lifecycle(co->pl, type, fields, n, now);
	lifecycle__free(r);
}

/* ---- reload (SIGHUP), off the capture path ---- */

static void reload_set_phase(struct reload_job *j, int phase)
{
	pthread_mutex_lock(&j->mu);
	__atomic_store_n(&j->phase, phase, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* Wait until the phase is one of mask's bits; returns it. */
static int reload_wait_phase(struct reload_job *j, unsigned int mask)
{
	int phase;

	pthread_mutex_lock(&j->mu);
	while (!(mask & (1u << (phase = j->phase))))
		pthread_cond_wait(&j->cv, &j->mu);
	pthread_mutex_unlock(&j->mu);
	return phase;
}

/*
 * A reload refused for want of a permission the collector gave up after
 * attach: say so, so the operator does not look for a file-mode mistake.
 */
static void privilege_hint(char *err, size_t len, bool dropped)
{
	size_t n = strlen(err);

	if (dropped && strstr(err, strerror(EACCES)) && n < len)
		snprintf(err + n, len - n, "; the collector runs as uid %u with only %s since "
			 "attach: a reload can only write where that allows (or restart it)",
			 (unsigned)geteuid(), privs_kept_text);
}

/*
 * The reader has handed the sinks over: close them (their writers flush)
 * and open the new config's, or reopen the running ones when a critical
 * sink of the new config cannot be set up. Runs on the reload thread.
 */
static int reload_swap(struct collector *co, struct reload_job *j)
{
	char why[CONFIG_ERR_LEN];

	close_sinks(co);
	if (j->have_next && !open_sinks(co, &j->next, why, sizeof(why))) {
		config__free(&co->reloaded);	/* the old sinks are closed: nothing borrows it */
		co->reloaded = j->next;
		j->have_next = false;
		co->cfg = &co->reloaded;
		pipeline__set_rules(co->pl, &co->cfg->rules);	/* j->next moved */
		return 0;
	}
	if (j->have_next) {
		snprintf(j->err, sizeof(j->err), "a critical sink of the new config cannot be "
			 "set up: %.440s", why);
		privilege_hint(j->err, sizeof(j->err), j->dropped);
		log_err("config reload rejected: %s; the running config stays", j->err);
	}
	if (co->o->config_path)
		j->status = "rejected";
	if (open_sinks(co, co->cfg, why, sizeof(why))) {
		log_err("%s; no output can be reopened after SIGHUP", why);
		co->stop_reason = "outputs cannot be reopened after SIGHUP";
		return -EIO;
	}
	return 0;
}

/*
 * One sink as a start would set it up (its key, then its output path),
 * creating nothing and keeping no key. 0, or -errno with the reason in err.
 */
static int sink_check(const struct sink_config *sc, char *err, size_t errlen)
{
	struct outpath_req req = {
		.path = sc->output_file, .base_directory = sc->base_directory,
		.format = sc->type ? sc->type : "json_lines", .mode = sc->file_mode,
		.gid = sc->gid, .allow_shared_directory = sc->allow_shared_directory,
		.check_only = true,
	};
	uint8_t key[CHAIN_KEY_LEN];
	int fd, e;

	if (sc->integrity.key_file) {
		e = chainfile__load_key(sc->integrity.key_file, key, err, errlen);
		OPENSSL_cleanse(key, sizeof(key));
		if (e)
			return e;
	}
	fd = outpath__open(&req, err, errlen);
	if (fd > 0)
		close(fd);
	return fd < 0 ? fd : 0;
}

/*
 * The new config's critical sinks checked as check-config does, before the
 * running sinks are touched: most refusals (a bad key file, a path that
 * cannot be a log) are found here. A non-critical sink is set up later
 * anyway (it buffers and retries), so it is not refused here.
 */
static int reload_precheck(const struct config *c, char *err, size_t errlen)
{
	char why[CONFIG_ERR_LEN];
	int i;

	for (i = 0; i < c->n_sinks; i++) {
		if (!c->sinks[i].critical || !sink_check(&c->sinks[i], why, sizeof(why)))
			continue;
		snprintf(err, errlen, "%s:%d: critical sink: %.440s", c->path, c->sinks[i].line,
			 why);
		return -EINVAL;
	}
	return 0;
}

/*
 * run: the selectors again (the command line's, copied at SIGHUP, and the
 * new config's), so an upgraded executable or a new cgroup is found; one
 * that cannot be resolved rejects the reload.
 */
static void reload_targets(struct reload_job *j)
{
	if (!j->targets.n && !(j->have_next && j->next.targets.n))
		return;
	if ((j->have_next && targets__merge(&j->targets, &j->next.targets, j->err,
					    sizeof(j->err))) ||
	    targets__resolve(&j->targets, j->err, sizeof(j->err))) {
		if (j->have_next)
			config__free(&j->next);
		j->have_next = false;
		j->status = "rejected";
		log_err("config reload rejected: %s; the running config and targets stay", j->err);
		return;
	}
	j->have_targets = true;
}

/* The slow part (YAML, redaction patterns, groups), touching nothing of the collector. */
static void reload_parse(struct reload_job *j)
{
	char *err = j->err;
	size_t n = sizeof(j->err);

	if (!j->path) {
		reload_targets(j);
		return;
	}
	j->have_next = !config__load(&j->next, j->path, err, n);
	if (j->have_next && config__override(&j->next, j->output, j->flush_mode, err, n)) {
		config__free(&j->next);
		j->have_next = false;
	}
	/* the new redactor is built here, off the reader: a pattern it refuses rejects the reload */
	if (j->have_next && (config__set_redactor(&j->next, err, n) ||
			     reload_precheck(&j->next, err, n))) {
		privilege_hint(err, n, j->dropped);
		config__free(&j->next);
		j->have_next = false;
	}
	if (!j->have_next) {
		j->status = "rejected";
		log_err("config reload rejected: %s; the running config stays", err);
		return;
	}
	reload_targets(j);
}

static void *reload_main(void *arg)
{
	struct reload_job *j = arg;
	bool cancel;

	reload_parse(j);
	pthread_mutex_lock(&j->mu);
	cancel = j->cancel;
	if (!cancel) {
		__atomic_store_n(&j->phase, RELOAD_SWAP_WANTED, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
	if (cancel) {	/* the collector is gone: j was left to us, co is not ours */
		if (j->have_next)
			config__free(&j->next);
		targets__free(&j->targets);
		return NULL;
	}
	reload_wait_phase(j, 1u << RELOAD_SWAPPING);
	j->result = reload_swap(j->co, j);
	format__thread_free();	/* the new sinks' first records were formatted here */
	reload_set_phase(j, RELOAD_SWAPPED);
	return NULL;
}

/* run: the command line's selectors, copied for the thread (co may be gone before it ends). */
static int reload_cli_targets(struct collector *co, struct reload_job *j)
{
	if (service__cli_targets(&j->targets, co->o, j->err, sizeof(j->err))) {
		log_err("SIGHUP: %s; the running config and outputs stay", j->err);
		targets__free(&j->targets);
		return -ENOMEM;
	}
	return 0;
}

static int reload_start(struct collector *co)
{
	struct reload_job *j = calloc(1, sizeof(*j));
	int e;

	if (!j) {
		log_err("SIGHUP: no memory to reload; the running config and outputs stay");
		return 0;
	}
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	j->status = "applied";
	j->phase = RELOAD_PARSING;
	j->path = co->o->config_path;	/* argv strings: they outlive any thread */
	j->output = co->o->output;
	j->flush_mode = co->o->flush_mode;
	j->dropped = co->caps != NULL;
	j->started_ns = mono_ns();
	if (!co->o->argv && reload_cli_targets(co, j)) {
		free(j);
		return 0;
	}
	service__notify("RELOADING=1");
	co->reload = j;
	j->co = co;
	e = pthread_create(&j->thread, NULL, reload_main, j);
	if (e) {
		log_err("SIGHUP: cannot start the reload thread: %s; the running config and "
			"outputs stay", strerror(e));
		co->reload = NULL;
		free(j);
	}
	return 0;
}

/* The reader stops touching the pipeline and the sinks; events are set aside. */
static void reload_hand_over(struct collector *co, struct reload_job *j)
{
	pipeline__flush_batch(co->pl);
	co->deferring = true;
	reload_set_phase(j, RELOAD_SWAPPING);
}

static void feed_event(void *ctx, const void *data, size_t size)
{
	pipeline__event(ctx, data, size);
}

/* Feed what was set aside; what did not fit becomes a loss record. */
static void backlog_feed(struct collector *co)
{
	uint64_t dropped = co->backlog.dropped;

	backlog__drain(&co->backlog, feed_event, co->pl);
	pipeline__flush_batch(co->pl);
	if (dropped) {
		uint64_t total = co->backlog_dropped += dropped;
		struct format_field f[4] = {
			{ .key = "source", .kind = FF_STR, .s = "collector" },
			{ .key = "counter", .kind = FF_STR, .s = "reload_held_events" },
			{ .key = "count", .kind = FF_U64, .u = dropped },
			{ .key = "total", .kind = FF_U64, .u = total },
		};

		log_warn("%llu events could not be held during the reload (over %u MiB): lost",
			 (unsigned long long)dropped, BACKLOG_MAX_BYTES >> 20);
		pipeline__lifecycle(co->pl, "loss", f, 4, mono_ns());
	}
}

/* The reload's selectors into the kernel; they replace the running ones. */
static void reload_apply_targets(struct collector *co, struct reload_job *j)
{
	if (targets__apply(&j->targets, co->cap))
		return;	/* said; the maps keep what they could take */
	targets__free(&co->active);
	co->active = j->targets;
	j->targets.n = 0;
}

/* The reload's own facts (r) beside the run's. */
static void reload_record(struct collector *co, const struct lc_facts *r)
{
	struct lc_facts f;

	lc_facts(co, &f);
	f.status = r->status;
	f.error = r->error;
	f.held_events = r->held_events;
	f.reload_ms = r->reload_ms;
	lifecycle(co, "config_reload", LC_RELOAD, &f, mono_ns());
}

/* The new sinks are in place: record the reload, then the events held meanwhile. */
static int reload_finish(struct collector *co)
{
	struct reload_job *j = co->reload;
	struct lc_facts ri = { .status = j->status };
	int result = j->result;

	pthread_join(j->thread, NULL);
	co->reload = NULL;
	co->deferring = false;
	ri.error = strcmp(j->status, "applied") ? j->err : NULL;
	ri.held_events = co->backlog.events;
	ri.reload_ms = (mono_ns() - j->started_ns) / 1000000;
	if (!result && j->have_targets && !strcmp(j->status, "applied"))
		reload_apply_targets(co, j);
	if (!result) {
		log_info("SIGHUP: outputs reopened; config %s (%llu ms, %llu events held)",
			 ri.status, (unsigned long long)ri.reload_ms,
			 (unsigned long long)ri.held_events);
		reload_record(co, &ri);
	}
	backlog_feed(co);
	if (j->have_next)
		config__free(&j->next);
	targets__free(&j->targets);
	service__notify("READY=1");
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j);
	return result;
}

/* The reader's part of a reload: start it, hand the sinks over, take them back. */
static int reload_step(struct collector *co)
{
	int phase;

	if (!co->reload) {
		if (reload_signal) {
			reload_signal = 0;	/* a SIGHUP during a reload: one more after it */
			return reload_start(co);
		}
		return 0;
	}
	phase = __atomic_load_n(&co->reload->phase, __ATOMIC_ACQUIRE);
	if (phase == RELOAD_SWAP_WANTED)
		reload_hand_over(co, co->reload);
	else if (phase == RELOAD_SWAPPED)
		return reload_finish(co);
	return 0;
}

/*
 * Stopping: a reload still parsing is abandoned (the stop does not wait for
 * slow patterns to compile; the thread ends alone, with its job); one that
 * has the sinks is let finish, as they are its until then.
 */
static int reload_wait(struct collector *co)
{
	unsigned int mask = 1u << RELOAD_SWAP_WANTED | 1u << RELOAD_SWAPPED;
	struct reload_job *j = co->reload;
	bool parsing;

	if (!j)
		return 0;
	pthread_mutex_lock(&j->mu);
	parsing = j->phase == RELOAD_PARSING;
	j->cancel = parsing;
	pthread_mutex_unlock(&j->mu);
	if (parsing) {
		log_info("stopping: the config reload in progress is abandoned");
		pthread_detach(j->thread);
		co->reload = NULL;
		return 0;
	}
	if (reload_wait_phase(co->reload, mask) == RELOAD_SWAP_WANTED)
		reload_hand_over(co, co->reload);
	reload_wait_phase(co->reload, 1u << RELOAD_SWAPPED);
	return reload_finish(co);
}

static int handle_signals(struct collector *co)
{
	int i;

	if (!co->pl)
		return 0;
	if (rotate_signal && !co->deferring) {
		rotate_signal = 0;
		pipeline__flush_batch(co->pl);
		for (i = 0; i < co->nhandles; i++)
			sink__rotate(co->handles[i]);
	}
	return reload_step(co);
}

/* Wait until the command exited or deadline passed, auditing it meanwhile. */
static void audit_until_exit(struct collector *co, uint64_t deadline)
{
	while (!co->child_done && mono_ns() < deadline) {
		if (capture__poll(co->cap, co->o->drain_ms) < 0)
			break;
		if (co->pl)
			pipeline__flush_batch(co->pl);
		reap_child(co);
	}
}

/*
 * exec, and a sink stops the collector: the command must not go on
 * unaudited. It gets SIGTERM and is audited into the other sinks until it
 * exits; SIGKILL after COMMAND_GRACE_NS. collector_stop then carries the
 * sink's reason, the command's exit_status and command_signal.
 */
static void stop_command(struct collector *co)
{
	const char *reason = co->stop_reason;
	int status;

	if (!co->child || co->child_done)
		return;
	log_err("%s: sending SIGTERM to the command %s (pid %d): it must not run unaudited",
		reason, co->o->argv[0], (int)co->child);
	co->command_signal = "SIGTERM";
	kill(co->child, SIGTERM);
	audit_until_exit(co, mono_ns() + COMMAND_GRACE_NS);
	if (!co->child_done) {
		log_err("the command %s (pid %d) did not exit within %llu s of SIGTERM: sending "
			"SIGKILL", co->o->argv[0], (int)co->child,
			(unsigned long long)(COMMAND_GRACE_NS / 1000000000ULL));
		co->command_signal = "SIGKILL";
		kill(co->child, SIGKILL);
		if (waitpid(co->child, &status, 0) == co->child) {
			co->child_done = true;
			co->child_status = exit_code(status);
		}
	}
	co->stop_reason = reason;	/* the sink's failure, not "command exited" */
}

/* The state `sockaudit status` reads: the start record's fields, progress, counters. */
static void write_state(struct collector *co, const char *state)
{
	const struct format_field *fields;
	struct lc_record *r;
	struct lc_facts f;
	size_t n;
	int e;

	if (!co->o->state_file || !co->pl || !co->cap)
		return;
	lc_facts(co, &f);
	f.state = state;
	f.kernel_targets = capture__n_targets(co->cap);
	if (!(r = lifecycle__build(LC_STATE, &f)))
		return;
	fields = lifecycle__fields(r, &n);
	e = status__write(co->o->state_file, fields, n);
	if (e && !co->state_failed)
		log_warn("cannot write the state file %s: %s; `sockaudit status` will not see "
			 "this collector", co->o->state_file, strerror(-e));
	co->state_failed = e != 0;
	lifecycle__free(r);
}

/* The figures of this drain cycle for the endpoint, and a stats record when due. */
static void observe(struct collector *co, uint64_t now)
{
	struct snapshot_src src = {
		.pl = co->pl, .cap = co->cap, .sinks = co->handles, .fwd = co->fwd,
		.nsinks = co->nhandles,
		.kcnt = co->kcnt, .attach = co->cap ? capture__mode_name(co->cap) : NULL,
	};
	const struct format_field *f;
	size_t n;

	if (!observer__cycle(co->obs, &src, now))
		return;
	f = observer__stats_fields(co->obs, &n);
	pipeline__lifecycle(co->pl, "stats", f, n, now);
}

/* A bad --listen is said before any audit log is created. */
static int observe_check(const struct collector *co)
{
	struct httpd_opts ho = { .listen = co->o->listen, .allow_remote = co->o->allow_remote };
	char err[CONFIG_ERR_LEN];

	if (!ho.listen || !httpd__check_listen(&ho, NULL, err, sizeof(err)))
		return 0;
	log_err("%s", err);
	return -EINVAL;
}

static int observe_start(struct collector *co)
{
	struct observer_opts oo = {
		.listen = co->o->listen, .allow_remote = co->o->allow_remote,
		.listen_gid = co->o->listen_gid, .stats_interval_s = co->o->stats_interval_s,
		.loss_window_s = co->o->loss_window_s,
	};

	if (!co->pl) {
		if (co->listen_fd >= 0)
			close(co->listen_fd);
		co->listen_fd = -1;
		return 0;	/* record without -o: no pipeline to watch */
	}
	oo.has_listen_fd = co->listen_fd >= 0;
	oo.listen_fd = co->listen_fd;
	co->listen_fd = -1;	/* the observer's now */
	return observer__start(&co->obs, &oo);
}

/*
 * run: the endpoint's socket made while root's capabilities are still held
 * (a unix socket is chown'ed to its group); served once they are given up.
 */
static int observe_listen(struct collector *co)
{
	struct httpd_opts ho = { .listen = co->o->listen, .allow_remote = co->o->allow_remote,
				 .gid = co->o->listen_gid };

	if (!co->o->listen)
		return 0;
	co->listen_fd = httpd__listen(&ho);
	return co->listen_fd < 0 ? co->listen_fd : 0;
}

static int main_loop(struct collector *co)
{
	uint64_t next_tick = mono_ns() + TICK_NS;
	int signals_seen = 0;

	while (!should_stop(co, &signals_seen)) {
		int n = capture__poll(co->cap, co->o->drain_ms);
		uint64_t now = mono_ns();

		if (n < 0) {
			log_err("reading the ring buffer failed: %s", strerror(-n));
			co->stop_reason = "ring buffer error";
			return n;
		}
		if (co->pl && !co->deferring)
			pipeline__flush_batch(co->pl);
		if (handle_signals(co))
			return -EIO;
		if (!co->pl || co->deferring)
			continue;	/* a reload thread has the sinks */
		if (sink_failed(co)) {
			stop_command(co);
			return -EIO;
		}
		if (now >= next_tick) {
			pipeline__tick(co->pl, now);
			capture__counters(co->cap, co->kcnt);
			pipeline__report_loss(co->pl, co->kcnt, now);
			write_state(co, "running");
			report_forward(co, now);
			tlsprobe__sweep(co->tp, now);	/* links of exits whose event was lost */
			next_tick = now + TICK_NS;
		}
		if (co->obs)
			observe(co, now);
	}
	return 0;
}

/* Stop capture, then drain and write everything that was accepted. */
static int shutdown_all(struct collector *co)
{
	int err = 0, e;

	service__notify("STOPPING=1");
	for (int i = 0; i < co->nhandles; i++)
		forward__stop_soon(co->fwd[i]);	/* a backlog is the next start's */
	tlsprobe__stop(co->tp);	/* flags: unlinking waits until the log is safe */
	co->tls_files = tlsprobe__attached_total(co->tp);
	co->tls_swept = tlsprobe__swept(co->tp);
	if (co->cap) {
		capture__detach(co->cap);
		capture__drain(co->cap);
		capture__counters(co->cap, co->kcnt);
		if (co->pl)
			pipeline__flush_batch(co->pl);
	}
	if (co->child && !co->child_done) {
		int status;

		/* the command outlived a second signal: let it go on unaudited */
		if (waitpid(co->child, &status, WNOHANG) == co->child)
			co->child_status = exit_code(status);
	}
	if (co->pl) {
		uint64_t now = mono_ns();
		struct lc_facts f;

		pipeline__finish(co->pl);
		pipeline__report_loss(co->pl, co->cap ? co->kcnt : NULL, now);
		lc_facts(co, &f);
		lifecycle(co, "collector_stop", LC_STOP, &f, now);
		write_state(co, "stopped");
	}
	if (co->rec.f && (e = recfile__close(&co->rec)))
		err = e;
	if ((e = close_sinks(co)))
		err = e;
	return err;
}

static void print_summary(const struct collector *co)
{
	struct pipeline_stats st;

	if (!co->pl)
		return;
	pipeline__stats(co->pl, &st);
	log_info("stopped (%s): %llu events, %llu exchanges, %llu records written to %s%s",
		 co->stop_reason, (unsigned long long)st.events,
		 (unsigned long long)st.exchanges, (unsigned long long)st.records,
		 co->cfg->sinks[0].output_file, co->cfg->n_sinks > 1 ? " and other sinks" : "");
}

static int open_outputs(struct collector *co, int64_t offset)
{
	int err;

	if (co->cfg && co->cfg->n_sinks) {
		co->pl = pipeline__new(&co->o->pl, NULL);
		if (!co->pl)
			return -ENOMEM;
		pipeline__on_proc_exit(co->pl, on_target_exit, co);
		err = open_sinks_or_say(co, co->cfg);
		/* after a run has given up its privileges: the endpoint's thread never had them */
		if (!err)
			err = observe_start(co);
		if (err)
			return err;
	}
	if (co->o->record_path)
		return recfile__create(&co->rec, co->o->record_path, offset);
	return 0;
}

/* TLS plaintext (--tls on): the uprobes' object on capture's ring buffer and targets. */
static int start_tls(struct collector *co)
{
	return co->o->cap.tls ? tlsprobe__open(&co->tp, co->cap, co->o->cap.max_capture) : 0;
}

/* exec: the command must not start before its audit log is open. */
static int start_exec(struct collector *co, int64_t offset)
{
	int err = open_outputs(co, offset);

	if (!err)
		err = capture__open(&co->cap, &co->o->cap, on_event, co);
	if (!err)
		err = start_tls(co);
	if (!err)
		err = start_child(co);
	if (!err && co->tp)
		tlsprobe__scan_all(co->tp);
	return err;
}

/*
 * run: the selectors resolved first (a mistake exits with
 * SERVICE_EXIT_CONFIG before anything is loaded), load and attach with
 * root's capabilities, give them up before the outputs start their threads
 * (capabilities are per thread), then the targets.
 */
static int start_run(struct collector *co, int64_t offset)
{
	char why[CONFIG_ERR_LEN];
	int err = service__targets(&co->active, co->o, co->cfg, why, sizeof(why));

	if (!err)
		err = service__check_ids(co->cfg, why, sizeof(why));
	if (err) {
		log_err("%s", why);
		return SERVICE_EXIT_CONFIG;
	}
	err = capture__open(&co->cap, &co->o->cap, on_event, co);
	if (!err)
		err = start_tls(co);
	if (!err)
		err = observe_listen(co);
	if (err)
		return err;
	if (service__drop_privileges(co->cfg, co->o->state_file, co->tp != NULL, why,
				      sizeof(why))) {
		log_err("%s; not starting with root's capabilities", why);
		return SERVICE_EXIT_CONFIG;
	}
	co->caps = privs__effective_text();
	err = open_outputs(co, offset);
	if (!err)
		err = targets__apply(&co->active, co->cap);
	if (!err && co->tp)
		tlsprobe__scan_all(co->tp);
	return err;
}

int collector__run(const struct collector_opts *o)
{
	struct collector co = { .o = o, .stop_reason = "error", .cfg = o->cfg, .listen_fd = -1 };
	struct pipeline_opts plo = o->pl;
	struct collector_opts oo = *o;
	int err;

	plo.mono_to_real = mono_to_real_offset();
	plo.live = true;
	backlog__init(&co.backlog, BACKLOG_MAX_BYTES);
	oo.pl = plo;
	co.o = &oo;
	if (install_signals())
		return 1;
	/* not root or no BTF: say so before any audit log is created */
	err = capture__probe_privileges();
	if (err || make_run_id(&co) || observe_check(&co))
		return 1;
	err = o->argv ? start_exec(&co, plo.mono_to_real) : start_run(&co, plo.mono_to_real);
	if (err)
		goto out;
	if (co.pl) {
		struct lc_facts f;

		lc_facts(&co, &f);
		lifecycle(&co, "collector_start", LC_START, &f, mono_ns());
	}
	write_state(&co, "running");
	service__notify("READY=1");
	/* run_id=HEX: the member's name and value, as in the records (demo/run.sh) */
	log_info("auditing %s (attach %s) run_id=%s%s%s", o->argv ? o->argv[0] : "pids",
		 capture__mode_name(co.cap), co.run_id, co.pl ? "; audit log: " : "",
		 co.pl ? co.cfg->sinks[0].output_file : "");
	co.stop_reason = "error";
	err = main_loop(&co);
	if (reload_wait(&co) && !err)
		err = -EIO;
out:
	observer__stop(co.obs);	/* the endpoint reads nothing of co: stopped before it goes */
	if (co.listen_fd >= 0)
		close(co.listen_fd);	/* made, never served: a start that failed after it */
	if (shutdown_all(&co) && !err)
		err = -EIO;
	if (!err)
		print_summary(&co);
	pipeline__free(co.pl);
	targets__free(&co.active);
	free(co.caps);
	config__free(&co.reloaded);
	backlog__free(&co.backlog);
	if (co.cap)
		bpf_release__in_background();	/* the slow link releases go to a child */
	tlsprobe__close(co.tp);	/* before capture: it shares capture's maps */
	capture__close(co.cap);
	if (co.child && !co.child_done && err)
		kill(co.child, SIGTERM);
	if (err)
		return err == SERVICE_EXIT_CONFIG ? SERVICE_EXIT_CONFIG : 1;
	return co.child ? co.child_status : 0;
}

struct replay_ctx {
	struct pipeline *pl;
	struct collector *co;
	int64_t offset;		/* set by recfile__replay before the first event */
	uint64_t events;
	bool clock_set;
};

/*
 * Replay has no kernel to keep up with: every REPLAY_SYNC_EVENTS it waits
 * for the writers, so records never outrun them (the queue stays small and
 * is never refused) and memory stays what the pipeline itself needs. 8192
 * events are about 2 MB of records: the writers' written buffers then
 * serve the next period, as they do live, instead of a backlog of fresh
 * pages (65536 let 25 MB of new buffers build up: twice the page faults,
 * and 5 to 12 % more CPU with integrity on).
 */
#define REPLAY_SYNC_EVENTS 8192

static void replay_backpressure(struct replay_ctx *rc)
{
	int i;

	if (++rc->events % REPLAY_SYNC_EVENTS)
		return;
	pipeline__flush_batch(rc->pl);
	for (i = 0; i < rc->co->nhandles; i++)
		sink__flush(rc->co->handles[i]);
}

static int replay_event(void *ctx, const void *data, size_t size)
{
	struct replay_ctx *rc = ctx;
	const struct sa_event_hdr *h = data;

	if (!rc->clock_set) {
		pipeline__set_clock(rc->pl, rc->offset);
		rc->clock_set = true;
	}
	pipeline__event(rc->pl, data, size);
	if (size >= sizeof(*h))
		pipeline__tick(rc->pl, h->ts_ns);	/* the event clock drives expiry */
	replay_backpressure(rc);
	return 0;
}

int collector__replay(const struct collector_opts *o, const char *events_path)
{
	struct collector co = { .o = o, .stop_reason = "replay end", .cfg = o->cfg };
	struct pipeline_opts plo = o->pl;
	struct replay_ctx rc = { 0 };
	int err, e;

	plo.live = false;
	co.pl = pipeline__new(&plo, NULL);
	if (!co.pl || open_sinks_or_say(&co, co.cfg)) {
		pipeline__free(co.pl);
		return 1;
	}
	rc.pl = co.pl;
	rc.co = &co;
	err = recfile__replay(events_path, &rc.offset, replay_event, &rc);
	pipeline__finish(co.pl);
	pipeline__report_loss(co.pl, NULL, 0);
	e = close_sinks(&co);
	if (!err && !e)
		print_summary(&co);
	pipeline__free(co.pl);
	return err || e ? 1 : 0;
}

/* Every output path and key of c; each problem printed (check-config). */
static int check_outputs(const struct config *c)
{
	char err[CONFIG_ERR_LEN];
	int i, bad = 0;

	for (i = 0; i < c->n_sinks; i++) {
		if (sink_check(&c->sinks[i], err, sizeof(err))) {
			log_err("%s:%d: %s", c->path, c->sinks[i].line,
				err);
			bad = 1;
		}
		/* issue 19: the forward TLS files, as the handshake will need them */
		if (forward__check(&c->sinks[i], c->path))
			bad = 1;
	}
	return bad;
}

/* The metrics endpoint's address (issue 18): loopback, or allow_remote. */
static int check_metrics(const struct config *c)
{
	struct httpd_opts ho = { .listen = c->metrics.listen,
				 .allow_remote = c->metrics.allow_remote };
	char err[CONFIG_ERR_LEN];

	if (!ho.listen || !httpd__check_listen(&ho, NULL, err, sizeof(err)))
		return 0;
	fprintf(stderr, "sockaudit: error: %s: %s\n", c->path, err);
	return 1;
}

int collector__check_config(const char *path)
{
	char err[CONFIG_ERR_LEN];
	struct config c;
	int bad;

	if (config__load(&c, path, err, sizeof(err))) {
		log_err("%s", err);
		return 1;
	}
	bad = check_outputs(&c) | check_metrics(&c);
	if (!bad && config__set_redactor(&c, err, sizeof(err))) {	/* as a start builds it */
		log_err("%s: %s", path, err);
		bad = 1;
	}
	if (!bad && targets__resolve(&c.targets, err, sizeof(err))) {
		fprintf(stderr, "sockaudit: error: %s: targets: %s\n", path, err);
		bad = 1;
	}
	if (!bad)
		printf("%s: ok (%d sinks, %d targets, sha256 %s)\n", path, c.n_sinks, c.targets.n,
		       c.digest);
	config__free(&c);
	return bad;
}
