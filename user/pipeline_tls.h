/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What user/tls.c needs of the pipeline: feed a connection the decrypted
 * stream of its TLS session, instead of the ciphertext.
 */
#ifndef SOCKAUDIT_PIPELINE_TLS_H
#define SOCKAUDIT_PIPELINE_TLS_H

#include <stdint.h>
#include "conntrack.h"

struct pipeline;

/* Bytes at stream position pos of direction dir of c (gaps, truncation, parsing). */
void pipeline__stream_data(struct pipeline *p, struct conn *c, uint64_t ts, uint64_t pos,
			   uint32_t orig, uint32_t cap, int dir, const uint8_t *payload);
/* The live connection (tgid, fd) of generation gen, or NULL. */
struct conn *pipeline__conn(struct pipeline *p, uint32_t tgid, int32_t fd, uint32_t gen);
/*
 * c carries a TLS stream from now on: what was read of its ciphertext is
 * dropped unwritten (its parsers, its raw exchange so far) and positions
 * restart at the plaintext's 0.
 */
void pipeline__tls_begin(struct pipeline *p, struct conn *c);
/* A connection for a TLS stream whose socket is unknown (synthetic fd). */
struct conn *pipeline__tls_orphan(struct pipeline *p, const struct sa_event_hdr *h, int32_t fd);
/* Such a connection's stream ended (SSL_free): write what is pending, free it. */
void pipeline__tls_orphan_end(struct pipeline *p, struct conn *c, uint64_t ts);

/* tls.c's counters (TLS_CNT_MAX, names by tls__counter_name). */
const uint64_t *pipeline__tls_counters(const struct pipeline *p);

#endif /* SOCKAUDIT_PIPELINE_TLS_H */
