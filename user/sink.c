// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writer thread per output file. Producers append whole records to `fill`
 * under the lock; the writer swaps it with its empty `spare` and does all
 * I/O outside the lock, so each cycle carries everything queued since the
 * last one: with flush_mode immediate that is group commit (one write, one
 * fdatasync for every record that arrived while the previous sync ran).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <zlib.h>
#include "chain.h"
#include "chainfile.h"
#include "format.h"
#include "json.h"
#include "log.h"
#include "outpath.h"
#include "rotate.h"
#include "sink.h"

#define RETRY_NS	1000000000ULL	/* unset output: retry setup once a second */
#define SPACE_ROTATE_NS	1000000000ULL	/* space_left_action rotate: at most once a second */
#define SPACE_BACK_BYTES (1ULL << 20)	/* short of space until this much above the line */
#define STOP_STALL_NS	400000000ULL	/* a stopping writer this long without progress is stuck */
#define STOP_GRACE_NS	200000000ULL	/* after the interrupt: then it is left behind */

/* Records held while the output cannot be set up, oldest first (a ring). */
struct early_ring {
	char **rec;
	size_t *len;
	uint32_t cap, head, n;
};

struct sink {
	pthread_mutex_t mu;
	pthread_cond_t work;		/* writer: something to do */
	pthread_cond_t done;		/* flushers: synced generation advanced */
	pthread_t thread;
	struct sink_config cfg;
	char *fill, *spare;
	size_t fill_len, fill_cap, spare_cap, max_bytes;
	size_t fill_crit;		/* bytes of fill up to its last critical record */
	uint32_t fill_recs;
	uint64_t queued_gen;		/* bumped on every put */
	uint64_t synced_gen;		/* everything up to here is on disk */
	bool sync_wanted, rotate_wanted, stop;
	bool in_cycle;			/* the writer works on a batch it took */
	uint32_t refs;
	struct sink *next;		/* registry of open files */

	/* writer side (only the writer thread touches these after start) */
	int fd;
	int lock_fd;			/* LOG.lock, write-locked while this sink writes LOG */
	char *lock_path;
	char *where;			/* output_file as stat() finds it (under base_directory) */
	dev_t dev;
	ino_t ino;
	uint64_t size;			/* bytes in the current file */
	uint64_t since_check;		/* records written since the file was last seen at its path */
	const char *gone_why;		/* the open file left its path: unlinked, moved, replaced */
	uint64_t gone_recs;		/* records written to it after it was last seen in place */
	uint64_t unsynced_recs, unsynced_since, next_retry, next_space_rotate;
	uint64_t next_interval;		/* CLOCK_REALTIME ns of the next interval rotation */
	struct rotator *rot;
	bool rot_taken;			/* the forwarder owns rot (sink__take_rotator) */
	pthread_mutex_t dur_mu;		/* durable_*: what the forwarder may ship */
	uint64_t durable_ino, durable_size;
	struct early_ring early;
	bool set_up, failing, suspended, space_low;
	bool kicked;			/* a stop interrupted the writer: no more retries */
	bool left;			/* stuck at the stop: left behind, never freed */
	uint64_t beat;			/* bumped at each step of the writer: a stop sees progress */
	const struct formatter *fmt;	/* the sink's type: its records and the writer's own */
	struct format_opts fo;
	struct jbuf jb;			/* the writer's own records */
	struct jbuf over;		/* a batch whose oversize records were replaced */

	/* integrity chain (NULL: off); the writer owns it once started */
	struct chain *chain;
	char *state_path, *anchor_path;
	uint8_t key0[CHAIN_KEY_LEN];	/* the key file's key, erased once the chain began */
	uint8_t state_key[CHAIN_KEY_LEN];	/* MACs the state file (from key0) */
	bool chain_begun;
	uint64_t caught_up;		/* records re-verified after a crash at the start */
	char *sealed;			/* the sealed copy of what is being written */
	size_t sealed_cap;
	uint64_t since_ckpt;		/* records since the last checkpoint */
	uint64_t next_ckpt;		/* CLOCK_MONOTONIC ns of the next timed checkpoint */
	bool anchor_failing;		/* the last anchor line could not be written (said once) */

	/* read by the collector */
	int fatal;			/* -errno: a critical sink cannot go on */
	char fatal_reason[1024];
	uint64_t dropped;
	uint64_t lost[SINK_LOST_MAX];
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sink *registry;

static const char *const lost_names[SINK_LOST_MAX] = {
	[SINK_LOST_WRITE] = "write_failed_records",
	[SINK_LOST_FORWARD_SPOOL] = "forward_spool_records",
	[SINK_LOST_EARLY] = "early_buffer_overflow_records",
	[SINK_LOST_OVERSIZE] = "oversize_records",
	[SINK_LOST_SUSPEND] = "suspended_records",
	[SINK_LOST_UNSET] = "never_set_up_records",
	[SINK_LOST_UNLINKED] = "unlinked_file_records",
	[SINK_LOST_STUCK] = "stuck_writer_records",
};

const char *sink__lost_name(enum sink_lost what)
{
	return what < SINK_LOST_MAX ? lost_names[what] : "unknown";
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A sink made without a type (-o) writes json_lines. */
static const char *sink_type(const struct sink_config *cfg)
{
	return cfg->type ? cfg->type : "json_lines";
}

static void count_lost(struct sink *s, enum sink_lost what, uint64_t n)
{
	__atomic_add_fetch(&s->lost[what], n, __ATOMIC_RELAXED);
}

/* The writer got through one more step (a stopping sink waits while it does). */
static void progress(struct sink *s)
{
	__atomic_add_fetch(&s->beat, 1, __ATOMIC_RELAXED);
}

static uint32_t count_lines(const char *buf, size_t len)
{
	const char *end = buf + len;
	uint32_t n = 0;

	while ((buf = memchr(buf, '\n', end - buf))) {
		n++;
		buf++;
	}
	return n;
}

/* ---- opening ---- */

/* How the log is opened: outpath.h's checks, and its content of this sink's format. */
static void log_req(const struct sink_config *cfg, struct outpath_req *req)
{
	*req = (struct outpath_req){
		.path = cfg->output_file,
		.base_directory = cfg->base_directory,
		.format = sink_type(cfg),
		.mode = cfg->file_mode,
		.gid = cfg->gid,
		.allow_shared_directory = cfg->allow_shared_directory,
	};
}

/*
 * A file beside the log (state, anchor): the same checks, no look inside.
 * One named in the config is where it says; a default one lies beside the
 * log, beneath base_directory like it.
 */
static void side_req(const struct sink *s, const char *path, bool configured, const char *what,
		     unsigned int mode, struct outpath_req *req)
{
	*req = (struct outpath_req){
		.path = path,
		.base_directory = configured ? NULL : s->cfg.base_directory,
		.what = what,
		.mode = mode,
		.gid = (gid_t)-1,
		.allow_shared_directory = s->cfg.allow_shared_directory,
	};
}

/* Writer: the current file is durable up to s->size (after an fdatasync, or at open). */
static void set_durable(struct sink *s)
{
	pthread_mutex_lock(&s->dur_mu);
	s->durable_ino = s->ino;
	s->durable_size = s->size;
	pthread_mutex_unlock(&s->dur_mu);
}

static int open_file(struct sink *s, char *err, size_t errlen)
{
	struct outpath_req req;
	struct stat st;
	int fd;

	log_req(&s->cfg, &req);
	fd = outpath__open(&req, err, errlen);
	progress(s);
	if (fd < 0)
		return fd;
	fstat(fd, &st);		/* outpath__open has fstat'ed this fd already */
	s->fd = fd;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->since_check = 0;
	set_durable(s);		/* what a file holds at open is what a previous run synced */
	return 0;
}

/*
 * One writer per log set: a POSIX write lock on LOG.lock (beside the log,
 * opened with the log's checks), held while this sink writes. It is not on
 * the log itself, whose inode moves to LOG.1 at each rotation; the lock
 * file stays, so a rotation never opens a window for a second collector.
 * A POSIX lock (not flock) so the refusal can name the pid holding it.
 * Taken after the registry lookup: a POSIX lock is dropped when the process
 * closes any descriptor of the file, so a sink sharing a writer never
 * opens it.
 */
static int lock_output(struct sink *s, char *err, size_t errlen)
{
	struct outpath_req req;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd;

	if (s->lock_fd >= 0)
		return 0;
	side_req(s, s->lock_path, false, "lock file", 0600, &req);
	fd = outpath__open(&req, err, errlen);
	if (fd < 0)
		return fd;
	if (!fcntl(fd, F_SETLK, &fl)) {
		s->lock_fd = fd;
		return 0;
	}
	if (errno != EAGAIN && errno != EACCES) {
		snprintf(err, errlen, "audit log %s: cannot lock %s: %s", s->cfg.output_file,
			 s->lock_path, strerror(errno));
		close(fd);
		return -ENOLCK;
	}
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_GETLK, &fl) || fl.l_type == F_UNLCK || fl.l_pid <= 0)
		snprintf(err, errlen, "audit log %s is written by another collector (it holds %s): "
			 "stop it, or give this sink another output_file", s->cfg.output_file,
			 s->lock_path);
	else
		snprintf(err, errlen, "audit log %s is written by another collector (pid %d holds "
			 "%s): stop it, or give this sink another output_file", s->cfg.output_file,
			 (int)fl.l_pid, s->lock_path);
	close(fd);
	return -EBUSY;
}

static void unlock_output(struct sink *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);	/* closing drops the lock */
	s->lock_fd = -1;
}

/* Open the log and take its lock (a new log set, or a retry of an unset one). */
static int open_locked(struct sink *s, char *err, size_t errlen)
{
	int e = open_file(s, err, errlen);

	if (!e && (e = lock_output(s, err, errlen))) {
		close(s->fd);
		s->fd = -1;
	}
	return e;
}

/*
 * A record cut by a crash (kill -9 in the middle of a write) would glue
 * itself to the next one: cut the file back to its last newline.
 */
static uint64_t last_newline_end(int rfd, uint64_t size)
{
	char buf[4096];
	uint64_t end = size, pos;
	ssize_t n;

	while (end) {
		pos = end > sizeof(buf) ? end - sizeof(buf) : 0;
		n = pread(rfd, buf, end - pos, pos);
		if (n <= 0)
			return size;	/* cannot tell: leave the file as it is */
		for (; n > 0 && buf[n - 1] != '\n'; n--)
			;
		if (n > 0)
			return pos + n;
		end = pos;
	}
	return 0;
}

static void cut_torn_tail(struct sink *s)
{
	char self[64];
	uint64_t keep;
	int rfd;

	if (!s->size)
		return;
	/* the same inode, readable: our fd is write-only */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", s->fd);
	rfd = open(self, O_RDONLY | O_CLOEXEC);
	if (rfd < 0)
		return;
	keep = last_newline_end(rfd, s->size);
	close(rfd);
	if (keep == s->size || ftruncate(s->fd, keep))
		return;
	log_warn("audit log %s ended in a partial record (a crash while writing): cut %llu "
		 "bytes", s->cfg.output_file, (unsigned long long)(s->size - keep));
	count_lost(s, SINK_LOST_WRITE, 1);
	s->size = keep;
	set_durable(s);
}

static uint64_t next_boundary(enum rotate_interval iv)
{
	uint64_t period = iv == ROTATE_HOURLY ? 3600ULL : 86400ULL;
	uint64_t now = now_ns(CLOCK_REALTIME) / 1000000000ULL;

	if (iv == ROTATE_NONE)
		return UINT64_MAX;
	return (now / period + 1) * period * 1000000000ULL;	/* UTC boundaries */
}

/* ---- writing ---- */

/* Ask the collector to stop (once): err and the reason collector_stop gives. */
static void want_stop(struct sink *s, int err, const char *reason, const char *todo)
{
	pthread_mutex_lock(&s->mu);
	if (!s->fatal) {
		snprintf(s->fatal_reason, sizeof(s->fatal_reason), "%s", reason);
		__atomic_store_n(&s->fatal, err, __ATOMIC_RELEASE);
		log_err("%s; stopping the collector (%s)", s->fatal_reason, todo);
	}
	pthread_mutex_unlock(&s->mu);
}

static void set_fatal(struct sink *s, int err, const char *what)
{
	char why[sizeof(s->fatal_reason)];

	snprintf(why, sizeof(why), "critical audit log %s: %s: %s", s->cfg.output_file, what,
		 strerror(-err));
	want_stop(s, err, why, "free space or fix the output, then restart");
}

/* A write or sync failed: critical sinks stop the collector, others retry. */
static void write_failed(struct sink *s, int err, uint32_t nrec, const char *what)
{
	count_lost(s, SINK_LOST_WRITE, nrec);
	if (s->cfg.critical) {
		set_fatal(s, err, what);
	} else if (!s->failing) {
		log_warn("audit log %s: %s: %s; counting lost records and retrying",
			 s->cfg.output_file, what, strerror(-err));
	}
	s->failing = true;
}

static void write_ok(struct sink *s)
{
	if (s->failing && !s->fatal)
		log_info("audit log %s: writing again", s->cfg.output_file);
	s->failing = false;
}

/* Whole records out in one writev; a short write is cut back, never kept. */
static int write_iov(struct sink *s, struct iovec *iov, int n, uint32_t nrec)
{
	size_t total = 0;
	ssize_t w;
	int i, err = 0;

	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	if (!total)
		return 0;
	do
		w = writev(s->fd, iov, n);
	while (w < 0 && errno == EINTR && !__atomic_load_n(&s->kicked, __ATOMIC_RELAXED));
	progress(s);
	if (w < 0)
		err = -errno;
	else if ((size_t)w < total)
		err = -ENOSPC;	/* the rest would not fit: undo the part written */
	if (err) {
		if (w > 0 && ftruncate(s->fd, s->size))
			log_err("audit log %s: cannot cut a partial record: %s", s->cfg.output_file,
				strerror(errno));
		write_failed(s, err, nrec, "write failed");
		return err;
	}
	s->size += total;
	s->since_check += nrec;
	s->unsynced_recs += nrec;
	if (!s->unsynced_since)
		s->unsynced_since = now_ns(CLOCK_MONOTONIC);
	write_ok(s);
	return 0;
}

static int write_buf(struct sink *s, const char *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return write_iov(s, &iov, 1, count_lines(buf, len));
}

static void save_state(struct sink *s, bool durable);

static void do_sync(struct sink *s)
{
	if (!s->unsynced_recs || s->fd < 0)
		return;
	if (fdatasync(s->fd)) {
		write_failed(s, -errno, 0, "fdatasync failed");
		progress(s);
		return;
	}
	progress(s);
	s->unsynced_recs = 0;
	s->unsynced_since = 0;
	set_durable(s);
	save_state(s, false);	/* a restart after kill -9 resumes from here */
}

/* ---- integrity chain (docs/integrity.md) ---- */

/* Seal buf's lines and write them; a failed write leaves the chain where it was. */
static int write_chunk(struct sink *s, const char *buf, size_t n)
{
	struct chain_state undo;
	size_t len = 0;
	int e;

	if (!s->chain)
		return write_buf(s, buf, n);
	chain__save(s->chain, &undo);
	e = chain__seal(s->chain, buf, n, &s->sealed, &s->sealed_cap, &len);
	if (e)
		write_failed(s, e, count_lines(buf, n), "cannot seal records (libcrypto)");
	else
		e = write_buf(s, s->sealed, len);
	if (e) {
		chain__restore(s->chain, &undo);
		return e;
	}
	s->since_ckpt += chain__state(s->chain)->seq - undo.seq;
	OPENSSL_cleanse(&undo, sizeof(undo));	/* holds an older key */
	return 0;
}

/* Persist the chain's position; durable: fsync'ed before the rename. */
static void save_state(struct sink *s, bool durable)
{
	struct outpath_req at;
	char err[512];
	int e;

	if (!s->chain || !s->chain_begun)
		return;
	side_req(s, s->state_path, s->cfg.integrity.state_file, "chain state", 0600, &at);
	e = chainfile__save_state(&at, s->cfg.output_file, chain__state(s->chain),
				  &(struct chainfile_seal){ s->state_key, s->anchor_path }, durable,
				  err, sizeof(err));
	if (e)
		log_warn("audit log %s: %s; a restart will write a chain_gap record",
			 s->cfg.output_file, err);
}

/*
 * A record the writer makes itself (rotate, chain_*, checkpoint, loss):
 * its members, rendered by the sink's formatter like any other record, so
 * every line of a file is in the file's format. seq 0: these records are
 * not numbered by the pipeline.
 */
#define WREC_MAX_FIELDS 8

struct wrec {
	const char *type;
	struct format_field f[WREC_MAX_FIELDS];
	size_t n;
	char hex[CHAIN_HEX_LEN + 1];
};

static void wrec_str(struct wrec *w, const char *key, const char *v)
{
	w->f[w->n++] = (struct format_field){ .key = key, .kind = FF_STR, .s = v };
}

static void wrec_u64(struct wrec *w, const char *key, uint64_t v)
{
	w->f[w->n++] = (struct format_field){ .key = key, .kind = FF_U64, .u = v };
}

/*
 * The chain's position as fields: where this record sits and what it
 * follows. They come before any path, so a verifier looking for
 * chain_seq= in a text format finds these first.
 */
static void chain_fields(struct sink *s, struct wrec *w)
{
	const struct chain_state *st = chain__state(s->chain);

	chain__hex(st->head, CHAIN_MAC_LEN, w->hex);
	wrec_u64(w, "chain_seq", st->seq);
	wrec_str(w, "prev_chain", w->hex);
}

/* Render w in the sink's format into s->jb. */
static int wrec_render(struct sink *s, const struct wrec *w)
{
	jbuf__reset(&s->jb);
	s->fmt->event(&s->jb, &s->fo, 0, now_ns(CLOCK_REALTIME), w->type, w->f, w->n);
	return s->jb.oom ? -ENOMEM : 0;
}

/* Render w and write it sealed. */
static int record_write(struct sink *s, const struct wrec *w)
{
	if (wrec_render(s, w)) {
		write_failed(s, -ENOMEM, 1, "no memory for a writer record");
		return -ENOMEM;
	}
	return write_chunk(s, s->jb.buf, s->jb.len);
}

/*
 * The top of a new file: the format's header line (csv: the column names,
 * plus "chain" when sealed). Not a record: it is not sealed, and verify
 * skips it as the first line of a file.
 */
static void put_file_header(struct sink *s)
{
	const char *h = s->fmt->file_header;
	size_t n;

	if (!h || s->size || s->fd < 0)
		return;
	n = strlen(h) - 1;	/* without its '\n' */
	jbuf__reset(&s->jb);
	jbuf__raw(&s->jb, h, n);
	if (s->chain)
		jbuf__raw(&s->jb, ",chain", 6);
	jbuf__raw(&s->jb, "\n", 1);
	if (s->jb.oom)
		write_failed(s, -ENOMEM, 0, "no memory for the file header");
	else
		write_iov(s, &(struct iovec){ .iov_base = s->jb.buf, .iov_len = s->jb.len }, 1, 0);
}

/*
 * An anchor line that cannot be written (a name planted there, a full
 * disk): a critical sink stops the collector, as for its log; another says
 * so once and again when anchoring works again, not at every checkpoint.
 */
static void anchor_result(struct sink *s, int e, const char *err)
{
	char why[sizeof(s->fatal_reason)];

	if (!e) {
		if (s->anchor_failing)
			log_info("audit log %s: anchor file %s written again", s->cfg.output_file,
				 s->anchor_path);
		s->anchor_failing = false;
		return;
	}
	if (s->cfg.critical) {
		snprintf(why, sizeof(why), "critical audit log %s: %s", s->cfg.output_file, err);
		want_stop(s, e, why, "fix the anchor file, then restart");
	} else if (!s->anchor_failing) {
		log_warn("audit log %s: %s; checkpoints are in the log only until it can be "
			 "written (said once)", s->cfg.output_file, err);
	}
	s->anchor_failing = true;
}

static void checkpoint(struct sink *s, const char *why)
{
	const struct chain_state *st = chain__state(s->chain);
	uint64_t recs = s->since_ckpt;
	struct wrec w = { .type = "checkpoint" };
	struct outpath_req at;
	char err[512];
	int e;

	wrec_str(&w, "reason", why);
	wrec_u64(&w, "records", recs);
	chain_fields(s, &w);
	if (record_write(s, &w))
		return;
	do_sync(s);
	if (s->unsynced_recs)
		return;	/* not on disk: an anchor line now could name a record never written */
	side_req(s, s->anchor_path, s->cfg.integrity.anchor_file, "anchor file",
		 s->cfg.file_mode, &at);
	e = chainfile__anchor(&at, s->cfg.output_file, st->seq - 1, st->head, err, sizeof(err));
	anchor_result(s, e, err);
	save_state(s, true);
	s->since_ckpt = 0;
	if (s->cfg.integrity.checkpoint_interval_s)
		s->next_ckpt = now_ns(CLOCK_MONOTONIC) +
			       s->cfg.integrity.checkpoint_interval_s * 1000000000ULL;
}

/* A checkpoint every checkpoint_every records or checkpoint_interval_s (or forced). */
static void maybe_checkpoint(struct sink *s, bool force)
{
	const struct integrity_config *ic = &s->cfg.integrity;

	if (!s->chain || !s->chain_begun || s->fd < 0 || !s->since_ckpt)
		return;
	if (force)
		checkpoint(s, "stop");
	else if (ic->checkpoint_every && s->since_ckpt >= ic->checkpoint_every)
		checkpoint(s, "records");
	else if (ic->checkpoint_interval_s && now_ns(CLOCK_MONOTONIC) >= s->next_ckpt)
		checkpoint(s, "interval");
}

/*
 * The last whole line of the open file (the previous run's last record),
 * NUL-terminated in a malloc'ed buffer; NULL when the file is empty.
 */
static char *last_line(struct sink *s, size_t *len)
{
	size_t cap = s->cfg.max_message_length + CHAIN_OVERHEAD + 2;
	uint64_t from;
	char self[64], *buf, *nl;
	ssize_t n;
	int rfd;

	if (!s->size || !(buf = malloc(cap + 1)))
		return NULL;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", s->fd);
	rfd = open(self, O_RDONLY | O_CLOEXEC);
	from = s->size > cap ? s->size - cap : 0;
	n = rfd < 0 ? -1 : pread(rfd, buf, s->size - from, from);
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

static bool rotated_exists(const struct sink *s)
{
	char p[4200];

	snprintf(p, sizeof(p), "%s.1", s->cfg.output_file);
	if (!access(p, F_OK))
		return true;
	snprintf(p, sizeof(p), "%s.1.gz", s->cfg.output_file);
	return !access(p, F_OK);
}

/* One line after the state's head: it must carry the next chain value. */
static bool catch_up_line(struct chain_crypto *cc, struct chain_state *st, const char *line,
			  size_t len)
{
	struct chain_line cl;
	uint8_t mac[CHAIN_MAC_LEN];

	if (chain__split(line, len, &cl) || chain__mac(cc, st->key, st->head, st->seq, &cl, mac) ||
	    memcmp(mac, cl.mac, CHAIN_MAC_LEN) || chain__evolve(cc, st->key))
		return false;
	memcpy(st->head, mac, CHAIN_MAC_LEN);
	st->seq++;
	return true;
}

struct catch_ctx {
	struct sink *s;
	struct chain_state *st;
	struct chain_crypto *cc;
	bool found;		/* the state's head was seen */
	bool ok;		/* every line after it continued the chain */
};

/* Lines before the state's head are skipped; every line after it must follow. */
static void catch_up_text(struct catch_ctx *cx, const char *line, size_t len)
{
	struct chain_line cl;

	if (cx->found) {
		if ((cx->ok = catch_up_line(cx->cc, cx->st, line, len)))
			cx->s->caught_up++;
	} else {
		/* before the head: any line, even from before integrity was on */
		cx->found = !chain__split(line, len, &cl) &&
			    !memcmp(cl.mac, cx->st->head, CHAIN_MAC_LEN);
	}
}

/* Every line of one file, plain or gzip (gzdopen reads both); takes fd. */
static void catch_up_file(struct catch_ctx *cx, int fd)
{
	size_t cap = cx->s->cfg.max_message_length + CHAIN_OVERHEAD + 2, len;
	char *line = fd >= 0 ? malloc(cap + 1) : NULL;
	gzFile gz = line ? gzdopen(fd, "rb") : NULL;
	bool first = true;

	if (!gz && fd >= 0)
		close(fd);
	while (gz && cx->ok && gzgets(gz, line, cap + 1)) {
		len = strlen(line);
		if (len && line[len - 1] == '\n')
			len--;
		else if (!gzeof(gz))
			cx->ok = !cx->found;	/* longer than any record: not ours */
		if (!first || !chain__is_header(line, len))	/* csv: the unsealed header */
			catch_up_text(cx, line, len);
		first = false;
	}
	if (gz)
		gzclose(gz);
	free(line);
}

/*
 * After a crash the state lags the log by what was written after its last
 * save: find the state's head and re-verify every later line with the
 * state's key, moving st to the end. Only the holder of that key could have
 * written them, so the chain goes on without a gap. The head is looked for
 * in the current file, then in the newest rotated one (a crash after a
 * rotation, before the next save), from where the check runs on into the
 * current file.
 */
static bool catch_up(struct sink *s, struct chain_state *st)
{
	struct catch_ctx cx = { .s = s, .st = st, .cc = chain_crypto__new(), .ok = true };
	char self[64], rotated[4200], err[512];
	int fd;

	s->caught_up = 0;
	/* the same inode with an offset of its own (the writer's fd appends) */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", s->fd);
	if (cx.cc)
		catch_up_file(&cx, open(self, O_RDONLY | O_CLOEXEC));
	if (cx.cc && !cx.found) {
		snprintf(rotated, sizeof(rotated), "%s.1", s->cfg.output_file);
		if (access(rotated, F_OK))
			strcat(rotated, ".gz");
		/* a name beside the log: never a FIFO (a hang) or a link to follow */
		fd = outpath__open_read(AT_FDCWD, rotated, rotated, err, sizeof(err));
		if (fd < 0 && fd != -ENOENT)
			log_warn("audit log %s: %s", s->cfg.output_file, err);
		catch_up_file(&cx, fd);
		if (cx.found && cx.ok)
			catch_up_file(&cx, open(self, O_RDONLY | O_CLOEXEC));
	}
	chain_crypto__free(cx.cc);
	if (!cx.found || !cx.ok)
		s->caught_up = 0;
	return cx.found && cx.ok;
}

/* Does the state continue the file? NULL if so, else why not (a chain_gap reason). */
static const char *resume_check(struct sink *s, struct chain_state *st, bool *anchored)
{
	struct chain_line cl;
	size_t len = 0;
	char *last = last_line(s, &len);
	int e = chainfile__load_state(s->state_path, s->cfg.output_file,
				      &(struct chainfile_seal){ s->state_key, s->anchor_path },
				      st, anchored);
	const char *why = NULL;

	if (last && chain__is_header(last, len)) {
		free(last);	/* a csv file with only its header: no record yet */
		last = NULL;
	}
	if (e == -ENOENT)
		why = !last && !rotated_exists(s) ? "first_start" : "state_missing";
	else if (e == -EBADMSG)
		why = "state_mismatch";	/* another log's, or not made with this key file */
	else if (e)
		why = "state_unreadable";
	else if (!last)
		why = "log_missing";	/* a state, and the file it continues is empty */
	else if ((chain__split(last, len, &cl) || memcmp(cl.mac, st->head, CHAIN_MAC_LEN)) &&
		 !catch_up(s, st))
		why = "state_mismatch";	/* the state's head is not there, or an edit after it */
	free(last);
	return why;
}

/*
 * The state says the anchor held checkpoints, and it is gone or empty now:
 * deleted on the host. Say so in the log (after the chain's first record)
 * before a new anchor starts where the old one was.
 */
static void anchor_check(struct sink *s, bool anchored)
{
	struct wrec w = { .type = "anchor_missing" };
	struct stat st;

	if (!anchored || (!stat(s->anchor_path, &st) && st.st_size > 0))
		return;
	log_warn("audit log %s: anchor file %s held checkpoints and is now missing or empty "
		 "(deleted on the host?); writing an anchor_missing record and starting it anew: "
		 "verify older checkpoints against a copy shipped off the host",
		 s->cfg.output_file, s->anchor_path);
	chain_fields(s, &w);
	wrec_str(&w, "anchor", s->anchor_path);
	record_write(s, &w);
}

/* The first record of this run: chain_resume, or chain_gap starting over. */
static void chain_begin(struct sink *s)
{
	struct chain_state st;
	bool anchored = false;
	const char *why = resume_check(s, &st, &anchored);
	struct wrec w = { .type = why ? "chain_gap" : "chain_resume" };

	if (why) {
		chain__reset(s->chain, s->key0);
		wrec_str(&w, "reason", why);
		if (strcmp(why, "first_start"))
			log_warn("audit log %s: chain state %s: %s; writing a chain_gap record and "
				 "starting a new chain", s->cfg.output_file, s->state_path, why);
	} else {
		chain__restore(s->chain, &st);
		if (s->caught_up) {
			wrec_u64(&w, "caught_up", s->caught_up);
			log_info("audit log %s: chain state was %llu records behind (a crash): "
				 "re-verified them and resumed", s->cfg.output_file,
				 (unsigned long long)s->caught_up);
		}
	}
	OPENSSL_cleanse(&st, sizeof(st));
	OPENSSL_cleanse(s->key0, sizeof(s->key0));	/* forward security from here on */
	chain_fields(s, &w);
	wrec_str(&w, "file", s->cfg.output_file);
	s->chain_begun = true;
	s->since_ckpt = 0;
	s->next_ckpt = now_ns(CLOCK_MONOTONIC) +
		       s->cfg.integrity.checkpoint_interval_s * 1000000000ULL;
	if (!record_write(s, &w)) {
		anchor_check(s, anchored);
		do_sync(s);
		save_state(s, true);
	}
}

/* path, or output_file + suffix (beside the log, under base_directory if relative). */
static char *side_path(const struct sink *s, const char *path, const char *suffix)
{
	const char *out = s->cfg.output_file, *base = s->cfg.base_directory;
	char *p = NULL;

	if (path)
		return strdup(path);
	if (out[0] != '/' && base) {
		if (asprintf(&p, "%s/%s%s", base, out, suffix) < 0)
			return NULL;
	} else if (asprintf(&p, "%s%s", out, suffix) < 0) {
		return NULL;
	}
	return p;
}

/* Load the key and set up the chain; it begins once the output is set up. */
static int chain_open(struct sink *s, char *err, size_t errlen)
{
	const struct integrity_config *ic = &s->cfg.integrity;
	struct chain_state zero = { 0 };
	enum chain_fmt fmt;
	int e;

	if (!ic->key_file)
		return 0;
	if (chain__fmt_from_type(sink_type(&s->cfg), &fmt)) {
		snprintf(err, errlen, "audit log %s: no integrity chain for type '%s'",
			 s->cfg.output_file, s->cfg.type);
		return -EINVAL;
	}
	e = chainfile__load_key(ic->key_file, s->key0, err, errlen);
	if (e)
		return e;
	if (chainfile__state_key(s->key0, s->state_key)) {
		snprintf(err, errlen, "audit log %s: cannot derive the chain state's key "
			 "(libcrypto without HMAC-SHA256)", s->cfg.output_file);
		return -EIO;
	}
	s->state_path = side_path(s, ic->state_file, ".chain");
	s->anchor_path = side_path(s, ic->anchor_file, ".anchor");
	s->chain = chain__new(fmt, &zero);
	if (!s->state_path || !s->anchor_path || !s->chain) {
		snprintf(err, errlen, "audit log %s: cannot set up its integrity chain (no "
			 "memory, or libcrypto without HMAC-SHA256)", s->cfg.output_file);
		return -ENOMEM;
	}
	return 0;
}

/*
 * The first record of every new file (after the format's header): why, and
 * where the previous one went (no `previous` when backup_count is 0). After
 * the file left its path under the writer (s->gone_why), the reason says
 * how, old_file_records how many records went to it after it was last seen
 * in place, and there is no `previous`: the writer did not name it.
 */
static int put_rotate_record(struct sink *s, const char *reason)
{
	struct wrec w = { .type = "rotate" };
	char prev[4200];

	put_file_header(s);
	snprintf(prev, sizeof(prev), "%s.1%s", s->cfg.output_file,
		 s->cfg.compress ? ".gz" : "");
	wrec_str(&w, "reason", s->gone_why ? s->gone_why : reason);
	if (s->chain)
		chain_fields(s, &w);	/* the previous file's last chain value, and its seq */
	wrec_str(&w, "file", s->cfg.output_file);
	if (s->gone_why)
		wrec_u64(&w, "old_file_records", s->gone_recs);
	else if (s->cfg.backup_count)
		wrec_str(&w, "previous", prev);
	s->gone_why = NULL;
	return record_write(s, &w);
}

/* The new file's rotate record on disk, and the chain state with it. */
static void start_file(struct sink *s, const char *reason)
{
	if (!put_rotate_record(s, reason) && s->chain) {
		do_sync(s);
		save_state(s, true);
	}
}

static void rotate_now(struct sink *s, const char *reason)
{
	char err[512];
	int e;

	do_sync(s);
	if (rotator__rotate(s->rot))
		return;		/* logged; keep writing to the current file */
	close(s->fd);
	s->fd = -1;
	e = open_file(s, err, sizeof(err));
	if (e) {
		write_failed(s, e, 0, err);
		return;
	}
	s->next_interval = next_boundary(s->cfg.rotate_interval);
	start_file(s, reason);
}

/* Like memrchr(buf, '\n', room), counting each line CHAIN_OVERHEAD longer (sealed). */
static const char *sealed_room_end(const char *buf, size_t len, uint64_t room)
{
	const char *p = buf, *nl, *last = NULL;
	uint64_t used = 0;

	while (p < buf + len && (nl = memchr(p, '\n', buf + len - p))) {
		used += nl - p + 1 + CHAIN_OVERHEAD;
		if (used > room)
			break;
		last = nl;
		p = nl + 1;
	}
	return last;
}

/* Bytes of buf (whole records) that still fit under max_file_size. */
static size_t fitting_prefix(const struct sink *s, const char *buf, size_t len)
{
	uint64_t room = s->cfg.max_file_size > s->size ? s->cfg.max_file_size - s->size : 0;
	const char *nl;

	if (s->chain && s->cfg.max_file_size) {
		nl = sealed_room_end(buf, len, room);
		if (nl)
			return nl - buf + 1;
		if (s->size > 0)
			return 0;
		nl = memchr(buf, '\n', len);
		return nl ? (size_t)(nl - buf + 1) : len;
	}
	if (!s->cfg.max_file_size || len <= room)
		return len;
	nl = room ? memrchr(buf, '\n', room) : NULL;
	if (nl)
		return nl - buf + 1;
	if (s->size > 0)
		return 0;	/* rotate first, the record goes to the new file */
	nl = memchr(buf, '\n', len);	/* one record bigger than the limit: alone */
	return nl ? (size_t)(nl - buf + 1) : len;
}

/* Write records, rotating by size between records (never inside one). */
static void write_records(struct sink *s, const char *buf, size_t len)
{
	bool fresh = false;	/* just rotated: the next record goes in, whatever its size */

	while (len) {
		size_t n = fitting_prefix(s, buf, len);

		if (!n && !fresh) {
			rotate_now(s, "size");
			fresh = true;
			continue;
		}
		if (!n) {
			const char *nl = memchr(buf, '\n', len);

			n = nl ? (size_t)(nl - buf + 1) : len;
		}
		if (s->fd < 0) {
			write_failed(s, -EBADF, count_lines(buf, len), "no open file");
			return;
		}
		if (write_chunk(s, buf, n)) {
			count_lost(s, SINK_LOST_WRITE, count_lines(buf + n, len - n));
			return;
		}
		fresh = false;
		buf += n;
		len -= n;
	}
}

/* The loss record that stands for one record longer than max_message_length. */
static void put_oversize_loss(struct sink *s, struct jbuf *out, size_t bytes)
{
	struct format_field f[] = {
		{ .key = "source", .kind = FF_STR, .s = "sink" },
		{ .key = "counter", .kind = FF_STR, .s = "oversize_records" },
		{ .key = "count", .kind = FF_U64, .u = 1 },
		{ .key = "bytes", .kind = FF_U64, .u = bytes },
		{ .key = "max_message_length", .kind = FF_U64, .u = s->cfg.max_message_length },
	};

	s->fmt->event(out, &s->fo, 0, now_ns(CLOCK_REALTIME), "loss", f,
		      sizeof(f) / sizeof(f[0]));
	count_lost(s, SINK_LOST_OVERSIZE, 1);
}

static bool has_oversize(const char *buf, size_t len, size_t max)
{
	const char *p = buf, *end = buf + len, *nl;

	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (!nl)
			nl = end - 1;
		if ((size_t)(nl - p) > max)
			return true;
	}
	return false;
}

/*
 * A backstop: the formatters already cut every record to max_message_length,
 * so this finds nothing unless a record came from elsewhere. Each record
 * longer than that becomes a loss record in the sink's format (in s->over),
 * so no reader gets a line it cannot take. Returns the batch to write.
 */
static const char *cut_oversize(struct sink *s, const char *buf, size_t *len)
{
	size_t max = s->cfg.max_message_length, in = 0;

	if (*len <= max || !has_oversize(buf, *len, max))
		return buf;
	jbuf__reset(&s->over);
	while (in < *len) {
		const char *nl = memchr(buf + in, '\n', *len - in);
		size_t n = nl ? (size_t)(nl - (buf + in)) + 1 : *len - in;

		if (n > max + 1)
			put_oversize_loss(s, &s->over, n - 1);
		else
			jbuf__raw(&s->over, buf + in, n);
		in += n;
	}
	if (s->over.oom) {	/* cannot replace them: the records go as they are */
		log_warn("audit log %s: no memory to replace an oversize record",
			 s->cfg.output_file);
		return buf;
	}
	*len = s->over.len;
	return s->over.buf;
}

/* Write a part of a cycle's batch, oversize records replaced. */
static void write_part(struct sink *s, const char *buf, size_t len)
{
	buf = cut_oversize(s, buf, &len);
	write_records(s, buf, len);
}

/* ---- early buffering ---- */

static int early_init(struct early_ring *r, uint32_t cap)
{
	r->cap = cap;
	if (!cap)
		return 0;
	r->rec = calloc(cap, sizeof(*r->rec));
	r->len = calloc(cap, sizeof(*r->len));
	return r->rec && r->len ? 0 : -ENOMEM;
}

static void early_free(struct early_ring *r)
{
	uint32_t i;

	for (i = 0; r->rec && i < r->cap; i++)
		free(r->rec[i]);
	free(r->rec);
	free(r->len);
	memset(r, 0, sizeof(*r));
}

/* Keep one record; when full the oldest goes (counted). */
static void early_push(struct sink *s, const char *rec, size_t len)
{
	struct early_ring *r = &s->early;
	uint32_t slot = (r->head + r->n) % (r->cap ? r->cap : 1);
	char *copy;

	if (!r->cap || !(copy = malloc(len))) {
		count_lost(s, SINK_LOST_EARLY, 1);
		return;
	}
	memcpy(copy, rec, len);
	if (r->n == r->cap) {
		slot = r->head;
		free(r->rec[slot]);
		r->head = (r->head + 1) % r->cap;
		r->n--;
		count_lost(s, SINK_LOST_EARLY, 1);
	}
	r->rec[slot] = copy;
	r->len[slot] = len;
	r->n++;
}

static void early_buffer(struct sink *s, const char *buf, size_t len)
{
	const char *end = buf + len, *nl;

	for (; buf < end; buf = nl + 1) {
		nl = memchr(buf, '\n', end - buf);
		if (!nl)
			nl = end - 1;
		early_push(s, buf, nl - buf + 1);
	}
}

/* Write what was held, in order, then forget it. */
static void early_drain(struct sink *s)
{
	struct early_ring *r = &s->early;

	while (r->n) {
		uint32_t i = r->head;

		if (s->fd >= 0)
			write_part(s, r->rec[i], r->len[i]);
		free(r->rec[i]);
		r->rec[i] = NULL;
		r->head = (r->head + 1) % r->cap;
		r->n--;
	}
}

static void finish_setup(struct sink *s)
{
	__atomic_store_n(&s->set_up, true, __ATOMIC_RELEASE);
	s->next_interval = next_boundary(s->cfg.rotate_interval);
	cut_torn_tail(s);
	put_file_header(s);
	if (s->chain)
		chain_begin(s);
	rotator__prune_age(s->rot);
}

/* Unset output: try again once RETRY_NS passed (or when stopping). */
static void retry_setup(struct sink *s, bool force)
{
	char err[512];
	uint64_t now = now_ns(CLOCK_MONOTONIC);

	if (!force && now < s->next_retry)
		return;
	s->next_retry = now + RETRY_NS;
	if (open_locked(s, err, sizeof(err)))
		return;
	log_info("audit log %s is set up now: writing %u buffered records", s->cfg.output_file,
		 s->early.n);
	finish_setup(s);
	early_drain(s);
	do_sync(s);
	pthread_mutex_lock(&s->mu);
	pthread_cond_broadcast(&s->done);	/* sink__is_set_up waiters */
	pthread_mutex_unlock(&s->mu);
}

/* ---- space left ---- */

static const char *const space_action_names[] = {
	[SPACE_WARN] = "warn", [SPACE_ROTATE] = "rotate", [SPACE_SUSPEND] = "suspend",
	[SPACE_EXIT] = "exit",
};

static void space_act(struct sink *s, uint64_t avail)
{
	char why[sizeof(s->fatal_reason)];

	switch (s->cfg.space_left_action) {
	case SPACE_ROTATE:
		s->next_space_rotate = now_ns(CLOCK_MONOTONIC) + SPACE_ROTATE_NS;
		rotator__drop_oldest(s->rot);
		rotate_now(s, "space_left");
		break;
	case SPACE_SUSPEND:
		s->suspended = true;
		break;
	case SPACE_EXIT:
		snprintf(why, sizeof(why), "audit log %s: space_left_mb reached: %llu MiB left on "
			 "its file system, below %llu (space_left_action: exit)", s->cfg.output_file,
			 (unsigned long long)(avail >> 20),
			 (unsigned long long)(s->cfg.space_left >> 20));
		want_stop(s, -ENOSPC, why, "free space, then restart");
		break;
	case SPACE_WARN:
		break;
	}
}

/*
 * Before each batch: would writing it leave less than space_left_mb free?
 * One fstatvfs per batch, on the write path, so the action comes before a
 * fast fill reaches ENOSPC. The warning comes once each time space runs
 * short (it is back 1 MiB above space_left_mb); rotate repeats (dropping the next oldest file) at most once a
 * second while it stays short; suspend lasts until space is back.
 */
static void check_space(struct sink *s, uint64_t incoming)
{
	struct statvfs vfs;
	uint64_t avail;

	if (!s->cfg.space_left || s->fd < 0 || fstatvfs(s->fd, &vfs))
		return;
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	/* once short, back only with room to spare: big and small batches do not flap it */
	if (avail >= s->cfg.space_left + incoming + (s->space_low ? SPACE_BACK_BYTES : 0)) {
		if (s->space_low)
			log_info("audit log %s: free space is back above space_left_mb %llu%s",
				 s->cfg.output_file, (unsigned long long)(s->cfg.space_left >> 20),
				 s->suspended ? ": writing again" : "");
		s->space_low = s->suspended = false;
		return;
	}
	if (!s->space_low) {
		s->space_low = true;
		log_warn("audit log %s: %llu MiB left on its file system, below space_left_mb %llu "
			 "(space_left_action: %s)", s->cfg.output_file,
			 (unsigned long long)(avail >> 20),
			 (unsigned long long)(s->cfg.space_left >> 20),
			 space_action_names[s->cfg.space_left_action]);
		space_act(s, avail);
	} else if (s->cfg.space_left_action == SPACE_ROTATE &&
		   now_ns(CLOCK_MONOTONIC) >= s->next_space_rotate) {
		space_act(s, avail);
	}
}

/* ---- the writer ---- */

struct cycle {
	char *buf;
	size_t len, crit;
	uint32_t nrec;
	bool sync, rotate, stop;
};

static bool sync_due(const struct sink *s, const struct cycle *c)
{
	if (!s->unsynced_recs)
		return false;
	if (c->sync || c->stop || s->cfg.flush_mode == FLUSH_IMMEDIATE)
		return true;
	return s->unsynced_recs >= s->cfg.batch_size ||
	       now_ns(CLOCK_MONOTONIC) - s->unsynced_since >=
	       s->cfg.batch_interval_ms * 1000000ULL;
}

/* The file could not be reopened after a rotation: try again. */
static bool reopen_if_closed(struct sink *s, uint32_t nrec)
{
	char err[512];
	int e;

	if (s->fd >= 0)
		return true;
	e = open_file(s, err, sizeof(err));
	if (e) {
		char what[600];

		snprintf(what, sizeof(what), "cannot open it again (%s)", err);
		write_failed(s, e, nrec, what);
		return false;
	}
	/*
	 * The rename of a rotation went through, or the old file left its
	 * path: the new file starts as any new file.
	 */
	if (!s->size || s->gone_why)
		start_file(s, "reopen");
	return true;
}

/*
 * How the open file left its path, or NULL while it is still there: an
 * external logrotate without SIGHUP moves it, an operator deletes it,
 * someone swaps it. Records written to it after that are not where a
 * reader looks. One fstat and one lstat per batch.
 */
static const char *file_gone(const struct sink *s)
{
	struct stat fst, pst;

	if (fstat(s->fd, &fst))
		return NULL;
	if (!fst.st_nlink)
		return "unlinked";
	if (lstat(s->where, &pst))
		return errno == ENOENT || errno == ENOTDIR ? "moved" : NULL;
	if (pst.st_dev != s->dev || pst.st_ino != s->ino)
		return "replaced";
	return NULL;
}

/*
 * Before each batch: is the file still at its path? (since_check counts
 * the lines written since the last look.) If not, say so, close
 * it and open the path again with every check (reopen_if_closed, which
 * also retries while the path is refused). Records written to a file
 * deleted under the writer are lost: counted.
 */
static void reopen_if_gone(struct sink *s)
{
	const char *why;

	if (s->fd < 0 || !(why = file_gone(s))) {
		s->since_check = 0;
		return;
	}
	log_warn("audit log %s was %s while open (%llu records written to it since it was last "
		 "seen in place%s): opening the path again", s->cfg.output_file, why,
		 (unsigned long long)s->since_check,
		 strcmp(why, "unlinked") ? "" : ", lost with it");
	if (!strcmp(why, "unlinked"))
		count_lost(s, SINK_LOST_UNLINKED, s->since_check);
	do_sync(s);
	close(s->fd);
	s->fd = -1;
	s->gone_why = why;
	s->gone_recs = s->since_check;
	s->since_check = 0;
}

static void writer_cycle(struct sink *s, struct cycle *c)
{
	if (!s->set_up) {
		retry_setup(s, c->stop);
		if (!s->set_up) {
			early_buffer(s, c->buf, c->len);
			return;
		}
	}
	if (c->len)
		reopen_if_gone(s);	/* a look before each batch, none while idle */
	if (!reopen_if_closed(s, c->nrec))
		return;
	if (c->rotate || now_ns(CLOCK_REALTIME) >= s->next_interval)
		rotate_now(s, c->rotate ? "signal" : "interval");
	check_space(s, c->len + (s->chain ? (uint64_t)c->nrec * CHAIN_OVERHEAD : 0));
	if (s->suspended) {
		count_lost(s, SINK_LOST_SUSPEND, c->nrec);
	} else if (s->cfg.flush_mode == FLUSH_HYBRID && c->crit) {
		/* the critical record is on disk before any later one is written */
		write_part(s, c->buf, c->crit);
		do_sync(s);
		write_part(s, c->buf + c->crit, c->len - c->crit);
	} else {
		write_part(s, c->buf, c->len);
	}
	if (sync_due(s, c))
		do_sync(s);
	maybe_checkpoint(s, false);
}

/* Under mu: the earliest time the writer must wake without new records. */
static uint64_t writer_deadline(const struct sink *s)
{
	uint64_t d = UINT64_MAX, mono = now_ns(CLOCK_MONOTONIC);
	uint64_t real = now_ns(CLOCK_REALTIME);

	if (!s->set_up)
		d = s->next_retry;
	else if (s->unsynced_recs)
		d = s->unsynced_since + s->cfg.batch_interval_ms * 1000000ULL;
	if (s->set_up && s->next_interval != UINT64_MAX) {
		uint64_t iv = s->next_interval > real ? s->next_interval - real : 0;

		if (mono + iv < d)
			d = mono + iv;
	}
	if (s->chain && s->since_ckpt && s->cfg.integrity.checkpoint_interval_s &&
	    s->next_ckpt < d)
		d = s->next_ckpt;
	return d;
}

/* Under mu: wait for records, a request, or the deadline. false: stop. */
static bool writer_wait(struct sink *s)
{
	while (!s->fill_len && !s->sync_wanted && !s->rotate_wanted && !s->stop) {
		uint64_t d = writer_deadline(s);
		struct timespec ts = { .tv_sec = d / 1000000000ULL, .tv_nsec = d % 1000000000ULL };

		if (d == UINT64_MAX)
			pthread_cond_wait(&s->work, &s->mu);
		else if (pthread_cond_timedwait(&s->work, &s->mu, &ts) == ETIMEDOUT)
			return true;
	}
	return s->fill_len || s->sync_wanted || s->rotate_wanted || !s->stop;
}

/* Under mu: take everything queued (group commit). */
static void take_queue(struct sink *s, struct cycle *c)
{
	size_t cap = s->fill_cap;

	c->buf = s->fill;
	c->len = s->fill_len;
	c->crit = s->fill_crit;
	c->nrec = s->fill_recs;
	c->sync = s->sync_wanted;
	c->rotate = s->rotate_wanted;
	c->stop = s->stop;
	s->fill = s->spare;
	s->spare = c->buf;
	s->fill_cap = s->spare_cap;
	s->spare_cap = cap;
	s->fill_len = s->fill_crit = 0;
	s->fill_recs = 0;
	s->sync_wanted = s->rotate_wanted = false;
}

static void *writer_main(void *arg)
{
	struct sink *s = arg;
	struct cycle last = { .stop = true };	/* a last setup try, a last sync */

	pthread_mutex_lock(&s->mu);
	while (writer_wait(s)) {
		struct cycle c;
		uint64_t gen = s->queued_gen;

		take_queue(s, &c);
		s->in_cycle = true;
		pthread_mutex_unlock(&s->mu);
		writer_cycle(s, &c);
		progress(s);
		pthread_mutex_lock(&s->mu);
		s->in_cycle = false;
		/* a failing sink releases flushers too: they read the error */
		if (!s->unsynced_recs || !s->set_up || s->failing)
			s->synced_gen = gen;
		pthread_cond_broadcast(&s->done);
	}
	pthread_mutex_unlock(&s->mu);
	writer_cycle(s, &last);
	maybe_checkpoint(s, true);	/* the anchor then covers the log to its end */
	save_state(s, true);
	format__thread_free();	/* the writer's own records were formatted here */
	return NULL;
}

/* ---- producers ---- */

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 65536;
	char *p;

	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

int sink__put(struct sink *s, const char *buf, size_t len, uint32_t nrec, size_t crit_len)
{
	int err = 0;

	pthread_mutex_lock(&s->mu);
	if (s->fill_len + len > s->max_bytes ||
	    (s->fill_len + len > s->fill_cap && grow(&s->fill, &s->fill_cap, s->fill_len + len))) {
		s->dropped += nrec;
		err = -ENOBUFS;
	} else {
		memcpy(s->fill + s->fill_len, buf, len);
		if (crit_len)
			s->fill_crit = s->fill_len + crit_len;
		s->fill_len += len;
		s->fill_recs += nrec;
		s->queued_gen++;
		pthread_cond_signal(&s->work);
	}
	pthread_mutex_unlock(&s->mu);
	return err;
}

int sink__write(struct sink *s, const char *rec, size_t len)
{
	return sink__put(s, rec, len, count_lines(rec, len), 0);
}

int sink__flush(struct sink *s)
{
	uint64_t gen;
	int err;

	pthread_mutex_lock(&s->mu);
	gen = s->queued_gen;
	s->sync_wanted = true;
	pthread_cond_signal(&s->work);
	/* and the cycle that took the request is over: the writer is idle then */
	while (s->synced_gen < gen || s->sync_wanted || s->in_cycle)
		pthread_cond_wait(&s->done, &s->mu);
	err = s->fatal;
	pthread_mutex_unlock(&s->mu);
	return err;
}

void sink__rotate(struct sink *s)
{
	pthread_mutex_lock(&s->mu);
	s->rotate_wanted = true;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
}

/* ---- lifetime ---- */

static void sink_free(struct sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	unlock_output(s);
	free(s->lock_path);
	free(s->where);
	if (!s->rot_taken)
		rotator__free(s->rot);
	early_free(&s->early);
	jbuf__free(&s->jb);
	jbuf__free(&s->over);
	chain__free(s->chain);
	OPENSSL_cleanse(s->key0, sizeof(s->key0));
	OPENSSL_cleanse(s->state_key, sizeof(s->state_key));
	free(s->state_path);
	free(s->anchor_path);
	free(s->sealed);
	sink_config__free(&s->cfg);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->dur_mu);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	free(s->fill);
	free(s->spare);
	free(s);
}

static struct sink *sink_alloc(const struct sink_config *cfg, size_t queue_bytes)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct outpath_req req;
	pthread_condattr_t mono;

	if (!s)
		return NULL;
	s->fd = -1;
	s->lock_fd = -1;
	s->refs = 1;
	pthread_condattr_init(&mono);
	/* writer deadlines are on CLOCK_MONOTONIC: wall clock steps do not move them */
	pthread_condattr_setclock(&mono, CLOCK_MONOTONIC);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->dur_mu, NULL);
	pthread_cond_init(&s->work, &mono);
	pthread_cond_init(&s->done, NULL);
	pthread_condattr_destroy(&mono);
	jbuf__init(&s->jb);
	jbuf__init(&s->over);
	s->fmt = formatter__find(sink_type(cfg));
	s->fo.max_message_length = cfg->max_message_length;
	s->fo.redactor = cfg->redactor;
	s->max_bytes = queue_bytes ? queue_bytes : SINK_DEFAULT_QUEUE_BYTES;
	log_req(cfg, &req);
	if (sink_config__copy(&s->cfg, cfg) || early_init(&s->early, cfg->event_buffer_size) ||
	    !(s->lock_path = side_path(s, NULL, ".lock")) ||
	    !(s->where = side_path(s, NULL, "")) ||
	    !(s->rot = rotator__new(&req, cfg->backup_count, cfg->compress,
				    cfg->max_age_days))) {
		sink_free(s);
		return NULL;
	}
	return s;
}

#define WARN_IGNORED(key, fmt, a, b) do {						\
	if ((a) != (b))									\
		log_warn("audit log %s is shared: the first sink's " key " (" fmt ") "	\
			 "applies, " key " " fmt " of the sink at line %d is ignored",	\
			 s->cfg.output_file, (a), (b), cfg->line);			\
} while (0)

/* A second sink on the same file: say which of its settings do not apply. */
static void warn_ignored(const struct sink *s, const struct sink_config *cfg)
{
	WARN_IGNORED("max_file_size_mb", "%llu", (unsigned long long)(s->cfg.max_file_size >> 20),
		     (unsigned long long)(cfg->max_file_size >> 20));
	WARN_IGNORED("backup_count", "%u", s->cfg.backup_count, cfg->backup_count);
	WARN_IGNORED("rotate_interval", "%d", (int)s->cfg.rotate_interval, (int)cfg->rotate_interval);
	WARN_IGNORED("compress", "%d", (int)s->cfg.compress, (int)cfg->compress);
	WARN_IGNORED("max_age_days", "%u", s->cfg.max_age_days, cfg->max_age_days);
	WARN_IGNORED("flush_mode", "%s", config__flush_mode_name(s->cfg.flush_mode),
		     config__flush_mode_name(cfg->flush_mode));
	WARN_IGNORED("batch_size", "%u", s->cfg.batch_size, cfg->batch_size);
	WARN_IGNORED("batch_interval_ms", "%u", s->cfg.batch_interval_ms, cfg->batch_interval_ms);
	WARN_IGNORED("file_mode", "%04o", s->cfg.file_mode, cfg->file_mode);
	WARN_IGNORED("max_message_length", "%u", s->cfg.max_message_length,
		     cfg->max_message_length);
	if (strcmp(sink_type(&s->cfg), sink_type(cfg)))
		log_warn("audit log %s is shared: the first sink's type (%s) applies, type %s of "
			 "the sink at line %d is ignored; give it its own output_file",
			 s->cfg.output_file, sink_type(&s->cfg), sink_type(cfg), cfg->line);
}

/* Under registry_mu: the open sink writing the same file, if any. */
static struct sink *registry_find(dev_t dev, ino_t ino)
{
	struct sink *s;

	for (s = registry; s; s = s->next)
		if (s->set_up && s->dev == dev && s->ino == ino)
			return s;
	return NULL;
}

static void registry_unlink(struct sink *s)
{
	struct sink **pp;

	for (pp = &registry; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

/* Share an open writer of the same file: one more reference. */
static struct sink *share(struct sink *fresh, const struct sink_config *cfg)
{
	struct sink *s = registry_find(fresh->dev, fresh->ino);

	if (!s)
		return NULL;
	warn_ignored(s, cfg);
	pthread_mutex_lock(&s->mu);
	s->refs++;
	if (cfg->critical)
		s->cfg.critical = true;	/* the stricter handling wins */
	pthread_mutex_unlock(&s->mu);
	sink_free(fresh);
	return s;
}

/*
 * The signal a stopping collector sends a stuck writer: a handler that does
 * nothing, installed without SA_RESTART, so a blocking open, write or wait
 * returns EINTR.
 */
#define SINK_KICK_SIG (SIGRTMIN + 2)

static void on_kick(int sig)
{
	(void)sig;
}

static void install_kick(void)
{
	struct sigaction sa = { .sa_handler = on_kick };

	sigemptyset(&sa.sa_mask);
	sigaction(SINK_KICK_SIG, &sa, NULL);
}

/*
 * Writers take no signal but the kick: SIGTERM, SIGINT, SIGHUP and SIGUSR1
 * go to the main thread, which stops, reloads or rotates.
 */
static int spawn_writer(struct sink *s)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	sigset_t all, old;
	int err;

	pthread_once(&once, install_kick);
	sigfillset(&all);
	sigdelset(&all, SINK_KICK_SIG);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&s->thread, NULL, writer_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

static int start(struct sink *s, struct sink **out)
{
	int err = spawn_writer(s);

	if (err) {
		log_err("cannot start the writer thread for %s: %s", s->cfg.output_file,
			strerror(err));
		return -err;
	}
	s->next = registry;
	registry = s;
	*out = s;
	return 0;
}

int sink__create(struct sink **out, const struct sink_config *cfg, size_t queue_bytes,
		 char *err, size_t errlen)
{
	struct sink *s, *shared;
	int e;

	if (!formatter__find(sink_type(cfg))) {
		snprintf(err, errlen, "audit log %s: unknown type '%s'; use json_lines, cef, "
			 "syslog, line or csv", cfg->output_file, cfg->type);
		return -EINVAL;
	}
	s = sink_alloc(cfg, queue_bytes);
	if (!s)
		return -ENOMEM;
	e = chain_open(s, err, errlen);
	if (e) {
		sink_free(s);
		return e;
	}
	pthread_mutex_lock(&registry_mu);
	e = open_file(s, err, errlen);
	if (!e && (shared = share(s, cfg))) {
		*out = shared;
		goto out_unlock;
	}
	if (!e && (e = lock_output(s, err, errlen))) {
		close(s->fd);
		s->fd = -1;
	}
	if (e && cfg->critical)
		goto out_free;
	if (e)
		log_warn("%s; buffering up to %u records and retrying every second", err,
			 cfg->event_buffer_size);
	else
		finish_setup(s);
	s->next_retry = now_ns(CLOCK_MONOTONIC) + RETRY_NS;
	e = start(s, out);
	if (e)
		goto out_free;
out_unlock:
	pthread_mutex_unlock(&registry_mu);
	return 0;
out_free:
	pthread_mutex_unlock(&registry_mu);
	sink_free(s);
	return e;
}

int sink__open(struct sink **out, const char *path, size_t queue_bytes)
{
	struct sink_config cfg;
	char err[512];
	int e;

	sink_config__defaults(&cfg);
	e = sink_config__set_output(&cfg, path, err, sizeof(err));
	if (!e)
		e = sink__create(out, &cfg, queue_bytes, err, sizeof(err));
	if (e)
		log_err("%s", err);
	sink_config__free(&cfg);
	return e;
}

/* Writers left behind, stuck in I/O: never freed, they may still wake up. */
static struct sink *left_behind;

/*
 * Join the writer while it makes progress. One that made none for
 * STOP_STALL_NS is kicked (its blocking call returns EINTR, and it retries
 * nothing more); still nothing STOP_GRACE_NS later, it is left behind: a
 * file system that does not answer (a hung NFS server, a frozen file
 * system) must not keep the collector from stopping. false: left behind.
 */
static bool join_writer(struct sink *s)
{
	uint64_t beat = __atomic_load_n(&s->beat, __ATOMIC_RELAXED), b;
	uint64_t since = now_ns(CLOCK_MONOTONIC), now;
	bool kicked = false;

	for (;;) {
		uint64_t d = now_ns(CLOCK_REALTIME) + 20000000ULL;
		struct timespec ts = { .tv_sec = d / 1000000000ULL, .tv_nsec = d % 1000000000ULL };

		if (!pthread_timedjoin_np(s->thread, NULL, &ts))
			return true;
		now = now_ns(CLOCK_MONOTONIC);
		b = __atomic_load_n(&s->beat, __ATOMIC_RELAXED);
		if (b != beat) {
			beat = b;
			since = now;
			kicked = false;
		} else if (!kicked && now - since >= STOP_STALL_NS) {
			__atomic_store_n(&s->kicked, true, __ATOMIC_RELAXED);
			pthread_kill(s->thread, SINK_KICK_SIG);
			kicked = true;
			since = now;
		} else if (kicked && now - since >= STOP_GRACE_NS) {
			return false;
		}
	}
}

/* A writer that did not stop: say what is lost with it and keep it. */
static int leave_behind(struct sink *s)
{
	uint32_t queued;

	pthread_mutex_lock(&s->mu);
	queued = s->fill_recs;
	pthread_mutex_unlock(&s->mu);
	count_lost(s, SINK_LOST_STUCK, queued);
	log_err("audit log %s: its writer is stuck in I/O (the file system does not answer): "
		"stopping without it; %u records still queued for it are lost", s->cfg.output_file,
		queued);
	s->left = true;
	pthread_mutex_lock(&registry_mu);
	s->next = left_behind;
	left_behind = s;
	pthread_mutex_unlock(&registry_mu);
	return -EIO;
}

/*
 * sink__flush that gives up (-EIO) when the writer makes no progress for
 * STOP_STALL_NS: closing a shared sink's other references (a reload, a
 * stop) never waits on a stuck file system.
 */
static int flush_bounded(struct sink *s)
{
	uint64_t gen, beat = __atomic_load_n(&s->beat, __ATOMIC_RELAXED);
	uint64_t since = now_ns(CLOCK_MONOTONIC);
	int err;

	pthread_mutex_lock(&s->mu);
	gen = s->queued_gen;
	s->sync_wanted = true;
	pthread_cond_signal(&s->work);
	while (s->synced_gen < gen || s->sync_wanted || s->in_cycle) {
		uint64_t d = now_ns(CLOCK_REALTIME) + 20000000ULL, b;
		struct timespec ts = { .tv_sec = d / 1000000000ULL, .tv_nsec = d % 1000000000ULL };

		pthread_cond_timedwait(&s->done, &s->mu, &ts);
		b = __atomic_load_n(&s->beat, __ATOMIC_RELAXED);
		if (b != beat) {
			beat = b;
			since = now_ns(CLOCK_MONOTONIC);
		} else if (now_ns(CLOCK_MONOTONIC) - since >= STOP_STALL_NS) {
			pthread_mutex_unlock(&s->mu);
			log_err("audit log %s: its writer is stuck in I/O: not waiting for it to flush",
				s->cfg.output_file);
			return -EIO;
		}
	}
	err = s->fatal;
	pthread_mutex_unlock(&s->mu);
	return err;
}

/* Stop the writer after it wrote (or, unset, counted) everything queued. */
static int stop_writer(struct sink *s)
{
	int err;

	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
	if (!join_writer(s))
		return leave_behind(s);
	if (s->early.n) {
		log_err("audit log %s was never set up: %u buffered records are lost",
			s->cfg.output_file, s->early.n);
		count_lost(s, SINK_LOST_UNSET, s->early.n);
	}
	rotator__wait_idle(s->rot);
	err = s->fatal;
	if (s->fd >= 0 && close(s->fd) && !err)
		err = -errno;
	s->fd = -1;
	return err;
}

int sink__close(struct sink *s)
{
	bool last;
	int err;

	if (!s)
		return 0;
	pthread_mutex_lock(&registry_mu);
	pthread_mutex_lock(&s->mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->mu);
	if (last)
		registry_unlink(s);
	pthread_mutex_unlock(&registry_mu);
	if (!last)
		return flush_bounded(s);
	err = stop_writer(s);
	if (!s->left)
		sink_free(s);
	return err;
}

int sink__failed(const struct sink *s, const char **reason)
{
	int err = __atomic_load_n(&s->fatal, __ATOMIC_ACQUIRE);

	if (reason)
		*reason = err ? s->fatal_reason : NULL;
	return err;
}

bool sink__critical(const struct sink *s)
{
	return s->cfg.critical;
}

bool sink__is_set_up(const struct sink *s)
{
	return __atomic_load_n(&s->set_up, __ATOMIC_ACQUIRE);
}

bool sink__wait_set_up(struct sink *s, int timeout_ms)
{
	uint64_t d = now_ns(CLOCK_REALTIME) + timeout_ms * 1000000ULL;
	struct timespec ts = { .tv_sec = d / 1000000000ULL, .tv_nsec = d % 1000000000ULL };
	bool up;

	pthread_mutex_lock(&s->mu);
	while (!(up = sink__is_set_up(s)) &&
	       pthread_cond_timedwait(&s->done, &s->mu, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->mu);
	return up || sink__is_set_up(s);
}

uint64_t sink__dropped(const struct sink *s)
{
	return __atomic_load_n(&s->dropped, __ATOMIC_RELAXED);
}

uint64_t sink__lost(const struct sink *s, enum sink_lost what)
{
	uint64_t recs = 0, files;
	uint32_t hold, gen;

	if (what == SINK_LOST_FORWARD_SPOOL) {	/* counted where the files go */
		if (s->rot_taken)
			rotator__hold_state(s->rot, &hold, &gen, &recs, &files);
		return recs;
	}
	return what < SINK_LOST_MAX ? __atomic_load_n(&s->lost[what], __ATOMIC_RELAXED) : 0;
}

bool sink__durable(struct sink *s, uint64_t ino, uint64_t *size)
{
	bool same;

	pthread_mutex_lock(&s->dur_mu);
	same = s->durable_ino == ino;
	*size = s->durable_size;
	pthread_mutex_unlock(&s->dur_mu);
	return same;
}

struct rotator *sink__take_rotator(struct sink *s)
{
	struct rotator *r;

	pthread_mutex_lock(&s->mu);
	r = s->rot_taken ? NULL : s->rot;
	s->rot_taken = true;
	pthread_mutex_unlock(&s->mu);
	return r;
}

const char *sink__path(const struct sink *s)
{
	return s->cfg.output_file;
}

uint32_t sink__refs(const struct sink *s)
{
	return s->refs;
}

const struct formatter *sink__formatter(const struct sink *s, struct format_opts *o)
{
	*o = s->fo;
	return s->fmt;
}
