// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Writer thread per output file. Producers queue batches of whole records
 * under the lock (batchq.h: a producer's buffer is taken, not copied); the
 * writer takes every queued batch at once and does all I/O outside the
 * lock, so each cycle carries everything queued since the last one: with
 * flush_mode immediate that is group commit (one fdatasync for every record
 * that arrived while the previous sync ran).
 */
#include <errno.h>
#include <stddef.h>
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
#include "batchq.h"
#include "chain.h"
#include "logset.h"
#include "sealer.h"
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
	struct batchq q;		/* the records queued for the writer */
	struct batch_list run;		/* the batches the writer took (its own during a cycle) */
	size_t max_bytes;
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
	uint32_t *over_end;		/* its record ends */
	uint32_t over_end_cap;

	/* integrity chain (NULL: off); the writer owns it once started (sealer.h) */
	struct sealer *seal;

	/* read by the collector */
	int fatal;			/* -errno: a critical sink cannot go on */
	char fatal_reason[1024];
	uint64_t dropped;
	uint64_t lost[SINK_LOST_MAX];
	struct sink_stats st;		/* health and metrics: see sink__stats */
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

/* Figures of sink__stats: the writer adds, readers load, no lock. */
static void stat_add(uint64_t *v, uint64_t n)
{
	__atomic_add_fetch(v, n, __ATOMIC_RELAXED);
}

static void stat_set(uint64_t *v, uint64_t n)
{
	__atomic_store_n(v, n, __ATOMIC_RELAXED);
}

static void stat_error(struct sink *s, int err)
{
	__atomic_store_n(&s->st.last_errno, err < 0 ? -err : err, __ATOMIC_RELAXED);
	stat_set(&s->st.last_error_ns, now_ns(CLOCK_REALTIME));
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
	if (fstat(fd, &st)) {	/* outpath__open has fstat'ed this fd already: not expected */
		int e = -errno;

		snprintf(err, errlen, "audit log %s: cannot stat it: %s", s->cfg.output_file,
			 strerror(-e));
		close(fd);
		return e;
	}
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

/* Ask the collector to stop (once): err, the reason collector_stop gives, what to do. */
static void want_stop(struct sink *s, int err, const char *reason, const char *remedy)
{
	pthread_mutex_lock(&s->mu);
	if (!s->fatal) {
		snprintf(s->fatal_reason, sizeof(s->fatal_reason), "%s", reason);
		__atomic_store_n(&s->fatal, err, __ATOMIC_RELEASE);
		log_err("%s; stopping the collector (%s)", s->fatal_reason, remedy);
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
	stat_error(s, err);
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
	stat_add(&s->st.records, nrec);
	stat_add(&s->st.bytes, total);
	stat_set(&s->st.last_write_ns, now_ns(CLOCK_REALTIME));
	s->since_check += nrec;
	s->unsynced_recs += nrec;
	if (!s->unsynced_since)
		s->unsynced_since = now_ns(CLOCK_MONOTONIC);
	write_ok(s);
	return 0;
}

static int write_buf(struct sink *s, const char *buf, size_t len, uint32_t nrec)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return write_iov(s, &iov, 1, nrec);
}

static void save_state(struct sink *s, bool durable);

const uint64_t sink_fsync_le_ns[SINK_FSYNC_BUCKETS] = {
	100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 1000000000,
};

static void stat_fsync(struct sink *s, uint64_t ns)
{
	int b = 0;

	while (b < SINK_FSYNC_BUCKETS && ns > sink_fsync_le_ns[b])
		b++;
	stat_add(&s->st.fsync_hist[b], 1);
	stat_add(&s->st.fsync_ns_sum, ns);
	stat_add(&s->st.fsyncs, 1);
	stat_set(&s->st.last_sync_ns, now_ns(CLOCK_REALTIME));
}

static void do_sync(struct sink *s)
{
	uint64_t t0;

	if (!s->unsynced_recs || s->fd < 0)
		return;
	t0 = now_ns(CLOCK_MONOTONIC);
	if (fdatasync(s->fd)) {
		write_failed(s, -errno, 0, "fdatasync failed");
		progress(s);
		return;
	}
	stat_fsync(s, now_ns(CLOCK_MONOTONIC) - t0);
	progress(s);
	s->unsynced_recs = 0;
	s->unsynced_since = 0;
	set_durable(s);
	save_state(s, false);	/* a restart after kill -9 resumes from here */
}

/* ---- integrity chain (docs/integrity.md) ---- */

/* Seal r's records and write them; a failed write leaves the chain where it was. */
static int write_chunk(struct sink *s, const struct recs *r)
{
	const char *sealed;
	size_t len = 0;
	int e;

	if (!s->seal)
		return write_buf(s, recs__ptr(r), recs__bytes(r), r->n);
	e = sealer__seal(s->seal, r, &sealed, &len);
	if (e)
		write_failed(s, e, r->n, "cannot seal records (libcrypto)");
	else
		e = write_buf(s, sealed, len, r->n);
	sealer__written(s->seal, !e);
	if (!e)
		stat_set(&s->st.chain_seq, sealer__state(s->seal)->seq);
	return e;
}

/* Persist the chain's position; durable: fsync'ed before the rename. */
static void save_state(struct sink *s, bool durable)
{
	struct outpath_req at;
	char err[512];
	int e;

	if (!s->seal || !s->seal->begun)
		return;
	side_req(s, s->seal->state_path, s->cfg.integrity.state_file, "chain state", 0600, &at);
	e = sealer__save(s->seal, &at, s->cfg.output_file, durable, err, sizeof(err));
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
	const struct chain_state *st = sealer__state(s->seal);

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
	return write_chunk(s, &(struct recs){ .buf = s->jb.buf,
					     .end = &(uint32_t){ (uint32_t)s->jb.len }, .n = 1 });
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
	if (s->seal)
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
		if (s->seal->anchor_failing)
			log_info("audit log %s: anchor file %s written again", s->cfg.output_file,
				 s->seal->anchor_path);
		s->seal->anchor_failing = false;
		return;
	}
	if (s->cfg.critical) {
		snprintf(why, sizeof(why), "critical audit log %s: %s", s->cfg.output_file, err);
		want_stop(s, e, why, "fix the anchor file, then restart");
	} else if (!s->seal->anchor_failing) {
		log_warn("audit log %s: %s; checkpoints are in the log only until it can be "
			 "written (said once)", s->cfg.output_file, err);
	}
	s->seal->anchor_failing = true;
}

static void checkpoint(struct sink *s, const char *why)
{
	const struct chain_state *st = sealer__state(s->seal);
	uint64_t recs = s->seal->since_ckpt;
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
	side_req(s, s->seal->anchor_path, s->cfg.integrity.anchor_file, "anchor file",
		 s->cfg.file_mode, &at);
	e = chainfile__anchor(&at, s->cfg.output_file, st->seq - 1, st->head, err, sizeof(err));
	anchor_result(s, e, err);
	save_state(s, true);
	sealer__checkpointed(s->seal, s->cfg.integrity.checkpoint_interval_s,
			     now_ns(CLOCK_MONOTONIC));
	stat_add(&s->st.checkpoints, 1);
	stat_set(&s->st.last_ckpt_ns, now_ns(CLOCK_REALTIME));
}

/* A checkpoint every checkpoint_every records or checkpoint_interval_s (or forced). */
static void maybe_checkpoint(struct sink *s, bool force)
{
	const char *why;

	if (!s->seal || s->fd < 0)
		return;
	why = sealer__due(s->seal, &s->cfg.integrity, force, now_ns(CLOCK_MONOTONIC));
	if (why)
		checkpoint(s, why);
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
	logset__name(prev, sizeof(prev), s->cfg.output_file, 1, s->cfg.compress);
	wrec_str(&w, "reason", s->gone_why ? s->gone_why : reason);
	if (s->seal)
		chain_fields(s, &w);	/* the previous file's last chain value, and its seq */
	wrec_str(&w, "file", s->cfg.output_file);
	if (s->gone_why)
		wrec_u64(&w, "old_file_records", s->gone_recs);
	else if (s->cfg.backup_count)
		wrec_str(&w, "previous", prev);
	s->gone_why = NULL;
	return record_write(s, &w);
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

	if (!anchored || (!stat(s->seal->anchor_path, &st) && st.st_size > 0))
		return;
	log_warn("audit log %s: anchor file %s held checkpoints and is now missing or empty "
		 "(deleted on the host?); writing an anchor_missing record and starting it anew: "
		 "verify older checkpoints against a copy shipped off the host",
		 s->cfg.output_file, s->seal->anchor_path);
	chain_fields(s, &w);
	wrec_str(&w, "anchor", s->seal->anchor_path);
	record_write(s, &w);
}

/* The first record of this run: chain_resume, or chain_gap starting over. */
static void chain_begin(struct sink *s)
{
	struct chain_state st;
	bool anchored = false;
	const char *why = sealer__resume_check(s->seal, s->fd, s->size, &s->cfg, &st, &anchored);
	struct wrec w = { .type = why ? "chain_gap" : "chain_resume" };

	if (why) {
		wrec_str(&w, "reason", why);
		if (strcmp(why, "first_start"))
			log_warn("audit log %s: chain state %s: %s; writing a chain_gap record and "
				 "starting a new chain", s->cfg.output_file, s->seal->state_path,
				 why);
	} else if (s->seal->caught_up) {
		wrec_u64(&w, "caught_up", s->seal->caught_up);
		log_info("audit log %s: chain state was %llu records behind (a crash): "
			 "re-verified them and resumed", s->cfg.output_file,
			 (unsigned long long)s->seal->caught_up);
	}
	sealer__begin(s->seal, why, &st, s->cfg.integrity.checkpoint_interval_s,
		      now_ns(CLOCK_MONOTONIC));
	/*
	 * An empty file after LOG.1, whose last record the chain's head is: a
	 * rotation cut short (a kill before the new file's first record), or a
	 * logrotate (create, then SIGHUP). Its rotate record is written now, so
	 * the set reads as one chain across the two files.
	 */
	if (!why && s->seal->from_rotated)
		put_rotate_record(s, "resume");
	chain_fields(s, &w);
	wrec_str(&w, "file", s->cfg.output_file);
	if (!record_write(s, &w)) {
		anchor_check(s, anchored);
		do_sync(s);
		save_state(s, true);
	}
}

/* The new file's rotate record on disk, and the chain state with it. */
static void start_file(struct sink *s, const char *reason)
{
	if (!put_rotate_record(s, reason) && s->seal) {
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
	stat_add(&s->st.rotations, 1);
	start_file(s, reason);
}

/*
 * How many of r's first records still fit under max_file_size, each
 * CHAIN_OVERHEAD longer when sealed. 0: rotate first (the file has
 * records); a first record bigger than the limit goes alone into a new file.
 */
static uint32_t fitting_count(const struct sink *s, const struct recs *r)
{
	uint64_t room = s->cfg.max_file_size > s->size ? s->cfg.max_file_size - s->size : 0;
	uint64_t used = 0, extra = s->seal ? CHAIN_OVERHEAD : 0;
	uint32_t k;

	if (!s->cfg.max_file_size || (!extra && recs__bytes(r) <= room))
		return r->n;
	for (k = 0; k < r->n; k++) {
		used += recs__len(r, r->first + k) + extra;
		if (used > room)
			break;
	}
	if (k)
		return k;
	return s->size > 0 ? 0 : 1;
}

/* Write records, rotating by size between records (never inside one). */
static void write_records(struct sink *s, struct recs r)
{
	bool fresh = false;	/* just rotated: the next record goes in, whatever its size */

	while (r.n) {
		uint32_t k = fitting_count(s, &r);
		struct recs part;

		if (!k && !fresh) {
			rotate_now(s, "size");
			fresh = true;
			continue;
		}
		if (!k)
			k = 1;
		if (s->fd < 0) {
			write_failed(s, -EBADF, r.n, "no open file");
			return;
		}
		part = recs__sub(&r, 0, k);
		if (write_chunk(s, &part)) {
			count_lost(s, SINK_LOST_WRITE, r.n - k);
			return;
		}
		fresh = false;
		r = recs__sub(&r, k, r.n - k);
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

/* A record longer than max_message_length, its newline not counted. */
static bool has_oversize(const struct recs *r, size_t max)
{
	uint32_t i;

	if (recs__bytes(r) <= max + 1)
		return false;
	for (i = r->first; i < r->first + r->n; i++)
		if (recs__len(r, i) > max + 1)
			return true;
	return false;
}

/*
 * A backstop: the formatters already cut every record to max_message_length,
 * so this finds nothing unless a record came from elsewhere. Each record
 * longer than that becomes a loss record in the sink's format (in s->over),
 * so no reader gets a line it cannot take. Returns the records to write.
 */
static struct recs cut_oversize(struct sink *s, const struct recs *r)
{
	size_t max = s->cfg.max_message_length;
	uint32_t i;

	if (!has_oversize(r, max))
		return *r;
	jbuf__reset(&s->over);
	if (batch__ends_reserve(&s->over_end, &s->over_end_cap, r->n))
		s->over.oom = true;
	for (i = 0; i < r->n && !s->over.oom; i++) {
		uint32_t at = r->first + i;
		size_t n = recs__len(r, at);

		if (n > max + 1)
			put_oversize_loss(s, &s->over, n - 1);
		else
			jbuf__raw(&s->over, r->buf + recs__start(r, at), n);
		s->over_end[i] = (uint32_t)s->over.len;
	}
	if (s->over.oom) {	/* cannot replace them: the records go as they are */
		log_warn("audit log %s: no memory to replace an oversize record",
			 s->cfg.output_file);
		return *r;
	}
	return (struct recs){ .buf = s->over.buf, .end = s->over_end, .n = r->n };
}

/* Write a part of a cycle's batch, oversize records replaced. */
static void write_part(struct sink *s, const struct recs *r)
{
	write_records(s, cut_oversize(s, r));
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

static void early_buffer(struct sink *s, const struct recs *r)
{
	uint32_t i;

	for (i = r->first; i < r->first + r->n; i++)
		early_push(s, r->buf + recs__start(r, i), recs__len(r, i));
}

/* Write what was held, in order, then forget it. */
static void early_drain(struct sink *s)
{
	struct early_ring *r = &s->early;

	while (r->n) {
		uint32_t i = r->head;

		if (s->fd >= 0)
			write_part(s, &(struct recs){ .buf = r->rec[i],
						      .end = &(uint32_t){ (uint32_t)r->len[i] },
						      .n = 1 });
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
	if (s->seal)
		chain_begin(s);
	rotator__prune_age(s->rot);
}

/* Unset output: try again once RETRY_NS passed (or when stopping). */
static void retry_setup(struct sink *s, bool force)
{
	char err[512];
	int e;
	uint64_t now = now_ns(CLOCK_MONOTONIC);

	if (!force && now < s->next_retry)
		return;
	s->next_retry = now + RETRY_NS;
	e = open_locked(s, err, sizeof(err));
	if (e) {
		stat_error(s, e);
		return;
	}
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
	const struct batch_list *run;	/* the batches taken, oldest first */
	size_t len;
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

/*
 * Write a cycle's batches in order. With flush_mode hybrid the last
 * critical record is on disk before any later record is written.
 */
static void write_batches(struct sink *s, const struct batch_list *run)
{
	uint32_t i, crit_at = run->n;

	for (i = 0; s->cfg.flush_mode == FLUSH_HYBRID && i < run->n; i++)
		if (run->b[i].crit)
			crit_at = i;
	for (i = 0; i < run->n; i++) {
		const struct batch *b = &run->b[i];
		struct recs all = batch__recs(b);

		if (i == crit_at) {
			struct recs crit = recs__sub(&all, 0, b->crit);
			struct recs rest = recs__sub(&all, b->crit, b->nrec - b->crit);

			write_part(s, &crit);
			do_sync(s);
			write_part(s, &rest);
		} else {
			write_part(s, &all);
		}
	}
}

static void writer_cycle(struct sink *s, struct cycle *c)
{
	uint32_t i;

	if (!s->set_up) {
		retry_setup(s, c->stop);
		if (!s->set_up) {
			for (i = 0; c->run && i < c->run->n; i++) {
				struct recs r = batch__recs(&c->run->b[i]);

				early_buffer(s, &r);
			}
			return;
		}
	}
	if (c->len)
		reopen_if_gone(s);	/* a look before each batch, none while idle */
	if (!reopen_if_closed(s, c->nrec))
		return;
	if (c->rotate || now_ns(CLOCK_REALTIME) >= s->next_interval)
		rotate_now(s, c->rotate ? "signal" : "interval");
	check_space(s, c->len + (s->seal ? (uint64_t)c->nrec * CHAIN_OVERHEAD : 0));
	if (s->suspended)
		count_lost(s, SINK_LOST_SUSPEND, c->nrec);
	else if (c->run)
		write_batches(s, c->run);
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
	if (s->seal && s->seal->since_ckpt && s->cfg.integrity.checkpoint_interval_s &&
	    s->seal->next_ckpt < d)
		d = s->seal->next_ckpt;
	return d;
}

/* Under mu: wait for records, a request, or the deadline. false: stop. */
static bool writer_wait(struct sink *s)
{
	while (!s->q.recs && !s->sync_wanted && !s->rotate_wanted && !s->stop) {
		uint64_t d = writer_deadline(s);
		struct timespec ts = { .tv_sec = d / 1000000000ULL, .tv_nsec = d % 1000000000ULL };

		if (d == UINT64_MAX)
			pthread_cond_wait(&s->work, &s->mu);
		else if (pthread_cond_timedwait(&s->work, &s->mu, &ts) == ETIMEDOUT)
			return true;
	}
	return s->q.recs || s->sync_wanted || s->rotate_wanted || !s->stop;
}

/* Under mu: take everything queued (group commit). */
static void take_queue(struct sink *s, struct cycle *c)
{
	c->len = s->q.bytes;
	c->nrec = s->q.recs;
	batchq__take(&s->q, &s->run);
	c->run = &s->run;
	c->sync = s->sync_wanted;
	c->rotate = s->rotate_wanted;
	c->stop = s->stop;
	stat_set(&s->st.queued_bytes, 0);
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
		batchq__recycle(&s->q, &s->run);
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

/*
 * The batch in buf queued: taken as it is when own is given (the producer
 * gets an empty buffer in exchange), copied otherwise (batchq.h).
 */
static int put(struct sink *s, char **own, size_t *own_cap, const char *buf, size_t len,
	       const uint32_t *end, uint32_t nrec, size_t crit_len)
{
	int err = -ENOBUFS;

	pthread_mutex_lock(&s->mu);
	if (s->q.bytes + len <= s->max_bytes) {
		if (own)
			err = batchq__give(&s->q, own, own_cap, len, end, nrec, crit_len);
		else
			err = batchq__copy(&s->q, buf, len, end, nrec, crit_len);
	}
	if (err) {
		s->dropped += nrec;
		err = -ENOBUFS;
	} else {
		stat_set(&s->st.queued_bytes, s->q.bytes);
		s->queued_gen++;
		pthread_cond_signal(&s->work);
	}
	pthread_mutex_unlock(&s->mu);
	return err;
}

int sink__put_recs(struct sink *s, const char *buf, size_t len, const uint32_t *end,
		   uint32_t nrec, size_t crit_len)
{
	return put(s, NULL, NULL, buf, len, end, nrec, crit_len);
}

int sink__give_recs(struct sink *s, char **buf, size_t *cap, size_t len, const uint32_t *end,
		    uint32_t nrec, size_t crit_len)
{
	return put(s, buf, cap, *buf, len, end, nrec, crit_len);
}

/* For a batch that came without its record ends (tests, benchmarks, sink__write): found here, once. */
int sink__put(struct sink *s, const char *buf, size_t len, uint32_t nrec, size_t crit_len)
{
	const char *p = buf, *stop = buf + len, *nl;
	uint32_t *end = NULL, cap = 0, n = 0;
	int err;

	for (; p < stop && (nl = memchr(p, '\n', stop - p)); p = nl + 1) {
		if (batch__ends_reserve(&end, &cap, (uint64_t)n + 1)) {
			free(end);
			pthread_mutex_lock(&s->mu);
			s->dropped += nrec;
			pthread_mutex_unlock(&s->mu);
			return -ENOBUFS;
		}
		end[n++] = (uint32_t)(nl + 1 - buf);
	}
	err = sink__put_recs(s, buf, len, end, n, crit_len);
	free(end);
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
	free(s->over_end);
	sealer__free(s->seal);
	sink_config__free(&s->cfg);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->dur_mu);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->done);
	batchq__free(&s->q, &s->run);
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
	s->q.pool_max = s->max_bytes;	/* written buffers kept up to what the queue may hold */
	log_req(cfg, &req);
	if (sink_config__copy(&s->cfg, cfg) || early_init(&s->early, cfg->event_buffer_size) ||
	    !(s->lock_path = outpath__beside(cfg->output_file, cfg->base_directory, NULL,
						   ".lock")) ||
	    !(s->where = outpath__beside(cfg->output_file, cfg->base_directory, NULL, "")) ||
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

static int kick_err;	/* errno when the kick's handler could not be set (as pthread_create says) */

static void install_kick(void)
{
	struct sigaction sa = { .sa_handler = on_kick };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SINK_KICK_SIG, &sa, NULL)) {
		kick_err = errno;
		log_err("cannot install the writer's stop signal (%d): %s", SINK_KICK_SIG,
			strerror(errno));
	}
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
	if (kick_err)
		return kick_err;	/* a stuck writer could not be interrupted at the stop */
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
	e = sealer__open(&s->seal, &s->cfg, sink_type(&s->cfg), err, errlen);
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
	queued = s->q.recs;
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

/* ---- figures for health and metrics (issue 18) ---- */

static const char *const state_names[SINK_STATE_MAX] = {
	[SINK_WRITING] = "writing", [SINK_RETRYING] = "retrying",
	[SINK_SUSPENDED] = "suspended", [SINK_FAILED] = "failed",
};

const char *sink__state_name(enum sink_state st)
{
	return st < SINK_STATE_MAX ? state_names[st] : "unknown";
}

static enum sink_state sink_state(const struct sink *s)
{
	if (__atomic_load_n(&s->fatal, __ATOMIC_ACQUIRE))
		return SINK_FAILED;
	if (__atomic_load_n(&s->suspended, __ATOMIC_RELAXED))
		return SINK_SUSPENDED;
	if (!sink__is_set_up(s) || __atomic_load_n(&s->failing, __ATOMIC_RELAXED))
		return SINK_RETRYING;
	return SINK_WRITING;
}

/* Every figure by an atomic load: the writer may be in the middle of a cycle. */
void sink__stats(const struct sink *s, struct sink_stats *out)
{
	const uint64_t *src = (const uint64_t *)&s->st;
	uint64_t *dst = (uint64_t *)out;
	size_t i, n = offsetof(struct sink_stats, lost) / sizeof(uint64_t);
	int w;

	for (i = 0; i < n; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	for (w = 0; w < SINK_LOST_MAX; w++)
		out->lost[w] = sink__lost(s, w);
	out->queue_limit = s->max_bytes;
	out->dropped = sink__dropped(s);
	out->last_errno = __atomic_load_n(&s->st.last_errno, __ATOMIC_RELAXED);
	out->state = sink_state(s);
	out->critical = s->cfg.critical;
}
