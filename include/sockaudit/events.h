/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Events shared by bpf/capture.bpf.c and the userspace collector.
 *
 * Fixed-width types only, widest fields first, no pointers: the same bytes
 * are read by the BPF program, by the collector, and from `record` files
 * replayed later (so the layout is also a file format: bump
 * RECFILE_VERSION in user/recfile.h when it changes).
 */
#ifndef SOCKAUDIT_EVENTS_H
#define SOCKAUDIT_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SA_COMM_LEN		16
#define SA_MAX_CAPTURE		32768	/* hard ceiling for max_capture_bytes (power of 2) */
#define SA_DEFAULT_CAPTURE	4096	/* payload bytes per data event (one chunk) */
#define SA_DEFAULT_BUDGET	(1U << 20)	/* payload bytes captured per syscall, in chunks */
#define SA_MAX_BUDGET		(256U << 20)	/* hard ceiling for capture_budget_bytes */
#define SA_MAX_IOV		1024	/* iovecs walked per readv/writev/msg call (UIO_MAXIOV) */
#define SA_MAX_MMSG		8	/* messages emitted per sendmmsg/recvmmsg call */
#define SA_UNIX_PATH_LEN	108
#define SA_TARGET_BITS		(1U << 22)	/* tgids the target bitmap covers: pid_max's 64-bit default */

enum sa_event_type {
	SA_EV_DATA = 1,		/* payload sent or received on a socket */
	SA_EV_CONN_OPEN = 2,	/* accept/connect, or first use of an older socket */
	SA_EV_CONN_CLOSE = 3,	/* close() of a tracked socket */
	SA_EV_PROC_FORK = 4,	/* a target forked: the child is a target too */
	SA_EV_PROC_EXIT = 5,	/* the last thread of a target exited */
};

enum sa_dir {
	SA_DIR_EGRESS = 0,	/* the target sent (write, send*) */
	SA_DIR_INGRESS = 1,	/* the target received (read, recv*) */
};

enum sa_role {
	SA_ROLE_UNKNOWN = 0,	/* socket existed before we saw accept/connect */
	SA_ROLE_SERVER = 1,	/* accepted */
	SA_ROLE_CLIENT = 2,	/* connected */
};

enum sa_transport {
	SA_TRANSPORT_TCP = 1,
	SA_TRANSPORT_UNIX = 2,
	SA_TRANSPORT_PIPE = 3,	/* stdin/stdout of a target (stdio transport): a pipe, or an
				 * unnamed AF_UNIX stream socket (socketpair; local.family
				 * AF_UNIX in its open event) */
};

/* sa_data_event.flags */
#define SA_DATA_F_IOV_TRUNC	0x01	/* more iovecs than SA_MAX_IOV: the rest not captured */
#define SA_DATA_F_LEN_ONLY	0x02	/* sendfile: only the length is known */
#define SA_DATA_F_MMSG_TRUNC	0x04	/* more messages than SA_MAX_MMSG in one call */
#define SA_DATA_F_PIPE		0x08	/* on a stdin/stdout pipe (SA_TRANSPORT_PIPE) */
#define SA_DATA_F_CONT		0x10	/* a later chunk of the same syscall as the event before */

/* Per-CPU loss and activity counters (array map "counters"). */
enum sa_counter {
	SA_CNT_RB_FULL = 0,	/* ring buffer output failed: event lost */
	SA_CNT_RB_FULL_BYTES,	/* payload bytes in those lost data events */
	SA_CNT_STASH_FULL,	/* sys_enter stash update failed */
	SA_CNT_CONN_FULL,	/* connection map full: socket not tracked */
	SA_CNT_TARGET_FULL,	/* target map full: child not followed */
	SA_CNT_READ_FAIL,	/* bpf_probe_read_user failed: payload lost */
	SA_CNT_MMSG_TRUNC,	/* messages past SA_MAX_MMSG not emitted */
	SA_CNT_EVENTS,		/* unused: userspace counts the events it reads */
	SA_CNT_MAX,
};

/* Common header: first in every event. */
struct sa_event_hdr {
	__u64 ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 type;		/* enum sa_event_type */
	__u32 tgid;
	__u32 pid;		/* thread id */
	__u32 size;		/* bytes of the whole event, header included */
	__u8 comm[SA_COMM_LEN];
};

/* Key of the conns map: (tgid, fd); gen (per run) is in the value and in every event. */
struct sa_conn_key {
	__u32 tgid;
	__s32 fd;
};

/*
 * One chunk of a data syscall. A syscall that moved len bytes is emitted as
 * consecutive chunks of up to max_capture bytes, while capture_budget lasts:
 * chunk k has pos = the syscall's position + its offset, and cap_len ==
 * orig_len, except the syscall's last chunk, whose orig_len also covers what
 * was not captured (budget spent, unreadable memory): cap_len < orig_len.
 * A chunk the ring buffer refused is missing, and so is the rest of its
 * syscall: the next event's pos (or the close's totals) is past the
 * expected position by exactly the lost range.
 */
struct sa_data_event {
	struct sa_event_hdr hdr;
	__u64 pos;		/* stream position of byte 0, per direction */
	__u32 gen;
	__s32 fd;
	__u32 orig_len;		/* bytes of the stream this event covers (see above) */
	__u32 cap_len;		/* bytes that follow in data[] */
	__u16 syscall;		/* syscall number (x86_64) */
	__u8 dir;		/* enum sa_dir */
	__u8 flags;		/* SA_DATA_F_* */
	__u32 pad;
	/* __u8 data[cap_len] follows */
};

struct sa_addr {
	__u8 addr[16];		/* IPv4 in the first 4 bytes, or IPv6; AF_UNIX socketpair:
				 * peer.addr's first 8 bytes are the other end's inode */
	__u16 port;		/* host byte order */
	__u16 family;		/* AF_INET, AF_INET6, AF_UNIX */
	__u32 pad;
};

struct sa_conn_event {
	struct sa_event_hdr hdr;
	__u64 inode;		/* socket inode number (ss -e, /proc/PID/fd) */
	__u64 sent;		/* close only: bytes sent / received in total */
	__u64 recv;
	struct sa_addr local;
	struct sa_addr peer;
	__u32 gen;
	__s32 fd;
	__u32 uid;
	__u8 role;		/* enum sa_role */
	__u8 transport;		/* enum sa_transport */
	__u16 pad;
	__u8 unix_path[SA_UNIX_PATH_LEN]; /* AF_UNIX bound path, when any */
};

struct sa_proc_event {
	struct sa_event_hdr hdr;
	__u32 parent_tgid;	/* fork: the target that forked */
	__u32 uid;
	__s32 exit_code;	/* exit: task->exit_code */
	__u32 pad;
};

/*
 * ---- TLS plaintext (bpf/tls.bpf.c: uprobes on OpenSSL's SSL_* calls) ----
 * A TLS stream is keyed by (tgid, SSL*); userspace ties it to its socket
 * (user/tls.c). Same ring buffer and header as the socket events.
 */
#define SA_EV_TLS_DATA		6	/* plaintext an SSL_write/SSL_read call moved */
#define SA_EV_TLS_END		7	/* SSL_shutdown/SSL_free: the stream ends */
#define SA_EV_TLS_CIPHER	8	/* first bytes of ciphertext leaving/entering the library */
#define SA_EV_TLS_MAPPED	9	/* a target mapped an executable file (sa_proc_event; exit_code 1: stopped) */

#define SA_TLS_F_ENTRY		0x01	/* a handshake call begins (no data): the thread is inside it */
/* tls.bpf.c's tls_files map: what userspace found a mapped file to be */
#define SA_TLS_FILE_PLAIN	1	/* no OpenSSL: its mappings need no look */
#define SA_TLS_FILE_PROBED	2	/* OpenSSL: attached per target that maps it (tls_armed) */
#define SA_TLS_FP_LEN		16	/* ciphertext fingerprint bytes (after a record header) */

enum sa_tls_func {
	SA_TLS_FN_WRITE = 1,
	SA_TLS_FN_WRITE_EX,
	SA_TLS_FN_READ,
	SA_TLS_FN_READ_EX,
	SA_TLS_FN_HANDSHAKE,
	SA_TLS_FN_SHUTDOWN,
	SA_TLS_FN_FREE,
	/* uprobe cookies only (tls.bpf.c's entry/return programs dispatch on them) */
	SA_TLS_FN_BIO_WRITE,
	SA_TLS_FN_BIO_READ,
};

/* Plaintext of one SSL call: cap_len < orig_len when the capture was cut. */
struct sa_tls_event {
	struct sa_event_hdr hdr;
	__u64 ssl;		/* the SSL* (per process) */
	__u64 pos;		/* plaintext stream position of byte 0, per direction */
	__u64 enter_ns;		/* when the call began (hdr.ts_ns: when it returned) */
	__u32 orig_len;
	__u32 cap_len;
	__u8 dir;		/* enum sa_dir */
	__u8 func;		/* enum sa_tls_func */
	__u8 flags;		/* SA_TLS_F_* */
	__u8 pad;
	__u32 pad2;
	/* __u8 data[cap_len] follows */
};

struct sa_tls_end_event {
	struct sa_event_hdr hdr;
	__u64 ssl;
	__u64 sent;		/* plaintext bytes so far, per direction */
	__u64 recv;
	__u8 func;		/* SA_TLS_FN_SHUTDOWN or SA_TLS_FN_FREE */
	__u8 pad[7];
};

/*
 * A memory BIO's ciphertext as the library wrote (egress) or read
 * (ingress) it inside an SSL call: fp is the 16 bytes after the TLS record
 * header, found again in the socket's data events to tie the SSL* to it.
 */
struct sa_tls_cipher_event {
	struct sa_event_hdr hdr;
	__u64 ssl;
	__u32 len;		/* bytes of the BIO call */
	__u8 dir;
	__u8 pad[3];
	__u8 fp[SA_TLS_FP_LEN];
};

/*
 * The layout pinned: these bytes are the record-file format and what the
 * BPF program writes, so a change of a type, order or padding fails the
 * build here (in the BPF object and in the collector alike) instead of
 * misreading old recordings. A deliberate change updates these and bumps
 * RECFILE_VERSION.
 */
#define SA_PIN_SIZE(type, n) _Static_assert(sizeof(struct type) == (n), #type " size")
#define SA_PIN(type, member, off) \
	_Static_assert(__builtin_offsetof(struct type, member) == (off), #type "." #member)

SA_PIN_SIZE(sa_event_hdr, 40);
SA_PIN(sa_event_hdr, ts_ns, 0);
SA_PIN(sa_event_hdr, type, 8);
SA_PIN(sa_event_hdr, tgid, 12);
SA_PIN(sa_event_hdr, pid, 16);
SA_PIN(sa_event_hdr, size, 20);
SA_PIN(sa_event_hdr, comm, 24);

SA_PIN_SIZE(sa_conn_key, 8);
SA_PIN(sa_conn_key, tgid, 0);
SA_PIN(sa_conn_key, fd, 4);

SA_PIN_SIZE(sa_data_event, 72);
SA_PIN(sa_data_event, hdr, 0);
SA_PIN(sa_data_event, pos, 40);
SA_PIN(sa_data_event, gen, 48);
SA_PIN(sa_data_event, fd, 52);
SA_PIN(sa_data_event, orig_len, 56);
SA_PIN(sa_data_event, cap_len, 60);
SA_PIN(sa_data_event, syscall, 64);
SA_PIN(sa_data_event, dir, 66);
SA_PIN(sa_data_event, flags, 67);
SA_PIN(sa_data_event, pad, 68);

SA_PIN_SIZE(sa_addr, 24);
SA_PIN(sa_addr, addr, 0);
SA_PIN(sa_addr, port, 16);
SA_PIN(sa_addr, family, 18);
SA_PIN(sa_addr, pad, 20);

SA_PIN_SIZE(sa_conn_event, 240);
SA_PIN(sa_conn_event, hdr, 0);
SA_PIN(sa_conn_event, inode, 40);
SA_PIN(sa_conn_event, sent, 48);
SA_PIN(sa_conn_event, recv, 56);
SA_PIN(sa_conn_event, local, 64);
SA_PIN(sa_conn_event, peer, 88);
SA_PIN(sa_conn_event, gen, 112);
SA_PIN(sa_conn_event, fd, 116);
SA_PIN(sa_conn_event, uid, 120);
SA_PIN(sa_conn_event, role, 124);
SA_PIN(sa_conn_event, transport, 125);
SA_PIN(sa_conn_event, pad, 126);
SA_PIN(sa_conn_event, unix_path, 128);

SA_PIN_SIZE(sa_proc_event, 56);
SA_PIN(sa_proc_event, hdr, 0);
SA_PIN(sa_proc_event, parent_tgid, 40);
SA_PIN(sa_proc_event, uid, 44);
SA_PIN(sa_proc_event, exit_code, 48);
SA_PIN(sa_proc_event, pad, 52);

SA_PIN_SIZE(sa_tls_event, 80);
SA_PIN(sa_tls_event, hdr, 0);
SA_PIN(sa_tls_event, ssl, 40);
SA_PIN(sa_tls_event, pos, 48);
SA_PIN(sa_tls_event, enter_ns, 56);
SA_PIN(sa_tls_event, orig_len, 64);
SA_PIN(sa_tls_event, cap_len, 68);
SA_PIN(sa_tls_event, dir, 72);
SA_PIN(sa_tls_event, func, 73);
SA_PIN(sa_tls_event, flags, 74);
SA_PIN(sa_tls_event, pad, 75);
SA_PIN(sa_tls_event, pad2, 76);

SA_PIN_SIZE(sa_tls_end_event, 72);
SA_PIN(sa_tls_end_event, hdr, 0);
SA_PIN(sa_tls_end_event, ssl, 40);
SA_PIN(sa_tls_end_event, sent, 48);
SA_PIN(sa_tls_end_event, recv, 56);
SA_PIN(sa_tls_end_event, func, 64);
SA_PIN(sa_tls_end_event, pad, 65);

SA_PIN_SIZE(sa_tls_cipher_event, 72);
SA_PIN(sa_tls_cipher_event, hdr, 0);
SA_PIN(sa_tls_cipher_event, ssl, 40);
SA_PIN(sa_tls_cipher_event, len, 48);
SA_PIN(sa_tls_cipher_event, dir, 52);
SA_PIN(sa_tls_cipher_event, pad, 53);
SA_PIN(sa_tls_cipher_event, fp, 56);

#undef SA_PIN
#undef SA_PIN_SIZE

#endif /* SOCKAUDIT_EVENTS_H */
