/*
 * agents.c: stopping the agents, pushing each its new key and
 * certificate, starting them again.
 */
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "inventory/inventory.h"
#include "journal.h"
#include "options.h"
#include "pool.h"
#include "remote.h"

#define AGENT_SUBJECT_BASE \
	"/O=EnterpriseDB Corporation/OU=Postgres Enterprise Manager/CN=agent"

/* An agent this run still has to rotate. */
static int
needs_push(const struct host *h)
{
	return h->is_agent && !h->done_before && !h->unreachable &&
	    h->status != HS_FAILED;
}

static int
stop_agent(struct run *r, struct host *h)
{
	char *msg;
	int rc;

	rc = host_exec(r, h, "stop the agent", h->stop_cmd,
	    r->o->agent_timeout_s, &msg);
	if (rc != 0) {
		host_fail(h, "stop", "%s", msg);
		free(msg);
		return rc;
	}
	h->stopped = 1;
	journal_add(r->journal, "stopped", h->inv->name);
	return 0;
}

static void
stop_one(void *ctx, size_t i)
{
	struct run *r = ctx;
	struct host *h = &r->hosts[i];
	double t0 = now_s();

	if (needs_push(h) && !h->is_server) {
		stop_agent(r, h);
		session_release(r, h);
	}
	h->seconds += now_s() - t0;
	progress_step(r);
}

int
phase_stop_agents(struct run *r)
{
	struct host *sa = r->server;
	size_t i, n = 0;

	if (needs_push(sa)) {
		log_info("stopping the PEM server host's agent on %s",
		    sa->label);
		if (stop_agent(r, sa) != 0)
			return ERR_REMOTE_CMD;
	}
	for (i = 0; i < r->nhosts; i++)
		n += needs_push(&r->hosts[i]) && !r->hosts[i].is_server;
	log_info("stopping %zu agent(s), %d at a time", n, r->o->parallel);
	progress_begin(r, "stop agents", r->nhosts);
	par_for_hosts(r, stop_one);
	progress_end(r);
	return 0;
}

/* Start an agent again on whatever files it has now. */
static int
start_agent(struct run *r, struct host *h)
{
	char *msg;
	int rc;

	rc = host_exec(r, h, "start the agent", h->run_cmd,
	    r->o->agent_timeout_s, &msg);
	if (rc != 0) {
		host_fail(h, h->phase ? h->phase : "start", "%s", msg);
		free(msg);
		return rc;
	}
	h->stopped = 0;
	journal_add(r->journal, "started", h->inv->name);
	return 0;
}

static void
restart_one(void *ctx, size_t i)
{
	struct run *r = ctx;
	struct host *h = &r->hosts[i];

	if (h->stopped && !h->pushed)
		start_agent(r, h);
}

void
restart_stopped_agents(struct run *r)
{
	size_t i, n = 0;
	int stop;

	for (i = 0; i < r->nhosts; i++)
		n += r->hosts[i].stopped && !r->hosts[i].pushed;
	if (n == 0)
		return;
	log_info("starting %zu agent(s) again on their old certificates", n);
	stop = atomic_exchange(&r->stop, STOP_NONE);
	par_for_hosts(r, restart_one);
	atomic_store(&r->stop, stop);
}

struct agent_files {
	char *key_pem, *crt_pem;	/* key_pem is secret */
	size_t key_len, crt_len;
	char *tmp[2];
	const char *dst[2];
};

static void
agent_files_clear(struct agent_files *af)
{
	pki_secret_free(af->key_pem, af->key_len);
	free(af->crt_pem);
	free(af->tmp[0]);
	free(af->tmp[1]);
	memset(af, 0, sizeof(*af));
}

/*
 * The certificate of an agent's key, from the run's template; a key the
 * template does not take (not EC) the long way.
 */
static int
agent_cert(struct run *r, const struct pki_key *key, const char *subj,
    struct agent_files *af)
{
	struct pki_cert *crt = NULL;
	int rc;

	rc = r->leafmaker == NULL ? ERR_INVAL : pki_leafmaker_pem(r->leafmaker,
	    key, subj, &af->crt_pem, &af->crt_len);
	if (rc != ERR_INVAL)
		return rc;
	rc = pki_cert_make_leaf(r->ca_cert, r->ca_key, key, PKI_LEAF_CLIENT,
	    subj, NULL, 0, r->o->days, &crt);
	if (rc == 0)
		rc = pki_cert_to_pem(crt, &af->crt_pem, &af->crt_len);
	pki_cert_free(crt);
	return rc;
}

/* The agent's new key (from the pool) and its certificate. */
static int
make_agent_pki(struct run *r, struct host *h, struct agent_files *af)
{
	struct pki_key *key = NULL;
	char *subj;
	int rc;

	if ((rc = keygen_take(r->kg, h->key_slot, &key)) != 0)
		return rc;
	subj = xasprintf("%s%ld", AGENT_SUBJECT_BASE, h->agent_id);
	rc = agent_cert(r, key, subj, af);
	free(subj);
	if (rc == 0)
		rc = pki_key_to_pem(key, &af->key_pem, &af->key_len);
	pki_key_free(key);
	return rc;
}

static void
agent_paths(struct run *r, struct host *h, struct agent_files *af)
{
	int i;

	af->dst[0] = h->key_path;
	af->dst[1] = h->crt_path;
	for (i = 0; i < 2; i++)
		af->tmp[i] = remote_tmp_path(af->dst[i], r->run_id);
}

/*
 * The key (unless the host made it) and the certificate, uploaded under
 * their temporary names in two round trips; one left by an earlier,
 * killed try of the same run is replaced.
 */
static int
upload_agent_files(struct host *h, struct agent_files *af, char **msg)
{
	struct sshconn_newfile f[2];
	size_t n = 0;
	int rc;

	if (af->key_pem != NULL)
		f[n++] = (struct sshconn_newfile){ af->tmp[0], af->key_pem,
		    af->key_len, 0600, h->key_uid, h->key_gid, 1 };
	f[n++] = (struct sshconn_newfile){ af->tmp[1], af->crt_pem,
	    af->crt_len, 0600, h->crt_uid, h->crt_gid, 1 };
	if ((rc = sshconn_write_new_many(h->conn, f, n)) != 0)
		*msg = xasprintf("upload: %s", sshconn_errmsg(h->conn));
	/* the key now exists only in its destination file */
	pki_secret_free(af->key_pem, af->key_len);
	af->key_pem = NULL;
	return rc;
}

/*
 * One new file into place over SFTP, without a shell or a process on the
 * host: the original (if any) renamed to its backup name, then the new
 * file renamed to the original's.  Version 3 renames never replace, which
 * every SFTP server does the same way; between the two renames the agent
 * is stopped and the original is safe under its backup name (what
 * restore_agent and resume put back).  A backup already there is from an
 * earlier try of this run and holds the original; whatever an earlier try
 * left at dst is then removed, anything else found there is kept as the
 * backup.
 */
static int
install_file(struct run *r, struct host *h, const char *tmp,
    const char *dst, int existed, char **msg)
{
	struct sshconn_stat st;
	char *bak = xasprintf("%s%s", dst, r->suffix);
	const char *from[2] = { dst, tmp }, *to[2] = { bak, dst };
	int rc, have_bak, rcs[2] = { 0, 0 };

	/*
	 * Both renames in one round trip: the second cannot replace dst, so
	 * when the first fails it fails too, and what follows sorts it out
	 * as if they had been sent one by one.
	 */
	if ((rc = sshconn_rename_many(h->conn, existed ? from : from + 1,
	    existed ? to : to + 1, existed ? 2 : 1, existed ? rcs :
	    rcs + 1)) != 0) {
		*msg = xasprintf("put %s in place: %s", dst,
		    sshconn_errmsg(h->conn));
		free(bak);
		return rc;
	}
	if (existed && rcs[0] != 0 && rcs[1] != 0 &&
	    sshconn_stat(h->conn, bak, &st) != 0) {
		*msg = xasprintf("back up %s: %s", dst,
		    sshconn_errmsg(h->conn));
		free(bak);
		return ERR_SFTP;
	}
	if ((rc = rcs[1]) != 0 && sshconn_stat(h->conn, dst, &st) == 0) {
		have_bak = sshconn_stat(h->conn, bak, &st) == 0;
		if ((have_bak ? sshconn_unlink(h->conn, dst) :
		    sshconn_rename(h->conn, dst, bak)) == 0)
			rc = sshconn_rename(h->conn, tmp, dst);
	}
	if (rc != 0)
		*msg = xasprintf("put %s in place: %s", dst,
		    sshconn_errmsg(h->conn));
	free(bak);
	return rc;
}

static int
install_agent_files(struct run *r, struct host *h, struct agent_files *af,
    char **msg)
{
	int rc;

	if ((rc = install_file(r, h, af->tmp[0], af->dst[0], h->key_exists,
	    msg)) != 0)
		return rc;
	return install_file(r, h, af->tmp[1], af->dst[1], h->crt_exists, msg);
}

static void
genpkey_args(const struct pki_keyspec *ks, char *buf, size_t len)
{
	if (ks->alg == PKI_ALG_RSA)
		snprintf(buf, len, "-algorithm RSA -pkeyopt "
		    "rsa_keygen_bits:%d", ks->bits);
	else
		snprintf(buf, len, "-algorithm EC -pkeyopt "
		    "ec_paramgen_curve:%s", ks->curve);
}

/*
 * --keygen remote: the host makes the key into its temporary file and
 * answers with a request; pemrotate checks it and certifies the key.
 */
static int
remote_agent_pki(struct run *r, struct host *h, struct agent_files *af,
    char **msg)
{
	struct pki_key *pub = NULL;
	char args[128], *script, *csr = NULL, *subj;
	int rc;

	genpkey_args(&r->o->keyspec, args, sizeof(args));
	script = remote_keygen_script(af->tmp[0], args, h->key_uid,
	    h->key_gid);
	rc = host_exec_out(r, h, "make the key on the host", script,
	    r->o->agent_timeout_s, msg, &csr);
	free(script);
	if (rc == 0 && (rc = pki_csr_public_key(csr, strlen(csr),
	    &r->o->keyspec, &pub)) != 0)
		*msg = xasprintf("the host's certificate request: %s",
		    err_str(rc));
	free(csr);
	if (rc != 0)
		return rc;
	subj = xasprintf("%s%ld", AGENT_SUBJECT_BASE, h->agent_id);
	rc = agent_cert(r, pub, subj, af);
	if (rc != 0)
		*msg = xasprintf("certify the host's key: %s", err_str(rc));
	free(subj);
	pki_key_free(pub);
	return rc;
}

/* After a failed push: old files back, agent started on them. */
static void
restore_agent(struct run *r, struct host *h, struct agent_files *af)
{
	char *script, *msg = NULL;
	int rc;
	int created[2] = { !h->key_exists, !h->crt_exists };

	script = remote_restore_script(af->dst, created, 2, r->suffix, NULL);
	rc = host_exec(r, h, "restore the old key and certificate", script,
	    r->o->agent_timeout_s, &msg);
	free(script);
	if (rc == 0) {
		script = remote_rm_script((const char *const *)af->tmp, 2);
		host_exec(r, h, "remove temporary files", script,
		    r->o->timeout_s, &msg);
		free(script);
	}
	if (rc != 0) {
		log_error("%s: %s", h->label, msg);
		free(msg);
		return;
	}
	free(msg);
	if (start_agent(r, h) == 0)
		log_info("%s: started again on its old certificate",
		    h->label);
}

/* One more failed push; past --max-failures no new agent is started. */
static void
count_failure(struct run *r)
{
	int n, limit, total = 0;
	size_t i;

	pthread_mutex_lock(&r->mu);
	n = ++r->nfailed_push;
	pthread_mutex_unlock(&r->mu);
	if (r->o->max_failures < 0)
		return;
	for (i = 0; i < r->nhosts; i++)
		total += r->hosts[i].is_agent;
	limit = r->o->max_failures_pct ?
	    total * r->o->max_failures / 100 : r->o->max_failures;
	if (n > limit && atomic_exchange(&r->stop, STOP_FAILURES) ==
	    STOP_NONE)
		log_error("%d agent(s) failed, more than --max-failures "
		    "allows: no further agent is rotated", n);
}

static int
push_agent(struct run *r, struct host *h)
{
	struct agent_files af = { 0 };
	char *msg = NULL, *out = NULL;
	int rc;

	agent_paths(r, h, &af);
	if (!r->o->keygen_remote && (rc = make_agent_pki(r, h, &af)) != 0) {
		host_fail(h, "push", "generate key and certificate: %s",
		    err_str(rc));
		count_failure(r);
		goto out;
	}
	if ((rc = host_connect(r, h)) != 0) {
		host_fail(h, "push", "%s", h->conn_err);
		count_failure(r);
		start_agent(r, h);	/* the connection may come back */
		goto out;
	}
	if (r->o->keygen_remote)
		rc = remote_agent_pki(r, h, &af, &msg);
	if (rc == 0 && (rc = upload_agent_files(h, &af, &msg)) == 0 &&
	    (rc = install_agent_files(r, h, &af, &msg)) == 0)
		rc = host_exec_out(r, h, "start the agent", h->run_cmd,
		    r->o->agent_timeout_s, &msg, &out);
	if (rc == 0) {
		h->pushed = 1;
		h->stopped = 0;
		journal_add(r->journal, "pushed", h->inv->name);
		goto out;
	}
	host_fail(h, "push", "%s", msg);
	count_failure(r);
	restore_agent(r, h, &af);
 out:
	free(msg);
	free(out);
	agent_files_clear(&af);
	return rc;
}

struct push_set {
	struct run *r;
	struct host **h;
	size_t n;
};

static void
push_one(void *ctx, size_t i)
{
	struct push_set *ps = ctx;
	struct host *h = ps->h[i];
	double t0 = now_s();

	if (h->stopped && push_agent(ps->r, h) == 0)
		h->status = HS_OK;
	session_release(ps->r, h);
	h->seconds += now_s() - t0;
	progress_step(ps->r);
}

static int
push_range(struct run *r, struct push_set *ps, size_t from, size_t to,
    const char *what)
{
	struct push_set sub = { r, ps->h + from, to - from };
	size_t i;
	int failed = 0;

	progress_begin(r, what, sub.n);
	par_for(sub.n, r->o->parallel, push_one, &sub, &r->stop);
	progress_end(r);
	for (i = 0; i < sub.n; i++)
		failed += sub.h[i]->status == HS_FAILED;
	return failed;
}

int
phase_push_agents(struct run *r)
{
	struct push_set ps = { r, NULL, 0 };
	size_t i, canary;
	int failed;

	if (r->leafmaker == NULL && pki_leafmaker_new(r->ca_cert, r->ca_key,
	    r->o->days, &r->leafmaker) != 0)
		r->leafmaker = NULL;	/* each certificate the long way */
	ps.h = xcalloc(r->nhosts, sizeof(*ps.h));
	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i].stopped && needs_push(&r->hosts[i]))
			ps.h[ps.n++] = &r->hosts[i];
	canary = r->o->canary > 0 && (size_t)r->o->canary < ps.n ?
	    (size_t)r->o->canary : 0;
	if (canary > 0) {
		log_info("canary: rotating %zu agent(s) first", canary);
		if ((failed = push_range(r, &ps, 0, canary, "canary")) > 0) {
			log_error("canary: %d of %zu agent(s) failed: the "
			    "others are not rotated", failed, canary);
			atomic_store(&r->stop, STOP_FAILURES);
		} else {
			log_info("canary: %zu agent(s) run on their new "
			    "certificates", canary);
		}
	}
	if (atomic_load(&r->stop) == STOP_NONE) {
		log_info("pushing new keys and certificates to %zu agent(s), "
		    "%d at a time", ps.n - canary, r->o->parallel);
		push_range(r, &ps, canary, ps.n, "push agents");
	}
	free(ps.h);
	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i].is_agent && !r->hosts[i].pushed &&
		    !r->hosts[i].done_before)
			return ERR_REMOTE_CMD;
	return 0;
}
