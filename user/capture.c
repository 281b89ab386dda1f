// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Kernel capture: feature probes, load, attach, targets, ring buffer, counters. */
#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "capture.h"
#include "capture.skel.h"
#include "sockaudit/selectors.h"
#include "log.h"

#define TRACEFS_DIR	"/sys/kernel/tracing"
#define TRACEFS_MAGIC_NR 0x74726163


/*
 * The syscalls we hook, and at which end. Sends are timestamped at entry;
 * receives, accept and connect are handled at exit alone (their arguments
 * are read from the registers saved at entry); close needs only its entry.
 */
enum { TP_ENTER = 1, TP_EXIT = 2 };
static const struct {
	const char *name;
	int ends;
} tp_syscalls[] = {
	{ "read", TP_EXIT },		{ "write", TP_ENTER | TP_EXIT },
	{ "readv", TP_EXIT },		{ "writev", TP_ENTER | TP_EXIT },
	{ "recvfrom", TP_EXIT },	{ "sendto", TP_ENTER | TP_EXIT },
	{ "recvmsg", TP_EXIT },		{ "sendmsg", TP_ENTER | TP_EXIT },
	{ "recvmmsg", TP_EXIT },	{ "sendmmsg", TP_ENTER | TP_EXIT },
	{ "sendfile64", TP_ENTER | TP_EXIT },
	{ "accept", TP_EXIT },		{ "accept4", TP_EXIT },
	{ "connect", TP_EXIT },		{ "close", TP_ENTER },
};
#define N_TP_SYSCALLS (sizeof(tp_syscalls) / sizeof(tp_syscalls[0]))

struct capture {
	struct capture_bpf *skel;
	struct bpf_link *tp_links[2 * N_TP_SYSCALLS];	/* tracepoint mode */
	int n_tp_links;
	struct ring_buffer *rb;
	capture_event_fn fn;
	void *ctx;
	enum attach_mode mode;
	/* the ring buffer's consumer and producer positions, mapped read-only (metrics) */
	const unsigned long *rb_cons, *rb_prod;
	long page;
};



static bool libbpf_verbose;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	if (level == LIBBPF_INFO && !libbpf_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int tracefs__ensure(void)
{
	struct statfs sf;

	if (statfs(TRACEFS_DIR, &sf) == 0 && sf.f_type == TRACEFS_MAGIC_NR)
		return 0;
	if (mount("tracefs", TRACEFS_DIR, "tracefs", 0, NULL)) {
		int err = -errno;

		log_err("cannot mount tracefs at %s: %s; mount it (mount -t tracefs tracefs %s) "
			"or use --attach raw_tp", TRACEFS_DIR, strerror(errno), TRACEFS_DIR);
		return err;
	}
	log_info("mounted tracefs at %s", TRACEFS_DIR);
	return 0;
}

int capture__probe_privileges(void)
{
	if (geteuid() != 0) {
		log_err("not running as root: sockaudit needs CAP_BPF, CAP_PERFMON and "
			"CAP_SYS_ADMIN; run it as root (sudo)");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		log_err("no kernel BTF at /sys/kernel/btf/vmlinux: sockaudit needs a kernel built "
			"with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	return 0;
}

static const char *tp_end_name(int end)
{
	return end == TP_EXIT ? "exit" : "enter";
}

/* Every tracepoint we will attach exists (checked before any log is written). */
static int probe_tracepoints(void)
{
	char path[256];
	size_t i;
	int end, err = tracefs__ensure();

	if (err)
		return err;
	for (i = 0; i < N_TP_SYSCALLS; i++) {
		for (end = TP_ENTER; end <= TP_EXIT; end <<= 1) {
			if (!(tp_syscalls[i].ends & end))
				continue;
			snprintf(path, sizeof(path), TRACEFS_DIR "/events/syscalls/sys_%s_%s",
				 tp_end_name(end), tp_syscalls[i].name);
			if (access(path, F_OK)) {
				log_err("tracepoint syscalls/sys_%s_%s is missing (kernel without "
					"CONFIG_FTRACE_SYSCALLS?); use --attach raw_tp",
					tp_end_name(end), tp_syscalls[i].name);
				return -ENOENT;
			}
		}
	}
	return 0;
}

static int probe_btf_tracepoints(void)
{
	static const char *const names[] = {
		"btf_trace_sched_process_fork", "btf_trace_sched_process_exit",
		"btf_trace_sched_process_exec",
	};
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int err = 0;
	size_t i;

	if (!vmlinux) {
		log_err("cannot load kernel BTF from /sys/kernel/btf/vmlinux: %s", strerror(errno));
		return -errno;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (btf__find_by_name_kind(vmlinux, names[i], BTF_KIND_TYPEDEF) < 0) {
			log_err("kernel BTF has no %s: tp_btf on sched_process_fork/exit is "
				"needed to follow children", names[i]);
			err = -ENOENT;
			break;
		}
	}
	btf__free(vmlinux);
	return err;
}

/* Load only the programs of the chosen attach mode. */
static void select_programs(struct capture_bpf *skel, enum attach_mode mode)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		const char *sec = bpf_program__section_name(prog);
		bool is_tp = strcmp(sec, "tracepoint") == 0;
		bool is_raw = strncmp(sec, "tp_btf/sys_", 11) == 0;

		if ((is_tp && mode != ATTACH_TRACEPOINT) || (is_raw && mode != ATTACH_RAW_TP))
			bpf_program__set_autoload(prog, false);
	}
}

/* The program for one end of a syscall's tracepoints. */
static struct bpf_program *tp_prog(struct capture *c, const char *syscall, int end)
{
	if (end == TP_EXIT)
		return c->skel->progs.sa_sys_exit;
	if (!strcmp(syscall, "close"))
		return c->skel->progs.sa_sys_close;
	return c->skel->progs.sa_sys_enter;
}

/* Attach the enter/exit programs to the tracepoints each syscall needs. */
static int attach_syscall_tracepoints(struct capture *c)
{
	char name[64];
	size_t i;

	for (i = 0; i < N_TP_SYSCALLS; i++) {
		int end;

		for (end = TP_ENTER; end <= TP_EXIT; end <<= 1) {
			struct bpf_program *prog = tp_prog(c, tp_syscalls[i].name, end);
			struct bpf_link *l;

			if (!(tp_syscalls[i].ends & end))
				continue;
			snprintf(name, sizeof(name), "sys_%s_%s", tp_end_name(end),
				 tp_syscalls[i].name);
			l = bpf_program__attach_tracepoint(prog, "syscalls", name);
			if (!l) {
				log_err("cannot attach to tracepoint syscalls/%s: %s", name,
					strerror(errno));
				return -errno;
			}
			c->tp_links[c->n_tp_links++] = l;
		}
	}
	return 0;
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/*
 * Each tracepoint or uprobe link's release waits for an RCU grace period
 * (about 56 ms here): one after the other they took a second of every
 * stop. Released from one thread each, the waits overlap; a link whose
 * thread cannot be started is released here.
 */
void capture__destroy_links(struct bpf_link **links, int n)
{
	pthread_t th[CAPTURE_MAX_PARALLEL_LINKS];
	bool started[CAPTURE_MAX_PARALLEL_LINKS];
	int i;

	for (i = 0; i < n; i++) {
		if (i >= CAPTURE_MAX_PARALLEL_LINKS) {
			bpf_link__destroy(links[i]);
			continue;
		}
		started[i] = !pthread_create(&th[i], NULL, destroy_link, links[i]);
		if (!started[i])
			bpf_link__destroy(links[i]);
	}
	for (i = 0; i < n && i < CAPTURE_MAX_PARALLEL_LINKS; i++)
		if (started[i])
			pthread_join(th[i], NULL);
}

static void destroy_tp_links(struct capture *c)
{
	capture__destroy_links(c->tp_links, c->n_tp_links);
	c->n_tp_links = 0;
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct capture *c = ctx;

	return c->fn(c->ctx, data, size);
}

static int configure(struct capture *c, const struct capture_opts *opts)
{
	struct capture_bpf *skel = c->skel;
	int ncpu = libbpf_num_possible_cpus();
	uint32_t rb_bytes = (opts->ringbuf_mb ? opts->ringbuf_mb : 16) << 20;
	uint32_t budget = opts->capture_budget ? opts->capture_budget : SA_DEFAULT_BUDGET;

	if (ncpu <= 0) {
		log_err("cannot count possible CPUs: %s", strerror(-ncpu));
		return ncpu ? ncpu : -EINVAL;
	}
	skel->rodata->targ_max_capture = opts->max_capture;
	skel->rodata->targ_capture_budget = budget;
	if (budget > rb_bytes / 2)
		log_warn("capture budget of %u bytes is over half the %u-byte ring buffer: one "
			 "large syscall can fill it (its tail is then lost, and counted); raise "
			 "--ringbuf-mb or lower --capture-budget", budget, rb_bytes);
	skel->rodata->targ_self_tgid = getpid();
	skel->rodata->targ_capture_pipes = opts->capture_pipes;
	skel->rodata->targ_wakeup_bytes = opts->wakeup_bytes ? opts->wakeup_bytes : rb_bytes / 4;
	bpf_map__set_max_entries(skel->maps.scratch, ncpu);
	bpf_map__set_max_entries(skel->maps.events, rb_bytes);
	select_programs(skel, opts->mode);
	return 0;
}

int capture__open(struct capture **out, const struct capture_opts *opts,
		  capture_event_fn fn, void *ctx)
{
	struct capture *c;
	int err;

	libbpf_verbose = opts->verbose;
	libbpf_set_print(libbpf_log);
	err = capture__probe_privileges();
	if (!err)
		err = probe_btf_tracepoints();
	if (!err && opts->mode == ATTACH_TRACEPOINT)
		err = probe_tracepoints();
	if (err)
		return err;
	if (opts->max_capture == 0 || opts->max_capture > SA_MAX_CAPTURE) {
		log_err("max_capture_bytes %u out of range: use 1..%u", opts->max_capture,
			SA_MAX_CAPTURE);
		return -EINVAL;
	}
	if (opts->capture_budget > SA_MAX_BUDGET) {
		log_err("capture_budget_bytes %u out of range: use 1..%u", opts->capture_budget,
			SA_MAX_BUDGET);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->ctx = ctx;
	c->mode = opts->mode;
	c->skel = capture_bpf__open();
	if (!c->skel) {
		err = -errno;
		log_err("cannot open the BPF object: %s", strerror(errno));
		goto out_free;
	}
	err = configure(c, opts);
	if (err)
		goto out_destroy;
	err = capture_bpf__load(c->skel);
	if (err) {
		log_err("the kernel refused the BPF programs (%s); run with -v for the "
			"verifier log", strerror(-err));
		goto out_destroy;
	}
	err = capture_bpf__attach(c->skel);
	if (!err && c->mode == ATTACH_TRACEPOINT)
		err = attach_syscall_tracepoints(c);
	if (err) {
		log_err("cannot attach the BPF programs: %s", strerror(-err));
		goto out_destroy;
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), ring_cb, c, NULL);
	if (!c->rb) {
		err = -errno;
		log_err("cannot open the ring buffer: %s", strerror(errno));
		goto out_destroy;
	}
	*out = c;
	return 0;

out_destroy:
	destroy_tp_links(c);
	capture_bpf__destroy(c->skel);
out_free:
	free(c);
	return err;
}

void capture__close(struct capture *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	if (c->rb_cons)
		munmap((void *)c->rb_cons, c->page);
	if (c->rb_prod)
		munmap((void *)c->rb_prod, c->page);
	destroy_tp_links(c);
	capture_bpf__destroy(c->skel);
	free(c);
}

/* The programs' fast "is this a target" bit (capture.bpf.c), beside the map. */
static void target_bit(struct capture *c, uint32_t tgid, bool on)
{
	__u64 *w, bit = 1ULL << (tgid % 64);

	if (tgid >= SA_TARGET_BITS)
		return;
	w = &c->skel->bss->target_bits[tgid / 64];
	if (on)
		__atomic_fetch_or(w, bit, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(w, ~bit, __ATOMIC_SEQ_CST);
}

static int add_one(struct capture *c, pid_t tgid)
{
	uint32_t key = tgid;
	uint8_t one = 1;

	if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.targets), &key, &one, BPF_ANY)) {
		log_err("cannot add pid %d to the targets map: %s", tgid, strerror(errno));
		return -errno;
	}
	target_bit(c, key, true);
	return 0;
}

/* Parent pid from /proc/PID/stat (the field after the parenthesised comm). */
static pid_t proc_ppid(const char *pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		if (sscanf(p + 1, " %*c %d", &ppid) != 1)
			ppid = -1;
	fclose(f);
	return ppid;
}

/* Add every process whose ancestry reaches tgid (one /proc pass per level). */
static int add_descendants(struct capture *c, pid_t tgid)
{
	bool added = true;
	int rounds = 0;

	while (added && rounds++ < 64) {
		struct dirent *de;
		DIR *d = opendir("/proc");

		if (!d)
			return -errno;
		added = false;
		while ((de = readdir(d))) {
			uint32_t pid, ppid;
			uint8_t v;

			if (de->d_name[0] < '1' || de->d_name[0] > '9')
				continue;
			pid = atoi(de->d_name);
			ppid = proc_ppid(de->d_name);
			if ((pid_t)ppid <= 0 || (pid_t)pid == getpid())
				continue;
			if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.targets), &ppid, &v) ||
			    !bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.targets), &pid, &v))
				continue;
			if (add_one(c, pid) == 0)
				added = true;
		}
		closedir(d);
	}
	return 0;
}

int capture__add_target(struct capture *c, pid_t tgid, bool descendants)
{
	int err;

	if (tgid <= 0 || (kill(tgid, 0) && errno == ESRCH)) {
		log_err("pid %d does not exist: check the --pid value", tgid);
		return -ESRCH;
	}
	if (tgid == getpid()) {
		log_err("pid %d is sockaudit itself: the collector never audits itself", tgid);
		return -EINVAL;
	}
	err = add_one(c, tgid);
	if (!err && descendants)
		err = add_descendants(c, tgid);
	return err;
}

int capture__adopt(struct capture *c, pid_t tgid)
{
	int err;

	if (tgid == getpid())
		return 0;	/* the collector never audits itself */
	err = add_one(c, tgid);
	return err ? err : add_descendants(c, tgid);
}

/*
 * Make the map's keys exactly keys[0..n): the new ones are added before the
 * stale ones go, so a selector kept across a reload never stops matching.
 */
static int replace_keys(int fd, const void *keys, size_t ksize, int n, const char *what)
{
	uint8_t one = 1, cur[64], next[64];
	const uint8_t *k = keys;
	bool have = false;
	int i;

	for (i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, k + i * ksize, &one, BPF_ANY)) {
			log_err("cannot add a %s selector to the kernel's map: %s", what,
				strerror(errno));
			return -errno;
		}
	}
	while (bpf_map_get_next_key(fd, have ? cur : NULL, next) == 0) {
		for (i = 0; i < n && memcmp(k + i * ksize, next, ksize); i++)
			;
		if (i == n && !bpf_map_delete_elem(fd, next)) {
			have = false;	/* the walk restarts after a delete */
			continue;
		}
		memcpy(cur, next, ksize);
		have = true;
	}
	return 0;
}

int capture__set_cgroups(struct capture *c, const uint64_t *ids, const int *levels, int n)
{
	uint32_t mask = 0;
	int i, err;

	for (i = 0; i < n; i++)
		mask |= 1u << levels[i];
	/* the levels of old and new while the map changes, then the new alone */
	__atomic_fetch_or(&c->skel->bss->cgroup_levels, mask, __ATOMIC_SEQ_CST);
	err = replace_keys(bpf_map__fd(c->skel->maps.cgroup_targets), ids, sizeof(*ids), n,
			   "cgroup");
	if (!err)
		__atomic_store_n(&c->skel->bss->cgroup_levels, mask, __ATOMIC_SEQ_CST);
	return err;
}

int capture__set_exes(struct capture *c, const struct sa_exe_key *keys, int n)
{
	int err;

	/* sa_exec looks while the map changes; it stops looking only once the map is empty */
	__atomic_store_n(&c->skel->bss->exe_selectors, 1, __ATOMIC_SEQ_CST);
	err = replace_keys(bpf_map__fd(c->skel->maps.exe_targets), keys, sizeof(*keys), n,
			   "exe");
	if (!err)
		__atomic_store_n(&c->skel->bss->exe_selectors, n > 0, __ATOMIC_SEQ_CST);
	return err;
}

uint64_t capture__n_targets(struct capture *c)
{
	int fd = bpf_map__fd(c->skel->maps.targets);
	uint32_t key, *prev = NULL;
	uint64_t n = 0;

	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		n++;
		prev = &key;
	}
	return n;
}

void capture__forget_tgid(struct capture *c, uint32_t tgid)
{
	int fd = bpf_map__fd(c->skel->maps.conns);
	struct sa_conn_key key, next;
	struct sa_conn_key *prev = NULL;

	/* deleting while iterating restarts the walk; collect-and-delete per step */
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		if (key.tgid == tgid) {
			bpf_map_delete_elem(fd, &key);
			prev = NULL;
			continue;
		}
		prev = &key;
	}
	bpf_map_delete_elem(bpf_map__fd(c->skel->maps.targets), &tgid);
	target_bit(c, tgid, false);
}

void capture__detach(struct capture *c)
{
	/*
	 * A flag the programs check first: capture stops at once. Unlinking
	 * syscall tracepoints waits for an RCU grace period each (seconds in
	 * all); that happens in capture__close, after the log is safe.
	 */
	c->skel->bss->capture_stopped = 1;
}

int capture__poll(struct capture *c, int timeout_ms)
{
	int n = ring_buffer__poll(c->rb, timeout_ms);

	if (n < 0 && n != -EINTR)
		return n;
	return capture__drain(c);
}

int capture__drain(struct capture *c)
{
	int total = 0, n;

	while ((n = ring_buffer__consume(c->rb)) > 0)
		total += n;
	if (n < 0 && n != -EINTR)
		return n;
	return total;
}

int capture__counters(struct capture *c, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(c->skel->maps.counters);
	uint64_t vals[ncpu];
	uint32_t i;
	int cpu;

	for (i = 0; i < SA_CNT_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals))
			return -errno;
		for (cpu = 0; cpu < ncpu; cpu++)
			out[i] += vals[cpu];
	}
	return 0;
}

const char *capture__mode_name(const struct capture *c)
{
	return c->mode == ATTACH_RAW_TP ? "raw_tp" : "tracepoint";
}

/* ---- figures for health and metrics (issue 18) ---- */

bool capture__attached(const struct capture *c)
{
	return c && !c->skel->bss->capture_stopped;
}

/*
 * libbpf 1.1 has no ring__avail_data_size: the two position pages of the
 * ring buffer map, mapped read-only here (the kernel allows that), say how
 * much waits for the reader.
 */
static int map_positions(struct capture *c)
{
	int fd = bpf_map__fd(c->skel->maps.events);
	void *cons, *prod;

	c->page = sysconf(_SC_PAGESIZE);
	cons = mmap(NULL, c->page, PROT_READ, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	prod = mmap(NULL, c->page, PROT_READ, MAP_SHARED, fd, c->page);
	if (prod == MAP_FAILED) {
		int err = -errno;

		munmap(cons, c->page);
		return err;
	}
	c->rb_cons = cons;
	c->rb_prod = prod;
	return 0;
}

int capture__ringbuf_usage(struct capture *c, uint64_t *used, uint64_t *size)
{
	int err;

	*size = bpf_map__max_entries(c->skel->maps.events);
	if (!c->rb_cons && (err = map_positions(c)))
		return err;
	*used = __atomic_load_n(c->rb_prod, __ATOMIC_ACQUIRE) -
		__atomic_load_n(c->rb_cons, __ATOMIC_ACQUIRE);
	return 0;
}

#define COUNT_BATCH 512	/* entries per BPF_MAP_LOOKUP_BATCH call */

/*
 * Entries of a hash map, COUNT_BATCH per system call (a map of 10,000
 * connections: 20 calls, not 10,000). -errno when the kernel has no batch
 * lookup for this map (the caller then walks the keys).
 */
static int count_batched(const struct bpf_map *m, uint64_t *n)
{
	size_t ks = bpf_map__key_size(m), vs = bpf_map__value_size(m);
	uint8_t *keys = malloc(ks * COUNT_BATCH), *vals = malloc(vs * COUNT_BATCH);
	uint64_t token[8], next[8];	/* the batch position: a bucket index for hash maps */
	int fd = bpf_map__fd(m), err = 0;
	void *in = NULL;

	*n = 0;
	if (!keys || !vals || ks > sizeof(token))
		err = -ENOMEM;
	while (!err) {
		__u32 count = COUNT_BATCH;

		err = bpf_map_lookup_batch(fd, in, next, keys, vals, &count, NULL);
		if (err && errno != ENOENT) {
			err = -errno;
			break;
		}
		*n += count;
		if (err)	/* ENOENT: that was the last batch */
			err = 1;
		memcpy(token, next, sizeof(token));
		in = token;
	}
	free(keys);
	free(vals);
	return err < 0 ? err : 0;
}

/* Keys of a hash map, walked one by one (bounded by its capacity). */
static uint64_t count_keys(const struct bpf_map *m)
{
	uint8_t key[64], next[64];
	uint64_t n = 0, cap = bpf_map__max_entries(m);
	int fd = bpf_map__fd(m);
	void *prev = NULL;

	if (bpf_map__key_size(m) > sizeof(key))
		return 0;
	while (n < cap && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

int capture__map_stats(struct capture *c, struct capture_map_stat *out, int max)
{
	struct bpf_map *m;
	int n = 0;

	bpf_object__for_each_map(m, c->skel->obj) {
		enum bpf_map_type t = bpf_map__type(m);

		if (n == max || t == BPF_MAP_TYPE_RINGBUF || strchr(bpf_map__name(m), '.'))
			continue;	/* the ring buffer has its own figures; .bss/.rodata are not maps to watch */
		out[n].name = bpf_map__name(m);
		out[n].capacity = bpf_map__max_entries(m);
		out[n].entries = out[n].capacity;
		if ((t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH) &&
		    count_batched(m, &out[n].entries))
			out[n].entries = count_keys(m);
		n++;
	}
	return n;
}

int capture__map_fd(struct capture *c, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(c->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}
