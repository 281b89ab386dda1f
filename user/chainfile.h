/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The integrity chain's files on disk: the key file (`sockaudit keygen`),
 * the state file a restart continues from, and the anchor file that
 * checkpoints are appended to for shipping off the host.
 */
#ifndef SOCKAUDIT_CHAINFILE_H
#define SOCKAUDIT_CHAINFILE_H

#include <stdbool.h>
#include <stddef.h>
#include "chain.h"

/* A new key file: 32 random bytes as hex, mode 0600, never over an existing file. */
int chainfile__keygen(const char *path, char *err, size_t errlen);
/*
 * Read a key file: a regular file (not a symlink or FIFO), owned by root or
 * by us, not readable by group or others, 64 hex digits. 0 or -errno + err.
 */
int chainfile__load_key(const char *path, uint8_t key[CHAIN_KEY_LEN], char *err, size_t errlen);

/*
 * Write the state (the log it belongs to, seq, head, current key) to path
 * atomically: a temporary file, fsync when durable, rename. 0 or -errno.
 */
int chainfile__save_state(const char *path, const char *log, const struct chain_state *st,
			  bool durable);
/* 0, -ENOENT (no state file), or -EINVAL (malformed, or for another log). */
int chainfile__load_state(const char *path, const char *log, struct chain_state *st);

/* Append one fsync'ed anchor line: {"ts","file","chain_seq","chain"}. 0 or -errno. */
int chainfile__anchor(const char *path, const char *log, uint64_t seq,
		      const uint8_t mac[CHAIN_MAC_LEN]);

#endif /* SOCKAUDIT_CHAINFILE_H */
