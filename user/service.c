// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* run as a system service: selectors, privileges after attach, sd_notify. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include "log.h"
#include "privs.h"
#include "service.h"
#include "status.h"

int service__cli_targets(struct target_set *out, const struct collector_opts *o, char *err,
			 size_t errlen)
{
	char pid[16];
	int i, e = 0;

	for (i = 0; i < o->npids && !e; i++) {
		snprintf(pid, sizeof(pid), "%d", (int)o->pids[i]);
		e = targets__add(out, SEL_PID, pid, err, errlen);
	}
	return e ? e : targets__merge(out, &o->targets, err, errlen);
}

int service__targets(struct target_set *out, const struct collector_opts *o,
		     const struct config *cfg, char *err, size_t errlen)
{
	int e = service__cli_targets(out, o, err, errlen);

	if (!e && cfg)
		e = targets__merge(out, &cfg->targets, err, errlen);
	return e ? e : targets__resolve(out, err, errlen);
}

/* The sinks' log groups: kept as supplementary groups, so new files still get them. */
static void log_groups(const struct config *cfg, struct privs_req *r)
{
	int i, j;

	for (i = 0; cfg && i < cfg->n_sinks; i++) {
		gid_t g = cfg->sinks[i].gid;

		if (!cfg->sinks[i].log_group)
			continue;
		for (j = 0; j < r->ngroups && r->groups[j] != g; j++)
			;
		if (j == r->ngroups && r->ngroups < PRIVS_MAX_GROUPS)
			r->groups[r->ngroups++] = g;
	}
}

/* uid/gid the collector will run as (for the state directory's owner). */
static int service_ids(const struct config *cfg, uid_t *uid, gid_t *gid, char *err,
		       size_t errlen)
{
	struct passwd *pw;
	struct group *gr;

	*uid = 0;
	*gid = 0;
	if (!cfg || !cfg->user)
		return 0;
	if (!(pw = getpwnam(cfg->user))) {
		snprintf(err, errlen, "user '%s' does not exist; create it (useradd --system %s) "
			 "or change `user:`", cfg->user, cfg->user);
		return -ENOENT;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (!cfg->group)
		return 0;
	if (!(gr = getgrnam(cfg->group))) {
		snprintf(err, errlen, "group '%s' does not exist; create it or change `group:`",
			 cfg->group);
		return -ENOENT;
	}
	*gid = gr->gr_gid;
	return 0;
}

int service__check_ids(const struct config *cfg, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;

	return service_ids(cfg, &uid, &gid, err, errlen);
}

int service__drop_privileges(const struct config *cfg, const char *state_file, bool tls,
			     char *err, size_t errlen)
{
	struct privs_req r = { .user = cfg ? cfg->user : NULL, .keep_uprobes = tls };
	int e = service_ids(cfg, &r.uid, &r.gid, err, errlen);

	if (!e && state_file)
		e = status__prepare(state_file, r.uid, r.gid, err, errlen);
	if (e)
		return e;
	log_groups(cfg, &r);
	return privs__drop(&r, err, errlen);
}

void service__notify(const char *state)
{
	int e = sd_notify(0, state);

	if (e < 0)
		log_warn("cannot tell systemd %s: %s", state, strerror(-e));
}
