/*
 * preflight.c: everything that is read and checked before anything is
 * changed.  Any failure here ends the run with exit status 2.
 */
#include "preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "db.h"
#include "dbtrust.h"
#include "host.h"
#include "inventory/agentcfg.h"
#include "inventory/inventory.h"
#include "inventory/pemdb.h"
#include "keys.h"
#include "options.h"
#include "progress.h"
#include "serverfiles.h"
#include "transport/knownhosts.h"

#define DEFAULT_AGENT_CFG	"/usr/edb/pem/agent/etc/agent.cfg"
#define REG_INI			"/etc/postgres-reg.ini"	/* older installs */

static void host_run_cmd(struct run *r, struct host *h);

/* Settings of one host from the inventory (no network). */
static void
host_settings(struct run *r, struct host *h)
{
	const struct inv_host *ih = h->inv;
	const char *id;
	char *msg = NULL;
	long v;

	if (access_host(r, h, &msg) != 0) {
		host_fail(h, "preflight", "%s", msg);
		free(msg);
	}
	h->is_server = ih->is_server;
	h->is_agent = ih->is_agent;
	h->key_uid = h->key_gid = h->crt_uid = h->crt_gid = -1;
	if (!h->is_agent)
		return;
	h->cfg_path = host_dupvar(r, h, "pem_agent_cfg", DEFAULT_AGENT_CFG);
	h->key_path = host_dupvar(r, h, "pem_agent_ssl_key", NULL);
	h->crt_path = host_dupvar(r, h, "pem_agent_ssl_crt", NULL);
	h->stop_cmd = host_dupvar(r, h, "pem_agent_stop_cmd",
	    "systemctl stop pemagent");
	h->start_cmd = host_dupvar(r, h, "pem_agent_start_cmd",
	    "systemctl start pemagent");
	host_run_cmd(r, h);
	if ((id = host_var(r, h, "pem_agent_id")) != NULL) {
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
	const char *status = host_var(r, h, "pem_agent_status_cmd");

	if (status == NULL && host_var(r, h, "pem_agent_start_cmd") == NULL)
		status = "systemctl is-active --quiet pemagent";
	if (status != NULL && *status != '\0')
		h->run_cmd = xasprintf("%s\n%s", h->start_cmd, status);
	else
		h->run_cmd = xstrdup(h->start_cmd);
}

/*
 * A file naming the agent's files says which files root replaces: only
 * root or the login user may be able to change it (the file, and every
 * directory on its way).  0 with its resolved path in *resolved;
 * ERR_NOTFOUND when it is not there (nor, maybe, its directory); or why
 * it is not trusted.
 */
static int
trusted_cfg(struct run *r, struct host *h, const char *path,
    char **resolved, char **msg)
{
	struct rfile_ctx x = r->rx;
	struct rfile f;
	char *why = NULL;
	int rc;

	x.allow_shared = 1;	/* judged here */
	rc = rfile_resolve(h->conn, &x, path, -1, -1, NULL, &f, &why);
	if ((rc == 0 && !f.exists) || rc == ERR_NOTFOUND)
		rc = ERR_NOTFOUND;
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
	if (rc != ERR_NOTFOUND && why != NULL) {
		*msg = xasprintf("%s: not trusted to name the files root "
		    "replaces: %s", path, why);
		rc = rc ? rc : ERR_UNSAFE;
	} else if (rc == 0) {
		*resolved = xstrdup(f.path);
	}
	free(why);
	rfile_clear(&f);
	return rc;
}

/*
 * The file that names the agent's files: pem_agent_cfg, or when it is
 * not there an older install's /etc/postgres-reg.ini (one more look,
 * only then).  Its resolved path replaces h->cfg_path.
 */
static int
find_agent_cfg(struct run *r, struct host *h, char **msg)
{
	struct sftp_stat st;
	char *path = NULL;
	int rc;

	/* the SFTP server's process is the login user's */
	h->login_uid = sftp_stat(h->conn, "/proc/self", &st) == 0 ?
	    (long)st.uid : 0;
	rc = trusted_cfg(r, h, h->cfg_path, &path, msg);
	if (rc == ERR_NOTFOUND && strcmp(h->cfg_path, REG_INI) != 0) {
		rc = trusted_cfg(r, h, REG_INI, &path, msg);
		if (rc == ERR_NOTFOUND)
			*msg = xasprintf("%s: no such file, nor %s (an older "
			    "agent's)", h->cfg_path, REG_INI);
		else if (rc == 0)
			log_info("%s: no %s: the agent's settings are read "
			    "from %s", h->label, h->cfg_path, REG_INI);
	} else if (rc == ERR_NOTFOUND) {
		*msg = xasprintf("%s: no such file", h->cfg_path);
	}
	if (rc == 0) {
		free(h->cfg_path);
		h->cfg_path = path;
	}
	return rc;
}

/* Its text, parsed: agent.cfg or postgres-reg.ini, as the text says. */
static int
parse_agent_cfg(struct host *h, struct agentcfg *cfg, char **msg)
{
	char *text = NULL, *origin;
	size_t len;
	int rc;

	rc = sftp_read_file(h->conn, h->cfg_path, AGENTCFG_MAX, 0, &text,
	    &len);
	if (rc != 0) {
		*msg = xasprintf("read %s: %s", h->cfg_path,
		    sshconn_errmsg(h->conn));
		return rc;
	}
	origin = xasprintf("%s:%s", h->label, h->cfg_path);
	rc = agentcfg_parse(text, len, origin, cfg, msg);
	free(text);
	free(origin);
	return rc;
}

/* Read and apply the agent's settings unless the inventory names all. */
static int
read_agent_cfg(struct run *r, struct host *h, char **msg)
{
	struct agentcfg cfg;
	int rc;

	if (h->agent_id > 0 && h->key_path != NULL && h->crt_path != NULL) {
		h->cfg_inventory = 1;
		return 0;
	}
	memset(&cfg, 0, sizeof(cfg));
	if ((rc = find_agent_cfg(r, h, msg)) != 0 ||
	    (rc = parse_agent_cfg(h, &cfg, msg)) != 0)
		return rc;
	h->cfg_kind = cfg.kind;
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
check_agent_contents(struct host *h, char **msg)
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
	*msg = why;
	return ERR_UNSAFE;
}

static int
check_agent_paths(struct host *h, char **msg)
{
	/* the names in agent.cfg, in postgres-reg.ini, in the inventory */
	static const char *const names[3][3] = {
		{ "agent_id", "AgentID", "pem_agent_id" },
		{ "agent_ssl_key", "AgentKeyPath", "pem_agent_ssl_key" },
		{ "agent_ssl_crt", "AgentCrtPath", "pem_agent_ssl_crt" },
	};
	int what = -1, ini = h->cfg_kind == AGENTCFG_REGINI;

	if (h->agent_id <= 0)
		what = 0;
	else if (h->key_path == NULL)
		what = 1;
	else if (h->crt_path == NULL)
		what = 2;
	if (what >= 0) {
		*msg = xasprintf("%s: no %s (set it there or %s in the "
		    "inventory)", h->cfg_path, names[what][ini],
		    names[what][2]);
		return ERR_INVAL;
	}
	if (!plain_path(h->key_path) || !plain_path(h->crt_path)) {
		*msg = xasprintf("%s: agent_ssl_key and agent_ssl_crt must be "
		    "absolute paths without \".\" or \"..\" and without "
		    "control characters", h->cfg_path);
		return ERR_INVAL;
	}
	if (strcmp(h->key_path, h->crt_path) == 0) {
		*msg = xstrdup("agent_ssl_key and agent_ssl_crt are the same "
		    "file");
		return ERR_INVAL;
	}
	return 0;
}

/* The key and certificate files: who acts on them, what they are now. */
static int
agent_targets(struct run *r, struct host *h, char **msg)
{
	int rc;

	if ((rc = host_resolve_target(r, h, "agent_ssl_key", h->key_path,
	    -1, -1, &h->kf, msg)) != 0 || (rc = host_resolve_target(r, h,
	    "agent_ssl_crt", h->crt_path, -1, -1, &h->cf, msg)) != 0)
		return rc;
	if (strcmp(h->kf.path, h->cf.path) == 0) {
		*msg = xasprintf("agent_ssl_key and agent_ssl_crt are the "
		    "same file (%s)", h->kf.path);
		return ERR_INVAL;
	}
	free(h->key_path);
	free(h->crt_path);
	h->key_path = xstrdup(h->kf.path);
	h->crt_path = xstrdup(h->cf.path);
	h->key_exists = h->kf.exists;
	h->crt_exists = h->cf.exists;
	return check_agent_contents(h, msg);
}

/* An agent host's part of the preflight; a failure is recorded on h. */
static int
preflight_agent(struct run *r, struct host *h)
{
	struct rfile *f[2] = { &h->kf, &h->cf };
	char *msg = NULL;
	int rc;

	if ((rc = read_agent_cfg(r, h, &msg)) == 0 &&
	    (rc = check_agent_paths(h, &msg)) == 0 &&
	    (rc = agent_targets(r, h, &msg)) == 0 && !r->read_only)
		rc = host_probe_dirs(r, h, f, 2, &msg);
	if (rc != 0)
		host_fail(h, "preflight", "%s", msg ? msg : err_str(rc));
	free(msg);
	return rc;
}

/* ---- the server host ---- */

static void
preflight_host(void *ctx, size_t i)
{
	struct run *r = ctx;
	struct host *h = &r->hosts[i];
	char *msg = NULL;
	int rc;

	h->t0 = now_s();
	if (h->status == HS_FAILED)
		goto out;
	if (h->known_lines == NULL) {	/* the server host's: dbtrust_look */
		h->known_lines = known_hosts_for(h->kh, h->so.host,
		    h->so.port);
		h->so.known_lines = h->known_lines;
	}
	if ((rc = host_connect(r, h, &msg)) != 0) {
		if (r->o->skip_unreachable && !h->is_server &&
		    (rc == ERR_NET || rc == ERR_TIMEOUT)) {
			h->unreachable = 1;
			h->status = HS_SKIPPED;
			h->phase = "preflight";
			h->error = xasprintf("unreachable, left alone: %s",
			    msg);
			log_error("%s: %s", h->label, h->error);
		} else {
			host_fail(h, "preflight", "%s", msg);
		}
		goto out;
	}
	if (sshconn_recorded_new_key(h->conn))
		log_info("%s: host key %s recorded in %s (first use)",
		    h->label, sshconn_hostkey_fp(h->conn), h->so.known_hosts);
	if (access_becomes(h) && sftp_become_check(h->conn, &msg) != 0) {
		host_fail(h, "preflight", "%s", msg);
		goto out;
	}
	if (h->is_agent && preflight_agent(r, h) != 0)
		goto out;
	if (h->is_server)
		serverfiles_preflight(r, h);
 out:
	free(msg);
	host_release(r, h);
	h->seconds += now_s() - h->t0;
	progress_step(r);
}

/* ---- the database ---- */

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
	/* through a tunnel libpq's port is the tunnel's: the PEM port */
	r->pg_port = r->probe_port != NULL ? xasprintf("%d", r->db_port) :
	    xstrdup(pemdb_port(db));
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
		    "unreachable host(s) left alone", b.s,
		    count_unreachable(r));
		missing = 0;
	}
	if (missing > 0)
		r->error = xasprintf("%zu active agent(s) of pem.agent have "
		    "no host in %s: %s", missing, inventory_path(r->inv), b.s);
	strbuf_free(&b);
	return missing > 0;
}

int
preflight_run(struct run *r)
{
	long *ids = NULL;
	size_t i, nids = 0;
	char *msg = NULL;
	int rc = 0;

	for (i = 0; i < r->nhosts; i++)
		host_settings(r, &r->hosts[i]);
	if (r->server->status == HS_FAILED) {
		r->error = xasprintf("%s: %s", r->server->label,
		    r->server->error);
		return ERR_INVAL;
	}
	/* the server host first: it says how far to believe the database */
	if (dbtrust_conninfo(r) != 0 || dbtrust_look(r) != 0)
		return ERR_UNSAFE;
	if ((rc = access_db_tunnel(r, &msg)) != 0) {
		r->error = xasprintf("PEM database: %s", msg);
		free(msg);
		return rc;
	}
	if (read_database(r, &ids, &nids) != 0) {
		free(ids);
		return ERR_DB;
	}
	if (dbtrust_check_answer(r) != 0) {
		free(ids);
		return ERR_UNSAFE;
	}
	progress_cpu_mark("the database's rows");
	serverfiles_paths(r);
	progress_begin(r, "preflight", r->nhosts);
	host_par_for(r, preflight_host);
	progress_end(r);
	if (nids > 0)
		qsort(ids, nids, sizeof(*ids), cmp_long);
	if (r->read_only) {		/* the command judges the rows */
		r->active_ids = ids;
		r->nactive = nids;
		ids = NULL;
	} else if (host_count(r, HS_FAILED) == 0) {
		if (join_hosts(r, ids, nids) | join_rows(r, ids, nids))
			rc = ERR_MISMATCH;
	}
	if (host_count(r, HS_FAILED) > 0 && rc == 0)
		rc = ERR_INVAL;
	free(ids);
	return rc;
}
