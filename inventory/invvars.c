/*
 * invvars.c: host_vars/ and group_vars/ next to each inventory source
 * (the source itself if a directory, else its directory), read as
 * Ansible's host_group_vars plugin reads them: for host or group NAME
 * the first of NAME, NAME.yml, NAME.yaml, NAME.json that exists; a
 * directory is read whole, recursively, in sorted order, skipping hidden
 * files, backups (~) and other extensions.  Only the PEM hosts and their
 * groups are read.  Vault-encrypted files are refused (inv_read_file).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/inventory_int.h"

#define VARS_MAX_DEPTH	16

static const char *const vars_ext[] = { "", ".yml", ".yaml", ".json" };

static int
vars_file(struct inv_parser *p, const char *path, struct inv_kvlist *l)
{
	char *buf;
	size_t len;
	int r;

	if ((r = inv_read_file(p, path, &buf, &len)) != 0)
		return r;
	inv_file_begin(p, path);
	r = invyaml_vars(p, buf, len, l);
	free(buf);
	return r;
}

/* Python's os.path.splitext(name)[1] is "" or one of vars_ext. */
static int
vars_ext_ok(const char *name)
{
	const char *dot;
	size_t i;

	dot = strrchr(name + strspn(name, "."), '.');
	if (dot == NULL)
		return 1;
	for (i = 1; i < sizeof(vars_ext) / sizeof(vars_ext[0]); i++) {
		if (strcmp(dot, vars_ext[i]) == 0)
			return 1;
	}
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int vars_dir(struct inv_parser *p, const char *path,
    struct inv_kvlist *l, int depth);

/* One entry of a vars directory: a file, or a directory without a dot. */
static int
vars_entry(struct inv_parser *p, const char *dir, const char *name,
    struct inv_kvlist *l, int depth)
{
	struct stat st;
	char *path;
	int r = 0;

	if (name[0] == '.' || name[strlen(name) - 1] == '~')
		return 0;
	path = xasprintf("%s/%s", dir, name);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
	    strchr(name, '.') == NULL)
		r = vars_dir(p, path, l, depth + 1);
	else if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    vars_ext_ok(name))
		r = vars_file(p, path, l);
	free(path);
	return r;
}

static int
vars_dir(struct inv_parser *p, const char *path, struct inv_kvlist *l,
    int depth)
{
	struct dirent *d;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	DIR *dir;
	int r = 0;

	if (depth > VARS_MAX_DEPTH)
		return inv_perr_at(p, ERR_PARSE, path, 0, "directories nested "
		    "more than %d deep", VARS_MAX_DEPTH);
	if ((dir = opendir(path)) == NULL)
		return inv_perr_at(p, ERR_IO, path, 0, "%s", strerror(errno));
	while ((d = readdir(dir)) != NULL) {
		names = inv_grow(names, &cap, n, sizeof(*names));
		names[n++] = xstrdup(d->d_name);
	}
	closedir(dir);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		if (r == 0)
			r = vars_entry(p, path, names[i], l, depth);
		free(names[i]);
	}
	free(names);
	return r;
}

/* The vars of NAME in directory sub (host_vars, group_vars) into l. */
static int
vars_find(struct inv_parser *p, const char *sub, const char *name,
    struct inv_kvlist *l)
{
	struct stat st;
	char *path;
	size_t i;
	int r = 0;

	if (strchr(name, '/') != NULL || strcmp(name, "..") == 0)
		return 0;
	for (i = 0; i < sizeof(vars_ext) / sizeof(vars_ext[0]); i++) {
		path = xasprintf("%s/%s%s", sub, name, vars_ext[i]);
		if (stat(path, &st) == 0) {
			r = S_ISDIR(st.st_mode) ? vars_dir(p, path, l, 0) :
			    vars_file(p, path, l);
			free(path);
			return r;
		}
		free(path);
	}
	return 0;
}

/* 1 if sub (DIR/host_vars, DIR/group_vars) is a directory. */
static int
is_dir(const char *sub)
{
	struct stat st;

	return stat(sub, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory whose vars directories apply to source path. */
static char *
source_base(const char *path)
{
	const char *slash;

	if (is_dir(path))
		return xstrdup(path);
	if ((slash = strrchr(path, '/')) == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* host_vars/ of source s, for every PEM host. */
static int
vars_hosts(struct inv_parser *p, const char *base)
{
	struct inventory *inv = p->inv;
	char *sub;
	size_t k;
	int r = 0;

	sub = xasprintf("%s/host_vars", base);
	for (k = 0; k < inv->npub && r == 0 && is_dir(sub); k++)
		r = vars_find(p, sub, inv->hosts[inv->pubhost[k]].name,
		    &inv->hosts[inv->pubhost[k]].fvars);
	free(sub);
	return r;
}

/* group_vars/ of source s, for every group of a PEM host (used[]). */
static int
vars_groups(struct inv_parser *p, const char *base, size_t s,
    const unsigned char *used)
{
	struct inventory *inv = p->inv;
	struct inv_group *g;
	char *sub;
	size_t i;
	int r = 0;

	sub = xasprintf("%s/group_vars", base);
	for (i = 0; i < inv->ngroups && r == 0 && is_dir(sub); i++) {
		g = &inv->groups[i];
		if (!used[i])
			continue;
		if (g->fvars == NULL)
			g->fvars = xcalloc(inv->nsrc, sizeof(*g->fvars));
		r = vars_find(p, sub, g->name, &g->fvars[s]);
	}
	free(sub);
	return r;
}

int
invvars_load(struct inv_parser *p)
{
	struct inventory *inv = p->inv;
	const struct inv_entry *h;
	unsigned char *used;
	char *base;
	size_t s, k, i;
	int r = 0;

	used = xcalloc(inv->ngroups + 1, 1);
	for (k = 0; k < inv->npub; k++) {
		h = &inv->hosts[inv->pubhost[k]];
		for (i = 0; i < h->ngroups; i++)
			used[h->groups[i]] = 1;
	}
	for (s = 0; s < inv->nsrc && r == 0; s++) {
		base = source_base(inv->srcs[s]);
		if ((r = vars_groups(p, base, s, used)) == 0)
			r = vars_hosts(p, base);
		free(base);
	}
	free(used);
	return r;
}
