/*
 * preflight.c: everything that is read and checked before anything is
 * changed.  Any failure here ends the run with exit status 2.
 */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "dbtrust.h"
#include "inventory/agentcfg.h"
#include "inventory/inventory.h"
#include "inventory/pemdb.h"
#include "options.h"
#include "postmaster.h"
#include "transport/knownhosts.h"

#define DEFAULT_AGENT_CFG	"/usr/edb/pem/agent/etc/agent.cfg"
#define PUBLIC_FILE_MAX		(4 * 1024 * 1024)

static const char *sfile_name[SF_COUNT] = {
	"ca_key.key", "ca_certificate.crt", "root.crt", "root.crl",
	"server.key", "server.crt",
};

const char *
sfile_label(enum sfile f)
{
	return sfile_name[f];
}

static const char *
var(const struct run *r, const struct host *h, const char *name)
{
	return inventory_var(r->inv, h->inv_idx, name);
}

static char *
dupvar(const struct run *r, const struct host *h, const char *name,
    const char *def)
{
	const char *v = var(r, h, name);

	if (v == NULL || *v == '\0')
		v = def;
	return v != NULL ? xstrdup(v) : NULL;
}

static void host_run_cmd(struct run *r, struct host *h);

/* Settings of one host from the inventory (no network). */
static void
host_settings(struct run *r, struct host *h)
{
	const struct inv_host *ih = h->inv;
	const char *id;
	long v;

	h->so.host = ih->address;
	h->so.port = ih->port;
	h->so.user = ih->user != NULL ? ih->user : r->user;
	h->so.key_file = ih->ssh_key != NULL ? ih->ssh_key : r->default_key;
	h->so.signer = run_signer(r, h->so.key_file);
	h->so.known_hosts = r->known_hosts;
	h->so.known_hosts2 = r->known_hosts2;
	h->so.use_agent = 1;
	h->so.accept_new = r->o->accept_new_host_keys;
	h->so.timeout_ms = r->o->timeout_s * 1000;
	h->is_server = ih->is_server;
	h->is_agent = ih->is_agent;
	h->key_uid = h->key_gid = h->crt_uid = h->crt_gid = -1;
	if (!h->is_agent)
		return;
	h->cfg_path = dupvar(r, h, "pem_agent_cfg", DEFAULT_AGENT_CFG);
	h->key_path = dupvar(r, h, "pem_agent_ssl_key", NULL);
	h->crt_path = dupvar(r, h, "pem_agent_ssl_crt", NULL);
	h->stop_cmd = dupvar(r, h, "pem_agent_stop_cmd",
	    "systemctl stop pemagent");
	h->start_cmd = dupvar(r, h, "pem_agent_start_cmd",
	    "systemctl start pemagent");
	host_run_cmd(r, h);
	if ((id = var(r, h, "pem_agent_id")) != NULL) {
		if (str_to_posint(id, 2147483647L, &v))
			h->agent_id = v;
		else
			host_fail(h, "preflight", "%s: pem_agent_id \"%s\" is "
			    "not a positive integer", inventory_path(r->inv),
			    id);
	}
}

/*
 * Start the agent, then check it runs: pem_agent_status_cmd, or with the
 * default start command, systemd's view of the unit.
 */
static void
host_run_cmd(struct run *r, struct host *h)
{
	const char *status = var(r, h, "pem_agent_status_cmd");

	if (status == NULL && var(r, h, "pem_agent_start_cmd") == NULL)
		status = "systemctl is-active --quiet pemagent";
	if (status != NULL && *status != '\0')
		h->run_cmd = xasprintf("%s\n%s", h->start_cmd, status);
	else
		h->run_cmd = xstrdup(h->start_cmd);
}

static char *
origin_of(const struct host *h)
{
	return xasprintf("%s:%s", h->label, h->cfg_path);
}

/*
 * agent.cfg says which files root replaces: only root or the login user
 * may be able to change it (the file, and every directory on its way).
 */
static int
check_agent_cfg(struct run *r, struct host *h)
{
	struct rfile_ctx x = r->rx;
	struct sftp_stat st;
	struct rfile f;
	char *why = NULL;
	int rc;

	/* the SFTP server's process is the login user's */
	h->login_uid = sftp_stat(h->conn, "/proc/self", &st) == 0 ?
	    (long)st.uid : 0;
	x.allow_shared = 1;	/* judged here */
	rc = rfile_resolve(h->conn, &x, h->cfg_path, -1, -1, NULL, &f, &why);
	if (rc == 0 && !f.exists)
		why = xstrdup("no such file");
	else if (rc == 0 && f.shared != NULL)
		why = xstrdup(f.shared);
	else if (rc == 0 && f.uid != 0 && f.uid != h->login_uid)
		why = xasprintf("owned by uid %ld, not by root or the login "
		    "user", f.uid);
	else if (rc == 0 && (f.mode & 022) != 0)
		why = xasprintf("writable by %s (mode %04lo)", f.mode & 02 ?
		    "everyone" : "its group", f.mode & 07777);
	else if (rc == 0 && f.act_uid != 0 && f.act_uid != h->login_uid)
		why = xasprintf("a directory on its way can be changed by uid "
		    "%ld", f.act_uid);
	if (why != NULL) {
		host_fail(h, "preflight", "%s: not trusted to name the files "
		    "root replaces: %s", h->cfg_path, why);
		rc = rc ? rc : ERR_UNSAFE;
	} else if (rc == 0) {
		free(h->cfg_path);
		h->cfg_path = xstrdup(f.path);
	}
	free(why);
	rfile_clear(&f);
	return rc;
}

/* Read and apply agent.cfg unless the inventory names all three. */
static int
read_agent_cfg(struct run *r, struct host *h)
{
	struct agentcfg cfg;
	char err[512], *text = NULL, *origin;
	size_t len;
	int rc;

	if (h->agent_id > 0 && h->key_path != NULL && h->crt_path != NULL)
		return 0;
	if ((rc = check_agent_cfg(r, h)) != 0)
		return rc;
	rc = sftp_read_file(h->conn, h->cfg_path, AGENTCFG_MAX, 0, &text,
	    &len);
	if (rc != 0) {
		host_fail(h, "preflight", "read agent.cfg: %s",
		    sshconn_errmsg(h->conn));
		return rc;
	}
	origin = origin_of(h);
	memset(&cfg, 0, sizeof(cfg));
	rc = agentcfg_parse(text, len, origin, &cfg, err, sizeof(err));
	free(text);
	free(origin);
	if (rc != 0) {
		host_fail(h, "preflight", "%s", err);
		return rc;
	}
	if (h->agent_id == 0)
		h->agent_id = cfg.agent_id;
	if (h->key_path == NULL && cfg.ssl_key != NULL)
		h->key_path = xstrdup(cfg.ssl_key);
	if (h->crt_path == NULL && cfg.ssl_crt != NULL)
		h->crt_path = xstrdup(cfg.ssl_crt);
	if (cfg.pem_host != NULL)
		h->pem_host = xstrdup(cfg.pem_host);
	agentcfg_clear(&cfg);
	return 0;
}

/*
 * Resolve a target file (rfile.h): who acts on it, its unpredictable
 * names.  A directory others can write is named and refused here.
 */
static int
resolve_target(struct run *r, struct host *h, const char *what,
    const char *path, long def_uid, long def_gid, struct rfile *f)
{
	char *why = NULL;
	int rc;

	rfile_clear(f);
	rc = rfile_resolve(h->conn, &r->rx, path, def_uid, def_gid,
	    var(r, h, "pem_sftp_server"), f, &why);
	if (rc != 0) {
		host_fail(h, "preflight", "%s: %s", what, why ? why :
		    err_str(rc));
		free(why);
		return rc;
	}
	if (f->shared != NULL)
		log_warn("%s: %s: %s; --allow-shared-dirs: acting as uid %ld",
		    h->label, what, f->shared, f->act_uid);
	return 0;
}

/*
 * The directory of each file accepts a new file: one is created (empty,
 * 0600, a name nobody can predict) and removed, as the rotation will do,
 * by whoever will.  A read-only mount, a full disk or missing permission
 * shows here, before anything is changed.  Directories differ: each once.
 */
static int
probe_dirs(struct run *r, struct host *h, struct rfile *const *f, size_t n)
{
	size_t i, j, la, lb;
	char *why = NULL;
	int rc;

	for (i = 0; i < n; i++) {
		la = (size_t)(strrchr(f[i]->path, '/') - f[i]->path);
		for (j = 0; j < i; j++) {
			lb = (size_t)(strrchr(f[j]->path, '/') - f[j]->path);
			if (la == lb && f[i]->act_uid == f[j]->act_uid &&
			    strncmp(f[i]->path, f[j]->path, la) == 0)
				break;
		}
		if (j < i)
			continue;
		if ((rc = rfile_probe(h->conn, &r->rx, f[i], &why)) != 0) {
			host_fail(h, "preflight", "%s", why);
			free(why);
			sftp_as(h->conn, NULL);
			return rc;
		}
	}
	sftp_as(h->conn, NULL);
	return 0;
}

/* A path of agent.cfg: absolute, no "." or ".." on the way. */
static int
plain_path(const char *p)
{
	const char *s;

	if (p[0] != '/' || str_has_ctrl(p))
		return 0;
	for (s = p; (s = strchr(s, '/')) != NULL; s++)
		if (strncmp(s, "/./", 3) == 0 || strncmp(s, "/../", 4) == 0 ||
		    strcmp(s, "/.") == 0 || strcmp(s, "/..") == 0)
			return 0;
	return 1;
}

/*
 * What is there now is what it is said to be: never replace a file that
 * is not a PEM private key (the first bytes, wiped after) or certificate.
 */
static int
check_agent_contents(struct host *h)
{
	char head[64], *buf = NULL, *why = NULL;
	struct pki_cert *crt = NULL;
	size_t got = 0, len;
	int rc;

	if (h->kf.exists) {
		rc = rfile_read_head(h->conn, &h->kf, head, sizeof(head) - 1,
		    &got);
		head[rc == 0 ? got : 0] = '\0';
		if (rc != 0)
			why = xasprintf("read %s: %s", h->kf.path,
			    sshconn_errmsg(h->conn));
		else if (strncmp(head, "-----BEGIN ", 11) != 0 ||
		    strstr(head, "PRIVATE KEY-----") == NULL)
			why = xasprintf("%s (agent_ssl_key) is not a PEM "
			    "private key: refusing to replace it", h->kf.path);
		wipe(head, sizeof(head));
	}
	if (why == NULL && h->cf.exists) {
		rc = rfile_read(h->conn, &h->cf, 1024 * 1024, 0, &buf, &len);
		if (rc != 0)
			why = xasprintf("read %s: %s", h->cf.path,
			    sshconn_errmsg(h->conn));
		else if (pki_cert_from_pem(buf, len, &crt) != 0)
			why = xasprintf("%s (agent_ssl_crt) holds no PEM "
			    "certificate: refusing to replace it",
			    h->cf.path);
		pki_cert_free(crt);
		free(buf);
	}
	if (why == NULL)
		return 0;
	host_fail(h, "preflight", "%s", why);
	free(why);
	return ERR_UNSAFE;
}

static int
check_agent_paths(struct host *h)
{
	const char *what = NULL;

	if (h->agent_id <= 0)
		what = "agent_id";
	else if (h->key_path == NULL)
		what = "agent_ssl_key";
	else if (h->crt_path == NULL)
		what = "agent_ssl_crt";
	if (what != NULL) {
		host_fail(h, "preflight", "%s: no %s (set it there or "
		    "pem_%s in the inventory)", h->cfg_path, what,
		    strcmp(what, "agent_id") == 0 ? "agent_id" : what);
		return ERR_INVAL;
	}
	if (!plain_path(h->key_path) || !plain_path(h->crt_path)) {
		host_fail(h, "preflight", "%s: agent_ssl_key and agent_ssl_crt "
		    "must be absolute paths without \".\" or \"..\" and "
		    "without control characters", h->cfg_path);
		return ERR_INVAL;
	}
	if (strcmp(h->key_path, h->crt_path) == 0) {
		host_fail(h, "preflight", "agent_ssl_key and agent_ssl_crt "
		    "are the same file");
		return ERR_INVAL;
	}
	return 0;
}

static int
preflight_agent(struct run *r, struct host *h)
{
	int rc;

	if ((rc = read_agent_cfg(r, h)) != 0)
		return rc;
	if ((rc = check_agent_paths(h)) != 0)
		return rc;
	if ((rc = resolve_target(r, h, "agent_ssl_key", h->key_path, -1, -1,
	    &h->kf)) != 0 || (rc = resolve_target(r, h, "agent_ssl_crt",
	    h->crt_path, -1, -1, &h->cf)) != 0)
		return rc;
	if (strcmp(h->kf.path, h->cf.path) == 0) {
		host_fail(h, "preflight", "agent_ssl_key and agent_ssl_crt "
		    "are the same file (%s)", h->kf.path);
		return ERR_INVAL;
	}
	free(h->key_path);
	free(h->crt_path);
	h->key_path = xstrdup(h->kf.path);
	h->crt_path = xstrdup(h->cf.path);
	h->key_exists = h->kf.exists;
	h->crt_exists = h->cf.exists;
	if ((rc = check_agent_contents(h)) != 0)
		return rc;
	struct rfile *f[2] = { &h->kf, &h->cf };

	return probe_dirs(r, h, f, 2);
}

/* ---- the server host ---- */

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
static void
server_paths(struct run *r)
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
    size_t *len)
{
	int rc;

	rc = rfile_read(h->conn, &r->sf.f[i], PUBLIC_FILE_MAX, 0, buf, len);
	if (rc != 0)
		host_fail(h, "preflight", "read %s", sshconn_errmsg(h->conn));
	return rc;
}

static int
read_server_certs(struct run *r, struct host *h)
{
	struct server_files *sf = &r->sf;
	char *buf = NULL;
	size_t len;
	int rc;

	if ((rc = read_public(r, h, SF_ROOT_CRT, &sf->old_root_crt,
	    &sf->old_root_crt_len)) != 0)
		return rc;
	if (sf->exists[SF_ROOT_CRL] && (rc = read_public(r, h, SF_ROOT_CRL,
	    &sf->old_root_crl, &sf->old_root_crl_len)) != 0)
		return rc;
	if (sf->exists[SF_CA_CRT]) {
		if ((rc = read_public(r, h, SF_CA_CRT, &buf, &len)))
			return rc;
		if (pki_cert_from_pem(buf, len, &sf->old_ca) == 0)
			pki_cert_fingerprint(sf->old_ca, r->old_ca_fp);
		free(buf);
	}
	if ((rc = read_public(r, h, SF_SERVER_CRT, &buf, &len)))
		return rc;
	rc = pki_cert_from_pem(buf, len, &sf->old_server_cert);
	free(buf);
	if (rc != 0)
		host_fail(h, "preflight", "%s holds no certificate",
		    sf->path[SF_SERVER_CRT]);
	return rc;
}

int
server_reread(struct run *r)
{
	struct server_files *sf = &r->sf;

	free(sf->old_root_crt);
	free(sf->old_root_crl);
	pki_cert_free(sf->old_ca);
	pki_cert_free(sf->old_server_cert);
	sf->old_root_crt = sf->old_root_crl = NULL;
	sf->old_ca = sf->old_server_cert = NULL;
	r->old_ca_fp[0] = '\0';
	return read_server_certs(r, r->server);
}

static int
stat_server_files(struct run *r, struct host *h)
{
	struct server_files *sf = &r->sf;
	struct sftp_stat st;
	int i, rc;

	if ((rc = sftp_stat(h->conn, sf->data_dir, &st)) != 0 ||
	    !st.is_dir) {
		host_fail(h, "preflight", "data directory %s: %s",
		    sf->data_dir, rc ? sshconn_errmsg(h->conn) :
		    "not a directory");
		return rc ? rc : ERR_INVAL;
	}
	sf->data_uid = (long)st.uid;
	sf->data_gid = (long)st.gid;
	for (i = 0; i < SF_COUNT; i++) {
		if (str_has_ctrl(sf->path[i]) || sf->path[i][0] != '/') {
			host_fail(h, "preflight", "unusable path for %s",
			    sfile_name[i]);
			return ERR_INVAL;
		}
		/* a new file gets the data directory's owner */
		if ((rc = resolve_target(r, h, sfile_name[i], sf->path[i],
		    sf->data_uid, sf->data_gid, &sf->f[i])) != 0)
			return rc;
		free(sf->path[i]);
		sf->path[i] = xstrdup(sf->f[i].path);
		sf->exists[i] = sf->f[i].exists;
		sf->uid[i] = sf->f[i].uid;
		sf->gid[i] = sf->f[i].gid;
	}
	if (!sf->exists[SF_ROOT_CRT] || !sf->exists[SF_SERVER_CRT] ||
	    !sf->exists[SF_SERVER_KEY]) {
		host_fail(h, "preflight", "the server's SSL files are missing "
		    "(%s, %s, %s must exist)", sf->path[SF_ROOT_CRT],
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
detect_restart(struct run *r, struct host *h)
{
	char err[512];
	int rc;

	if ((r->sf.restart_cmd = dupvar(r, h, "pem_server_restart_cmd",
	    NULL)) != NULL)
		return 0;
	if (r->pm == NULL)
		return ERR_INTERNAL;	/* dbtrust_look saw to it */
	rc = postmaster_restart_cmd(h->conn, r->pm, r->o->restart_timeout_s,
	    &r->sf.restart_cmd, err, sizeof(err));
	if (rc != 0)
		host_fail(h, "preflight", "cannot tell how to restart "
		    "PostgreSQL: %s; set pem_server_restart_cmd", err);
	return rc;
}

/* The keys can be read (for a rollback's sake) without reading them. */
static int
check_server_keys(struct run *r, struct host *h)
{
	static const int keys[2] = { SF_CA_KEY, SF_SERVER_KEY };
	int i, rc = 0;

	for (i = 0; i < 2; i++) {
		if (!r->sf.exists[keys[i]])
			continue;
		rfile_use(h->conn, &r->sf.f[keys[i]]);
		if ((rc = sftp_check_readable(h->conn,
		    r->sf.path[keys[i]])) != 0) {
			host_fail(h, "preflight", "%s",
			    sshconn_errmsg(h->conn));
			break;
		}
	}
	sftp_as(h->conn, NULL);
	return rc;
}

static int
preflight_server(struct run *r, struct host *h)
{
	int i, rc;

	if ((rc = stat_server_files(r, h)) != 0)
		return rc;
	if ((rc = read_server_certs(r, h)) != 0 ||
	    (rc = check_server_keys(r, h)) != 0)
		return rc;
	struct rfile *f[SF_COUNT];

	for (i = 0; i < SF_COUNT; i++)
		f[i] = &r->sf.f[i];
	if ((rc = probe_dirs(r, h, f, SF_COUNT)) != 0)
		return rc;
	return detect_restart(r, h);
}

static void
preflight_host(void *ctx, size_t i)
{
	struct run *r = ctx;
	struct host *h = &r->hosts[i];
	int rc;

	h->t0 = now_s();
	if (h->status == HS_FAILED)
		goto out;
	if (h->known_lines == NULL) {	/* the server host's: dbtrust_look */
		h->known_lines = known_hosts_for(r->kh, h->so.host,
		    h->so.port);
		h->so.known_lines = h->known_lines;
	}
	if ((rc = host_connect(r, h)) != 0) {
		if (r->o->skip_unreachable && !h->is_server &&
		    (rc == ERR_NET || rc == ERR_TIMEOUT)) {
			h->unreachable = 1;
			h->status = HS_SKIPPED;
			h->phase = "preflight";
			h->error = xasprintf("unreachable, left alone: %s",
			    h->conn_err);
			log_error("%s: %s", h->label, h->error);
		} else {
			host_fail(h, "preflight", "%s", h->conn_err);
		}
		goto out;
	}
	if (sshconn_recorded_new_key(h->conn))
		log_info("%s: host key %s recorded in %s (first use)",
		    h->label, sshconn_hostkey_fp(h->conn), h->so.known_hosts);
	if (h->is_agent && preflight_agent(r, h) != 0)
		goto out;
	if (h->is_server)
		preflight_server(r, h);
 out:
	session_release(r, h);
	h->seconds += now_s() - h->t0;
	progress_step(r);
}

/* ---- the database ---- */

/* Connect, retrying --retries times (a server still restarting, say). */
static int
db_connect(struct run *r, struct pemdb **db)
{
	int rc, attempt;

	for (attempt = 0;; attempt++) {
		rc = pemdb_connect(r->conninfo, &r->db_tls, r->o->timeout_s,
		    db);
		if (rc == 0 || attempt >= r->o->retries ||
		    atomic_load(&r->stop) != STOP_NONE)
			return rc;
		log_debug("PEM database: %s; retrying", pemdb_errmsg(*db));
		pemdb_free(*db);
		*db = NULL;
		sleep(1u << (attempt < 5 ? attempt : 5));
	}
}

static int
read_database(struct run *r, long **ids, size_t *nids)
{
	struct pemdb *db = NULL;
	const char *msg;
	int rc, tls;

	rc = db_connect(r, &db);
	if (rc == 0)
		rc = pemdb_active_agents(db, ids, nids);
	if (rc == 0)
		rc = pemdb_ssl_settings(db, &r->ssl);
	if (rc != 0) {
		msg = db != NULL ? pemdb_errmsg(db) : "out of memory";
		tls = r->db_verify && strstr(msg, "certificate") != NULL;
		r->error = xasprintf("PEM database: %s%s%s%s", msg, tls ?
		    " (its certificate was checked against the PEM CA from " :
		    "", tls ? dbtrust_what(r) : "", tls ? ")" : "");
		goto out;
	}
	r->pg_host = xstrdup(pemdb_host(db));
	r->pg_port = xstrdup(pemdb_port(db));
	r->db = db;		/* kept for the run */
	db = NULL;
	if (r->pg_host[0] == '/' || r->pg_host[0] == '\0') {
		free(r->pg_host);
		r->pg_host = xstrdup(r->server->so.host);
	}
	if (r->db_verify && pemdb_tls(r->db) != NULL)
		log_info("PEM database at %s:%s: certificate verified "
		    "(sslmode %s) against %s", r->pg_host, r->pg_port,
		    r->db_tls.sslmode ? r->db_tls.sslmode : "as given",
		    dbtrust_what(r));
	if (!r->ssl.ssl_on || r->ssl.ca_file == NULL) {
		r->error = xasprintf("PEM database: ssl is %s and "
		    "ssl_ca_file is %s: agents cannot be logging in with "
		    "certificates", r->ssl.ssl_on ? "on" : "off",
		    r->ssl.ca_file ? "set" : "not set");
		rc = ERR_INVAL;
	}
 out:
	pemdb_free(db);
	return rc;
}

/* ---- joining the inventory with pem.agent ---- */

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static int
cmp_host_id(const void *a, const void *b)
{
	const struct host *x = *(struct host *const *)a;
	const struct host *y = *(struct host *const *)b;

	return (x->agent_id > y->agent_id) - (x->agent_id < y->agent_id);
}

/* Agents claiming the same id, or an id that is no active row. */
static int
join_hosts(struct run *r, const long *ids, size_t nids)
{
	struct host **by_id;
	size_t i, n = 0;
	int bad = 0;

	by_id = xcalloc(r->nhosts, sizeof(*by_id));
	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i].is_agent && r->hosts[i].agent_id > 0)
			by_id[n++] = &r->hosts[i];
	qsort(by_id, n, sizeof(*by_id), cmp_host_id);
	for (i = 0; i < n; i++) {
		if (i + 1 < n && by_id[i]->agent_id == by_id[i + 1]->agent_id) {
			host_fail(by_id[i + 1], "preflight", "agent_id %ld is "
			    "also the id of %s", by_id[i]->agent_id,
			    by_id[i]->label);
			bad = 1;
		}
		if (bsearch(&by_id[i]->agent_id, ids, nids, sizeof(*ids),
		    cmp_long) == NULL) {
			host_fail(by_id[i], "preflight", "agent_id %ld is not "
			    "an active agent in pem.agent",
			    by_id[i]->agent_id);
			bad = 1;
		}
	}
	free(by_id);
	return bad;
}

/* Unreachable hosts whose agent id is not known. */
static size_t
count_unreachable(const struct run *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nhosts; i++)
		n += r->hosts[i].unreachable && r->hosts[i].agent_id == 0;
	return n;
}

/* Active rows of pem.agent that no inventory host claims. */
static int
join_rows(struct run *r, long *ids, size_t nids)
{
	struct strbuf b;
	size_t i, j, missing = 0;

	strbuf_init(&b);
	for (i = 0; i < nids; i++) {
		for (j = 0; j < r->nhosts; j++)
			if (r->hosts[j].is_agent &&
			    r->hosts[j].agent_id == ids[i])
				break;
		if (j < r->nhosts)
			continue;
		if (missing++ < 20)
			strbuf_addf(&b, "%s%ld", missing > 1 ? ", " : "",
			    ids[i]);
	}
	if (missing > 20)
		strbuf_addf(&b, " and %zu more", missing - 20);
	if (missing > 0 && missing <= count_unreachable(r)) {
		log_info("active agent(s) %s belong, presumably, to the %zu "
		    "unreachable host(s) left alone", b.s, count_unreachable(r));
		missing = 0;
	}
	if (missing > 0)
		r->error = xasprintf("%zu active agent(s) of pem.agent have "
		    "no host in %s: %s", missing, inventory_path(r->inv), b.s);
	strbuf_free(&b);
	return missing > 0;
}

static int
count_failed(const struct run *r)
{
	size_t i;
	int n = 0;

	for (i = 0; i < r->nhosts; i++)
		n += r->hosts[i].status == HS_FAILED;
	return n;
}

int
preflight(struct run *r)
{
	long *ids = NULL;
	size_t i, nids = 0;
	int rc = 0;

	for (i = 0; i < r->nhosts; i++)
		host_settings(r, &r->hosts[i]);
	/* the server host first: it says how far to believe the database */
	if (dbtrust_conninfo(r) != 0 || dbtrust_look(r) != 0)
		return ERR_UNSAFE;
	if (read_database(r, &ids, &nids) != 0) {
		free(ids);
		return ERR_DB;
	}
	if (dbtrust_check_answer(r) != 0) {
		free(ids);
		return ERR_UNSAFE;
	}
	run_cpu_mark("the database's rows");
	server_paths(r);
	progress_begin(r, "preflight", r->nhosts);
	par_for_hosts(r, preflight_host);
	progress_end(r);
	if (count_failed(r) == 0) {
		qsort(ids, nids, sizeof(*ids), cmp_long);
		if (join_hosts(r, ids, nids) | join_rows(r, ids, nids))
			rc = ERR_MISMATCH;
	}
	if (count_failed(r) > 0 && rc == 0)
		rc = ERR_INVAL;
	free(ids);
	return rc;
}
