// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The integrity chain: HMAC-SHA256 per record with a forward-evolving key,
 * and where each format carries the value (chain.h has the construction).
 * The hashing is libcrypto's SHA-256; this file frames the inputs and does
 * HMAC's two key pads (struct chain_crypto says why).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
/* SHA256_Init/Update/Final: deprecated in OpenSSL 3 in favour of EVP, kept for speed (below) */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include "chain.h"
#include "growbuf.h"

/* Domain separation: a MAC or a key step can never be taken for the other. */
static const char mac_label[] = "sockaudit-chain-v1";		/* with its NUL */
static const char evolve_label[] = "sockaudit-key-evolve-v1";	/* with its NUL */

#define SD_OPEN		"[chain@32473 v=\""
#define SD_OPEN_LEN	(sizeof(SD_OPEN) - 1)
#define SD_ELEM_LEN	(SD_OPEN_LEN + CHAIN_HEX_LEN + 2)	/* ..."] */
#define JSON_TAIL	"\"chain\":\""
#define JSON_TAIL_LEN	(sizeof(JSON_TAIL) - 1)
#define KV_TAIL		" chain="
#define KV_TAIL_LEN	(sizeof(KV_TAIL) - 1)

/*
 * Scratch for the hashes. The chain uses libcrypto's SHA-256 block
 * functions directly and builds HMAC (RFC 2104) over them: the key changes
 * with every record, and EVP_MAC_init with a new key plus the provider
 * dispatch of every EVP call added about a fifth to the hashing (160 ns
 * on a 600-byte record; docs/benchmarks.md, issue 15). The SHA-256 code is
 * libcrypto's own (SHA-NI where the CPU has it); only the two pads are
 * done here.
 */
struct chain_crypto {
	SHA256_CTX ctx;
	uint8_t pad[SHA256_CBLOCK];
};

struct chain {
	struct chain_crypto *cc;
	enum chain_fmt fmt;
	struct chain_state st;
};

static const char *const fmt_types[] = {
	[CHAIN_FMT_JSON] = "json_lines", [CHAIN_FMT_CEF] = "cef", [CHAIN_FMT_SYSLOG] = "syslog",
	[CHAIN_FMT_LINE] = "line", [CHAIN_FMT_CSV] = "csv",
};

int chain__fmt_from_type(const char *type, enum chain_fmt *out)
{
	size_t i;

	for (i = 0; type && i < sizeof(fmt_types) / sizeof(fmt_types[0]); i++) {
		if (!strcmp(type, fmt_types[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- crypto ---- */

void chain_crypto__free(struct chain_crypto *cc)
{
	if (!cc)
		return;
	OPENSSL_cleanse(cc, sizeof(*cc));	/* the last pad and hash state hold key bits */
	free(cc);
}

struct chain_crypto *chain_crypto__new(void)
{
	return calloc(1, sizeof(struct chain_crypto));
}

static void be64(uint64_t v, uint8_t out[8])
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		out[i] = v & 0xff;
}

/* Start a hash of (key XOR x, padded to a block): HMAC's inner (0x36) or outer (0x5c) pass. */
static bool pad_init(struct chain_crypto *cc, const uint8_t key[CHAIN_KEY_LEN], uint8_t x)
{
	size_t i;

	for (i = 0; i < CHAIN_KEY_LEN; i++)
		cc->pad[i] = key[i] ^ x;
	memset(cc->pad + CHAIN_KEY_LEN, x, sizeof(cc->pad) - CHAIN_KEY_LEN);
	return SHA256_Init(&cc->ctx) && SHA256_Update(&cc->ctx, cc->pad, sizeof(cc->pad));
}

/* A part of the MAC's input; an empty one is not a call (mid and post mostly are). */
static bool mac_update(SHA256_CTX *h, const void *p, size_t n)
{
	return !n || SHA256_Update(h, p, n);
}

int chain__mac(struct chain_crypto *cc, const uint8_t key[CHAIN_KEY_LEN],
	       const uint8_t prev[CHAIN_MAC_LEN], uint64_t seq, const struct chain_line *b,
	       uint8_t out[CHAIN_MAC_LEN])
{
	uint8_t head[sizeof(mac_label) + CHAIN_MAC_LEN + 8], inner[CHAIN_MAC_LEN];
	bool ok;

	memcpy(head, mac_label, sizeof(mac_label));
	memcpy(head + sizeof(mac_label), prev, CHAIN_MAC_LEN);
	be64(seq, head + sizeof(mac_label) + CHAIN_MAC_LEN);
	ok = pad_init(cc, key, 0x36) && SHA256_Update(&cc->ctx, head, sizeof(head)) &&
	     mac_update(&cc->ctx, b->pre, b->pre_len) && mac_update(&cc->ctx, b->mid, b->mid_len) &&
	     mac_update(&cc->ctx, b->post, b->post_len) && SHA256_Final(inner, &cc->ctx) &&
	     pad_init(cc, key, 0x5c) && SHA256_Update(&cc->ctx, inner, sizeof(inner)) &&
	     SHA256_Final(out, &cc->ctx);
	OPENSSL_cleanse(cc->pad, sizeof(cc->pad));
	return ok ? 0 : -EIO;
}

bool chain__fits(struct chain_crypto *cc, const uint8_t key[CHAIN_KEY_LEN],
		 const uint8_t prev[CHAIN_MAC_LEN], uint64_t seq, const struct chain_line *l)
{
	uint8_t mac[CHAIN_MAC_LEN];

	return !chain__mac(cc, key, prev, seq, l, mac) && !memcmp(mac, l->mac, CHAIN_MAC_LEN);
}

int chain__evolve(struct chain_crypto *cc, uint8_t key[CHAIN_KEY_LEN])
{
	/* overwrites k(i) in place */
	return SHA256_Init(&cc->ctx) && SHA256_Update(&cc->ctx, evolve_label, sizeof(evolve_label)) &&
	       SHA256_Update(&cc->ctx, key, CHAIN_KEY_LEN) && SHA256_Final(key, &cc->ctx) ? 0 : -EIO;
}

/* ---- hex ---- */

void chain__hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;	/* lower case only: one spelling per value */
}

int chain__unhex(const char *in, size_t hexlen, uint8_t *out, size_t n)
{
	size_t i;

	if (hexlen != 2 * n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = hi << 4 | lo;
	}
	return 0;
}

/* ---- the chain ---- */

struct chain *chain__new(enum chain_fmt fmt, const struct chain_state *st)
{
	struct chain *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cc = chain_crypto__new();
	if (!c->cc) {
		free(c);
		return NULL;
	}
	c->fmt = fmt;
	c->st = *st;
	return c;
}

void chain__free(struct chain *c)
{
	if (!c)
		return;
	OPENSSL_cleanse(&c->st, sizeof(c->st));
	chain_crypto__free(c->cc);
	free(c);
}

void chain__reset(struct chain *c, const uint8_t key0[CHAIN_KEY_LEN])
{
	OPENSSL_cleanse(&c->st, sizeof(c->st));
	memcpy(c->st.key, key0, CHAIN_KEY_LEN);
}

const struct chain_state *chain__state(const struct chain *c)
{
	return &c->st;
}

void chain__save(const struct chain *c, struct chain_state *out)
{
	*out = c->st;
}

void chain__restore(struct chain *c, struct chain_state *st)
{
	c->st = *st;
	OPENSSL_cleanse(st, sizeof(*st));
}

/* ---- syslog structured data ---- */

/* Offset where the SD field starts (after six header fields), or -1. */
static long sd_start(const char *l, size_t len)
{
	size_t i, spaces = 0;

	if (!len || l[0] != '<')
		return -1;
	for (i = 0; i < len && spaces < 6; i++)
		spaces += l[i] == ' ';
	return spaces == 6 && i < len ? (long)i : -1;
}

/* End of the SD-ELEMENT opening at l[i] == '[' (just past ']'), or 0. */
static size_t sd_element_end(const char *l, size_t len, size_t i)
{
	bool quoted = false;

	for (i++; i < len; i++) {
		if (quoted && l[i] == '\\' && i + 1 < len)
			i++;	/* \" \\ \] inside a PARAM-VALUE */
		else if (l[i] == '"')
			quoted = !quoted;
		else if (!quoted && l[i] == ']')
			return i + 1;
	}
	return 0;
}

/*
 * The SD field of a syslog line: [*first, *end) and the start of its last
 * element (*last; == *end for the NILVALUE "-"). false when malformed.
 */
static bool sd_bounds(const char *l, size_t len, size_t *first, size_t *last, size_t *end)
{
	long s = sd_start(l, len);
	size_t i, e;

	if (s < 0)
		return false;
	i = *first = *last = s;
	if (l[i] == '-') {
		*last = *end = i + 1;
		return *end == len || l[*end] == ' ';
	}
	while (i < len && l[i] == '[') {
		e = sd_element_end(l, len, i);
		if (!e)
			return false;
		*last = i;
		i = e;
	}
	*end = i;
	return i > (size_t)s && (i == len || l[i] == ' ');
}

/* ---- sealing ---- */

static char *put(char *o, const void *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

/*
 * Write line (no '\n') with hex placed at o; returns the end. The place is
 * chosen by the line's own shape first, exactly as chain__split looks for
 * it, so the two can never disagree: a JSON object line is sealed as JSON,
 * an RFC 5424 line gets the SD-ELEMENT; the rest go by the sink's format
 * (the writer renders its own records in the sink's format too).
 */
static char *place(enum chain_fmt fmt, const char *l, size_t len, const char *hex, char *o)
{
	size_t first, last, end;

	if (len >= 2 && l[0] == '{' && l[len - 1] == '}') {
		o = put(o, l, len - 1);
		if (l[len - 2] != '{')
			*o++ = ',';
		o = put(o, JSON_TAIL, JSON_TAIL_LEN);
		o = put(o, hex, CHAIN_HEX_LEN);
		return put(o, "\"}", 2);
	}
	if (sd_bounds(l, len, &first, &last, &end)) {
		bool nil = l[first] == '-';

		o = put(o, l, nil ? first : end);
		o = put(o, SD_OPEN, SD_OPEN_LEN);
		o = put(o, hex, CHAIN_HEX_LEN);
		o = put(o, "\"]", 2);
		return put(o, l + end, len - end);
	}
	o = put(o, l, len);
	if (fmt == CHAIN_FMT_CSV) {
		*o++ = ',';
		return put(o, hex, CHAIN_HEX_LEN);
	}
	o = put(o, KV_TAIL, KV_TAIL_LEN);	/* cef, line, and lines no format rule fits */
	return put(o, hex, CHAIN_HEX_LEN);
}

/* MAC one line at the chain's position, step the key, append the sealed line. */
static int seal_line(struct chain *c, const char *l, size_t len, char *o, char **end)
{
	struct chain_line body = { .pre = l, .pre_len = len, .mid = "", .post = "" };
	char hex[CHAIN_HEX_LEN + 1];
	uint8_t mac[CHAIN_MAC_LEN];

	if (chain__mac(c->cc, c->st.key, c->st.head, c->st.seq, &body, mac) ||
	    chain__evolve(c->cc, c->st.key))
		return -EIO;
	memcpy(c->st.head, mac, CHAIN_MAC_LEN);
	c->st.seq++;
	chain__hex(mac, CHAIN_MAC_LEN, hex);
	o = place(c->fmt, l, len, hex, o);
	*o++ = '\n';
	*end = o;
	return 0;
}

int chain__seal_recs(struct chain *c, const struct recs *r, char **out, size_t *cap,
		     size_t *out_len)
{
	uint32_t i;
	char *o;
	int err;

	if (growbuf__reserve(out, cap, recs__bytes(r) + (size_t)r->n * (CHAIN_OVERHEAD + 1) + 1))
		return -ENOMEM;
	o = *out;
	for (i = r->first; i < r->first + r->n; i++) {
		/* each record without its newline: seal_line puts one back */
		err = seal_line(c, r->buf + recs__start(r, i), recs__len(r, i) - 1, o, &o);
		if (err)
			return err;
	}
	*out_len = o - *out;
	return 0;
}

int chain__seal(struct chain *c, const char *buf, size_t len, char **out, size_t *cap,
		size_t *out_len)
{
	const char *p = buf, *stop = buf + len, *nl;
	uint32_t *end = NULL, n = 0, cap_n = 0;
	int err;

	for (; p < stop && (nl = memchr(p, '\n', stop - p)); p = nl + 1) {
		if (n == cap_n) {
			uint32_t *e = realloc(end, (cap_n = cap_n ? 2 * cap_n : 64) * sizeof(*e));

			if (!e) {
				free(end);
				return -ENOMEM;
			}
			end = e;
		}
		end[n++] = (uint32_t)(nl + 1 - buf);
	}
	err = chain__seal_recs(c, &(struct recs){ .buf = buf, .end = end, .n = n }, out, cap,
			       out_len);
	free(end);
	return err;
}

/* ---- splitting ---- */

static bool is_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (hexval(s[i]) < 0)
			return false;
	return true;
}

static int split_json(const char *l, size_t len, struct chain_line *o)
{
	size_t tail = JSON_TAIL_LEN + CHAIN_HEX_LEN + 2, at;

	if (len < tail + 1 || l[0] != '{' || memcmp(l + len - 2, "\"}", 2) ||
	    memcmp(l + len - tail, JSON_TAIL, JSON_TAIL_LEN))
		return -EINVAL;
	at = len - tail;
	if (l[at - 1] != ',' && l[at - 1] != '{')
		return -EINVAL;
	o->pre_len = l[at - 1] == ',' ? at - 1 : at;
	o->post = "}";
	o->post_len = 1;
	return chain__unhex(l + len - 2 - CHAIN_HEX_LEN, CHAIN_HEX_LEN, o->mac, CHAIN_MAC_LEN);
}

static int split_syslog(const char *l, size_t len, struct chain_line *o)
{
	size_t first, last, end;

	if (!sd_bounds(l, len, &first, &last, &end) || end - last != SD_ELEM_LEN ||
	    memcmp(l + last, SD_OPEN, SD_OPEN_LEN) || memcmp(l + end - 2, "\"]", 2))
		return -EINVAL;
	o->pre_len = last;
	if (last == first) {
		o->mid = "-";	/* the chain was the only element: it replaced "-" */
		o->mid_len = 1;
	}
	o->post = l + end;
	o->post_len = len - end;
	return chain__unhex(l + last + SD_OPEN_LEN, CHAIN_HEX_LEN, o->mac, CHAIN_MAC_LEN);
}

/* " chain=<hex>" (cef, line) or ",<hex>" (csv) at the end of the line. */
static int split_suffix(const char *l, size_t len, struct chain_line *o)
{
	const char *hex = l + len - CHAIN_HEX_LEN;

	if (len < CHAIN_HEX_LEN + 1 || !is_hex(hex, CHAIN_HEX_LEN))
		return -EINVAL;
	if (len >= CHAIN_HEX_LEN + KV_TAIL_LEN && !memcmp(hex - KV_TAIL_LEN, KV_TAIL, KV_TAIL_LEN))
		o->pre_len = len - CHAIN_HEX_LEN - KV_TAIL_LEN;
	else if (hex[-1] == ',')
		o->pre_len = len - CHAIN_HEX_LEN - 1;
	else
		return -EINVAL;
	return chain__unhex(hex, CHAIN_HEX_LEN, o->mac, CHAIN_MAC_LEN);
}

#define CSV_HEADER_START "seq,ts,type,"

/* A record line starts with a number (seq) there, never with a column name. */
bool chain__is_header(const char *line, size_t len)
{
	return len >= sizeof(CSV_HEADER_START) - 1 &&
	       !memcmp(line, CSV_HEADER_START, sizeof(CSV_HEADER_START) - 1);
}

/* The rule is picked by the first byte, as place() picked it, then the suffix rules. */
int chain__split(const char *line, size_t len, struct chain_line *out)
{
	memset(out, 0, sizeof(*out));
	out->pre = line;
	out->mid = out->post = "";
	if (len && line[0] == '{' && !split_json(line, len, out))
		return 0;
	if (len && line[0] == '<' && !split_syslog(line, len, out))
		return 0;
	memset(out, 0, sizeof(*out));
	out->pre = line;
	out->mid = out->post = "";
	return split_suffix(line, len, out);
}
