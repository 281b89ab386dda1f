// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * GNU libmicrohttpd serves the endpoint: a small C HTTP/1.1 server in
 * Debian, maintained for two decades, with its own thread and connection
 * limits, so the collector needs no HTTP code of its own. We make the
 * listening socket ourselves (to check the address, to create a unix socket
 * 0660 with a group) and hand it over.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "health.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"

#define HTTPD_MAX_CONNS		64	/* at once: a scraper and a few probes */
#define HTTPD_TIMEOUT_S		5	/* an idle or slow client is dropped after this */
#define UNIX_PREFIX		"unix:"
#define HTTPD_MAX_BODY		65536	/* bytes of a request body dropped before closing */

struct httpd {
	struct MHD_Daemon *d;
	struct snapshot_pub *pub;
	struct snapshot snap;		/* the copy being answered from (one server thread) */
	struct jbuf page;
	char *unix_path;		/* removed at stop */
};

static bool is_unix(const char *listen)
{
	return !strncmp(listen, UNIX_PREFIX, strlen(UNIX_PREFIX));
}

/* "HOST:PORT" or "[V6]:PORT" split; host "" means every address (not loopback). */
static int split_host_port(const char *listen, char *host, size_t hostlen, const char **port)
{
	const char *colon;

	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');

		if (!end || end[1] != ':' || (size_t)(end - listen - 1) >= hostlen)
			return -EINVAL;
		snprintf(host, hostlen, "%.*s", (int)(end - listen - 1), listen + 1);
		*port = end + 2;
		return 0;
	}
	colon = strrchr(listen, ':');
	if (!colon || (size_t)(colon - listen) >= hostlen)
		return -EINVAL;
	snprintf(host, hostlen, "%.*s", (int)(colon - listen), listen);
	*port = colon + 1;
	return **port ? 0 : -EINVAL;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

/* The address to bind (numeric hosts and names that resolve; the first answer). */
static int resolve(const char *listen, struct addrinfo **ai, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	char host[256];
	const char *port;
	int e;

	if (split_host_port(listen, host, sizeof(host), &port)) {
		snprintf(err, errlen, "metrics listen '%s': give HOST:PORT (127.0.0.1:9464, "
			 "[::1]:9464) or unix:PATH", listen);
		return -EINVAL;
	}
	e = getaddrinfo(host[0] ? host : NULL, port, &hints, ai);
	if (e) {
		snprintf(err, errlen, "metrics listen '%s': %s; give a numeric loopback address "
			 "such as 127.0.0.1:9464", listen, gai_strerror(e));
		return -EINVAL;
	}
	return 0;
}

int httpd__check_listen(const struct httpd_opts *o, bool *remote, char *err, size_t errlen)
{
	struct addrinfo *ai;
	bool loop;

	if (is_unix(o->listen)) {
		const char *path = o->listen + strlen(UNIX_PREFIX);

		if (remote)
			*remote = false;
		if (path[0] != '/' || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(err, errlen, "metrics listen '%s': give an absolute socket path "
				 "shorter than 108 bytes after unix:", o->listen);
			return -EINVAL;
		}
		return 0;
	}
	if (resolve(o->listen, &ai, err, errlen))
		return -EINVAL;
	loop = is_loopback(ai->ai_addr);
	freeaddrinfo(ai);
	if (!loop && !o->allow_remote) {
		snprintf(err, errlen, "metrics listen '%s' is not a loopback address: the endpoint "
			 "has no authentication; use 127.0.0.1:PORT or unix:PATH, or set "
			 "metrics: allow_remote: true", o->listen);
		return -EINVAL;
	}
	if (remote)
		*remote = !loop;
	return 0;
}

static int listen_tcp(const char *where)
{
	struct addrinfo *ai;
	char err[512];
	int fd, one = 1;

	if (resolve(where, &ai, err, sizeof(err))) {
		log_err("%s", err);
		return -EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
			log_err("metrics listen %s: %s; pick a free port or stop what holds it",
				where, strerror(errno));
			close(fd);
			fd = -EADDRINUSE;
		}
	} else {
		log_err("metrics listen %s: socket: %s", where, strerror(errno));
		fd = -errno;
	}
	freeaddrinfo(ai);
	return fd;
}

/*
 * A stale socket file from a collector that died is replaced; anything
 * else at the path is left alone (it is not ours).
 */
static int unlink_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("metrics socket %s: something that is not a socket is there; remove it or "
			"pick another path", path);
		return -EEXIST;
	}
	return unlink(path) ? -errno : 0;
}

static int listen_unix(const char *path, gid_t gid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, e;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((e = unlink_stale(path)))
		return e;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	old = umask(0117);	/* born 0660: never a moment with wider access */
	e = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (!e && gid != (gid_t)-1)
		e = chown(path, (uid_t)-1, gid);
	if (!e)
		e = chmod(path, 0660);
	if (!e)
		e = listen(fd, 64);
	if (e) {
		e = -errno;
		log_err("metrics socket %s: %s; check the directory exists and is writable",
			path, strerror(-e));
		close(fd);
		unlink(path);
		return e;
	}
	return fd;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
								  MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve(struct httpd *h, struct MHD_Connection *c, const char *url)
{
	static const char none[] = "{\"status\":\"failing\",\"checks\":{\"snapshot\":"
				   "{\"status\":\"failing\",\"age_ms\":null}}}\n";
	bool health = !strcmp(url, "/healthz"), metrics = !strcmp(url, "/metrics");
	unsigned int code = MHD_HTTP_OK;

	if (!health && !metrics)
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "GET /healthz or /metrics\n", 25);
	if (!snapshot__read(h->pub, &h->snap))
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", none,
			     sizeof(none) - 1);
	jbuf__reset(&h->page);
	if (health) {
		if (health__render(&h->snap, real_ns(), &h->page) == HEALTH_FAILING)
			code = MHD_HTTP_SERVICE_UNAVAILABLE;
		jbuf__raw(&h->page, "\n", 1);
	} else {
		metrics__render(&h->snap, &h->page);
	}
	if (h->page.oom)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n", 14);
	return reply(c, code, health ? "application/json" : METRICS_CONTENT_TYPE, h->page.buf,
		     h->page.len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	/*
	 * The first call has the headers only: answering then would make
	 * libmicrohttpd close the connection (the body is not read yet), so
	 * keep-alive clients (Prometheus, probes) would reconnect every time.
	 * A body is read and dropped, up to HTTPD_MAX_BODY; past that the
	 * connection is closed. *state counts its bytes (as a pointer-sized
	 * integer: no allocation per request).
	 */
	uintptr_t seen = (uintptr_t)*state;

	if (!seen) {
		*state = (void *)(uintptr_t)1;
		return MHD_YES;
	}
	if (*upload_size) {
		seen += *upload_size;
		*upload_size = 0;
		*state = (void *)seen;
		return seen > HTTPD_MAX_BODY ? MHD_NO : MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
	return serve(cls, c, url);
}

int httpd__listen(const struct httpd_opts *o)
{
	bool remote = false;
	char err[512];

	if (httpd__check_listen(o, &remote, err, sizeof(err))) {
		log_err("%s", err);
		return -EINVAL;
	}
	if (remote)
		log_warn("metrics endpoint on %s, reachable from other hosts, with no "
			 "authentication (allow_remote: true): put a firewall or an authenticating "
			 "proxy in front (an open local endpoint is how CVE-2025-49596 happened)",
			 o->listen);
	return is_unix(o->listen) ? listen_unix(o->listen + strlen(UNIX_PREFIX), o->gid) :
				    listen_tcp(o->listen);
}

int httpd__start(struct httpd **out, const struct httpd_opts *o, int fd,
		 struct snapshot_pub *pub)
{
	struct httpd *h = calloc(1, sizeof(*h));

	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	h->pub = pub;
	jbuf__init(&h->page);
	if (is_unix(o->listen))
		h->unix_path = strdup(o->listen + strlen(UNIX_PREFIX));
	h->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTPD_MAX_CONNS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_TIMEOUT_S,
				MHD_OPTION_END);
	if (!h->d) {
		log_err("metrics endpoint %s: libmicrohttpd could not start", o->listen);
		close(fd);
		if (h->unix_path)
			unlink(h->unix_path);
		free(h->unix_path);
		jbuf__free(&h->page);
		free(h);
		return -EIO;
	}
	log_info("metrics endpoint: GET /healthz and /metrics on %s", o->listen);
	*out = h;
	return 0;
}

void httpd__stop(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);	/* closes the listening socket too */
	if (h->unix_path)
		unlink(h->unix_path);
	free(h->unix_path);
	jbuf__free(&h->page);
	free(h);
}
