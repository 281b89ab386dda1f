// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The verifier. Memory stays bounded whatever the log's size: one read
 * buffer, one line, and on the first bad record one more line to tell an
 * edit from an insertion, a deletion or a swap. The anchor file (a few
 * lines per million records) is the only thing held whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zlib.h>
#include <openssl/crypto.h>
#include "chain.h"
#include "chainfile.h"
#include "log.h"
#include "logset.h"
#include "verify.h"

#define MAX_DELETED	100000		/* a deletion this long is still named as one */
#define MAX_ANCHORS	(1u << 24)

/* ---- the line parser (also fuzzed: tests/fuzz/fuzz_verify.c) ---- */

/* Value of "key": in body as a string (quotes stripped) or a number; NULL if absent. */
static const char *field(const char *body, size_t len, const char *quoted_key, size_t *vlen)
{
	size_t kl = strlen(quoted_key);
	const char *p = memmem(body, len, quoted_key, kl), *end = body + len, *v;

	if (!p)
		return NULL;
	v = p + kl;
	if (v < end && *v == '"') {
		const char *q = memchr(v + 1, '"', end - v - 1);

		v++;
		if (!q)
			return NULL;
		*vlen = q - v;
		return v;
	}
	for (p = v; p < end && *p >= '0' && *p <= '9'; p++)
		;
	*vlen = p - v;
	return *vlen ? v : NULL;
}

static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!n || n > 19)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static const struct { const char *name; enum verify_ctl type; } ctl_names[] = {
	{ "rotate", CTL_ROTATE }, { "chain_resume", CTL_RESUME }, { "chain_gap", CTL_GAP },
	{ "checkpoint", CTL_CHECKPOINT }, { "anchor_missing", CTL_ANCHOR_MISSING },
};

/* After the n-th sep of b (n >= 1): the rest, or NULL when there are fewer. */
static const char *after_nth(const char *b, const char *end, char sep, int n)
{
	while (n-- > 0) {
		b = memchr(b, sep, end - b);
		if (!b)
			return NULL;
		b++;
	}
	return b;
}

/* A run of [A-Za-z0-9_] at p (a type, reason, number or hex value); its length. */
static size_t word_len(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
			   (*q >= '0' && *q <= '9') || *q == '_'))
		q++;
	return q - p;
}

/*
 * The record type of a line in a text format, found at its fixed place, so
 * an exchange can never pass for a writer record:
 *   syslog  MSGID, the sixth header field   <PRI>1 TS HOST APP PROCID MSGID
 *   cef     the signature id, field 5       CEF:0|vendor|product|version|TYPE|
 *   csv     the third column                seq,ts,"TYPE",...
 *   line    the quoted word after the time  TS "TYPE" seq=...
 */
static const char *text_type(const char *b, size_t len, size_t *tl)
{
	const char *end = b + len, *t = NULL, *digits;

	if (b[0] == '<')
		t = after_nth(b, end, ' ', 5);
	else if (len > 4 && !memcmp(b, "CEF:", 4))
		t = after_nth(b, end, '|', 4);
	else if (b[0] >= '0' && b[0] <= '9') {
		digits = b + word_len(b, end);
		t = digits < end && *digits == ',' ? after_nth(b, end, ',', 2) :
		    after_nth(b, end, ' ', 1);
		if (t && t < end && *t == '"')
			t++;
	}
	if (!t)
		return NULL;
	*tl = word_len(t, end);
	return t;
}

/*
 * key=value in a text format: " key=v" (cef, line), " key=\"v\"" (syslog,
 * line) or ";key=v" / "\"key=v" (csv details). The values looked for are
 * words; the sink writes the chain fields before any path, so the first
 * match is the writer's own.
 */
static const char *text_field(const char *b, size_t len, const char *key, size_t *vl)
{
	const char *end = b + len, *p = b, *v;
	size_t kl = strlen(key);

	while ((p = memmem(p, end - p, key, kl))) {
		v = p + kl;
		if (p > b && strchr(" ;\"", p[-1]) && v < end && *v == '=') {
			v += v + 1 < end && v[1] == '"' ? 2 : 1;
			*vl = word_len(v, end);
			return *vl ? v : NULL;
		}
		p = v;
	}
	return NULL;
}

/*
 * Writer records are rendered by the sink's formatter: a JSON object with
 * "type" as its fourth member, or a line of a text format with the type at
 * its fixed place (text_type). An exchange cannot fake one: in JSON quotes
 * inside strings are escaped, in the text formats the type is positional,
 * and the chain value covers every byte anyway.
 */
void verify__parse_ctl(const char *body, size_t len, struct verify_ctl_info *o)
{
	bool json = len >= 8 && !memcmp(body, "{\"v\":", 5);
	const char *t, *v;
	size_t tl, vl, i;

	memset(o, 0, sizeof(*o));
	if (len < 8)
		return;
	t = json ? field(body, len, "\"type\":", &tl) : text_type(body, len, &tl);
	if (!t)
		return;
	for (i = 0; i < sizeof(ctl_names) / sizeof(ctl_names[0]); i++)
		if (strlen(ctl_names[i].name) == tl && !memcmp(t, ctl_names[i].name, tl))
			o->type = ctl_names[i].type;
	if (o->type == CTL_NONE)
		return;
	v = json ? field(body, len, "\"reason\":", &vl) : text_field(body, len, "reason", &vl);
	if (o->type == CTL_GAP && v && vl < sizeof(o->reason)) {
		memcpy(o->reason, v, vl);
		o->reason[vl] = '\0';
	}
	v = json ? field(body, len, "\"chain_seq\":", &vl) :
		   text_field(body, len, "chain_seq", &vl);
	o->has_pos = v && parse_u64(v, vl, &o->seq);
	v = json ? field(body, len, "\"prev_chain\":", &vl) :
		   text_field(body, len, "prev_chain", &vl);
	o->has_pos = o->has_pos && v && !chain__unhex(v, vl, o->prev, sizeof(o->prev));
}

int verify__parse_anchor(const char *line, size_t len, uint64_t *seq, uint8_t mac[32])
{
	const char *v;
	size_t vl;

	if (!len || line[0] != '{' || !(v = field(line, len, "\"chain_seq\":", &vl)) ||
	    !parse_u64(v, vl, seq) || !(v = field(line, len, "\"chain\":", &vl)) ||
	    chain__unhex(v, vl, mac, CHAIN_MAC_LEN))
		return -EINVAL;
	return 0;
}

/* ---- the walk ---- */

/* Where the verdict lines go: stdout for `verify`, the caller's stream for search/report. */
static FILE *vout;

struct anchor {
	uint64_t seq;
	uint8_t mac[CHAIN_MAC_LEN];
};

struct vopts {
	const char *key_file, *anchor_file;
	bool allow_gaps;
	bool have_key;
	uint8_t key0[CHAIN_KEY_LEN];
	struct anchor *anc;
	size_t nanc;
};

struct walk {
	const struct vopts *o;
	struct chain_crypto *cc;
	struct logset_reader r;
	bool started;
	uint64_t seq;
	uint8_t head[CHAIN_MAC_LEN], key[CHAIN_KEY_LEN];
	uint64_t records, rotations, resumes, gaps, checkpoints, anc_matched;
	size_t ai;			/* next anchor entry to match */
	char unanchored[4200];		/* a checkpoint not in the anchor (only the last may be) */
	uint64_t unanchored_resumes;	/* restarts seen when it was found */
	bool bad;
};

static void bad(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	fprintf(vout, "TAMPERED %s:%" PRIu64 ": ", logset__cur_path(&w->r), w->r.lineno);
	va_start(ap, fmt);
	vfprintf(vout, fmt, ap);
	va_end(ap);
	fputc('\n', vout);
	w->bad = true;
}

/* key <- k(seq) for a chain that starts at seq from the key file's key. */
static int key_at(struct walk *w, uint64_t seq)
{
	uint64_t i;

	memcpy(w->key, w->o->key0, CHAIN_KEY_LEN);
	for (i = 0; i < seq; i++)
		if (chain__evolve(w->cc, w->key))
			return -EIO;
	return 0;
}

static void start_at(struct walk *w, uint64_t seq, const uint8_t *prev)
{
	w->started = true;
	w->seq = seq;
	memcpy(w->head, prev, CHAIN_MAC_LEN);
	if (w->o->have_key)
		key_at(w, seq);
}

/* Does line l hold the chain value for (key, prev, seq)? */
static bool fits(struct walk *w, const uint8_t *key, const uint8_t *prev, uint64_t seq,
		 const struct chain_line *l)
{
	return chain__fits(w->cc, key, prev, seq, l);
}

/* n records deleted before f: the next record follows f at seq + 1 + n. 0: none found. */
static uint64_t deleted_before(struct walk *w, const struct chain_line *f,
			       const struct chain_line *nx)
{
	uint8_t k[CHAIN_KEY_LEN];
	uint64_t d, found = 0;

	memcpy(k, w->key, sizeof(k));
	chain__evolve(w->cc, k);
	for (d = 1; d <= MAX_DELETED && !found; d++) {
		chain__evolve(w->cc, k);
		if (fits(w, k, f->mac, w->seq + 1 + d, nx))
			found = d;
	}
	OPENSSL_cleanse(k, sizeof(k));
	return found;
}

/* f does not follow the chain: read one more record to say how. */
static void diagnose(struct walk *w, const struct chain_line *f0)
{
	struct chain_line f = *f0, nx;
	uint8_t k1[CHAIN_KEY_LEN];
	const char *line;
	size_t len;
	bool first;
	uint64_t d, at = w->r.lineno;
	char path[4200], *copy = malloc(f.pre_len + f.mid_len + f.post_len + 1);

	snprintf(path, sizeof(path), "%s", logset__cur_path(&w->r));
	if (!copy) {
		bad(w, "does not follow the chain (modified, inserted or deleted records)");
		return;
	}
	/* the reader reuses its buffer: keep f's body in a copy */
	memcpy(copy, f.pre, f.pre_len);
	memcpy(copy + f.pre_len, f.mid, f.mid_len);
	memcpy(copy + f.pre_len + f.mid_len, f.post, f.post_len);
	f.pre = copy;
	f.pre_len += f.mid_len + f.post_len;
	f.mid_len = f.post_len = 0;
	memcpy(k1, w->key, sizeof(k1));
	chain__evolve(w->cc, k1);
	fprintf(vout, "TAMPERED %s:%" PRIu64 ": ", path, at);
	if (logset__next_line(&w->r, &line, &len, &first) <= 0 || chain__split(line, len, &nx))
		fprintf(vout, "modified or inserted: the record does not follow the chain, and no "
		       "record after it shows which");
	else if (fits(w, w->key, w->head, w->seq, &nx) && fits(w, k1, nx.mac, w->seq + 1, &f))
		fprintf(vout, "reordered: this record and the next one (%s:%" PRIu64 ") are swapped",
		       logset__cur_path(&w->r), w->r.lineno);
	else if (fits(w, w->key, w->head, w->seq, &nx))
		fprintf(vout, "inserted: this record is not part of the chain; the next one continues "
		       "it");
	else if (fits(w, k1, f.mac, w->seq + 1, &nx))
		fprintf(vout, "modified: the record's bytes changed after it was written; its chain "
		       "value and the next record still follow the chain");
	else if ((d = deleted_before(w, &f, &nx)))
		fprintf(vout, "deleted: %" PRIu64 " record(s) missing before this one (chain seq %"
		       PRIu64 "..%" PRIu64 ")", d, w->seq, w->seq + d - 1);
	else
		fprintf(vout, "does not follow the chain: modified, inserted or deleted records");
	fputc('\n', vout);
	w->bad = true;
	OPENSSL_cleanse(k1, sizeof(k1));
	free(copy);
}

/* The first record of the set: where the chain starts. false: the head was cut. */
static bool first_record(struct walk *w, const struct verify_ctl_info *c, bool first)
{
	static const uint8_t zero[CHAIN_MAC_LEN];

	if (c->type == CTL_GAP && c->has_pos && c->seq == 0) {
		start_at(w, 0, zero);
		return true;
	}
	if (c->type == CTL_ROTATE && c->has_pos && w->r.cur == 0 && first) {
		fprintf(vout, "note %s: starts at chain seq %" PRIu64 " (older files were rotated "
		       "away)\n", logset__cur_path(&w->r), c->seq);
		start_at(w, c->seq, c->prev);
		return true;
	}
	bad(w, "deleted: the oldest record does not start a chain nor continue a rotated "
	    "file (the log's head was cut)");
	return false;
}

/* The first record of a later file must be the rotate record following the file before. */
static bool file_start(struct walk *w, const struct verify_ctl_info *c)
{
	if (c->type == CTL_GAP)
		return true;	/* a new chain in a new file: gap() reports it */
	if (c->type != CTL_ROTATE || !c->has_pos) {
		bad(w, "a file of the set does not start with a rotate record: replaced, or its "
		    "head cut");
		return false;
	}
	if (c->seq > w->seq) {
		bad(w, "missing rotated file or deleted tail: this file continues chain seq %"
		    PRIu64 " but the file before it ends at seq %" PRIu64 " (%" PRIu64
		    " records missing)", c->seq, w->seq, c->seq - w->seq);
		return false;
	}
	if (c->seq < w->seq) {
		bad(w, "reordered files: this file continues chain seq %" PRIu64 " but the file "
		    "before it already reached seq %" PRIu64, c->seq, w->seq);
		return false;
	}
	if (memcmp(c->prev, w->head, CHAIN_MAC_LEN)) {
		bad(w, "the previous file's last record is not the one this file continues "
		    "(modified, or a file replaced)");
		return false;
	}
	w->rotations++;
	return true;
}

/* A chain_gap after the start: the collector began anew without its state. */
static void gap(struct walk *w, const struct verify_ctl_info *c)
{
	static const uint8_t zero[CHAIN_MAC_LEN];

	fprintf(vout, "GAP %s:%" PRIu64 ": chain reset (chain_gap, reason %s): the collector started "
	       "a new chain; records before it cannot be proven complete\n", logset__cur_path(&w->r),
	       w->r.lineno, c->reason[0] ? c->reason : "?");
	w->gaps++;
	start_at(w, 0, zero);
}

/* A checkpoint: its value must be the next one in the anchor (when given). */
static void anchor_match(struct walk *w, const uint8_t *mac)
{
	const struct vopts *o = w->o;
	size_t j;

	w->checkpoints++;
	if (!o->anchor_file)
		return;
	for (j = w->ai; j < o->nanc; j++)
		if (o->anc[j].seq == w->seq && !memcmp(o->anc[j].mac, mac, CHAIN_MAC_LEN))
			break;
	if (j == o->nanc) {
		snprintf(w->unanchored, sizeof(w->unanchored), "%s:%" PRIu64, logset__cur_path(&w->r),
			 w->r.lineno);
		w->unanchored_resumes = w->resumes;
		return;
	}
	/*
	 * A checkpoint reaches the log before the anchor: a crash between the
	 * two leaves one unanchored, and the restart (chain_resume) goes on.
	 * Anchored checkpoints after it still pin the chain, so a rewrite by
	 * someone holding a key would fail them; without a restart between,
	 * an unanchored checkpoint means the log was rewritten.
	 */
	if (w->unanchored[0] && w->resumes > w->unanchored_resumes)
		w->unanchored[0] = '\0';
	if (w->unanchored[0]) {
		fprintf(vout, "TAMPERED %s: checkpoint not in the anchor: the log was rewritten after "
		       "the anchor was shipped\n", w->unanchored);
		w->bad = true;
	} else if (w->anc_matched && j > w->ai) {
		bad(w, "deleted: the anchor's checkpoint at chain seq %" PRIu64 " is missing "
		    "before this checkpoint", o->anc[w->ai].seq);
	}
	w->anc_matched++;
	w->ai = j + 1;
}

/* Position fields of a writer record must name the record before it. */
static bool position_ok(struct walk *w, const struct verify_ctl_info *c)
{
	if (c->type == CTL_NONE || c->type == CTL_GAP || !c->has_pos)
		return true;
	if (c->seq == w->seq && !memcmp(c->prev, w->head, CHAIN_MAC_LEN))
		return true;
	bad(w, "%s record names chain seq %" PRIu64 " but follows seq %" PRIu64 ": records "
	    "deleted or inserted before it", c->type == CTL_CHECKPOINT ? "a checkpoint" :
	    c->type == CTL_RESUME ? "a chain_resume" :
	    c->type == CTL_ANCHOR_MISSING ? "an anchor_missing" : "a rotate", c->seq, w->seq);
	return false;
}

/* One record: false once the log is found bad. */
static bool record(struct walk *w, const char *line, size_t len, bool first)
{
	struct verify_ctl_info c;
	struct chain_line l;

	if (chain__split(line, len, &l)) {
		bad(w, !w->r.has_nl ? "truncated tail: the last line is a partial record (no newline)" :
		    w->records ? "modified or inserted: the line carries no chain value" :
		    "no chain value on the first line: written without integrity on, or its head "
		    "replaced");
		return false;
	}
	verify__parse_ctl(l.pre, l.pre_len, &c);
	if (!w->started && !first_record(w, &c, first))
		return false;
	else if (first && w->records && !file_start(w, &c))
		return false;
	if (c.type == CTL_GAP && (w->records || strcmp(c.reason, "first_start")))
		gap(w, &c);
	if (w->o->have_key && !fits(w, w->key, w->head, w->seq, &l)) {
		bool chain_start = !w->records || !w->seq;

		diagnose(w, &l);
		if (chain_start)
			fprintf(vout, "note: this is the first record of a chain: a wrong --key looks "
			       "exactly like this (give the key file the collector's key_file "
			       "named; a key_file changed between runs fails at a chain_gap)\n");
		return false;
	}
	if (!position_ok(w, &c))
		return false;
	w->resumes += c.type == CTL_RESUME;
	if (c.type == CTL_ANCHOR_MISSING)
		fprintf(vout, "note %s:%" PRIu64 ": the collector found its anchor file missing at this "
		       "start (deleted on the host): checkpoints before it can be checked only "
		       "against a copy shipped earlier\n", logset__cur_path(&w->r), w->r.lineno);
	memcpy(w->head, l.mac, CHAIN_MAC_LEN);
	if (c.type == CTL_CHECKPOINT)
		anchor_match(w, l.mac);
	w->seq++;
	w->records++;
	if (w->o->have_key)
		chain__evolve(w->cc, w->key);
	return !w->bad;
}

/* After the last line: a torn line, and checkpoints the anchor has beyond the end. */
static void tail_checks(struct walk *w)
{
	const struct vopts *o = w->o;

	if (w->records && !w->r.has_nl) {
		bad(w, "truncated tail: the last line is a partial record (no newline)");
		return;
	}
	if (!o->anchor_file || w->bad)
		return;
	if (!o->nanc && w->checkpoints > 1) {
		/* each checkpoint is anchored right after it reaches the log */
		fprintf(vout, "TAMPERED %s: the anchor file %s is empty but the log has %" PRIu64
		       " checkpoints: the anchor was emptied or replaced (and the log may be cut); "
		       "verify against the copy shipped off the host\n", logset__cur_path(&w->r),
		       o->anchor_file, w->checkpoints);
		w->bad = true;
	} else if (!o->nanc) {
		if (w->checkpoints)
			fprintf(vout, "note %s: the log's one checkpoint is not in the empty anchor "
			       "(written just before a stop or crash)\n", w->unanchored);
	} else if (!w->anc_matched) {
		fprintf(vout, "TAMPERED %s: truncated or replaced: none of the anchor's %zu checkpoints "
		       "is in the log\n", logset__cur_path(&w->r), o->nanc);
		w->bad = true;
	} else if (w->ai < o->nanc) {
		fprintf(vout, "TAMPERED %s:%" PRIu64 ": truncated tail: the log ends at chain seq %"
		       PRIu64 " but the anchor has %zu later checkpoint(s), the last at seq %"
		       PRIu64 "\n", logset__cur_path(&w->r), w->r.lineno, w->seq - 1, o->nanc - w->ai,
		       o->anc[o->nanc - 1].seq);
		w->bad = true;
	} else if (w->unanchored[0]) {
		fprintf(vout, "note %s: the last checkpoint is not in the anchor yet (written just before "
		       "a stop or crash)\n", w->unanchored);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void summary(const struct walk *w, const char *log, double secs)
{
	double mb = w->r.bytes / 1e6;

	fprintf(vout, "%s %s: %d file(s), %" PRIu64 " records, %" PRIu64 " rotations, %" PRIu64
	       " restarts, %" PRIu64 " checkpoints (%" PRIu64 " in the anchor), %" PRIu64
	       " gaps; %.1f MB in %.2f s, %.1f MB/s%s\n",
	       w->gaps && !w->o->allow_gaps ? "NOT PROVEN" : "OK", log, w->r.n, w->records,
	       w->rotations, w->resumes, w->checkpoints, w->anc_matched, w->gaps, mb, secs,
	       secs > 0 ? mb / secs : 0.0,
	       w->o->have_key ? "" : "; no --key: links and anchor checked, not record contents");
}

static int walk_set(const struct vopts *o, const char *log, char **paths, int n)
{
	struct walk w = { .o = o };
	const char *line;
	size_t len;
	bool first;
	double t0 = now_s();
	int e, rc;

	w.cc = chain_crypto__new();
	if (logset__init(&w.r, paths, n) || !w.cc) {
		log_err("no memory or no HMAC-SHA256 in libcrypto");
		rc = VERIFY_USAGE;
		goto out;
	}
	while ((e = logset__next_record(&w.r, &line, &len, &first)) > 0 && record(&w, line, len, first))
		;
	if (e < 0) {
		rc = VERIFY_USAGE;
		goto out;
	}
	if (!w.bad)
		tail_checks(&w);
	if (!w.bad)
		summary(&w, log, now_s() - t0);
	rc = w.bad || (w.gaps && !o->allow_gaps) ? VERIFY_BAD : VERIFY_OK;
out:
	OPENSSL_cleanse(w.key, sizeof(w.key));
	chain_crypto__free(w.cc);
	logset__close(&w.r);
	return rc;
}

static int verify_log(const struct vopts *o, const char *log)
{
	struct logset_found f = { .note = vout };
	char **paths = NULL;
	int n = 0, rc, e = logset__find(log, &paths, &n, &f);

	if (e) {
		log_err("%s: %s; %s", log, strerror(-e),
			e == -ENOENT ? "give the audit log's path (its rotated files LOG.N are "
				       "found beside it)" :
				       "verify needs to read the log, its rotated files and their "
				       "directory: check the permissions");
		free(f.missing);
		free(f.differ);
		return VERIFY_USAGE;
	}
	if (f.differ) {
		fprintf(vout, "TAMPERED %s: both %s and %s.gz exist and hold different records: one "
		       "of them was edited (an interrupted compression leaves two equal "
		       "copies)\n", f.differ, f.differ, f.differ);
		rc = VERIFY_BAD;
	} else if (f.missing) {
		fprintf(vout, "TAMPERED %s: missing rotated file: the set has files on both sides of "
		       "it\n", f.missing);
		rc = VERIFY_BAD;
	} else {
		rc = walk_set(o, log, paths, n);
	}
	free(f.missing);
	free(f.differ);
	logset__free_paths(paths, n);
	return rc;
}

/* ---- options ---- */

static int load_anchor(struct vopts *o)
{
	int fd = logset__open_input(o->anchor_file);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = 0;

	if (!f) {
		log_err("anchor file %s: %s; give the anchor copied "
			"off the host", o->anchor_file, logset__input_error(errno));
		if (fd >= 0)
			close(fd);
		return VERIFY_USAGE;
	}
	while (!rc && (n = getline(&line, &cap, f)) > 0) {
		struct anchor a;

		lineno++;
		if (n && line[n - 1] == '\n')
			n--;
		if (verify__parse_anchor(line, n, &a.seq, a.mac) || o->nanc == MAX_ANCHORS) {
			log_err("anchor file %s:%zu is not an anchor "
				"line; give the file the collector's anchor_file wrote",
				o->anchor_file, lineno);
			rc = VERIFY_USAGE;
		} else if (!(o->nanc & (o->nanc + 1)) || !o->anc) {
			struct anchor *p = realloc(o->anc, (o->nanc + 1) * 2 * sizeof(*p));

			if (!p)
				rc = VERIFY_USAGE;
			else
				o->anc = p;
		}
		if (!rc)
			o->anc[o->nanc++] = a;
	}
	free(line);
	fclose(f);
	return rc;
}

static int usage(const char *what)
{
	log_err("%s (usage: sockaudit verify [--key FILE] "
		"[--anchor FILE] [--allow-gaps] LOG...)", what);
	return VERIFY_USAGE;
}

static int parse_opts(struct vopts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "anchor", required_argument, NULL, 'a' },
		{ "allow-gaps", no_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'k')
			o->key_file = optarg;
		else if (c == 'a')
			o->anchor_file = optarg;
		else if (c == 'g')
			o->allow_gaps = true;
		else
			return usage("unknown option or missing value");
	}
	if (optind == argc)
		return usage("verify needs the audit log(s) to check");
	if (o->anchor_file && argc - optind > 1)
		return usage("--anchor belongs to one log: verify one LOG per --anchor");
	return 0;
}

int verify__main(int argc, char **argv)
{
	struct vopts o = { 0 };
	char err[512];
	int rc, i, worst = VERIFY_OK;

	vout = stdout;
	rc = parse_opts(&o, argc, argv);
	if (!rc && o.key_file) {
		if (chainfile__load_key(o.key_file, o.key0, err, sizeof(err))) {
			log_err("%s", err);
			rc = VERIFY_USAGE;
		}
		o.have_key = true;
	}
	if (!rc && o.anchor_file)
		rc = load_anchor(&o);
	for (i = optind; !rc && i < argc; i++) {
		int r = verify_log(&o, argv[i]);

		if (r == VERIFY_USAGE || (r == VERIFY_BAD && worst == VERIFY_OK))
			worst = r;
	}
	OPENSSL_cleanse(o.key0, sizeof(o.key0));
	free(o.anc);
	return rc ? rc : worst;
}

int verify__set(const char *key_file, const char *log, FILE *out)
{
	struct vopts o = { .key_file = key_file };
	char err[512];
	int rc;

	vout = out;
	if (key_file && chainfile__load_key(key_file, o.key0, err, sizeof(err))) {
		log_err("%s", err);
		return VERIFY_USAGE;
	}
	o.have_key = key_file != NULL;
	rc = verify_log(&o, log);
	OPENSSL_cleanse(o.key0, sizeof(o.key0));
	fflush(out);
	return rc;
}
