/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The running collector's state for `sockaudit status`: a flat JSON object
 * written (atomically, mode 0640) to a state file, by default under
 * /run/sockaudit, once a second and at stop. Reading it needs only
 * permission on that file, no root. Kept apart from the collector so a
 * metrics endpoint can serve the same snapshot.
 */
#ifndef SOCKAUDIT_STATUS_H
#define SOCKAUDIT_STATUS_H

#include <stddef.h>
#include <sys/types.h>
#include "format.h"

#define STATUS_DEFAULT_PATH "/run/sockaudit/state.json"

/* The state file's directory, made (0750) and given to uid/gid before privileges go. */
int status__prepare(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen);

/* Replace the state file with the fields, as one JSON object. 0 or -errno. */
int status__write(const char *path, const struct format_field *f, size_t n);

/* `sockaudit status [--state-file PATH] [--json]`: exit status 0, 1 not running, 2 usage. */
int status__main(int argc, char **argv);

#endif /* SOCKAUDIT_STATUS_H */
