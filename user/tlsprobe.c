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
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "capture.h"
#include "log.h"
#include "tls.skel.h"
#include "tlsprobe.h"

/* The functions hooked, and the programs at their entry and return. */
enum { P_WRITE, P_WRITE_EX, P_READ, P_READ_EX, P_HANDSHAKE, P_SHUTDOWN, P_FREE, P_BIO_WRITE,
       P_BIO_READ, P_NSYMS };
static const char *const sym_names[P_NSYMS] = {
	"SSL_write", "SSL_write_ex", "SSL_read", "SSL_read_ex", "SSL_do_handshake",
	"SSL_shutdown", "SSL_free", "BIO_write", "BIO_read",
};
#define MAX_LINKS (2 * P_NSYMS)
#define MAX_FILES 256

struct tls_file {
	dev_t dev;
	uint32_t kdev;			/* the kernel's encoding of dev (tls_files map) */
	ino_t ino;
	bool tls;			/* exports SSL_write: attached while it has users */
	char path[256];
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
	uint32_t *users;		/* tgids that map it */
	uint32_t nusers, cap;
	uint64_t idle_since;		/* attached, no user left since (CLOCK_MONOTONIC ns); 0: in use */
};

struct tlsprobe {
	struct tls_bpf *skel;
	int targets_fd;
	struct tls_file files[MAX_FILES];	/* every file looked at (most are not TLS) */
	int nfiles;
	uint32_t attached, attached_total;
	bool full_said;
	bool stopping;			/* tlsprobe__stop: no file is looked at or attached again */
	uint64_t next_idle_check;	/* CLOCK_MONOTONIC ns */
	uint64_t linger_ns;		/* TLS_LINGER_NS, or SOCKAUDIT_TLS_LINGER_MS */
};

/*
 * A file whose last user exited keeps its uprobes this long: a shell loop
 * of short-lived curls would otherwise attach and detach libssl for each
 * (about a second of kernel time per round), and stall the reader.
 */
#define TLS_LINGER_NS (10 * 1000000000ULL)

static struct tls_file *file_find(struct tlsprobe *t, dev_t dev, ino_t ino)
{
	for (int i = 0; i < t->nfiles; i++)
		if (t->files[i].dev == dev && t->files[i].ino == ino)
			return &t->files[i];
	return NULL;
}

/* File offset of each wanted symbol in path's .dynsym (0: absent). */
static int dynsym_offsets(const char *path, uint64_t off[P_NSYMS])
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
				if (strcmp(name, sym_names[k]) ||
				    !gelf_getshdr(elf_getscn(e, sym.st_shndx), &ts))
					continue;
				/* uprobes take a file offset, the symbol is an address */
				off[k] = sym.st_value - ts.sh_addr + ts.sh_offset;
				found++;
			}
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return found;
}

static bool attach_one(struct tls_file *f, struct bpf_program *prog, uint64_t off, bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = ret);
	struct bpf_link *l;

	if (!prog || f->nlinks >= MAX_LINKS)
		return false;
	l = bpf_program__attach_uprobe_opts(prog, -1, f->path, off, &o);
	if (!l) {
		log_err("cannot attach a uprobe to %s at 0x%llx: %s", f->path,
			(unsigned long long)off, strerror(errno));
		return false;
	}
	f->links[f->nlinks++] = l;
	return true;
}

/* Entry and return programs of each symbol: the _ex and BIO ones best-effort. */
static int attach_file(struct tlsprobe *t, struct tls_file *f, const uint64_t off[P_NSYMS])
{
	typeof(t->skel->progs) *p = &t->skel->progs;
	struct bpf_program *entry[P_NSYMS] = {
		p->sa_ssl_write, p->sa_ssl_write_ex, p->sa_ssl_read, p->sa_ssl_read_ex,
		p->sa_ssl_handshake, p->sa_ssl_shutdown, p->sa_ssl_free, p->sa_bio_write,
		p->sa_bio_read,
	};
	struct bpf_program *ret[P_NSYMS] = {
		p->sa_ssl_ret, p->sa_ssl_ret, p->sa_ssl_ret, p->sa_ssl_ret, p->sa_ssl_ret,
		NULL, NULL, NULL, p->sa_bio_read_ret,
	};

	for (int k = 0; k < P_NSYMS; k++) {
		if (!off[k])
			continue;
		/* a return probe first: an entry without it would leave state behind */
		if (ret[k] && !attach_one(f, ret[k], off[k], true))
			continue;
		attach_one(f, entry[k], off[k], false);
	}
	t->attached++;
	t->attached_total++;
	log_info("tls: uprobes on %s (%d links)", f->path, f->nlinks);
	return 0;
}

/* Tell sa_mmap_exit what f is: no more stops for it, or (0) look again. */
static void file_state(struct tlsprobe *t, const struct tls_file *f, uint8_t state)
{
	struct { uint64_t ino; uint32_t dev, pad; } key = { f->ino, f->kdev, 0 };
	int fd = bpf_map__fd(t->skel->maps.tls_files);

	if (state)
		bpf_map_update_elem(fd, &key, &state, BPF_ANY);
	else
		bpf_map_delete_elem(fd, &key);
}

static void detach_file(struct tlsprobe *t, struct tls_file *f)
{
	bool had = f->nlinks || f->idle_since;

	file_state(t, f, 0);
	capture__destroy_links(f->links, f->nlinks);	/* each waits for a grace period */
	if (had && t->attached)
		t->attached--;
	f->nlinks = 0;
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct link_batch {
	struct bpf_link **links;
	int n;
};

static void *destroy_batch(void *arg)
{
	struct link_batch *b = arg;

	capture__destroy_links(b->links, b->n);
	free(b->links);
	free(b);
	return NULL;
}

/*
 * No target used f for TLS_LINGER_NS: its uprobes go, released from a
 * thread of their own (each waits for a grace period: the reader does not).
 */
static void detach_unused(struct tlsprobe *t, struct tls_file *f)
{
	struct link_batch *b = malloc(sizeof(*b));
	pthread_t th;

	log_info("tls: uprobes on %s detached: no target uses it", f->path);
	file_state(t, f, 0);
	if (b && (b->links = malloc(f->nlinks * sizeof(*b->links)))) {
		memcpy(b->links, f->links, f->nlinks * sizeof(*b->links));
		b->n = f->nlinks;
		if (!pthread_create(&th, NULL, destroy_batch, b)) {
			pthread_detach(th);
			b = NULL;
			f->nlinks = 0;
		} else {
			free(b->links);
		}
	}
	free(b);
	detach_file(t, f);	/* what the thread did not take */
	f->idle_since = 0;
}

/* At most once a second: files idle past the linger lose their uprobes. */
static void detach_idle(struct tlsprobe *t)
{
	uint64_t now = mono_now();

	if (now < t->next_idle_check)
		return;
	t->next_idle_check = now + (t->linger_ns < 1000000000ULL ? t->linger_ns : 1000000000ULL);
	for (int i = 0; i < t->nfiles; i++) {
		struct tls_file *f = &t->files[i];

		if (f->nlinks && !f->nusers && f->idle_since &&
		    now - f->idle_since >= t->linger_ns)
			detach_unused(t, f);
	}
}

static bool user_has(const struct tls_file *f, uint32_t tgid)
{
	for (uint32_t i = 0; i < f->nusers; i++)
		if (f->users[i] == tgid)
			return true;
	return false;
}

static void user_add(struct tls_file *f, uint32_t tgid)
{
	f->idle_since = 0;
	if (user_has(f, tgid))
		return;
	if (f->nusers == f->cap) {
		uint32_t ncap = f->cap ? 2 * f->cap : 8, *u;

		u = realloc(f->users, ncap * sizeof(*u));
		if (!u)
			return;
		f->users = u;
		f->cap = ncap;
	}
	f->users[f->nusers++] = tgid;
}

/* A file seen for the first time: does it carry OpenSSL? */
static struct tls_file *file_new(struct tlsprobe *t, dev_t dev, ino_t ino, const char *path,
				 uint64_t off[P_NSYMS])
{
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
	f->tls = dynsym_offsets(path, off) > 0 && (off[P_WRITE] || off[P_WRITE_EX]);
	return f;
}

/* One executable mapping of tgid: attach its file when it is TLS code. */
static void map_file(struct tlsprobe *t, uint32_t tgid, unsigned maj, unsigned min,
		     unsigned long ino, const char *path)
{
	dev_t dev = makedev(maj, min);
	struct tls_file *f = file_find(t, dev, ino);
	uint64_t off[P_NSYMS];
	struct stat st;

	if (!f) {
		/* the path must still name the mapped file (not replaced since) */
		if (stat(path, &st) || st.st_dev != dev || st.st_ino != ino)
			return;
		f = file_new(t, dev, ino, path, off);
		if (!f)
			return;
		if (f->tls)
			attach_file(t, f, off);
	} else if (f->tls && !f->nlinks) {
		if (dynsym_offsets(f->path, off) > 0)
			attach_file(t, f, off);
	}
	if (f->tls)
		user_add(f, tgid);
	file_state(t, f, !f->tls ? SA_TLS_FILE_PLAIN : f->nlinks ? SA_TLS_FILE_PROBED : 0);
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

/* A target exited: files only it used are detached. */
static void forget_tgid(struct tlsprobe *t, uint32_t tgid)
{
	for (int i = 0; i < t->nfiles; i++) {
		struct tls_file *f = &t->files[i];

		for (uint32_t j = 0; j < f->nusers; j++) {
			if (f->users[j] != tgid)
				continue;
			f->users[j] = f->users[--f->nusers];
			if (!f->nusers && f->nlinks)
				f->idle_since = mono_now();	/* detach_idle takes it later */
			break;
		}
	}
}

/* A forked child runs its parent's code: it uses the same files. */
static void inherit(struct tlsprobe *t, uint32_t parent, uint32_t child)
{
	for (int i = 0; i < t->nfiles; i++)
		if (user_has(&t->files[i], parent))
			user_add(&t->files[i], child);
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
		tlsprobe__scan(t, ev->hdr.tgid);	/* now: before the library is used */
		if (ev->exit_code == 1)
			continue_held(t, ev->hdr.tgid);	/* sa_mmap_exit stopped it for this */
		return;
	}
	if (!t || t->stopping)
		return;
	else if (ev->hdr.type == SA_EV_PROC_FORK)
		inherit(t, ev->parent_tgid, ev->hdr.tgid);
	else if (ev->hdr.type == SA_EV_PROC_EXIT)
		forget_tgid(t, ev->hdr.tgid);
	detach_idle(t);
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
	/* the linger is a tuning knob (docs/operations.md); tests set it short */
	t->linger_ns = getenv("SOCKAUDIT_TLS_LINGER_MS") ?
		strtoull(getenv("SOCKAUDIT_TLS_LINGER_MS"), NULL, 10) * 1000000ULL : TLS_LINGER_NS;
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
	if (!err)
		err = tls_bpf__load(t->skel);
	if (!err)
		err = tls_bpf__attach(t->skel);	/* the mmap hook; uprobes come per file */
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

static void detach_all(struct tlsprobe *t)
{
	for (int i = 0; i < t->nfiles; i++)
		detach_file(t, &t->files[i]);
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
	tls_bpf__detach(t->skel);	/* no mmap hook runs past this: none held after it */
	release_held(t);
	tls_bpf__destroy(t->skel);
	free(t);
}

uint32_t tlsprobe__attached(const struct tlsprobe *t)
{
	return t ? t->attached : 0;
}

uint32_t tlsprobe__attached_total(const struct tlsprobe *t)
{
	return t ? t->attached_total : 0;
}
