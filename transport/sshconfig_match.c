/*
 * sshconfig_match.c: one pass over a parsed configuration for one host,
 * as OpenSSH's read_config_file: Host and Match decide which lines
 * apply, an Include applies where its line does, and the first value
 * obtained for a keyword wins.  The walk's state (struct sc_walk) is the
 * caller's; the configuration is only read, so walks may run at once.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/xmem.h"
#include "transport/sshconfig_int.h"
#include "transport/sshmatch.h"

static const char proxy_none[] = "none";


/* match_hostname: host lowered, patterns lowered. */
static int
match_host(const char *host, const char *list)
{
	char *h = xstrdup(host);
	int r;

	sc_lower(h);
	r = sshmatch_list(h, list, 1);
	free(h);
	return r;
}

/* A Host line: 1 if a pattern matches and no negated one does. */
static int
host_active(const char *host, const struct sc_line *l)
{
	const char *p;
	size_t i;
	int active = 0;

	for (i = 0; i < l->ac; i++) {
		p = l->av[i];
		if (*p == '!') {
			if (sshmatch_pattern(host, p + 1, strlen(p + 1)))
				return 0;
		} else if (sshmatch_pattern(host, p, strlen(p))) {
			active = 1;
		}
	}
	return active;
}

/* The host "Match host" looks at. */
static int
match_host_name(struct sc_walk *w, const char **out, const char *file,
    int lineno, char **msg)
{
	if (w->final || w->o.hostname == NULL) {
		*out = w->final ? w->o.hostname : w->host_arg;
		return 0;
	}
	if (w->match_host == NULL && sc_expand_hostname(w->o.hostname,
	    w->host_arg, &w->match_host) != 0)
		return sc_fail(msg, ERR_INVAL, file, lineno,
		    "HostName \"%s\": unknown %%-token", w->o.hostname);
	*out = w->match_host;
	return 0;
}

/* One criterion's result (0 or 1), or an error. */
static int
criterion(struct sc_walk *w, const struct sc_crit *k, const char *file,
    int lineno, char **msg)
{
	const char *s = NULL;
	int r;

	switch (k->type) {
	case SC_C_HOST:
		if ((r = match_host_name(w, &s, file, lineno, msg)) != 0)
			return r;
		return match_host(s, k->arg) == 1;
	case SC_C_ORIGHOST:
		return match_host(w->host_arg, k->arg) == 1;
	case SC_C_USER:
		s = w->o.user != NULL ? w->o.user : w->c->locuser;
		return sshmatch_list(s, k->arg, 0) == 1;
	case SC_C_LOCALUSER:
		return sshmatch_list(w->c->locuser, k->arg, 0) == 1;
	case SC_C_CANONICAL:
	case SC_C_FINAL:
		return w->final != 0;
	default:
		return sc_fail(msg, ERR_INTERNAL, file, lineno,
		    "bad Match criterion");
	}
}

/*
 * A Match line as match_cfg_line: 1 or 0, or an error for an exec that
 * ssh would run (every criterion before it true) and whose result
 * counts (nevermatch: the block is off whatever it says).
 */
static int
match_eval(struct sc_walk *w, const struct sc_file *f,
    const struct sc_line *l, int nevermatch, char **msg)
{
	const struct sc_crit *k;
	size_t i;
	int result = 1, r;

	for (i = 0; i < l->ncrit; i++) {
		k = &l->crit[i];
		if (k->type == SC_C_ALL) {
			if (result)
				result = !k->negate;
			break;
		}
		if (k->type == SC_C_EXEC) {
			if (result != 1 || nevermatch)
				continue;
			return sc_fail(msg, ERR_INVAL, f->path, l->lineno,
			    "Match exec \"%s\": pemrotate runs no command "
			    "from an SSH configuration", k->arg);
		}
		if ((r = criterion(w, k, f->path, l->lineno, msg)) < 0)
			return r;
		if (r == k->negate)
			result = 0;
	}
	return result;
}

/*
 * add_identity_file: a path listed twice from one side counts once.
 * 1 if added, 0 if already there.
 */
int
sc_add_identity(struct sc_opts *o, const char *path, int userprov)
{
	size_t i;

	for (i = 0; i < o->nid; i++)
		if (o->id_userprov[i] == userprov && strcmp(o->id[i],
		    path) == 0)
			return 0;
	o->id_userprov[o->nid] = userprov;
	o->id[o->nid++] = path;
	return 1;
}

static int
apply_identity(struct sc_walk *w, const struct sc_file *f,
    const struct sc_line *l, char **msg)
{
	struct sc_opts *o = &w->o;
	char *p;

	if (o->nid >= SC_MAX_IDFILES)
		return sc_fail(msg, ERR_INVAL, f->path, l->lineno,
		    "too many identity files specified (max %d)",
		    SC_MAX_IDFILES);
	if (!(l->flags & SC_L_TILDE)) {
		sc_add_identity(o, l->av[0], (l->flags & SC_L_USERPROV) != 0);
		return 0;
	}
	if ((p = sc_tilde(w->c, l->av[0], msg)) == NULL)
		return ERR_INVAL;
	if (sc_add_identity(o, p, 1))
		o->owned[o->nowned++] = p;
	else
		free(p);
	return 0;
}

static int
apply_files(const struct sc_file *f, const struct sc_line *l,
    const char **v, size_t *n, char **msg)
{
	size_t i;

	if (*n != 0)
		return 0;
	if (l->ac > SC_MAX_KHFILES)
		return sc_fail(msg, ERR_INVAL, f->path, l->lineno,
		    "too many known hosts files (max %d)", SC_MAX_KHFILES);
	for (i = 0; i < l->ac; i++)
		v[(*n)++] = l->av[i];
	return 0;
}

static void
apply_jump(struct sc_opts *o, const struct sc_line *l)
{
	if (l->jump->none) {
		if (o->jump == NULL)
			o->jump = l->jump;
	} else if (o->proxy_command == NULL && o->jump == NULL) {
		o->jump = l->jump;
		o->proxy_command = proxy_none;
	}
}

static void
set_int(int *v, int value)
{
	if (*v == -1)
		*v = value;
}

static void
set_str(const char **v, const char *value)
{
	if (*v == NULL)
		*v = value;
}

/* An active option line: its value if the keyword has none yet. */
static int
apply(struct sc_walk *w, const struct sc_file *f, const struct sc_line *l,
    char **msg)
{
	struct sc_opts *o = &w->o;

	switch (l->op) {
	case SC_HOSTNAME:	set_str(&o->hostname, l->av[0]);	break;
	case SC_USER:		set_str(&o->user, l->av[0]);		break;
	case SC_HOSTKEYALIAS:	set_str(&o->host_key_alias, l->av[0]); break;
	case SC_PORT:		set_int(&o->port, l->ival);		break;
	case SC_IDONLY:		set_int(&o->idonly, l->ival);		break;
	case SC_STRICT:		set_int(&o->strict, l->ival);		break;
	case SC_CONNTIMEOUT:	set_int(&o->conn_timeout, l->ival);	break;
	case SC_ALIVE:		set_int(&o->alive, l->ival);		break;
	case SC_CANON:		set_int(&o->canon, l->ival);		break;
	case SC_CANONDOMAINS:	set_int(&o->domains, 1);		break;
	case SC_IDFILE:
		return apply_identity(w, f, l, msg);
	case SC_USERKH:
		return apply_files(f, l, o->ukh, &o->nukh, msg);
	case SC_GLOBALKH:
		return apply_files(f, l, o->gkh, &o->ngkh, msg);
	case SC_PROXYJUMP:
		apply_jump(o, l);
		break;
	case SC_PROXYCMD:
		set_str(&o->proxy_command, l->av[0]);
		break;
	default:
		break;
	}
	return 0;
}

/*
 * Walk f: active says whether its first lines apply, nevermatch that
 * none may (an Include read from a block that does not apply).  Host
 * and Match lines inside f change only f's state.
 */
int
sc_walk_file(struct sc_walk *w, const struct sc_file *f, int active,
    int nevermatch, char **msg)
{
	const struct sc_line *l;
	size_t i, k;
	int r;

	for (i = 0; i < f->nline; i++) {
		l = &f->line[i];
		switch (l->op) {
		case SC_HOST:
			active = !nevermatch && host_active(w->host, l);
			break;
		case SC_MATCH:
			if ((r = match_eval(w, f, l, nevermatch, msg)) < 0)
				return r;
			active = !nevermatch && r;
			break;
		case SC_INCLUDE:
			for (k = 0; k < l->ninc; k++)
				if ((r = sc_walk_file(w, l->inc[k], active,
				    nevermatch || !active, msg)) != 0)
					return r;
			break;
		default:
			if (active && (r = apply(w, f, l, msg)) != 0)
				return r;
			break;
		}
	}
	return 0;
}

void
sc_opts_init(struct sc_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->port = o->idonly = o->strict = o->conn_timeout = -1;
	o->alive = o->canon = o->domains = -1;
}

void
sc_opts_clear(struct sc_opts *o)
{
	size_t i;

	for (i = 0; i < o->nowned; i++)
		free(o->owned[i]);
	o->nowned = 0;
}
