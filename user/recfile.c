// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "outpath.h"
#include "recfile.h"
#include "sockaudit/events.h"

/* Largest event we accept from a file: a data event with a full capture. */
#define RECFILE_MAX_EVENT (sizeof(struct sa_data_event) + SA_MAX_CAPTURE)

struct rec_header {
	char magic[8];
	uint32_t version;
	uint32_t reserved;
	int64_t mono_to_real;
};

int recfile__create(struct recfile *rf, const char *path, int64_t mono_to_real)
{
	struct rec_header h = { .version = RECFILE_VERSION, .mono_to_real = mono_to_real };
	/* the collector's one opening (outpath.h): never a FIFO, a link or another's file */
	struct outpath_req req = { .path = path, .what = "event file", .mode = 0600,
				   .gid = (gid_t)-1 };
	char err[512];
	int fd = outpath__open(&req, err, sizeof(err));

	memcpy(h.magic, RECFILE_MAGIC, sizeof(h.magic));
	if (fd < 0) {
		log_err("%s", err);
		return fd;
	}
	if (ftruncate(fd, 0)) {		/* a new recording replaces an old one of ours */
		log_err("cannot truncate event file %s: %s", path, strerror(errno));
		close(fd);
		return -EIO;
	}
	rf->f = fdopen(fd, "w");
	rf->path = strdup(path);
	rf->mono_to_real = mono_to_real;
	rf->events = 0;
	if (!rf->f || !rf->path || fwrite(&h, sizeof(h), 1, rf->f) != 1) {
		log_err("cannot write event file %s: %s", path, strerror(errno));
		if (rf->f)
			fclose(rf->f);
		else
			close(fd);
		free(rf->path);
		rf->f = NULL;
		return -EIO;
	}
	return 0;
}

int recfile__append(struct recfile *rf, const void *data, uint32_t size)
{
	if (fwrite(&size, sizeof(size), 1, rf->f) != 1 || fwrite(data, size, 1, rf->f) != 1) {
		log_err("cannot write event file %s: %s", rf->path, strerror(errno));
		return -EIO;
	}
	rf->events++;
	return 0;
}

int recfile__close(struct recfile *rf)
{
	int err = 0;

	if (!rf->f)
		return 0;
	if (fflush(rf->f) || fsync(fileno(rf->f)))
		err = -errno;
	if (fclose(rf->f) && !err)
		err = -errno;
	if (err)
		log_err("cannot finish event file %s: %s", rf->path, strerror(-err));
	free(rf->path);
	rf->f = NULL;
	return err;
}

/*
 * Replay reads the file in large blocks with read() and takes the events
 * out of the block: two fread calls per event cost more than the pipeline's
 * own parsing of a small exchange. The buffer holds a block plus one whole
 * event, so an event that straddles a block boundary is completed after the
 * unread rest is moved to the front.
 */
#define REPLAY_BLOCK	(1u << 20)
#define EVENT_ALIGN	8	/* the event structs are read in place: their alignment */

_Static_assert(_Alignof(struct sa_data_event) <= EVENT_ALIGN &&
	       _Alignof(struct sa_conn_event) <= EVENT_ALIGN &&
	       _Alignof(struct sa_proc_event) <= EVENT_ALIGN &&
	       _Alignof(struct sa_tls_event) <= EVENT_ALIGN &&
	       _Alignof(struct sa_tls_end_event) <= EVENT_ALIGN &&
	       _Alignof(struct sa_tls_cipher_event) <= EVENT_ALIGN, "events need EVENT_ALIGN at most");

struct replay_in {
	int fd;
	int err;		/* -errno of a failed read */
	uint8_t *buf;
	uint8_t *aligned;	/* an event not EVENT_ALIGN-aligned in buf is copied here */
	size_t cap, pos, have;
};

/*
 * At least want bytes (want <= cap) unread in buf from pos; false when the
 * file ends first or a read fails (in->err).
 */
static bool replay_need(struct replay_in *in, size_t want)
{
	ssize_t r;

	if (in->have - in->pos >= want)
		return true;
	memmove(in->buf, in->buf + in->pos, in->have - in->pos);
	in->have -= in->pos;
	in->pos = 0;
	while (in->have < want) {
		r = read(in->fd, in->buf + in->have, in->cap - in->have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			in->err = r < 0 ? -errno : 0;
			return false;
		}
		in->have += (size_t)r;
	}
	return true;
}

static int read_header(struct replay_in *in, const char *path, int64_t *mono_to_real)
{
	struct rec_header h;

	if (!replay_need(in, sizeof(h)) ||
	    memcmp(in->buf + in->pos, RECFILE_MAGIC, sizeof(h.magic))) {
		log_err("%s is not a sockaudit event file (bad header): give a file made by "
			"'sockaudit record'", path);
		return -EINVAL;
	}
	memcpy(&h, in->buf + in->pos, sizeof(h));
	in->pos += sizeof(h);
	if (h.version > RECFILE_VERSION || h.version < RECFILE_MIN_VERSION) {
		log_err("%s has event file version %u; this sockaudit reads versions %u to %u: "
			"replay it with the sockaudit %s recorded it", path, h.version,
			RECFILE_MIN_VERSION, RECFILE_VERSION,
			h.version > RECFILE_VERSION ? "(newer) that" : "that");
		return -EINVAL;
	}
	*mono_to_real = h.mono_to_real;
	return 0;
}

/*
 * The next event, in place when it is aligned. 1: *data and *size set; 0:
 * the file ended between events (a partial length prefix counts as the
 * end, as it always did); <0: a read error or a truncated or oversized event.
 */
static int replay_next(struct replay_in *in, const char *path, uint64_t n,
		       const uint8_t **data, uint32_t *size)
{
	if (!replay_need(in, sizeof(*size)))
		return in->err ? -EIO : 0;
	memcpy(size, in->buf + in->pos, sizeof(*size));
	if (*size > RECFILE_MAX_EVENT || !replay_need(in, sizeof(*size) + *size)) {
		log_err("%s: event %llu is truncated or oversized (%u bytes): the events "
			"before it were replayed", path, (unsigned long long)n + 1, *size);
		return -EINVAL;
	}
	*data = in->buf + in->pos + sizeof(*size);
	in->pos += sizeof(*size) + *size;
	if ((uintptr_t)*data % EVENT_ALIGN)
		*data = memcpy(in->aligned, *data, *size);
	return 1;
}

int recfile__replay(const char *path, int64_t *mono_to_real, recfile_event_fn fn, void *ctx)
{
	struct replay_in in = { .cap = REPLAY_BLOCK + sizeof(uint32_t) + RECFILE_MAX_EVENT };
	const uint8_t *data;
	uint64_t n = 0;
	uint32_t size;
	int err;

	in.fd = open(path, O_RDONLY | O_CLOEXEC);
	in.buf = malloc(in.cap);
	in.aligned = malloc(RECFILE_MAX_EVENT);
	if (in.fd < 0 || !in.buf || !in.aligned) {
		err = -errno;
		log_err("cannot read event file %s: %s", path, strerror(errno));
		goto out;
	}
	err = read_header(&in, path, mono_to_real);
	while (!err && (err = replay_next(&in, path, n, &data, &size)) > 0) {
		n++;
		err = fn(ctx, data, size);
	}
out:
	if (in.fd >= 0)
		close(in.fd);
	free(in.buf);
	free(in.aligned);
	return err;
}
