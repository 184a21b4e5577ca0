/*
 * inventory.c: the Ansible-style INI inventory (see inventory.h): the
 * model (groups, hosts, their variables and the lookup in precedence
 * order) and the public API.  How the text becomes the model:
 * inventory_int.h.
 */
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

#define INV_MAX_FILE	(16 * 1024 * 1024)

int
inv_perr(struct inv_parser *p, int code, int line, const char *fmt, ...)
{
	va_list ap;

	char *what;

	free(*p->msg);
	va_start(ap, fmt);
	/* JSON (h-json): no line numbers, line 0: "FILE: what". */
	if (line <= 0) {
		what = xvasprintf(fmt, ap);
		*p->msg = xasprintf("%s: %s", p->fname, what);
		free(what);
	} else
		*p->msg = str_errat(p->fname, line, fmt, ap);
	va_end(ap);
	return code;
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
	l->v = inv_grow(l->v, &l->cap, l->n, sizeof(*l->v));
	l->v[l->n].key = xstrdup(key);
	/* NULL (JSON null, h-json): unset, hiding what a group sets. */
	l->v[l->n].val = val != NULL ? xstrdup(val) : NULL;
	l->n++;
}

/* The last entry of key in l (its val NULL if unset), or NULL. */
static const struct inv_kv *
inv_kv_find(const struct inv_kvlist *l, const char *key)
{
	size_t i;

	for (i = l->n; i-- > 0;) {
		if (strcmp(l->v[i].key, key) == 0)
			return &l->v[i];
	}
	return NULL;
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

/* Value of name for host h, after the precedence described on top. */
const char *
inv_entry_lookup(const struct inventory *inv, const struct inv_entry *h,
    const char *name)
{
	const struct inv_kv *kv;
	size_t i;

	if ((kv = inv_kv_find(&h->vars, name)) != NULL)
		return kv->val;
	for (i = h->ngroups; i-- > 0;) {
		kv = inv_kv_find(&inv->groups[h->groups[i]].vars, name);
		if (kv != NULL)
			return kv->val;
	}
	return NULL;
}

/* --- API --- */

static void
parser_init(struct inv_parser *p, const char *fname, char **msg)
{
	size_t all, ungrouped;

	memset(p, 0, sizeof(*p));
	p->fname = fname;
	p->msg = msg;
	p->inv = xcalloc(1, sizeof(*p->inv));
	p->inv->path = xstrdup(fname);
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
	parser_init(&p, fname, msg);
	if ((r = invini_parse(&p, text, len)) != 0 || (r = invresolve(&p)) != 0)
		goto out;
	*out = p.inv;
	p.inv = NULL;
 out:
	parser_free(&p);
	return r;
}

/*
 * h-json: inventory_parse with another first pass (invjson.c's); the
 * multi-source loader may take this over.
 */
int
inv_parse_with(const char *fname, inv_pass_fn *pass, void *ctx,
    struct inventory **out, char **msg)
{
	struct inv_parser p;
	int r;

	*out = NULL;
	*msg = NULL;
	parser_init(&p, fname, msg);
	if ((r = pass(&p, ctx)) != 0 || (r = invresolve(&p)) != 0)
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
	return 0;
}

int
inventory_load(const char *path, struct inventory **out, char **msg)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	/* h-json: "-", *.json and executables (invexec.c); to move into
	 * the multi-source loader's dispatch. */
	if (invexec_source(path))
		return invexec_load(path, out, msg);
	*out = NULL;
	*msg = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*msg = xasprintf("%s: %s", path, strerror(errno));
		return ERR_IO;
	}
	if ((r = read_all(fd, INV_MAX_FILE, &buf, &len)) != 0) {
		if (r == ERR_IO)
			*msg = xasprintf("%s: %s", path, strerror(errno));
		else
			*msg = xasprintf("%s: larger than %d bytes", path,
			    INV_MAX_FILE);
		goto out;
	}
	r = inventory_parse(buf, len, path, out, msg);
 out:
	close(fd);
	free(buf);
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

void
inventory_free(struct inventory *inv)
{
	size_t i;

	if (inv == NULL)
		return;
	for (i = 0; i < inv->ngroups; i++) {
		free(inv->groups[i].name);
		inv_kv_free(&inv->groups[i].vars);
		free(inv->groups[i].parents);
	}
	for (i = 0; i < inv->nhosts; i++) {
		free(inv->hosts[i].name);
		inv_kv_free(&inv->hosts[i].vars);
		free(inv->hosts[i].groups);
	}
	free(inv->groups);
	free(inv->hosts);
	strmap_free(&inv->groupmap);
	strmap_free(&inv->hostmap);
	free(inv->pub);
	free(inv->pubhost);
	free(inv->path);
	free(inv);
}
