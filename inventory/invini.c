/*
 * invini.c: the first pass over an inventory (see inventory_int.h): its
 * lines, section headers, [x:vars] and [x:children] entries and host
 * lines, recorded in file order.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/inventory_int.h"

#define INV_MAX_LINE	(64 * 1024)
#define INV_MAX_MEMBERS	200000		/* memberships in one file */

static int
check_var(struct inv_parser *p, const char *key, const char *val)
{
	if (*key == '\0')
		return inv_perr(p, ERR_PARSE, p->line, "empty variable name");
	if (!invlex_var_name(key))
		return inv_perr(p, ERR_PARSE, p->line,
		    "invalid variable name \"%.64s\"", key);
	return inv_kv_check(p, key, val, p->line);
}

static int
enter_section(struct inv_parser *p, const char *name, enum inv_section sec)
{
	struct inv_group *g;

	p->cur = inv_group_get(p->inv, name);
	g = &p->inv->groups[p->cur];
	if (sec != SEC_VARS && g->defined == 0) {
		g->defined = p->line;
		g->file = p->fname;
	}
	if (sec == SEC_VARS && g->vars_line == 0) {
		g->vars_line = p->line;
		if (g->defined == 0)
			g->file = p->fname;
	}
	p->sec = sec;
	return 0;
}

static int
parse_header(struct inv_parser *p, char *s)
{
	char *end, *rest, *suffix;

	if ((end = strchr(s, ']')) == NULL)
		return inv_perr(p, ERR_PARSE, p->line,
		    "bad section header: no closing ']'");
	rest = end + 1 + strspn(end + 1, " \t");
	if (*rest != '\0' && *rest != '#' && *rest != ';')
		return inv_perr(p, ERR_PARSE, p->line,
		    "stray text after section header: \"%.64s\"", rest);
	*end = '\0';
	if ((suffix = strchr(++s, ':')) != NULL)
		*suffix++ = '\0';
	if (!invlex_group_name(s))
		return inv_perr(p, ERR_PARSE, p->line,
		    "bad section header: bad group name \"%.64s\"", s);
	if (suffix == NULL)
		return enter_section(p, s, SEC_HOSTS);
	if (strcmp(suffix, "vars") == 0)
		return enter_section(p, s, SEC_VARS);
	if (strcmp(suffix, "children") == 0)
		return enter_section(p, s, SEC_CHILDREN);
	return inv_perr(p, ERR_PARSE, p->line,
	    "bad section header: unknown suffix \":%.64s\"", suffix);
}

static int
parse_var(struct inv_parser *p, char *s)
{
	char *eq, *end, *val = NULL;
	size_t pos = 0;
	int r;

	if ((eq = strchr(s, '=')) == NULL)
		return inv_perr(p, ERR_PARSE, p->line, "expected key=value in "
		    "[%s:vars]", p->inv->groups[p->cur].name);
	for (end = eq; end > s && invlex_blank(end[-1]); end--)
		;
	*end = '\0';
	if ((r = invlex_word(p, eq + 1, &pos, 1, &val)) < 0)
		goto out;
	if (r == 0)
		val = xstrdup("");
	if ((r = check_var(p, s, val)) == 0)
		inv_kv_add_at(p, &p->inv->groups[p->cur].vars, s, val,
		    p->line);
 out:
	free(val);
	return r;
}

static int
parse_child(struct inv_parser *p, char *s)
{
	struct inv_edge *e;
	char *name = NULL, *more = NULL;
	size_t pos = 0;
	int r;

	if ((r = invlex_word(p, s, &pos, 0, &name)) <= 0)
		goto out;
	if ((r = invlex_word(p, s, &pos, 0, &more)) != 0) {
		if (r > 0)
			r = inv_perr(p, ERR_PARSE, p->line, "stray text after "
			    "group name: \"%.64s\"", more);
		goto out;
	}
	if (!invlex_group_name(name)) {
		r = inv_perr(p, ERR_PARSE, p->line, "bad group name \"%.64s\"",
		    name);
		goto out;
	}
	p->edges = inv_grow(p->edges, &p->capedges, p->nedges,
	    sizeof(*p->edges));
	e = &p->edges[p->nedges++];
	e->parent = p->cur;
	e->childname = name;
	e->file = p->fname;
	e->line = p->line;
	name = NULL;
 out:
	free(name);
	free(more);
	return r;
}

/* Read the key=value words after the host pattern into vars. */
static int
parse_hostvars(struct inv_parser *p, const char *s, size_t *pos,
    struct inv_kvlist *vars)
{
	char *tok = NULL, *eq;
	int r;

	while ((r = invlex_word(p, s, pos, 0, &tok)) > 0) {
		if ((eq = strchr(tok, '=')) == NULL)
			r = inv_perr(p, ERR_PARSE, p->line,
			    "\"%.64s\" is not key=value", tok);
		else {
			*eq = '\0';
			if ((r = check_var(p, tok, eq + 1)) == 0)
				inv_kv_add_at(p, vars, tok, eq + 1, p->line);
		}
		free(tok);
		tok = NULL;
		if (r != 0)
			break;
	}
	return r;
}

/*
 * Ansible's "host:port": one ':' outside the ranges, digits after it.
 * Cuts the port off pat and adds it to vars as ansible_port.
 */
int
invini_split_port(struct inv_parser *p, char *pat, struct inv_kvlist *vars)
{
	char *c, *colon = NULL;
	int depth = 0, n = 0;

	for (c = pat; *c != '\0'; c++) {
		if (*c == '[' || *c == ']')
			depth += *c == '[' ? 1 : -1;
		else if (*c == ':' && depth == 0) {
			colon = c;
			n++;
		}
	}
	if (n != 1 || colon[1] == '\0' ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return 0;
	*colon = '\0';
	inv_kv_add_at(p, vars, "ansible_port", colon + 1, p->line);
	return inv_kv_check(p, "ansible_port", colon + 1, p->line);
}

/* Host name into group p->cur; its index in *hi. */
static int
add_member(struct inv_parser *p, const char *name, size_t *hi)
{
	struct inventory *inv = p->inv;

	if (*name == '\0')
		return inv_perr(p, ERR_PARSE, p->line, "empty host name");
	*hi = inv_entry_get(inv, name, p->line);
	if (inv->hosts[*hi].file == NULL)
		inv->hosts[*hi].file = p->fname;
	if (!pairset_add(&p->seen, p->cur, *hi)) {
		if (p->yaml)
			return 0;	/* a group may be written twice */
		return inv_perr(p, ERR_PARSE, p->line,
		    "host %.64s is listed twice in [%s]", name,
		    inv->groups[p->cur].name);
	}
	if (p->nmem >= INV_MAX_MEMBERS)
		return inv_perr(p, ERR_TOOBIG, p->line, "more than %d hosts in "
		    "groups", INV_MAX_MEMBERS);
	p->mem = inv_grow(p->mem, &p->capmem, p->nmem, sizeof(*p->mem));
	p->mem[p->nmem].group = p->cur;
	p->mem[p->nmem].host = *hi;
	p->mem[p->nmem].file = p->fname;
	p->mem[p->nmem++].line = p->line;
	inv_entry_add_group(&inv->hosts[*hi], p->cur);
	return 0;
}

int
invini_add_hosts(struct inv_parser *p, const struct hostpat *pt,
    const struct inv_kvlist *vars)
{
	const struct inv_kv *kv;
	struct inv_entry *h;
	char *name;
	size_t k, j, hi = 0;
	int r = 0;

	name = xmalloc(pt->maxlen + 1);
	for (k = 0; k < pt->total && r == 0; k++) {
		hostpat_name(pt, k, name);
		if ((r = add_member(p, name, &hi)) != 0)
			break;
		h = &p->inv->hosts[hi];
		for (j = 0; j < vars->n; j++) {
			kv = &vars->v[j];
			inv_kv_add_at(p, &h->vars, kv->key, kv->val,
			    kv->line)->flags = kv->flags;
		}
	}
	free(name);
	return r;
}

static int
parse_hostline(struct inv_parser *p, char *s)
{
	struct inv_kvlist vars = { 0 };
	struct hostpat pt = { 0 };
	char *pat = NULL;
	size_t pos = 0;
	int r;

	if ((r = invlex_word(p, s, &pos, 0, &pat)) <= 0)
		goto out;
	if ((r = invini_split_port(p, pat, &vars)) != 0 ||
	    (r = parse_hostvars(p, s, &pos, &vars)) != 0 ||
	    (r = hostpat_parse(p, pat, &pt)) != 0)
		goto out;
	r = invini_add_hosts(p, &pt, &vars);
 out:
	hostpat_free(&pt);
	inv_kv_free(&vars);
	free(pat);
	return r;
}

static int
parse_line(struct inv_parser *p, char *s)
{
	s += strspn(s, " \t");
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return parse_header(p, s);
	switch (p->sec) {
	case SEC_VARS:
		return parse_var(p, s);
	case SEC_CHILDREN:
		return parse_child(p, s);
	default:
		return parse_hostline(p, s);
	}
}

/* Bounds and forbidden bytes of the line at s; drops a final CR. */
static int
check_line(struct inv_parser *p, const char *s, size_t *n)
{
	size_t i;

	if (*n > INV_MAX_LINE)
		return inv_perr(p, ERR_TOOBIG, p->line,
		    "line longer than %d bytes", INV_MAX_LINE);
	if (*n > 0 && s[*n - 1] == '\r')
		(*n)--;
	for (i = 0; i < *n; i++) {
		if (s[i] == '\0')
			return inv_perr(p, ERR_PARSE, p->line, "NUL byte");
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return inv_perr(p, ERR_PARSE, p->line,
			    "control character 0x%02x", (unsigned char)s[i]);
	}
	return 0;
}

int
invini_parse(struct inv_parser *p, const char *text, size_t len)
{
	const char *nl;
	char *line;
	size_t off = 0, n, next;
	int r = 0;

	while (off < len && r == 0) {
		p->line++;
		nl = memchr(text + off, '\n', len - off);
		n = nl != NULL ? (size_t)(nl - text) - off : len - off;
		next = off + n + 1;
		if ((r = check_line(p, text + off, &n)) != 0)
			break;
		line = xstrndup(text + off, n);
		r = parse_line(p, line);
		free(line);
		off = next;
	}
	return r;
}
