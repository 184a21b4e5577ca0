/*
 * server.c: rotating the PEM server's six files, restarting PostgreSQL,
 * checking what it serves; rolling all of it back when any step fails.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "crypto/tlsprobe.h"
#include "db.h"
#include "dbtrust.h"
#include "host.h"
#include "inventory/inventory.h"
#include "inventory/pemdb.h"
#include "journal.h"
#include "options.h"
#include "pool.h"
#include "progress.h"
#include "serverfiles.h"

#define SERVER_SUBJECT_BASE \
	"/O=EnterpriseDB Corporation/OU=Postgres Enterprise Manager/CN="

struct newfiles {
	char *data[SF_COUNT];
	size_t len[SF_COUNT];
	int secret[SF_COUNT];
};

static void
newfiles_clear(struct newfiles *nf)
{
	int i;

	for (i = 0; i < SF_COUNT; i++) {
		if (nf->secret[i])
			pki_secret_free(nf->data[i], nf->len[i]);
		else
			free(nf->data[i]);
	}
	memset(nf, 0, sizeof(*nf));
}

/*
 * The i-th name the server may be reached by (NULL if none): the database
 * host, the server's address and inventory name, then each host's
 * agent.cfg pem_host.  whose: the host it comes from; what: its setting.
 */
static const char *
name_candidate(const struct run *r, size_t i, const struct host **whose,
    const char **what)
{
	*whose = i < 3 ? r->server : &r->hosts[i - 3];
	switch (i) {
	case 0:
		*what = "PEM database host";
		return r->pg_host;
	case 1:
		*what = "address";
		return r->server->so.host;
	case 2:
		*what = "inventory name";
		return r->server->inv->name;
	}
	*what = "agent.cfg pem_host";
	return r->hosts[i - 3].pem_host;
}

static void
name_left_out(const struct host *h, const char *what, const char *name,
    const char *why)
{
	char *shown = str_printable(name, 128);

	log_warn("%s: %s \"%s\" %s: left out of the server certificate",
	    h->label, what, shown, why);
	free(shown);
}

/*
 * 1 if name goes in the certificate: an IP address, or a DNS host name
 * without a trailing dot (a wildcard, or any other text that reached
 * agent.cfg, must not become a name the server answers for).
 */
static int
name_usable(const struct host *h, const char *what, const char *name)
{
	if (str_is_ip_address(name))
		return 1;
	if (!str_is_hostname(name)) {
		name_left_out(h, what, name,
		    "is not a host name or IP address");
		return 0;
	}
	return name[strlen(name) - 1] != '.';
}

/* A name "x." is in the certificate only as "x" from another source. */
static void
dotted_names_left_out(const struct run *r, const char **names, size_t n)
{
	const struct host *h;
	const char *cand, *what;
	size_t i, j;

	for (i = 0; i < r->nhosts + 3; i++) {
		cand = name_candidate(r, i, &h, &what);
		if (cand == NULL || *cand == '\0' ||
		    cand[strlen(cand) - 1] != '.' || !str_is_hostname(cand))
			continue;
		for (j = 0; j < n && !str_host_eq(names[j], cand); j++)
			;
		if (j == n)
			name_left_out(h, what, cand, "ends with a dot");
	}
}

/* Names the server is reached by: its certificate's CN and SANs. */
static size_t
server_names(const struct run *r, const char **names, size_t max)
{
	const struct host *h;
	const char *cand, *what;
	size_t n = 0, i, j;

	for (i = 0; i < r->nhosts + 3 && n < max; i++) {
		cand = name_candidate(r, i, &h, &what);
		if (cand == NULL || *cand == '\0' ||
		    !name_usable(h, what, cand))
			continue;
		for (j = 0; j < n && !str_host_eq(names[j], cand); j++)
			;
		if (j == n)
			names[n++] = cand;
	}
	dotted_names_left_out(r, names, n);
	if (n == 0) {	/* the certificate needs a CN: let pki judge it */
		log_warn("%s: no usable name for the server certificate",
		    r->server->label);
		names[n++] = r->server->so.host;
	}
	return n;
}

/* The new CA and server certificate, and the CRL. */
static int
make_server_pki(struct run *r)
{
	const char *names[16];
	char *subj;
	size_t n, len;
	int rc;

	if ((rc = keygen_take(r->kg, (size_t)r->ca_slot, &r->ca_key)) != 0 ||
	    (rc = keygen_take(r->kg, (size_t)r->server_slot,
	    &r->server_key)) != 0)
		return rc;
	if ((rc = pki_cert_make_ca(r->ca_key, r->ca_subject, r->o->days,
	    &r->ca_cert)) != 0)
		return rc;
	pki_cert_fingerprint(r->ca_cert, r->new_ca_fp);
	n = server_names(r, names, 16);
	subj = xasprintf("%s%s", SERVER_SUBJECT_BASE, names[0]);
	rc = pki_cert_make_leaf(r->ca_cert, r->ca_key, r->server_key,
	    PKI_LEAF_SERVER, subj, names, n, r->o->days, &r->server_cert);
	free(subj);
	if (rc != 0)
		return rc;
	if ((rc = pki_cert_to_pem(r->ca_cert, &r->ca_pem, &len)) != 0)
		return rc;
	return pki_crl_make(r->ca_cert, r->ca_key, r->o->days, NULL, 0,
	    &r->crl_pem, &len);
}

static char *
concat(const char *a, const char *b, size_t blen, size_t *len)
{
	size_t alen = strlen(a);
	char *p = xmalloc(alen + blen + 2);

	memcpy(p, a, alen);
	if (alen > 0 && a[alen - 1] != '\n')
		p[alen++] = '\n';
	memcpy(p + alen, b, blen);
	p[alen + blen] = '\0';
	*len = alen + blen;
	return p;
}

/* What each of the six files will hold (overlap: old CAs trusted too). */
static int
build_contents(struct run *r, struct newfiles *nf, int overlap)
{
	const struct server_files *sf = &r->sf;
	int rc;

	if ((rc = pki_key_to_pem(r->ca_key, &nf->data[SF_CA_KEY],
	    &nf->len[SF_CA_KEY])) != 0)
		return rc;
	nf->secret[SF_CA_KEY] = 1;
	if ((rc = pki_key_to_pem(r->server_key, &nf->data[SF_SERVER_KEY],
	    &nf->len[SF_SERVER_KEY])) != 0)
		return rc;
	nf->secret[SF_SERVER_KEY] = 1;
	if ((rc = pki_cert_to_pem(r->server_cert, &nf->data[SF_SERVER_CRT],
	    &nf->len[SF_SERVER_CRT])) != 0)
		return rc;
	nf->data[SF_CA_CRT] = concat(r->ca_pem, "", 0, &nf->len[SF_CA_CRT]);
	nf->data[SF_ROOT_CRT] = concat(r->ca_pem, overlap ?
	    sf->old_root_crt : "", overlap ? sf->old_root_crt_len : 0,
	    &nf->len[SF_ROOT_CRT]);
	nf->data[SF_ROOT_CRL] = concat(r->crl_pem, overlap &&
	    sf->old_root_crl ? sf->old_root_crl : "", overlap &&
	    sf->old_root_crl ? sf->old_root_crl_len : 0,
	    &nf->len[SF_ROOT_CRL]);
	return 0;
}

/*
 * Put the files which[0..n) in place (rfile_put: new names nobody can
 * predict, 0600 from creation, owner kept, originals kept by link(2),
 * rename(2) over the real ones).  *msg on failure.
 */
static int
install_server_files(struct run *r, const int *which, size_t n,
    struct newfiles *nf, char **msg)
{
	struct host *h = r->server;
	struct rfile_new nfs[SF_COUNT];
	size_t i;
	int rc, f;

	if ((rc = host_connect(r, h, msg)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		f = which[i];
		nfs[i] = (struct rfile_new){ &r->sf.f[f], nf->data[f],
		    nf->len[f], NULL };
	}
	return rfile_put(h->conn, nfs, n, msg);
}

/*
 * Wait until PostgreSQL accepts connections again (a ping, no login), then
 * log in once, or time runs out.
 */
static int
wait_for_db(struct run *r, double deadline, char **msg)
{
	while (pemdb_ready(r->conninfo) != 0) {
		if (now_s() > deadline) {
			*msg = xstrdup("PostgreSQL does not accept connections "
			    "again in time");
			return ERR_TIMEOUT;
		}
		usleep(200 * 1000);
	}
	return db_get(r, msg) != NULL ? 0 : ERR_DB;
}

/*
 * check_served, reading the server's side from tls (a database
 * connection's TLS session) when not NULL, else from a probe.
 */
static int
check_served_by(struct run *r, void *tls, const struct pki_cert *expect,
    const struct pki_cert *ca, int ca_names, char **msg)
{
	struct tlsprobe_result res = { 0 };
	char *why = NULL;
	int rc;

	if (tls != NULL)
		rc = tlsprobe_session(tls, &res, &why);
	else
		rc = tlsprobe_pg(r->probe_host ? r->probe_host : r->pg_host,
		    r->probe_port ? r->probe_port : r->pg_port,
		    r->o->timeout_s * 1000, &res, &why);
	if (rc != 0) {
		*msg = xasprintf("TLS probe of %s:%s: %s", r->pg_host,
		    r->pg_port, why);
	} else if (!pki_cert_equal(res.server_cert, expect)) {
		*msg = xstrdup("the server does not serve the expected "
		    "certificate");
		rc = ERR_VERIFY;
	} else if (ca != NULL && (rc = pki_cert_verify(res.server_cert, ca,
	    NULL, 0, r->pg_host, &why)) != 0) {
		*msg = xasprintf("served certificate does not verify against "
		    "the new CA for %s: %s", r->pg_host, why ? why :
		    err_str(rc));
		rc = ERR_VERIFY;
	} else if (ca_names >= 0 && res.n_ca_names != (size_t)ca_names) {
		*msg = xasprintf("the server trusts %zu client CAs, expected "
		    "%d", res.n_ca_names, ca_names);
		rc = ERR_VERIFY;
	}
	tlsprobe_result_clear(&res);
	free(why);
	return rc;
}

/*
 * What the server presents on TLS: expect as its certificate, verifying
 * against ca when not NULL; if ca_names >= 0, that many client CA names.
 */
static int
check_served(struct run *r, const struct pki_cert *expect,
    const struct pki_cert *ca, int ca_names, char **msg)
{
	return check_served_by(r, NULL, expect, ca, ca_names, msg);
}

static int
restart_server(struct run *r, const struct pki_cert *expect,
    const struct pki_cert *ca, char **msg)
{
	double deadline = now_s() + r->o->restart_timeout_s;
	int rc;

	db_drop(r);		/* the restart ends every session */
	rc = host_exec(r, r->server, "restart PostgreSQL", r->sf.restart_cmd,
	    r->o->restart_timeout_s, msg);
	if (rc == 0)
		rc = wait_for_db(r, deadline, msg);
	/*
	 * The database login that just succeeded made a TLS session with the
	 * restarted server: its certificate is what the server serves, with
	 * no probe of its own (a probe when the login is not over TLS).
	 */
	if (rc == 0)
		rc = check_served_by(r, pemdb_tls(r->db), expect, ca, -1, msg);
	return rc;
}

/* pg_reload_conf() on the PEM database. */
static int
reload_server(struct run *r, char **msg)
{
	struct pemdb *db;

	if ((db = db_get(r, msg)) == NULL)
		return ERR_DB;
	if (pemdb_reload(db) == 0)
		return 0;
	*msg = xasprintf("reload: %s", pemdb_errmsg(db));
	return ERR_DB;
}

/*
 * Reload, then check what is served until it is expect (the postmaster
 * reloads asynchronously) or a few seconds pass.
 */
static int
reload_and_check(struct run *r, const struct pki_cert *expect,
    const struct pki_cert *ca, int ca_names, char **msg)
{
	int rc, tries;

	if ((rc = reload_server(r, msg)) != 0)
		return rc;
	for (tries = 0; tries < 20; tries++) {
		free(*msg);
		*msg = NULL;
		rc = check_served(r, expect, ca, ca_names, msg);
		if (rc != ERR_VERIFY)
			break;
		usleep(250 * 1000);
	}
	if (rc == ERR_VERIFY) {
		free(*msg);
		*msg = xstrdup("after a reload PostgreSQL does not serve what "
		    "was written: the new SSL files do not load (see its log: "
		    "\"SSL configuration was not reloaded\")");
	}
	return rc;
}

static const int all_files[SF_COUNT] = {
	SF_CA_KEY, SF_CA_CRT, SF_ROOT_CRT, SF_ROOT_CRL, SF_SERVER_KEY,
	SF_SERVER_CRT,
};

/*
 * Put the original six files back and make PostgreSQL use them: a restart
 * if it was restarted on the new ones, else a reload.  Checks the original
 * certificate is served.  Also used by resume.
 */
int
server_restore(struct run *r, int restart)
{
	struct host *h = r->server;
	struct rfile *f[SF_COUNT];
	char *msg = NULL;
	int i, rc;

	for (i = 0; i < SF_COUNT; i++)
		f[i] = &r->sf.f[i];
	if ((rc = host_connect(r, h, &msg)) == 0)
		rc = rfile_restore(h->conn, f, SF_COUNT, &msg);
	/* what is on disk now is the original to expect */
	if (rc == 0)
		rc = serverfiles_reread(r, &msg);
	if (rc == 0 && restart)
		rc = restart_server(r, r->sf.old_server_cert, NULL, &msg);
	else if (rc == 0)
		rc = reload_and_check(r, r->sf.old_server_cert, NULL, -1,
		    &msg);
	if (rc != 0) {
		log_error("ROLLBACK FAILED on %s: %s. The original files are "
		    "kept as <file>%s next to each file in %s; put them back "
		    "and restart PostgreSQL by hand.", h->label, msg,
		    r->suffix, r->sf.data_dir);
		r->result = RUN_ROLLBACK_FAILED;
	} else {
		log_info("the PEM server runs on its original files again");
		r->result = RUN_ROLLED_BACK;
	}
	journal_add(r->journal, JK_SERVER, rc ? JV_SERVER_ROLLBACK_FAILED :
	    JV_SERVER_ROLLED_BACK);
	free(msg);
	return rc;
}

int
server_ensure_serving(struct run *r)
{
	char *msg = NULL;
	int rc;

	if (check_served(r, r->server_cert, r->ca_cert, -1, &msg) == 0)
		return 0;
	free(msg);
	msg = NULL;
	log_info("PostgreSQL does not serve the new certificate yet: "
	    "restarting it");
	rc = restart_server(r, r->server_cert, r->ca_cert, &msg);
	if (rc != 0)
		r->error = xasprintf("resume: %s", msg);
	free(msg);
	return rc;
}

/*
 * Install the six files, prove they load with a reload (a reload that
 * fails keeps the old SSL context, so the server never goes down on a bad
 * file), then restart as PEM's procedure wants and check again.
 */
static int
rotate_server_files(struct run *r, char **msg)
{
	struct newfiles nf = { { 0 }, { 0 }, { 0 } };
	int rc;

	if ((rc = build_contents(r, &nf, !r->o->no_overlap)) == 0) {
		journal_add(r->journal, JK_NEW_CA, r->new_ca_fp);
		journal_add(r->journal, JK_SERVER, JV_SERVER_INSTALLING);
		journal_sync(r->journal);
		rc = install_server_files(r, all_files, SF_COUNT, &nf, msg);
		r->sf.replaced = (rc == 0 || rc == ERR_REMOTE_CMD);
	}
	newfiles_clear(&nf);
	if (rc != 0)
		return rc;
	journal_add(r->journal, JK_SERVER, JV_SERVER_INSTALLED);
	if ((rc = reload_and_check(r, r->server_cert, r->ca_cert, -1,
	    msg)) != 0)
		return rc;
	log_info("the new files load; restarting PostgreSQL on %s",
	    r->server->label);
	r->sf.restarted = 1;
	return restart_server(r, r->server_cert, r->ca_cert, msg);
}

int
server_phase(struct run *r)
{
	struct host *h = r->server;
	char *msg = NULL, why[256];
	int rc;

	h->t0 = now_s();
	log_info("rotating the PEM server's files on %s", h->label);
	if ((rc = make_server_pki(r)) != 0) {
		pki_last_error(why, sizeof(why));
		msg = xasprintf("generate the new CA and server "
		    "certificate: %s", why);
	} else {
		progress_cpu_mark("the server's new keys and certificates");
		/* the reload below serves a certificate of the new CA */
		if ((rc = dbtrust_follow_ca(r, r->ca_pem, &msg)) == 0)
			rc = rotate_server_files(r, &msg);
	}
	if (rc != 0) {
		host_fail(h, "server", "%s", msg ? msg : err_str(rc));
		if (r->sf.replaced)
			server_restore(r, r->sf.restarted);
		else
			r->result = RUN_ROLLED_BACK;
	} else {
		journal_add(r->journal, JK_SERVER, JV_SERVER_DONE);
		journal_sync(r->journal);
	}
	free(msg);
	h->seconds += now_s() - h->t0;
	return rc;
}

/*
 * New root.crt and root.crl (either NULL: left as it is) through the
 * trusted file primitive, a reload, and the check from outside that the
 * server still serves expect (verifying against ca when not NULL) and
 * asks for ca_names client CAs (-1: not checked).  A reload that fails to load keeps the old SSL context, so
 * the check retries for a few seconds while the postmaster catches up.
 */
int
server_put_roots(struct run *r, const char *root_crt, const char *root_crl,
    const struct pki_cert *expect, const struct pki_cert *ca, int ca_names,
    char **msg)
{
	struct newfiles nf = { { 0 }, { 0 }, { 0 } };
	int which[2], rc;
	size_t n = 0;

	if (root_crt != NULL) {
		which[n++] = SF_ROOT_CRT;
		nf.data[SF_ROOT_CRT] = xstrdup(root_crt);
		nf.len[SF_ROOT_CRT] = strlen(root_crt);
	}
	if (root_crl != NULL) {
		which[n++] = SF_ROOT_CRL;
		nf.data[SF_ROOT_CRL] = xstrdup(root_crl);
		nf.len[SF_ROOT_CRL] = strlen(root_crl);
	}
	rc = install_server_files(r, which, n, &nf, msg);
	newfiles_clear(&nf);
	if (rc == 0)
		rc = reload_and_check(r, expect, ca, ca_names, msg);
	return rc;
}

/*
 * End the overlap: root.crt = the new CA alone, root.crl = its CRL,
 * reloaded, and checked from outside: the server must ask for exactly one
 * client CA.
 */
int
server_finalize(struct run *r)
{
	char *msg = NULL;
	int rc;

	log_info("finalizing: %s trusts only the new CA",
	    r->sf.path[SF_ROOT_CRT]);
	rc = server_put_roots(r, r->ca_pem, r->crl_pem, r->server_cert,
	    r->ca_cert, 1, &msg);
	if (rc != 0) {
		log_error("finalize failed: %s; the old CA is still trusted",
		    msg);
		free(r->error);
		r->error = xasprintf("finalize: %s", msg);
	}
	free(msg);
	return rc;
}
