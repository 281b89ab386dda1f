// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* RELP over TLS: see relp.h for why not librelp. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "relp.h"

#define RELP_OUT_FLUSH	(256u << 10)	/* write when this much is queued */
#define RELP_TXNR_MAX	999999999u	/* RFC: txnr wraps to 1 after this */
#define RELP_MAX_RSP	4096u		/* a response frame's data is a short status line */
/*
 * The fewest bytes an answer takes on the wire: rsyslog writes each
 * `TXNR rsp 6 200 OK` in a TLS record of its own (5 bytes of header, 16
 * of tag, 1 of inner type in TLS 1.3, 15 of frame at least). A byte count
 * of n of them stands for "at least n answers".
 */
#define RELP_RSP_WIRE	36u
#define RELP_GATHER_MAX	(32u << 10)	/* below the socket's receive buffer */
#define RELP_GATHER_US	1000		/* the longest wait for answers to gather */

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
	int lowat;			/* SO_RCVLOWAT for the next wait (bytes) */
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

void relp__gather(struct relp *c, unsigned n)
{
	c->lowat = n > 1 ? (int)(n * RELP_RSP_WIRE < RELP_GATHER_MAX ? n * RELP_RSP_WIRE :
				 RELP_GATHER_MAX) : 0;
}

/*
 * Wait until the socket holds c->lowat bytes (TCP wakes a poller only
 * then), for RELP_GATHER_US at most: rsyslog's Nagle holds its next
 * answers until we acknowledge the first, which our kernel delays (up to
 * 40 ms) until we read; so after that, read what is there (the read
 * acknowledges) or wait for the first byte as usual. The mark is set back
 * to 1 before any read: a blocking read would otherwise wait for that
 * many more bytes after a partial TLS record.
 */
static int wait_readable(struct relp *c, int timeout_ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int r, lowat = c->lowat, queued = 0, e;

	c->lowat = 0;
	if (lowat <= 1 || timeout_ms < 1)
		return poll(&p, 1, timeout_ms);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
	r = ppoll(&p, 1, &(struct timespec){ .tv_nsec = RELP_GATHER_US * 1000 }, NULL);
	e = errno;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &(int){ 1 }, sizeof(int));
	errno = e;
	if (r)
		return r;
	if (!ioctl(c->fd, FIONREAD, &queued) && queued > 0)
		return 1;
	return poll(&p, 1, timeout_ms);
}

static int fill(struct relp *c, int timeout_ms)
{
	int r;

	if (!SSL_has_pending(c->ssl)) {
		r = wait_readable(c, timeout_ms);
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
	/*
	 * The server writes each answer on its own; Nagle holds its second
	 * one until our TCP ACK, which delayed ACK holds up to 40 ms while we
	 * wait for answers and send nothing: acknowledge at once. The kernel
	 * leaves quick-ACK mode by itself, so this is set before every wait.
	 */
	setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 }, sizeof(int));
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

/* ---- check-config ---- */

static int check_say(relp_say_fn say, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int check_say(relp_say_fn say, void *arg, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say(arg, line);
	return 1;
}

/* A PEM file opened for reading, or one line saying why not. */
static BIO *pem_open(const char *what, const char *path, relp_say_fn say, void *arg)
{
	BIO *b = BIO_new_file(path, "r");
	int e = errno;

	if (!b) {
		ERR_clear_error();
		check_say(say, arg, "forward.%s %s is not readable: %s; fix the path or its "
			  "permissions", what, path, strerror(e ? e : EIO));
	}
	return b;
}

/* How many certificates the PEM file holds (-1: unreadable, said). */
static int pem_certs(const char *what, const char *path, X509 **first, relp_say_fn say,
		     void *arg)
{
	BIO *b = pem_open(what, path, say, arg);
	X509 *x;
	int n = 0;

	if (!b)
		return -1;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		if (!n && first)
			*first = x;
		else
			X509_free(x);
		n++;
	}
	ERR_clear_error();
	BIO_free(b);
	if (!n)
		check_say(say, arg, "forward.%s %s holds no PEM certificate (-----BEGIN "
			  "CERTIFICATE-----); give the PEM file", what, path);
	return n;
}

/* A certificate past its end date is refused by every peer: said here. */
static int cert_dates(const char *what, const char *path, X509 *x, relp_say_fn say, void *arg)
{
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		return check_say(say, arg, "forward.%s %s has expired; renew it", what, path);
	if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		return check_say(say, arg, "forward.%s %s is not valid yet; check the clock or "
				 "the certificate", what, path);
	return 0;
}

static int no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf, (void)size, (void)rw, (void)u;
	return -1;	/* the collector runs unattended: a key must not need one */
}

static EVP_PKEY *pem_key(const char *path, relp_say_fn say, void *arg)
{
	BIO *b = pem_open("key_file", path, say, arg);
	EVP_PKEY *k;

	if (!b)
		return NULL;
	k = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	ERR_clear_error();
	BIO_free(b);
	if (!k)
		check_say(say, arg, "forward.key_file %s holds no PEM private key without a "
			  "passphrase; give the unencrypted PEM key of cert_file", path);
	return k;
}

/* A DNS name as the server's certificate carries it: labels of [A-Za-z0-9-], "*." first at most. */
static bool dns_name_ok(const char *n, size_t len)
{
	size_t label = 0, i = 0;

	if (len > 2 && n[0] == '*' && n[1] == '.')
		i = 2;
	if (!len || len > 253 || n[len - 1] == '.' || n[i] == '.' || n[i] == '-')
		return false;
	for (; i < len; i++) {
		char ch = n[i];

		if (ch == '.') {
			if (!label || n[i - 1] == '-')
				return false;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || (ch == '-' && label)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return n[len - 1] != '-';
}

static int check_peer_names(const char *names, relp_say_fn say, void *arg)
{
	const char *p = names ? names : "";
	int bad = 0, n = 0;

	while (*p) {
		size_t len = strcspn(p, ", ");

		if (len) {
			n++;
			if (!dns_name_ok(p, len))
				bad += check_say(say, arg, "forward.peer_names: '%.*s' is not a DNS "
						 "name (letters, digits, '-', '.', a leading '*.'); "
						 "give the name the server's certificate carries",
						 (int)len, p);
		}
		p += len + (p[len] != 0);
	}
	if (!n)
		bad += check_say(say, arg, "forward.peer_names is empty; give the name(s) the "
				 "server's certificate carries");
	return bad;
}

int relp__check_tls(const struct relp_tls *t, relp_say_fn say, void *arg)
{
	X509 *ca = NULL, *cert = NULL;
	EVP_PKEY *key = NULL;
	int bad = 0;

	if (pem_certs("ca_file", t->ca_file, &ca, say, arg) <= 0)
		bad++;
	else
		bad += cert_dates("ca_file", t->ca_file, ca, say, arg);
	if (t->cert_file) {
		if (pem_certs("cert_file", t->cert_file, &cert, say, arg) <= 0)
			bad++;
		else
			bad += cert_dates("cert_file", t->cert_file, cert, say, arg);
		key = pem_key(t->key_file, say, arg);
		bad += !key;
		if (cert && key && X509_check_private_key(cert, key) != 1)
			bad += check_say(say, arg, "forward.key_file %s is not the key of "
					 "forward.cert_file %s; give the matching pair",
					 t->key_file, t->cert_file);
		ERR_clear_error();
	}
	bad += check_peer_names(t->peer_names, say, arg);
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(key);
	return bad;
}
