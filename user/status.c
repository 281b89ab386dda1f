// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The collector's state file and `sockaudit status`. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#include "json.h"
#include "status.h"

#define STATUS_STALE_S 10	/* written every second: older means the collector hangs */

int status__prepare(const char *path, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char buf[PATH_MAX];
	const char *dir;
	struct stat st;

	snprintf(buf, sizeof(buf), "%s", path);
	dir = dirname(buf);
	if (mkdir(dir, 0750) && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the state directory %s: %s", dir,
			 strerror(errno));
		return -errno;
	}
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state directory %s is not a directory; remove it", dir);
		return -ENOTDIR;
	}
	if ((st.st_uid != uid || st.st_gid != gid) && chown(dir, uid, gid)) {
		snprintf(err, errlen, "cannot give the state directory %s to uid %u: %s", dir,
			 (unsigned)uid, strerror(errno));
		return -errno;
	}
	return 0;
}

static void put_field(struct jbuf *jb, const struct format_field *f)
{
	jbuf__key(jb, f->key);
	if (f->kind == FF_STR)
		jbuf__cstr(jb, f->s ? f->s : "");
	else if (f->kind == FF_U64)
		jbuf__u64(jb, f->u);
	else if (f->kind == FF_I64)
		jbuf__i64(jb, f->i);
	else
		jbuf__bool(jb, f->b);
}

int status__write(const char *path, const struct format_field *f, size_t n)
{
	char tmp[PATH_MAX];
	struct jbuf jb;
	size_t i;
	int fd, e = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	jbuf__init(&jb);
	jbuf__obj_open(&jb);
	for (i = 0; i < n; i++)
		put_field(&jb, &f[i]);
	jbuf__obj_close(&jb);
	jbuf__raw(&jb, "\n", 1);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || jb.oom || write(fd, jb.buf, jb.len) != (ssize_t)jb.len ||
	    rename(tmp, path))
		e = jb.oom ? -ENOMEM : -errno;
	if (fd >= 0)
		close(fd);
	if (e)
		unlink(tmp);
	jbuf__free(&jb);
	return e;
}

/* ---- sockaudit status ---- */

static int read_all(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* Control bytes as '?': a selector path must not drive the terminal. */
static void print_safe(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* Print each member as "key: value" (JSON is YAML: libyaml reads the flat object). */
static int print_lines(const char *text, long *pid, long *updated, char *state, size_t slen)
{
	yaml_parser_t p;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *pr;

	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	if (!yaml_parser_load(&p, &doc)) {
		yaml_parser_delete(&p);
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		yaml_document_delete(&doc);
		yaml_parser_delete(&p);
		return -EINVAL;
	}
	for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
		const char *ks, *vs;

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			continue;	/* not what a collector writes: the flat object's members only */
		ks = (const char *)k->data.scalar.value;
		vs = v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : "";
		print_safe(ks);
		fputs(": ", stdout);
		print_safe(vs);
		putchar('\n');
		if (!strcmp(ks, "pid"))
			*pid = atol(vs);
		else if (!strcmp(ks, "updated"))
			*updated = atol(vs);
		else if (!strcmp(ks, "state"))
			snprintf(state, slen, "%s", vs);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return 0;
}

int status__main(int argc, char **argv)
{
	const char *path = STATUS_DEFAULT_PATH;
	long pid = 0, updated = 0;
	char text[65536], state[32] = "";
	bool json = false;
	int i, e;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--state-file") && i + 1 < argc)
			path = argv[++i];
		else {
			fprintf(stderr, "sockaudit: error: status takes [--state-file PATH] [--json] "
				"(sockaudit help: usage)\n");
			return 2;
		}
	}
	if ((e = read_all(path, text, sizeof(text)))) {
		fprintf(stderr, "sockaudit: error: cannot read the state file %s: %s; is the "
			"collector running (with --state-file %s)?\n", path, strerror(-e), path);
		return 1;
	}
	if (json)
		fputs(text, stdout);
	else if (print_lines(text, &pid, &updated, state, sizeof(state))) {
		fprintf(stderr, "sockaudit: error: the state file %s is not a JSON object; a "
			"collector writes it, nothing else should\n", path);
		return 1;
	}
	if (json)
		return 0;
	if (strcmp(state, "running") || pid <= 0 || (kill(pid, 0) && errno == ESRCH)) {
		fprintf(stderr, "sockaudit: the collector (pid %ld) is not running: the state "
			"above is its last\n", pid);
		return 1;
	}
	if (time(NULL) - updated > STATUS_STALE_S)
		fprintf(stderr, "sockaudit: warning: the state is %ld s old: the collector may "
			"be stuck\n", (long)(time(NULL) - updated));
	return 0;
}
