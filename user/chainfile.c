// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Key, state and anchor files of the integrity chain (chainfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include "chainfile.h"
#include "format_json.h"
#include "json.h"

#define STATE_MAGIC	"sockaudit-chain-state 1"
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

static int format_state(char *buf, size_t cap, const char *log, const struct chain_state *st)
{
	char head[CHAIN_HEX_LEN + 1], key[CHAIN_HEX_LEN + 1];
	int n;

	chain__hex(st->head, CHAIN_MAC_LEN, head);
	chain__hex(st->key, CHAIN_KEY_LEN, key);
	n = snprintf(buf, cap, STATE_MAGIC "\nfile %s\nseq %" PRIu64 "\nhead %s\nkey %s\n", log,
		     st->seq, head, key);
	OPENSSL_cleanse(key, sizeof(key));
	return n > 0 && (size_t)n < cap ? n : -ENAMETOOLONG;
}

int chainfile__save_state(const char *path, const char *log, const struct chain_state *st,
			  bool durable)
{
	char tmp[4200], buf[STATE_MAX];
	int fd, n, e;

	n = format_state(buf, sizeof(buf), log, st);
	if (n < 0 || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* a fresh file: never truncate what a planted link points at */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		OPENSSL_cleanse(buf, sizeof(buf));
		return -errno;
	}
	e = write_all(fd, buf, n);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (!e && durable && fsync(fd))
		e = -errno;
	if (close(fd) && !e)
		e = -errno;
	if (!e && rename(tmp, path))
		e = -errno;	/* rename: readers see the old state or the new, never half */
	if (e)
		unlink(tmp);
	return e;
}

/* The "name value" lines of a state file, each value NUL-terminated in place. */
struct state_fields {
	char *file, *seq, *head, *key;
};

static void state_fields(char *buf, struct state_fields *f)
{
	char *line, *save = NULL, *sp;

	memset(f, 0, sizeof(*f));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp++ = '\0';
		if (!strcmp(line, "file"))
			f->file = sp;
		else if (!strcmp(line, "seq"))
			f->seq = sp;
		else if (!strcmp(line, "head"))
			f->head = sp;
		else if (!strcmp(line, "key"))
			f->key = sp;
	}
}

static int parse_state(char *buf, const char *log, struct chain_state *st)
{
	struct state_fields f;
	char *end;

	if (strncmp(buf, STATE_MAGIC "\n", sizeof(STATE_MAGIC)))
		return -EINVAL;
	state_fields(buf + sizeof(STATE_MAGIC), &f);
	if (!f.file || !f.seq || !f.head || !f.key || strcmp(f.file, log))
		return -EINVAL;
	errno = 0;
	st->seq = strtoull(f.seq, &end, 10);
	if (errno || end == f.seq || *end ||
	    chain__unhex(f.head, strlen(f.head), st->head, CHAIN_MAC_LEN) ||
	    chain__unhex(f.key, strlen(f.key), st->key, CHAIN_KEY_LEN))
		return -EINVAL;
	return 0;
}

int chainfile__load_state(const char *path, const char *log, struct chain_state *st)
{
	char buf[STATE_MAX];
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EINVAL;
	n = read_small(fd, buf, sizeof(buf));
	close(fd);
	e = n < 0 ? -EINVAL : parse_state(buf, log, st);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (e)
		OPENSSL_cleanse(st, sizeof(*st));
	return e;
}

/* ---- anchor ---- */

/* Append only to a plain file of ours: not a device, not a hard link to another file. */
static int open_anchor(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int chainfile__anchor(const char *path, const char *log, uint64_t seq,
		      const uint8_t mac[CHAIN_MAC_LEN])
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
	fd = jb.oom ? -ENOMEM : open_anchor(path);
	e = fd < 0 ? fd : write_all(fd, jb.buf, jb.len);
	if (!e && fsync(fd))
		e = -errno;
	if (fd >= 0)
		close(fd);
	jbuf__free(&jb);
	return e;
}
