// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Crash recovery of the integrity chain (recover.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "logset.h"
#include "outpath.h"
#include "recover.h"

struct catch_up {
	struct chain_crypto *cc;
	struct chain_state *st;
	uint64_t n;		/* lines re-verified after the head */
	bool found;		/* the state's head was seen */
	bool ok;		/* every line after it continued the chain */
};

/* Lines before the state's head are skipped (even from before integrity was on); every later one must follow. */
static void catch_line(struct catch_up *cx, const char *line, size_t len)
{
	struct chain_state *st = cx->st;
	struct chain_line cl;
	bool sealed = !chain__split(line, len, &cl);

	if (!cx->found) {
		cx->found = sealed && !memcmp(cl.mac, st->head, CHAIN_MAC_LEN);
		return;
	}
	if (!sealed || !chain__fits(cx->cc, st->key, st->head, st->seq, &cl) ||
	    chain__evolve(cx->cc, st->key)) {
		cx->ok = false;
		return;
	}
	memcpy(st->head, cl.mac, CHAIN_MAC_LEN);
	st->seq++;
	cx->n++;
}

/* The files of fds (oldest first), read as one stream through their /proc/self/fd names. */
static void catch_files(struct catch_up *cx, const int *fds, int n)
{
	char names[2][32], *paths[2];
	struct logset_reader r;
	const char *line;
	size_t len;
	bool first;
	int i, e = 0;

	for (i = 0; i < n; i++) {
		/* the same inode with an offset of its own (the writer's fd appends) */
		snprintf(names[i], sizeof(names[i]), "/proc/self/fd/%d", fds[i]);
		paths[i] = names[i];
	}
	if (logset__init(&r, paths, n)) {
		cx->ok = false;
		return;
	}
	while (cx->ok && (e = logset__next_record(&r, &line, &len, &first)) > 0)
		catch_line(cx, line, len);
	if (e < 0)
		cx->ok = false;
	logset__close(&r);
}

/* LOG.1, else LOG.1.gz, opened as a name beside the log: never a FIFO (a hang) or a link to follow. */
static int open_rotated(const char *log)
{
	char path[4200], err[512];
	int fd;

	logset__name(path, sizeof(path), log, 1, false);
	if (access(path, F_OK))
		logset__name(path, sizeof(path), log, 1, true);
	fd = outpath__open_read(AT_FDCWD, path, path, err, sizeof(err));
	if (fd < 0 && fd != -ENOENT)
		log_warn("audit log %s: %s", log, err);
	return fd;
}

bool recover__catch_up(const char *log, int fd, struct chain_state *st, uint64_t *caught_up)
{
	struct catch_up cx = { .cc = chain_crypto__new(), .st = st, .ok = true };
	int both[2];

	*caught_up = 0;
	if (!cx.cc)
		return false;
	catch_files(&cx, &fd, 1);
	if (!cx.found) {
		both[0] = open_rotated(log);
		both[1] = fd;
		if (both[0] >= 0) {
			cx.ok = true;
			cx.n = 0;
			catch_files(&cx, both, 2);
			close(both[0]);
		}
	}
	chain_crypto__free(cx.cc);
	if (!cx.found || !cx.ok)
		return false;
	*caught_up = cx.n;
	return true;
}
