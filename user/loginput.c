// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "config.h"
#include "loginput.h"
#include "logset.h"

/* Length of name without a rotation suffix ".N" or ".N.gz"; 0 when it has none. */
static size_t rotated_base(const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (n > 3 && !strcmp(name + n - 3, ".gz"))
		n -= 3;
	p = name + n;
	while (p > name && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return p < name + n && p > name + 1 && p[-1] == '.' ? (size_t)(p - 1 - name) : 0;
}

static int add_set(struct loginput *in, const char *name, char **paths, int n)
{
	struct loginput_set *s = realloc(in->set, (in->n + 1) * sizeof(*s));

	if (!s)
		return -ENOMEM;
	in->set = s;
	s[in->n].name = strdup(name);
	s[in->n].paths = paths;
	s[in->n].n = n;
	if (!s[in->n].name)
		return -ENOMEM;
	in->n++;
	return 0;
}

static int single(struct loginput *in, const char *path)
{
	char **paths = calloc(1, sizeof(*paths));

	if (!paths || !(paths[0] = strdup(path))) {
		free(paths);
		return -ENOMEM;
	}
	return add_set(in, path, paths, 1);
}

static int add_log(struct loginput *in, const char *log)
{
	struct logset_found f = { 0 };
	char **paths = NULL;
	int n = 0, e;

	e = logset__find(log, &paths, &n, &f);
	free(f.missing);
	free(f.differ);
	if (e) {
		fprintf(stderr, "sockaudit: error: %s: %s; give an audit log (its rotated files "
			"LOG.N are found beside it), a directory, or - for stdin\n", log, strerror(-e));
		return e;
	}
	return add_set(in, log, paths, n);
}

/* Does the file start like a json_lines record ({"v":), plain or gzip? */
static bool looks_json_lines(const char *path)
{
	gzFile f = logset__open_gz(path);
	char head[6] = "";
	int n;

	if (!f)
		return false;
	n = gzread(f, head, 5);
	gzclose(f);
	return n == 5 && !memcmp(head, "{\"v\":", 5);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every set in dir: the base names of its files, taken when one of its files is json_lines. */
static int add_dir(struct loginput *in, const char *dir)
{
	struct dirent **ents;
	char **bases = NULL, *path;
	int n = scandir(dir, &ents, NULL, alphasort), nb = 0, i, e = 0;

	if (n < 0) {
		fprintf(stderr, "sockaudit: error: %s: %s; check the permissions\n", dir, strerror(errno));
		return -errno;
	}
	bases = calloc(n + 1, sizeof(*bases));
	for (i = 0; i < n && bases; i++) {
		size_t b = rotated_base(ents[i]->d_name);

		if (ents[i]->d_name[0] == '.' ||
		    asprintf(&path, "%s/%.*s", dir, (int)(b ? b : strlen(ents[i]->d_name)),
			     ents[i]->d_name) < 0)
			continue;
		bases[nb++] = path;
	}
	if (bases)
		qsort(bases, nb, sizeof(*bases), cmp_str);
	for (i = 0; bases && i < nb && !e; i++) {
		struct logset_found f = { 0 };
		char **paths = NULL;
		int np = 0;

		if ((i && !strcmp(bases[i], bases[i - 1])) || logset__find(bases[i], &paths, &np, &f)) {
			free(f.missing);
			free(f.differ);
			continue;
		}
		free(f.missing);
		free(f.differ);
		if (np && (looks_json_lines(paths[0]) || looks_json_lines(paths[np - 1])))
			e = add_set(in, bases[i], paths, np);
		else
			logset__free_paths(paths, np);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	for (i = 0; bases && i < nb; i++)
		free(bases[i]);
	free(bases);
	return bases ? e : -ENOMEM;
}

static int from_config(struct loginput *in, const char *config)
{
	struct config c = { 0 };
	char err[512], *path;
	int i, e;

	e = config__load(&c, config, err, sizeof(err));
	if (e) {
		fprintf(stderr, "sockaudit: error: %s\n", err);
		return e;
	}
	for (i = 0; i < c.n_sinks && !e; i++) {
		const struct sink_config *sc = &c.sinks[i];

		path = NULL;
		if (strcmp(sc->type, "json_lines") || !sc->output_file)
			continue;
		if (sc->base_directory && sc->output_file[0] != '/') {
			if (asprintf(&path, "%s/%s", sc->base_directory, sc->output_file) < 0) {
				path = NULL;
				e = -ENOMEM;
			}
		} else {
			path = strdup(sc->output_file);
			e = path ? 0 : -ENOMEM;
		}
		if (!e)
			e = add_log(in, path);
		if (!e && !in->key_file && sc->integrity.key_file)
			in->key_file = strdup(sc->integrity.key_file);
		free(path);
	}
	config__free(&c);
	if (!e && !in->n) {
		fprintf(stderr, "sockaudit: error: %s has no json_lines sink; give the log files "
			"to read\n", config);
		return -ENOENT;
	}
	return e;
}

int loginput__resolve(struct loginput *in, char **args, int nargs, const char *config)
{
	struct stat st;
	int i, e = 0;

	memset(in, 0, sizeof(*in));
	if (!nargs && config)
		return from_config(in, config);
	if (!nargs) {
		if (isatty(STDIN_FILENO)) {
			fprintf(stderr, "sockaudit: error: no log to read: give LOG files or "
				"directories, -c CONFIG for its sinks' files, or pipe records in\n");
			return -EINVAL;
		}
		return single(in, "-");
	}
	for (i = 0; i < nargs && !e; i++) {
		if (!strcmp(args[i], "-"))
			e = single(in, "-");
		else if (!stat(args[i], &st) && S_ISDIR(st.st_mode))
			e = add_dir(in, args[i]);
		else if (rotated_base(args[i]) && !access(args[i], F_OK))
			e = single(in, args[i]);	/* one rotated file, as named */
		else
			e = add_log(in, args[i]);
	}
	return e;
}

void loginput__free(struct loginput *in)
{
	int i;

	for (i = 0; i < in->n; i++) {
		free(in->set[i].name);
		logset__free_paths(in->set[i].paths, in->set[i].n);
	}
	free(in->set);
	free(in->key_file);
	memset(in, 0, sizeof(*in));
}
