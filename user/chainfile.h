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

struct outpath_req;

/*
 * What ties a state file to its chain: a MAC key derived from the key
 * file's key (chainfile__state_key), so a state whose key, head or log was
 * replaced by someone without the key file is refused; and the anchor path,
 * so a restart can tell that an anchor written before has gone.
 */
struct chainfile_seal {
	const uint8_t *mac_key;		/* CHAIN_KEY_LEN bytes */
	const char *anchor;		/* the anchor file's path */
	struct chainfile_saver *saver;	/* repeated saves of one state (NULL: none) */
};

/* What repeated saves of one state file keep open (chainfile.c says why). */
struct chainfile_saver;
struct chainfile_saver *chainfile__saver_new(void);
void chainfile__saver_free(struct chainfile_saver *sv);	/* NULL is fine */

/* The state file's MAC key from the key file's key. 0 or -EIO. */
int chainfile__state_key(const uint8_t key0[CHAIN_KEY_LEN], uint8_t out[CHAIN_KEY_LEN]);

/*
 * Write the state (the log it belongs to, seq, head, current key, whether
 * the anchor held a line, and a MAC over all of it) to at->path
 * atomically: a temporary file created exclusively beside it (outpath.h),
 * fsync when durable, rename. With sl->saver a save that is not durable
 * writes the saver's .tmp inode and exchanges the two names instead, once
 * an ordinary save set it up. 0 or -errno + err.
 */
int chainfile__save_state(const struct outpath_req *at, const char *log,
			  const struct chain_state *st, const struct chainfile_seal *sl,
			  bool durable, char *err, size_t errlen);
/*
 * 0, -ENOENT (no state file), -EINVAL (unreadable: not a state file of this
 * version, or malformed), or -EBADMSG (a state of another log, or its MAC
 * does not match: replaced, edited, or made with another key file). A
 * file that is not a regular file of ours is -EINVAL, logged with the reason,
 * never read.
 * *anchored: the anchor held a line when the state was saved.
 */
int chainfile__load_state(const char *path, const char *log, const struct chainfile_seal *sl,
			  struct chain_state *st, bool *anchored);

/*
 * Append one fsync'ed anchor line {"ts","file","chain_seq","chain"} to
 * at->path, opened through outpath__open. 0 or -errno + err.
 */
int chainfile__anchor(const struct outpath_req *at, const char *log, uint64_t seq,
		      const uint8_t mac[CHAIN_MAC_LEN], char *err, size_t errlen);

#endif /* SOCKAUDIT_CHAINFILE_H */
