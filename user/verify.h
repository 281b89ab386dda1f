/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `sockaudit verify [--key FILE] [--anchor FILE] [--allow-gaps] LOG...`:
 * walk each rotated set (LOG.N .. LOG.1 LOG, .gz or not) in order, one
 * line at a time, and recompute the chain (docs/integrity.md). Exit 0
 * clean, 1 tampered (the first bad record as file:line and what is wrong),
 * 2 usage or unreadable input.
 */
#ifndef SOCKAUDIT_VERIFY_H
#define SOCKAUDIT_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VERIFY_OK	0
#define VERIFY_BAD	1
#define VERIFY_USAGE	2

/* What a writer record says about the chain (verify's line parser). */
enum verify_ctl { CTL_NONE = 0, CTL_ROTATE, CTL_RESUME, CTL_GAP, CTL_CHECKPOINT,
		  CTL_ANCHOR_MISSING };

struct verify_ctl_info {
	enum verify_ctl type;
	bool has_pos;			/* chain_seq and prev_chain were present and valid */
	uint64_t seq;
	uint8_t prev[32];
	char reason[32];		/* chain_gap's reason */
};

/* Parse a record body (the line minus its chain field). Never fails: CTL_NONE. */
void verify__parse_ctl(const char *body, size_t len, struct verify_ctl_info *out);

/* Parse one anchor line; 0 or -EINVAL. */
int verify__parse_anchor(const char *line, size_t len, uint64_t *seq, uint8_t mac[32]);

/*
 * One log's rotated set checked as `verify --key KEY LOG` does (no key: links
 * only), its verdict lines written to out. VERIFY_OK, _BAD or _USAGE.
 */
int verify__set(const char *key_file, const char *log, FILE *out);

/* The subcommand: argv[0] is "verify". Returns the exit status. */
int verify__main(int argc, char **argv);

#endif /* SOCKAUDIT_VERIFY_H */
