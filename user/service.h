/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `run` as a system service: the target selectors of the command line and
 * the config merged and resolved, privileges given up after attach, and
 * systemd told (sd_notify) when capture is attached, reloading, stopping.
 */
#ifndef SOCKAUDIT_SERVICE_H
#define SOCKAUDIT_SERVICE_H

#include <stdbool.h>

#include <stddef.h>
#include "collector.h"
#include "targets.h"

/* Exit status of a configuration error (RestartPreventExitStatus= in the unit). */
#define SERVICE_EXIT_CONFIG 2

/* --pid values and --cgroup/--unit/--exe appended to out (not resolved). */
int service__cli_targets(struct target_set *out, const struct collector_opts *o, char *err,
			 size_t errlen);
/* The same, then cfg's `targets:`, all resolved. */
int service__targets(struct target_set *out, const struct collector_opts *o,
		     const struct config *cfg, char *err, size_t errlen);

/* `user:`/`group:` exist (checked before anything is loaded). 0, or -ENOENT and err. */
int service__check_ids(const struct config *cfg, char *err, size_t errlen);

/*
 * After attach, before any thread: the state file's directory given to the
 * service user, then privileges dropped (privs.h) with the sinks' log
 * groups as supplementary groups; tls: what later uprobes need is kept.
 * 0, or -errno with one line in err.
 */
int service__drop_privileges(const struct config *cfg, const char *state_file, bool tls,
			     char *err, size_t errlen);

/* sd_notify: READY=1 (capture attached), RELOADING=1, STOPPING=1; no-op outside systemd. */
void service__notify(const char *state);

#endif /* SOCKAUDIT_SERVICE_H */
