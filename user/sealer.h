/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The writer's side of the integrity chain, one object per sink with
 * integrity on (docs/integrity.md): the key file's key until the chain
 * begins, the state and anchor paths, the chain itself, the sealed copy of
 * what is being written, and the checkpoint counters. The sink decides
 * when to write what; this object keeps the chain's state right across
 * failed writes, restarts (resume or gap) and checkpoints.
 *
 * Usage (sink.c):
 *	sealer__open(&sl, cfg, type, err, n);	at sink creation (NULL: integrity off)
 *	why = sealer__resume_check(sl, fd, size, cfg, &st, &anchored);  once set up
 *	sealer__begin(sl, why, &st, now);	then write chain_resume / chain_gap
 *	sealer__seal(sl, &recs, &buf, &len); write; sealer__written(sl, ok);
 *	if ((why = sealer__due(sl, ic, force, now))) ... checkpoint ...; sealer__checkpointed(...)
 */
#ifndef SOCKAUDIT_SEALER_H
#define SOCKAUDIT_SEALER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "chain.h"
#include "config.h"
#include "outpath.h"
#include "recs.h"

struct sealer {
	struct chain *chain;
	char *state_path, *anchor_path;
	struct chainfile_saver *saver;	/* the state's repeated saves (chainfile.h) */
	uint8_t key0[CHAIN_KEY_LEN];	/* the key file's key, erased once the chain began */
	uint8_t state_key[CHAIN_KEY_LEN];	/* MACs the state file (from key0) */
	bool begun;			/* chain_resume or chain_gap is written */
	uint64_t caught_up;		/* records re-verified after a crash at the start */
	bool from_rotated;		/* the log was empty and the chain goes on from LOG.1 */
	char *sealed;			/* the sealed copy of what is being written */
	size_t sealed_cap;
	struct chain_state undo;	/* the state before the last seal, until it is written */
	uint64_t since_ckpt;		/* records since the last checkpoint */
	uint64_t next_ckpt;		/* CLOCK_MONOTONIC ns of the next timed checkpoint */
	bool anchor_failing;		/* the last anchor line could not be written (said once) */
};

/*
 * Load cfg's key and set up the chain (it begins once the output is set
 * up). *out stays NULL when cfg has no key_file. 0, or -errno + err.
 */
int sealer__open(struct sealer **out, const struct sink_config *cfg, const char *type,
		 char *err, size_t errlen);
void sealer__free(struct sealer *sl);	/* the keys erased; NULL is fine */

/*
 * Does the saved state continue the log open at fd (size bytes)? NULL if
 * so (st then holds it, caught up over records written after its save),
 * else why not: a chain_gap reason.
 */
const char *sealer__resume_check(struct sealer *sl, int fd, uint64_t size,
				 const struct sink_config *cfg, struct chain_state *st,
				 bool *anchored);
/* Start the chain: at st (why NULL), or over from the key (a gap). key0 and st erased. */
void sealer__begin(struct sealer *sl, const char *why, struct chain_state *st,
		   uint32_t interval_s, uint64_t now_mono);

/* Seal r into the sealed buffer (*out, *len); the state before is kept until sealer__written. */
int sealer__seal(struct sealer *sl, const struct recs *r, const char **out, size_t *len);
/* The sealed records were written (ok) and count toward a checkpoint, or not: the chain goes back. */
void sealer__written(struct sealer *sl, bool ok);

const struct chain_state *sealer__state(const struct sealer *sl);

/* Save the chain's position at `at` (the state file's checks); durable: fsync'ed. */
int sealer__save(const struct sealer *sl, const struct outpath_req *at, const char *log,
		 bool durable, char *err, size_t errlen);

/* A checkpoint's reason when one is due ("stop" when forced), else NULL. */
const char *sealer__due(const struct sealer *sl, const struct integrity_config *ic, bool force,
			uint64_t now_mono);
/* A checkpoint was written: count again from here. */
void sealer__checkpointed(struct sealer *sl, uint32_t interval_s, uint64_t now_mono);

#endif /* SOCKAUDIT_SEALER_H */
