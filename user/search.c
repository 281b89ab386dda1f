// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * search: stream each log set once, line by line, in constant memory. A
 * line is parsed only when it holds every needle of the selectors, so a
 * selective search runs at the speed of memchr and memmem.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "loginput.h"
#include "logrec.h"
#include "logset.h"
#include "search.h"
#include "selector.h"
#include "verify.h"

enum out_fmt { OUT_RAW, OUT_TEXT, OUT_CSV };

struct sopts {
	struct selector sel;
	enum out_fmt fmt;
	bool count, verify;
	const char *key, *checkpoint, *config;
	char **files;
	int nfiles;
};

/* Where a set was left: the file (device, inode), the offset after its last line, and the seq. */
struct ckpt {
	char *name;
	uint64_t dev, ino, off, seq;
	int64_t ts;
};

struct ckpts {
	struct ckpt *c;
	int n;
};

struct run {
	const struct sopts *o;
	uint64_t found, unparsable;
	FILE *out;
};

static int usage(const char *what)
{
	fprintf(stderr, "sockaudit: error: %s\n"
		"usage: sockaudit search [selectors] [--format raw|text|csv] [--count] [--verify "
		"[--key FILE]] [--checkpoint FILE] [-c CONFIG] [LOG|DIR|- ...]\n"
		"       (sockaudit search --help lists the selectors)\n", what);
	return SEARCH_ERROR;
}

static int parse_opts(struct sopts *o, int argc, char **argv)
{
	char err[512];
	int i, e;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		e = selector__parse_arg(&o->sel, argc, argv, &i, err, sizeof(err));
		if (e < 0)
			return usage(err);
		if (e)
			continue;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf("usage: sockaudit search [selectors] [--format raw|text|csv] [--count] "
			       "[--verify [--key FILE]] [--checkpoint FILE] [-c CONFIG] [LOG|DIR|- ...]\n"
			       "exit status: 0 found, 1 nothing found, 2 error (docs/search.md)\n");
			selector__usage(stdout);
			return -1;
		} else if (!strcmp(a, "--count")) {
			o->count = true;
		} else if (!strcmp(a, "--verify")) {
			o->verify = true;
		} else if ((!strcmp(a, "--format") || !strcmp(a, "--key") || !strcmp(a, "--checkpoint") ||
			    !strcmp(a, "-c") || !strcmp(a, "--config")) && i + 1 >= argc) {
			return usage("an option wants a value");
		} else if (!strcmp(a, "--format")) {
			const char *f = argv[++i];

			if (strcmp(f, "raw") && strcmp(f, "text") && strcmp(f, "csv"))
				return usage("--format wants raw, text or csv");
			o->fmt = !strcmp(f, "raw") ? OUT_RAW : !strcmp(f, "text") ? OUT_TEXT : OUT_CSV;
		} else if (!strcmp(a, "--key")) {
			o->key = argv[++i];
		} else if (!strcmp(a, "--checkpoint")) {
			o->checkpoint = argv[++i];
		} else if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
			o->config = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			snprintf(err, sizeof(err), "unknown option %s", a);
			return usage(err);
		} else {
			break;
		}
	}
	o->files = argv + i;
	o->nfiles = argc - i;
	selector__finish(&o->sel);
	return 0;
}

/* ---- output ---- */

static void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

static const char csv_header[] = "seq,ts,type,pid,comm,peer,proto,method,target,status,"
	"rpc_method,tool,rpc_error,duration_ms,outcome,critical,redactions,counter,count\n";

struct redlist {
	char buf[256];
	size_t n;
};

static void red_add(const char *s, void *arg)
{
	struct redlist *l = arg;

	if (l->n < sizeof(l->buf))
		l->n += snprintf(l->buf + l->n, sizeof(l->buf) - l->n, "%s%s", l->n ? ";" : "", s);
}

/* The raw text of a number member ("" when absent). */
static const char *num(const struct logrec *r, enum logrec_field f, char *b, size_t n)
{
	const struct lspan *v = &r->f[f];

	snprintf(b, n, "%.*s", v->p && !v->str ? (int)v->n : 0, v->p ? v->p : "");
	return b;
}

static void write_csv(FILE *out, const struct logrec *r)
{
	static const enum logrec_field cols[] = { LF_SEQ, LF_TS, LF_TYPE, LF_PID, LF_COMM,
		LF_PEER, LF_PROTO, LF_REQ_METHOD, LF_REQ_TARGET, LF_RESP_STATUS, LF_RPC_METHOD,
		LF_RPC_TOOL, LF_RPC_ERR_CODE, LF_DURATION, LF_OUTCOME, LF_CRITICAL, LF_REDACTIONS,
		LF_COUNTER, LF_COUNT };
	char buf[2048];
	size_t i;

	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		enum logrec_field f = cols[i];
		bool last = i + 1 == sizeof(cols) / sizeof(cols[0]);

		if (f == LF_REDACTIONS) {
			struct redlist l = { .n = 0 };

			l.buf[0] = '\0';
			logrec__arr_each(r, f, red_add, &l);
			csv_field(out, l.buf, last);
		} else if (r->f[f].str) {
			logrec__str(r, f, buf, sizeof(buf));
			csv_field(out, buf, last);
		} else {
			csv_field(out, num(r, f, buf, sizeof(buf)), last);
		}
	}
}

/* One aligned line: when, seq, type, process, peer, what, result, how long, outcome. */
static void write_text(FILE *out, const struct logrec *r)
{
	char ts[40], type[24], comm[20], peer[64], what[200], res[48], dur[32], oc[16], a[96],
	     b[96], n1[24], n2[24];

	logrec__str(r, LF_TS, ts, sizeof(ts));
	if (strlen(ts) > 23) {		/* milliseconds are enough to read */
		ts[23] = 'Z';
		ts[24] = '\0';
	}
	logrec__str(r, LF_TYPE, type, sizeof(type));
	logrec__str(r, LF_COMM, comm, sizeof(comm));
	logrec__str(r, LF_PEER, peer, sizeof(peer));
	logrec__str(r, LF_OUTCOME, oc, sizeof(oc));
	what[0] = res[0] = dur[0] = '\0';
	if (logrec__has(r, LF_REQ_METHOD) || logrec__has(r, LF_REQ_TARGET)) {
		logrec__str(r, LF_REQ_METHOD, a, sizeof(a));
		logrec__str(r, LF_REQ_TARGET, b, sizeof(b));
		snprintf(what, sizeof(what), "%s %s", a, b);
	} else if (logrec__has(r, LF_RPC_METHOD)) {
		logrec__str(r, LF_RPC_METHOD, a, sizeof(a));
		logrec__str(r, LF_RPC_TOOL, b, sizeof(b));
		snprintf(what, sizeof(what), "%s%s%s", a, b[0] ? " " : "", b);
	} else if (logrec__has(r, LF_COUNTER)) {
		logrec__str(r, LF_SOURCE, a, sizeof(a));
		logrec__str(r, LF_COUNTER, b, sizeof(b));
		snprintf(what, sizeof(what), "%s %s", a, b);
		snprintf(res, sizeof(res), "count=%s", num(r, LF_COUNT, n1, sizeof(n1)));
	}
	if (logrec__has(r, LF_RESP_STATUS))
		snprintf(res, sizeof(res), "%s", num(r, LF_RESP_STATUS, n1, sizeof(n1)));
	if (logrec__has(r, LF_RPC_ERR_CODE))
		snprintf(res, sizeof(res), "err=%s", num(r, LF_RPC_ERR_CODE, n1, sizeof(n1)));
	if (logrec__has(r, LF_DURATION))
		snprintf(dur, sizeof(dur), "%sms", num(r, LF_DURATION, n1, sizeof(n1)));
	snprintf(a, sizeof(a), "%s[%s]", comm, num(r, LF_PID, n2, sizeof(n2)));
	fprintf(out, "%-24s %8s %-15s %-22s %-21s %-40s %-10s %11s %s\n", ts,
		num(r, LF_SEQ, n1, sizeof(n1)), type, logrec__has(r, LF_COMM) ? a : "-",
		peer[0] ? peer : "-", what[0] ? what : "-", res[0] ? res : "-", dur[0] ? dur : "-",
		oc);
}

/* ---- checkpoints ---- */

static void ckpts_free(struct ckpts *cs)
{
	int i;

	for (i = 0; i < cs->n; i++)
		free(cs->c[i].name);
	free(cs->c);
	cs->c = NULL;
	cs->n = 0;
}

static struct ckpt *ckpt_for(struct ckpts *cs, const char *name, bool create)
{
	struct ckpt *c;
	int i;

	for (i = 0; i < cs->n; i++)
		if (!strcmp(cs->c[i].name, name))
			return &cs->c[i];
	if (!create || !(c = realloc(cs->c, (cs->n + 1) * sizeof(*c))))
		return NULL;
	cs->c = c;
	memset(&c[cs->n], 0, sizeof(*c));
	c[cs->n].name = strdup(name);
	return c[cs->n].name ? &c[cs->n++] : NULL;
}

/* Lines "sockaudit-checkpoint 1 DEV INO OFFSET SEQ TS_NS NAME". A missing file is empty. */
static int ckpts_load(const char *path, struct ckpts *cs)
{
	FILE *f = fopen(path, "re");
	char line[4400], name[4097];
	struct ckpt c, *p;
	int ln = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		ln++;
		if (sscanf(line, "sockaudit-checkpoint 1 %" SCNu64 " %" SCNu64 " %" SCNu64 " %"
			   SCNu64 " %" SCNd64 " %4096[^\n]", &c.dev, &c.ino, &c.off, &c.seq, &c.ts,
			   name) != 6 || !(p = ckpt_for(cs, name, true))) {
			fprintf(stderr, "sockaudit: error: checkpoint file %s:%d is not a search "
				"checkpoint; give a file search --checkpoint wrote (or a new path)\n",
				path, ln);
			fclose(f);
			return -EINVAL;
		}
		c.name = p->name;
		*p = c;
	}
	fclose(f);
	return 0;
}

/* Written beside it and renamed over it: a crash leaves the old one or the new one. */
static int ckpts_save(const char *path, const struct ckpts *cs)
{
	char *tmp;
	FILE *f;
	int i, e = 0;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	f = fopen(tmp, "we");
	if (!f) {
		e = -errno;
	} else {
		for (i = 0; i < cs->n; i++)
			fprintf(f, "sockaudit-checkpoint 1 %" PRIu64 " %" PRIu64 " %" PRIu64 " %"
				PRIu64 " %" PRId64 " %s\n", cs->c[i].dev, cs->c[i].ino, cs->c[i].off,
				cs->c[i].seq, cs->c[i].ts, cs->c[i].name);
		if (fflush(f) || fsync(fileno(f)))
			e = -errno;
		if (fclose(f) && !e)
			e = -errno;
	}
	if (!e && rename(tmp, path))
		e = -errno;
	if (e) {
		fprintf(stderr, "sockaudit: error: cannot write checkpoint %s: %s; check the "
			"directory's permissions\n", path, strerror(-e));
		unlink(tmp);
	}
	free(tmp);
	return e;
}

/*
 * Start the set after the checkpoint: at the file with its device and inode
 * (a rotation renames LOG to LOG.1, the inode stays), at its offset. When
 * that file is gone (compressed into LOG.1.gz), fall back to the records
 * newer than its time (*after_ts).
 */
static void ckpt_position(const struct ckpt *c, struct logset_reader *r, int64_t *after_ts)
{
	struct stat st;
	int i;

	for (i = 0; i < r->n; i++) {
		if (stat(r->paths[i], &st) || st.st_dev != c->dev || st.st_ino != c->ino)
			continue;
		if ((uint64_t)st.st_size < c->off) {
			fprintf(stderr, "sockaudit: warning: %s is shorter than at the checkpoint "
				"(truncated?): read from its start\n", r->paths[i]);
			r->cur = i - 1;
			return;
		}
		r->cur = i - 1;
		r->start_file = i;
		r->start_off = c->off;
		return;
	}
	fprintf(stderr, "sockaudit: note: the file of the checkpoint of %s is gone (rotated "
		"and compressed): records after its time are shown\n", c->name);
	*after_ts = c->ts;
}

/* ---- the walk ---- */

/* seq and ts of the line read last, from its head: {"v":1,"seq":N,"ts":"..." */
static void ckpt_note(struct ckpt *c, const char *line, size_t len)
{
	const char *p = memmem(line, len < 40 ? len : 40, "\"seq\":", 6), *t;
	uint64_t seq = 0;
	int64_t ts;

	if (!p)
		return;
	for (p += 6; p < line + len && *p >= '0' && *p <= '9'; p++)
		seq = seq * 10 + (*p - '0');
	if (seq)
		c->seq = seq;
	if (line + len - p > 7 && !memcmp(p, ",\"ts\":\"", 7)) {
		t = memchr(p + 7, '"', line + len - p - 7);
		if (t && !logrec__parse_ts(p + 7, t - p - 7, &ts))
			c->ts = ts;
	}
}

static int one_line(struct run *w, const char *line, size_t len, bool need_ts, int64_t after_ts)
{
	const struct sopts *o = w->o;
	struct logrec r;
	bool need_parse = o->sel.n || o->sel.has_start || o->sel.has_end || o->fmt != OUT_RAW ||
			  need_ts;
	int64_t ts;

	if (!selector__prefilter(&o->sel, line, len))
		return 0;
	if (need_parse && logrec__parse(line, len, &r)) {
		w->unparsable++;
		return 0;
	}
	if (after_ts && (!logrec__ts(&r, &ts) || ts <= after_ts))
		return 0;
	if (need_parse && !selector__match(&o->sel, &r))
		return 0;
	w->found++;
	if (o->count)
		return 0;
	if (o->fmt == OUT_RAW) {
		fwrite(line, 1, len, w->out);
		fputc('\n', w->out);
	} else if (o->fmt == OUT_TEXT) {
		write_text(w->out, &r);
	} else {
		write_csv(w->out, &r);
	}
	return ferror(w->out) ? -EIO : 0;
}

static int read_set(struct run *w, const struct loginput_set *s, struct ckpts *cs)
{
	struct logset_reader r;
	struct ckpt *c = NULL;
	int64_t after_ts = 0;
	const char *line;
	size_t len;
	bool first;
	int e;

	if (logset__init(&r, s->paths, s->n))
		return -ENOMEM;
	if (w->o->checkpoint) {
		c = ckpt_for(cs, s->name, false);
		if (c && c->dev)
			ckpt_position(c, &r, &after_ts);
		c = c ? c : ckpt_for(cs, s->name, true);
	}
	while ((e = logset__next_line(&r, &line, &len, &first)) > 0) {
		if (first && r.off == len + r.has_nl && (!len || line[0] != '{')) {
			fprintf(stderr, "sockaudit: error: %s is not a json_lines log (its first "
				"line is not a JSON object); search reads the json_lines sink's "
				"files\n", logset__cur_path(&r));
			e = -EINVAL;
			break;
		}
		if (c && !r.has_nl) {
			/* a line being written: the next run reads it whole */
			r.off -= len;
			e = 0;
			break;
		}
		if ((e = one_line(w, line, len, after_ts != 0, after_ts)))
			break;
		if (c)
			ckpt_note(c, line, len);
	}
	if (c && !e && r.cur >= 0) {
		c->dev = r.dev;
		c->ino = r.ino;
		c->off = r.off;
	}
	logset__close(&r);
	return e;
}

static int verify_first(const struct sopts *o, const struct loginput_set *s, const char *key)
{
	int rc;

	if (!strcmp(s->name, "-")) {
		fprintf(stderr, "sockaudit: error: --verify reads files, not stdin: give the log's "
			"path\n");
		return -EINVAL;
	}
	rc = verify__set(key, s->name, stderr);
	if (rc == VERIFY_OK)
		return 0;
	fprintf(stderr, "sockaudit: error: %s does not verify (the line above names where): "
		"search stopped; the records cannot be trusted%s\n", s->name,
		rc == VERIFY_USAGE ? " or read" : "");
	return -EBADMSG;
}

int search__main(int argc, char **argv)
{
	struct sopts o = { .fmt = OUT_RAW };
	struct loginput in;
	struct ckpts cs = { 0 };
	struct run w = { .o = &o, .out = stdout };
	static char obuf[1 << 20];
	int i, e, rc;

	selector__init(&o.sel);
	rc = parse_opts(&o, argc, argv);
	if (rc) {
		selector__free(&o.sel);
		return rc < 0 ? SEARCH_FOUND : rc;	/* -1: --help */
	}
	if (loginput__resolve(&in, o.files, o.nfiles, o.config)) {
		selector__free(&o.sel);
		return SEARCH_ERROR;
	}
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	e = o.checkpoint ? ckpts_load(o.checkpoint, &cs) : 0;
	if (!e && o.fmt == OUT_CSV && !o.count)
		fputs(csv_header, stdout);
	for (i = 0; !e && i < in.n; i++) {
		if (o.verify)
			e = verify_first(&o, &in.set[i], o.key ? o.key : in.key_file);
		if (!e)
			e = read_set(&w, &in.set[i], &cs);
	}
	if (!e && o.checkpoint)
		e = ckpts_save(o.checkpoint, &cs);
	if (o.count && !e)
		printf("%" PRIu64 "\n", w.found);
	if (fflush(stdout) && !e) {
		fprintf(stderr, "sockaudit: error: writing the results: %s\n", strerror(errno));
		e = -EIO;
	}
	if (w.unparsable)
		fprintf(stderr, "sockaudit: warning: %" PRIu64 " line(s) were not JSON objects "
			"(torn or edited lines): skipped\n", w.unparsable);
	ckpts_free(&cs);
	loginput__free(&in);
	selector__free(&o.sel);
	return e ? SEARCH_ERROR : w.found ? SEARCH_FOUND : SEARCH_NONE;
}
