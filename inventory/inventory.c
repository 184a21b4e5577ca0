/*
 * inventory.c: Ansible inventories (see inventory.h): the model (groups,
 * hosts, their variables and the lookup in precedence order), the
 * sources (which file is what) and the public API.  How the text becomes
 * the model: inventory_int.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/inventory_int.h"

#define INV_MAX_DEPTH	16		/* directories within a source */

int
inv_perr(struct inv_parser *p, int code, int line, const char *fmt, ...)
{
	va_list ap;
	char *what;

	free(*p->msg);
	va_start(ap, fmt);
	/* line 0 (JSON has no lines): "FILE: what" */
	if (line <= 0) {
		what = xvasprintf(fmt, ap);
		*p->msg = xasprintf("%s: %s", p->fname, what);
		free(what);
	} else
		*p->msg = str_errat(p->fname, line, fmt, ap);
	va_end(ap);
	return code;
}

int
inv_perr_at(struct inv_parser *p, int code, const char *file, int line,
    const char *fmt, ...)
{
	const char *where = file != NULL ? file : p->inv->path;
	char *what;
	va_list ap;

	free(*p->msg);
	va_start(ap, fmt);
	if (line > 0)
		*p->msg = str_errat(where, line, fmt, ap);
	else {
		what = xvasprintf(fmt, ap);
		*p->msg = xasprintf("%s: %s", where, what);
		free(what);
	}
	va_end(ap);
	return code;
}

void
inv_file_begin(struct inv_parser *p, const char *path)
{
	struct inventory *inv = p->inv;

	inv->files = inv_grow(inv->files, &inv->capfiles, inv->nfiles,
	    sizeof(*inv->files));
	inv->files[inv->nfiles] = xstrdup(path);
	p->fname = inv->files[inv->nfiles++];
	p->line = 0;
	p->cur = G_UNGROUPED;
	p->sec = SEC_HOSTS;
	p->yaml = 0;
	pairset_free(&p->seen);
}

/* Make room for element n of an array of cap elements of size bytes. */
void *
inv_grow(void *a, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return a;
	if (*cap > SIZE_MAX / 2 / size)
		fatal_nomem();
	*cap = *cap ? *cap * 2 : 8;
	return xrealloc(a, *cap * size);
}

/* --- variables, groups, hosts --- */

void
inv_kv_add(struct inv_kvlist *l, const char *key, const char *val)
{
	struct inv_kv *kv;

	l->v = inv_grow(l->v, &l->cap, l->n, sizeof(*l->v));
	kv = &l->v[l->n++];
	memset(kv, 0, sizeof(*kv));
	kv->key = xstrdup(key);
	kv->val = val != NULL ? xstrdup(val) : NULL;
}

struct inv_kv *
inv_kv_add_at(struct inv_parser *p, struct inv_kvlist *l, const char *key,
    const char *val, int line)
{
	struct inv_kv *kv;

	inv_kv_add(l, key, val);
	kv = &l->v[l->n - 1];
	kv->file = p->fname;
	kv->line = line;
	return kv;
}

int
inv_kv_find(const struct inv_kvlist *l, const char *key,
    const struct inv_kv **kv)
{
	size_t i;

	for (i = l->n; i-- > 0;) {
		if (strcmp(l->v[i].key, key) == 0) {
			*kv = &l->v[i];
			return 1;
		}
	}
	return 0;
}

int
inv_kv_check(struct inv_parser *p, const char *key, const char *val,
    int line)
{
	long port;

	if (val != NULL && strcmp(key, "ansible_port") == 0 &&
	    !str_to_posint(val, 65535, &port))
		return inv_perr(p, ERR_PARSE, line, "ansible_port \"%.64s\" "
		    "is not a port number (1-65535)", val);
	return 0;
}

void
inv_kv_free(struct inv_kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

size_t
inv_group_get(struct inventory *inv, const char *name)
{
	struct inv_group *g;
	size_t gi;

	if (strmap_get(&inv->groupmap, name, &gi))
		return gi;
	inv->groups = inv_grow(inv->groups, &inv->capgroups, inv->ngroups,
	    sizeof(*inv->groups));
	gi = inv->ngroups++;
	g = &inv->groups[gi];
	memset(g, 0, sizeof(*g));
	g->name = xstrdup(name);
	g->depth = 1;
	strmap_put(&inv->groupmap, g->name, gi);
	return gi;
}

size_t
inv_entry_get(struct inventory *inv, const char *name, int line)
{
	struct inv_entry *h;
	size_t hi;

	if (strmap_get(&inv->hostmap, name, &hi))
		return hi;
	inv->hosts = inv_grow(inv->hosts, &inv->caphosts, inv->nhosts,
	    sizeof(*inv->hosts));
	hi = inv->nhosts++;
	h = &inv->hosts[hi];
	memset(h, 0, sizeof(*h));
	h->name = xstrdup(name);
	h->line = line;
	strmap_put(&inv->hostmap, h->name, hi);
	return hi;
}

void
inv_entry_add_group(struct inv_entry *h, size_t gi)
{
	h->groups = inv_grow(h->groups, &h->capgroups, h->ngroups,
	    sizeof(*h->groups));
	h->groups[h->ngroups++] = gi;
}

/* In the group_vars/ files of h's groups (not all, which is first). */
static int
find_gfiles(const struct inventory *inv, const struct inv_entry *h,
    const char *name, const struct inv_kv **kv)
{
	const struct inv_group *g;
	size_t s, i;

	for (s = inv->nsrc; s-- > 0;) {
		for (i = h->ngroups; i-- > 1;) {
			g = &inv->groups[h->groups[i]];
			if (g->fvars != NULL &&
			    inv_kv_find(&g->fvars[s], name, kv))
				return 1;
		}
	}
	return 0;
}

/* The entry giving h its name, after the precedence in inventory_int.h. */
const struct inv_kv *
inv_entry_find(const struct inventory *inv, const struct inv_entry *h,
    const char *name)
{
	const struct inv_group *all = &inv->groups[G_ALL];
	const struct inv_kv *kv;
	size_t s, i;

	if (inv_kv_find(&h->fvars, name, &kv) ||
	    inv_kv_find(&h->vars, name, &kv) || find_gfiles(inv, h, name, &kv))
		return kv;
	for (s = inv->nsrc; s-- > 0;) {
		if (all->fvars != NULL &&
		    inv_kv_find(&all->fvars[s], name, &kv))
			return kv;
	}
	for (i = h->ngroups; i-- > 0;) {
		if (inv_kv_find(&inv->groups[h->groups[i]].vars, name, &kv))
			return kv;
	}
	return NULL;
}

/* Value of name for host h, after the precedence described on top. */
const char *
inv_entry_lookup(const struct inventory *inv, const struct inv_entry *h,
    const char *name)
{
	const struct inv_kv *kv = inv_entry_find(inv, h, name);

	return kv != NULL ? kv->val : NULL;
}

/* --- API --- */

static void
parser_init(struct inv_parser *p, char **msg)
{
	size_t all, ungrouped;

	memset(p, 0, sizeof(*p));
	p->msg = msg;
	p->inv = xcalloc(1, sizeof(*p->inv));
	all = inv_group_get(p->inv, "all");
	ungrouped = inv_group_get(p->inv, "ungrouped");
	p->inv->groups[all].defined = -1;
	p->inv->groups[ungrouped].defined = -1;
	p->cur = G_UNGROUPED;
	p->sec = SEC_HOSTS;
}

static void
parser_free(struct inv_parser *p)
{
	size_t i;

	for (i = 0; i < p->nedges; i++)
		free(p->edges[i].childname);
	free(p->edges);
	free(p->mem);
	pairset_free(&p->seen);
	free(p->cstart);
	free(p->cadj);
	inventory_free(p->inv);
	memset(p, 0, sizeof(*p));
}

/* inv->srcs and inv->path from the n sources. */
static void
set_sources(struct inventory *inv, const char *const *paths, size_t n)
{
	struct strbuf b;
	size_t i;

	strbuf_init(&b);
	inv->srcs = xcalloc(n, sizeof(*inv->srcs));
	for (i = 0; i < n; i++) {
		inv->srcs[i] = xstrdup(paths[i]);
		strbuf_addf(&b, "%s%s", i > 0 ? ", " : "", paths[i]);
	}
	inv->nsrc = n;
	inv->path = strbuf_steal(&b);
}

/* 1 if path ends in one of Ansible's YAML extensions (the yaml plugin). */
static int
yaml_ext(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	dot = strrchr(base != NULL ? base + 1 : path, '.');
	return dot != NULL && dot != (base != NULL ? base + 1 : path) &&
	    (strcmp(dot, ".yml") == 0 || strcmp(dot, ".yaml") == 0);
}

/* 1 if path has no extension (Python's os.path.splitext). */
static int
no_ext(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base != NULL ? base + 1 : path;
	base += strspn(base, ".");
	dot = strrchr(base, '.');
	return dot == NULL;
}

/* One file's text: YAML by extension or, without one, by content. */
static int
parse_text(struct inv_parser *p, const char *text, size_t len)
{
	int r;

	if (yaml_ext(p->fname) || (no_ext(p->fname) &&
	    invyaml_sniff(text, len)))
		return invyaml_parse(p, text, len);
	if ((r = invini_parse(p, text, len)) != 0)
		return r;
	return invresolve_names(p);
}

static int
source_file(struct inv_parser *p, const char *path)
{
	char *buf = NULL;
	size_t len;
	int r;

	if ((r = inv_read_file(p, path, &buf, &len)) == 0) {
		inv_file_begin(p, path);
		r = parse_text(p, buf, len);
	}
	free(buf);
	return r;
}

static int source_load(struct inv_parser *p, const char *path, int depth);

/*
 * Ansible's rule for the files of an inventory directory: no hidden
 * ones, no vars directories, none with an ignored extension
 * (INVENTORY_IGNORE_EXTS: REJECT_EXTS and .orig .ini .cfg .retry).
 */
static int
dir_ignored(const char *name)
{
	static const char *const ext[] = { ".pyc", ".pyo", ".swp", ".bak",
	    "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".ini", ".cfg",
	    ".retry" };
	size_t i, n = strlen(name), e;

	if (name[0] == '.' || strcmp(name, "host_vars") == 0 ||
	    strcmp(name, "group_vars") == 0 ||
	    strcmp(name, "vars_plugins") == 0)
		return 1;
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		e = strlen(ext[i]);
		if (n >= e && strcmp(name + n - e, ext[i]) == 0)
			return 1;
	}
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of directory path Ansible reads, sorted by name. */
static int
dir_list(struct inv_parser *p, const char *path, char ***out, size_t *n)
{
	struct dirent *d;
	size_t cap = 0;
	DIR *dir;

	*out = NULL;
	*n = 0;
	if ((dir = opendir(path)) == NULL)
		return inv_perr_at(p, ERR_IO, path, 0, "%s", strerror(errno));
	while ((d = readdir(dir)) != NULL) {
		if (dir_ignored(d->d_name))
			continue;
		*out = inv_grow(*out, &cap, *n, sizeof(**out));
		(*out)[(*n)++] = xasprintf("%s/%s", path, d->d_name);
	}
	closedir(dir);
	if (*n > 0)
		qsort(*out, *n, sizeof(**out), name_cmp);
	return 0;
}

static int
source_dir(struct inv_parser *p, const char *path, int depth)
{
	char **names;
	size_t n, i;
	int r;

	if (depth >= INV_MAX_DEPTH)
		return inv_perr_at(p, ERR_PARSE, path, 0, "directories nested "
		    "more than %d deep", INV_MAX_DEPTH);
	if ((r = dir_list(p, path, &names, &n)) != 0)
		return r;
	for (i = 0; i < n && r == 0; i++)
		r = source_load(p, names[i], depth + 1);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/*
 * The one place that decides what a source is: "-" (JSON on stdin), a
 * directory (its files, by Ansible's rules), an executable (a dynamic
 * inventory) or a *.json file (invexec.c, invjson.c), else a YAML or INI
 * file (parse_text).
 */
static int
source_load(struct inv_parser *p, const char *path, int depth)
{
	struct stat st;

	if (strcmp(path, "-") == 0)
		return invexec_pass(p, path);
	if (stat(path, &st) == -1)
		return inv_perr_at(p, ERR_IO, path, 0, "%s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return source_dir(p, path, depth);
	if (invexec_source(path))	/* a script, or *.json */
		return invexec_pass(p, path);
	return source_file(p, path);
}

/* Both passes over what the sources recorded, then the vars files. */
static int
resolve(struct inv_parser *p)
{
	int r;

	if ((r = invresolve(p)) != 0 || (r = invvars_load(p)) != 0)
		return r;
	return invresolve_finish(p);
}

int
inventory_parse(const char *text, size_t len, const char *fname,
    struct inventory **out, char **msg)
{
	struct inv_parser p;
	int r;

	*out = NULL;
	*msg = NULL;
	if (len > INV_MAX_FILE) {
		*msg = xasprintf("%s: larger than %d bytes", fname,
		    INV_MAX_FILE);
		return ERR_TOOBIG;
	}
	parser_init(&p, msg);
	p.inv->path = xstrdup(fname);	/* no sources: no vars directories */
	inv_file_begin(&p, fname);
	if ((r = parse_text(&p, text, len)) != 0 || (r = resolve(&p)) != 0)
		goto out;
	*out = p.inv;
	p.inv = NULL;
 out:
	parser_free(&p);
	return r;
}

int
inv_parse_with(const char *fname, inv_pass_fn *pass, void *ctx,
    struct inventory **out, char **msg)
{
	struct inv_parser p;
	int r;

	*out = NULL;
	*msg = NULL;
	parser_init(&p, msg);
	p.inv->path = xstrdup(fname);	/* no sources: no vars directories */
	inv_file_begin(&p, fname);
	if ((r = pass(&p, ctx)) != 0 || (r = resolve(&p)) != 0)
		goto out;
	*out = p.inv;
	p.inv = NULL;
 out:
	parser_free(&p);
	return r;
}

/* Read all of fd, at most max bytes (ERR_TOOBIG if more). */
static int
read_all(int fd, size_t max, char **buf, size_t *len)
{
	ssize_t n;

	*len = 0;
	*buf = xmalloc(max + 1);
	while ((n = read(fd, *buf + *len, max + 1 - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ERR_IO;
		*len += (size_t)n;
		if (*len > max)
			return ERR_TOOBIG;
	}
	(*buf)[*len] = '\0';
	return 0;
}

int
inv_read_file(struct inv_parser *p, const char *path, char **buf,
    size_t *len)
{
	int fd, r;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return inv_perr_at(p, ERR_IO, path, 0, "%s", strerror(errno));
	if ((r = read_all(fd, INV_MAX_FILE, buf, len)) == ERR_IO)
		r = inv_perr_at(p, r, path, 0, "%s", strerror(errno));
	else if (r != 0)
		r = inv_perr_at(p, r, path, 0, "larger than %d bytes",
		    INV_MAX_FILE);
	else if (strncmp(*buf, "$ANSIBLE_VAULT;", 15) == 0)
		r = inv_perr_at(p, ERR_PARSE, path, 1, "encrypted with Ansible "
		    "Vault: pemrotate does not decrypt vault files");
	close(fd);
	if (r != 0) {
		free(*buf);
		*buf = NULL;
	}
	return r;
}

int
inventory_load(const char *const *paths, size_t n, struct inventory **out,
    char **msg)
{
	struct inv_parser p;
	size_t i;
	int r = 0;

	*out = NULL;
	*msg = NULL;
	parser_init(&p, msg);
	set_sources(p.inv, paths, n);
	for (i = 0; i < n && r == 0; i++)
		r = source_load(&p, paths[i], 0);
	if (r != 0 || (r = resolve(&p)) != 0)
		goto out;
	*out = p.inv;
	p.inv = NULL;
 out:
	parser_free(&p);
	return r;
}

size_t
inventory_count(const struct inventory *inv)
{
	return inv->npub;
}

const struct inv_host *
inventory_host(const struct inventory *inv, size_t i)
{
	return i < inv->npub ? &inv->pub[i] : NULL;
}

const struct inv_host *
inventory_server(const struct inventory *inv)
{
	return &inv->pub[0];
}

const char *
inventory_var(const struct inventory *inv, size_t i, const char *name)
{
	if (i >= inv->npub)
		return NULL;
	return inv_entry_lookup(inv, &inv->hosts[inv->pubhost[i]], name);
}

const char *
inventory_path(const struct inventory *inv)
{
	return inv->path;
}

size_t
inventory_nsources(const struct inventory *inv)
{
	return inv->nsrc;
}

const char *
inventory_source(const struct inventory *inv, size_t i)
{
	return i < inv->nsrc ? inv->srcs[i] : NULL;
}

static void
free_kvlists(struct inv_kvlist *l, size_t n)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < n; i++)
		inv_kv_free(&l[i]);
	free(l);
}

void
inventory_free(struct inventory *inv)
{
	size_t i;

	if (inv == NULL)
		return;
	for (i = 0; i < inv->ngroups; i++) {
		free(inv->groups[i].name);
		inv_kv_free(&inv->groups[i].vars);
		free_kvlists(inv->groups[i].fvars, inv->nsrc);
		free(inv->groups[i].parents);
	}
	for (i = 0; i < inv->nhosts; i++) {
		free(inv->hosts[i].name);
		inv_kv_free(&inv->hosts[i].vars);
		inv_kv_free(&inv->hosts[i].fvars);
		free(inv->hosts[i].groups);
	}
	free(inv->groups);
	free(inv->hosts);
	strmap_free(&inv->groupmap);
	strmap_free(&inv->hostmap);
	free(inv->pub);
	free(inv->pubhost);
	for (i = 0; i < inv->nsrc; i++)
		free(inv->srcs[i]);
	free(inv->srcs);
	for (i = 0; i < inv->nfiles; i++)
		free(inv->files[i]);
	free(inv->files);
	free(inv->path);
	free(inv);
}
