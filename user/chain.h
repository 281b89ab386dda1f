/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The integrity chain (docs/integrity.md). Record i of a chain carries
 *   c(i) = HMAC-SHA256(k(i), "sockaudit-chain-v1\0" || c(i-1) || be64(i) || body(i))
 * where body(i) is the line as written minus its chain field, c(-1) is 32
 * zero bytes and k(i+1) = SHA-256("sockaudit-key-evolve-v1\0" || k(i)): the
 * key moves forward with every record and the old one is erased, so a key
 * taken from memory now cannot forge a record written before.
 *
 * Where the chain value sits depends on the format, always at a place the
 * format allows a field and always findable from the line alone:
 *   json_lines  ,"chain":"<hex>" as the last member
 *   cef, line   " chain=<hex>" as the last extension / key=value pair
 *   syslog      [chain@32473 v="<hex>"] as the last SD-ELEMENT
 *   csv         ",<hex>" as a last column
 * Sealing and splitting are exact inverses: split(seal(x)) gives back x.
 * The one line that is not sealed is a CSV file's column header, the
 * first line of each csv file (chain__is_header).
 */
#ifndef SOCKAUDIT_CHAIN_H
#define SOCKAUDIT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "recs.h"

#define CHAIN_KEY_LEN	32
#define CHAIN_MAC_LEN	32
#define CHAIN_HEX_LEN	64
/* The longest chain field any format adds (syslog's SD-ELEMENT). */
#define CHAIN_OVERHEAD	(CHAIN_HEX_LEN + 24)

enum chain_fmt { CHAIN_FMT_JSON = 0, CHAIN_FMT_CEF, CHAIN_FMT_SYSLOG, CHAIN_FMT_LINE,
		 CHAIN_FMT_CSV };

/* Position, head and current key of a chain: what a restart needs. */
struct chain_state {
	uint64_t seq;				/* of the next record */
	uint8_t head[CHAIN_MAC_LEN];		/* chain value of the last record */
	uint8_t key[CHAIN_KEY_LEN];		/* k(seq) */
};

/* A sealed line taken apart: body = pre || mid || post, and its chain value. */
struct chain_line {
	const char *pre, *mid, *post;
	size_t pre_len, mid_len, post_len;
	uint8_t mac[CHAIN_MAC_LEN];
};

struct chain;
/* Scratch for the SHA-256 passes of the MAC and the key step (one per thread). */
struct chain_crypto;

struct chain_crypto *chain_crypto__new(void);	/* NULL when libcrypto lacks them */
void chain_crypto__free(struct chain_crypto *cc);

/* The format a sink type is sealed as; -EINVAL for an unknown type. */
int chain__fmt_from_type(const char *type, enum chain_fmt *out);

/* A chain at st (copied); NULL on ENOMEM or when libcrypto has no HMAC. */
struct chain *chain__new(enum chain_fmt fmt, const struct chain_state *st);
/* Erase the key and free. NULL is fine. */
void chain__free(struct chain *c);
/* Start over at seq 0 with key0 and a zero head (a chain_gap). */
void chain__reset(struct chain *c, const uint8_t key0[CHAIN_KEY_LEN]);
const struct chain_state *chain__state(const struct chain *c);
/* Copy out / put back the state, so a failed write does not advance it. */
void chain__save(const struct chain *c, struct chain_state *out);
void chain__restore(struct chain *c, struct chain_state *st);	/* erases *st */

/*
 * Seal the records of r (each ending in '\n') into *out (grown with
 * realloc, *cap its size); *out_len gets the sealed length. Advances the
 * chain by r->n. 0 or -ENOMEM / -EIO.
 */
int chain__seal_recs(struct chain *c, const struct recs *r, char **out, size_t *cap,
		     size_t *out_len);
/* chain__seal_recs of every line of buf, found by scanning it (len < 4 GiB). */
int chain__seal(struct chain *c, const char *buf, size_t len, char **out, size_t *cap,
		size_t *out_len);

/* A CSV column header ("seq,ts,type,..."): the unsealed first line of a csv file. */
bool chain__is_header(const char *line, size_t len);

/* Take a sealed line (no '\n') apart; -EINVAL when it carries no chain value. */
int chain__split(const char *line, size_t len, struct chain_line *out);

/* The chain value of body at seq after prev with key. 0 or -EIO. */
int chain__mac(struct chain_crypto *cc, const uint8_t key[CHAIN_KEY_LEN], const uint8_t prev[CHAIN_MAC_LEN], uint64_t seq,
	       const struct chain_line *body, uint8_t out[CHAIN_MAC_LEN]);
/*
 * The link check, one for the verifier and the writer's crash recovery:
 * does line l carry the chain value for (key, prev, seq)?
 */
bool chain__fits(struct chain_crypto *cc, const uint8_t key[CHAIN_KEY_LEN],
		 const uint8_t prev[CHAIN_MAC_LEN], uint64_t seq, const struct chain_line *l);
/* k <- SHA-256(label || k), the old value erased. 0 or -EIO. */
int chain__evolve(struct chain_crypto *cc, uint8_t key[CHAIN_KEY_LEN]);

/* Hex helpers: out gets 2n chars + NUL; parse wants exactly 2n hex digits. */
void chain__hex(const uint8_t *in, size_t n, char *out);
int chain__unhex(const char *in, size_t hexlen, uint8_t *out, size_t n);

#endif /* SOCKAUDIT_CHAIN_H */
