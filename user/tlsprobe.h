/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TLS library discovery and uprobes (bpf/tls.bpf.c): for each target, the
 * files it maps that carry OpenSSL (a libssl.so*, or an executable that
 * exports SSL_write) are found in /proc/PID/maps and their .dynsym (each
 * file, by device and inode, read once). The uprobes are per target
 * process: two uprobe_multi links (entry, return) for each (file, process),
 * so the kernel puts breakpoints in audited processes only; they go when
 * the process exits. Children of a process with links are held stopped by
 * the kernel side until theirs are attached.
 */
#ifndef SOCKAUDIT_TLSPROBE_H
#define SOCKAUDIT_TLSPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture;
struct tlsprobe;

/* Load bpf/tls.bpf.c on capture's ring buffer and targets. 0 or -errno (logged). */
int tlsprobe__open(struct tlsprobe **out, struct capture *cap, uint32_t max_capture);
/* Stop at once (a flag the programs check); the links go in tlsprobe__close. */
void tlsprobe__stop(struct tlsprobe *t);
void tlsprobe__close(struct tlsprobe *t);

/* Look at tgid's mappings now (a new target, or one that mapped code). */
void tlsprobe__scan(struct tlsprobe *t, uint32_t tgid);
/* Every target in capture's map (after they were added). */
void tlsprobe__scan_all(struct tlsprobe *t);
/*
 * Ring events it acts on: a target mapped code (scanned at once, then
 * continued if the kernel stopped it; t may be NULL after close: then it
 * is only continued), forked, exited.
 */
void tlsprobe__event(struct tlsprobe *t, const void *data, size_t size);

/*
 * Close the links of processes that exited without an exit event reaching
 * us (lost in a full ring buffer). Called on the collector's tick; looks
 * once per TLSPROBE_SWEEP_NS.
 */
#define TLSPROBE_SWEEP_NS 2000000000ULL
void tlsprobe__sweep(struct tlsprobe *t, uint64_t now_ns);
/* Processes whose links the sweep closed (tls_links_swept in collector_stop). */
uint64_t tlsprobe__swept(const struct tlsprobe *t);

/* Files with links now, and files that had links over the run (tests, stop record). */
uint32_t tlsprobe__attached(const struct tlsprobe *t);
uint32_t tlsprobe__attached_total(const struct tlsprobe *t);

#endif /* SOCKAUDIT_TLSPROBE_H */
