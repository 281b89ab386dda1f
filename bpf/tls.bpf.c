// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TLS plaintext of target processes: uprobes on OpenSSL's SSL_write(_ex),
 * SSL_read(_ex), SSL_do_handshake, SSL_shutdown and SSL_free, plus BIO_write
 * and BIO_read where OpenSSL is linked into the executable (memory BIOs:
 * Node). A separate object from capture.bpf.c: userspace (user/tlsprobe.c)
 * gives it capture's ring buffer and target map (bpf_map__reuse_fd), and
 * attaches its two uprobe programs (sa_ssl_entry, sa_ssl_ret) per library
 * file and per target process (uprobe_multi links with a pid: no other
 * process traps). Every program checks the target map before anything else.
 *
 * An SSL call's arguments are kept per thread from its entry to its
 * return, where the plaintext it moved is emitted (one event: up to
 * max_capture bytes, orig_len the whole length). Userspace ties the SSL* to
 * its socket: by the socket syscall the same thread made inside the call
 * (BIO-socket programs), or by the ciphertext fingerprints the BIO probes
 * emit (memory BIOs: the bytes are found again in the socket's data).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sockaudit/events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_max_capture = SA_DEFAULT_CAPTURE;

/* Shared with capture.bpf.c: userspace reuses its fds before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

/* An SSL call in progress on a thread. */
struct tls_call {
	__u64 ssl;
	__u64 buf;		/* plaintext buffer */
	__u64 exptr;		/* _ex: size_t * of the bytes moved */
	__u64 ts;		/* entry */
	__u64 bio_buf;		/* BIO_read in progress: its buffer */
	__u8 func;		/* enum sa_tls_func */
	__u8 dir;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);		/* pid_tgid */
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

struct tls_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};

struct tls_pos {
	__u64 pos[2];		/* plaintext bytes so far, per enum sa_dir */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct tls_key);
	__type(value, struct tls_pos);
} tls_streams SEC(".maps");

struct tls_scratch {
	struct sa_tls_event ev;
	__u8 data[SA_MAX_CAPTURE];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* set to the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct tls_scratch);
} tls_scratch SEC(".maps");

/*
 * capture.bpf.c's loss counters (shared too): a TLS event the ring refused
 * or a buffer that could not be read is written in the same loss records.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SA_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void tls_count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += 1;
}

/* Set by userspace at stop: every program returns at once (unlinking takes a while). */
volatile __u32 tls_stopped = 0;

static __always_inline bool tls_target(__u64 id)
{
	__u32 tgid = id >> 32;

	if (tls_stopped)
		return false;
	return bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

static __always_inline void tls_hdr(struct sa_event_hdr *h, __u32 type, __u32 size, __u64 id)
{
	h->ts_ns = bpf_ktime_get_ns();
	h->type = type;
	h->tgid = id >> 32;
	h->pid = (__u32)id;
	h->size = size;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

static __always_inline int call_enter(struct pt_regs *ctx, __u8 func, __u8 dir, bool ex)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call c = {};

	if (!tls_target(id))
		return 0;
	c.ssl = PT_REGS_PARM1(ctx);
	c.buf = PT_REGS_PARM2(ctx);
	c.exptr = ex ? PT_REGS_PARM4(ctx) : 0;
	c.ts = bpf_ktime_get_ns();
	c.func = func;
	c.dir = dir;
	bpf_map_update_elem(&tls_calls, &id, &c, BPF_ANY);
	return 0;
}

/* Bytes the call moved: the return value, or *exptr for the _ex calls. */
static __always_inline __u32 call_len(const struct tls_call *c, long ret)
{
	__u64 n = 0;

	if (ret <= 0)
		return 0;
	if (!c->exptr)
		return ret;
	if (bpf_probe_read_user(&n, sizeof(n), (void *)c->exptr)) {
		tls_count(SA_CNT_READ_FAIL);	/* the length is lost: counted, not silent */
		return 0;
	}
	return n > 0xffffffffULL ? 0xffffffffU : n;
}

static __always_inline void emit_plain(const struct tls_call *c, __u64 id, __u32 len, __u8 flags)
{
	struct tls_key key = { .ssl = c->ssl, .tgid = id >> 32 };
	__u32 cpu = bpf_get_smp_processor_id(), cap = len;
	struct tls_scratch *s = bpf_map_lookup_elem(&tls_scratch, &cpu);
	struct tls_pos init = {}, *p;

	if (!s)
		return;
	p = bpf_map_lookup_elem(&tls_streams, &key);
	if (!p) {
		bpf_map_update_elem(&tls_streams, &key, &init, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&tls_streams, &key);
		if (!p)
			return;
	}
	if (cap > targ_max_capture)
		cap = targ_max_capture;
	asm volatile("" : "+r"(cap));
	if (cap > SA_MAX_CAPTURE)
		cap = SA_MAX_CAPTURE;
	if (bpf_probe_read_user(s->data, cap, (void *)c->buf)) {
		tls_count(SA_CNT_READ_FAIL);
		cap = 0;
	}
	tls_hdr(&s->ev.hdr, SA_EV_TLS_DATA, sizeof(s->ev) + cap, id);
	s->ev.ssl = c->ssl;
	s->ev.pos = __sync_fetch_and_add(&p->pos[c->dir & 1], len);
	s->ev.enter_ns = c->ts;
	s->ev.orig_len = len;
	s->ev.cap_len = cap;
	s->ev.dir = c->dir;
	s->ev.func = c->func;
	s->ev.flags = flags;
	if (bpf_ringbuf_output(&events, s, sizeof(s->ev) + cap, BPF_RB_NO_WAKEUP))
		tls_count(SA_CNT_RB_FULL);
}

/* The return of every SSL call: the entry said what it was. */
static __always_inline int ssl_ret(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &id);
	__u32 len;

	if (!c)
		return 0;
	/* a handshake call moves no plaintext: its event says when it ran (tie) */
	len = call_len(c, (int)ret);	/* an int: the upper half of rax is not ours */
	if (len || c->func == SA_TLS_FN_HANDSHAKE)
		emit_plain(c, id, c->func == SA_TLS_FN_HANDSHAKE ? 0 : len, 0);
	bpf_map_delete_elem(&tls_calls, &id);
	return 0;
}

/*
 * No plaintext, but the socket syscalls inside it (announced by an entry
 * event: a blocking handshake reads and writes several times before it
 * returns) and its BIO calls say which socket is this SSL*'s.
 */
static __always_inline int ssl_handshake(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c;

	call_enter(ctx, SA_TLS_FN_HANDSHAKE, SA_DIR_EGRESS, false);
	c = bpf_map_lookup_elem(&tls_calls, &id);
	if (c)
		emit_plain(c, id, 0, SA_TLS_F_ENTRY);
	return 0;
}

static __always_inline int stream_end(void *ssl, __u8 func)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_key key = { .ssl = (__u64)ssl, .tgid = id >> 32 };
	struct sa_tls_end_event ev = {};
	struct tls_pos *p;

	if (!tls_target(id))
		return 0;
	p = bpf_map_lookup_elem(&tls_streams, &key);
	if (!p)
		return 0;	/* never moved plaintext: nothing to end */
	tls_hdr(&ev.hdr, SA_EV_TLS_END, sizeof(ev), id);
	ev.ssl = key.ssl;
	ev.sent = p->pos[SA_DIR_EGRESS];
	ev.recv = p->pos[SA_DIR_INGRESS];
	ev.func = func;
	if (func == SA_TLS_FN_FREE)
		bpf_map_delete_elem(&tls_streams, &key);
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), BPF_RB_NO_WAKEUP))
		tls_count(SA_CNT_RB_FULL);
	return 0;
}

/* A TLS record header: content type 20..23, version 3.x. */
static __always_inline bool record_hdr(const __u8 *b)
{
	return b[0] >= 20 && b[0] <= 23 && b[1] == 3 && b[2] <= 4;
}

/*
 * Fingerprint of ciphertext the library moved through a memory BIO inside
 * an SSL call: the 16 bytes after a record header (egress writes start at
 * one; an ingress read may be a header alone, a record body, or both).
 */
static __always_inline void emit_cipher(const struct tls_call *c, __u64 id, __u64 buf,
					__u32 len, __u8 dir)
{
	struct sa_tls_cipher_event ev = {};
	__u8 head[5 + SA_TLS_FP_LEN];
	__u64 from = buf;

	if (len < SA_TLS_FP_LEN || bpf_probe_read_user(head, sizeof(head) < len ? sizeof(head) :
						       SA_TLS_FP_LEN, (void *)buf))
		return;
	if (len >= sizeof(head) && record_hdr(head))
		from = buf + 5;
	else if (dir == SA_DIR_EGRESS)
		return;		/* egress BIO writes start at a record: this is not one */
	if (bpf_probe_read_user(ev.fp, SA_TLS_FP_LEN, (void *)from))
		return;
	tls_hdr(&ev.hdr, SA_EV_TLS_CIPHER, sizeof(ev), id);
	ev.ssl = c->ssl;
	ev.len = len;
	ev.dir = dir;
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), BPF_RB_NO_WAKEUP))
		tls_count(SA_CNT_RB_FULL);
}

static __always_inline int bio_write(const void *data, int dlen)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &id);

	if (c && dlen > 0)
		emit_cipher(c, id, (__u64)data, dlen, SA_DIR_EGRESS);
	return 0;
}

static __always_inline int bio_read(void *data)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &id);

	if (c)
		c->bio_buf = (__u64)data;
	return 0;
}

static __always_inline int bio_read_ret(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &id);

	if (c && c->bio_buf && (int)ret > 0)	/* an int, as for SSL_read */
		emit_cipher(c, id, c->bio_buf, (int)ret, SA_DIR_INGRESS);
	if (c)
		c->bio_buf = 0;
	return 0;
}

/*
 * The two programs every probed file gets, per target process: one
 * uprobe_multi link of sa_ssl_entry on every hooked symbol and one of
 * sa_ssl_ret on those with a return probe (user/tlsprobe.c). The link's
 * cookie for each symbol says which function it is (enum sa_tls_func).
 */
SEC("uprobe")
int sa_ssl_entry(struct pt_regs *ctx)
{
	switch (bpf_get_attach_cookie(ctx)) {
	case SA_TLS_FN_WRITE:
		return call_enter(ctx, SA_TLS_FN_WRITE, SA_DIR_EGRESS, false);
	case SA_TLS_FN_WRITE_EX:
		return call_enter(ctx, SA_TLS_FN_WRITE_EX, SA_DIR_EGRESS, true);
	case SA_TLS_FN_READ:
		return call_enter(ctx, SA_TLS_FN_READ, SA_DIR_INGRESS, false);
	case SA_TLS_FN_READ_EX:
		return call_enter(ctx, SA_TLS_FN_READ_EX, SA_DIR_INGRESS, true);
	case SA_TLS_FN_HANDSHAKE:
		return ssl_handshake(ctx);
	case SA_TLS_FN_SHUTDOWN:
		return stream_end((void *)PT_REGS_PARM1(ctx), SA_TLS_FN_SHUTDOWN);
	case SA_TLS_FN_FREE:
		return stream_end((void *)PT_REGS_PARM1(ctx), SA_TLS_FN_FREE);
	case SA_TLS_FN_BIO_WRITE:
		return bio_write((const void *)PT_REGS_PARM2(ctx), (int)PT_REGS_PARM3(ctx));
	case SA_TLS_FN_BIO_READ:
		return bio_read((void *)PT_REGS_PARM2(ctx));
	}
	return 0;
}

SEC("uprobe")
int sa_ssl_ret(struct pt_regs *ctx)
{
	if (bpf_get_attach_cookie(ctx) == SA_TLS_FN_BIO_READ)
		return bio_read_ret(PT_REGS_RC(ctx));
	return ssl_ret(PT_REGS_RC(ctx));
}

/* What userspace found a mapped file to be (tls_files), keyed by (s_dev, inode). */
struct file_key {
	__u64 ino;
	__u32 dev;	/* the kernel's s_dev encoding */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct file_key);
	__type(value, __u8);		/* SA_TLS_FILE_* */
} tls_files SEC(".maps");

/* Targets sa_mmap_exit stopped and userspace has not continued yet: a stop
 * continues every one of them, whatever events were left unread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} tls_held SEC(".maps");

/* (file, tgid) pairs userspace attached: that process maps it, probed. */
struct armed_key {
	__u64 ino;
	__u32 dev;
	__u32 tgid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct armed_key);
	__type(value, __u8);
} tls_armed SEC(".maps");

/* Targets with at least one probed file: their forked children are held. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u8);
} tls_pids SEC(".maps");

/* Hold tgid (stopped with SIGSTOP by the caller) until userspace continues it. */
static __always_inline bool hold(__u32 tgid, __u32 cur_tgid, __u64 id)
{
	struct sa_proc_event ev = {};
	__u8 one = 1;

	tls_hdr(&ev.hdr, SA_EV_TLS_MAPPED, sizeof(ev), id);
	ev.hdr.tgid = tgid;
	ev.parent_tgid = cur_tgid;
	/* 1: stopped, continue it; held first, so that a stop can find it */
	ev.exit_code = !bpf_map_update_elem(&tls_held, &tgid, &one, BPF_ANY);
	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), BPF_RB_FORCE_WAKEUP)) {
		tls_count(SA_CNT_RB_FULL);
		bpf_map_delete_elem(&tls_held, &tgid);
		return false;
	}
	return ev.exit_code;
}

/*
 * A target is about to run code from f: hold it unless f is judged plain
 * or this process has its links on it already.
 */
static __always_inline bool needs_hold(struct file *f, __u32 tgid)
{
	struct file_key key = {};
	struct armed_key akey;
	__u8 *state;

	key.ino = BPF_CORE_READ(f, f_inode, i_ino);
	key.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	state = bpf_map_lookup_elem(&tls_files, &key);
	if (state && *state == SA_TLS_FILE_PLAIN)
		return false;
	akey.ino = key.ino;
	akey.dev = key.dev;
	akey.tgid = tgid;
	return !state || !bpf_map_lookup_elem(&tls_armed, &akey);
}

/*
 * A target mapped part of a file executable (ld.so loading a library,
 * dlopen). A file userspace judged plain costs nothing more, and neither
 * does a TLS file this process has its links on already. A file not
 * judged yet, or a TLS file this process has no links on, stops the
 * process (SIGSTOP) until userspace has looked at it and attached, then
 * continued it (SIGCONT): a program that runs TLS right after loading
 * libssl would otherwise be quicker than the attach. Only when the event
 * is out: a lost one must not leave it stopped.
 */
SEC("tracepoint/syscalls/sys_exit_mmap")
int sa_mmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct task_struct *task;
	struct file *f = NULL;
	struct pt_regs *regs;
	int fd;

	if (ctx->ret < 0 || !tls_target(id))
		return 0;
	task = bpf_get_current_task_btf();
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	/* prot (rdx) has PROT_EXEC, and a file (r8) is mapped */
	fd = (int)BPF_CORE_READ(regs, r8);
	if (!(BPF_CORE_READ(regs, dx) & 4) || fd < 0 ||
	    (unsigned int)fd >= BPF_CORE_READ(task, files, fdt, max_fds))
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), &BPF_CORE_READ(task, files, fdt, fd)[fd]);
	if (!f)
		return 0;
	if (needs_hold(f, tgid) && hold(tgid, tgid, id))
		bpf_send_signal(19);	/* SIGSTOP */
	return 0;
}

/*
 * A target exec'd a program: the kernel mapped the executable itself (no
 * mmap call to see), and a program with OpenSSL inside (Node) may speak
 * TLS without mapping any library not judged yet. Held as at mmap, before
 * the new program's first instruction.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sa_tls_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct file *f;

	if (!tls_target(id))
		return 0;
	f = BPF_CORE_READ(bprm, file);
	if (f && needs_hold(f, id >> 32) && hold(id >> 32, id >> 32, id))
		bpf_send_signal(19);	/* SIGSTOP */
	return 0;
}

extern int bpf_send_signal_task(struct task_struct *task, int sig, enum pid_type type,
				__u64 value) __ksym;

/*
 * A target with probed files forked a process: the child inherits the
 * parent's breakpoints, but the uprobe links are per process (the kernel
 * runs a link's program only in its own process), so the child runs none
 * until its own are attached. It is stopped before it first returns to
 * user space (the signal is pending before it is first woken) and
 * userspace continues it once attached. A CLONE_VM child (vfork) shares
 * the parent's memory until it execs: its exec'd program maps its
 * libraries again and sa_mmap_exit holds it then.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sa_tls_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);

	/* a target (a stale tls_pids entry of a reused pid is not enough) with probes */
	if (ptgid == ctgid || !bpf_map_lookup_elem(&tls_pids, &ptgid) ||
	    !tls_target(bpf_get_current_pid_tgid()))
		return 0;
	if (BPF_CORE_READ(child, mm) == BPF_CORE_READ(parent, mm))
		return 0;
	if (hold(ctgid, ptgid, bpf_get_current_pid_tgid()))
		bpf_send_signal_task(child, 19, PIDTYPE_TGID, 0);	/* SIGSTOP */
	return 0;
}
