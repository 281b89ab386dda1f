/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Crash recovery of the integrity chain, next to the verifier: it reads
 * the log with the verifier's reader (logset.h) and checks each link with
 * the verifier's check (chain__fits).
 *
 * After a crash the saved chain state lags the log by what was written
 * after its last save. recover__catch_up finds the state's head in the
 * log and re-verifies every later line with the state's key, moving the
 * state to the end: only the holder of that key could have written them,
 * so the chain goes on without a gap.
 */
#ifndef SOCKAUDIT_RECOVER_H
#define SOCKAUDIT_RECOVER_H

#include <stdbool.h>
#include <stdint.h>
#include "chain.h"

/*
 * log: the configured output_file (its rotated LOG.1 or LOG.1.gz is looked
 * at too); fd: the writer's open descriptor of the current file. The head is
 * looked for in the current file, then in the newest rotated one (a crash
 * after a rotation, before the next save), from where the check runs on
 * into the current file. True when st now continues the log; *caught_up
 * gets the records re-verified (0 when false).
 */
bool recover__catch_up(const char *log, int fd, struct chain_state *st, uint64_t *caught_up);

#endif /* SOCKAUDIT_RECOVER_H */
