// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Privileges after attach: keep two capabilities, optionally become a user. */
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include "privs.h"

/*
 * What the running collector still does that needs a capability:
 * CAP_SYS_PTRACE: /proc/PID/exe of targets of other users (process facts in
 *   records, --exe matches at SIGHUP);
 * CAP_DAC_READ_SEARCH: the root-owned 0600 config (and key files) at SIGHUP
 *   once it runs as `user:`.
 * With TLS plaintext on (tlsprobe.c), for OpenSSL that targets load later:
 * CAP_SYS_ADMIN: perf_event_open of a uprobe to attach it (CAP_PERFMON and
 *   CAP_BPF are not enough on this kernel: EACCES, tried);
 * CAP_KILL: SIGCONT to a target (of any user) the kernel stopped at mmap
 *   until its uprobes are in place.
 * Map updates, the ring buffer and detaching use file descriptors already
 * open: no capability.
 */
static cap_value_t kept[4] = { CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_KILL };
static int nkept = 2;	/* 4 once privs__drop was asked to keep the uprobe pair */
#define NKEPT nkept
const char privs_kept_base_text[] = "cap_dac_read_search,cap_sys_ptrace=ep";
const char privs_kept_tls_text[] = "cap_dac_read_search,cap_kill,cap_sys_ptrace,cap_sys_admin=ep";
const char *privs_kept_text = privs_kept_base_text;

static bool is_kept(cap_value_t v)
{
	int i;

	for (i = 0; i < NKEPT; i++)
		if (kept[i] == v)
			return true;
	return false;
}

/* Only this thread exists: a capability set made here covers the whole process. */
static int single_threaded(char *err, size_t errlen)
{
	char line[128];
	int n = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	if (n > 1) {
		snprintf(err, errlen, "cannot drop privileges: %d threads already run (they would "
			 "keep root's capabilities)", n);
		return -EBUSY;
	}
	return 0;
}

static int drop_bounding(char *err, size_t errlen)
{
	cap_value_t v;

	/* up to the kernel's last capability, which libcap's headers may not know */
	for (v = 0; v < (cap_value_t)cap_max_bits(); v++) {
		if (is_kept(v) || !CAP_IS_SUPPORTED(v))
			continue;
		if (cap_drop_bound(v)) {
			snprintf(err, errlen, "cannot drop capability %s from the bounding set: %s",
				 cap_to_name(v), strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* setgroups/setresgid/setresuid with the kept set surviving the uid change. */
static int switch_ids(const struct privs_req *r, char *err, size_t errlen)
{
	if (setgroups(r->ngroups, r->groups)) {
		snprintf(err, errlen, "cannot set the supplementary groups: %s", strerror(errno));
		return -errno;
	}
	if (!r->user)
		return 0;
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) || setresgid(r->gid, r->gid, r->gid) ||
	    setresuid(r->uid, r->uid, r->uid) || prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L)) {
		snprintf(err, errlen, "cannot switch to user %s: %s", r->user, strerror(errno));
		return -errno;
	}
	return 0;
}

static int set_kept(char *err, size_t errlen)
{
	cap_t caps = cap_init();	/* all clear */
	int e = 0;

	if (!caps || cap_set_flag(caps, CAP_PERMITTED, NKEPT, kept, CAP_SET) ||
	    cap_set_flag(caps, CAP_EFFECTIVE, NKEPT, kept, CAP_SET) || cap_set_proc(caps)) {
		e = -errno;
		snprintf(err, errlen, "cannot set the capabilities to %s: %s", privs_kept_text,
			 strerror(errno));
	}
	cap_free(caps);
	return e;
}

int privs__drop(const struct privs_req *r, char *err, size_t errlen)
{
	int e = single_threaded(err, errlen);

	nkept = r->keep_uprobes ? 4 : 2;
	privs_kept_text = r->keep_uprobes ? privs_kept_tls_text : privs_kept_base_text;
	if (!e)
		e = drop_bounding(err, errlen);	/* needs CAP_SETPCAP: first */
	if (!e)
		e = switch_ids(r, err, errlen);
	if (!e)
		e = set_kept(err, errlen);
	if (!e && cap_reset_ambient() && errno != EINVAL) {
		snprintf(err, errlen, "cannot clear the ambient capabilities: %s", strerror(errno));
		e = -errno;
	}
	if (!e && prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L)) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		e = -errno;
	}
	return e;
}

char *privs__effective_text(void)
{
	cap_t caps = cap_get_proc();
	char *t, *out;

	if (!caps)
		return NULL;
	t = cap_to_text(caps, NULL);
	out = t ? strdup(t) : NULL;
	cap_free(t);
	cap_free(caps);
	return out;
}
