/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * TLS plaintext streams in the pipeline: each (tgid, SSL*) from
 * bpf/tls.bpf.c is tied to the socket that carries its ciphertext, and its
 * plaintext is parsed on that connection (conn.tls true) in place of the
 * ciphertext, which is counted and not written. Two exact techniques:
 *  - syscall: the socket data event the same thread made inside the SSL
 *    call (BIO-socket programs: OpenSSL reads and writes the socket itself);
 *  - fingerprint: 16 ciphertext bytes the library wrote to (or read from) a
 *    memory BIO inside an SSL call, found again at a TLS record start of a
 *    socket's data (Node: libuv moves the ciphertext later).
 * A stream neither ties is held (bounded), then written on a connection of
 * its own with the socket unknown: never guessed.
 */
#ifndef SOCKAUDIT_TLS_H
#define SOCKAUDIT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockaudit/events.h"

struct conn;
struct pipeline;
struct tls_state;

/* What the socket's first bytes were (conn.tls_wire). */
enum { TLS_WIRE_UNKNOWN = 0, TLS_WIRE_TLS, TLS_WIRE_PLAIN };

enum tls_counter {
	TLS_TIE_SYSCALL = 0,	/* streams tied by a socket syscall inside the SSL call */
	TLS_TIE_FP_EGRESS,	/* ... by a ciphertext fingerprint the library wrote */
	TLS_TIE_FP_INGRESS,	/* ... by a ciphertext fingerprint the library read */
	TLS_UNTIED,		/* streams written with the socket unknown */
	TLS_FP_AMBIGUOUS,	/* fingerprints two streams shared: not used */
	TLS_PLAIN_EVENTS,	/* plaintext events */
	TLS_CIPHER_BYTES,	/* ciphertext bytes of tied sockets, not written */
	TLS_H2_CONNS,		/* HTTP/2 streams written raw */
	TLS_CNT_MAX,
};

struct tls_state *tls__new(struct pipeline *p);
void tls__free(struct tls_state *t);

bool tls__event_valid(const void *data, size_t size);
void tls__event(struct tls_state *t, const void *data);
/* A socket data event of c: true when it is ciphertext of a tied stream (not parsed). */
bool tls__socket_data(struct tls_state *t, struct conn *c, const struct sa_data_event *ev,
		      const uint8_t *payload);
void tls__proc_exit(struct tls_state *t, uint32_t tgid);
/* The first plaintext bytes are HTTP/2's (preface or SETTINGS; counted once per conn). */
bool tls__h2_preface(struct tls_state *t, struct conn *c, const uint8_t *buf, size_t len);

const uint64_t *tls__counters(const struct tls_state *t);
const char *tls__counter_name(int idx);

#endif /* SOCKAUDIT_TLS_H */
