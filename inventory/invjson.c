/*
 * invjson.c: the first pass over a JSON inventory (see inventory_int.h),
 * as Ansible's script inventory plugin reads an inventory script's
 * output, which "ansible-inventory --list" also prints:
 *
 *   { "GROUP": { "hosts": [...], "vars": {...}, "children": [...] },
 *     "GROUP": [ "host", ... ],
 *     "_meta": { "hostvars": { "host": { "var": value } } } }
 *
 * A group object with none of hosts, vars and children is, as in
 * Ansible, the variables of a host named like the group.  Without
 * "_meta", each host's variables come from the caller (an inventory
 * script's --host NAME).  Host variables of hosts in no group are
 * ignored, as Ansible ignores them.  Values are kept as text: strings
 * as they are, true and false as "true" and "false", numbers as
 * written (a real in its shortest round-trip form), arrays and objects
 * as compact JSON; null is unset, hiding what a group sets.  Group
 * names are resolved by invresolve.c; JSON has no lines, so its errors
 * name the JSON path: "FILE: .pem_agents.hosts[3]: what".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/inventory_int.h"

#define JSON_MAX_MEMBERS	200000		/* memberships, as invini.c */

struct jctx {
	const char *text;
	size_t len;
	invjson_hostvars_fn *hv;
	void *hvctx;
};

/* --- paths, values --- */

/* base.key, or base["key"] when key is not a plain name. */
static char *
jpath_key(const char *base, const char *key)
{
	const char *c;
	char *q, *res;
	struct strbuf b;

	for (c = key; *c != '\0'; c++) {
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			break;
	}
	if (*key != '\0' && *c == '\0')
		return xasprintf("%s.%s", base, key);
	strbuf_init(&b);
	strbuf_add_json(&b, key);
	q = strbuf_steal(&b);
	res = xasprintf("%s[%s]", base, q);
	free(q);
	return res;
}

static const char *
jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* A real as its shortest text that reads back the same (a ".0" added). */
static char *
real_text(double d)
{
	char buf[64];
	int prec;

	for (prec = 1; prec < 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	snprintf(buf, sizeof(buf), "%.*g", prec, d);
	if (strpbrk(buf, ".eEni") == NULL)
		return xasprintf("%s.0", buf);
	return xstrdup(buf);
}

/* v as the text pemrotate keeps; NULL for null. */
static char *
value_text(const json_t *v)
{
	char *s;

	switch (json_typeof(v)) {
	case JSON_NULL: return NULL;
	case JSON_STRING: return xstrdup(json_string_value(v));
	case JSON_TRUE: return xstrdup("true");
	case JSON_FALSE: return xstrdup("false");
	case JSON_INTEGER:
		return xasprintf("%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
	case JSON_REAL: return real_text(json_real_value(v));
	default:
		if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
			fatal_nomem();
		return s;
	}
}

/* --- groups, hosts, variables --- */

/* Names: not empty, no control characters. */
static int
check_name(struct inv_parser *p, const char *path, const char *what,
    const char *name)
{
	char *shown;
	int r;

	if (*name == '\0')
		return inv_perr(p, ERR_PARSE, 0, "%s: empty %s name", path,
		    what);
	if (!str_has_ctrl(name))
		return 0;
	shown = str_printable(name, 64);
	r = inv_perr(p, ERR_PARSE, 0, "%s: control character in %s name "
	    "\"%s\"", path, what, shown);
	free(shown);
	return r;
}

/* The variables of object vars (at path) into l. */
static int
add_vars(struct inv_parser *p, const char *path, const json_t *vars,
    struct inv_kvlist *l)
{
	const char *key;
	json_t *v;
	char *val, *at;
	long port;
	int r = 0;

	if (!json_is_object(vars))
		return inv_perr(p, ERR_PARSE, 0, "%s: expected an object of "
		    "variables, got %s", path, jtype(vars));
	json_object_foreach((json_t *)vars, key, v) {
		val = value_text(v);
		if (strcmp(key, "ansible_port") == 0 && val != NULL &&
		    !str_to_posint(val, 65535, &port)) {
			at = jpath_key(path, key);
			r = inv_perr(p, ERR_PARSE, 0, "%s: \"%.64s\" is not a "
			    "port number (1-65535)", at, val);
			free(at);
		} else
			inv_kv_add_at(p, l, key, val, 0);
		free(val);
		if (r != 0)
			break;
	}
	return r;
}

/* Host name (at path) in group gi; twice in one group is once. */
static int
add_member(struct inv_parser *p, const char *path, const char *name,
    size_t gi)
{
	struct inventory *inv = p->inv;
	size_t hi;
	int r;

	if ((r = check_name(p, path, "host", name)) != 0)
		return r;
	hi = inv_entry_get(inv, name, 0);
	if (!pairset_add(&p->seen, gi, hi))
		return 0;
	if (p->nmem >= JSON_MAX_MEMBERS)
		return inv_perr(p, ERR_TOOBIG, 0, "%s: more than %d hosts in "
		    "groups", path, JSON_MAX_MEMBERS);
	p->mem = inv_grow(p->mem, &p->capmem, p->nmem, sizeof(*p->mem));
	p->mem[p->nmem].group = gi;
	p->mem[p->nmem].host = hi;
	p->mem[p->nmem].file = p->fname;
	p->mem[p->nmem++].line = 0;
	inv_entry_add_group(&inv->hosts[hi], gi);
	return 0;
}

/* The elements of array a at path: each a string, handed to fn. */
static int
each_name(struct inv_parser *p, const char *path, const json_t *a,
    const char *what, size_t gi,
    int (*fn)(struct inv_parser *, const char *, const char *, size_t))
{
	const json_t *v;
	size_t i;
	char *at;
	int r = 0;

	if (!json_is_array(a))
		return inv_perr(p, ERR_PARSE, 0, "%s: expected a list of %s "
		    "names, got %s", path, what, jtype(a));
	json_array_foreach(a, i, v) {
		at = xasprintf("%s[%zu]", path, i);
		if (!json_is_string(v))
			r = inv_perr(p, ERR_PARSE, 0, "%s: expected a %s name "
			    "(a string), got %s", at, what, jtype(v));
		else
			r = fn(p, at, json_string_value(v), gi);
		free(at);
		if (r != 0)
			break;
	}
	return r;
}

/* Group gi (a new name) exists: JSON defines every group it names. */
static size_t
define_group(struct inv_parser *p, const char *name)
{
	size_t gi = inv_group_get(p->inv, name);

	if (p->inv->groups[gi].defined == 0)
		p->inv->groups[gi].defined = -1;
	return gi;
}

/* A children entry: parent gi, child name, resolved by invresolve. */
static int
add_child(struct inv_parser *p, const char *path, const char *name,
    size_t gi)
{
	struct inv_edge *e;
	int r;

	if ((r = check_name(p, path, "group", name)) != 0)
		return r;
	if (strcmp(name, "all") == 0)
		return inv_perr(p, ERR_PARSE, 0, "%s: group all cannot be a "
		    "child", path);
	define_group(p, name);
	p->edges = inv_grow(p->edges, &p->capedges, p->nedges,
	    sizeof(*p->edges));
	e = &p->edges[p->nedges++];
	e->parent = gi;
	e->childname = xstrdup(name);
	e->file = p->fname;
	e->line = 0;
	return 0;
}

/* Group object g (at path): hosts, vars, children; other keys ignored. */
static int
group_object(struct inv_parser *p, const char *path, size_t gi,
    const json_t *g)
{
	const json_t *v;
	char *at;
	int r = 0;

	if ((v = json_object_get(g, "hosts")) != NULL) {
		at = jpath_key(path, "hosts");
		r = each_name(p, at, v, "host", gi, add_member);
		free(at);
	}
	if (r == 0 && (v = json_object_get(g, "vars")) != NULL) {
		at = jpath_key(path, "vars");
		r = add_vars(p, at, v, &p->inv->groups[gi].vars);
		free(at);
	}
	if (r == 0 && (v = json_object_get(g, "children")) != NULL) {
		at = jpath_key(path, "children");
		r = each_name(p, at, v, "group", gi, add_child);
		free(at);
	}
	return r;
}

static int
parse_group(struct inv_parser *p, const char *name, const json_t *g)
{
	struct inventory *inv = p->inv;
	size_t gi, hi;
	char *path;
	int r;

	path = jpath_key("", name);
	if ((r = check_name(p, path, "group", name)) != 0)
		goto out;
	gi = define_group(p, name);
	if (json_is_array(g))
		r = each_name(p, path, g, "host", gi, add_member);
	else if (!json_is_object(g))
		r = inv_perr(p, ERR_PARSE, 0, "%s: expected a group (an "
		    "object) or a list of hosts, got %s", path, jtype(g));
	else if (json_object_get(g, "hosts") == NULL &&
	    json_object_get(g, "vars") == NULL &&
	    json_object_get(g, "children") == NULL) {
		/* Ansible: a host named like the group, with these vars */
		if ((r = add_member(p, path, name, gi)) == 0) {
			strmap_get(&inv->hostmap, name, &hi);
			r = add_vars(p, path, g, &inv->hosts[hi].vars);
		}
	} else
		r = group_object(p, path, gi, g);
 out:
	free(path);
	return r;
}

/* --- host variables --- */

/* Variables of host hi from text hv printed for it (--host NAME). */
static int
hostvars_text(struct inv_parser *p, struct jctx *c, size_t hi)
{
	struct inv_entry *h = &p->inv->hosts[hi];
	json_error_t e;
	json_t *v = NULL;
	char *text = NULL, *what = NULL;
	size_t len = 0;
	int r;

	if ((r = c->hv(c->hvctx, h->name, &text, &len, &what)) != 0) {
		free(*p->msg);
		*p->msg = what;
		goto out;
	}
	if (strspn(text, " \t\r\n") == len)
		goto out;
	if ((v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e)) == NULL) {
		what = str_printable(e.text, sizeof(e.text));
		r = inv_perr(p, ERR_PARSE, 0, "--host %s: line %d: bad JSON: "
		    "%s (column %d)", h->name, e.line, what, e.column);
		free(what);
		goto out;
	}
	what = xasprintf("--host %s", h->name);
	r = add_vars(p, what, v, &h->vars);
	free(what);
 out:
	json_decref(v);
	free(text);
	return r;
}

/* _meta.hostvars (at path), or each host's --host output. */
static int
parse_hostvars(struct inv_parser *p, struct jctx *c, const json_t *meta)
{
	const json_t *hv = NULL, *v;
	char *at;
	size_t i;
	int r = 0;

	if (meta != NULL && !json_is_object(meta))
		return inv_perr(p, ERR_PARSE, 0, "._meta: expected an object, "
		    "got %s", jtype(meta));
	if (meta != NULL && (hv = json_object_get(meta, "hostvars")) != NULL &&
	    !json_is_object(hv))
		return inv_perr(p, ERR_PARSE, 0, "._meta.hostvars: expected "
		    "an object, got %s", jtype(hv));
	for (i = 0; i < p->inv->nhosts && r == 0; i++) {
		if (hv == NULL) {
			if (c->hv != NULL)
				r = hostvars_text(p, c, i);
			continue;
		}
		if ((v = json_object_get(hv, p->inv->hosts[i].name)) == NULL)
			continue;
		at = jpath_key("._meta.hostvars", p->inv->hosts[i].name);
		r = add_vars(p, at, v, &p->inv->hosts[i].vars);
		free(at);
	}
	return r;
}

/* --- the pass --- */

static int
parse_root(struct inv_parser *p, struct jctx *c, const json_t *root)
{
	const json_t *meta = NULL, *g;
	const char *name;
	int r = 0;

	if (!json_is_object(root))
		return inv_perr(p, ERR_PARSE, 0, "expected a JSON object of "
		    "groups (Ansible's inventory script format), got %s",
		    jtype(root));
	json_object_foreach((json_t *)root, name, g) {
		if (strcmp(name, "_meta") == 0)
			meta = g;
		else if ((r = parse_group(p, name, g)) != 0)
			return r;
	}
	return parse_hostvars(p, c, meta);
}

static int
json_pass(struct inv_parser *p, void *ctx)
{
	struct jctx *c = ctx;
	json_error_t e;
	json_t *root;
	char *what;
	int r;

	if (c->len > 0 && memchr(c->text, '\0', c->len) != NULL)
		return inv_perr(p, ERR_PARSE, 0, "NUL byte in JSON");
	root = json_loadb(c->text, c->len, JSON_REJECT_DUPLICATES, &e);
	if (root == NULL) {
		what = str_printable(e.text, sizeof(e.text));
		r = inv_perr(p, ERR_PARSE, e.line > 0 ? e.line : 1,
		    "bad JSON: %s (column %d)", what, e.column);
		free(what);
		return r;
	}
	r = parse_root(p, c, root);
	json_decref(root);
	return r;
}

static int
json_pass_nolines(struct inv_parser *p, void *ctx)
{
	p->line = -1;	/* JSON has no line to name in later messages */
	return json_pass(p, ctx);
}

int
invjson_pass(struct inv_parser *p, const char *text, size_t len,
    invjson_hostvars_fn *hv, void *ctx)
{
	struct jctx c = { text, len, hv, ctx };

	p->line = -1;	/* JSON has no line to name in later messages */
	return json_pass(p, &c);
}

int
invjson_parse(const char *text, size_t len, const char *fname,
    invjson_hostvars_fn *hv, void *ctx, struct inventory **out, char **msg)
{
	struct jctx c = { text, len, hv, ctx };

	return inv_parse_with(fname, json_pass_nolines, &c, out, msg);
}

int
inventory_parse_json(const char *text, size_t len, const char *fname,
    struct inventory **out, char **msg)
{
	return invjson_parse(text, len, fname, NULL, NULL, out, msg);
}
