// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
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

static int read_header(FILE *f, const char *path, int64_t *mono_to_real)
{
	struct rec_header h;

	if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.magic, RECFILE_MAGIC, sizeof(h.magic))) {
		log_err("%s is not a sockaudit event file (bad header): give a file made by "
			"'sockaudit record'", path);
		return -EINVAL;
	}
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

int recfile__replay(const char *path, int64_t *mono_to_real, recfile_event_fn fn, void *ctx)
{
	FILE *f = fopen(path, "re");
	uint8_t *buf = malloc(RECFILE_MAX_EVENT);
	uint64_t n = 0;
	uint32_t size;
	int err;

	if (!f || !buf) {
		err = -errno;
		log_err("cannot read event file %s: %s", path, strerror(errno));
		goto out;
	}
	err = read_header(f, path, mono_to_real);
	while (!err && fread(&size, sizeof(size), 1, f) == 1) {
		if (size > RECFILE_MAX_EVENT || fread(buf, size, 1, f) != 1) {
			log_err("%s: event %llu is truncated or oversized (%u bytes): the events "
				"before it were replayed", path, (unsigned long long)n + 1, size);
			err = -EINVAL;
			break;
		}
		n++;
		err = fn(ctx, buf, size);
	}
	if (!err && ferror(f))
		err = -EIO;
out:
	if (f)
		fclose(f);
	free(buf);
	return err;
}
