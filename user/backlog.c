// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Events held during a reload (backlog.h). */
#include <stdlib.h>
#include <string.h>
#include "backlog.h"

#define HDR		8	/* the size, padded so every event starts 8-aligned */
#define ALIGN8(n)	(((n) + 7) & ~(size_t)7)
#define FIRST_CAP	(1u << 20)
#define KEEP_CAP	(4u << 20)	/* a buffer grown past this is freed after a burst */

void backlog__init(struct backlog *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

/* Room for need bytes in all, within the limit; false when not. */
static int grow(struct backlog *b, size_t need)
{
	size_t cap = b->cap ? b->cap : FIRST_CAP;
	char *nb;

	if (need > b->limit)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > b->limit)
		cap = b->limit;
	nb = realloc(b->buf, cap);
	if (!nb)
		return 0;
	b->buf = nb;
	b->cap = cap;
	return 1;
}

void backlog__put(struct backlog *b, const void *data, size_t size)
{
	size_t need = b->len + HDR + ALIGN8(size);
	uint32_t sz = size;

	if (size > UINT32_MAX || (need > b->cap && !grow(b, need))) {
		b->dropped++;
		return;
	}
	memcpy(b->buf + b->len, &sz, sizeof(sz));
	memcpy(b->buf + b->len + HDR, data, size);
	b->len = need;
	b->events++;
}

void backlog__drain(struct backlog *b, void (*fn)(void *ctx, const void *data, size_t size),
		    void *ctx)
{
	size_t off = 0;
	uint32_t sz;

	while (off < b->len) {
		memcpy(&sz, b->buf + off, sizeof(sz));
		fn(ctx, b->buf + off + HDR, sz);
		off += HDR + ALIGN8(sz);
	}
	b->len = 0;
	b->events = b->dropped = 0;
	if (b->cap > KEEP_CAP) {
		free(b->buf);
		b->buf = NULL;
		b->cap = 0;
	}
}

void backlog__free(struct backlog *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}
