// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The forwarder: follower of a sink's log, RELP sender, durable cursor.
 *
 * The cursor names a position by the file it is in (SHA-256 of the file's
 * first line: unchanged by rotation renames and by gzip) and the byte
 * offset after the last acknowledged record, plus that record's ordinal.
 * Ordinals number the records of the stream from 0; a record keeps its
 * ordinal across restarts because a restart goes on from the cursor with
 * the cursor's ordinal. The message identifier is (HOSTNAME, PROCID =
 * stream id, MSGID = ordinal); the stream id is random, made with the
 * cursor.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <openssl/evp.h>
#include "format.h"
#include "forward.h"
#include "log.h"
#include "relp.h"
#include "rotate.h"
#include "sink.h"

#define CURSOR_MAGIC	"sockaudit-forward-cursor 1"
#define SAVE_EVERY_NS	200000000ull	/* cursor saves while acknowledgements flow */
#define READ_CHUNK	(1u << 20)
#define STATS_EVERY_NS	100000000ull	/* lag and state for metrics, while shipping */

/* A file being read: plain by pread, gzip by gzread (offsets are uncompressed). */
struct reader {
	int fd;
	gzFile gz;
	uint32_t gen;			/* rotator hold generation when opened */
	uint8_t id[32];			/* SHA-256 of the first line */
	bool has_id;
	uint64_t off;			/* file offset of buf[start] */
	char *buf;
	size_t start, len, cap;
	uint64_t read_off;		/* file offset of buf[len] */
	uint64_t limit;			/* read no further (the live file's durable size) */
};

struct inflight {
	uint32_t txnr;
	uint64_t end;			/* file offset after the record */
	uint64_t bytes;
};

struct forwarder {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stop;
	bool stop_soon;			/* forward__stop_soon: take the stop's mark now */
	int drain_ms;
	bool stopping;			/* the thread saw stop (or stop_soon): sends at most stop_left more */
	bool stop_seen;			/* ... and stop itself: nothing left to wait for */
	uint32_t stop_left;
	uint64_t stop_ord;		/* the cursor when the thread saw stop */
	uint64_t next_stats;		/* CLOCK_MONOTONIC ns of the next stats update */
	struct sink *sink;
	struct rotator *rot;
	struct forward_config cfg;
	char *cursor_path, *host, *port, hostname[256], stream[17];
	bool json;			/* json_lines: the record's ts gives the lag */
	struct relp *conn;
	struct reader rd;
	struct inflight *win;
	uint32_t head, n;		/* ring of cfg.window in-flight frames */
	bool bad_ack;
	/* the cursor: acknowledged position */
	uint8_t cur_id[32];
	bool cur_has_id;
	uint64_t cur_off, cur_ord, saved_ord;
	uint32_t cur_gen;		/* hold generation of the cursor's file */
	bool have_gen;
	uint64_t sent_ord;		/* ordinal of the next record to send */
	uint64_t max_sent;		/* beyond every ordinal sent by this process */
	uint64_t last_save, backoff_ms, next_try;
	bool was_up, said_down;
	char pre[320];			/* RFC 5424 header up to the MSGID (the ordinal) */
	size_t pre_len;
	int cur_fd;			/* the cursor file, rewritten in place between renames */
	struct forward_stats st;
	time_t oldest_ts;
	/* forward records (the collector's thread) */
	bool rec_said, rec_up;
	uint64_t rec_next;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
	EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL);
}

/* ---- reader ---- */

static void reader_close(struct reader *r)
{
	if (r->gz)
		gzclose(r->gz);
	else if (r->fd >= 0)
		close(r->fd);
	r->gz = NULL;
	r->fd = -1;
	r->start = r->len = 0;
	r->has_id = false;
}

/* Read more bytes after what is buffered; >0, 0 at the end for now, <0 error. */
static ssize_t reader_fill(struct reader *r)
{
	ssize_t got;

	if (r->start) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->start = 0;
	}
	if (r->cap - r->len < READ_CHUNK / 4) {
		size_t cap = r->cap ? r->cap * 2 : READ_CHUNK;
		char *p = realloc(r->buf, cap);

		if (!p)
			return -ENOMEM;
		r->buf = p;
		r->cap = cap;
	}
	if (r->gz) {
		got = gzread(r->gz, r->buf + r->len, r->cap - r->len);
		if (got < 0)
			return -EIO;
	} else {
		size_t room = r->cap - r->len;

		if (r->read_off >= r->limit)
			return 0;
		if (room > r->limit - r->read_off)
			room = r->limit - r->read_off;
		got = pread(r->fd, r->buf + r->len, room, r->read_off);
		if (got < 0)
			return -errno;
	}
	r->len += got;
	r->read_off += got;
	return got;
}

/* The next complete line (without its '\n'); false when none yet. */
static bool reader_line(struct reader *r, const char **line, size_t *len)
{
	char *nl;

	for (;;) {
		nl = r->len > r->start ? memchr(r->buf + r->start, '\n', r->len - r->start) : NULL;
		if (nl)
			break;
		if (reader_fill(r) <= 0)
			return false;
	}
	*line = r->buf + r->start;
	*len = nl - *line;
	if (!r->has_id && r->off == 0) {	/* the first line names the file */
		sha256(*line, *len, r->id);
		r->has_id = true;
	}
	r->start += *len + 1;
	r->off += *len + 1;
	return true;
}

/* Give back the line reader_line just returned. */
static void reader_unread(struct reader *r, size_t len)
{
	r->start -= len + 1;
	r->off -= len + 1;
}

/* SHA-256 of fd's first line (read from offset 0); -EAGAIN when there is none yet. */
static int first_line_id(int fd, bool gz, uint8_t id[32])
{
	struct reader t = { .fd = dup(fd), .limit = UINT64_MAX };
	const char *line;
	size_t len;
	int e = -EAGAIN;

	if (t.fd < 0)
		return -errno;
	/* a dup shares the file offset, which gzread moves: start at 0, put it back after */
	if (gz && (lseek(t.fd, 0, SEEK_SET) || !(t.gz = gzdopen(t.fd, "rb")))) {
		close(t.fd);
		return -ENOMEM;
	}
	if (reader_line(&t, &line, &len)) {
		memcpy(id, t.id, 32);
		e = 0;
	}
	reader_close(&t);
	free(t.buf);
	if (gz)
		lseek(fd, 0, SEEK_SET);
	return e;
}

/* Take fd (from the rotator) as the file to read from offset off. */
static int reader_open(struct reader *r, int fd, bool gz, uint64_t off)
{
	r->fd = fd;
	r->limit = UINT64_MAX;
	r->off = r->read_off = off;
	r->start = r->len = 0;
	r->has_id = off > 0 && !first_line_id(fd, gz, r->id);
	if (gz) {
		r->gz = gzdopen(fd, "rb");
		if (!r->gz || (off && gzseek(r->gz, off, SEEK_SET) != (z_off_t)off)) {
			reader_close(r);
			return -EIO;
		}
	}
	return 0;
}

/* ---- cursor ---- */

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/*
 * The cursor's text, always CURSOR_LEN bytes (a line of spaces last), so
 * a rewrite in place replaces all of it.
 */
#define CURSOR_LEN 256
static void cursor_text(struct forwarder *f, char out[CURSOR_LEN])
{
	char id[65] = "-";
	int n;

	if (f->cur_has_id)
		hex(f->cur_id, 32, id);
	n = snprintf(out, CURSOR_LEN, CURSOR_MAGIC "\nstream %s\nfile %s\noffset %llu\n"
		     "ordinal %llu\n", f->stream, id, (unsigned long long)f->cur_off,
		     (unsigned long long)f->cur_ord);
	memset(out + n, ' ', CURSOR_LEN - n - 1);
	out[CURSOR_LEN - 1] = '\n';
}

/* A new cursor file (temp file, fsync, rename): kept open for the in-place rewrites. */
static int cursor_replace(struct forwarder *f, const char *text)
{
	char tmp[4200];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", f->cursor_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, CURSOR_LEN) != CURSOR_LEN || fsync(fd) || rename(tmp, f->cursor_path)) {
		int e = errno ? -errno : -EIO;

		close(fd);
		return e;
	}
	if (f->cur_fd >= 0)
		close(f->cur_fd);
	f->cur_fd = fd;
	return 0;
}

/*
 * Save the cursor after every round that moved it, so a crash of the
 * collector resends only unacknowledged frames: rewritten in place (one
 * pwrite of a fixed-size text, no new file per round: the page cache
 * keeps it across a kill -9); every SAVE_EVERY_NS (durable) a new file
 * is fsynced and renamed over it, so a power loss resends at most that
 * much more and never finds a torn cursor.
 */
static void cursor_save(struct forwarder *f, bool durable)
{
	char text[CURSOR_LEN];
	int e = 0;

	cursor_text(f, text);
	if (durable || f->cur_fd < 0)
		e = cursor_replace(f, text);
	else if (pwrite(f->cur_fd, text, CURSOR_LEN, 0) != CURSOR_LEN)
		e = errno ? -errno : -EIO;
	if (e)
		log_warn("cannot write the forward cursor %s: %s; shipping goes on, a restart "
			 "resends more", f->cursor_path, strerror(-e));
	f->saved_ord = f->cur_ord;
	if (durable || e)
		f->last_save = mono_ns();
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = v;
	}
	return 0;
}

/* 0 (loaded), -ENOENT (none: a new stream), -EINVAL (malformed). */
static int cursor_load(struct forwarder *f)
{
	char magic[64], id[80];
	unsigned long long off, ord;
	FILE *fp = fopen(f->cursor_path, "re");
	int n;

	if (!fp)
		return errno == ENOENT ? -ENOENT : -errno;
	n = fscanf(fp, "%63[^\n]\nstream %16s\nfile %79s\noffset %llu\nordinal %llu", magic,
		   f->stream, id, &off, &ord);
	fclose(fp);
	if (n != 5 || strcmp(magic, CURSOR_MAGIC) || strlen(f->stream) != 16)
		return -EINVAL;
	f->cur_has_id = strcmp(id, "-") != 0;
	if (f->cur_has_id && (strlen(id) != 64 || unhex(id, f->cur_id, 32)))
		return -EINVAL;
	f->cur_off = off;
	f->cur_ord = f->saved_ord = ord;
	return 0;
}

/*
 * The hold: the file the cursor names (searched from FILE up through the
 * rotated ones), else the oldest file there is (a new stream, or the
 * cursor's file went while we were not running: said, counted).
 */
static void locate(struct forwarder *f)
{
	uint32_t k, oldest = 0;
	uint8_t id[32];
	bool gz;
	int fd;

	for (k = 0; k <= f->cfg.spool_limit / 4096 + 1000; k++) {
		fd = rotator__open_index(f->rot, k, &gz);
		if (fd < 0) {
			if (k)
				break;
			continue;
		}
		oldest = k;
		if (f->cur_has_id && !first_line_id(fd, gz, id) && !memcmp(id, f->cur_id, 32)) {
			close(fd);
			rotator__hold_start(f->rot, k, f->cfg.spool_limit);
			return;
		}
		close(fd);
	}
	if (f->cur_has_id)
		log_warn("forward: the file the cursor %s names is gone; shipping from the oldest "
			 "file there is (%u rotations back)", f->cursor_path, oldest);
	f->cur_has_id = false;
	f->cur_off = 0;
	rotator__hold_start(f->rot, oldest, f->cfg.spool_limit);
}

/* ---- sending ---- */

static void durable_limit(struct forwarder *f);

/* Open the held file at the cursor (after a start or reconnect). */
static int open_at_cursor(struct forwarder *f)
{
	uint32_t hold;
	bool gz;
	int fd, e;

	reader_close(&f->rd);
	fd = rotator__open_held(f->rot, &gz, &hold, &f->rd.gen);
	if (fd < 0)
		return fd;
	if (f->cur_has_id && f->have_gen && f->rd.gen != f->cur_gen) {
		/* past the spool limit the cursor's file went (counted there): the next one */
		f->cur_has_id = false;
		f->cur_off = 0;
	}
	f->cur_gen = f->rd.gen;
	f->have_gen = true;
	/* a cursor always names a file that is there: the held one, once it has a record */
	if (!f->cur_has_id && !first_line_id(fd, gz, f->cur_id)) {
		f->cur_has_id = true;
		f->cur_off = 0;
	}
	rotator__hold_offset(f->rot, f->cur_has_id ? f->cur_off : 0);
	/* the cursor's offset belongs to its file only */
	e = reader_open(&f->rd, fd, gz, f->cur_has_id ? f->cur_off : 0);
	if (!e)
		durable_limit(f);	/* never past what the writer made durable */
	return e;
}

/*
 * RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG, the
 * record as MSG. Facility 13 (log audit), severity 6 (info); the receiver
 * stamps the time. The part before the ordinal is the same for every
 * record: made once.
 */
static void make_prefix(struct forwarder *f)
{
	f->pre_len = snprintf(f->pre, sizeof(f->pre), "<110>1 - %s sockaudit %s ", f->hostname,
			      f->stream);
}

static int send_record(struct forwarder *f, const char *rec, size_t len, uint32_t *txnr)
{
	static const struct relp_iov mid = { " - ", 3 };
	struct relp_iov pre = { f->pre, f->pre_len }, msg = { rec, len };

	return relp__send_syslog(f->conn, &pre, f->sent_ord, &mid, &msg, txnr);
}

static void record_ts(struct forwarder *f, const char *rec, size_t len)
{
	const char *p = f->json ? memmem(rec, len < 128 ? len : 128, "\"ts\":\"", 6) : NULL;
	struct tm tm = { 0 };

	f->oldest_ts = 0;
	if (p && strptime(p + 6, "%Y-%m-%dT%H:%M:%S", &tm))
		f->oldest_ts = timegm(&tm);
}

/* The live file is shipped only as far as the writer made it durable. */
static void durable_limit(struct forwarder *f)
{
	struct stat st;
	uint64_t size;

	if (f->rd.gz || f->rd.fd < 0 || fstat(f->rd.fd, &st))
		return;
	pthread_mutex_lock(&f->mu);	/* forward__detach waits for this */
	f->rd.limit = f->sink && sink__durable(f->sink, st.st_ino, &size) ? size : UINT64_MAX;
	pthread_mutex_unlock(&f->mu);
}

static uint32_t quarter(const struct forwarder *f)
{
	return (f->cfg.window + 3) / 4;
}

/* Acknowledgements that give the window a quarter of room again (all, at the tail). */
static uint32_t acks_to_wait(const struct forwarder *f)
{
	uint32_t room = f->cfg.window - f->n, want = room < quarter(f) ? quarter(f) - room : 1;

	return want < f->n ? want : f->n;
}

/* Send records while the window has room; false when nothing more is there now. */
static int fill_window(struct forwarder *f, bool *more)
{
	const char *rec;
	size_t len;
	int e;

	bool asked = false;

	*more = true;
	/* a nearly full window waits for acks: frames go out in large writes, not one by one */
	if (f->n && f->cfg.window - f->n < quarter(f))
		return 0;
	while (f->n < f->cfg.window && (!f->stopping || f->stop_left)) {
		struct inflight *w = &f->win[(f->head + f->n) % f->cfg.window];

		/* at the durable end: ask the writer how far that is now (once a round) */
		while (!reader_line(&f->rd, &rec, &len)) {
			if (asked) {
				*more = false;
				return 0;
			}
			durable_limit(f);
			asked = true;
		}
		if (!f->n)
			record_ts(f, rec, len);
		e = send_record(f, rec, len, &w->txnr);
		if (e)
			return e;
		w->end = f->rd.off;
		w->bytes = len + 1;
		if (f->sent_ord < f->max_sent)
			f->st.resent_records++;
		f->sent_ord++;
		if (f->sent_ord > f->max_sent)
			f->max_sent = f->sent_ord;
		f->n++;
		f->st.sent_records++;
		f->stop_left -= f->stopping;
	}
	return 0;
}

/* A server response: frames are acknowledged in order (one session, one sender). */
static void on_ack(void *arg, uint32_t txnr, int ok)
{
	struct forwarder *f = arg;
	struct inflight *w = &f->win[f->head];

	if (!f->n || w->txnr != txnr || !ok) {
		f->bad_ack = true;
		return;
	}
	f->cur_off = w->end;
	memcpy(f->cur_id, f->rd.id, 32);
	f->cur_has_id = f->rd.has_id;
	f->cur_ord++;
	f->st.acked_records++;
	f->st.acked_bytes += w->bytes;
	f->head = (f->head + 1) % f->cfg.window;
	f->n--;
}

static void state_change(struct forwarder *f, bool up, const char *why)
{
	if (up && !f->was_up) {
		if (f->st.connect_failures || f->said_down)
			f->st.reconnects++;
		log_info("forward: connected to %s (RELP/TLS), shipping %s from ordinal %llu",
			 f->cfg.target, rotator__path(f->rot), (unsigned long long)f->cur_ord);
	} else if (!up && (f->was_up || !f->said_down)) {
		log_warn("forward: %s is down: %s; the log is kept and shipped when it is back "
			 "(retrying with backoff)", f->cfg.target, why);
		f->said_down = true;
	}
	f->was_up = up;
	pthread_mutex_lock(&f->mu);
	f->st.connected = up;
	pthread_mutex_unlock(&f->mu);
}

static void disconnect(struct forwarder *f, const char *reason)
{
	char why[512];

	snprintf(why, sizeof(why), "%s", reason);	/* reason may live in f->conn */
	relp__close(f->conn);
	f->conn = NULL;
	f->n = 0;
	f->head = 0;
	f->sent_ord = f->cur_ord;	/* what was not acknowledged goes again */
	state_change(f, false, why);
	f->next_try = mono_ns() + f->backoff_ms * 1000000ull;
	f->backoff_ms = f->backoff_ms * 2 > f->cfg.reconnect_max_ms ? f->cfg.reconnect_max_ms :
			f->backoff_ms * 2;
}

static void try_connect(struct forwarder *f)
{
	struct relp_tls tls = { f->cfg.ca_file, f->cfg.cert_file, f->cfg.key_file,
				f->cfg.peer_names };
	char err[512];
	int e = relp__connect(&f->conn, f->host, f->port, &tls, 3000, err, sizeof(err));

	if (e) {
		f->st.connect_failures++;
		disconnect(f, err);
		return;
	}
	f->backoff_ms = 100;
	if (open_at_cursor(f)) {
		disconnect(f, "cannot open the audit log to ship");
		return;
	}
	f->sent_ord = f->cur_ord;
	state_change(f, true, NULL);
}

/*
 * At the end of what is in the file: when the file was rotated (its hold
 * moved or it was dropped past the spool limit) and everything in it was
 * acknowledged, go on with the next newer one.
 */
static void next_file(struct forwarder *f)
{
	uint32_t hold, gen;
	uint64_t lr, lf;
	const char *rec;
	uint8_t id[32];
	size_t len;
	bool gz;
	int fd, e;

	rotator__hold_state(f->rot, &hold, &gen, &lr, &lf);
	if (gen == f->rd.gen && !hold)
		return;				/* still the live file */
	/* rotated: the writer synced it before (rotate_now), it is whole; read to its end */
	f->rd.limit = UINT64_MAX;
	if (f->n || reader_line(&f->rd, &rec, &len)) {
		/* written before the rotation: not all sent yet */
		if (!f->n)
			reader_unread(&f->rd, len);
		return;
	}
	/*
	 * The cursor names the next file before the hold leaves this one (which
	 * the policy may then remove): a restart finds where to go on. The next
	 * file is FILE.hold-1 (FILE.hold when this one was dropped).
	 */
	fd = rotator__open_index(f->rot, gen == f->rd.gen ? hold - 1 : hold, &gz);
	if (fd < 0)
		return;
	e = first_line_id(fd, gz, id);
	close(fd);
	if (e)
		return;			/* its first record is not there yet */
	memcpy(f->cur_id, id, 32);
	f->cur_has_id = true;
	f->cur_off = 0;
	cursor_save(f, true);
	rotator__advance(f->rot, f->rd.gen);
	f->have_gen = false;		/* the generation moved with the advance */
	if (open_at_cursor(f))
		disconnect(f, "cannot open the next audit log file to ship");
}

/* While down from the start: the record at the cursor is the oldest unshipped. */
static void peek_oldest(struct forwarder *f)
{
	const char *rec;
	size_t len;

	if (f->conn || f->oldest_ts || f->rd.fd < 0 || !reader_line(&f->rd, &rec, &len))
		return;
	record_ts(f, rec, len);
	reader_unread(&f->rd, len);
}

static void update_stats(struct forwarder *f)
{
	struct stat st;
	uint32_t hold, gen;
	uint64_t lr, lf, unshipped = 0;

	rotator__hold_state(f->rot, &hold, &gen, &lr, &lf);
	peek_oldest(f);
	if (f->rd.fd >= 0 && !fstat(f->rd.fd, &st) && !f->rd.gz && (uint64_t)st.st_size > f->cur_off)
		unshipped = st.st_size - f->cur_off;
	pthread_mutex_lock(&f->mu);
	f->st.ordinal = f->cur_ord;
	f->st.unshipped_records = f->n;
	f->st.unshipped_bytes = unshipped;
	f->st.spool_lost_records = lr;
	f->st.spool_lost_files = lf;
	/* while down, the first unacknowledged record is still the oldest */
	f->st.oldest_unshipped_s = (f->n || !f->conn) && f->oldest_ts ?
				   difftime(time(NULL), f->oldest_ts) : 0;
	pthread_mutex_unlock(&f->mu);
}

/* The held file we read was removed past the spool limit (only we advance the hold otherwise). */
static bool file_dropped(struct forwarder *f)
{
	uint32_t hold, gen;
	uint64_t lr, lf;

	rotator__hold_state(f->rot, &hold, &gen, &lr, &lf);
	return gen != f->rd.gen;
}

/*
 * One round: connect if due, send, wait for acknowledgements, save the
 * cursor. Stopping, it neither connects nor sends beyond its budget.
 */
static bool ship_round(struct forwarder *f)
{
	bool more = false;
	int e;

	if (!f->conn) {
		update_stats(f);
		if (f->stopping || mono_ns() < f->next_try)
			return false;
		try_connect(f);
		if (!f->conn)
			return false;
	}
	e = fill_window(f, &more);
	if (f->stopping && !f->stop_left)
		more = false;		/* the rest goes after the next start */
	/*
	 * The window waits for a quarter of it to come back; the server
	 * answers frame by frame, so let the answers gather in the socket
	 * instead of waking (poll, read, cursor) for each: the rest of the
	 * window keeps the server busy meanwhile. Caught up with the writer,
	 * the same wait (a quarter, for at most relp's gather time) lets its
	 * next records gather too, instead of a round for every few.
	 */
	if (!e && f->n)
		relp__gather(f->conn, more ? acks_to_wait(f) : quarter(f));
	/* block for acknowledgements when the window is full (no spinning), look when it has room */
	if (!e)
		e = relp__poll(f->conn, f->n ? 50 : (f->stop_seen ? 0 : 20), on_ack, f);
	if (!e && f->bad_ack)
		e = -EPROTO;
	f->bad_ack = false;
	if (e) {
		disconnect(f, relp__error(f->conn));
		return false;
	}
	if (!more && !f->n)
		next_file(f);
	if (f->conn && file_dropped(f)) {
		disconnect(f, "the spool limit removed the file being shipped; going on with the next");
		return false;
	}
	if (f->cur_ord != f->saved_ord) {
		rotator__hold_offset(f->rot, f->cur_off);
		cursor_save(f, mono_ns() - f->last_save > SAVE_EVERY_NS);
	}
	if (mono_ns() >= f->next_stats || !f->n) {
		update_stats(f);
		f->next_stats = mono_ns() + STATS_EVERY_NS;
	}
	return more || f->n;
}

/*
 * Asked to stop: ship at most one more window (the writer's last records,
 * when the link keeps up), wait up to drain_ms for what is in flight, then
 * go: a backlog is the next start's, not the stop's.
 */
static bool should_stop(struct forwarder *f, uint64_t *deadline)
{
	bool stop, soon;

	pthread_mutex_lock(&f->mu);
	stop = f->stop;
	soon = f->stop_soon;
	if (stop && !*deadline)
		*deadline = mono_ns() + (uint64_t)f->drain_ms * 1000000ull;
	pthread_mutex_unlock(&f->mu);
	f->stop_seen = stop;
	if ((stop || soon) && !f->stopping) {
		f->stopping = true;
		f->stop_left = f->cfg.window;
		f->stop_ord = f->cur_ord;
	}
	return stop;
}

/*
 * forward.nice: the audited service before shipping. Linux applies a nice
 * value per thread; the writer and the capture keep theirs. The backlog a
 * starved forwarder leaves stays in the log and goes when the CPU is free.
 */
static void set_nice(const struct forwarder *f)
{
	if (f->cfg.nice && setpriority(PRIO_PROCESS, gettid(), (int)f->cfg.nice))
		log_warn("forward: cannot set the forward thread's nice value to %u: %s; it "
			 "ships at the collector's priority", f->cfg.nice, strerror(errno));
}

static void *forward_main(void *arg)
{
	struct forwarder *f = arg;
	uint64_t deadline = 0;
	bool busy;

	set_nice(f);
	open_at_cursor(f);	/* the lag is known before the first connection */
	for (;;) {
		bool stopping = should_stop(f, &deadline);

		busy = ship_round(f);
		if (stopping && (!f->conn || (!busy && !f->n) || mono_ns() > deadline))
			break;
		if (!busy && !f->conn) {
			pthread_mutex_lock(&f->mu);
			if (!f->stop) {
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_nsec += 50000000;
				if (ts.tv_nsec >= 1000000000) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000;
				}
				pthread_cond_timedwait(&f->wake, &f->mu, &ts);
			}
			pthread_mutex_unlock(&f->mu);
		}
	}
	cursor_save(f, true);
	log_info("forward: stopped at ordinal %llu, %llu acknowledged since the stop, %s",
		 (unsigned long long)f->cur_ord, (unsigned long long)(f->cur_ord - f->stop_ord),
		 f->n ? "the unacknowledged ones go again at the next start" :
		 "the rest ships at the next start");
	relp__close(f->conn);
	f->conn = NULL;
	return NULL;
}

/* ---- check-config ---- */

struct check_ctx {
	const char *where;
	int line;
};

static void check_line(void *arg, const char *msg)
{
	struct check_ctx *cx = arg;

	log_err("%s:%d: %s", cx->where, cx->line, msg);
}

int forward__check(const struct sink_config *sc, const char *config_path)
{
	const struct forward_config *fc = &sc->forward;
	struct relp_tls tls = { fc->ca_file, fc->cert_file, fc->key_file, fc->peer_names };
	struct check_ctx cx = { config_path, sc->line };

	if (!fc->target)
		return 0;
	return relp__check_tls(&tls, check_line, &cx);
}

/* ---- start, stop ---- */

static int split_target(struct forwarder *f, char *err, size_t errlen)
{
	const char *t = f->cfg.target, *c = strrchr(t, ':');

	/* [v6]:port or host:port */
	if (t[0] == '[' && c > t && c[-1] == ']')
		f->host = strndup(t + 1, c - t - 2);
	else
		f->host = strndup(t, c - t);
	f->port = strdup(c + 1);
	if (!f->host || !f->port || !f->host[0] || !f->port[0]) {
		snprintf(err, errlen, "forward.target '%s' is not host:port", t);
		return -EINVAL;
	}
	return 0;
}

static int new_stream(struct forwarder *f)
{
	uint8_t r[8];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -EIO;
	hex(r, sizeof(r), f->stream);
	return 0;
}

static void forward_free(struct forwarder *f)
{
	reader_close(&f->rd);
	free(f->rd.buf);
	free(f->win);
	if (f->cur_fd >= 0)
		close(f->cur_fd);
	free(f->cursor_path);
	free(f->host);
	free(f->port);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->wake);
	free(f);
}

static int setup(struct forwarder *f, const struct sink_config *sc, char *err, size_t errlen)
{
	int e;

	f->cfg = sc->forward;		/* strings borrowed from the sink's config (kept by the caller) */
	f->rd.fd = -1;
	f->cur_fd = -1;
	f->backoff_ms = 100;
	f->json = !sc->type || !strcmp(sc->type, "json_lines");
	f->win = calloc(f->cfg.window, sizeof(*f->win));
	if (f->cfg.cursor_file)
		f->cursor_path = strdup(f->cfg.cursor_file);
	else if (asprintf(&f->cursor_path, "%s.fwd", rotator__path(f->rot)) < 0)
		f->cursor_path = NULL;
	if (!f->win || !f->cursor_path)
		return -ENOMEM;
	snprintf(f->hostname, sizeof(f->hostname), "%s", f->cfg.hostname ? f->cfg.hostname : "");
	if (!f->hostname[0] && gethostname(f->hostname, sizeof(f->hostname)))
		snprintf(f->hostname, sizeof(f->hostname), "-");
	/* one RFC 5424 token: PRINTUSASCII, at most 255 */
	for (char *p = f->hostname; *p; p++)
		if (*p <= ' ' || *p > '~')
			*p = '-';
	if ((e = split_target(f, err, errlen)))
		return e;
	e = cursor_load(f);
	if (e == -ENOENT)
		e = new_stream(f);
	if (e) {
		snprintf(err, errlen, "forward cursor %s is unreadable (%s); move it away to start "
			 "a new stream", f->cursor_path, strerror(-e));
		return e;
	}
	make_prefix(f);
	locate(f);
	return 0;
}

int forward__start(struct forwarder **out, struct sink *s, const struct sink_config *sc,
		   char *err, size_t errlen)
{
	struct forwarder *f;
	int e;

	*out = NULL;
	if (!sc->forward.target)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->wake, NULL);
	f->sink = s;
	f->rot = sink__take_rotator(s);
	e = f->rot ? setup(f, sc, err, errlen) : -EBUSY;
	if (!f->rot)
		snprintf(err, errlen, "%s is forwarded by another sink already; forward it once",
			 sink__path(s));
	if (!e && (e = -pthread_create(&f->thread, NULL, forward_main, f)))
		snprintf(err, errlen, "cannot start the forward thread: %s", strerror(-e));
	if (!e)	/* its CPU time apart from the collector's (top -H, /proc/PID/task) */
		pthread_setname_np(f->thread, "sa-forward");
	if (e) {
		forward_free(f);
		return e;
	}
	*out = f;
	return 0;
}

void forward__detach(struct forwarder *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->sink = NULL;
	pthread_mutex_unlock(&f->mu);
}

void forward__stop_soon(struct forwarder *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop_soon = true;
	pthread_mutex_unlock(&f->mu);
}

void forward__stop(struct forwarder *f, int drain_ms, bool free_rotator)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	f->drain_ms = drain_ms;
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	if (free_rotator)
		rotator__free(f->rot);
	forward_free(f);
}

void forward__stats(struct forwarder *f, struct forward_stats *out)
{
	pthread_mutex_lock(&f->mu);
	*out = f->st;
	pthread_mutex_unlock(&f->mu);
}

size_t forward__record_due(struct forwarder *f, uint64_t now_ns, struct format_field *out)
{
	struct forward_stats st;
	size_t n = 0;

	if (!f)
		return 0;
	forward__stats(f, &st);
	if (!f->rec_said && !st.connected && !st.connect_failures)
		return 0;		/* the first attempt is still going on */
	if (f->rec_said && st.connected == f->rec_up &&
	    (now_ns < f->rec_next || (!st.unshipped_bytes && !st.unshipped_records)))
		return 0;
	f->rec_said = true;
	f->rec_up = st.connected;
	f->rec_next = now_ns + FORWARD_RECORD_S * 1000000000ull;
#define FF_S(k, v) out[n++] = (struct format_field){ .key = k, .kind = FF_STR, .s = v }
#define FF_N(k, v) out[n++] = (struct format_field){ .key = k, .kind = FF_U64, .u = v }
	FF_S("target", f->cfg.target);
	FF_S("state", st.connected ? "up" : "down");
	FF_N("unshipped_bytes", st.unshipped_bytes);
	FF_N("unshipped_records", st.unshipped_records);
	FF_N("oldest_unshipped_ms", (uint64_t)(st.oldest_unshipped_s * 1000));
	FF_N("acked_records", st.acked_records);
	FF_N("resent_records", st.resent_records);
	FF_N("reconnects", st.reconnects);
	FF_N("connect_failures", st.connect_failures);
	FF_N("spool_lost_records", st.spool_lost_records);
	FF_N("ordinal", st.ordinal);
#undef FF_S
#undef FF_N
	return n;
}
