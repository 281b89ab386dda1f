// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* TLS library discovery and uprobe attachment (see tlsprobe.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "capture.h"
#include "log.h"
#include "tls.skel.h"
#include "tlsprobe.h"

/* The functions hooked: their uprobe cookie (enum sa_tls_func) and whether they need a return probe. */
enum { P_WRITE, P_WRITE_EX, P_READ, P_READ_EX, P_HANDSHAKE, P_SHUTDOWN, P_FREE, P_BIO_WRITE,
       P_BIO_READ, P_NSYMS };
static const struct {
	const char *name;
	uint8_t func;
	bool ret;
} syms[P_NSYMS] = {
	{ "SSL_write", SA_TLS_FN_WRITE, true },		{ "SSL_write_ex", SA_TLS_FN_WRITE_EX, true },
	{ "SSL_read", SA_TLS_FN_READ, true },		{ "SSL_read_ex", SA_TLS_FN_READ_EX, true },
	{ "SSL_do_handshake", SA_TLS_FN_HANDSHAKE, true }, { "SSL_shutdown", SA_TLS_FN_SHUTDOWN, false },
	{ "SSL_free", SA_TLS_FN_FREE, false },		{ "BIO_write", SA_TLS_FN_BIO_WRITE, false },
	{ "BIO_read", SA_TLS_FN_BIO_READ, true },
};
#define MAX_FILES 256

/* One target process that maps a TLS file: its two uprobe_multi links on it. */
struct tls_user {
	uint32_t tgid;
	int entry_fd, ret_fd;
	uint64_t start;			/* its start time (/proc/PID/stat): a reused pid is not it */
};

struct tls_file {
	dev_t dev;
	uint32_t kdev;			/* the kernel's encoding of dev (tls_files map) */
	ino_t ino;
	bool tls;			/* exports SSL_write: attached per process that maps it */
	bool ever;			/* attached at least once (tls_files_attached) */
	char path[256];
	uint64_t off[P_NSYMS];		/* file offset of each symbol, 0: absent */
	struct tls_user *users;		/* targets that map it, each with its links */
	uint32_t nusers, cap;
};

struct tlsprobe {
	struct tls_bpf *skel;
	int targets_fd;
	struct tls_file files[MAX_FILES];	/* every file looked at (most are not TLS) */
	int nfiles;
	uint32_t attached_total;
	bool full_said, fd_said;
	bool stopping;			/* tlsprobe__stop: no file is looked at or attached again */
	uint64_t next_sweep_ns;		/* tlsprobe__sweep: when it looks again */
	uint64_t swept;			/* processes whose links the sweep closed */
};

static struct tls_file *file_find(struct tlsprobe *t, dev_t dev, ino_t ino)
{
	for (int i = 0; i < t->nfiles; i++)
		if (t->files[i].dev == dev && t->files[i].ino == ino)
			return &t->files[i];
	return NULL;
}

/* The file range of the section SSL_read is in (callee_of looks only there). */
struct text_range {
	uint64_t lo, hi;
};

/* File offset of each wanted symbol in path's .dynsym (0: absent). */
static int dynsym_offsets(const char *path, uint64_t off[P_NSYMS], struct text_range *text)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf *e;

	memset(off, 0, sizeof(off[0]) * P_NSYMS);
	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (e && (scn = elf_nextscn(e, scn))) {
		Elf_Data *d;
		size_t n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		n = d ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym sym;
			GElf_Shdr ts;
			const char *name;

			if (!gelf_getsym(d, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    !sym.st_value || sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(e, sh.sh_link, sym.st_name);
			for (int k = 0; name && k < P_NSYMS; k++) {
				if (strcmp(name, syms[k].name) ||
				    !gelf_getshdr(elf_getscn(e, sym.st_shndx), &ts))
					continue;
				/* uprobes take a file offset, the symbol is an address */
				off[k] = sym.st_value - ts.sh_addr + ts.sh_offset;
				found++;
				if (k == P_READ)
					*text = (struct text_range){ ts.sh_offset,
								     ts.sh_offset + ts.sh_size };
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return found;
}

/*
 * The target of the first `call rel32` (0xe8) in the 64 bytes at file
 * offset o, if inside text (0: none). A byte scan: it may stop at an 0xe8
 * inside another instruction, which is why callee_of asks two functions.
 */
static uint64_t first_call(int fd, uint64_t o, const struct text_range *text)
{
	uint8_t b[64];
	int32_t rel;

	if (!o || pread(fd, b, sizeof(b), o) != (ssize_t)sizeof(b))
		return 0;
	for (size_t i = 0; i + 5 <= sizeof(b); i++) {
		uint64_t t;

		if (b[i] != 0xe8)
			continue;
		memcpy(&rel, b + i + 1, sizeof(rel));
		t = o + i + 5 + (int64_t)rel;
		return t >= text->lo && t < text->hi && t != o ? t : 0;
	}
	return 0;
}

/*
 * OpenSSL's SSL_read and SSL_read_ex are thin wrappers that both call
 * ssl_read_internal(s, buf, num, size_t *readbytes) first (SSL_write and
 * SSL_write_ex: ssl_write_internal), with the _ex calling convention.
 * Probing that one callee instead of the two wrappers costs the program
 * much less per call: the wrappers start with `sub $N,%rsp`, which the
 * kernel must single-step out of line (a second trap), the callees with
 * `push`, which it emulates (bench/nginx_tls.sh measures both). Taken only
 * when both wrappers' first call goes to the same place; otherwise the
 * wrappers are probed. The _ex slot gets the callee: same arguments.
 */
static void prefer_callee(const char *path, uint64_t off[P_NSYMS], const struct text_range *text,
			  int plain, int ex)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t a, b;

	if (fd < 0)
		return;
	a = first_call(fd, off[plain], text);
	b = first_call(fd, off[ex], text);
	close(fd);
	if (!a || a != b)
		return;
	off[ex] = a;
	off[plain] = 0;
}

/*
 * BPF_LINK_CREATE of a uprobe_multi link (kernel 6.6+; libbpf 1.1 has no
 * API for it): prog on every offset of path, in process pid only. The
 * kernel installs the breakpoints in that process's memory alone, so no
 * other process that maps the file traps, and runs prog only for that
 * process's threads. The layout is the kernel's link_create.uprobe_multi.
 */
#define SA_BPF_TRACE_UPROBE_MULTI 48
#define SA_BPF_F_UPROBE_MULTI_RETURN 1U
struct uprobe_multi_attr {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t cnt, uflags, pid, pad;
};

static int link_uprobe_multi(int prog_fd, const char *path, const unsigned long *offs,
			     const uint64_t *cookies, uint32_t cnt, uint32_t pid, bool ret)
{
	struct uprobe_multi_attr a = {
		.prog_fd = prog_fd, .attach_type = SA_BPF_TRACE_UPROBE_MULTI,
		.path = (uintptr_t)path, .offsets = (uintptr_t)offs, .cookies = (uintptr_t)cookies,
		.cnt = cnt, .uflags = ret ? SA_BPF_F_UPROBE_MULTI_RETURN : 0, .pid = pid,
	};
	int fd = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));

	return fd < 0 ? -errno : fd;
}

/* Tell the kernel side: (file, tgid) probed (sa_mmap_exit lets it map on), tgid has probes. */
static void armed_state(struct tlsprobe *t, const struct tls_file *f, uint32_t tgid, bool on)
{
	struct { uint64_t ino; uint32_t dev, tgid; } key = { f->ino, f->kdev, tgid };
	int fd = bpf_map__fd(t->skel->maps.tls_armed), pfd = bpf_map__fd(t->skel->maps.tls_pids);
	uint8_t one = 1;

	if (on) {
		bpf_map_update_elem(fd, &key, &one, BPF_ANY);
		bpf_map_update_elem(pfd, &tgid, &one, BPF_ANY);
	} else {
		bpf_map_delete_elem(fd, &key);
	}
}

/* Both links of f for process tgid: the entry programs, then the returns. */
static int attach_pid(struct tlsprobe *t, struct tls_file *f, struct tls_user *u)
{
	unsigned long eo[P_NSYMS], ro[P_NSYMS];
	uint64_t ec[P_NSYMS], rc[P_NSYMS];
	uint32_t ne = 0, nr = 0;

	for (int k = 0; k < P_NSYMS; k++) {
		if (!f->off[k])
			continue;
		eo[ne] = f->off[k];
		ec[ne++] = syms[k].func;
		if (syms[k].ret) {
			ro[nr] = f->off[k];
			rc[nr++] = syms[k].func;
		}
	}
	/* the return link first: an entry without it would leave state behind */
	u->ret_fd = link_uprobe_multi(bpf_program__fd(t->skel->progs.sa_ssl_ret), f->path, ro, rc,
				      nr, u->tgid, true);
	u->entry_fd = u->ret_fd < 0 ? u->ret_fd :
		link_uprobe_multi(bpf_program__fd(t->skel->progs.sa_ssl_entry), f->path, eo, ec,
				  ne, u->tgid, false);
	if (u->entry_fd < 0) {
		int err = u->entry_fd;

		if (u->ret_fd >= 0)
			close(u->ret_fd);
		u->ret_fd = u->entry_fd = -1;
		if (err != -ESRCH && !t->fd_said)	/* ESRCH: it exited meanwhile */
			log_err("tls: cannot attach uprobes to %s for pid %u: %s (its TLS "
				"plaintext is not captured)", f->path, u->tgid, strerror(-err));
		t->fd_said = t->fd_said || err != -ESRCH;
		return err;
	}
	armed_state(t, f, u->tgid, true);
	if (!f->ever)
		t->attached_total++;
	f->ever = true;
	log_info("tls: uprobes on %s for pid %u (%u offsets, 2 links)", f->path, u->tgid, ne);
	return 0;
}

static void *close_fds(void *arg)
{
	int *fds = arg;

	for (int i = 1; i <= fds[0]; i++)
		close(fds[i]);	/* each waits for a grace period (uprobe unregister) */
	free(fds);
	return NULL;
}

/*
 * Close a user's links from a thread of its own (each close waits for a
 * grace period: the reader does not). Joined when join is set (the stop).
 */
static bool release_links(int *fds, int n, pthread_t *th)
{
	int *arg = malloc((n + 1) * sizeof(*arg));

	if (!arg) {
		for (int i = 0; i < n; i++)
			close(fds[i]);
		return false;
	}
	arg[0] = n;
	memcpy(arg + 1, fds, n * sizeof(*fds));
	if (!pthread_create(th, NULL, close_fds, arg))
		return true;
	close_fds(arg);
	return false;
}

static void user_detach(struct tlsprobe *t, struct tls_file *f, struct tls_user *u,
			const char *why)
{
	int fds[2] = { u->entry_fd, u->ret_fd };
	pthread_t th;

	if (u->entry_fd < 0)
		return;
	armed_state(t, f, u->tgid, false);
	log_info("tls: uprobes on %s for pid %u detached: %s", f->path, u->tgid, why);
	if (release_links(fds, 2, &th))
		pthread_detach(th);
	u->entry_fd = u->ret_fd = -1;
}

static struct tls_user *user_find(struct tls_file *f, uint32_t tgid)
{
	for (uint32_t i = 0; i < f->nusers; i++)
		if (f->users[i].tgid == tgid)
			return &f->users[i];
	return NULL;
}

/*
 * tgid's start time in clock ticks since boot (/proc/PID/stat field 22),
 * 0 when it is gone or a zombie (exited, its memory and breakpoints too).
 */
static uint64_t proc_start(uint32_t tgid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	char state;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	p = strrchr(buf, ')');	/* after comm, which may hold spaces and parentheses */
	if (!p || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
			 "%*s %*s %llu", &state, &start) != 2 || state == 'Z' || state == 'X')
		return 0;
	return start;
}

/* tgid maps f: its links are made now (before tgid runs on: it is held). */
static void user_add(struct tlsprobe *t, struct tls_file *f, uint32_t tgid)
{
	struct tls_user *u = user_find(f, tgid);

	if (!u) {
		if (f->nusers == f->cap) {
			uint32_t ncap = f->cap ? 2 * f->cap : 8;

			u = realloc(f->users, ncap * sizeof(*u));
			if (!u)
				return;
			f->users = u;
			f->cap = ncap;
		}
		u = &f->users[f->nusers++];
		u->tgid = tgid;
		u->entry_fd = u->ret_fd = -1;
		u->start = proc_start(tgid);
	}
	if (u->entry_fd < 0 && attach_pid(t, f, u) < 0)
		*u = f->users[--f->nusers];	/* not attached: not a user */
}

/* Tell sa_mmap_exit what f is: PLAIN (no more stops for it) or PROBED (stop unarmed processes). */
static void file_state(struct tlsprobe *t, const struct tls_file *f)
{
	struct { uint64_t ino; uint32_t dev, pad; } key = { f->ino, f->kdev, 0 };
	uint8_t state = f->tls ? SA_TLS_FILE_PROBED : SA_TLS_FILE_PLAIN;

	bpf_map_update_elem(bpf_map__fd(t->skel->maps.tls_files), &key, &state, BPF_ANY);
}

/* A file seen for the first time: does it carry OpenSSL? */
static struct tls_file *file_new(struct tlsprobe *t, dev_t dev, ino_t ino, const char *path)
{
	struct text_range text = { 0, 0 };
	struct tls_file *f;

	if (t->nfiles == MAX_FILES) {
		if (!t->full_said)
			log_err("tls: more than %d mapped files looked at; later ones are not "
				"checked for OpenSSL", MAX_FILES);
		t->full_said = true;
		return NULL;
	}
	f = &t->files[t->nfiles++];
	memset(f, 0, sizeof(*f));
	f->dev = dev;
	f->kdev = major(dev) << 20 | minor(dev);
	f->ino = ino;
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->tls = dynsym_offsets(path, f->off, &text) > 0 && (f->off[P_WRITE] || f->off[P_WRITE_EX]);
	if (f->tls && text.hi) {
		prefer_callee(path, f->off, &text, P_READ, P_READ_EX);
		prefer_callee(path, f->off, &text, P_WRITE, P_WRITE_EX);
	}
	file_state(t, f);
	return f;
}

/* One executable mapping of tgid: its probes on the file when it is TLS code. */
static void map_file(struct tlsprobe *t, uint32_t tgid, unsigned maj, unsigned min,
		     unsigned long ino, const char *path)
{
	dev_t dev = makedev(maj, min);
	struct tls_file *f = file_find(t, dev, ino);
	struct stat st;

	if (!f) {
		/* the path must still name the mapped file (not replaced since) */
		if (stat(path, &st) || st.st_dev != dev || st.st_ino != ino)
			return;
		f = file_new(t, dev, ino, path);
	}
	if (f && f->tls)
		user_add(t, f, tgid);
}

void tlsprobe__scan(struct tlsprobe *t, uint32_t tgid)
{
	char path[64], line[4096];
	FILE *m;

	if (!t || t->stopping)
		return;
	snprintf(path, sizeof(path), "/proc/%u/maps", tgid);
	m = fopen(path, "re");
	if (!m)
		return;		/* gone already */
	while (fgets(line, sizeof(line), m)) {
		char perms[8], file[4096];
		unsigned maj, min;
		unsigned long ino;

		file[0] = '\0';
		if (sscanf(line, "%*x-%*x %7s %*x %x:%x %lu %4095[^\n]", perms, &maj, &min, &ino,
			   file) < 4 || perms[2] != 'x' || !ino || file[0] != '/')
			continue;
		map_file(t, tgid, maj, min, ino, file);
	}
	fclose(m);
}

/* A target exited: its links go (the breakpoints went with its memory). */
static void forget_tgid(struct tlsprobe *t, uint32_t tgid, const char *why)
{
	int pfd = bpf_map__fd(t->skel->maps.tls_pids);

	bpf_map_delete_elem(pfd, &tgid);
	for (int i = 0; i < t->nfiles; i++) {
		struct tls_file *f = &t->files[i];
		struct tls_user *u = user_find(f, tgid);

		if (!u)
			continue;
		user_detach(t, f, u, why);
		*u = f->users[--f->nusers];
	}
}

/* Does tgid have probes on any file? */
static bool has_probes(const struct tlsprobe *t, uint32_t tgid)
{
	for (int i = 0; i < t->nfiles; i++)
		if (user_find((struct tls_file *)&t->files[i], tgid))
			return true;
	return false;
}

/* tgid, stopped at mmap for this, goes on (and leaves the held map). */
static void continue_held(struct tlsprobe *t, uint32_t tgid)
{
	if (t)
		bpf_map_delete_elem(bpf_map__fd(t->skel->maps.tls_held), &tgid);
	kill(tgid, SIGCONT);
}

/*
 * Every target still stopped at mmap: continued. At a stop the events that
 * would have continued them may be left unread in the ring; a target left
 * stopped would hang its parent (exec waits for it) and the service.
 */
static void release_held(struct tlsprobe *t)
{
	int fd = bpf_map__fd(t->skel->maps.tls_held);
	uint32_t key, next;

	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		key = next;
		continue_held(t, key);
	}
}

void tlsprobe__event(struct tlsprobe *t, const void *data, size_t size)
{
	const struct sa_proc_event *ev = data;

	if (size != sizeof(*ev))
		return;
	if (ev->hdr.type == SA_EV_TLS_MAPPED) {
		/* mapped code, or forked by a process with probes: attach now, then go on */
		tlsprobe__scan(t, ev->hdr.tgid);
		if (ev->exit_code == 1)
			continue_held(t, ev->hdr.tgid);	/* sa_mmap_exit/sa_tls_fork stopped it */
		return;
	}
	if (!t || t->stopping)
		return;
	/*
	 * A fork the kernel side did not hold (its event was lost: counted):
	 * late probes are better than none.
	 */
	if (ev->hdr.type == SA_EV_PROC_FORK && has_probes(t, ev->parent_tgid) &&
	    !has_probes(t, ev->hdr.tgid))
		tlsprobe__scan(t, ev->hdr.tgid);
	else if (ev->hdr.type == SA_EV_PROC_EXIT)
		forget_tgid(t, ev->hdr.tgid, "it exited");
}

/*
 * Links of processes that are gone although no exit event said so (a full
 * ring buffer drops it, counted as a ring loss): each process with links
 * is looked up in /proc; one that is missing, a zombie, or another process
 * with its pid (another start time) has its links closed. Else they would
 * stay until the collector stops, and a process that reuses the pid would
 * get this one's probes.
 */
void tlsprobe__sweep(struct tlsprobe *t, uint64_t now_ns)
{
	if (!t || t->stopping || now_ns < t->next_sweep_ns)
		return;
	t->next_sweep_ns = now_ns + TLSPROBE_SWEEP_NS;
	for (int i = 0; i < t->nfiles; i++) {
		struct tls_file *f = &t->files[i];

		for (uint32_t j = 0; j < f->nusers; j++) {
			struct tls_user *u = &f->users[j];

			if (proc_start(u->tgid) == u->start && u->start)
				continue;
			t->swept++;
			/* every file's links of that process; this slot now holds another user */
			forget_tgid(t, u->tgid, "it is gone and its exit event was lost");
			j--;
		}
	}
}

uint64_t tlsprobe__swept(const struct tlsprobe *t)
{
	return t ? t->swept : 0;
}

/* Every target in the map now (at start: the command or the --pid trees). */
void tlsprobe__scan_all(struct tlsprobe *t)
{
	uint32_t key, *prev = NULL;

	while (bpf_map_get_next_key(t->targets_fd, prev, &key) == 0) {
		tlsprobe__scan(t, key);
		prev = &key;
	}
}

int tlsprobe__open(struct tlsprobe **out, struct capture *cap, uint32_t max_capture)
{
	struct tlsprobe *t = calloc(1, sizeof(*t));
	int err, ncpu = libbpf_num_possible_cpus();

	if (!t)
		return -ENOMEM;
	elf_version(EV_CURRENT);
	err = tracefs__ensure();	/* the mmap tracepoint, in either attach mode */
	if (err)
		goto fail;
	t->skel = tls_bpf__open();
	if (!t->skel) {
		err = -errno;
		log_err("cannot open the TLS BPF object: %s", strerror(errno));
		goto fail;
	}
	t->skel->rodata->targ_max_capture = max_capture;
	bpf_map__set_max_entries(t->skel->maps.tls_scratch, ncpu > 0 ? ncpu : 1);
	t->targets_fd = capture__map_fd(cap, "targets");
	err = bpf_map__reuse_fd(t->skel->maps.events, capture__map_fd(cap, "events"));
	if (!err)
		err = bpf_map__reuse_fd(t->skel->maps.targets, t->targets_fd);
	if (!err)
		err = bpf_map__reuse_fd(t->skel->maps.counters, capture__map_fd(cap, "counters"));
	/* both uprobe programs are attached as uprobe_multi links (attach_pid) */
	if (!err)
		err = bpf_program__set_expected_attach_type(t->skel->progs.sa_ssl_entry,
							    SA_BPF_TRACE_UPROBE_MULTI);
	if (!err)
		err = bpf_program__set_expected_attach_type(t->skel->progs.sa_ssl_ret,
							    SA_BPF_TRACE_UPROBE_MULTI);
	if (!err)
		err = tls_bpf__load(t->skel);
	if (!err)
		err = tls_bpf__attach(t->skel);	/* mmap and fork hooks; uprobes come per process */
	if (err) {
		log_err("cannot load the TLS probes (%s); run with --tls off to audit without "
			"TLS plaintext", strerror(-err));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	tlsprobe__close(t);
	return err;
}

#define CLOSE_THREADS 16

/* Every link closed, CLOSE_THREADS at a time (each close waits a grace period). */
static void detach_all(struct tlsprobe *t)
{
	int n = 0, *fds = NULL, cap = 0, per;
	pthread_t th[CLOSE_THREADS];
	bool started[CLOSE_THREADS] = {};

	for (int i = 0; i < t->nfiles; i++) {
		struct tls_file *f = &t->files[i];

		for (uint32_t j = 0; j < f->nusers; j++) {
			int *nf = n + 2 > cap ? realloc(fds, (cap = 2 * cap + 16) * sizeof(*fds)) : fds;

			if (!nf)
				break;
			fds = nf;
			log_info("tls: uprobes on %s for pid %u detached: the collector stops",
				 f->path, f->users[j].tgid);
			fds[n++] = f->users[j].entry_fd;
			fds[n++] = f->users[j].ret_fd;
		}
		f->nusers = 0;
	}
	per = (n + CLOSE_THREADS - 1) / CLOSE_THREADS;
	for (int k = 0; per && k < CLOSE_THREADS && k * per < n; k++)
		started[k] = release_links(fds + k * per, n - k * per < per ? n - k * per : per,
					   &th[k]);
	for (int k = 0; k < CLOSE_THREADS; k++)
		if (started[k])
			pthread_join(th[k], NULL);
	free(fds);
}

void tlsprobe__stop(struct tlsprobe *t)
{
	if (!t)
		return;
	t->skel->bss->tls_stopped = 1;
	t->stopping = true;
	release_held(t);
}

void tlsprobe__close(struct tlsprobe *t)
{
	if (!t)
		return;
	detach_all(t);
	for (int i = 0; i < t->nfiles; i++)
		free(t->files[i].users);
	if (t->skel) {
		tls_bpf__detach(t->skel);	/* no mmap/fork hook past this: none held after it */
		release_held(t);
	}
	tls_bpf__destroy(t->skel);
	free(t);
}

uint32_t tlsprobe__attached(const struct tlsprobe *t)
{
	uint32_t n = 0;

	for (int i = 0; t && i < t->nfiles; i++)
		n += t->files[i].nusers > 0;
	return n;
}

uint32_t tlsprobe__attached_total(const struct tlsprobe *t)
{
	return t ? t->attached_total : 0;
}
