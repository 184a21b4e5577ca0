/*
 * serverfiles.c: the PEM server's six SSL files: where they are, who acts
 * on them, what they hold now (read in the preflight, re-read by a
 * rollback and a resume), how PostgreSQL is restarted.
 */
#include "serverfiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "host.h"
#include "options.h"
#include "postmaster.h"

#define PUBLIC_FILE_MAX		(4 * 1024 * 1024)
#define SECRET_MAX		(64 * 1024)	/* RSA-4096 is 3.3 KB */

static const char *sfile_name[SF_COUNT] = {
	"ca_key.key", "ca_certificate.crt", "root.crt", "root.crl",
	"server.key", "server.crt",
};

const char *
serverfiles_label(enum sfile f)
{
	return sfile_name[f];
}

/*
 * A path PostgreSQL reported, under pem_data_dir when the inventory names
 * the data directory (the same directory seen by another name).
 */
static char *
rebase(const char *path, const char *db_dir, const char *dir)
{
	size_t n = strlen(db_dir);

	if (path == NULL)
		return NULL;
	if (strcmp(dir, db_dir) != 0 && strncmp(path, db_dir, n) == 0 &&
	    path[n] == '/')
		return xasprintf("%s%s", dir, path + n);
	return xstrdup(path);
}

/*
 * The six paths: in the data directory found on the server host
 * (dbtrust_look), the database's ssl_*_file settings (checked by
 * dbtrust_check_answer) seen from there.
 */
void
serverfiles_paths(struct run *r)
{
	struct server_files *sf = &r->sf;
	const char *db = r->ssl.data_directory;
	const char *d = sf->data_dir;

	sf->path[SF_CA_KEY] = xasprintf("%s/ca_key.key", d);
	sf->path[SF_CA_CRT] = xasprintf("%s/ca_certificate.crt", d);
	sf->path[SF_ROOT_CRT] = rebase(r->ssl.ca_file, db, d);
	sf->path[SF_ROOT_CRL] = r->ssl.crl_file != NULL ?
	    rebase(r->ssl.crl_file, db, d) : xasprintf("%s/root.crl", d);
	sf->path[SF_SERVER_KEY] = rebase(r->ssl.key_file, db, d);
	sf->path[SF_SERVER_CRT] = rebase(r->ssl.cert_file, db, d);
}

/* A public server file, read as whoever acts on it. */
static int
read_public(struct run *r, struct host *h, enum sfile i, char **buf,
    size_t *len, char **msg)
{
	int rc;

	rc = rfile_read(h->conn, &r->sf.f[i], PUBLIC_FILE_MAX, 0, buf, len);
	if (rc != 0)
		*msg = xasprintf("read %s", sshconn_errmsg(h->conn));
	return rc;
}

static int
read_server_certs(struct run *r, struct host *h, char **msg)
{
	struct server_files *sf = &r->sf;
	char *buf = NULL;
	size_t len;
	int rc;

	if ((rc = read_public(r, h, SF_ROOT_CRT, &sf->old_root_crt,
	    &sf->old_root_crt_len, msg)) != 0)
		return rc;
	if (sf->exists[SF_ROOT_CRL] && (rc = read_public(r, h, SF_ROOT_CRL,
	    &sf->old_root_crl, &sf->old_root_crl_len, msg)) != 0)
		return rc;
	if (sf->exists[SF_CA_CRT]) {
		if ((rc = read_public(r, h, SF_CA_CRT, &buf, &len, msg)))
			return rc;
		if (pki_cert_from_pem(buf, len, &sf->old_ca) == 0)
			pki_cert_fingerprint(sf->old_ca, r->old_ca_fp);
		free(buf);
	}
	if ((rc = read_public(r, h, SF_SERVER_CRT, &buf, &len, msg)))
		return rc;
	rc = pki_cert_from_pem(buf, len, &sf->old_server_cert);
	free(buf);
	if (rc != 0)
		*msg = xasprintf("%s holds no certificate",
		    sf->path[SF_SERVER_CRT]);
	return rc;
}

int
serverfiles_reread(struct run *r, char **msg)
{
	struct server_files *sf = &r->sf;

	*msg = NULL;
	free(sf->old_root_crt);
	free(sf->old_root_crl);
	pki_cert_free(sf->old_ca);
	pki_cert_free(sf->old_server_cert);
	sf->old_root_crt = sf->old_root_crl = NULL;
	sf->old_ca = sf->old_server_cert = NULL;
	r->old_ca_fp[0] = '\0';
	return read_server_certs(r, r->server, msg);
}

static int
stat_server_files(struct run *r, struct host *h, char **msg)
{
	struct server_files *sf = &r->sf;
	struct sftp_stat st;
	int i, rc;

	if ((rc = sftp_stat(h->conn, sf->data_dir, &st)) != 0 ||
	    !st.is_dir) {
		*msg = xasprintf("data directory %s: %s", sf->data_dir,
		    rc ? sshconn_errmsg(h->conn) : "not a directory");
		return rc ? rc : ERR_INVAL;
	}
	sf->data_uid = (long)st.uid;
	sf->data_gid = (long)st.gid;
	for (i = 0; i < SF_COUNT; i++) {
		if (str_has_ctrl(sf->path[i]) || sf->path[i][0] != '/') {
			*msg = xasprintf("unusable path for %s", sfile_name[i]);
			return ERR_INVAL;
		}
		/* a new file gets the data directory's owner */
		if ((rc = host_resolve_target(r, h, sfile_name[i], sf->path[i],
		    sf->data_uid, sf->data_gid, &sf->f[i], msg)) != 0)
			return rc;
		free(sf->path[i]);
		sf->path[i] = xstrdup(sf->f[i].path);
		sf->exists[i] = sf->f[i].exists;
		sf->uid[i] = sf->f[i].uid;
		sf->gid[i] = sf->f[i].gid;
	}
	if (!sf->exists[SF_ROOT_CRT] || !sf->exists[SF_SERVER_CRT] ||
	    !sf->exists[SF_SERVER_KEY]) {
		*msg = xasprintf("the server's SSL files are missing (%s, %s, "
		    "%s must exist)", sf->path[SF_ROOT_CRT],
		    sf->path[SF_SERVER_CRT], sf->path[SF_SERVER_KEY]);
		return ERR_NOTFOUND;
	}
	return 0;
}

/*
 * pem_server_restart_cmd, else from the postmaster the kernel showed
 * (never from postmaster.pid, which its owner can write).
 */
static int
detect_restart(struct run *r, struct host *h, char **msg)
{
	char *why;
	int rc;

	if ((r->sf.restart_cmd = host_dupvar(r, h, "pem_server_restart_cmd",
	    NULL)) != NULL)
		return 0;
	if (r->pm == NULL)
		return ERR_INTERNAL;	/* dbtrust_look saw to it */
	rc = postmaster_restart_cmd(h->conn, r->pm, r->o->restart_timeout_s,
	    &r->sf.restart_cmd, &why);
	if (rc != 0)
		*msg = xasprintf("cannot tell how to restart PostgreSQL: %s; "
		    "set pem_server_restart_cmd", why);
	free(why);
	return rc;
}

/* The keys can be read (for a rollback's sake) without reading them. */
static int
check_server_keys(struct run *r, struct host *h, char **msg)
{
	static const int keys[2] = { SF_CA_KEY, SF_SERVER_KEY };
	int i, rc = 0;

	for (i = 0; i < 2; i++) {
		if (!r->sf.exists[keys[i]])
			continue;
		rfile_use(h->conn, &r->sf.f[keys[i]]);
		if ((rc = sftp_check_readable(h->conn,
		    r->sf.path[keys[i]])) != 0) {
			*msg = xstrdup(sshconn_errmsg(h->conn));
			break;
		}
	}
	sftp_as(h->conn, NULL);
	return rc;
}

/* Each directory of the six files takes a new file. */
static int
probe_dirs(struct run *r, struct host *h, char **msg)
{
	struct rfile *f[SF_COUNT];
	int i;

	for (i = 0; i < SF_COUNT; i++)
		f[i] = &r->sf.f[i];
	return host_probe_dirs(r, h, f, SF_COUNT, msg);
}

int
serverfiles_preflight(struct run *r, struct host *h)
{
	char *msg = NULL;
	int rc;

	if ((rc = stat_server_files(r, h, &msg)) == 0 &&
	    (rc = read_server_certs(r, h, &msg)) == 0 &&
	    (rc = check_server_keys(r, h, &msg)) == 0 && !r->read_only &&
	    (rc = probe_dirs(r, h, &msg)) == 0)
		rc = detect_restart(r, h, &msg);
	if (rc != 0)
		host_fail(h, "preflight", "%s", msg ? msg : err_str(rc));
	free(msg);
	return rc;
}

int
serverfiles_ca_key(struct run *r, struct pki_key **key, char **msg)
{
	struct host *h = r->server;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*key = NULL;
	if ((rc = host_connect(r, h, msg)) != 0)
		return rc;
	rc = rfile_read(h->conn, &r->sf.f[SF_CA_KEY], SECRET_MAX, 1, &buf,
	    &len);
	if (rc != 0) {
		*msg = xasprintf("read the CA key: %s", sshconn_errmsg(h->conn));
		return rc;
	}
	rc = pki_key_from_pem(buf, len, key);
	secret_free(buf);
	if (rc == 0 && (r->sf.old_ca == NULL ||
	    !pki_key_matches_cert(*key, r->sf.old_ca)))
		rc = ERR_MISMATCH;
	if (rc != 0) {
		pki_key_free(*key);
		*key = NULL;
		*msg = xasprintf("%s does not hold the key of %s",
		    r->sf.path[SF_CA_KEY], r->sf.path[SF_CA_CRT]);
	}
	return rc;
}
