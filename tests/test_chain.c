// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The chain module: where each format carries the value (seal, then split
 * gives back the exact bytes), the MAC and the key step against libcrypto's
 * one-shot HMAC and digest, failed writes undone, key erasure, and the key,
 * state and anchor files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "chain.h"
#include "chainfile.h"
#include "outpath.h"
#include "verify.h"

static const uint8_t key0[CHAIN_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

static struct chain *new_chain(enum chain_fmt fmt)
{
	struct chain_state st = { 0 };
	struct chain *c;

	memcpy(st.key, key0, sizeof(key0));
	c = chain__new(fmt, &st);
	assert_non_null(c);
	return c;
}

/* Seal one line; returns the sealed line (no '\n'), malloc'ed. */
static char *seal1(struct chain *c, const char *line)
{
	char *in, *out = NULL;
	size_t cap = 0, len = 0;

	assert_true(asprintf(&in, "%s\n", line) > 0);
	assert_int_equal(chain__seal(c, in, strlen(in), &out, &cap, &len), 0);
	free(in);
	assert_true(len > 0 && out[len - 1] == '\n');
	out[len - 1] = '\0';
	return out;
}

/* The reference MAC: HMAC() over the concatenated input, done independently. */
static void ref_mac(const uint8_t *key, const uint8_t *prev, uint64_t seq, const char *body,
		    uint8_t out[32])
{
	static const char label[] = "sockaudit-chain-v1";
	uint8_t buf[4096];
	size_t n = 0;
	unsigned int mlen = 0;
	int i;

	memcpy(buf, label, sizeof(label));
	n += sizeof(label);
	memcpy(buf + n, prev, 32);
	n += 32;
	for (i = 7; i >= 0; i--)
		buf[n++] = seq >> (8 * i);
	memcpy(buf + n, body, strlen(body));
	n += strlen(body);
	assert_non_null(HMAC(EVP_sha256(), key, 32, buf, n, out, &mlen));
	assert_int_equal(mlen, 32);
}

static void body_of(const struct chain_line *l, char *out)
{
	memcpy(out, l->pre, l->pre_len);
	memcpy(out + l->pre_len, l->mid, l->mid_len);
	memcpy(out + l->pre_len + l->mid_len, l->post, l->post_len);
	out[l->pre_len + l->mid_len + l->post_len] = '\0';
}

/* Seal line as fmt: the result must look like want_re_end and split back to line. */
static void check_format(enum chain_fmt fmt, const char *line, const char *prefix,
			 const char *marker)
{
	static const uint8_t zero[32];
	struct chain *c = new_chain(fmt);
	struct chain_line l;
	uint8_t mac[32];
	char *sealed = seal1(c, line), body[4096];

	assert_memory_equal(sealed, prefix, strlen(prefix));
	assert_non_null(strstr(sealed, marker));
	assert_int_equal(chain__split(sealed, strlen(sealed), &l), 0);
	body_of(&l, body);
	assert_string_equal(body, line);
	ref_mac(key0, zero, 0, line, mac);
	assert_memory_equal(mac, l.mac, 32);
	free(sealed);
	chain__free(c);
}

static void test_seal_json(void **state)
{
	check_format(CHAIN_FMT_JSON, "{\"v\":1,\"type\":\"exchange\",\"x\":\"a,}\"}",
		     "{\"v\":1,\"type\":\"exchange\",\"x\":\"a,}\",\"chain\":\"", "\"}");
	check_format(CHAIN_FMT_JSON, "{}", "{\"chain\":\"", "\"}");
}

static void test_seal_cef(void **state)
{
	check_format(CHAIN_FMT_CEF, "CEF:0|sockaudit|sockaudit|0.1|exchange|HTTP|3|rt=1 src=1.2.3.4",
		     "CEF:0|sockaudit|sockaudit|0.1|exchange|HTTP|3|rt=1 src=1.2.3.4 chain=",
		     " chain=");
}

static void test_seal_syslog(void **state)
{
	check_format(CHAIN_FMT_SYSLOG,
		     "<110>1 2026-11-23T17:13:32Z vm sockaudit 1 exchange [sockaudit@32473 a=\"x\\]\" "
		     "b=\"y\"] GET / -> 200",
		     "<110>1 2026-11-23T17:13:32Z vm sockaudit 1 exchange [sockaudit@32473 a=\"x\\]\" "
		     "b=\"y\"][chain@32473 v=\"", "\"] GET / -> 200");
	/* NILVALUE: the element replaces "-" and splitting puts "-" back */
	check_format(CHAIN_FMT_SYSLOG, "<107>1 2026-11-23T17:13:32Z vm sockaudit 1 loss - lost",
		     "<107>1 2026-11-23T17:13:32Z vm sockaudit 1 loss [chain@32473 v=\"", "\"] lost");
	check_format(CHAIN_FMT_SYSLOG, "<107>1 2026-11-23T17:13:32Z vm sockaudit 1 loss -",
		     "<107>1 2026-11-23T17:13:32Z vm sockaudit 1 loss [chain@32473 v=\"", "\"]");
}

static void test_seal_line_and_csv(void **state)
{
	check_format(CHAIN_FMT_LINE, "ts=2026-11-23T17:13:32Z type=exchange status=200",
		     "ts=2026-11-23T17:13:32Z type=exchange status=200 chain=", " chain=");
	check_format(CHAIN_FMT_CSV, "1,2026-11-23T17:13:32Z,exchange,\"a,b\"",
		     "1,2026-11-23T17:13:32Z,exchange,\"a,b\",", ",");
	/* a JSON writer record in a csv sink is sealed as JSON */
	check_format(CHAIN_FMT_CSV, "{\"v\":1,\"type\":\"rotate\"}", "{\"v\":1,\"type\":\"rotate\",",
		     "\"chain\":\"");
}

/* Lines no rule fits still seal and split back (a malformed syslog line, a bare word). */
static void test_seal_fallback(void **state)
{
	check_format(CHAIN_FMT_SYSLOG, "<110>1 too few fields", "<110>1 too few fields chain=",
		     " chain=");
	check_format(CHAIN_FMT_JSON, "not json", "not json chain=", " chain=");
	check_format(CHAIN_FMT_SYSLOG, "<1>1 a b c d e [x a=\"unterminated", "<1>1 a b c",
		     " chain=");
}

static void test_split_rejects(void **state)
{
	struct chain_line l;
	char hex[65];

	memset(hex, 'a', 64);
	hex[64] = '\0';
	assert_int_equal(chain__split("", 0, &l), -EINVAL);
	assert_int_equal(chain__split("{\"v\":1}", 7, &l), -EINVAL);
	assert_int_equal(chain__split("x chain=ABCD", 12, &l), -EINVAL);
	/* upper-case hex is not a chain value: one spelling per value */
	char up[80];
	snprintf(up, sizeof(up), "x chain=%.63sA", hex);
	assert_int_equal(chain__split(up, strlen(up), &l), -EINVAL);
	snprintf(up, sizeof(up), "x chain=%s", hex);
	assert_int_equal(chain__split(up, strlen(up), &l), 0);
	assert_int_equal(l.pre_len, 1);
}

/* Lines sealed in one batch are chained exactly as when sealed one by one. */
static void test_batch_equals_single(void **state)
{
	struct chain *a = new_chain(CHAIN_FMT_JSON), *b = new_chain(CHAIN_FMT_JSON);
	const char *in = "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n";
	char *out = NULL, *one, joined[1024] = "";
	size_t cap = 0, len = 0;
	int i;

	assert_int_equal(chain__seal(a, in, strlen(in), &out, &cap, &len), 0);
	for (i = 1; i <= 3; i++) {
		char line[16];

		snprintf(line, sizeof(line), "{\"n\":%d}", i);
		one = seal1(b, line);
		strcat(joined, one);
		strcat(joined, "\n");
		free(one);
	}
	assert_int_equal(len, strlen(joined));
	assert_memory_equal(out, joined, len);
	assert_int_equal(chain__state(a)->seq, 3);
	assert_memory_equal(chain__state(a), chain__state(b), sizeof(struct chain_state));
	free(out);
	chain__free(a);
	chain__free(b);
}

/*
 * chain__mac builds HMAC on SHA-256 block calls: every body length across
 * several block boundaries, cut into pre/mid/post, must give libcrypto's
 * HMAC() of the same input, and a body one byte off must not.
 */
static void test_mac_lengths(void **state)
{
	struct chain_crypto *cc = chain_crypto__new();
	uint8_t key[32], prev[32], mac[32], ref[32];
	char body[301];
	size_t len, i;

	assert_non_null(cc);
	for (i = 0; i < 32; i++) {
		key[i] = 0xa0 + i;
		prev[i] = 0x11 * i;
	}
	for (len = 0; len <= 300; len++) {
		struct chain_line l = { .pre = body, .mid = body + len / 3, .post = body + len / 2 };

		for (i = 0; i < len; i++)
			body[i] = 'a' + (i * 7 + len) % 26;
		body[len] = '\0';
		l.pre_len = len / 3;
		l.mid_len = len / 2 - len / 3;
		l.post_len = len - len / 2;
		assert_int_equal(chain__mac(cc, key, prev, len * 1000003, &l, mac), 0);
		ref_mac(key, prev, len * 1000003, body, ref);
		assert_memory_equal(mac, ref, 32);
		if (len) {
			body[len - 1] ^= 1;
			ref_mac(key, prev, len * 1000003, body, ref);
			assert_memory_not_equal(mac, ref, 32);
		}
	}
	chain_crypto__free(cc);
}

/* k(i+1) = SHA-256(label || k(i)), and each record uses its own key. */
static void test_key_evolution(void **state)
{
	static const char label[] = "sockaudit-key-evolve-v1";
	struct chain_crypto *cc = chain_crypto__new();
	uint8_t k[32], ref[32], in[sizeof(label) + 32];
	unsigned int n = 0;

	assert_non_null(cc);
	memcpy(k, key0, 32);
	memcpy(in, label, sizeof(label));
	memcpy(in + sizeof(label), key0, 32);
	assert_true(EVP_Digest(in, sizeof(in), ref, &n, EVP_sha256(), NULL));
	assert_int_equal(chain__evolve(cc, k), 0);
	assert_memory_equal(k, ref, 32);
	assert_memory_not_equal(k, key0, 32);

	/* the second record's MAC is under k(1), after the first record's value */
	struct chain *c = new_chain(CHAIN_FMT_LINE);
	char *s0 = seal1(c, "a"), *s1 = seal1(c, "b");
	struct chain_line l0, l1;
	uint8_t mac[32];

	assert_int_equal(chain__split(s1, strlen(s1), &l1), 0);
	assert_int_equal(chain__split(s0, strlen(s0), &l0), 0);
	ref_mac(k, l0.mac, 1, "b", mac);
	assert_memory_equal(mac, l1.mac, 32);
	assert_int_equal(chain__state(c)->seq, 2);
	free(s0);
	free(s1);
	chain__free(c);
	chain_crypto__free(cc);
}

/* A failed write puts the chain back; the copy that held the old key is erased. */
static void test_restore_erases(void **state)
{
	static const uint8_t zero[sizeof(struct chain_state)];
	struct chain *c = new_chain(CHAIN_FMT_JSON);
	struct chain_state saved, before;
	char *s;

	chain__save(c, &saved);
	before = saved;
	s = seal1(c, "{\"a\":1}");
	free(s);
	assert_memory_not_equal(chain__state(c), &before, sizeof(before));
	chain__restore(c, &saved);
	assert_memory_equal(chain__state(c), &before, sizeof(before));
	assert_memory_equal(&saved, zero, sizeof(saved));
	/* a reset starts over at seq 0, zero head, the given key */
	chain__reset(c, key0);
	assert_int_equal(chain__state(c)->seq, 0);
	assert_memory_equal(chain__state(c)->key, key0, 32);
	chain__free(c);
}

static void test_fmt_from_type(void **state)
{
	enum chain_fmt f;

	assert_int_equal(chain__fmt_from_type("json_lines", &f), 0);
	assert_int_equal(f, CHAIN_FMT_JSON);
	assert_int_equal(chain__fmt_from_type("csv", &f), 0);
	assert_int_equal(f, CHAIN_FMT_CSV);
	assert_int_equal(chain__fmt_from_type("xml", &f), -EINVAL);
	assert_int_equal(chain__fmt_from_type(NULL, &f), -EINVAL);
}

/* ---- files ---- */

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sa-chain.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_keygen(void **state)
{
	char path[128], err[512];
	uint8_t k1[32], k2[32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/k", dir);
	assert_int_equal(chainfile__keygen(path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 65);
	assert_int_equal(chainfile__keygen(path, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "refusing to overwrite"));
	assert_int_equal(chainfile__load_key(path, k1, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/k2", dir);
	assert_int_equal(chainfile__keygen(path, err, sizeof(err)), 0);
	assert_int_equal(chainfile__load_key(path, k2, err, sizeof(err)), 0);
	assert_memory_not_equal(k1, k2, 32);	/* random, not a constant */
	chmod(path, 0644);
	assert_int_equal(chainfile__load_key(path, k2, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(chainfile__load_key(path, k2, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "sockaudit keygen"));
}

/* Replace the first occurrence of what in path with with (same length or not). */
static void replace_in(const char *path, const char *what, const char *with)
{
	char buf[8192], *p;
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strstr(buf, what);
	assert_non_null(p);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(buf, 1, p - buf, f);
	fputs(with, f);
	fputs(p + strlen(what), f);
	fclose(f);
}

/* renameat2 mock: EINVAL (a file system without RENAME_EXCHANGE) while no_exchange_fs is set. */
static bool no_exchange_fs;
static int renameat2_calls;

int __real_renameat2(int odfd, const char *old, int ndfd, const char *new, unsigned int flags);
int __wrap_renameat2(int odfd, const char *old, int ndfd, const char *new, unsigned int flags)
{
	renameat2_calls++;
	if (no_exchange_fs) {
		errno = EINVAL;
		return -1;
	}
	return __real_renameat2(odfd, old, ndfd, new, flags);
}

/* Save st at seq through saver sv (not durable), then load it back and compare. */
static void save_seq(const struct outpath_req *at, struct chainfile_seal *sl,
		     struct chain_state *st, uint64_t seq)
{
	struct chain_state back;
	bool anchored;
	char err[512];

	st->seq = seq;
	memset(st->key, (int)seq, 32);
	assert_int_equal(chainfile__save_state(at, "/var/log/a.log", st, sl, false, err,
					       sizeof(err)), 0);
	assert_int_equal(chainfile__load_state(at->path, "/var/log/a.log", sl, &back, &anchored),
			 0);
	assert_memory_equal(&back, st, sizeof(*st));
}

/* The whole file, NUL-terminated (n: its length); NULL when it cannot be read. */
static char *slurp_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 8193);

	*n = 0;
	if (!f || !text) {
		if (f)
			fclose(f);
		free(text);
		return NULL;
	}
	*n = fread(text, 1, 8192, f);
	fclose(f);
	return text;
}

/* A file's bytes are all zero (the older state wiped, its key gone). */
static bool all_zero(const char *path)
{
	size_t n;
	char *text = slurp_file(path, &n);
	bool zero = text != NULL;

	for (size_t i = 0; text && i < n; i++)
		zero &= text[i] == 0;
	free(text);
	return zero;
}

/*
 * Saves after every fdatasync go through the saver: the state's and the
 * .tmp's names exchanged, the older state zeroed, each save loads back.
 * Names planted at the .tmp (a symlink to a victim, a hard link) are never
 * written through: the save goes the ordinary way around them.
 */
static void test_state_saver(void **state)
{
	struct chain_state st = { 0 };
	uint8_t mk[32];
	char path[128], tmp[140], victim[140], anchor[128];
	struct chainfile_seal sl = { mk, anchor, chainfile__saver_new() };
	struct outpath_req at = { .mode = 0600, .gid = (gid_t)-1 };
	struct stat a, b;
	size_t n;
	char *text;

	(void)state;
	memset(mk, 0x22, 32);
	memset(st.head, 0xab, 32);
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(anchor, sizeof(anchor), "%s/s.anchor", dir);
	at.path = path;
	assert_non_null(sl.saver);
	save_seq(&at, &sl, &st, 1);		/* the ordinary way, sets the saver up */
	assert_int_equal(stat(tmp, &a), 0);	/* the spare, empty */
	assert_int_equal(a.st_size, 0);
	assert_int_equal(stat(path, &b), 0);
	save_seq(&at, &sl, &st, 2);		/* exchanged: the spare is now the state */
	assert_int_equal(stat(path, &a), 0);
	assert_int_not_equal(a.st_ino, b.st_ino);
	assert_true(all_zero(tmp));		/* the state of seq 1 (its key) wiped */
	save_seq(&at, &sl, &st, 3);
	assert_int_equal(stat(path, &a), 0);
	assert_int_equal(a.st_ino, b.st_ino);	/* the two inodes take turns */
	assert_true(all_zero(tmp));
	/* a symlink planted at the .tmp: the victim is never written */
	assert_int_equal(unlink(tmp), 0);
	FILE *f = fopen(victim, "w");
	assert_non_null(f);
	fputs("victim\n", f);
	fclose(f);
	assert_int_equal(symlink(victim, tmp), 0);
	save_seq(&at, &sl, &st, 4);
	text = slurp_file(victim, &n);
	assert_string_equal(text, "victim\n");
	free(text);
	/* a hard link planted at the .tmp (to the victim): not written through either */
	save_seq(&at, &sl, &st, 5);		/* the saver set up again */
	assert_int_equal(unlink(tmp), 0);
	assert_int_equal(link(victim, tmp), 0);
	save_seq(&at, &sl, &st, 6);
	text = slurp_file(victim, &n);
	assert_string_equal(text, "victim\n");
	free(text);
	save_seq(&at, &sl, &st, 7);
	/* freed: the spare's name goes with it */
	chainfile__saver_free(sl.saver);
	assert_int_not_equal(access(tmp, F_OK), 0);
	unlink(victim);
	unlink(path);
}

/*
 * Without RENAME_EXCHANGE the saver tries once: that save and every later
 * one go the ordinary way (a new temp renamed over the state), and each
 * still loads back; no temp is left beside the state.
 */
static void test_state_saver_no_exchange(void **state)
{
	struct chain_state st = { 0 };
	uint8_t mk[32];
	char path[128], tmp[140], anchor[128];
	struct chainfile_seal sl = { mk, anchor, chainfile__saver_new() };
	struct outpath_req at = { .mode = 0600, .gid = (gid_t)-1 };

	(void)state;
	memset(mk, 0x33, 32);
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(anchor, sizeof(anchor), "%s/s.anchor", dir);
	at.path = path;
	no_exchange_fs = true;
	renameat2_calls = 0;
	save_seq(&at, &sl, &st, 1);		/* the ordinary way, sets the saver up */
	save_seq(&at, &sl, &st, 2);		/* the exchange fails: the ordinary way */
	assert_int_equal(renameat2_calls, 1);
	save_seq(&at, &sl, &st, 3);
	save_seq(&at, &sl, &st, 4);
	assert_int_equal(renameat2_calls, 1);	/* not tried again */
	assert_int_not_equal(access(tmp, F_OK), 0);
	no_exchange_fs = false;
	chainfile__saver_free(sl.saver);
	unlink(path);
}

static void test_state_file(void **state)
{
	struct chain_state st = { .seq = 12345 }, back;
	uint8_t key0[32], mk[32], other[32];
	char path[128], tmp[140], anchor[128], hexkey[65], err[512];
	struct chainfile_seal sl = { mk, anchor, NULL }, sl2 = { other, anchor, NULL };
	struct outpath_req at = { .mode = 0600, .gid = (gid_t)-1 };
	struct outpath_req aat = { .what = "anchor file", .mode = 0600, .gid = (gid_t)-1 };
	bool anchored = true;

	memset(st.head, 0xab, 32);
	memset(st.key, 0xcd, 32);
	memset(key0, 0x11, 32);
	assert_int_equal(chainfile__state_key(key0, mk), 0);
	key0[0] ^= 1;
	assert_int_equal(chainfile__state_key(key0, other), 0);
	assert_memory_not_equal(mk, other, 32);
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(anchor, sizeof(anchor), "%s/s.anchor", dir);
	at.path = path;
	aat.path = anchor;
	assert_int_equal(chainfile__load_state(path, "/var/log/a.log", &sl, &back, &anchored),
			 -ENOENT);
	assert_false(anchored);
	assert_int_equal(chainfile__save_state(&at, "/var/log/a.log", &st, &sl, true, err,
					       sizeof(err)), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0);	/* renamed into place */
	assert_int_equal(chainfile__load_state(path, "/var/log/a.log", &sl, &back, &anchored), 0);
	assert_memory_equal(&back, &st, sizeof(st));
	assert_false(anchored);		/* no anchor line yet */
	/* the state of another log is a mismatch, not an unreadable file */
	assert_int_equal(chainfile__load_state(path, "/var/log/b.log", &sl, &back, &anchored),
			 -EBADMSG);
	/* made with another key file: a mismatch */
	assert_int_equal(chainfile__load_state(path, "/var/log/a.log", &sl2, &back, &anchored),
			 -EBADMSG);
	/* the attack: the key line replaced (well-formed hex), the MAC left as it was */
	for (int i = 0; i < 64; i++)
		hexkey[i] = i % 2 ? 'd' : 'c';	/* st.key's bytes 0xcd */
	hexkey[64] = '\0';
	replace_in(path, hexkey, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_int_equal(chainfile__load_state(path, "/var/log/a.log", &sl, &back, &anchored),
			 -EBADMSG);
	/* an anchor with a line: the state says so */
	assert_int_equal(chainfile__anchor(&aat, "/var/log/a.log", 1, st.head, err, sizeof(err)), 0);
	assert_int_equal(chainfile__save_state(&at, "/var/log/a.log", &st, &sl, true, err,
					       sizeof(err)), 0);
	assert_int_equal(chainfile__load_state(path, "/var/log/a.log", &sl, &back, &anchored), 0);
	assert_true(anchored);
	/* a version-1 state (no MAC) and a cut one: unreadable */
	replace_in(path, "sockaudit-chain-state 2", "sockaudit-chain-state 1");
	assert_int_equal(chainfile__load_state(path, "/var/log/a.log", &sl, &back, &anchored),
			 -EINVAL);
	assert_int_equal(chainfile__save_state(&at, "/var/log/a.log", &st, &sl, true, err,
					       sizeof(err)), 0);
	assert_int_equal(truncate(path, 60), 0);
	assert_int_equal(chainfile__load_state(path, "/var/log/a.log", &sl, &back, &anchored),
			 -EINVAL);
}

static void test_anchor_file(void **state)
{
	struct outpath_req at = { .what = "anchor file", .mode = 0600, .gid = (gid_t)-1 };
	uint8_t mac[32], back[32];
	char path[128], line[512], err[512];
	uint64_t seq = 0;
	FILE *f;

	memset(mac, 0x5a, 32);
	snprintf(path, sizeof(path), "%s/a", dir);
	at.path = path;
	assert_int_equal(chainfile__anchor(&at, "/var/log/a \"q\".log", 77, mac, err, sizeof(err)),
			 0);
	assert_int_equal(chainfile__anchor(&at, "/var/log/a.log", 99, mac, err, sizeof(err)), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(verify__parse_anchor(line, strlen(line) - 1, &seq, back), 0);
	assert_int_equal(seq, 77);
	assert_memory_equal(back, mac, 32);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(verify__parse_anchor(line, strlen(line) - 1, &seq, back), 0);
	assert_int_equal(seq, 99);
	fclose(f);
	assert_int_equal(verify__parse_anchor("{\"chain_seq\":1}", 15, &seq, back), -EINVAL);
	/* never appended through a hard link to another file */
	char other[140];
	snprintf(other, sizeof(other), "%s/other", dir);
	assert_int_equal(link(path, other), 0);
	assert_int_equal(chainfile__anchor(&at, "/var/log/a.log", 100, mac, err, sizeof(err)),
			 -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_json),
		cmocka_unit_test(test_seal_cef),
		cmocka_unit_test(test_seal_syslog),
		cmocka_unit_test(test_seal_line_and_csv),
		cmocka_unit_test(test_seal_fallback),
		cmocka_unit_test(test_split_rejects),
		cmocka_unit_test(test_batch_equals_single),
		cmocka_unit_test(test_mac_lengths),
		cmocka_unit_test(test_key_evolution),
		cmocka_unit_test(test_restore_erases),
		cmocka_unit_test(test_fmt_from_type),
		cmocka_unit_test_setup_teardown(test_keygen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_saver, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_saver_no_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anchor_file, setup, teardown),
	};

	return cmocka_run_group_tests_name("chain", tests, NULL, NULL);
}
