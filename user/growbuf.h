/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A malloc'd byte buffer grown by doubling (from 64 KiB) to hold need bytes. */
#ifndef SOCKAUDIT_GROWBUF_H
#define SOCKAUDIT_GROWBUF_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/* 0, or -ENOMEM with *buf and *cap as they were. */
static inline int growbuf__reserve(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 65536;
	char *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

#endif /* SOCKAUDIT_GROWBUF_H */
