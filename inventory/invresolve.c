/*
 * invresolve.c: the second pass over an inventory (see inventory_int.h):
 * unknown groups and cycles reported, groups ordered by depth, the hosts
 * of pem_server and pem_agents found and given their groups in lookup
 * order, and the public host list built.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/inventory_int.h"

/* [x:vars] or a children entry naming a group never defined. */
int
invresolve_names(struct inv_parser *p)
{
	struct inventory *inv = p->inv;
	const struct inv_group *g, *bad = NULL;
	const struct inv_edge *e;
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
			return inv_perr(p, ERR_PARSE, e->line,
			    "[%s:children] names unknown group %s",
			    inv->groups[e->parent].name, e->childname);
		break;
	}
	if (bad != NULL)
		return inv_perr(p, ERR_PARSE, bad->vars_line,
		    "[%s:vars] names unknown group %s", bad->name, bad->name);
	return 0;
}

/* Resolve children entries; build parents and the cstart/cadj index. */
static int
link_children(struct inv_parser *p)
{
	struct inventory *inv = p->inv;
	struct inv_edge *e;
	struct inv_group *g;
	size_t i, *fill;

	p->cstart = xcalloc(inv->ngroups + 1, sizeof(*p->cstart));
	p->cadj = xcalloc(p->nedges, sizeof(*p->cadj));
	for (i = 0; i < p->nedges; i++) {
		e = &p->edges[i];
		strmap_get(&inv->groupmap, e->childname, &e->child);
		if (e->child == G_ALL)
			return inv_perr_at(p, ERR_PARSE, e->file, e->line,
			    "group all cannot be a child");
		g = &inv->groups[e->child];
		g->parents = inv_grow(g->parents, &g->capparents, g->nparents,
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
report_cycle(struct inv_parser *p, const size_t *indeg)
{
	struct inventory *inv = p->inv;
	const struct inv_edge *e = NULL, *last = NULL;
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
	return inv_perr_at(p, ERR_PARSE, last->file, last->line, "cycle in "
	    "children: %s is a child of itself",
	    inv->groups[last->child].name);
}

/* Order groups (Kahn's algorithm) to set depths and find cycles. */
static int
order_groups(struct inv_parser *p)
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
mark_pem(struct inv_parser *p, const char *name, int bit)
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
find_pem_hosts(struct inv_parser *p, size_t *server)
{
	struct inventory *inv = p->inv;
	const struct inv_member *m;
	struct inv_entry *h;
	size_t i, gi, n = 0;

	if (!strmap_get(&inv->groupmap, "pem_server", &gi) ||
	    inv->groups[gi].defined == 0) {
		if (inv->nfiles != 1)
			return inv_perr_at(p, ERR_PARSE, NULL, 0,
			    "no [pem_server] section (group pem_server)");
		if (p->line < 0)	/* JSON: no line, no section */
			return inv_perr_at(p, ERR_PARSE, NULL, 0,
			    "no group pem_server");
		return inv_perr(p, ERR_PARSE, p->line > 0 ? p->line : 1,
		    "no [pem_server] section");
	}
	for (i = 0; i < p->nmem; i++) {
		m = &p->mem[i];
		h = &inv->hosts[m->host];
		if ((inv->groups[m->group].pem & PEM_SERVER) &&
		    !(h->pem & PEM_SERVER) && n++ > 0)
			return inv_perr_at(p, ERR_PARSE, m->file, m->line,
			    "second host %.64s in [pem_server] (first: %.64s)",
			    h->name, inv->hosts[*server].name);
		if (inv->groups[m->group].pem & PEM_SERVER)
			*server = m->host;
		h->pem |= inv->groups[m->group].pem;
	}
	if (n == 0)
		return inv_perr_at(p, ERR_PARSE, inv->groups[gi].file,
		    inv->groups[gi].defined, "no host in [pem_server]");
	return 0;
}

struct gsort {
	int depth;
	long priority;
	const char *name;
	size_t gi;
};

/* Ansible's sort_groups: by depth, ansible_group_priority, name. */
static int
gsort_cmp(const void *a, const void *b)
{
	const struct gsort *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Each group's ansible_group_priority (its inventory vars'), else 1. */
static int
set_priorities(struct inv_parser *p)
{
	const struct inv_kv *kv;
	struct inv_group *g;
	char *end;
	size_t i;

	for (i = 0; i < p->inv->ngroups; i++) {
		g = &p->inv->groups[i];
		g->priority = 1;
		if (!inv_kv_find(&g->vars, "ansible_group_priority", &kv) ||
		    kv->val == NULL)
			continue;
		g->priority = strtol(kv->val, &end, 10);
		if (*kv->val == '\0' || *end != '\0' || g->priority < -1000000 ||
		    g->priority > 1000000)
			return inv_perr_at(p, ERR_PARSE, kv->file, kv->line,
			    "ansible_group_priority \"%.64s\" is not an "
			    "integer", kv->val);
	}
	return 0;
}

/* Scratch space to list a host's groups, sized for any host. */
struct walk {
	size_t *mark;		/* generation that last saw each group */
	size_t *stack;
	struct gsort *v;
};

/* Replace h's direct groups with all its groups, by (depth, name). */
static void
host_all_groups(struct inv_parser *p, struct inv_entry *h, struct walk *w,
    size_t gen)
{
	const struct inv_group *gr;
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
		w->v[nv].priority = gr->priority;
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
fill_pub(struct inventory *inv, size_t k)
{
	struct inv_host *ih = &inv->pub[k];
	const struct inv_entry *h = &inv->hosts[inv->pubhost[k]];
	const char *v;
	long port = 22;

	ih->name = h->name;
	ih->file = h->file;
	ih->line = h->line;
	ih->is_server = (h->pem & PEM_SERVER) != 0;
	ih->is_agent = (h->pem & PEM_AGENT) != 0;
	if ((ih->address = inv_entry_lookup(inv, h, "ansible_host")) == NULL)
		ih->address = h->name;
	if ((v = inv_entry_lookup(inv, h, "ansible_port")) != NULL) {
		str_to_posint(v, 65535, &port);
		ih->port_given = 1;
	}
	ih->port = (int)port;
	ih->user = inv_entry_lookup(inv, h, "ansible_user");
	ih->ssh_key = inv_entry_lookup(inv, h, "ansible_ssh_private_key_file");
}

/* Order pub: the server, then the other PEM hosts in file order. */
static void
collect_hosts(struct inv_parser *p, size_t server)
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
	inv->pubhost[k++] = server;
	for (i = 0; i < inv->nhosts; i++) {
		if (inv->hosts[i].pem != 0 && i != server)
			inv->pubhost[k++] = i;
	}
}

int
invresolve(struct inv_parser *p)
{
	size_t server = 0;
	int r;

	if ((r = link_children(p)) != 0 || (r = order_groups(p)) != 0 ||
	    (r = set_priorities(p)) != 0)
		return r;
	mark_pem(p, "pem_server", PEM_SERVER);
	mark_pem(p, "pem_agents", PEM_AGENT);
	if ((r = find_pem_hosts(p, &server)) != 0)
		return r;
	collect_hosts(p, server);
	return 0;
}

/* 1 if pemrotate reads variable name (docs/inventory.md lists them). */
static int
used_var(const char *name)
{
	static const char *const ansible[] = { "ansible_host",
	    "ansible_port", "ansible_user", "ansible_ssh_private_key_file",
	    "ansible_ssh_common_args", "ansible_ssh_extra_args" };
	size_t i;

	if (strncmp(name, "pem_", 4) == 0 ||
	    strncmp(name, "ansible_become", 14) == 0)
		return 1;
	for (i = 0; i < sizeof(ansible) / sizeof(ansible[0]); i++) {
		if (strcmp(name, ansible[i]) == 0)
			return 1;
	}
	return 0;
}

/* A value pemrotate cannot use: encrypted, or a Jinja2 template. */
static int
kv_unusable(const struct inv_kv *kv)
{
	if (kv->flags & KV_VAULT)
		return 1;
	return kv->val != NULL && !(kv->flags & KV_UNSAFE) &&
	    (strstr(kv->val, "{{") != NULL || strstr(kv->val, "{%") != NULL);
}

/* kv, one of h's, if it is the value h uses and pemrotate cannot. */
static int
check_kv(struct inv_parser *p, const struct inv_entry *h,
    const struct inv_kv *kv)
{
	if (!kv_unusable(kv) || !used_var(kv->key) ||
	    inv_entry_find(p->inv, h, kv->key) != kv)
		return 0;
	if (kv->flags & KV_VAULT)
		return inv_perr_at(p, ERR_PARSE, kv->file, kv->line, "%s (host "
		    "%.64s) is encrypted with Ansible Vault (!vault): "
		    "pemrotate does not decrypt it", kv->key, h->name);
	return inv_perr_at(p, ERR_PARSE, kv->file, kv->line, "%s (host %.64s) "
	    "is a Jinja2 template (\"%.64s\"): pemrotate does not evaluate "
	    "templates", kv->key, h->name, kv->val);
}

static int
check_list(struct inv_parser *p, const struct inv_entry *h,
    const struct inv_kvlist *l)
{
	size_t i;
	int r;

	for (i = 0; i < l->n; i++) {
		if ((r = check_kv(p, h, &l->v[i])) != 0)
			return r;
	}
	return 0;
}

/* Every value host h takes from the inventory is one pemrotate can use. */
static int
check_host(struct inv_parser *p, const struct inv_entry *h)
{
	const struct inv_group *g;
	size_t i, s;
	int r;

	if ((r = check_list(p, h, &h->fvars)) != 0 ||
	    (r = check_list(p, h, &h->vars)) != 0)
		return r;
	for (i = 0; i < h->ngroups; i++) {
		g = &p->inv->groups[h->groups[i]];
		if ((r = check_list(p, h, &g->vars)) != 0)
			return r;
		for (s = 0; g->fvars != NULL && s < p->inv->nsrc; s++) {
			if ((r = check_list(p, h, &g->fvars[s])) != 0)
				return r;
		}
	}
	return 0;
}

int
invresolve_finish(struct inv_parser *p)
{
	struct inventory *inv = p->inv;
	size_t k;
	int r;

	for (k = 0; k < inv->npub; k++) {
		if ((r = check_host(p, &inv->hosts[inv->pubhost[k]])) != 0)
			return r;
		fill_pub(inv, k);
	}
	return 0;
}
