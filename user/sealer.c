// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The writer's side of the integrity chain (sealer.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "chainfile.h"
#include "logset.h"
#include "recover.h"
#include "sealer.h"

static int open_chain(struct sealer *sl, const struct sink_config *cfg, const char *type,
		      char *err, size_t errlen)
{
	const struct integrity_config *ic = &cfg->integrity;
	struct chain_state zero = { 0 };
	enum chain_fmt fmt;
	int e;

	if (chain__fmt_from_type(type, &fmt)) {
		snprintf(err, errlen, "audit log %s: no integrity chain for type '%s'",
			 cfg->output_file, cfg->type);
		return -EINVAL;
	}
	e = chainfile__load_key(ic->key_file, sl->key0, err, errlen);
	if (e)
		return e;
	if (chainfile__state_key(sl->key0, sl->state_key)) {
		snprintf(err, errlen, "audit log %s: cannot derive the chain state's key "
			 "(libcrypto without HMAC-SHA256)", cfg->output_file);
		return -EIO;
	}
	sl->state_path = outpath__beside(cfg->output_file, cfg->base_directory, ic->state_file, ".chain");
	sl->anchor_path = outpath__beside(cfg->output_file, cfg->base_directory, ic->anchor_file,
					  ".anchor");
	sl->chain = chain__new(fmt, &zero);
	sl->saver = chainfile__saver_new();
	if (!sl->state_path || !sl->anchor_path || !sl->chain || !sl->saver) {
		snprintf(err, errlen, "audit log %s: cannot set up its integrity chain (no "
			 "memory, or libcrypto without HMAC-SHA256)", cfg->output_file);
		return -ENOMEM;
	}
	return 0;
}

int sealer__open(struct sealer **out, const struct sink_config *cfg, const char *type,
		 char *err, size_t errlen)
{
	struct sealer *sl;
	int e;

	*out = NULL;
	if (!cfg->integrity.key_file)
		return 0;
	sl = calloc(1, sizeof(*sl));
	if (!sl) {
		snprintf(err, errlen, "audit log %s: no memory for its integrity chain",
			 cfg->output_file);
		return -ENOMEM;
	}
	e = open_chain(sl, cfg, type, err, errlen);
	if (e) {
		sealer__free(sl);
		return e;
	}
	*out = sl;
	return 0;
}

void sealer__free(struct sealer *sl)
{
	if (!sl)
		return;
	chain__free(sl->chain);
	chainfile__saver_free(sl->saver);
	free(sl->state_path);
	free(sl->anchor_path);
	free(sl->sealed);
	OPENSSL_cleanse(sl, sizeof(*sl));	/* key0, state_key, undo's key */
	free(sl);
}

/*
 * The last whole line of the file open at fd (the previous run's last
 * record), NUL-terminated in a malloc'ed buffer; NULL when the file is empty.
 */
static char *last_line(int fd, uint64_t size, size_t max_line, size_t *len)
{
	size_t cap = max_line + CHAIN_OVERHEAD + 2;
	uint64_t from;
	char self[64], *buf, *nl;
	ssize_t n;
	int rfd;

	if (!size || !(buf = malloc(cap + 1)))
		return NULL;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	rfd = open(self, O_RDONLY | O_CLOEXEC);
	from = size > cap ? size - cap : 0;
	n = rfd < 0 ? -1 : pread(rfd, buf, size - from, from);
	if (rfd >= 0)
		close(rfd);
	if (n <= 0 || buf[n - 1] != '\n') {
		free(buf);
		return NULL;
	}
	buf[--n] = '\0';
	nl = memrchr(buf, '\n', n);
	*len = nl ? (size_t)(n - (nl + 1 - buf)) : (size_t)n;
	memmove(buf, nl ? nl + 1 : buf, *len + 1);
	return buf;
}

static bool rotated_exists(const char *log)
{
	char p[4200];

	logset__name(p, sizeof(p), log, 1, false);
	if (!access(p, F_OK))
		return true;
	logset__name(p, sizeof(p), log, 1, true);
	return !access(p, F_OK);
}

const char *sealer__resume_check(struct sealer *sl, int fd, uint64_t size,
				 const struct sink_config *cfg, struct chain_state *st,
				 bool *anchored)
{
	const char *log = cfg->output_file, *why = NULL;
	struct chain_line cl;
	size_t len = 0;
	char *last = last_line(fd, size, cfg->max_message_length, &len);
	int e = chainfile__load_state(sl->state_path, log,
				      &(struct chainfile_seal){ sl->state_key, sl->anchor_path, NULL },
				      st, anchored);

	sl->caught_up = 0;
	sl->from_rotated = false;
	if (last && chain__is_header(last, len)) {
		free(last);	/* a csv file with only its header: no record yet */
		last = NULL;
	}
	if (e == -ENOENT)
		why = !last && !rotated_exists(log) ? "first_start" : "state_missing";
	else if (e == -EBADMSG)
		why = "state_mismatch";	/* another log's, or not made with this key file */
	else if (e)
		why = "state_unreadable";
	else if (!last) {
		/* empty: killed after a rotation, before the first record of the new file */
		if (recover__catch_up(log, fd, st, &sl->caught_up))
			sl->from_rotated = true;	/* the new file gets the rotate record now */
		else
			why = "log_missing";	/* and the state's head is not in LOG.1 either */
	} else if ((chain__split(last, len, &cl) || memcmp(cl.mac, st->head, CHAIN_MAC_LEN)) &&
		   !recover__catch_up(log, fd, st, &sl->caught_up)) {
		why = "state_mismatch";	/* the state's head is not there, or an edit after it */
	}
	free(last);
	return why;
}

void sealer__begin(struct sealer *sl, const char *why, struct chain_state *st,
		   uint32_t interval_s, uint64_t now_mono)
{
	if (why)
		chain__reset(sl->chain, sl->key0);
	else
		chain__restore(sl->chain, st);
	OPENSSL_cleanse(st, sizeof(*st));
	OPENSSL_cleanse(sl->key0, sizeof(sl->key0));	/* forward security from here on */
	sl->begun = true;
	sl->since_ckpt = 0;
	sl->next_ckpt = now_mono + interval_s * 1000000000ULL;
}

int sealer__seal(struct sealer *sl, const struct recs *r, const char **out, size_t *len)
{
	int e;

	chain__save(sl->chain, &sl->undo);
	e = chain__seal_recs(sl->chain, r, &sl->sealed, &sl->sealed_cap, len);
	*out = sl->sealed;
	return e;
}

void sealer__written(struct sealer *sl, bool ok)
{
	if (!ok) {
		chain__restore(sl->chain, &sl->undo);	/* erases undo */
		return;
	}
	sl->since_ckpt += chain__state(sl->chain)->seq - sl->undo.seq;
	OPENSSL_cleanse(&sl->undo, sizeof(sl->undo));	/* holds an older key */
}

const struct chain_state *sealer__state(const struct sealer *sl)
{
	return chain__state(sl->chain);
}

int sealer__save(const struct sealer *sl, const struct outpath_req *at, const char *log,
		 bool durable, char *err, size_t errlen)
{
	return chainfile__save_state(at, log, chain__state(sl->chain),
				     &(struct chainfile_seal){ sl->state_key, sl->anchor_path,
							       sl->saver },
				     durable, err, errlen);
}

const char *sealer__due(const struct sealer *sl, const struct integrity_config *ic, bool force,
			uint64_t now_mono)
{
	if (!sl->begun || !sl->since_ckpt)
		return NULL;
	if (force)
		return "stop";
	if (ic->checkpoint_every && sl->since_ckpt >= ic->checkpoint_every)
		return "records";
	if (ic->checkpoint_interval_s && now_mono >= sl->next_ckpt)
		return "interval";
	return NULL;
}

void sealer__checkpointed(struct sealer *sl, uint32_t interval_s, uint64_t now_mono)
{
	sl->since_ckpt = 0;
	if (interval_s)
		sl->next_ckpt = now_mono + interval_s * 1000000000ULL;
}
