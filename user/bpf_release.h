/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A stop that does not wait for the kernel to release the BPF links one
 * grace period after the other: a child holds them until the collector
 * has exited (bpf_release.c says why and how).
 */
#ifndef SOCKAUDIT_BPF_RELEASE_H
#define SOCKAUDIT_BPF_RELEASE_H

/*
 * Call once capture and TLS are flagged stopped, before their objects are
 * closed: the closes that follow return at once, and the child drops the
 * last references after this process exits. On failure nothing changes.
 */
void bpf_release__in_background(void);

#endif /* SOCKAUDIT_BPF_RELEASE_H */
