/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Privileges after attach: `run` loads and attaches the BPF programs with
 * root's capabilities, then keeps only what the running collector uses
 * (docs/threat-model.md) and, with `user:`/`group:`, becomes that user.
 * Capabilities are per thread: this runs before any thread is started, so
 * every later thread (writers, compressors, reload) inherits the small set.
 */
#ifndef SOCKAUDIT_PRIVS_H
#define SOCKAUDIT_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PRIVS_MAX_GROUPS 16

struct privs_req {
	const char *user;	/* NULL: stay uid 0; else become uid/gid */
	uid_t uid;
	gid_t gid;
	gid_t groups[PRIVS_MAX_GROUPS];	/* supplementary: the sinks' log_group */
	int ngroups;
	bool keep_uprobes;	/* TLS on: CAP_SYS_ADMIN and CAP_KILL too (privs.c says why) */
};

/* The capabilities kept, as cap_to_text writes them ("cap_...=ep"). */
extern const char *privs_kept_text;

/*
 * Drop to the kept capabilities (permitted and effective; inheritable,
 * ambient and the bounding set emptied of the rest), set no_new_privs and
 * switch user/group when asked. 0, or -errno with one line in err.
 */
int privs__drop(const struct privs_req *r, char *err, size_t errlen);

/* The current thread's effective set as text (free()), or NULL. */
char *privs__effective_text(void);

#endif /* SOCKAUDIT_PRIVS_H */
