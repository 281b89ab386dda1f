// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Key, state and anchor files of the integrity chain (chainfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "chainfile.h"
#include "format_json.h"
#include "json.h"
#include "log.h"
#include "outpath.h"

#define STATE_MAGIC	"sockaudit-chain-state 2"	/* 2: anchored and mac lines */
#define STATE_KEY_LABEL	"sockaudit-state-mac-v1"
#define STATE_MAX	8192

/* All of buf to fd, EINTR and short writes retried. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		len -= w;
	}
	return 0;
}

int chainfile__keygen(const char *path, char *err, size_t errlen)
{
	uint8_t key[CHAIN_KEY_LEN];
	char hex[CHAIN_HEX_LEN + 2];
	int fd, e;

	if (RAND_bytes(key, sizeof(key)) != 1) {
		snprintf(err, errlen, "no random bytes from libcrypto (RAND_bytes); check the "
			 "system's entropy source");
		return -EIO;
	}
	chain__hex(key, sizeof(key), hex);
	OPENSSL_cleanse(key, sizeof(key));
	hex[CHAIN_HEX_LEN] = '\n';
	/* O_EXCL: an existing key may be the only copy that verifies old logs */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "key file %s: %s%s", path, strerror(-e),
			 e == -EEXIST ? "; refusing to overwrite a key (move it away first)" : "");
		goto out;
	}
	e = write_all(fd, hex, CHAIN_HEX_LEN + 1);
	if (!e && fsync(fd))
		e = -errno;
	close(fd);
	if (e) {
		unlink(path);
		snprintf(err, errlen, "key file %s: write failed: %s", path, strerror(-e));
	}
out:
	OPENSSL_cleanse(hex, sizeof(hex));
	return e;
}

/* Up to cap-1 bytes of a regular file opened without following a symlink. */
static ssize_t read_small(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		n += r;
	}
	buf[n] = '\0';
	return n;
}

/* "user alice (uid 1000)" or "uid 1000" for messages. */
static void owner_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, len, "user %s (uid %u)", pw->pw_name, (unsigned)uid);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

/*
 * The key must be a regular file that only its reader (or root) owns and
 * can read: another owner could read it or swap it at any time.
 */
static int check_key_fd(int fd, const char *path, char *err, size_t errlen)
{
	char owner[64];
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file %s is not a regular file; give the file "
			 "`sockaudit keygen` wrote", path);
		return -EINVAL;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		owner_name(st.st_uid, owner, sizeof(owner));
		snprintf(err, errlen, "key file %s is owned by %s, who can read or replace it; "
			 "chown root it (or make a new key with `sockaudit keygen`)", path, owner);
		return -EPERM;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "key file %s has mode %04o: readable by others; "
			 "chmod 600 it", path, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* O_NONBLOCK: a FIFO planted at the name must not hang the open. */
static int open_key(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int e = -errno;

	if (fd >= 0)
		return fd;
	if (e == -ELOOP)
		snprintf(err, errlen, "key file %s is a symbolic link; give the key file itself",
			 path);
	else
		snprintf(err, errlen, "key file %s: %s; create it with `sockaudit keygen %s`",
			 path, strerror(-e), path);
	return e;
}

int chainfile__load_key(const char *path, uint8_t key[CHAIN_KEY_LEN], char *err, size_t errlen)
{
	char buf[CHAIN_HEX_LEN + 8];
	ssize_t n;
	int fd, e;

	fd = open_key(path, err, errlen);
	if (fd < 0)
		return fd;
	e = check_key_fd(fd, path, err, errlen);
	n = e ? 0 : read_small(fd, buf, sizeof(buf));
	close(fd);
	if (e)
		return e;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	e = n < 0 ? (int)n : chain__unhex(buf, n, key, CHAIN_KEY_LEN);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (e)
		snprintf(err, errlen, "key file %s does not hold 64 lower-case hex digits; "
			 "give the file `sockaudit keygen` wrote", path);
	return e;
}

/* ---- state ---- */

int chainfile__state_key(const uint8_t key0[CHAIN_KEY_LEN], uint8_t out[CHAIN_KEY_LEN])
{
	size_t n = 0;

	/* a key of its own: the chain's keys evolve from key0 by another label */
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key0, CHAIN_KEY_LEN,
		       (const unsigned char *)STATE_KEY_LABEL, sizeof(STATE_KEY_LABEL),
		       out, CHAIN_KEY_LEN, &n) || n != CHAIN_KEY_LEN)
		return -EIO;
	return 0;
}

/* HMAC-SHA256 of text[0..n) with the state key, as hex. 0 or -EIO. */
static int state_mac(const struct chainfile_seal *sl, const char *text, size_t n,
		     char hex[CHAIN_HEX_LEN + 1])
{
	uint8_t mac[CHAIN_MAC_LEN];
	size_t got = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, sl->mac_key, CHAIN_KEY_LEN,
		       (const unsigned char *)text, n, mac, sizeof(mac), &got) ||
	    got != CHAIN_MAC_LEN)
		return -EIO;
	chain__hex(mac, CHAIN_MAC_LEN, hex);
	return 0;
}

/* An anchor that holds at least one line (a checkpoint was anchored). */
static bool anchor_written(const char *path)
{
	struct stat st;

	return path && !lstat(path, &st) && S_ISREG(st.st_mode) && st.st_size > 0;
}

static int format_state(char *buf, size_t cap, const char *log, const struct chain_state *st,
			const struct chainfile_seal *sl)
{
	char head[CHAIN_HEX_LEN + 1], key[CHAIN_HEX_LEN + 1], mac[CHAIN_HEX_LEN + 1];
	int n, m;

	chain__hex(st->head, CHAIN_MAC_LEN, head);
	chain__hex(st->key, CHAIN_KEY_LEN, key);
	n = snprintf(buf, cap, STATE_MAGIC "\nfile %s\nseq %" PRIu64 "\nhead %s\nkey %s\n"
		     "anchored %d\n", log, st->seq, head, key, anchor_written(sl->anchor));
	OPENSSL_cleanse(key, sizeof(key));
	if (n <= 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	if (state_mac(sl, buf, n, mac))
		return -EIO;
	m = snprintf(buf + n, cap - n, "mac %s\n", mac);
	return m > 0 && (size_t)m < cap - n ? n + m : -ENAMETOOLONG;
}

/*
 * Write buf to a fresh tmp beside the state in dfd and rename it over the
 * state; *kept (when given) gets the new state's fd, open.
 */
static int replace_state(int dfd, const char *leaf, const struct outpath_req *at,
			 const char *buf, int n, bool durable, int *kept, char *err, size_t errlen)
{
	struct outpath_req tr = *at;
	char tleaf[NAME_MAX + 1], tpath[4200];
	int fd, e;

	if (snprintf(tleaf, sizeof(tleaf), "%s.tmp", leaf) >= (int)sizeof(tleaf) ||
	    snprintf(tpath, sizeof(tpath), "%s.tmp", at->path) >= (int)sizeof(tpath))
		return -ENAMETOOLONG;
	tr.path = tpath;
	tr.how = OUTPATH_NEW;
	/* a fresh file: a name planted there is only a name, never written through */
	unlinkat(dfd, tleaf, 0);
	fd = outpath__openat(dfd, tleaf, &tr, err, errlen);
	if (fd < 0)
		return fd;
	e = write_all(fd, buf, n);
	if (!e && durable && fsync(fd))
		e = -errno;
	if (kept && !e)
		*kept = fd;
	else if (close(fd) && !e)
		e = -errno;
	/* rename: readers see the old state or the new, never half */
	if (!e && renameat(dfd, tleaf, dfd, leaf))
		e = -errno;
	if (e) {
		unlinkat(dfd, tleaf, 0);
		snprintf(err, errlen, "cannot write chain state %s: %s", at->path, strerror(-e));
	}
	return e;
}

/*
 * The writer saves the state after every fdatasync. A rename over the old
 * state freed the old inode each time (a truncate, and a discard on a
 * file system mounted with it) and made ext4 allocate and flush the new
 * one first: a tenth of the CPU of a replay with integrity on. The saver
 * keeps two inodes of its own instead, one named LEAF and one LEAF.tmp:
 * the new state is written into the .tmp one and the two names exchanged
 * (renameat2 RENAME_EXCHANGE), so a reader still finds the old state or
 * the new one whole, and nothing is freed or allocated. It is set up by a
 * save the ordinary way; any surprise (a name that is no longer the inode
 * it kept, a file system without the exchange) sends the save the
 * ordinary way again.
 */
struct chainfile_saver {
	int dfd;			/* the state's directory; -1: not set up */
	int fd[2];			/* [0] named LEAF.tmp, [1] named LEAF */
	ino_t ino[2];
	int len[2];			/* bytes written in each (the .tmp one's are zeros) */
	dev_t dev;
	bool no_exchange;		/* the file system has no RENAME_EXCHANGE: saves go the ordinary way */
	char leaf[NAME_MAX + 1], tleaf[NAME_MAX + 1];
};

/* LEAF.tmp is still the saver's spare inode, with no other name. */
static bool spare_named(const struct chainfile_saver *sv)
{
	struct stat st;

	return !fstatat(sv->dfd, sv->tleaf, &st, AT_SYMLINK_NOFOLLOW) && st.st_dev == sv->dev &&
	       st.st_ino == sv->ino[0] && st.st_nlink == 1;
}

struct chainfile_saver *chainfile__saver_new(void)
{
	struct chainfile_saver *sv = calloc(1, sizeof(*sv));

	if (sv)
		sv->dfd = sv->fd[0] = sv->fd[1] = -1;
	return sv;
}

/* Closed; its spare (zeros) unlinked while it still bears the name. */
static void saver_reset(struct chainfile_saver *sv)
{
	int i;

	if (!sv)
		return;
	if (sv->dfd >= 0 && sv->fd[0] >= 0 && spare_named(sv))
		unlinkat(sv->dfd, sv->tleaf, 0);
	for (i = 0; i < 2; i++) {
		if (sv->fd[i] >= 0)
			close(sv->fd[i]);
		sv->fd[i] = -1;
	}
	if (sv->dfd >= 0)
		close(sv->dfd);
	sv->dfd = -1;
}

void chainfile__saver_free(struct chainfile_saver *sv)
{
	saver_reset(sv);
	free(sv);
}

/*
 * After an ordinary save into dfd/leaf (state_fd: the new state, open):
 * a fresh LEAF.tmp of ours beside it, and both kept. Takes dfd and
 * state_fd either way.
 */
static void saver_setup(struct chainfile_saver *sv, int dfd, const char *leaf, int state_fd,
			const struct outpath_req *at)
{
	struct outpath_req tr = *at;
	char tpath[4200], err[512];
	struct stat st[2];

	sv->dfd = dfd;
	sv->fd[1] = state_fd;
	if (snprintf(sv->leaf, sizeof(sv->leaf), "%s", leaf) >= (int)sizeof(sv->leaf) ||
	    snprintf(sv->tleaf, sizeof(sv->tleaf), "%s.tmp", leaf) >= (int)sizeof(sv->tleaf) ||
	    snprintf(tpath, sizeof(tpath), "%s.tmp", at->path) >= (int)sizeof(tpath))
		goto out;
	tr.path = tpath;
	tr.how = OUTPATH_NEW;
	unlinkat(dfd, sv->tleaf, 0);
	sv->fd[0] = outpath__openat(dfd, sv->tleaf, &tr, err, sizeof(err));
	if (sv->fd[0] < 0 || fstat(sv->fd[0], &st[0]) || fstat(sv->fd[1], &st[1]))
		goto out;
	sv->ino[0] = st[0].st_ino;
	sv->ino[1] = st[1].st_ino;
	sv->len[0] = 0;
	sv->len[1] = (int)st[1].st_size;
	sv->dev = st[0].st_dev;
	return;
out:
	saver_reset(sv);	/* the next save goes the ordinary way */
}

static void saver_swap(struct chainfile_saver *sv)
{
	int fd = sv->fd[0], len = sv->len[0];
	ino_t ino = sv->ino[0];

	sv->fd[0] = sv->fd[1], sv->ino[0] = sv->ino[1], sv->len[0] = sv->len[1];
	sv->fd[1] = fd, sv->ino[1] = ino, sv->len[1] = len;
}

/* The state in buf through the saver; nonzero: it was not saved (buf not yet the state). */
static int saver_save(struct chainfile_saver *sv, const char *buf, int n)
{
	static const char zeros[STATE_MAX];

	if (sv->dfd < 0)
		return -ENOENT;
	if (!spare_named(sv))
		return -ESTALE;
	if (pwrite(sv->fd[0], buf, n, 0) != n || ftruncate(sv->fd[0], n))
		return -EIO;
	if (renameat2(sv->dfd, sv->tleaf, sv->dfd, sv->leaf, RENAME_EXCHANGE)) {
		/* not on this file system (overlayfs, some network ones): never again */
		sv->no_exchange = errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP;
		return -EIO;
	}
	sv->len[0] = n;
	saver_swap(sv);
	/*
	 * The state before holds an older key, which could re-seal records
	 * already written: zeros over it now, as the rename freed it before.
	 */
	if (pwrite(sv->fd[0], zeros, sv->len[0], 0) != sv->len[0])
		saver_reset(sv);	/* which unlinks it */
	else
		sv->len[0] = 0;
	return 0;
}

int chainfile__save_state(const struct outpath_req *at, const char *log,
			  const struct chain_state *st, const struct chainfile_seal *sl,
			  bool durable, char *err, size_t errlen)
{
	char buf[STATE_MAX];
	const char *leaf;
	int dfd, n, e, kept = -1;
	bool keep = sl->saver && !durable && !sl->saver->no_exchange;

	n = format_state(buf, sizeof(buf), log, st, sl);
	if (n < 0) {
		OPENSSL_cleanse(buf, sizeof(buf));
		snprintf(err, errlen, "cannot write chain state %s: %s", at->path,
			 n == -EIO ? "the state MAC could not be computed" : strerror(-n));
		return n;
	}
	if (keep && !saver_save(sl->saver, buf, n)) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return 0;
	}
	saver_reset(sl->saver);
	dfd = outpath__open_dir(at, &leaf, err, errlen);
	e = dfd < 0 ? dfd : replace_state(dfd, leaf, at, buf, n, durable, keep ? &kept : NULL,
					  err, errlen);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (!e && keep)
		saver_setup(sl->saver, dfd, leaf, kept, at);
	else if (dfd >= 0)
		close(dfd);
	return e;
}

/* The "name value" lines of a state file, each value NUL-terminated in place. */
struct state_fields {
	char *file, *seq, *head, *key, *anchored;
};

static void state_fields(char *buf, struct state_fields *f)
{
	static const char *const names[] = { "file", "seq", "head", "key", "anchored" };
	char **slots[] = { &f->file, &f->seq, &f->head, &f->key, &f->anchored };
	char *line, *save = NULL, *sp;
	size_t i;

	memset(f, 0, sizeof(*f));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp++ = '\0';
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(line, names[i]))
				*slots[i] = sp;
	}
}

/*
 * The MAC line closes the file and covers every byte before it. -EINVAL
 * when there is none (not a state of this version), -EBADMSG when it does
 * not match. On success the MAC line is cut off.
 */
static int check_state_mac(char *buf, const struct chainfile_seal *sl)
{
	char *m = strstr(buf, "\nmac "), want[CHAIN_HEX_LEN + 1];
	size_t n;

	if (!m)
		return -EINVAL;
	n = m + 1 - buf;
	if (strlen(m + 5) != CHAIN_HEX_LEN + 1 || m[5 + CHAIN_HEX_LEN] != '\n')
		return -EINVAL;
	if (state_mac(sl, buf, n, want))
		return -EINVAL;
	if (CRYPTO_memcmp(want, m + 5, CHAIN_HEX_LEN))
		return -EBADMSG;
	buf[n] = '\0';
	return 0;
}

static int parse_state(char *buf, const char *log, const struct chainfile_seal *sl,
		       struct chain_state *st, bool *anchored)
{
	struct state_fields f;
	char *end;
	int e;

	if (strncmp(buf, STATE_MAGIC "\n", sizeof(STATE_MAGIC)))
		return -EINVAL;
	e = check_state_mac(buf, sl);
	if (e)
		return e;
	state_fields(buf + sizeof(STATE_MAGIC), &f);
	if (!f.file || !f.seq || !f.head || !f.key || !f.anchored)
		return -EINVAL;
	if (strcmp(f.file, log))
		return -EBADMSG;	/* the state of another log: it does not continue this one */
	errno = 0;
	st->seq = strtoull(f.seq, &end, 10);
	if (errno || end == f.seq || *end ||
	    chain__unhex(f.head, strlen(f.head), st->head, CHAIN_MAC_LEN) ||
	    chain__unhex(f.key, strlen(f.key), st->key, CHAIN_KEY_LEN))
		return -EINVAL;
	*anchored = !strcmp(f.anchored, "1");
	return 0;
}

int chainfile__load_state(const char *path, const char *log, const struct chainfile_seal *sl,
			  struct chain_state *st, bool *anchored)
{
	char buf[STATE_MAX], err[512];
	ssize_t n;
	int fd, e;

	*anchored = false;
	fd = outpath__open_read(AT_FDCWD, path, path, err, sizeof(err));
	if (fd == -ENOENT)
		return -ENOENT;
	if (fd < 0) {
		log_warn("chain state: %s", err);
		return -EINVAL;
	}
	n = read_small(fd, buf, sizeof(buf));
	close(fd);
	e = n < 0 ? -EINVAL : parse_state(buf, log, sl, st, anchored);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (e)
		OPENSSL_cleanse(st, sizeof(*st));
	return e;
}

/* ---- anchor ---- */

int chainfile__anchor(const struct outpath_req *at, const char *log, uint64_t seq,
		      const uint8_t mac[CHAIN_MAC_LEN], char *err, size_t errlen)
{
	char hex[CHAIN_HEX_LEN + 1];
	struct timespec ts;
	struct jbuf jb;
	int fd, e;

	clock_gettime(CLOCK_REALTIME, &ts);
	chain__hex(mac, CHAIN_MAC_LEN, hex);
	jbuf__init(&jb);
	jbuf__obj_open(&jb);
	JBUF_KEY(&jb, "ts");
	format__ts(&jb, ts.tv_sec * 1000000000ULL + ts.tv_nsec);
	JBUF_KEY(&jb, "file");
	jbuf__cstr(&jb, log);
	JBUF_KEY(&jb, "chain_seq");
	jbuf__u64(&jb, seq);
	JBUF_KEY(&jb, "chain");
	jbuf__cstr(&jb, hex);
	jbuf__obj_close(&jb);
	jbuf__raw(&jb, "\n", 1);
	/* only a plain file of ours, appended to: never a FIFO, a link or another's file */
	fd = jb.oom ? -ENOMEM : outpath__open(at, err, errlen);
	e = fd < 0 ? fd : write_all(fd, jb.buf, jb.len);
	if (!e && fsync(fd))
		e = -errno;
	if (e && fd >= 0)
		snprintf(err, errlen, "cannot append to anchor file %s: %s", at->path,
			 strerror(-e));
	if (fd >= 0)
		close(fd);
	jbuf__free(&jb);
	return e;
}
