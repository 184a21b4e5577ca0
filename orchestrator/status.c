/*
 * status.c: every certificate of the estate as it is now: the PEM CA,
 * root.crt's CAs, the server's certificate as served and as on disk, each
 * agent's; whether it chains to a CA of root.crt, is revoked by root.crl,
 * matches its key, belongs to an active agent.  Reads only: key files are
 * read into secret memory, compared by their public half, and wiped.
 */
#include "status.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "crypto/tlsprobe.h"
#include "host.h"
#include "inventory/inventory.h"
#include "options.h"
#include "pool.h"

#define CERT_MAX	(1024 * 1024)
#define KEY_MAX		(64 * 1024)

static const char *const role_names[SR_COUNT] = {
	"ca", "root_ca", "server_tls", "server_file", "agent",
};

static const char *const problem_names[SP_COUNT] = {
	"expiring", "not_chaining", "revoked", "key_mismatch", "inactive",
	"error",
};

const char *
status_role_name(enum status_role role)
{
	return role < SR_COUNT ? role_names[role] : "?";
}

const char *
status_problem_name(enum status_problem p)
{
	return p < SP_COUNT ? problem_names[p] : "?";
}

/* What every certificate is judged against: root.crt and root.crl. */
struct trust {
	struct pki_cert **roots;
	size_t nroots;
	const char *crl;
	size_t crl_len;
};

struct ctx {
	struct run *r;
	struct status *st;
	const struct trust *t;
	size_t *slot;		/* per host: its row, or (size_t)-1 */
};

static struct status_cert *
add_row(struct status *st, enum status_role role, const char *host,
    const char *source)
{
	struct status_cert *c;

	st->c = xrealloc(st->c, (st->n + 1) * sizeof(*st->c));
	c = &st->c[st->n++];
	memset(c, 0, sizeof(*c));
	c->role = role;
	c->host = xstrdup(host);
	c->source = xstrdup(source);
	c->chains = c->revoked = c->key_matches = c->active = ST_NA;
	return c;
}

static void
row_error(struct status_cert *c, const char *what)
{
	if (c->error == NULL)
		c->error = str_printable(what, 500);
	c->problems |= 1u << SP_ERROR;
}

/* Dates, issuer and revocation of a certificate that was read. */
static void
judge(const struct status *st, const struct trust *t, struct status_cert *c,
    const struct pki_cert *crt)
{
	size_t i;
	int rv;

	c->have = 1;
	pki_cert_subject(crt, c->subject, sizeof(c->subject));
	pki_cert_serial(crt, c->serial, sizeof(c->serial));
	c->not_after = pki_cert_not_after(crt);
	c->days_left = (long)((c->not_after - st->now) / 86400);
	if (c->not_after < st->now)
		c->days_left = -(long)((st->now - c->not_after + 86399) /
		    86400);
	if (c->not_after - st->now < (time_t)st->warn_days * 86400)
		c->problems |= 1u << SP_EXPIRING;
	c->chains = ST_NO;
	for (i = 0; i < t->nroots; i++) {
		if (!pki_cert_issued_by(crt, t->roots[i]))
			continue;
		c->chains = ST_YES;
		if (c->role == SR_CA || c->role == SR_ROOT_CA ||
		    t->crl == NULL)
			continue;
		rv = pki_crl_revokes(t->crl, t->crl_len, t->roots[i], crt);
		if (rv == 1 || c->revoked == ST_NA)
			c->revoked = rv == 1 ? ST_YES : rv == 0 ? ST_NO : ST_NA;
	}
	if (c->chains == ST_NO)
		c->problems |= 1u << SP_UNCHAINED;
	if (c->revoked == ST_YES)
		c->problems |= 1u << SP_REVOKED;
}

static void
judge_key(struct status_cert *c, const struct pki_key *key,
    const struct pki_cert *crt)
{
	c->key_matches = pki_key_matches_cert(key, crt) ? ST_YES : ST_NO;
	if (c->key_matches == ST_NO)
		c->problems |= 1u << SP_KEY_MISMATCH;
}

/* A private key file into memory only (secret, wiped); 0 or why. */
static int
read_key(struct host *h, const struct rfile *f, struct pki_key **key,
    char **msg)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*key = NULL;
	if ((rc = rfile_read(h->conn, f, KEY_MAX, 1, &buf, &len)) != 0) {
		*msg = xasprintf("read %s: %s", f->path,
		    sshconn_errmsg(h->conn));
		return rc;
	}
	if ((rc = pki_key_from_pem(buf, len, key)) != 0)
		*msg = xasprintf("%s holds no private key pemrotate can read",
		    f->path);
	secret_free(buf);
	return rc;
}

static int
read_cert(struct host *h, const struct rfile *f, struct pki_cert **crt,
    char **msg)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*crt = NULL;
	if ((rc = rfile_read(h->conn, f, CERT_MAX, 0, &buf, &len)) != 0) {
		*msg = xasprintf("read %s: %s", f->path,
		    sshconn_errmsg(h->conn));
		return rc;
	}
	if ((rc = pki_cert_from_pem(buf, len, crt)) != 0)
		*msg = xasprintf("%s holds no certificate", f->path);
	free(buf);
	return rc;
}

static int
is_active(const struct run *r, long id)
{
	size_t lo = 0, hi = r->nactive, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->active_ids[mid] == id)
			return 1;
		if (r->active_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* One agent host: its certificate and key, over its SSH session. */
static void
agent_one(void *arg, size_t i)
{
	struct ctx *x = arg;
	struct host *h = &x->r->hosts[i];
	struct status_cert *c;
	struct pki_cert *crt = NULL;
	struct pki_key *key = NULL;
	char *msg = NULL;

	if (x->slot[i] == (size_t)-1)
		return;
	c = &x->st->c[x->slot[i]];
	if (h->status == HS_FAILED || h->status == HS_SKIPPED) {
		row_error(c, h->error ? h->error : "preflight failed");
		return;
	}
	c->active = is_active(x->r, h->agent_id) ? ST_YES : ST_NO;
	if (c->active == ST_NO)
		c->problems |= 1u << SP_INACTIVE;
	if (host_connect(x->r, h, &msg) != 0 ||
	    read_cert(h, &h->cf, &crt, &msg) != 0) {
		row_error(c, msg);
		goto out;
	}
	judge(x->st, x->t, c, crt);
	if (!h->kf.exists)
		row_error(c, "its key file is not there");
	else if (read_key(h, &h->kf, &key, &msg) != 0)
		row_error(c, msg);
	else
		judge_key(c, key, crt);
 out:
	pki_key_free(key);
	pki_cert_free(crt);
	free(msg);
	host_release(x->r, h);
}

/* A row per agent host, in inventory order, filled in parallel. */
static void
collect_agents(struct run *r, struct status *st, const struct trust *t)
{
	struct ctx x = { r, st, t, NULL };
	struct host *h;
	size_t i;

	x.slot = xcalloc(r->nhosts, sizeof(*x.slot));
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		x.slot[i] = (size_t)-1;
		if (!h->is_agent)
			continue;
		x.slot[i] = st->n;
		add_row(st, SR_AGENT, h->inv->name, h->crt_path ?
		    h->crt_path : "")->agent_id = h->agent_id;
	}
	par_for(r->nhosts, r->o->parallel, agent_one, &x, &r->stop);
	free(x.slot);
}

/* ---- the server ---- */

static void
collect_cas(struct run *r, struct status *st, const struct trust *t)
{
	const struct server_files *sf = &r->sf;
	const char *host = r->server->inv->name;
	struct status_cert *c;
	size_t i;

	if (sf->old_ca != NULL) {
		c = add_row(st, SR_CA, host, sf->path[SF_CA_CRT]);
		judge(st, t, c, sf->old_ca);
	} else if (sf->exists[SF_CA_CRT]) {
		c = add_row(st, SR_CA, host, sf->path[SF_CA_CRT]);
		row_error(c, "it holds no certificate");
	}
	for (i = 0; i < t->nroots; i++)
		judge(st, t, add_row(st, SR_ROOT_CA, host,
		    sf->path[SF_ROOT_CRT]), t->roots[i]);
}

/* What PostgreSQL serves, taken from a TLS probe (NULL on failure). */
static struct pki_cert *
served_cert(struct run *r, char **msg)
{
	struct tlsprobe_result res = { 0 };
	struct pki_cert *crt = NULL;
	char *why = NULL;

	if (tlsprobe_pg(r->probe_host ? r->probe_host : r->pg_host,
	    r->probe_port ? r->probe_port : r->pg_port,
	    r->o->timeout_s * 1000, &res, &why) == 0) {
		crt = res.server_cert;
		res.server_cert = NULL;
	} else {
		*msg = xasprintf("TLS probe: %s", why ? why : "failed");
	}
	tlsprobe_result_clear(&res);
	free(why);
	return crt;
}

static void
collect_server(struct run *r, struct status *st, const struct trust *t,
    const struct pki_key *key, const char *key_error)
{
	const char *host = r->server->inv->name;
	struct status_cert *c;
	struct pki_cert *tls;
	char *where, *msg = NULL;

	where = xasprintf("%s:%s", r->pg_host, r->pg_port);
	c = add_row(st, SR_SERVER_TLS, host, where);
	free(where);
	if ((tls = served_cert(r, &msg)) == NULL)
		row_error(c, msg);
	else
		judge(st, t, c, tls);
	if (tls != NULL && key != NULL)
		judge_key(c, key, tls);
	c = add_row(st, SR_SERVER_FILE, host, r->sf.path[SF_SERVER_CRT]);
	judge(st, t, c, r->sf.old_server_cert);
	if (key != NULL)
		judge_key(c, key, r->sf.old_server_cert);
	else
		row_error(c, key_error);
	pki_cert_free(tls);
	free(msg);
}

/* The server's rows; server.key in memory only for the comparison. */
static void
collect_server_all(struct run *r, struct status *st, struct trust *t)
{
	struct host *h = r->server;
	struct pki_key *key = NULL;
	char *msg = NULL;

	if (r->sf.old_root_crt != NULL && pki_certs_from_pem(
	    r->sf.old_root_crt, r->sf.old_root_crt_len, &t->roots,
	    &t->nroots) != 0)
		row_error(add_row(st, SR_ROOT_CA, h->inv->name,
		    r->sf.path[SF_ROOT_CRT]), "it holds no certificate");
	t->crl = r->sf.old_root_crl;
	t->crl_len = r->sf.old_root_crl_len;
	collect_cas(r, st, t);
	if (host_connect(r, h, &msg) == 0)
		read_key(h, &r->sf.f[SF_SERVER_KEY], &key, &msg);
	collect_server(r, st, t, key, msg);
	pki_key_free(key);
	free(msg);
	host_release(r, h);
}

void
status_collect(struct run *r, struct status *st)
{
	struct trust t = { NULL, 0, NULL, 0 };
	struct status_cert *c;
	size_t i;
	int p;

	st->now = time(NULL);
	st->warn_days = r->o->warn_days;
	if (r->server->status != HS_FAILED && r->sf.old_server_cert != NULL)
		collect_server_all(r, st, &t);
	else
		row_error(add_row(st, SR_SERVER_FILE, r->server->inv->name,
		    r->sf.path[SF_SERVER_CRT] ? r->sf.path[SF_SERVER_CRT] :
		    ""), r->server->error ? r->server->error :
		    "the server's files were not read");
	collect_agents(r, st, &t);
	pki_certs_free(t.roots, t.nroots);
	for (i = 0; i < st->n; i++) {
		c = &st->c[i];
		for (p = 0; p < SP_COUNT; p++)
			st->count[p] += (c->problems >> p) & 1;
	}
}

void
status_free(struct status *st)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		free(st->c[i].host);
		free(st->c[i].source);
		free(st->c[i].error);
	}
	free(st->c);
	memset(st, 0, sizeof(*st));
}
