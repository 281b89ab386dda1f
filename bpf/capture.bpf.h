/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Kernel-side state and constants of capture.bpf.c (not seen by userspace). */
#ifndef SOCKAUDIT_CAPTURE_BPF_H
#define SOCKAUDIT_CAPTURE_BPF_H

/* x86_64 syscall numbers (vmlinux.h has no uapi macros). */
#define SYS_read	0
#define SYS_write	1
#define SYS_close	3
#define SYS_readv	19
#define SYS_writev	20
#define SYS_sendfile	40
#define SYS_connect	42
#define SYS_accept	43
#define SYS_sendto	44
#define SYS_recvfrom	45
#define SYS_sendmsg	46
#define SYS_recvmsg	47
#define SYS_accept4	288
#define SYS_recvmmsg	299
#define SYS_sendmmsg	307

#define S_IFMT		00170000
#define S_IFSOCK	0140000
#define S_IFIFO		0010000
#define AF_UNIX		1
#define AF_INET		2
#define AF_INET6	10
#define SOCK_STREAM	1
#define MSG_PEEK	2
#define EINPROGRESS	115
#define E2BIG		7

/* What a handled syscall does with its arguments. */
enum sc_kind {
	SC_NONE = 0,
	SC_RECV_FLAT,	/* read, recvfrom: (fd, buf, len) */
	SC_RECV_IOV,	/* readv: (fd, iov, iovcnt) */
	SC_RECV_MSG,	/* recvmsg: (fd, msghdr, flags) */
	SC_RECV_MMSG,	/* recvmmsg: (fd, mmsghdr[], vlen) */
	SC_SEND_FLAT,	/* write, sendto */
	SC_SEND_IOV,	/* writev */
	SC_SEND_MSG,	/* sendmsg */
	SC_SEND_MMSG,	/* sendmmsg */
	SC_SENDFILE,	/* sendfile(out_fd, in_fd, off, count): length only */
	SC_ACCEPT,	/* accept, accept4: the new fd is the return value */
	SC_CONNECT,	/* connect(fd, ...) */
	SC_CLOSE,
};

static __always_inline bool sc_is_recv(int kind)
{
	return kind >= SC_RECV_FLAT && kind <= SC_RECV_MMSG;
}

/*
 * A syscall's arguments, per thread: a send's kept from sys_enter to
 * sys_exit, a receive's read from its saved registers at sys_exit.
 */
struct stash {
	__u64 ts;	/* entry time: the timestamp of a send */
	__u64 id;	/* pid_tgid */
	__u64 buf;	/* buffer, iovec array, msghdr or mmsghdr vector */
	__u64 len;	/* length, iovcnt or vlen */
	__s32 fd;
	__u16 nr;
	__u8 kind;	/* enum sc_kind */
	__u8 dir;	/* enum sa_dir */
};

struct conn_state {
	__u64 file;	/* struct file * the fd pointed at when tracking began */
	__u64 pos[2];	/* bytes so far, per enum sa_dir */
	__u32 gen;
	__u8 role;
	__u8 transport;
	__u16 pad;
};

/* A data syscall being emitted in chunks: the cursor, kept in the per-CPU scratch. */
struct chunk_ctx {
	__u64 ubuf;	/* flat buffer, or the iovec array */
	__u64 iovcnt;	/* 0: flat */
	__u64 iov_skip;	/* bytes of iov[iov_idx] already copied */
	__u64 base;	/* stream position of the syscall's first byte */
	__u32 iov_idx;	/* the iovec the next chunk starts in */
	__u32 len;	/* bytes the syscall moved */
	__u32 want;	/* bytes to capture: len, up to capture_budget */
	__u32 done;	/* bytes of the syscall emitted so far */
	__u8 flags;	/* SA_DATA_F_* of every chunk */
	bool fail;	/* user memory could not be read: the rest is not captured */
	bool stop;	/* the syscall's last event is out (or the ring refused one) */
};

struct scratch {
	__u64 nevents;		/* data events from this CPU (wakeup check cadence) */
	struct chunk_ctx x;
	__u64 mmsg_vec;		/* sendmmsg/recvmmsg: the mmsghdr vector, and */
	__u64 mmsg_rest;	/* the bytes of its messages past SA_MAX_MMSG */
	struct sa_data_event ev;
	/* twice the ceiling so that (off < MAX) + (n <= MAX) stays in bounds */
	__u8 data[2 * SA_MAX_CAPTURE];
};

#endif /* SOCKAUDIT_CAPTURE_BPF_H */
