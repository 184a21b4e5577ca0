/*
 * invyaml.c: the first pass over a YAML inventory (Ansible's yaml
 * plugin: groups as keys, each a mapping of hosts:, vars:, children:,
 * children nested the same way), and the YAML of host_vars/ and
 * group_vars/ files.  libyaml loads the document; this file walks it and
 * records what invini.c records for an INI file.
 *
 * Values: a scalar is kept as its text, a null (empty, ~, null) as NULL
 * (unset, hiding lower definitions), a sequence or mapping as its JSON
 * text (pemrotate uses none).  "!vault" is flagged KV_VAULT (never read:
 * invresolve.c refuses it where pemrotate would use it), "!unsafe"
 * KV_UNSAFE.  Where Ansible only warns (an unknown key in a group, a
 * group that is not a mapping) this is an error: a typo must not drop
 * hosts.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/inventory_int.h"

#define YAML_MAX_DEPTH	64		/* nested groups, values */
#define YAML_MAX_WORK	(1000 * 1000)	/* nodes walked, aliases counted */

struct yw {
	struct inv_parser *p;
	yaml_document_t doc;
	size_t work;
	int nlines;		/* the text's lines, as libyaml counts */
};

/*
 * n's line, never past the text's last: libyaml puts an empty node at
 * the end of a text (an empty document, a key without a value) on the
 * line after it.
 */
static int
yline(const struct yw *w, const yaml_node_t *n)
{
	int line = (int)n->start_mark.line + 1;

	return w->nlines > 0 && line > w->nlines ? w->nlines : line;
}

/* Count one node walked; fails on depth or on an alias bomb. */
static int
ywork(struct yw *w, const yaml_node_t *n, int depth)
{
	if (depth > YAML_MAX_DEPTH)
		return inv_perr(w->p, ERR_PARSE, yline(w, n), "YAML nested more "
		    "than %d deep", YAML_MAX_DEPTH);
	if (++w->work > YAML_MAX_WORK)
		return inv_perr(w->p, ERR_TOOBIG, yline(w, n), "YAML expands to "
		    "more than %d nodes", YAML_MAX_WORK);
	return 0;
}

static yaml_node_t *
ynode(struct yw *w, int id)
{
	return yaml_document_get_node(&w->doc, id);
}

static const char *
ytext(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int
ytag(const yaml_node_t *n, const char *tag)
{
	return n->tag != NULL && strcmp((const char *)n->tag, tag) == 0;
}

/* 1 if n is a YAML null: empty, ~ or null unquoted, or tagged !!null. */
static int
ynull(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null",
	    "NULL" };
	size_t i;

	if (n->type != YAML_SCALAR_NODE)
		return 0;
	if (ytag(n, YAML_NULL_TAG))
		return 1;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    !ytag(n, YAML_DEFAULT_SCALAR_TAG))
		return 0;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		if (strcmp(ytext(n), nulls[i]) == 0)
			return 1;
	}
	return 0;
}

static int yflow(struct yw *w, const yaml_node_t *n, int depth,
    struct strbuf *b);

static int
yflow_seq(struct yw *w, const yaml_node_t *n, int depth, struct strbuf *b)
{
	yaml_node_item_t *it;
	int r = 0;

	strbuf_adds(b, "[");
	for (it = n->data.sequence.items.start;
	    it < n->data.sequence.items.top && r == 0; it++) {
		if (it > n->data.sequence.items.start)
			strbuf_adds(b, ", ");
		r = yflow(w, ynode(w, *it), depth + 1, b);
	}
	strbuf_adds(b, "]");
	return r;
}

static int
yflow_map(struct yw *w, const yaml_node_t *n, int depth, struct strbuf *b)
{
	yaml_node_pair_t *pr;
	int r = 0;

	strbuf_adds(b, "{");
	for (pr = n->data.mapping.pairs.start;
	    pr < n->data.mapping.pairs.top && r == 0; pr++) {
		if (pr > n->data.mapping.pairs.start)
			strbuf_adds(b, ", ");
		if ((r = yflow(w, ynode(w, pr->key), depth + 1, b)) != 0)
			break;
		strbuf_adds(b, ": ");
		r = yflow(w, ynode(w, pr->value), depth + 1, b);
	}
	strbuf_adds(b, "}");
	return r;
}

/* The canonical (JSON) text of n. */
static int
yflow(struct yw *w, const yaml_node_t *n, int depth, struct strbuf *b)
{
	int r;

	if ((r = ywork(w, n, depth)) != 0)
		return r;
	if (n->type == YAML_SEQUENCE_NODE)
		return yflow_seq(w, n, depth, b);
	if (n->type == YAML_MAPPING_NODE)
		return yflow_map(w, n, depth, b);
	if (ynull(n))
		strbuf_adds(b, "null");
	else
		strbuf_add_json(b, ytext(n));
	return 0;
}

/* A variable's value: text, NULL for null, flags for !vault, !unsafe. */
static int
yvalue(struct yw *w, const yaml_node_t *n, char **val, int *flags)
{
	struct strbuf b;
	int r;

	*val = NULL;
	*flags = 0;
	if (ytag(n, "!vault")) {
		*flags = KV_VAULT;
		return 0;
	}
	if (ytag(n, "!unsafe"))
		*flags = KV_UNSAFE;
	if (n->type == YAML_SCALAR_NODE) {
		if (!ynull(n))
			*val = xstrdup(ytext(n));
		return 0;
	}
	strbuf_init(&b);
	if ((r = yflow(w, n, 0, &b)) != 0) {
		strbuf_free(&b);
		return r;
	}
	*val = strbuf_steal(&b);
	return 0;
}

/* The key of a mapping pair: a scalar, not a merge key. */
static int
ykey(struct yw *w, const yaml_node_t *k, const char *what,
    const char **name)
{
	if (k->type != YAML_SCALAR_NODE)
		return inv_perr(w->p, ERR_PARSE, yline(w, k), "%s must be a "
		    "scalar, not a %s", what, k->type == YAML_MAPPING_NODE ?
		    "mapping" : "sequence");
	if (strcmp(ytext(k), "<<") == 0 &&
	    k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return inv_perr(w->p, ERR_PARSE, yline(w, k), "YAML merge keys "
		    "(<<) are not supported");
	*name = ytext(k);
	return 0;
}

/* The pairs of mapping n (a variable's name: value) appended to l. */
static int
yvars(struct yw *w, const yaml_node_t *n, struct inv_kvlist *l)
{
	const yaml_node_pair_t *pr;
	const yaml_node_t *k;
	const char *name;
	char *val;
	int r = 0, flags;

	for (pr = n->data.mapping.pairs.start;
	    pr < n->data.mapping.pairs.top && r == 0; pr++) {
		k = ynode(w, pr->key);
		if ((r = ykey(w, k, "a variable name", &name)) != 0 ||
		    (r = yvalue(w, ynode(w, pr->value), &val, &flags)) != 0)
			break;
		if (*name == '\0')
			r = inv_perr(w->p, ERR_PARSE, yline(w, k),
			    "empty variable name");
		else if ((r = inv_kv_check(w->p, name, val, yline(w, k))) == 0)
			inv_kv_add_at(w->p, l, name, val, yline(w, k))->flags =
			    flags;
		free(val);
	}
	return r;
}

/* One "pattern: vars" of a group's hosts: the hosts added to group gi. */
static int
yhost(struct yw *w, size_t gi, const yaml_node_t *k, const yaml_node_t *v)
{
	struct inv_kvlist vars = { 0 };
	struct hostpat pt = { 0 };
	const char *name;
	char *pat = NULL;
	int r;

	if ((r = ykey(w, k, "a host name", &name)) != 0)
		return r;
	w->p->line = yline(w, k);
	w->p->cur = gi;
	pat = xstrdup(name);
	if (!ynull(v) && v->type != YAML_MAPPING_NODE)
		r = inv_perr(w->p, ERR_PARSE, yline(w, v), "host %.64s: expected "
		    "a mapping of variables or nothing", pat);
	else if ((r = invini_split_port(w->p, pat, &vars)) == 0 &&
	    (v->type != YAML_MAPPING_NODE || (r = yvars(w, v, &vars)) == 0) &&
	    (r = hostpat_parse(w->p, pat, &pt)) == 0) {
		w->p->line = yline(w, k);
		r = invini_add_hosts(w->p, &pt, &vars);
	}
	hostpat_free(&pt);
	inv_kv_free(&vars);
	free(pat);
	return r;
}

static int ygroup(struct yw *w, const yaml_node_t *k, const yaml_node_t *v,
    int depth, size_t *gi);

/* Group gi's children: each a group, and a children edge. */
static int
ychild(struct yw *w, size_t gi, const yaml_node_t *k, const yaml_node_t *v,
    int depth)
{
	struct inv_parser *p = w->p;
	struct inv_edge *e;
	size_t ci;
	int r;

	if ((r = ygroup(w, k, v, depth + 1, &ci)) != 0)
		return r;
	p->edges = inv_grow(p->edges, &p->capedges, p->nedges,
	    sizeof(*p->edges));
	e = &p->edges[p->nedges++];
	e->parent = gi;
	e->childname = xstrdup(p->inv->groups[ci].name);
	e->file = p->fname;
	e->line = yline(w, k);
	return 0;
}

/*
 * Section sec (hosts, children, vars) of group gi: a mapping, or a
 * single name (as Ansible takes it: {name: null}).
 */
static int
ysection(struct yw *w, size_t gi, const char *sec, const yaml_node_t *v,
    int depth)
{
	yaml_node_t nk, nv;
	const yaml_node_pair_t *pr;
	int r = 0;

	if (v->type == YAML_SCALAR_NODE) {
		memset(&nv, 0, sizeof(nv));
		nk = *v;
		nv.type = YAML_SCALAR_NODE;
		nv.tag = (yaml_char_t *)YAML_NULL_TAG;
		nv.data.scalar.value = (yaml_char_t *)"";
		nv.start_mark = v->start_mark;
		if (strcmp(sec, "hosts") == 0)
			return yhost(w, gi, &nk, &nv);
		if (strcmp(sec, "children") == 0)
			return ychild(w, gi, &nk, &nv, depth);
		inv_kv_add_at(w->p, &w->p->inv->groups[gi].vars, ytext(v),
		    NULL, yline(w, v));
		return 0;
	}
	if (v->type != YAML_MAPPING_NODE)
		return inv_perr(w->p, ERR_PARSE, yline(w, v), "\"%s\" of group %s "
		    "must be a mapping, not a sequence", sec,
		    w->p->inv->groups[gi].name);
	if (strcmp(sec, "vars") == 0)
		return yvars(w, v, &w->p->inv->groups[gi].vars);
	for (pr = v->data.mapping.pairs.start;
	    pr < v->data.mapping.pairs.top && r == 0; pr++) {
		if (strcmp(sec, "hosts") == 0)
			r = yhost(w, gi, ynode(w, pr->key),
			    ynode(w, pr->value));
		else
			r = ychild(w, gi, ynode(w, pr->key),
			    ynode(w, pr->value), depth);
	}
	return r;
}

/* The body of group gi: a mapping of hosts, vars, children. */
static int
ybody(struct yw *w, size_t gi, const yaml_node_t *v, int depth)
{
	const yaml_node_pair_t *pr;
	const yaml_node_t *k, *sv;
	const char *sec;
	int r = 0;

	for (pr = v->data.mapping.pairs.start;
	    pr < v->data.mapping.pairs.top && r == 0; pr++) {
		k = ynode(w, pr->key);
		sv = ynode(w, pr->value);
		if ((r = ykey(w, k, "a group's key", &sec)) != 0)
			break;
		if (strcmp(sec, "hosts") != 0 && strcmp(sec, "vars") != 0 &&
		    strcmp(sec, "children") != 0)
			r = inv_perr(w->p, ERR_PARSE, yline(w, k), "unexpected "
			    "key \"%.64s\" in group %s (only hosts, vars and "
			    "children)", sec, w->p->inv->groups[gi].name);
		else if (!ynull(sv))
			r = ysection(w, gi, sec, sv, depth);
	}
	return r;
}

/* Group k (its name) with body v; its index in *gi. */
static int
ygroup(struct yw *w, const yaml_node_t *k, const yaml_node_t *v, int depth,
    size_t *gi)
{
	struct inv_group *g;
	const char *name;
	int r;

	if ((r = ywork(w, v, depth)) != 0 ||
	    (r = ykey(w, k, "a group name", &name)) != 0)
		return r;
	if (!invlex_group_name(name))
		return inv_perr(w->p, ERR_PARSE, yline(w, k), "bad group name "
		    "\"%.64s\"", name);
	*gi = inv_group_get(w->p->inv, name);
	g = &w->p->inv->groups[*gi];
	if (g->defined == 0) {
		g->defined = yline(w, k);
		g->file = w->p->fname;
	}
	if (ynull(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return inv_perr(w->p, ERR_PARSE, yline(w, v), "group %s: expected "
		    "a mapping (hosts, vars, children) or nothing", name);
	return ybody(w, *gi, v, depth);
}

/*
 * The lines of text as libyaml counts them (CR LF, CR, LF, NEL, LS and PS
 * end a line), an unterminated last one included.
 */
static int
ylines(const char *text, size_t len)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t i;
	int n = 1;

	for (i = 0; i < len && n < INT_MAX; i++) {
		if (t[i] == '\r')
			n += i + 1 >= len || t[i + 1] != '\n';
		else if (t[i] == '\n')
			n++;
		else if (t[i] == 0xc2 && i + 1 < len && t[i + 1] == 0x85)
			n++;
		else if (t[i] == 0xe2 && i + 2 < len && t[i + 1] == 0x80 &&
		    (t[i + 2] == 0xa8 || t[i + 2] == 0xa9))
			n++;
	}
	return n;
}

/*
 * The line of a libyaml error: at the end of a text without a final line
 * break libyaml's mark is on a line after the last, which is named instead.
 */
static int
yerrline(const yaml_mark_t *m, const char *text, size_t len)
{
	int n = ylines(text, len);

	return m->line + 1 > (size_t)n ? n : (int)m->line + 1;
}

/* Load the one document of text into w->doc; *root NULL if empty. */
static int
yload(struct yw *w, const char *text, size_t len, yaml_node_t **root)
{
	yaml_parser_t yp;
	yaml_document_t more;
	int r = 0;

	w->nlines = ylines(text, len);
	yaml_parser_initialize(&yp);
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	/* as Ansible reads it: UTF-16 is not taken (its lines differ too) */
	yaml_parser_set_encoding(&yp, YAML_UTF8_ENCODING);
	if (!yaml_parser_load(&yp, &w->doc)) {
		r = inv_perr(w->p, ERR_PARSE, yerrline(&yp.problem_mark, text,
		    len), "YAML: %s%s%s", yp.problem ? yp.problem : "error",
		    yp.context ? " " : "", yp.context ? yp.context : "");
		memset(&w->doc, 0, sizeof(w->doc));
		goto out;
	}
	*root = yaml_document_get_root_node(&w->doc);
	if (*root == NULL)
		goto out;
	if (!yaml_parser_load(&yp, &more))
		r = inv_perr(w->p, ERR_PARSE, yerrline(&yp.problem_mark, text,
		    len), "YAML: %s", yp.problem ? yp.problem : "error");
	else {
		if (yaml_document_get_root_node(&more) != NULL)
			r = inv_perr(w->p, ERR_PARSE, (int)more.start_mark.line
			    + 1, "more than one YAML document");
		yaml_document_delete(&more);
	}
 out:
	yaml_parser_delete(&yp);
	return r;
}

static void
yfree(struct yw *w)
{
	yaml_document_delete(&w->doc);
}

int
invyaml_sniff(const char *text, size_t len)
{
	struct inv_parser p = { 0 };
	struct yw w = { .p = &p };
	yaml_node_t *root = NULL;
	char *msg = NULL;
	int yes;

	p.msg = &msg;
	yes = yload(&w, text, len, &root) == 0 && root != NULL &&
	    root->type == YAML_MAPPING_NODE;
	yfree(&w);
	free(msg);
	return yes;
}

/* The top level: groups, and no "plugin:" key. */
static int
ytop(struct yw *w, const yaml_node_t *root)
{
	const yaml_node_pair_t *pr;
	const yaml_node_t *k;
	size_t gi;
	int r = 0;

	for (pr = root->data.mapping.pairs.start;
	    pr < root->data.mapping.pairs.top && r == 0; pr++) {
		k = ynode(w, pr->key);
		if (k->type == YAML_SCALAR_NODE &&
		    strcmp(ytext(k), "plugin") == 0)
			return inv_perr(w->p, ERR_PARSE, yline(w, k), "an "
			    "inventory plugin's configuration, not an "
			    "inventory: pemrotate runs no inventory plugin");
	}
	for (pr = root->data.mapping.pairs.start;
	    pr < root->data.mapping.pairs.top && r == 0; pr++)
		r = ygroup(w, ynode(w, pr->key), ynode(w, pr->value), 0, &gi);
	return r;
}

int
invyaml_parse(struct inv_parser *p, const char *text, size_t len)
{
	struct yw w = { .p = p };
	yaml_node_t *root = NULL;
	int r;

	p->yaml = 1;
	if ((r = yload(&w, text, len, &root)) != 0)
		goto out;
	if (root == NULL)
		r = inv_perr(p, ERR_PARSE, 1, "empty YAML inventory");
	else if (root->type != YAML_MAPPING_NODE)
		r = inv_perr(p, ERR_PARSE, yline(&w, root), "a YAML inventory "
		    "must be a mapping of groups");
	else
		r = ytop(&w, root);
	/* the last line, for a message about the whole file */
	p->line = root == NULL ? 1 : (int)root->end_mark.line +
	    (root->end_mark.column > 0);
	if (p->line > ylines(text, len))
		p->line = ylines(text, len);
 out:
	yfree(&w);
	return r;
}

int
invyaml_vars(struct inv_parser *p, const char *text, size_t len,
    struct inv_kvlist *l)
{
	struct yw w = { .p = p };
	yaml_node_t *root = NULL;
	int r;

	if ((r = yload(&w, text, len, &root)) != 0 || root == NULL ||
	    ynull(root))
		goto out;
	if (root->type != YAML_MAPPING_NODE)
		r = inv_perr(p, ERR_PARSE, yline(&w, root), "expected a mapping "
		    "of variables");
	else
		r = yvars(&w, root, l);
 out:
	yfree(&w);
	return r;
}
