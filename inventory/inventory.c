/*
 * inventory.c: the Ansible-style INI inventory (see inventory.h).
 *
 * Two passes.  The first walks the text a line at a time and records, in
 * file order, groups, hosts, memberships (group, host, line) and children
 * entries (parent, child name, line).  Group names used only by
 * [x:vars] or children entries are resolved in the second pass, since
 * Ansible allows them before the group's own section.  The second pass
 * reports unknown groups and cycles, orders the groups (Kahn), finds the
 * hosts of pem_server and pem_agents (directly or through children) and
 * gives each of those hosts its ordered list of groups.
 *
 * Variable precedence is Ansible's: the host line wins; then the vars of
 * every group the host is in, directly or as a descendant, ordered by
 * (depth, name) with the later one winning.  A top-level group has depth
 * 1, a child group one more than its deepest parent, "all" depth 0, so
 * [all:vars] loses to everything, a child group's vars beat its parent's
 * (more specific wins, as in Ansible), and between pem_agents and
 * pem_server (both depth 1) pem_server wins, by name.  Within one group or
 * one host, a later definition of a variable wins.
 *
 * Hosts and groups are found by hash table, and "same host twice in a
 * group" by a hash set of (group, host) pairs, so large estates parse in
 * linear time.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/inventory.h"

#define INV_MAX_FILE	(16 * 1024 * 1024)
#define INV_MAX_LINE	(64 * 1024)
#define INV_MAX_RANGE	100000		/* hosts from one host line */
#define INV_MAX_NAMES	(16 * 1024 * 1024) /* bytes of names from one line */
#define INV_MAX_MEMBERS	200000		/* memberships in one file */

#define G_ALL		0		/* group index of "all" */
#define G_UNGROUPED	1		/* hosts before any section */

#define PEM_SERVER	1
#define PEM_AGENT	2

struct kv {
	char *key;
	char *val;
};

struct kvlist {
	struct kv *v;
	size_t n;
	size_t cap;
};

struct group {
	char *name;
	int defined;		/* [name], [name:children] line; -1 built in */
	int vars_line;		/* line of the first [name:vars], 0 if none */
	struct kvlist vars;
	size_t *parents;	/* children entries (struct edge) naming it */
	size_t nparents;
	size_t capparents;
	int depth;
	int pem;		/* PEM_SERVER, PEM_AGENT: reached from those */
};

struct ini_host {
	char *name;
	int line;
	int pem;
	struct kvlist vars;
	size_t *groups;		/* direct groups; then all, by (depth, name) */
	size_t ngroups;
	size_t capgroups;
};

struct edge {
	size_t parent;
	size_t child;		/* resolved in the second pass */
	char *childname;
	int line;
};

struct member {
	size_t group;
	size_t host;
	int line;
};

struct strmap {
	const char **keys;	/* borrowed from the group or host */
	size_t *vals;
	size_t cap;
	size_t n;
};

struct pairset {
	uint64_t *keys;		/* (group << 32 | host) + 1; 0 is empty */
	size_t cap;
	size_t n;
};

struct inventory {
	char *path;
	struct group *groups;
	size_t ngroups;
	size_t capgroups;
	struct ini_host *hosts;
	size_t nhosts;
	size_t caphosts;
	struct strmap groupmap;
	struct strmap hostmap;
	struct inv_host *pub;	/* server first, then file order */
	size_t *pubhost;	/* index into hosts of each pub entry */
	size_t npub;
};

enum section { SEC_HOSTS, SEC_VARS, SEC_CHILDREN };

struct parser {
	struct inventory *inv;
	const char *fname;
	char *err;
	size_t errlen;
	int line;
	enum section sec;
	size_t cur;		/* group of the current section */
	struct member *mem;
	size_t nmem;
	size_t capmem;
	struct edge *edges;
	size_t nedges;
	size_t capedges;
	struct pairset seen;
	size_t *cstart;		/* children of group g: cadj[cstart[g]..] */
	size_t *cadj;
};

/* One range of a host pattern: "[01:20]", "[a:f]", "[1:10:2]". */
struct range {
	int alpha;
	long beg;
	long step;
	long count;
	int width;		/* zero-padded width, 0 if none */
};

/* A host pattern: literal text, each piece followed by a range. */
struct pattern {
	const char **lit;
	size_t *litlen;
	struct range *r;
	size_t n;		/* ranges; lit has n + 1 pieces */
	size_t total;		/* names it expands to */
	size_t maxlen;		/* longest name */
};

static const char letters[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

static int perr(struct parser *, int, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static int
perr(struct parser *p, int code, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	str_errat(p->err, p->errlen, p->fname, line, fmt, ap);
	va_end(ap);
	return code;
}

/* Make room for element n of an array of cap elements of size bytes. */
static void *
grow(void *a, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return a;
	if (*cap > SIZE_MAX / 2 / size)
		fatal_nomem();
	*cap = *cap ? *cap * 2 : 8;
	return xrealloc(a, *cap * size);
}

/* --- hash tables --- */

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
strmap_get(const struct strmap *m, const char *key, size_t *val)
{
	size_t i, mask = m->cap - 1;

	if (m->cap == 0)
		return 0;
	for (i = hash_str(key) & mask; m->keys[i] != NULL; i = (i + 1) & mask) {
		if (strcmp(m->keys[i], key) == 0) {
			*val = m->vals[i];
			return 1;
		}
	}
	return 0;
}

static void
strmap_insert(struct strmap *m, const char *key, size_t val)
{
	size_t i, mask = m->cap - 1;

	for (i = hash_str(key) & mask; m->keys[i] != NULL; i = (i + 1) & mask)
		;
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
}

/* Add key, which must not be in m yet. */
static void
strmap_put(struct strmap *m, const char *key, size_t val)
{
	struct strmap old = *m;
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		m->cap = old.cap ? old.cap * 2 : 64;
		m->keys = xcalloc(m->cap, sizeof(*m->keys));
		m->vals = xcalloc(m->cap, sizeof(*m->vals));
		m->n = 0;
		for (i = 0; i < old.cap; i++) {
			if (old.keys[i] != NULL)
				strmap_insert(m, old.keys[i], old.vals[i]);
		}
		free(old.keys);
		free(old.vals);
	}
	strmap_insert(m, key, val);
}

static void
strmap_free(struct strmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static int
pairset_insert(struct pairset *s, uint64_t key)
{
	size_t i, mask = s->cap - 1;

	for (i = (key * 0x9e3779b97f4a7c15ULL) >> 20 & mask; s->keys[i] != 0;
	    i = (i + 1) & mask) {
		if (s->keys[i] == key)
			return 0;
	}
	s->keys[i] = key;
	s->n++;
	return 1;
}

/* 1 if (a, b) was added, 0 if it was there already. */
static int
pairset_add(struct pairset *s, size_t a, size_t b)
{
	struct pairset old = *s;
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		s->cap = old.cap ? old.cap * 2 : 256;
		s->keys = xcalloc(s->cap, sizeof(*s->keys));
		s->n = 0;
		for (i = 0; i < old.cap; i++) {
			if (old.keys[i] != 0)
				pairset_insert(s, old.keys[i]);
		}
		free(old.keys);
	}
	return pairset_insert(s, ((uint64_t)a << 32 | (uint64_t)b) + 1);
}

/* --- variables, groups, hosts --- */

static void
kv_add(struct kvlist *l, const char *key, const char *val)
{
	l->v = grow(l->v, &l->cap, l->n, sizeof(*l->v));
	l->v[l->n].key = xstrdup(key);
	l->v[l->n].val = xstrdup(val);
	l->n++;
}

/* The last value of key in l, or NULL. */
static const char *
kv_find(const struct kvlist *l, const char *key)
{
	size_t i;

	for (i = l->n; i-- > 0;) {
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].val;
	}
	return NULL;
}

static void
kv_free(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].val);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static size_t
group_get(struct inventory *inv, const char *name)
{
	struct group *g;
	size_t gi;

	if (strmap_get(&inv->groupmap, name, &gi))
		return gi;
	inv->groups = grow(inv->groups, &inv->capgroups, inv->ngroups,
	    sizeof(*inv->groups));
	gi = inv->ngroups++;
	g = &inv->groups[gi];
	memset(g, 0, sizeof(*g));
	g->name = xstrdup(name);
	g->depth = 1;
	strmap_put(&inv->groupmap, g->name, gi);
	return gi;
}

static size_t
host_get(struct inventory *inv, const char *name, int line)
{
	struct ini_host *h;
	size_t hi;

	if (strmap_get(&inv->hostmap, name, &hi))
		return hi;
	inv->hosts = grow(inv->hosts, &inv->caphosts, inv->nhosts,
	    sizeof(*inv->hosts));
	hi = inv->nhosts++;
	h = &inv->hosts[hi];
	memset(h, 0, sizeof(*h));
	h->name = xstrdup(name);
	h->line = line;
	strmap_put(&inv->hostmap, h->name, hi);
	return hi;
}

static void
host_add_group(struct ini_host *h, size_t gi)
{
	h->groups = grow(h->groups, &h->capgroups, h->ngroups,
	    sizeof(*h->groups));
	h->groups[h->ngroups++] = gi;
}

/* Value of name for host h, after the precedence described on top. */
static const char *
host_lookup(const struct inventory *inv, const struct ini_host *h,
    const char *name)
{
	const char *v;
	size_t i;

	if ((v = kv_find(&h->vars, name)) != NULL)
		return v;
	for (i = h->ngroups; i-- > 0;) {
		v = kv_find(&inv->groups[h->groups[i]].vars, name);
		if (v != NULL)
			return v;
	}
	return NULL;
}

/* --- lexing --- */

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Group names: letters, digits, '_', '-', '.'. */
static int
valid_group(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && strchr("_-.", *s) == NULL)
			return 0;
	}
	return 1;
}

/* Variable names: identifiers. */
static int
valid_var(const char *s)
{
	const char *c;

	if (*s >= '0' && *s <= '9')
		return 0;
	for (c = s; *c != '\0'; c++) {
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && *c != '_')
			return 0;
	}
	return 1;
}

struct lex {
	const char *s;
	size_t i;
	char *o;
	size_t n;		/* bytes in o */
	size_t keep;		/* o[0..keep) ends with a non-blank */
	char q;			/* open quote, or 0 */
};

static void
lex_put(struct lex *l, char c, int solid)
{
	l->o[l->n++] = c;
	if (solid)
		l->keep = l->n;
}

/* A backslash at l->i.  Returns -1 if nothing follows it. */
static int
lex_escape(struct lex *l)
{
	char c = l->s[l->i + 1];

	if (l->q == '"' && c != '"' && c != '\\') {
		lex_put(l, '\\', 1);
		return 0;
	}
	if (c == '\0')
		return -1;
	lex_put(l, c, 1);
	l->i++;
	return 0;
}

/*
 * One step of the lexer.  Returns 1 at the end of the word (value: of the
 * value), 0 to go on, -1 on a backslash at the end of the line.
 */
static int
lex_step(struct lex *l, int value)
{
	char c = l->s[l->i];
	size_t t;

	if (l->q == '\'' && c != '\'')
		lex_put(l, c, 1);
	else if (c == '\\' && l->q != '\'') {
		if (lex_escape(l) != 0)
			return -1;
	} else if (l->q != 0 && c == l->q)
		l->q = 0;
	else if (l->q != 0)
		lex_put(l, c, 1);
	else if (c == '\'' || c == '"') {
		l->q = c;
		l->keep = l->n;
	} else if (is_blank(c)) {
		t = l->i + strspn(l->s + l->i, " \t");
		if (!value || l->s[t] == '#' || l->s[t] == ';')
			return 1;
		lex_put(l, c, 0);
	} else
		lex_put(l, c, 1);
	l->i++;
	return 0;
}

/*
 * Read from s at *pos, with quotes and escapes removed, one word (value
 * 0: up to an unquoted blank) or the rest of the line (value 1: inner
 * blanks kept, trailing ones dropped).  Both stop at an unquoted '#' or
 * ';' after a blank.  Returns 1 and a new string in *out, 0 if the line
 * has no more words, or ERR_PARSE.
 */
static int
lex_word(struct parser *p, const char *s, size_t *pos, int value, char **out)
{
	struct lex l = { .s = s, .i = *pos };
	int r = 0;

	l.i += strspn(s + l.i, " \t");
	if (s[l.i] == '\0' || ((s[l.i] == '#' || s[l.i] == ';') &&
	    (l.i > *pos || !value)))
		goto out;
	l.o = xmalloc(strlen(s + l.i) + 1);
	while (s[l.i] != '\0' && (r = lex_step(&l, value)) == 0)
		;
	if (r < 0)
		r = perr(p, ERR_PARSE, p->line, "backslash at end of line");
	else if (l.q != 0)
		r = perr(p, ERR_PARSE, p->line, "unterminated %c quote", l.q);
	else {
		l.o[value ? l.keep : l.n] = '\0';
		*out = l.o;
		l.o = NULL;
		r = 1;
	}
 out:
	*pos = l.i;
	free(l.o);
	return r;
}

/* --- host patterns --- */

static int
parse_num(const char *s, size_t n, long *v)
{
	size_t i;

	*v = 0;
	if (n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int
parse_bound(const char *s, size_t n, int alpha, long *v)
{
	const char *c;

	if (!alpha)
		return parse_num(s, n, v);
	if (n != 1 || s[0] == '\0' || (c = strchr(letters, s[0])) == NULL)
		return -1;
	*v = c - letters;
	return 0;
}

/*
 * Parse "beg:end" or "beg:end:step" (n bytes at s).  Returns 0, -1 if
 * malformed, -2 if end < beg.
 */
static int
parse_range(const char *s, size_t n, struct range *r)
{
	const char *c1, *c2, *end = s + n;
	long e;

	memset(r, 0, sizeof(*r));
	r->step = 1;
	if ((c1 = memchr(s, ':', n)) == NULL)
		return -1;
	if ((c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1))) != NULL) {
		if (parse_num(c2 + 1, (size_t)(end - c2 - 1), &r->step) != 0 ||
		    r->step < 1 || c2 + 1 == end)
			return -1;
		end = c2;
	}
	r->alpha = n > 0 && s[0] != '\0' && strchr(letters, s[0]) != NULL;
	if (c1 + 1 == end || parse_bound(s, (size_t)(c1 - s), r->alpha,
	    &r->beg) != 0 || parse_bound(c1 + 1, (size_t)(end - c1 - 1),
	    r->alpha, &e) != 0)
		return -1;
	if (!r->alpha && c1 - s > 1 && s[0] == '0') {
		r->width = (int)(c1 - s);
		if (end - c1 - 1 != r->width)
			return -1;
	}
	if (e < r->beg)
		return -2;
	r->count = (e - r->beg) / r->step + 1;
	return 0;
}

static void
pattern_free(struct pattern *pt)
{
	free(pt->lit);
	free(pt->litlen);
	free(pt->r);
	memset(pt, 0, sizeof(*pt));
}

/* Add the literal piece s[0..n) (which may not hold ']'). */
static int
pattern_lit(struct parser *p, struct pattern *pt, const char *s, size_t n)
{
	size_t cap = pt->n + 1;

	if (memchr(s, ']', n) != NULL)
		return perr(p, ERR_PARSE, p->line,
		    "malformed range: stray ']'");
	pt->lit = xrealloc(pt->lit, cap * sizeof(*pt->lit));
	pt->litlen = xrealloc(pt->litlen, cap * sizeof(*pt->litlen));
	pt->lit[pt->n] = s;
	pt->litlen[pt->n] = n;
	pt->maxlen += n;
	return 0;
}

static int
pattern_range(struct parser *p, struct pattern *pt, const char *s, size_t n)
{
	struct range r;
	int e;

	if ((e = parse_range(s, n, &r)) != 0)
		return perr(p, ERR_PARSE, p->line, "%s range [%.*s]",
		    e == -2 ? "reversed" : "malformed", (int)n, s);
	if ((size_t)r.count > INV_MAX_RANGE / pt->total)
		return perr(p, ERR_PARSE, p->line, "range expands to more "
		    "than %d hosts", INV_MAX_RANGE);
	pt->total *= (size_t)r.count;
	pt->maxlen += r.alpha ? 1 : 10;
	pt->r = xrealloc(pt->r, (pt->n + 1) * sizeof(*pt->r));
	pt->r[pt->n++] = r;
	return 0;
}

static int
pattern_parse(struct parser *p, const char *s, struct pattern *pt)
{
	const char *open, *close;
	int r = 0;

	memset(pt, 0, sizeof(*pt));
	pt->total = 1;
	while (r == 0 && (open = strchr(s, '[')) != NULL) {
		if ((close = strchr(open, ']')) == NULL)
			return perr(p, ERR_PARSE, p->line,
			    "malformed range: missing ']'");
		if ((r = pattern_lit(p, pt, s, (size_t)(open - s))) == 0)
			r = pattern_range(p, pt, open + 1,
			    (size_t)(close - open - 1));
		s = close + 1;
	}
	if (r == 0)
		r = pattern_lit(p, pt, s, strlen(s));
	if (r == 0 && pt->total * (pt->maxlen + 1) > INV_MAX_NAMES)
		r = perr(p, ERR_TOOBIG, p->line, "host pattern expands to "
		    "more than %d bytes", INV_MAX_NAMES);
	return r;
}

/* The k-th name of pt into buf (pt->maxlen + 1 bytes). */
static void
pattern_name(const struct pattern *pt, size_t k, char *buf)
{
	size_t i, rem, idx, off = 0;
	size_t div = pt->total;
	const struct range *r;
	long v;

	for (i = 0; i < pt->n; i++) {
		memcpy(buf + off, pt->lit[i], pt->litlen[i]);
		off += pt->litlen[i];
		r = &pt->r[i];
		div /= (size_t)r->count;
		idx = k / div;
		rem = k % div;
		k = rem;
		v = r->beg + (long)idx * r->step;
		if (r->alpha)
			buf[off++] = letters[v];
		else
			off += (size_t)sprintf(buf + off, "%0*ld", r->width, v);
	}
	memcpy(buf + off, pt->lit[pt->n], pt->litlen[pt->n]);
	buf[off + pt->litlen[pt->n]] = '\0';
}

/* --- lines --- */

static int
check_var(struct parser *p, const char *key, const char *val)
{
	long port;

	if (*key == '\0')
		return perr(p, ERR_PARSE, p->line, "empty variable name");
	if (!valid_var(key))
		return perr(p, ERR_PARSE, p->line,
		    "invalid variable name \"%.64s\"", key);
	if (strcmp(key, "ansible_port") == 0 &&
	    !str_to_posint(val, 65535, &port))
		return perr(p, ERR_PARSE, p->line, "ansible_port \"%.64s\" "
		    "is not a port number (1-65535)", val);
	return 0;
}

static int
enter_section(struct parser *p, const char *name, enum section sec)
{
	struct group *g;

	p->cur = group_get(p->inv, name);
	g = &p->inv->groups[p->cur];
	if (sec != SEC_VARS && g->defined == 0)
		g->defined = p->line;
	if (sec == SEC_VARS && g->vars_line == 0)
		g->vars_line = p->line;
	p->sec = sec;
	return 0;
}

static int
parse_header(struct parser *p, char *s)
{
	char *end, *rest, *suffix;

	if ((end = strchr(s, ']')) == NULL)
		return perr(p, ERR_PARSE, p->line,
		    "bad section header: no closing ']'");
	rest = end + 1 + strspn(end + 1, " \t");
	if (*rest != '\0' && *rest != '#' && *rest != ';')
		return perr(p, ERR_PARSE, p->line,
		    "stray text after section header: \"%.64s\"", rest);
	*end = '\0';
	if ((suffix = strchr(++s, ':')) != NULL)
		*suffix++ = '\0';
	if (!valid_group(s))
		return perr(p, ERR_PARSE, p->line,
		    "bad section header: bad group name \"%.64s\"", s);
	if (suffix == NULL)
		return enter_section(p, s, SEC_HOSTS);
	if (strcmp(suffix, "vars") == 0)
		return enter_section(p, s, SEC_VARS);
	if (strcmp(suffix, "children") == 0)
		return enter_section(p, s, SEC_CHILDREN);
	return perr(p, ERR_PARSE, p->line,
	    "bad section header: unknown suffix \":%.64s\"", suffix);
}

static int
parse_var(struct parser *p, char *s)
{
	char *eq, *end, *val = NULL;
	size_t pos = 0;
	int r;

	if ((eq = strchr(s, '=')) == NULL)
		return perr(p, ERR_PARSE, p->line, "expected key=value in "
		    "[%s:vars]", p->inv->groups[p->cur].name);
	for (end = eq; end > s && is_blank(end[-1]); end--)
		;
	*end = '\0';
	if ((r = lex_word(p, eq + 1, &pos, 1, &val)) < 0)
		goto out;
	if (r == 0)
		val = xstrdup("");
	if ((r = check_var(p, s, val)) == 0)
		kv_add(&p->inv->groups[p->cur].vars, s, val);
 out:
	free(val);
	return r;
}

static int
parse_child(struct parser *p, char *s)
{
	struct edge *e;
	char *name = NULL, *more = NULL;
	size_t pos = 0;
	int r;

	if ((r = lex_word(p, s, &pos, 0, &name)) <= 0)
		goto out;
	if ((r = lex_word(p, s, &pos, 0, &more)) != 0) {
		if (r > 0)
			r = perr(p, ERR_PARSE, p->line, "stray text after "
			    "group name: \"%.64s\"", more);
		goto out;
	}
	if (!valid_group(name)) {
		r = perr(p, ERR_PARSE, p->line, "bad group name \"%.64s\"",
		    name);
		goto out;
	}
	p->edges = grow(p->edges, &p->capedges, p->nedges, sizeof(*p->edges));
	e = &p->edges[p->nedges++];
	e->parent = p->cur;
	e->childname = name;
	e->line = p->line;
	name = NULL;
 out:
	free(name);
	free(more);
	return r;
}

/* Read the key=value words after the host pattern into vars. */
static int
parse_hostvars(struct parser *p, const char *s, size_t *pos,
    struct kvlist *vars)
{
	char *tok = NULL, *eq;
	int r;

	while ((r = lex_word(p, s, pos, 0, &tok)) > 0) {
		if ((eq = strchr(tok, '=')) == NULL)
			r = perr(p, ERR_PARSE, p->line,
			    "\"%.64s\" is not key=value", tok);
		else {
			*eq = '\0';
			if ((r = check_var(p, tok, eq + 1)) == 0)
				kv_add(vars, tok, eq + 1);
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
static int
split_port(struct parser *p, char *pat, struct kvlist *vars)
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
	kv_add(vars, "ansible_port", colon + 1);
	return check_var(p, "ansible_port", colon + 1);
}

static int
add_member(struct parser *p, const char *name)
{
	struct inventory *inv = p->inv;
	size_t hi;

	if (*name == '\0')
		return perr(p, ERR_PARSE, p->line, "empty host name");
	hi = host_get(inv, name, p->line);
	if (!pairset_add(&p->seen, p->cur, hi))
		return perr(p, ERR_PARSE, p->line, "host %.64s is listed twice "
		    "in [%s]", name, inv->groups[p->cur].name);
	if (p->nmem >= INV_MAX_MEMBERS)
		return perr(p, ERR_TOOBIG, p->line, "more than %d hosts in "
		    "groups", INV_MAX_MEMBERS);
	p->mem = grow(p->mem, &p->capmem, p->nmem, sizeof(*p->mem));
	p->mem[p->nmem].group = p->cur;
	p->mem[p->nmem].host = hi;
	p->mem[p->nmem++].line = p->line;
	host_add_group(&inv->hosts[hi], p->cur);
	return 0;
}

static int
add_hosts(struct parser *p, const struct pattern *pt,
    const struct kvlist *vars)
{
	struct ini_host *h;
	char *name;
	size_t k, j;
	int r = 0;

	name = xmalloc(pt->maxlen + 1);
	for (k = 0; k < pt->total && r == 0; k++) {
		pattern_name(pt, k, name);
		if ((r = add_member(p, name)) != 0)
			break;
		h = &p->inv->hosts[p->mem[p->nmem - 1].host];
		for (j = 0; j < vars->n; j++)
			kv_add(&h->vars, vars->v[j].key, vars->v[j].val);
	}
	free(name);
	return r;
}

static int
parse_hostline(struct parser *p, char *s)
{
	struct kvlist vars = { 0 };
	struct pattern pt = { 0 };
	char *pat = NULL;
	size_t pos = 0;
	int r;

	if ((r = lex_word(p, s, &pos, 0, &pat)) <= 0)
		goto out;
	if ((r = split_port(p, pat, &vars)) != 0 ||
	    (r = parse_hostvars(p, s, &pos, &vars)) != 0 ||
	    (r = pattern_parse(p, pat, &pt)) != 0)
		goto out;
	r = add_hosts(p, &pt, &vars);
 out:
	pattern_free(&pt);
	kv_free(&vars);
	free(pat);
	return r;
}

static int
parse_line(struct parser *p, char *s)
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
check_line(struct parser *p, const char *s, size_t *n)
{
	size_t i;

	if (*n > INV_MAX_LINE)
		return perr(p, ERR_TOOBIG, p->line, "line longer than %d bytes",
		    INV_MAX_LINE);
	if (*n > 0 && s[*n - 1] == '\r')
		(*n)--;
	for (i = 0; i < *n; i++) {
		if (s[i] == '\0')
			return perr(p, ERR_PARSE, p->line, "NUL byte");
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return perr(p, ERR_PARSE, p->line,
			    "control character 0x%02x", (unsigned char)s[i]);
	}
	return 0;
}

static int
parse_lines(struct parser *p, const char *text, size_t len)
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

/* --- resolving --- */

/* [x:vars] or a children entry naming a group never defined. */
static int
check_unknown(struct parser *p)
{
	struct inventory *inv = p->inv;
	const struct group *g, *bad = NULL;
	const struct edge *e;
	size_t i, gi;

	for (i = 0; i < inv->ngroups; i++) {
		g = &inv->groups[i];
		if (g->vars_line != 0 && g->defined == 0 &&
		    (bad == NULL || g->vars_line < bad->vars_line))
			bad = g;
	}
	for (i = 0; i < p->nedges; i++) {
		e = &p->edges[i];
		if (strmap_get(&inv->groupmap, e->childname, &gi) &&
		    inv->groups[gi].defined != 0)
			continue;
		if (bad == NULL || e->line < bad->vars_line)
			return perr(p, ERR_PARSE, e->line,
			    "[%s:children] names unknown group %s",
			    inv->groups[e->parent].name, e->childname);
		break;
	}
	if (bad != NULL)
		return perr(p, ERR_PARSE, bad->vars_line,
		    "[%s:vars] names unknown group %s", bad->name, bad->name);
	return 0;
}

/* Resolve children entries; build parents and the cstart/cadj index. */
static int
link_children(struct parser *p)
{
	struct inventory *inv = p->inv;
	struct edge *e;
	struct group *g;
	size_t i, *fill;

	p->cstart = xcalloc(inv->ngroups + 1, sizeof(*p->cstart));
	p->cadj = xcalloc(p->nedges, sizeof(*p->cadj));
	for (i = 0; i < p->nedges; i++) {
		e = &p->edges[i];
		strmap_get(&inv->groupmap, e->childname, &e->child);
		if (e->child == G_ALL)
			return perr(p, ERR_PARSE, e->line,
			    "group all cannot be a child");
		g = &inv->groups[e->child];
		g->parents = grow(g->parents, &g->capparents, g->nparents,
		    sizeof(*g->parents));
		g->parents[g->nparents++] = i;
		p->cstart[e->parent + 1]++;
	}
	for (i = 0; i < inv->ngroups; i++)
		p->cstart[i + 1] += p->cstart[i];
	fill = xcalloc(inv->ngroups, sizeof(*fill));
	for (i = 0; i < p->nedges; i++) {
		e = &p->edges[i];
		p->cadj[p->cstart[e->parent] + fill[e->parent]++] = e->child;
	}
	free(fill);
	return 0;
}

/*
 * The groups left with parents after Kahn's algorithm are on or below a
 * cycle.  Walk up from one of them to a cycle and report its last entry.
 */
static int
report_cycle(struct parser *p, const size_t *indeg)
{
	struct inventory *inv = p->inv;
	const struct edge *e = NULL, *last = NULL;
	unsigned char *mark;
	size_t g = 0, start, i;

	mark = xcalloc(inv->ngroups, 1);
	while (indeg[g] == 0)
		g++;
	for (start = SIZE_MAX; start != g;) {
		if (start == SIZE_MAX && mark[g]++ == 1)
			start = g;
		for (i = 0; i < inv->groups[g].nparents; i++) {
			e = &p->edges[inv->groups[g].parents[i]];
			if (indeg[e->parent] != 0)
				break;
		}
		if (start != SIZE_MAX && (last == NULL || e->line > last->line))
			last = e;
		g = e->parent;
	}
	free(mark);
	return perr(p, ERR_PARSE, last->line, "cycle in children: %s is a "
	    "child of itself", inv->groups[last->child].name);
}

/* Order groups (Kahn's algorithm) to set depths and find cycles. */
static int
order_groups(struct parser *p)
{
	struct inventory *inv = p->inv;
	size_t *indeg, *queue, head = 0, tail = 0, i, g, c;
	int r = 0;

	indeg = xcalloc(inv->ngroups, sizeof(*indeg));
	queue = xcalloc(inv->ngroups, sizeof(*queue));
	for (i = 0; i < inv->ngroups; i++) {
		if ((indeg[i] = inv->groups[i].nparents) == 0)
			queue[tail++] = i;
	}
	inv->groups[G_ALL].depth = 0;
	while (head < tail) {
		g = queue[head++];
		for (i = p->cstart[g]; i < p->cstart[g + 1]; i++) {
			c = p->cadj[i];
			if (inv->groups[c].depth < inv->groups[g].depth + 1)
				inv->groups[c].depth = inv->groups[g].depth + 1;
			if (--indeg[c] == 0)
				queue[tail++] = c;
		}
	}
	if (tail < inv->ngroups)
		r = report_cycle(p, indeg);
	free(indeg);
	free(queue);
	return r;
}

/* Set bit in every group reachable from group name through children. */
static void
mark_pem(struct parser *p, const char *name, int bit)
{
	struct inventory *inv = p->inv;
	size_t *stack, n = 0, g, i;

	if (!strmap_get(&inv->groupmap, name, &g))
		return;
	stack = xcalloc(inv->ngroups, sizeof(*stack));
	inv->groups[g].pem |= bit;
	stack[n++] = g;
	while (n > 0) {
		g = stack[--n];
		for (i = p->cstart[g]; i < p->cstart[g + 1]; i++) {
			if (inv->groups[p->cadj[i]].pem & bit)
				continue;
			inv->groups[p->cadj[i]].pem |= bit;
			stack[n++] = p->cadj[i];
		}
	}
	free(stack);
}

/* Flag the hosts of pem_server and pem_agents; exactly one server. */
static int
find_pem_hosts(struct parser *p, size_t *server)
{
	struct inventory *inv = p->inv;
	const struct member *m;
	struct ini_host *h;
	size_t i, gi, n = 0;

	if (!strmap_get(&inv->groupmap, "pem_server", &gi) ||
	    inv->groups[gi].defined == 0)
		return perr(p, ERR_PARSE, p->line > 0 ? p->line : 1,
		    "no [pem_server] section");
	for (i = 0; i < p->nmem; i++) {
		m = &p->mem[i];
		h = &inv->hosts[m->host];
		if ((inv->groups[m->group].pem & PEM_SERVER) &&
		    !(h->pem & PEM_SERVER) && n++ > 0)
			return perr(p, ERR_PARSE, m->line, "second host %.64s "
			    "in [pem_server] (first: %.64s)", h->name,
			    inv->hosts[*server].name);
		if (inv->groups[m->group].pem & PEM_SERVER)
			*server = m->host;
		h->pem |= inv->groups[m->group].pem;
	}
	if (n == 0)
		return perr(p, ERR_PARSE, inv->groups[gi].defined,
		    "no host in [pem_server]");
	return 0;
}

struct gsort {
	int depth;
	const char *name;
	size_t gi;
};

static int
gsort_cmp(const void *a, const void *b)
{
	const struct gsort *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Scratch space to list a host's groups, sized for any host. */
struct walk {
	size_t *mark;		/* generation that last saw each group */
	size_t *stack;
	struct gsort *v;
};

/* Replace h's direct groups with all its groups, by (depth, name). */
static void
host_all_groups(struct parser *p, struct ini_host *h, struct walk *w,
    size_t gen)
{
	const struct group *gr;
	size_t n, nv = 0, g, i;

	memcpy(w->stack, h->groups, h->ngroups * sizeof(*w->stack));
	n = h->ngroups;
	w->stack[n++] = G_ALL;
	while (n > 0) {
		if (w->mark[g = w->stack[--n]] == gen)
			continue;
		w->mark[g] = gen;
		gr = &p->inv->groups[g];
		w->v[nv].depth = gr->depth;
		w->v[nv].name = gr->name;
		w->v[nv++].gi = g;
		for (i = 0; i < gr->nparents; i++)
			w->stack[n++] = p->edges[gr->parents[i]].parent;
	}
	qsort(w->v, nv, sizeof(*w->v), gsort_cmp);
	h->groups = xrealloc(h->groups, nv * sizeof(*h->groups));
	for (i = 0; i < nv; i++)
		h->groups[i] = w->v[i].gi;
	h->ngroups = h->capgroups = nv;
}

static void
fill_pub(struct inventory *inv, size_t k, size_t hi)
{
	struct inv_host *ih = &inv->pub[k];
	const struct ini_host *h = &inv->hosts[hi];
	const char *v;
	long port = 22;

	inv->pubhost[k] = hi;
	ih->name = h->name;
	ih->line = h->line;
	ih->is_server = (h->pem & PEM_SERVER) != 0;
	ih->is_agent = (h->pem & PEM_AGENT) != 0;
	if ((ih->address = host_lookup(inv, h, "ansible_host")) == NULL)
		ih->address = h->name;
	if ((v = host_lookup(inv, h, "ansible_port")) != NULL)
		str_to_posint(v, 65535, &port);
	ih->port = (int)port;
	ih->user = host_lookup(inv, h, "ansible_user");
	ih->ssh_key = host_lookup(inv, h, "ansible_ssh_private_key_file");
}

/* Build pub: the server, then the other PEM hosts in file order. */
static void
collect_hosts(struct parser *p, size_t server)
{
	struct inventory *inv = p->inv;
	struct walk w;
	size_t i, k = 0, maxdirect = 0;

	for (i = 0; i < inv->nhosts; i++) {
		inv->npub += inv->hosts[i].pem != 0;
		if (inv->hosts[i].ngroups > maxdirect)
			maxdirect = inv->hosts[i].ngroups;
	}
	inv->pub = xcalloc(inv->npub, sizeof(*inv->pub));
	inv->pubhost = xcalloc(inv->npub, sizeof(*inv->pubhost));
	w.mark = xcalloc(inv->ngroups, sizeof(*w.mark));
	w.stack = xcalloc(maxdirect + p->nedges + 1, sizeof(*w.stack));
	w.v = xcalloc(inv->ngroups, sizeof(*w.v));
	for (i = 0; i < inv->nhosts; i++) {
		if (inv->hosts[i].pem != 0)
			host_all_groups(p, &inv->hosts[i], &w, i + 1);
	}
	free(w.mark);
	free(w.stack);
	free(w.v);
	fill_pub(inv, k++, server);
	for (i = 0; i < inv->nhosts; i++) {
		if (inv->hosts[i].pem != 0 && i != server)
			fill_pub(inv, k++, i);
	}
}

static int
resolve(struct parser *p)
{
	size_t server = 0;
	int r;

	if ((r = check_unknown(p)) != 0 || (r = link_children(p)) != 0 ||
	    (r = order_groups(p)) != 0)
		return r;
	mark_pem(p, "pem_server", PEM_SERVER);
	mark_pem(p, "pem_agents", PEM_AGENT);
	if ((r = find_pem_hosts(p, &server)) != 0)
		return r;
	collect_hosts(p, server);
	return 0;
}

/* --- API --- */

static void
parser_init(struct parser *p, const char *fname, char *err, size_t errlen)
{
	size_t all, ungrouped;

	memset(p, 0, sizeof(*p));
	p->fname = fname;
	p->err = err;
	p->errlen = errlen;
	p->inv = xcalloc(1, sizeof(*p->inv));
	p->inv->path = xstrdup(fname);
	all = group_get(p->inv, "all");
	ungrouped = group_get(p->inv, "ungrouped");
	p->inv->groups[all].defined = -1;
	p->inv->groups[ungrouped].defined = -1;
	p->cur = G_UNGROUPED;
	p->sec = SEC_HOSTS;
}

static void
parser_free(struct parser *p)
{
	size_t i;

	for (i = 0; i < p->nedges; i++)
		free(p->edges[i].childname);
	free(p->edges);
	free(p->mem);
	free(p->seen.keys);
	free(p->cstart);
	free(p->cadj);
	inventory_free(p->inv);
	memset(p, 0, sizeof(*p));
}

int
inventory_parse(const char *text, size_t len, const char *fname,
    struct inventory **out, char *err, size_t errlen)
{
	struct parser p;
	int r;

	*out = NULL;
	if (len > INV_MAX_FILE) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: larger than %d bytes",
			    fname, INV_MAX_FILE);
		return ERR_TOOBIG;
	}
	parser_init(&p, fname, err, errlen);
	if ((r = parse_lines(&p, text, len)) != 0 || (r = resolve(&p)) != 0)
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
inventory_load(const char *path, struct inventory **out, char *err,
    size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ERR_IO;
	}
	if ((r = read_all(fd, INV_MAX_FILE, &buf, &len)) != 0) {
		if (r == ERR_IO)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "%s: larger than %d bytes",
			    path, INV_MAX_FILE);
		goto out;
	}
	r = inventory_parse(buf, len, path, out, err, errlen);
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
	return host_lookup(inv, &inv->hosts[inv->pubhost[i]], name);
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
		kv_free(&inv->groups[i].vars);
		free(inv->groups[i].parents);
	}
	for (i = 0; i < inv->nhosts; i++) {
		free(inv->hosts[i].name);
		kv_free(&inv->hosts[i].vars);
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
