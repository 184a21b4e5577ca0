/*
 * sshconfig_resolve.c: the settings of one host, as ssh(1) settles them
 * after reading its configuration: the command-line options first, one
 * pass over the files (two with "Match final"), the host name %-expanded
 * and lowered, ssh's defaults, then "~", %-tokens and ${VAR} in the
 * paths.  Owns the struct sshconfig_host it returns.  Thread-safe: it
 * only reads the configuration, the environment and the passwd database
 * (getpwnam_r).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/sshconfig_int.h"

#define NTOK	128

static const char *const default_ids[] = {
	"~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ecdsa_sk",
	"~/.ssh/id_ed25519", "~/.ssh/id_ed25519_sk", "~/.ssh/id_xmss",
	"~/.ssh/id_dsa",
};
static const char *const default_ukh[] = {
	"~/.ssh/known_hosts", "~/.ssh/known_hosts2",
};
static const char *const default_gkh[] = {
	"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2",
};

/*
 * path with a leading "~" or "~user" replaced by that home directory, as
 * tilde_expand_filename: "~" gives "HOME/".  NULL and *msg on error.
 */
char *
sc_tilde(const struct sshconfig *c, const char *path, char **msg)
{
	struct passwd pw, *res = NULL;
	char buf[4096], *user, *out;
	const char *rest, *dir = c->home;
	size_t n;

	if (*path != '~')
		return xstrdup(path);
	rest = path + 1 + strcspn(path + 1, "/");
	if (rest != path + 1) {
		user = xstrndup(path + 1, (size_t)(rest - path - 1));
		if (getpwnam_r(user, &pw, buf, sizeof(buf), &res) != 0 ||
		    res == NULL) {
			sc_fail(msg, ERR_INVAL, path, 0, "no such user %s",
			    user);
			free(user);
			return NULL;
		}
		free(user);
		dir = pw.pw_dir;
	}
	rest += strspn(rest, "/");
	n = strlen(dir);
	out = xasprintf("%s%s%s", dir, n == 0 || dir[n - 1] != '/' ? "/" :
	    "", rest);
	if (strlen(out) >= PATH_MAX) {
		free(out);
		sc_fail(msg, ERR_INVAL, path, 0, "path too long");
		return NULL;
	}
	return out;
}

/*
 * %-tokens of s from tok (by letter; NULL: unknown), and ${VAR} from the
 * environment when dollar; as percent_dollar_expand.  NULL with *why on
 * error.
 */
static char *
expand(const char *s, const char *const tok[NTOK], int dollar,
    const char **why)
{
	struct strbuf b;
	const char *end, *v;
	char *var;
	unsigned char t;

	strbuf_init(&b);
	for (; *s != '\0'; s++) {
		if (dollar && s[0] == '$' && s[1] == '{') {
			end = strchr(s + 2, '}');
			if (end == NULL || end == s + 2) {
				*why = "bad ${VARIABLE}";
				goto fail;
			}
			var = xstrndup(s + 2, (size_t)(end - s - 2));
			v = getenv(var);
			free(var);
			if (v == NULL) {
				*why = "environment variable unset";
				goto fail;
			}
			strbuf_adds(&b, v);
			s = end;
			continue;
		}
		if (*s != '%' || s[1] == '%') {
			s += *s == '%';
			strbuf_add(&b, s, 1);
			continue;
		}
		t = (unsigned char)*++s;
		if (t == '\0' || t >= NTOK || tok[t] == NULL) {
			*why = t == 'C' ? "%C is not supported" :
			    "unknown %-token";
			goto fail;
		}
		strbuf_adds(&b, tok[t]);
	}
	return strbuf_steal(&b);
 fail:
	strbuf_free(&b);
	return NULL;
}

int
sc_expand_hostname(const char *hostname, const char *host_arg,
    char **out)
{
	const char *tok[NTOK] = { NULL }, *why;

	tok['h'] = host_arg;
	*out = expand(hostname, tok, 0, &why);
	return *out == NULL ? -1 : 0;
}

/* is_addr_fast: nothing but an address can look like this. */
static int
is_addr_fast(const char *s)
{
	return strchr(s, '%') != NULL || strchr(s, ':') != NULL ||
	    strspn(s, "0123456789.") == strlen(s);
}

/*
 * 1 if s is one numeric address; its canonical text into buf (ssh's
 * resolve_addr), or "" if it has none.
 */
static int
numeric_addr(const char *s, char *buf, size_t len)
{
	struct addrinfo hints, *res = NULL;
	int ok;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	buf[0] = '\0';
	if (getaddrinfo(s, "22", &hints, &res) != 0 || res == NULL)
		return 0;
	ok = res->ai_next == NULL && getnameinfo(res->ai_addr,
	    res->ai_addrlen, buf, len, NULL, 0, NI_NUMERICHOST) == 0;
	if (!ok)
		buf[0] = '\0';
	freeaddrinfo(res);
	return 1;
}

/* The host to connect to: HostName %h-expanded, lowered or canonical. */
static int
final_host(struct sc_walk *w, char **out, char **msg)
{
	char addr[NI_MAXHOST], *h;

	if (w->o.hostname == NULL)
		h = xstrdup(w->host_arg);
	else if (sc_expand_hostname(w->o.hostname, w->host_arg, &h) != 0)
		return sc_fail(msg, ERR_INVAL, w->host_arg, 0,
		    "HostName \"%s\": unknown %%-token", w->o.hostname);
	if (!is_addr_fast(h) && !numeric_addr(h, addr, sizeof(addr))) {
		sc_lower(h);
	} else if (numeric_addr(h, addr, sizeof(addr)) && addr[0] != '\0' &&
	    strcasecmp(h, addr) != 0) {
		free(h);
		h = xstrdup(addr);
	}
	*out = h;
	return 0;
}

/*
 * The command line: the caller's user, port and identity (Ansible's own
 * -o options), then the options of the *_args strings.
 */
static int
command_line(struct sc_walk *w, const struct sshconfig_query *q,
    char **msg)
{
	char *p;
	size_t i;
	int r;

	if (q->user != NULL)
		w->o.user = q->user;
	if (q->port > 0)
		w->o.port = q->port;
	if (q->identity != NULL) {
		p = w->o.owned[w->o.nowned++] = xstrdup(q->identity);
		sc_add_identity(&w->o, p, 1);
	}
	for (i = 0; q->args != NULL && i < 2; i++)
		if ((r = sc_walk_file(w, q->args->cmd[i], 1, 0, msg)) != 0)
			return r;
	if (w->o.user != NULL && !sc_valid_ruser(w->o.user))
		return sc_fail(msg, ERR_INVAL, SC_CMDLINE, 0,
		    "remote username contains invalid characters");
	return 0;
}

/* The tokens of IdentityFile and UserKnownHostsFile. */
static void
tokens(const char *tok[NTOK], const struct sshconfig *c,
    const struct sshconfig_host *h, const char *port)
{
	memset(tok, 0, NTOK * sizeof(*tok));
	tok['L'] = c->shorthost;
	tok['i'] = c->uidstr;
	tok['k'] = h->host_key_alias != NULL ? h->host_key_alias : h->host;
	tok['l'] = c->thishost;
	tok['n'] = h->host;
	tok['p'] = port;
	tok['d'] = c->home;
	tok['h'] = h->hostname;
	tok['r'] = h->user;
	tok['u'] = c->locuser;
}

/* Expand n paths of v into *out (*nout), "none" dropped if skipnone. */
static int
expand_paths(const struct sshconfig *c, const char *const *v, size_t n,
    const char *const tok[NTOK], int skipnone, char ***out, size_t *nout,
    char **msg)
{
	const char *why = NULL;
	char *t, *e;
	size_t i;

	*out = xcalloc(n + 1, sizeof(**out));
	*nout = 0;
	for (i = 0; i < n; i++) {
		if (skipnone && strcasecmp(v[i], "none") == 0)
			continue;
		if ((t = sc_tilde(c, v[i], msg)) == NULL)
			return ERR_INVAL;
		e = tok != NULL ? expand(t, tok, 1, &why) : xstrdup(t);
		free(t);
		if (e == NULL)
			return sc_fail(msg, ERR_INVAL, v[i], 0, "%s", why);
		(*out)[(*nout)++] = e;
	}
	return 0;
}

static int
paths(const struct sshconfig *c, const struct sc_opts *o,
    struct sshconfig_host *h, char **msg)
{
	const char *tok[NTOK], *const *v;
	char port[16];
	size_t n;
	int r;

	snprintf(port, sizeof(port), "%d", h->port);
	tokens(tok, c, h, port);
	v = o->nid > 0 ? o->id : default_ids;
	n = o->nid > 0 ? o->nid : sizeof(default_ids) / sizeof(*v);
	if ((r = expand_paths(c, v, n, tok, 1, &h->identity_files,
	    &h->n_identity_files, msg)) != 0)
		return r;
	v = o->nukh > 0 ? o->ukh : default_ukh;
	n = o->nukh > 0 ? o->nukh : 2;
	if (strcasecmp(v[0], "none") == 0)
		n = 0;
	if ((r = expand_paths(c, v, n, tok, 0, &h->user_known_hosts,
	    &h->n_user_known_hosts, msg)) != 0)
		return r;
	v = o->ngkh > 0 ? o->gkh : default_gkh;
	n = o->ngkh > 0 ? o->ngkh : 2;
	if (strcasecmp(v[0], "none") == 0)
		n = 0;
	return expand_paths(c, v, n, NULL, 0, &h->global_known_hosts,
	    &h->n_global_known_hosts, msg);
}

/* The hops, and the text "ssh -G" shows for them. */
static int
jump(const struct sc_jump *j, struct sshconfig_host *h, char **msg)
{
	const struct sshconfig_hop *last;
	struct strbuf b;
	size_t i;
	int num;

	if (j == NULL || j->none)
		return 0;
	h->jump = xcalloc(j->nhop, sizeof(*h->jump));
	for (i = 0; i < j->nhop; i++) {
		h->jump[i].user = j->hop[i].user ? xstrdup(j->hop[i].user) :
		    NULL;
		h->jump[i].host = xstrdup(j->hop[i].host);
		h->jump[i].port = j->hop[i].port;
	}
	h->n_jump = j->nhop;
	last = &j->hop[j->nhop - 1];
	num = strchr(last->host, ':') != NULL ||
	    strspn(last->host, "0123456789.") == strlen(last->host);
	strbuf_init(&b);
	if (j->extra != NULL)
		strbuf_addf(&b, "%s,", j->extra);
	if (last->user != NULL)
		strbuf_addf(&b, "%s@", last->user);
	strbuf_addf(&b, num ? "[%s]" : "%s", last->host);
	if (last->port > 0)
		strbuf_addf(&b, ":%d", last->port);
	h->proxy_jump = strbuf_steal(&b);
	if (strcmp(last->host, h->hostname) == 0 && (last->port > 0 ?
	    last->port : 22) == h->port && strcmp(last->user != NULL ?
	    last->user : h->user, h->user) == 0)
		return sc_fail(msg, ERR_INVAL, h->host, 0,
		    "jumphost loop via %s", last->host);
	return 0;
}

/* The result from what the walk obtained, ssh's defaults for the rest. */
static int
build(const struct sshconfig *c, struct sc_walk *w, char *hostname,
    struct sshconfig_host **out, char **msg)
{
	struct sshconfig_host *h = xcalloc(1, sizeof(*h));
	const struct sc_opts *o = &w->o;
	int r;

	h->host = xstrdup(w->host_arg);
	h->hostname = hostname;
	h->user = xstrdup(o->user != NULL ? o->user : c->locuser);
	h->port = o->port > 0 ? o->port : 22;
	h->identities_only = o->idonly == 1;
	h->strict = o->strict >= 0 ? (enum sshconfig_strict)o->strict :
	    SSHCONFIG_STRICT_ASK;
	h->connect_timeout = o->conn_timeout;
	h->server_alive_interval = o->alive > 0 ? o->alive : 0;
	if (o->host_key_alias != NULL) {
		h->host_key_alias = xstrdup(o->host_key_alias);
		sc_lower(h->host_key_alias);
	}
	if (o->proxy_command != NULL && strcasecmp(o->proxy_command,
	    "none") != 0)
		h->proxy_command = xstrdup(o->proxy_command);
	if ((r = jump(o->jump, h, msg)) != 0 ||
	    (r = paths(c, o, h, msg)) != 0) {
		sshconfig_host_free(h);
		return r;
	}
	*out = h;
	return 0;
}

static int
pass(struct sc_walk *w, char **msg)
{
	size_t i;
	int r;

	for (i = 0; i < w->c->nfile; i++)
		if ((r = sc_walk_file(w, w->c->file[i], 1, 0, msg)) != 0)
			return r;
	return 0;
}

int
sshconfig_resolve(const struct sshconfig *c,
    const struct sshconfig_query *q, struct sshconfig_host **out,
    char **msg)
{
	struct sc_walk w;
	char *host = NULL;
	int r;

	*out = NULL;
	if (msg != NULL)
		*msg = NULL;
	memset(&w, 0, sizeof(w));
	sc_opts_init(&w.o);
	w.c = c;
	w.host = w.host_arg = q->host;
	if (q->host == NULL || *q->host == '\0' ||
	    !sc_valid_hostname(q->host)) {
		r = sc_fail(msg, ERR_INVAL, q->host ? q->host : "(null)", 0,
		    "hostname contains invalid characters");
		goto out;
	}
	if (q->port < 0 || q->port > 65535) {
		r = sc_fail(msg, ERR_INVAL, q->host, 0, "bad port %d",
		    q->port);
		goto out;
	}
	if ((r = command_line(&w, q, msg)) != 0 || (r = pass(&w, msg)) != 0 ||
	    (r = final_host(&w, &host, msg)) != 0)
		goto out;
	if (w.o.canon > 0 && w.o.domains == 1) {
		r = sc_fail(msg, ERR_INVAL, q->host, 0, "CanonicalizeHostname "
		    "with CanonicalDomains needs the DNS: not supported");
		goto out;
	}
	if (c->has_final || w.o.canon > 0) {
		w.final = 1;
		w.host = w.o.hostname = host;
		if ((r = pass(&w, msg)) != 0)
			goto out;
	}
	r = build(c, &w, host, out, msg);
	host = NULL;
 out:
	free(host);
	free(w.match_host);
	sc_opts_clear(&w.o);
	return r;
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
sshconfig_host_free(struct sshconfig_host *h)
{
	size_t i;

	if (h == NULL)
		return;
	free(h->host);
	free(h->hostname);
	free(h->user);
	free_list(h->identity_files, h->n_identity_files);
	free_list(h->user_known_hosts, h->n_user_known_hosts);
	free_list(h->global_known_hosts, h->n_global_known_hosts);
	free(h->proxy_jump);
	for (i = 0; i < h->n_jump; i++) {
		free(h->jump[i].user);
		free(h->jump[i].host);
	}
	free(h->jump);
	free(h->proxy_command);
	free(h->host_key_alias);
	free(h);
}

const char *
sshconfig_strict_name(enum sshconfig_strict s)
{
	switch (s) {
	case SSHCONFIG_STRICT_YES:
		return "yes";
	case SSHCONFIG_STRICT_ACCEPT_NEW:
		return "accept-new";
	case SSHCONFIG_STRICT_NO:
		return "no";
	default:
		return "ask";
	}
}
