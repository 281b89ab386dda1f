// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* RELP over TLS: see relp.h for why not librelp. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "relp.h"

#define RELP_OUT_FLUSH	(256u << 10)	/* write when this much is queued */
#define RELP_TXNR_MAX	999999999u	/* RFC: txnr wraps to 1 after this */
#define RELP_MAX_RSP	4096u		/* a response frame's data is a short status line */

struct relp {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	uint32_t txnr;			/* last used */
	char *out;
	size_t out_len, out_cap;
	char in[65536];
	size_t in_len;
	char err[256];
	int stalls;			/* send timeouts in a row */
};

const char *relp__error(const struct relp *c)
{
	return c->err;
}

/* The first OpenSSL error on the queue (and the verify result), for one line. */
static void ssl_why(struct relp *c, const char *what)
{
	unsigned long e = ERR_get_error();
	long v = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
	char buf[160] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	if (v != X509_V_OK)
		snprintf(c->err, sizeof(c->err), "%s: %s (%s)", what,
			 X509_verify_cert_error_string(v), buf);
	else
		snprintf(c->err, sizeof(c->err), "%s: %s", what, buf[0] ? buf : "connection closed");
}

static int tcp_connect(struct relp *c, const char *host, const char *port, int timeout_ms)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai, *p;
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	int e = getaddrinfo(host, port, &hints, &ai);

	if (e) {
		snprintf(c->err, sizeof(c->err), "cannot resolve %s: %s", host, gai_strerror(e));
		return -EHOSTUNREACH;
	}
	e = -ECONNREFUSED;
	for (p = ai; p; p = p->ai_next) {
		c->fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
		if (c->fd < 0)
			continue;
		/* connect honours SO_SNDTIMEO; both bound a dead peer's reads and writes */
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		/* frames are batched by us: Nagle would only hold the tail of a batch back */
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		if (!connect(c->fd, p->ai_addr, p->ai_addrlen))
			break;
		e = -errno;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(ai);
	if (c->fd < 0) {
		snprintf(c->err, sizeof(c->err), "cannot connect to %s:%s: %s", host, port,
			 strerror(-e));
		return e;
	}
	return 0;
}

static int tls_context(struct relp *c, const struct relp_tls *t)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* rsyslog answers each frame in its own small TLS record: read them in bulk */
	SSL_CTX_set_read_ahead(c->ctx, 1);
	if (SSL_CTX_load_verify_locations(c->ctx, t->ca_file, NULL) != 1) {
		ssl_why(c, "cannot load the CA file");
		return -EINVAL;
	}
	if (t->cert_file &&
	    (SSL_CTX_use_certificate_chain_file(c->ctx, t->cert_file) != 1 ||
	     SSL_CTX_use_PrivateKey_file(c->ctx, t->key_file, SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(c->ctx) != 1)) {
		ssl_why(c, "cannot load our certificate and key");
		return -EINVAL;
	}
	return 0;
}

/* Every name of the comma-separated list is one the server's certificate may carry. */
static int set_peer_names(struct relp *c, const char *names)
{
	char *copy = strdup(names ? names : ""), *save = NULL, *n;
	int first = 1, ok = 1;

	if (!copy)
		return -ENOMEM;
	SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	for (n = strtok_r(copy, ", ", &save); n && ok; n = strtok_r(NULL, ", ", &save)) {
		ok = first ? SSL_set1_host(c->ssl, n) : SSL_add1_host(c->ssl, n);
		first = 0;
	}
	free(copy);
	if (first || !ok) {
		snprintf(c->err, sizeof(c->err), "no usable peer name in '%s'; set forward.peer_names",
			 names ? names : "");
		return -EINVAL;
	}
	return 0;
}

static int tls_handshake(struct relp *c, const struct relp_tls *t, const char *host)
{
	int e = tls_context(c, t);

	if (e)
		return e;
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl)
		return -ENOMEM;
	e = set_peer_names(c, t->peer_names);
	if (e)
		return e;
	SSL_set_tlsext_host_name(c->ssl, host);
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1) {
		ssl_why(c, "TLS handshake refused");
		return -EPROTO;
	}
	return 0;
}

static int write_all(struct relp *c, const char *p, size_t n)
{
	while (n) {
		int w = SSL_write(c->ssl, p, n > (1u << 30) ? (int)(1u << 30) : (int)n);

		if (w <= 0) {
			int why = SSL_get_error(c->ssl, w);

			/* a send timeout on a slow server: the same bytes again */
			if ((why == SSL_ERROR_WANT_WRITE || why == SSL_ERROR_WANT_READ) &&
			    ++c->stalls < 10)
				continue;
			ssl_why(c, c->stalls ? "TLS write timed out (the server does not read)" :
				"TLS write failed");
			return -EPIPE;
		}
		p += w;
		n -= w;
		c->stalls = 0;
	}
	return 0;
}

int relp__flush(struct relp *c)
{
	int e = write_all(c, c->out, c->out_len);

	c->out_len = 0;
	return e;
}

/* Room for need more bytes in the output buffer. */
static int out_room(struct relp *c, size_t need)
{
	size_t cap;
	char *p;

	if (c->out_len + need <= c->out_cap)
		return 0;
	cap = (c->out_len + need) * 2;
	p = realloc(c->out, cap);
	if (!p)
		return -ENOMEM;
	c->out = p;
	c->out_cap = cap;
	return 0;
}

/* Decimal digits of v at p (no NUL); how many. */
static size_t put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0, i;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* `TXNR CMD LEN[ ]` at the end of the output buffer (room made by the caller); the txnr. */
static uint32_t put_head(struct relp *c, const char *cmd, size_t cmdlen, size_t len)
{
	char *p = c->out + c->out_len;

	c->txnr = c->txnr >= RELP_TXNR_MAX ? 1 : c->txnr + 1;
	p += put_u64(p, c->txnr);
	*p++ = ' ';
	memcpy(p, cmd, cmdlen);
	p += cmdlen;
	*p++ = ' ';
	p += put_u64(p, len);
	if (len)
		*p++ = ' ';
	c->out_len = p - c->out;
	return c->txnr;
}

#define HEAD_MAX 64	/* txnr, command, datalen and their spaces */

/* Append one frame to the output buffer. */
static int put_frame(struct relp *c, const char *cmd, const char *data, size_t len,
		     uint32_t *txnr)
{
	uint32_t t;

	if (out_room(c, HEAD_MAX + len + 1))
		return -ENOMEM;
	t = put_head(c, cmd, strlen(cmd), len);
	memcpy(c->out + c->out_len, data, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	if (txnr)
		*txnr = t;
	return c->out_len >= RELP_OUT_FLUSH ? relp__flush(c) : 0;
}

int relp__send(struct relp *c, const char *msg, size_t len, uint32_t *txnr)
{
	return put_frame(c, "syslog", msg, len, txnr);
}

/*
 * One syslog frame whose data is pre, the decimal id, mid, then rec: built
 * in place in the output buffer (one copy of the record, no formatting
 * call), since this runs once per shipped record.
 */
int relp__send_syslog(struct relp *c, const struct relp_iov *pre, uint64_t id,
		      const struct relp_iov *mid, const struct relp_iov *rec, uint32_t *txnr)
{
	char digits[20];
	size_t dn = put_u64(digits, id), len = pre->len + dn + mid->len + rec->len;
	char *p;

	if (out_room(c, HEAD_MAX + len + 1))
		return -ENOMEM;
	*txnr = put_head(c, "syslog", 6, len);
	p = c->out + c->out_len;
	memcpy(p, pre->p, pre->len);
	p += pre->len;
	memcpy(p, digits, dn);
	p += dn;
	memcpy(p, mid->p, mid->len);
	p += mid->len;
	memcpy(p, rec->p, rec->len);
	p += rec->len;
	*p++ = '\n';
	c->out_len = p - c->out;
	return c->out_len >= RELP_OUT_FLUSH ? relp__flush(c) : 0;
}

/*
 * One complete frame at the start of in[0..avail): its txnr, command and
 * data. Its length, 0 when more bytes are needed, -EPROTO when malformed.
 */
static ssize_t parse_frame(const char *in, size_t avail, uint32_t *txnr, char *cmd,
			   size_t cmdlen, const char **data, size_t *dlen)
{
	const char *end = in + avail, *nl, *sp, *p;
	uint64_t t = 0, n = 0;
	size_t hdr;

	/* TXNR: digits up to SP */
	for (nl = in; nl < end && *nl >= '0' && *nl <= '9' && nl - in < 10; nl++)
		t = t * 10 + (*nl - '0');
	if (nl == end)
		return avail > 32 ? -EPROTO : 0;
	if (nl == in || *nl != ' ')
		return -EPROTO;
	sp = memchr(nl + 1, ' ', end - nl - 1);
	if (!sp)
		return avail > 64 ? -EPROTO : 0;
	if ((size_t)(sp - nl - 1) >= cmdlen)
		return -EPROTO;
	memcpy(cmd, nl + 1, sp - nl - 1);
	cmd[sp - nl - 1] = 0;
	/* DATALEN ends at SP (data follows) or at the trailer LF (no data) */
	for (p = sp + 1; p < end && *p >= '0' && *p <= '9' && n <= RELP_MAX_RSP * 16; p++)
		n = n * 10 + (*p - '0');
	if (p >= end)
		return 0;
	if (p == sp + 1 || (*p != ' ' && *p != '\n') || n > RELP_MAX_RSP * 16)
		return -EPROTO;
	hdr = p - in + (*p == ' ');
	if (hdr + n + 1 > avail)
		return hdr + n + 1 > sizeof(((struct relp *)0)->in) ? -EPROTO : 0;
	if (in[hdr + n] != '\n')
		return -EPROTO;
	*txnr = (uint32_t)t;
	*data = in + hdr;
	*dlen = n;
	return hdr + n + 1;
}

static int fill(struct relp *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int r;

	if (!SSL_has_pending(c->ssl)) {
		r = poll(&p, 1, timeout_ms);
		if (r <= 0)
			return r < 0 && errno != EINTR ? -errno : 0;
	}
	r = SSL_read(c->ssl, c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (r <= 0) {
		ssl_why(c, "the server closed the session");
		return -ECONNRESET;
	}
	c->in_len += r;
	return r;
}

/* Handle every complete frame in c->in; what is left of a partial one moves to the start. */
static int drain_frames(struct relp *c, void (*ack)(void *, uint32_t, int), void *arg)
{
	char cmd[32];
	const char *data;
	size_t dlen, off = 0;
	uint32_t txnr;
	ssize_t n;
	int e = 0;

	while ((n = parse_frame(c->in + off, c->in_len - off, &txnr, cmd, sizeof(cmd), &data,
				&dlen)) > 0) {
		off += n;
		if (!strcmp(cmd, "serverclose")) {
			snprintf(c->err, sizeof(c->err), "the server closed the session (serverclose)");
			e = -ECONNRESET;
			break;
		}
		if (!strcmp(cmd, "rsp") && ack)
			ack(arg, txnr, dlen >= 3 && !memcmp(data, "200", 3));
	}
	if (n < 0) {
		snprintf(c->err, sizeof(c->err), "malformed RELP frame from the server");
		e = (int)n;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
	return e;
}

int relp__poll(struct relp *c, int timeout_ms, void (*ack)(void *arg, uint32_t txnr, int ok),
	       void *arg)
{
	int r = relp__flush(c);

	if (r)
		return r;
	r = fill(c, timeout_ms);
	/* take what else is already there without waiting; the acks of each read at once */
	while (r > 0) {
		if ((r = drain_frames(c, ack, arg)))
			return r;
		if (!SSL_has_pending(c->ssl) && poll(&(struct pollfd){ c->fd, POLLIN, 0 }, 1, 0) <= 0)
			break;
		r = fill(c, 0);
	}
	return r < 0 ? r : 0;
}

static void open_ack(void *arg, uint32_t txnr, int ok)
{
	*(int *)arg = ok ? 1 : -1;
}

/* The RELP session offer; the server answers 200 with its own offers. */
static int relp_open(struct relp *c, int timeout_ms)
{
	static const char offer[] = "relp_version=0\nrelp_software=sockaudit\ncommands=syslog";
	int got = 0, e = put_frame(c, "open", offer, sizeof(offer) - 1, NULL), waited = 0;

	while (!e && !got && waited < timeout_ms) {
		e = relp__poll(c, 100, open_ack, &got);
		waited += 100;
	}
	if (!e && got != 1) {
		snprintf(c->err, sizeof(c->err), got ? "the server refused the RELP session" :
			 "no answer to the RELP open");
		e = -EPROTO;
	}
	return e;
}

void relp__close(struct relp *c)
{
	if (!c)
		return;
	if (c->ssl && SSL_is_init_finished(c->ssl)) {
		c->out_len = 0;
		if (!put_frame(c, "close", "", 0, NULL))
			relp__flush(c);
		SSL_shutdown(c->ssl);
	}
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	free(c);
}

int relp__connect(struct relp **out, const char *host, const char *port,
		  const struct relp_tls *tls, int timeout_ms, char *err, size_t errlen)
{
	struct relp *c = calloc(1, sizeof(*c));
	int e;

	*out = NULL;
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->fd = -1;
	e = tcp_connect(c, host, port, timeout_ms);
	if (!e)
		e = tls_handshake(c, tls, host);
	if (!e)
		e = relp_open(c, timeout_ms);
	if (e) {
		snprintf(err, errlen, "%s:%s: %s", host, port, c->err[0] ? c->err : strerror(-e));
		relp__close(c);
		return e;
	}
	*out = c;
	return 0;
}
