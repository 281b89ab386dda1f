// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Socket payload capture for target processes.
 *
 * A send's arguments are stashed per thread at sys_enter (which is when it
 * is timestamped) and the event is emitted at sys_exit, once the return
 * value says how many bytes moved. A receive, accept or connect hooks only
 * sys_exit: its arguments are still in the user registers saved at entry,
 * and they go through the same per-thread stash from there.
 * Only sockets we audit (TCP over IPv4/IPv6, Unix stream) are captured: the
 * fd is resolved through the task's file table, so file I/O never reaches the
 * ring buffer. A connection is (tgid, fd, gen); gen changes whenever the
 * struct file behind the fd changes, so fd reuse (close, dup2, close_range)
 * never continues an older stream.
 *
 * Two attach modes share every handler: per-syscall tracepoints
 * (syscalls/sys_{enter,exit}_*, need tracefs) and raw_tp sys_enter/sys_exit
 * with a switch on the syscall number. Userspace autoloads one set.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "sockaudit/events.h"
#include "capture.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 targ_max_capture = SA_DEFAULT_CAPTURE;	/* bytes per chunk (event) */
const volatile __u32 targ_capture_budget = SA_DEFAULT_BUDGET;	/* bytes per syscall */
const volatile __u32 targ_self_tgid = 0;
const volatile __u32 targ_capture_pipes = 0;	/* stdin/stdout pipes too */
/* Wake the reader only once this much is waiting; it drains on a timer. */
const volatile __u64 targ_wakeup_bytes = 1 << 20;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);	/* resized by userspace */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);		/* tgid */
	__type(value, __u8);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);	/* threads of all targets */
	__type(key, __u64);		/* pid_tgid */
	__type(value, struct stash);
} stash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct sa_conn_key);
	__type(value, struct conn_state);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SA_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Per-CPU scratch for one data event (too big for the stack or a percpu value). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* set to the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/*
 * The same set as `targets`, as one bit per tgid: a plain memory load
 * answers "not a target" for every other process's syscalls, where a hash
 * lookup is a helper call (~50 ns here). The map stays the authority
 * (bpftool shows it; tgids past the bitmap use it); both change together.
 */
__u64 target_bits[SA_TARGET_BITS / 64];

/*
 * One byte per (tgid, fd) slot, set when a connection is tracked there and
 * never cleared: zero means close() has nothing to look up in `conns`.
 * Servers close files all the time (nginx one per request it serves from
 * disk); a byte load answers for those where a hash lookup cost ~70 ns. A
 * slot shared or left set only costs that lookup.
 */
#define CONN_HINT_SLOTS (1 << 16)
__u8 conn_hint[CONN_HINT_SLOTS];

/* Next connection generation; one global counter, shared by all CPUs. */
__u32 next_gen = 0;
/* Set by userspace to stop capture at once (detaching takes seconds). */
volatile __u32 capture_stopped = 0;

static __always_inline void count(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += n;
}

/*
 * Index of tgid's word in target_bits, for tgid < SA_TARGET_BITS. The mask
 * repeats that bound for the verifier; the empty asm keeps the compiler
 * from dropping it as redundant.
 */
static __always_inline __u32 target_word(__u32 tgid)
{
	__u32 w = tgid / 64;

	asm volatile("" : "+r"(w));
	return w & (SA_TARGET_BITS / 64 - 1);
}

/* Distinct fds of one tgid get distinct slots (the XOR is one to one). */
static __always_inline __u32 conn_hint_slot(__u32 tgid, int fd)
{
	__u32 h = (tgid * 0x9E3779B1u) ^ (__u32)fd;

	asm volatile("" : "+r"(h));	/* keep the mask for the verifier */
	return h & (CONN_HINT_SLOTS - 1);
}

static __always_inline void target_bit_set(__u32 tgid, bool on)
{
	__u64 bit = 1ULL << (tgid % 64);

	if (tgid >= SA_TARGET_BITS)
		return;
	if (on)
		__sync_fetch_and_or(&target_bits[target_word(tgid)], bit);
	else
		__sync_fetch_and_and(&target_bits[target_word(tgid)], ~bit);
}

#include "selectors.bpf.h"

/*
 * tgid is the current task's: a process not yet in the set may be selected
 * by its cgroup (selectors.bpf.h), and is then added to it.
 */
static __always_inline bool is_target(__u32 tgid)
{
	if (tgid == targ_self_tgid)
		return false;
	if (tgid < SA_TARGET_BITS) {
		if ((target_bits[target_word(tgid)] >> (tgid % 64)) & 1)
			return true;
	} else if (bpf_map_lookup_elem(&targets, &tgid)) {
		return true;
	}
	return cgroup_selected(tgid);
}

/* Common header, all but comm. */
static __always_inline void fill_hdr_id(struct sa_event_hdr *h, __u32 type, __u64 ts, __u32 size,
					__u64 id)
{
	h->ts_ns = ts;
	h->type = type;
	h->tgid = id >> 32;
	h->pid = (__u32)id;
	h->size = size;
}

/* task's comm by two direct BTF loads: no helper call. */
static __always_inline void task_comm(struct task_struct *task, __u8 *dst)
{
	((__u64 *)dst)[0] = *(__u64 *)&task->comm[0];
	((__u64 *)dst)[1] = *(__u64 *)&task->comm[8];
}

static __always_inline void fill_hdr(struct sa_event_hdr *h, __u32 type, __u64 ts, __u32 size)
{
	fill_hdr_id(h, type, ts, size, bpf_get_current_pid_tgid());
	task_comm(bpf_get_current_task_btf(), h->comm);
}

static __always_inline __u64 rb_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= targ_wakeup_bytes ?
		BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline int output_flags(void *ev, __u64 size, __u64 payload, __u64 flags)
{
	/* events that made it are counted by userspace: no map update per event */
	if (bpf_ringbuf_output(&events, ev, size, flags)) {
		count(SA_CNT_RB_FULL, 1);
		count(SA_CNT_RB_FULL_BYTES, payload);
		return -1;
	}
	return 0;
}

static __always_inline int output(void *ev, __u64 size, __u64 payload)
{
	return output_flags(ev, size, payload, rb_flags());
}

/*
 * The struct file behind fd in task (the current one), or NULL. The walk
 * down to the fd array uses direct BTF loads (no helper call each); only
 * the array slot needs bpf_probe_read_kernel. Helper calls dominate our
 * cost per event.
 */
static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file **fds;
	struct file *f = NULL;

	if (fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

static __always_inline struct sock *audited_sock(struct file *f, __u8 *tr);

/*
 * An AF_UNIX stream socket neither bound nor connected to a bound one: a
 * socketpair end (or an unconnected socket). A host that hands its child
 * such a socket as stdin/stdout speaks the stdio transport on it; a named
 * socket on fd 0/1 (inetd-style) stays a connection of its own.
 */
static __always_inline bool unix_unnamed(struct sock *sk)
{
	struct unix_sock *u = (struct unix_sock *)sk;
	struct sock *peer = BPF_CORE_READ(u, peer);

	if (BPF_CORE_READ(u, addr))
		return false;
	return !peer || !BPF_CORE_READ((struct unix_sock *)peer, addr);
}

/* The inode number of the socket behind sk (as in /proc/PID/fd), 0 when none. */
static __always_inline __u64 sock_ino(struct sock *sk)
{
	struct socket *so = BPF_CORE_READ(sk, sk_socket);

	/* struct socket is the first member of struct socket_alloc */
	return so ? BPF_CORE_READ((struct socket_alloc *)so, vfs_inode.i_ino) : 0;
}

/*
 * Whether file f (at fd) is one we audit; transport in *tr, and for sockets
 * the sock in *skp. Pipes are audited only as stdin/stdout (MCP's stdio
 * transport) and only when asked for.
 */
static __always_inline bool audited_file(struct file *f, int fd, __u8 *tr, struct sock **skp)
{
	__u32 mode = f ? BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT : 0;

	*skp = NULL;
	if (mode == S_IFIFO && targ_capture_pipes && (fd == 0 || fd == 1)) {
		*tr = SA_TRANSPORT_PIPE;
		return true;
	}
	if (mode != S_IFSOCK)
		return false;
	*skp = audited_sock(f, tr);
	if (*skp && *tr == SA_TRANSPORT_UNIX && targ_capture_pipes && (fd == 0 || fd == 1) &&
	    unix_unnamed(*skp))
		*tr = SA_TRANSPORT_PIPE;	/* a socketpair as stdio (Node, asyncio hosts) */
	return *skp != NULL;
}

/* The sock behind socket file f when it is one we audit; transport in *tr. */
static __always_inline struct sock *audited_sock(struct file *f, __u8 *tr)
{
	struct socket *so;
	struct sock *sk;
	__u16 family, type, proto;

	so = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(so, sk);
	if (!sk)
		return NULL;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	type = BPF_CORE_READ(sk, sk_type);
	proto = BPF_CORE_READ(sk, sk_protocol);
	if (type != SOCK_STREAM)
		return NULL;
	if ((family == AF_INET || family == AF_INET6) && proto == IPPROTO_TCP) {
		*tr = SA_TRANSPORT_TCP;
		return sk;
	}
	if (family == AF_UNIX) {
		*tr = SA_TRANSPORT_UNIX;
		return sk;
	}
	return NULL;
}

static __always_inline void read_addrs(struct sock *sk, struct sa_conn_event *ev)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	ev->local.family = family;
	ev->peer.family = family;
	if (family == AF_INET) {
		bpf_core_read(ev->local.addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(ev->peer.addr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		bpf_core_read(ev->local.addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(ev->peer.addr, 16, &sk->__sk_common.skc_v6_daddr);
	} else if (family == AF_UNIX) {
		struct unix_address *ua = BPF_CORE_READ((struct unix_sock *)sk, addr);

		struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);

		if (ua)
			bpf_probe_read_kernel_str(ev->unix_path, sizeof(ev->unix_path),
						  &ua->name[0].sun_path);
		else if (peer && unix_unnamed(sk))
			/* socketpair: the other end's inode, to find the stdio it feeds */
			*(__u64 *)ev->peer.addr = sock_ino(peer);
		return;
	}
	ev->local.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	ev->peer.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

/*
 * Start tracking (tgid, fd) as a new connection generation and announce it.
 * The open event carries addresses and role; the state holds stream positions.
 */
static __noinline struct conn_state *conn_open(struct sa_conn_key *key, struct file *f,
					       struct sock *sk, __u8 tr, __u8 role)
{
	struct conn_state init = {};
	struct sa_conn_event ev = {};

	init.file = (__u64)f;
	init.gen = __sync_fetch_and_add(&next_gen, 1) + 1;
	init.role = role;
	init.transport = tr;
	conn_hint[conn_hint_slot(key->tgid, key->fd)] = 1;	/* before close can look */
	if (bpf_map_update_elem(&conns, key, &init, BPF_ANY)) {
		count(SA_CNT_CONN_FULL, 1);
		return NULL;
	}
	fill_hdr(&ev.hdr, SA_EV_CONN_OPEN, bpf_ktime_get_ns(), sizeof(ev));
	ev.gen = init.gen;
	ev.fd = key->fd;
	ev.role = role;
	ev.transport = tr;
	ev.uid = (__u32)bpf_get_current_uid_gid();
	ev.inode = BPF_CORE_READ(f, f_inode, i_ino);
	if (sk)
		read_addrs(sk, &ev);
	output(&ev, sizeof(ev), 0);
	return bpf_map_lookup_elem(&conns, key);
}

/*
 * The connection state for fd, opening one when the fd is an audited socket
 * not seen before (or a different file than the one we tracked there).
 */
static __always_inline struct conn_state *conn_get(struct task_struct *task, int fd,
						   __u8 role_if_new)
{
	struct sa_conn_key key = { .tgid = task->tgid, .fd = fd };
	struct file *f = fd_file(task, fd);
	struct conn_state *cs;
	struct sock *sk;
	__u8 tr = 0;

	if (!f)
		return NULL;
	cs = bpf_map_lookup_elem(&conns, &key);
	if (cs && cs->file == (__u64)f && role_if_new == SA_ROLE_UNKNOWN)
		return cs;
	if (!audited_file(f, fd, &tr, &sk))
		return NULL;
	return conn_open(&key, f, sk, tr, role_if_new);
}

static __always_inline void conn_close(__u32 tgid, int fd)
{
	struct sa_conn_key key = { .tgid = tgid, .fd = fd };
	struct sa_conn_event ev = {};
	struct conn_state *cs;

	if (!conn_hint[conn_hint_slot(tgid, fd)])
		return;
	cs = bpf_map_lookup_elem(&conns, &key);
	if (!cs)
		return;
	fill_hdr(&ev.hdr, SA_EV_CONN_CLOSE, bpf_ktime_get_ns(), sizeof(ev));
	ev.gen = cs->gen;
	ev.fd = fd;
	ev.sent = cs->pos[SA_DIR_EGRESS];
	ev.recv = cs->pos[SA_DIR_INGRESS];
	ev.role = cs->role;
	ev.transport = cs->transport;
	bpf_map_delete_elem(&conns, &key);
	output(&ev, sizeof(ev), 0);
}

static __always_inline struct scratch *scratch_get(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&scratch, &cpu);
}

/* Copy up to want bytes from a flat user buffer into the scratch payload. */
static __always_inline __u32 copy_flat(struct scratch *s, __u64 ubuf, __u32 want)
{
	if (want > SA_MAX_CAPTURE)
		want = SA_MAX_CAPTURE;
	if (!want)
		return 0;
	if (bpf_probe_read_user(s->data, want, (void *)ubuf)) {
		count(SA_CNT_READ_FAIL, 1);
		s->x.fail = true;
		return 0;
	}
	return want;
}

/* iovecs fetched per probe read: one helper call for writev's usual two or three */
#define IOV_BATCH 4
/* bpf_loop refuses more iterations than this (BPF_MAX_LOOPS in the kernel) */
#define BPF_LOOP_MAX (1U << 23)
/* iovecs one chunk walks at most (a chunk ends early past them: the next goes on) */
#define IOV_PER_CHUNK 16

/*
 * Copy up to want bytes from the syscall's user iovec array, from the
 * cursor in s->x on (iov_idx, iov_skip bytes into it), and move the cursor
 * past them. Each loop consumes one iovec whole, or fills the chunk and
 * stops. A global function: the verifier checks it once, not at each of
 * its call sites.
 */
__noinline __u32 copy_iov(struct scratch *s, __u32 want)
{
	struct iovec iov[IOV_BATCH];
	struct chunk_ctx *x;
	struct iovec *iovp;
	__u64 skip, n, left;
	__u32 off = 0, start;
	int j;

	if (!s)
		return 0;
	x = &s->x;
	iovp = (struct iovec *)x->ubuf;
	start = x->iov_idx;
	skip = x->iov_skip;
	for (j = 0; j < IOV_PER_CHUNK; j++) {
		__u32 i = start + j;
		int k = j % IOV_BATCH;

		if (i >= x->iovcnt || i >= SA_MAX_IOV || off >= want)
			break;
		if (k == 0) {
			__u32 sz = (x->iovcnt - i < IOV_BATCH ? x->iovcnt - i : IOV_BATCH) *
				   sizeof(iov[0]);

			/* the bound again, where the verifier sees it */
			asm volatile("" : "+r"(sz));
			if (sz > sizeof(iov))
				sz = sizeof(iov);
			if (bpf_probe_read_user(iov, sz, &iovp[i]))
				goto fault;
		}
		left = iov[k].iov_len - skip;
		n = left < want - off ? left : want - off;
		off &= SA_MAX_CAPTURE - 1;
		if (n > SA_MAX_CAPTURE)
			n = SA_MAX_CAPTURE;
		if (n && bpf_probe_read_user(&s->data[off], n, iov[k].iov_base + skip))
			goto fault;
		off += n;
		if (n < left) {
			x->iov_skip = skip + n;	/* the chunk is full inside this iovec */
			return off;
		}
		skip = 0;
		x->iov_idx = i + 1;
		x->iov_skip = 0;
	}
	return off;
fault:
	count(SA_CNT_READ_FAIL, 1);
	x->fail = true;
	return off;
}

/* The syscall's bytes past its iovecs (or our iovec limit) cannot be captured. */
static __always_inline bool iov_spent(const struct chunk_ctx *x)
{
	return x->iovcnt && (x->iov_idx >= x->iovcnt || x->iov_idx >= SA_MAX_IOV);
}

/*
 * Copy and emit the syscall's next chunk (from s->x.done). The last chunk
 * (budget reached, or nothing more can be read) covers the rest of the
 * syscall in orig_len, so positions stay exact; x->stop is set then, and
 * when the ring buffer refused the chunk (the rest of the syscall is lost,
 * counted in the kernel counters, a gap to userspace).
 */
static __always_inline void emit_chunk(struct scratch *s)
{
	struct chunk_ctx *x = &s->x;
	__u32 want = x->want - x->done, cap, orig;
	__u8 flags = x->flags;
	bool last;

	if (want > targ_max_capture)
		want = targ_max_capture;
	if (flags & SA_DATA_F_LEN_ONLY)
		cap = 0, x->fail = true;
	else if (x->iovcnt)
		cap = copy_iov(s, want);
	else
		cap = copy_flat(s, x->ubuf + x->done, want);
	if (cap > SA_MAX_CAPTURE)
		cap = SA_MAX_CAPTURE;
	last = x->fail || x->done + cap >= x->want || iov_spent(x);
	if (!last && !cap)
		return;		/* only empty iovecs walked: nothing to say yet */
	if (last && iov_spent(x) && x->done + cap < x->len)
		flags |= SA_DATA_F_IOV_TRUNC;
	orig = last ? x->len - x->done : cap;
	s->ev.hdr.size = sizeof(s->ev) + cap;
	s->ev.pos = x->base + x->done;
	s->ev.orig_len = orig;
	s->ev.cap_len = cap;
	s->ev.flags = flags | (x->done ? SA_DATA_F_CONT : 0);
	x->stop = last;
	/* the backlog is looked at every 64 data events per CPU, not on each */
	if (output_flags(&s->ev, sizeof(s->ev) + cap, x->len - x->done,
			 ++s->nevents & 63 ? BPF_RB_NO_WAKEUP : rb_flags()))
		x->stop = true;
	x->done += cap;
}

static long chunk_cb(__u64 i, void *ctx)
{
	struct scratch *s = scratch_get();
	long stop;

	if (!s || s->x.stop)
		return 1;
	emit_chunk(s);
	/* the verifier wants 0 or 1 exactly, which a bool load does not prove */
	stop = s->x.stop;
	asm volatile("" : "+r"(stop));
	return stop & 1;
}

/*
 * The chunks of a syscall larger than max_capture (or than what one chunk
 * of iovecs walks), the first included. Each
 * loop either fills a chunk or walks IOV_PER_CHUNK iovecs, so the count
 * below is enough; should it not be, one event without payload closes the
 * syscall so that its bytes are still accounted for. The cursor lives in
 * the per-CPU scratch (BPF programs do not migrate between CPUs), not on
 * the stack: the verifier sees its fields as unknown at each loop instead
 * of following them from one to the next, and the stack stays small.
 */
__noinline int emit_rest(void)
{
	struct scratch *s = scratch_get();
	__u32 loops;

	if (!s)
		return 0;
	loops = (s->x.want - s->x.done) / targ_max_capture + 2;
	if (s->x.iovcnt)
		loops += s->x.iovcnt / IOV_PER_CHUNK;
	if (loops > BPF_LOOP_MAX)
		loops = BPF_LOOP_MAX;	/* more would fail at once; the rest goes length-only */
	bpf_loop(loops, chunk_cb, NULL, 0);
	if (s->x.stop)
		return 0;
	s->x.flags |= SA_DATA_F_LEN_ONLY;
	emit_chunk(s);
	return 0;
}

/*
 * The common small syscall, whose len bytes fit one chunk: one copy and one
 * event, without the chunk cursor (what emit_chunk would send for it: the
 * whole length, no continuation). User memory that cannot be read gives
 * the event with what was copied before the fault, as emit_chunk does
 * (the fault counted once). False when the iovecs did not give len bytes
 * for another reason (more of them than one chunk walks): the chunked path
 * then starts over.
 */
static __always_inline bool emit_whole(struct scratch *s, __u32 len, __u8 flags, __u64 ubuf,
				       __u64 iovcnt)
{
	__u32 cap;

	if (iovcnt) {
		s->x.ubuf = ubuf;
		s->x.iovcnt = iovcnt;
		s->x.iov_idx = 0;
		s->x.iov_skip = 0;
		s->x.fail = false;
		cap = copy_iov(s, len);
		if (cap != len && !s->x.fail)
			return false;
	} else {
		cap = copy_flat(s, ubuf, len);
	}
	if (cap > SA_MAX_CAPTURE)
		cap = SA_MAX_CAPTURE;
	s->ev.hdr.size = sizeof(s->ev) + cap;
	s->ev.orig_len = len;
	s->ev.cap_len = cap;
	s->ev.flags = flags;
	output_flags(&s->ev, sizeof(s->ev) + cap, len,
		     ++s->nevents & 63 ? BPF_RB_NO_WAKEUP : rb_flags());
	return true;
}

/*
 * Emit one data syscall: len bytes moved by the syscall in st, payload taken
 * from a flat buffer (iovcnt == 0) or an iovec array, in chunks of up to
 * max_capture bytes while capture_budget lasts. The common small syscall
 * is one chunk (emit_whole); inlined at its call sites (a BPF-to-BPF call
 * costs a return thunk here too). task is the current one.
 */
static __always_inline void emit_data(struct task_struct *task, struct stash *st,
				      struct conn_state *cs, __u64 ubuf, __u64 iovcnt,
				      __u64 len_flags)
{
	struct scratch *s = scratch_get();
	struct chunk_ctx *x;
	__u32 len = (__u32)len_flags;
	__u8 flags = (len_flags >> 32) | (cs->transport == SA_TRANSPORT_PIPE ? SA_DATA_F_PIPE : 0);

	if (!s)
		return;
	fill_hdr_id(&s->ev.hdr, SA_EV_DATA, st->dir == SA_DIR_EGRESS ? st->ts : bpf_ktime_get_ns(),
		    0, st->id);
	task_comm(task, s->ev.hdr.comm);
	s->ev.gen = cs->gen;
	s->ev.fd = st->fd;
	s->ev.syscall = st->nr;
	s->ev.dir = st->dir;
	s->ev.pos = __sync_fetch_and_add(&cs->pos[st->dir & 1], len);
	if (len <= targ_max_capture && len <= targ_capture_budget && !(flags & SA_DATA_F_LEN_ONLY) &&
	    emit_whole(s, len, flags, ubuf, iovcnt))
		return;
	x = &s->x;
	x->base = s->ev.pos;
	x->len = len;
	x->want = len < targ_capture_budget ? len : targ_capture_budget;
	x->done = 0;
	x->ubuf = ubuf;
	x->iovcnt = iovcnt;
	x->iov_idx = 0;
	x->iov_skip = 0;
	x->fail = false;
	x->stop = false;
	x->flags = flags;
	/* every chunk from the first in emit_rest: the chunk code stays out of this program's hot path */
	emit_rest();
}

/* Length and flags of a data event, in one argument of emit_data. */
static __always_inline __u64 len_flags(__u32 len, __u8 flags)
{
	return (__u64)flags << 32 | len;
}

/* Adds the length of message SA_MAX_MMSG + i to the per-CPU sum (bpf_loop). */
static long mmsg_len_cb(__u64 i, void *ctx)
{
	struct scratch *s = scratch_get();
	struct mmsghdr *vec;
	__u32 mlen;

	if (!s)
		return 1;
	vec = (struct mmsghdr *)s->mmsg_vec;
	if (bpf_probe_read_user(&mlen, sizeof(mlen), &vec[SA_MAX_MMSG + i].msg_len)) {
		count(SA_CNT_READ_FAIL, 1);
		return 1;
	}
	s->mmsg_rest += mlen;
	return 0;
}

/*
 * sendmmsg/recvmmsg: one syscall's worth of events per message, up to
 * SA_MAX_MMSG messages. The messages past those are not captured, but
 * their lengths are summed into one event without payload, so that the
 * stream positions after them stay exact (userspace sees bytes not
 * captured, not a hole it cannot place).
 */
static __noinline int emit_mmsg(struct task_struct *task, struct stash *st, struct conn_state *cs,
			       __u32 nmsg)
{
	struct mmsghdr *vec = (struct mmsghdr *)st->buf;
	struct scratch *s;
	int i;

	for (i = 0; i < SA_MAX_MMSG; i++) {
		struct user_msghdr mh;
		__u32 mlen;

		if ((__u32)i >= nmsg)
			return 0;
		if (bpf_probe_read_user(&mh, sizeof(mh), &vec[i].msg_hdr) ||
		    bpf_probe_read_user(&mlen, sizeof(mlen), &vec[i].msg_len)) {
			count(SA_CNT_READ_FAIL, 1);
			return 0;
		}
		emit_data(task, st, cs, (__u64)mh.msg_iov, mh.msg_iovlen, len_flags(mlen, 0));
	}
	s = scratch_get();
	if (nmsg <= SA_MAX_MMSG || !s)
		return 0;
	count(SA_CNT_MMSG_TRUNC, nmsg - SA_MAX_MMSG);
	s->mmsg_vec = (__u64)vec;
	s->mmsg_rest = 0;
	bpf_loop(nmsg - SA_MAX_MMSG, mmsg_len_cb, NULL, 0);
	if (s->mmsg_rest > 0xffffffffULL)
		s->mmsg_rest = 0xffffffffULL;	/* an event's length is 32 bits */
	if (s->mmsg_rest)
		emit_data(task, st, cs, 0, 0,
			  len_flags(s->mmsg_rest, SA_DATA_F_LEN_ONLY | SA_DATA_F_MMSG_TRUNC));
	return 0;
}

/* Kind of a syscall number we handle; SC_NONE for the rest. */
static __always_inline int sc_kind(long nr)
{
	switch (nr) {
	case SYS_read: case SYS_recvfrom:	return SC_RECV_FLAT;
	case SYS_write: case SYS_sendto:	return SC_SEND_FLAT;
	case SYS_readv:				return SC_RECV_IOV;
	case SYS_writev:			return SC_SEND_IOV;
	case SYS_recvmsg:			return SC_RECV_MSG;
	case SYS_sendmsg:			return SC_SEND_MSG;
	case SYS_recvmmsg:			return SC_RECV_MMSG;
	case SYS_sendmmsg:			return SC_SEND_MMSG;
	case SYS_sendfile:			return SC_SENDFILE;
	case SYS_accept: case SYS_accept4:	return SC_ACCEPT;
	case SYS_connect:			return SC_CONNECT;
	case SYS_close:				return SC_CLOSE;
	}
	return SC_NONE;
}

/* pid_tgid of task, from two loads instead of a helper call. */
static __always_inline __u64 task_id(struct task_struct *task)
{
	return (__u64)task->tgid << 32 | (__u32)task->pid;
}

/*
 * This thread's stash entry, created on its first audited syscall. Entries
 * are reused in place (armed at enter, disarmed at exit) rather than
 * inserted and deleted per syscall: a hash update plus delete cost ~330 ns
 * per syscall here, a lookup ~40. The LRU evicts entries of dead threads.
 */
static __always_inline struct stash *stash_slot(struct task_struct *task, bool create)
{
	__u64 id = task_id(task);
	struct stash *st = bpf_map_lookup_elem(&stash, &id);
	struct stash init = {};

	if (st || !create)
		return st;
	if (bpf_map_update_elem(&stash, &id, &init, BPF_NOEXIST)) {
		count(SA_CNT_STASH_FULL, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(&stash, &id);
}

/*
 * Receives, accept and connect need nothing from sys_enter: their exit
 * reads the arguments from the user registers saved at syscall entry
 * (they are still there at sys_exit), so they cost one hook, not two.
 * Sends keep their enter hook, which timestamps them at entry.
 */
static __always_inline bool sc_exit_only(int kind)
{
	return sc_is_recv(kind) || kind == SC_ACCEPT || kind == SC_CONNECT;
}

/*
 * Both handlers start from the task: one helper call gives the ids (plain
 * loads), the stash slot and the fd table, where pid_tgid and one task
 * lookup per use were three or four calls.
 */
static __always_inline int on_enter(long nr, __u64 a0, __u64 a1, __u64 a2)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = task->tgid;
	int kind = sc_kind(nr);
	struct stash *st;
	int fd = (int)a0;

	if (kind == SC_NONE || sc_exit_only(kind) || !is_target(tgid))
		return 0;
	if (kind == SC_CLOSE) {
		conn_close(tgid, fd);
		return 0;
	}
	st = stash_slot(task, true);
	if (!st)
		return 0;
	st->dir = SA_DIR_EGRESS;
	st->ts = bpf_ktime_get_ns();	/* a send is timestamped at entry */
	st->id = task_id(task);
	st->buf = kind == SC_SENDFILE ? 0 : a1;
	st->len = a2;
	st->fd = fd;
	st->nr = nr;
	st->kind = kind;	/* armed: the exit handler consumes it */
	return 0;
}

static __always_inline void exit_data(struct stash *st, struct task_struct *task, long ret)
{
	struct conn_state *cs;
	struct user_msghdr mh;
	__u64 ubuf = st->buf, iovcnt = 0;
	__u8 flags = 0;

	if (ret <= 0)
		return;
	/* sendfile(out_fd, in_fd, ...): the socket is out_fd, st->fd */
	cs = conn_get(task, st->fd, SA_ROLE_UNKNOWN);
	if (!cs)
		return;
	switch (st->kind) {
	case SC_RECV_FLAT: case SC_SEND_FLAT:
		break;
	case SC_RECV_IOV: case SC_SEND_IOV:
		iovcnt = st->len;
		break;
	case SC_RECV_MSG: case SC_SEND_MSG:
		if (bpf_probe_read_user(&mh, sizeof(mh), (void *)st->buf)) {
			count(SA_CNT_READ_FAIL, 1);
			flags = SA_DATA_F_LEN_ONLY;
			break;
		}
		ubuf = (__u64)mh.msg_iov;
		iovcnt = mh.msg_iovlen;
		break;
	case SC_RECV_MMSG: case SC_SEND_MMSG:
		emit_mmsg(task, st, cs, ret);
		return;
	case SC_SENDFILE:
		flags = SA_DATA_F_LEN_ONLY;
		break;
	default:
		return;
	}
	/* one call site: the event code is inlined once */
	emit_data(task, st, cs, ubuf, iovcnt, len_flags(ret, flags));
}

/*
 * A receive's arguments, from the registers saved at its entry, into st
 * on the stack: nothing of a receive outlives its exit, so it needs no
 * slot in the stash map (a hash lookup, ~40 ns, per receive). False for a
 * peek: peeked bytes are read again later (recvfrom's flags are its 4th
 * argument, recvmsg's its 3rd).
 */
static __always_inline bool stash_recv(struct stash *st, struct task_struct *task,
				       struct pt_regs *regs, long nr, int kind)
{
	if ((nr == SYS_recvfrom && (regs->r10 & MSG_PEEK)) ||
	    (kind == SC_RECV_MSG && (regs->dx & MSG_PEEK)))
		return false;
	st->dir = SA_DIR_INGRESS;	/* timestamped at exit, in emit_data */
	st->ts = 0;
	st->id = task_id(task);
	st->buf = regs->si;
	st->len = regs->dx;
	st->fd = regs->di;
	st->nr = nr;
	st->kind = kind;
	return true;
}

/*
 * regs: the syscall's user registers, or NULL to fetch them (tracepoint
 * mode). Receives, accept and connect use them; a send was stashed at entry.
 * Whether fd is an audited socket is decided here, and only when bytes
 * moved: a receive that finds nothing (EAGAIN) or a target's file I/O
 * costs no fd table walk or connection lookup.
 */
static __always_inline int on_exit(long nr, long ret, struct pt_regs *regs)
{
	struct task_struct *task = bpf_get_current_task_btf();
	int kind = sc_kind(nr);
	struct stash *st, recv;

	/* only targets stash anything; most syscalls here are other processes' */
	if (!is_target(task->tgid))
		return 0;
	/* a receive that found nothing (EAGAIN after each request on a non-blocking socket) */
	if (sc_is_recv(kind) && ret <= 0)
		return 0;
	if (sc_exit_only(kind) && !regs)
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (kind == SC_ACCEPT) {
		if (ret >= 0)
			conn_get(task, ret, SA_ROLE_SERVER);
		return 0;
	}
	if (kind == SC_CONNECT) {
		if (ret == 0 || ret == -EINPROGRESS)
			conn_get(task, regs->di, SA_ROLE_CLIENT);
		return 0;
	}
	if (sc_is_recv(kind)) {
		if (!stash_recv(&recv, task, regs, nr, kind))
			return 0;
		st = &recv;
	} else {
		st = stash_slot(task, false);
	}
	if (!st || st->kind == SC_NONE)
		return 0;
	exit_data(st, task, ret);
	st->kind = SC_NONE;	/* disarmed on every path */
	return 0;
}

/*
 * ---- attach mode 1: BTF raw tracepoints sys_enter / sys_exit ----
 * One program each, run for every syscall of every process: the syscall
 * number and the target bit are checked before anything else. regs is a
 * trusted BTF pointer here, so the arguments are plain loads (a raw_tp
 * program needs a probe read for each), and there is no per-event perf
 * buffer to fill as for the syscalls/ tracepoints.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(sa_raw_enter, struct pt_regs *regs, long nr)
{
	int kind = sc_kind(nr);

	if (kind == SC_NONE || sc_exit_only(kind) || capture_stopped)
		return 0;
	return on_enter(nr, regs->di, regs->si, regs->dx);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sa_raw_exit, struct pt_regs *regs, long ret)
{
	/* the number first: a load, where the target check needs a helper call */
	long nr = regs->orig_ax;

	if (sc_kind(nr) == SC_NONE || capture_stopped)
		return 0;
	return on_exit(nr, ret, regs);	/* checks the target before anything else */
}

/*
 * ---- attach mode 2: per-syscall tracepoints (tracefs) ----
 * One program for every sys_enter_* we need and one for every sys_exit_*
 * (userspace attaches each to the whole list): two verifications instead
 * of thirty, and the syscall number comes with the context.
 */

/*
 * The kernel refuses to attach a program whose context reads go past the
 * tracepoint's record, and each syscall's record holds only its own
 * arguments: read args[0..2] (every send has three).
 */
SEC("tracepoint")
int sa_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	/* the record's __syscall_nr is an int at the offset of id: the rest is padding */
	if (capture_stopped)
		return 0;
	return on_enter((int)ctx->id, ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint")
int sa_sys_close(struct trace_event_raw_sys_enter *ctx)
{
	if (capture_stopped)
		return 0;
	return on_enter(SYS_close, ctx->args[0], 0, 0);
}

SEC("tracepoint")
int sa_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (capture_stopped)
		return 0;
	return on_exit((int)ctx->id, ctx->ret, NULL);
}

/* ---- process lifecycle: follow children, forget the dead ---- */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sa_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct sa_proc_event ev = {};
	__u8 one = 1;

	if (ptgid == ctgid || !is_target(ptgid) || ctgid == targ_self_tgid)
		return 0;
	if (bpf_map_update_elem(&targets, &ctgid, &one, BPF_NOEXIST) == -E2BIG)
		count(SA_CNT_TARGET_FULL, 1);
	else
		target_bit_set(ctgid, true);
	fill_hdr(&ev.hdr, SA_EV_PROC_FORK, bpf_ktime_get_ns(), sizeof(ev));
	ev.hdr.tgid = ctgid;
	ev.hdr.pid = child->pid;
	ev.parent_tgid = ptgid;
	ev.uid = (__u32)bpf_get_current_uid_gid();
	output(&ev, sizeof(ev), 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sa_exit_proc, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct sa_proc_event ev = {};

	if (!is_target(tgid))
		return 0;
	/* signal->live drops to 0 when the last thread of the group exits */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	bpf_map_delete_elem(&targets, &tgid);
	target_bit_set(tgid, false);
	fill_hdr(&ev.hdr, SA_EV_PROC_EXIT, bpf_ktime_get_ns(), sizeof(ev));
	ev.exit_code = p->exit_code;
	output(&ev, sizeof(ev), 0);
	return 0;
}
