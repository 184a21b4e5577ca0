/*
 * dbtrust.c: the PEM database believed only as far as it is verified
 * (see dbtrust.h).
 */
#include "dbtrust.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "host.h"
#include "inventory/pemdb.h"
#include "options.h"
#include "journal.h"
#include "postmaster.h"
#include "runtypes.h"
#include "transport/knownhosts.h"

#define CA_FILE_MAX	(4 * 1024 * 1024)

/* ---- the connection string ---- */

int
dbtrust_conninfo(struct run *r)
{
	struct pemdb_target t;
	char *msg, *mode;
	int rc;

	if ((rc = pemdb_target(r->conninfo, &t, &msg)) != 0) {
		r->error = xasprintf("PEM database connection string: %s", msg);
		free(msg);
		return rc;
	}
	r->db_port = atoi(t.port);
	if (t.socket) {
		log_debug("PEM database: a Unix-domain socket, no TLS");
	} else if (t.sslmode != NULL && !pemdb_sslmode_verifies(t.sslmode)) {
		mode = str_printable(t.sslmode, 40);
		if (!r->o->allow_unverified_db) {
			r->error = xasprintf("the PEM database connection "
			    "would not verify the server (sslmode=%s); use "
			    "sslmode=verify-ca or verify-full, or pass "
			    "--allow-unverified-db", mode);
			rc = ERR_UNSAFE;
		} else {
			log_info("--allow-unverified-db: the PEM database's "
			    "certificate is not verified (sslmode=%s)", mode);
		}
		free(mode);
	} else {
		r->db_verify = 1;
		if (t.sslmode == NULL)
			r->db_tls.sslmode = "verify-ca";
		if (t.sslrootcert != NULL)
			r->op_rootcert = xstrdup(t.sslrootcert);
	}
	pemdb_target_clear(&t);
	return rc;
}

/* ---- the sslrootcert file ---- */

/* r->rootcert_pem into r->rootcert (public: 0644), replaced atomically. */
static int
rootcert_write(struct run *r, char **msg)
{
	size_t len = strlen(r->rootcert_pem), done = 0;
	char *tmp;
	ssize_t n;
	int fd, rc = 0;

	if (r->rootcert == NULL)
		r->rootcert = xasprintf("%s/%s.rootcert.pem", r->state_dir,
		    r->run_id);
	tmp = xasprintf("%s.tmp", r->rootcert);
	if (journal_mkdirs(r->state_dir) != 0 || (fd = open(tmp, O_WRONLY |
	    O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
		*msg = xasprintf("%s: %s", tmp, strerror(errno));
		free(tmp);
		return ERR_IO;
	}
	while (done < len && (n = write(fd, r->rootcert_pem + done,
	    len - done)) > 0)
		done += (size_t)n;
	if (done < len || fchmod(fd, 0644) != 0 || fsync(fd) != 0)
		rc = ERR_IO;
	if (close(fd) != 0 || (rc == 0 && rename(tmp, r->rootcert) != 0))
		rc = ERR_IO;
	if (rc != 0) {
		*msg = xasprintf("%s: %s", r->rootcert, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* ---- the PEM CA, from the server host ---- */

/* A public file of the server host (one place, for a safe-read layer). */
static int
read_server_ca(struct run *r, struct host *h, const char *path, char **pem,
    size_t *len, char **why)
{
	struct rfile f;
	int rc;

	/* as whoever acts in that directory: a link there cannot steer root */
	rc = rfile_resolve(h->conn, &r->rx, path, -1, -1,
	    host_var(r, h, "pem_sftp_server"), &f, why);
	if (rc == 0 && !f.exists)
		rc = ERR_NOTFOUND;
	if (rc == 0 && (rc = rfile_read(h->conn, &f, CA_FILE_MAX, 0, pem,
	    len)) != 0)
		*why = xstrdup(sshconn_errmsg(h->conn));
	rfile_clear(&f);
	return rc;
}

/* Append the certificates at path; a missing file is fine if optional. */
static int
add_ca(struct run *r, struct strbuf *b, const char *path, int optional,
    char **msg)
{
	struct host *h = r->server;
	struct pki_cert *cert = NULL;
	char *pem = NULL, *why = NULL;
	size_t len;
	int rc;

	rc = read_server_ca(r, h, path, &pem, &len, &why);
	if (rc == ERR_NOTFOUND && optional) {
		free(why);
		return 0;
	}
	if (rc != 0) {
		*msg = xasprintf("the PEM CA, to verify the database with: %s",
		    why ? why : err_str(rc));
		free(why);
		return rc;
	}
	if ((rc = pki_cert_from_pem(pem, len, &cert)) != 0 ||
	    strstr(pem, "PRIVATE KEY") != NULL) {
		*msg = xasprintf("%s holds no certificate, or more", path);
		rc = rc ? rc : ERR_UNSAFE;
	} else {
		strbuf_add(b, pem, len);
		if (len > 0 && pem[len - 1] != '\n')
			strbuf_adds(b, "\n");
	}
	pki_cert_free(cert);
	freezero(pem, len + 1);
	return rc;
}

/* The operator's own sslrootcert: what is trusted until the new CA. */
static int
read_own_rootcert(struct run *r)
{
	struct strbuf b;
	char buf[4096];
	size_t n;
	FILE *f;

	if ((f = fopen(r->op_rootcert, "re")) == NULL) {
		r->error = xasprintf("sslrootcert %s: %s", r->op_rootcert,
		    strerror(errno));
		return ERR_IO;
	}
	strbuf_init(&b);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 &&
	    b.len < CA_FILE_MAX)
		strbuf_add(&b, buf, n);
	fclose(f);
	r->rootcert_pem = strbuf_steal(&b);
	return 0;
}

/*
 * ca_certificate.crt of the data directory (on resume also the copy the
 * run kept of it: the server may serve either): the CAs trusted until the
 * new one.
 */
static int
read_server_cas(struct run *r, char **msg)
{
	struct strbuf b;
	char *path, *backup;
	int rc;

	path = xasprintf("%s/ca_certificate.crt", r->sf.data_dir);
	backup = rfile_bak_name(&r->rx, path);
	strbuf_init(&b);
	rc = add_ca(r, &b, path, 0, msg);
	if (rc == 0 && r->resume != NULL)
		rc = add_ca(r, &b, backup, 1, msg);
	r->rootcert_pem = strbuf_steal(&b);
	if (rc == 0)
		r->ca_origin = xasprintf("%s:%s", r->server->label, path);
	free(backup);
	free(path);
	return rc;
}

/* The CAs read from the server into our sslrootcert file (r->error). */
static int
trust_server_cas(struct run *r)
{
	char *msg = NULL;
	int rc;

	if ((rc = rootcert_write(r, &msg)) != 0) {
		r->error = xasprintf("the PEM CA for the database: %s", msg);
		free(msg);
		return rc;
	}
	r->db_tls.sslrootcert = r->rootcert;
	return 0;
}

/* ---- the server host ---- */

static int
find_postmaster(struct run *r, struct host *h, char **msg)
{
	char *why;
	int rc;

	r->pm = xcalloc(1, sizeof(*r->pm));
	rc = postmaster_find(h->conn, r->db_port, r->pm, &why);
	if (rc == 0) {
		log_debug("%s: the postmaster on port %d is pid %ld, in %s",
		    h->label, r->db_port, r->pm->pid, r->pm->data_dir);
		return 0;
	}
	free(r->pm);
	r->pm = NULL;
	if (host_var_nonempty(r, h, "pem_data_dir") != NULL &&
	    host_var_nonempty(r, h, "pem_server_restart_cmd") != NULL) {
		log_info("%s: %s; using pem_data_dir and "
		    "pem_server_restart_cmd", h->label, why);
		free(why);
		return 0;
	}
	*msg = xasprintf("the PostgreSQL listening on port %d: %s",
	    r->db_port, why);
	free(why);
	return rc;
}

/* The server host's side: its postmaster, data directory and PEM CA. */
static int
look_at_server(struct run *r, struct host *h, char **msg)
{
	const char *dir;
	int rc;

	if ((rc = host_connect(r, h, msg)) != 0 ||
	    (rc = find_postmaster(r, h, msg)) != 0)
		return rc;
	if ((dir = host_var_nonempty(r, h, "pem_data_dir")) == NULL)
		dir = r->pm->data_dir;
	if (dir[0] != '/' || str_has_ctrl(dir)) {
		*msg = xstrdup("pem_data_dir must be an absolute path without "
		    "control characters");
		return ERR_INVAL;
	}
	r->sf.data_dir = xstrdup(dir);
	if (r->db_verify && r->op_rootcert == NULL)
		return read_server_cas(r, msg);
	return 0;
}

int
dbtrust_look(struct run *r)
{
	struct host *h = r->server;
	char *msg = NULL;
	int rc;

	h->known_lines = known_hosts_for(h->kh, h->so.host, h->so.port);
	h->so.known_lines = h->known_lines;
	if ((rc = look_at_server(r, h, &msg)) != 0) {
		host_fail(h, "preflight", "%s", msg ? msg : err_str(rc));
		free(msg);
		return rc;
	}
	if (!r->db_verify)
		return 0;
	return r->op_rootcert != NULL ? read_own_rootcert(r) :
	    trust_server_cas(r);
}

/* ---- the database's answer ---- */

static int
same_dir(const char *a, const char *b)
{
	size_t la, lb;

	if (a == NULL || b == NULL)
		return 0;
	la = strlen(a);
	lb = strlen(b);
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && strncmp(a, b, la) == 0;
}

/* path is below dir, with no ".." on the way. */
static int
within(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	const char *p;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n) != 0 || path[n] != '/')
		return 0;
	for (p = path + n; p != NULL; p = strchr(p + 1, '/'))
		if (strncmp(p, "/../", 4) == 0 || strcmp(p, "/..") == 0)
			return 0;
	return 1;
}

static int
check_data_dir(struct run *r)
{
	const char *db = r->ssl.data_directory, *inv;

	inv = host_var_nonempty(r, r->server, "pem_data_dir");
	if (same_dir(db, r->pm != NULL ? r->pm->data_dir : NULL) ||
	    same_dir(db, inv))
		return 0;
	if (r->pm != NULL)
		r->error = xasprintf("the PEM database says its data_directory "
		    "is %s, but the PostgreSQL listening on port %d of %s (pid "
		    "%ld) runs in %s%s%s: refusing to trust its answer (set "
		    "pem_data_dir if both name one directory)", db, r->db_port,
		    r->server->label, r->pm->pid, r->pm->data_dir,
		    inv ? "; pem_data_dir is " : "", inv ? inv : "");
	else
		r->error = xasprintf("the PEM database says its data_directory "
		    "is %s, but pem_data_dir is %s", db, inv);
	return ERR_MISMATCH;
}

int
dbtrust_check_answer(struct run *r)
{
	static const struct {
		const char *setting, *var;
		size_t off;
	} files[] = {
		{ "ssl_cert_file", "pem_ssl_cert_file",
		  offsetof(struct pemdb_ssl, cert_file) },
		{ "ssl_key_file", "pem_ssl_key_file",
		  offsetof(struct pemdb_ssl, key_file) },
		{ "ssl_ca_file", "pem_ssl_ca_file",
		  offsetof(struct pemdb_ssl, ca_file) },
		{ "ssl_crl_file", "pem_ssl_crl_file",
		  offsetof(struct pemdb_ssl, crl_file) },
	};
	const char *path, *v;
	size_t i;
	int rc;

	if ((rc = check_data_dir(r)) != 0)
		return rc;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		path = *(char *const *)((const char *)&r->ssl + files[i].off);
		if (path == NULL || within(path, r->ssl.data_directory))
			continue;
		v = host_var_nonempty(r, r->server, files[i].var);
		if (v != NULL && strcmp(v, path) == 0)
			continue;
		r->error = xasprintf("the PEM database says %s is %s, outside "
		    "the data directory %s: refusing to write there unless "
		    "the inventory names it (%s=%s)", files[i].setting, path,
		    r->ssl.data_directory, files[i].var, path);
		return ERR_UNSAFE;
	}
	return 0;
}

/* ---- the server phase ---- */

int
dbtrust_follow_ca(struct run *r, const char *ca_pem, char **msg)
{
	char *all;
	size_t n;
	int rc;

	if (!r->db_verify)
		return 0;
	if (r->rootcert_pem == NULL)
		r->rootcert_pem = xstrdup("");
	n = strlen(r->rootcert_pem);
	all = xasprintf("%s%s%s", r->rootcert_pem, n > 0 &&
	    r->rootcert_pem[n - 1] != '\n' ? "\n" : "", ca_pem);
	free(r->rootcert_pem);
	r->rootcert_pem = all;
	if ((rc = rootcert_write(r, msg)) != 0)
		return rc;
	r->db_tls.sslrootcert = r->rootcert;
	log_info("PEM database: verified against the old and the new CA "
	    "from now on (%s)", r->rootcert);
	return 0;
}

const char *
dbtrust_what(const struct run *r)
{
	if (!r->db_verify)
		return "";
	return r->ca_origin != NULL ? r->ca_origin : r->op_rootcert;
}

void
dbtrust_free(struct run *r)
{
	if (r->rootcert != NULL)
		unlink(r->rootcert);
	free(r->rootcert);
	free(r->rootcert_pem);
	free(r->op_rootcert);
	free(r->ca_origin);
	postmaster_clear(r->pm);
	free(r->pm);
}
