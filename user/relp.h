/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small RELP client over TLS (OpenSSL), for the forwarder (forward.h).
 * Frames are `TXNR SP COMMAND SP DATALEN [SP DATA] LF`; the client opens a
 * session (`open`), sends `syslog` frames without waiting, and reads the
 * server's `rsp` frames, each naming the transaction it acknowledges, so
 * the caller knows exactly which frames the server accepted. librelp's
 * client (relpCltSendSyslog) keeps unacknowledged frames in its own memory
 * and never tells its caller which were acknowledged, which is what a
 * durable cursor needs: hence this client (docs/fleet.md).
 */
#ifndef SOCKAUDIT_RELP_H
#define SOCKAUDIT_RELP_H

#include <stddef.h>
#include <stdint.h>

struct relp_tls {
	const char *ca_file;		/* CA that signs the server's certificate */
	const char *cert_file;		/* our certificate (mutual authentication); NULL: none */
	const char *key_file;		/* its private key */
	const char *peer_names;		/* comma-separated names the server's certificate must carry */
};

struct relp;

/*
 * TCP connect to host:port (timeout_ms), TLS handshake that verifies the
 * server against ca_file and peer_names, RELP open. Nothing is sent before
 * the handshake succeeded. 0, or -errno with one line in err.
 */
int relp__connect(struct relp **out, const char *host, const char *port,
		  const struct relp_tls *tls, int timeout_ms, char *err, size_t errlen);

/* Queue one syslog frame (flushed by relp__flush or when the buffer fills); its txnr. */
int relp__send(struct relp *c, const char *msg, size_t len, uint32_t *txnr);
struct relp_iov {
	const char *p;
	size_t len;
};
/*
 * Queue one syslog frame whose data is pre, id in decimal, mid, rec (the
 * forwarder's RFC 5424 header around the record's ordinal, then the
 * record), built in place; its txnr.
 */
int relp__send_syslog(struct relp *c, const struct relp_iov *pre, uint64_t id,
		      const struct relp_iov *mid, const struct relp_iov *rec, uint32_t *txnr);
/* Write what is queued. 0 or -errno. */
int relp__flush(struct relp *c);

/*
 * Wait up to timeout_ms for responses; call ack(arg, txnr, ok) for each
 * (ok: the server answered 200). 0 when some came or the time passed,
 * -errno when the session is broken (closed by the server, TLS error).
 */
int relp__poll(struct relp *c, int timeout_ms, void (*ack)(void *arg, uint32_t txnr, int ok),
	       void *arg);
/*
 * Let the next relp__poll sleep until about n responses are there (or its
 * timeout passes) instead of waking at the first: one wake-up, one read
 * and one cursor update for n acknowledgements. 0 or 1: wake at the first.
 */
void relp__gather(struct relp *c, unsigned n);

/* Send `close` (best effort) and free. NULL is fine. */
void relp__close(struct relp *c);

/*
 * check-config: the TLS files and names as the handshake will need them
 * (CA file readable with a PEM certificate, own certificate and key
 * readable, PEM, in date, the key that of the certificate, peer names DNS
 * names). say(arg, line) once per problem; how many.
 */
typedef void (*relp_say_fn)(void *arg, const char *line);
int relp__check_tls(const struct relp_tls *t, relp_say_fn say, void *arg);

/* What the last failure was, for the log line. */
const char *relp__error(const struct relp *c);

#endif /* SOCKAUDIT_RELP_H */
