/*
 * push.c: pushing each agent its new key and certificate and starting it;
 * putting its old files back when that fails.
 */
#include "push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "host.h"
#include "inventory/inventory.h"
#include "journal.h"
#include "options.h"
#include "pool.h"
#include "progress.h"
#include "stop.h"
#include "transport/sftp.h"
#include "transport/sshconn.h"

#define AGENT_SUBJECT_BASE \
	"/O=EnterpriseDB Corporation/OU=Postgres Enterprise Manager/CN=agent"

struct agent_files {
	char *key_pem, *crt_pem;	/* key_pem is secret */
	size_t key_len, crt_len;
	char *host_key;			/* --keygen remote: the key made */
};

static void
agent_files_clear(struct agent_files *af)
{
	pki_secret_free(af->key_pem, af->key_len);
	free(af->crt_pem);
	free(af->host_key);
	memset(af, 0, sizeof(*af));
}

/*
 * The certificate of an agent's key, from the run's leaf maker (the CA's
 * part made once); without a maker (it could not be made) the long way.
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

/*
 * The key (unless the host made it) and the certificate put in place
 * (rfile_put: written under names nobody can predict, originals kept,
 * renamed over), then the key exists only in its destination file.
 */
static int
install_agent_files(struct host *h, struct agent_files *af, char **msg)
{
	struct rfile_new nf[2] = {
		{ &h->kf, af->key_pem, af->key_len, af->host_key },
		{ &h->cf, af->crt_pem, af->crt_len, NULL },
	};
	int rc;

	rc = rfile_put(h->conn, nf, 2, msg);
	pki_secret_free(af->key_pem, af->key_len);
	af->key_pem = NULL;
	af->key_len = 0;
	if (rc == 0 && af->host_key != NULL) {
		rfile_use(h->conn, &h->kf);
		sftp_rmdir(h->conn, h->kf.keydir);
		sftp_as(h->conn, NULL);
	}
	return rc;
}

/* --keygen remote: what an earlier or failed try left in the keydir. */
static void
drop_keydir(struct host *h)
{
	char *key = xasprintf("%s/key", h->kf.keydir);

	rfile_use(h->conn, &h->kf);
	sftp_unlink(h->conn, key);
	sftp_rmdir(h->conn, h->kf.keydir);
	sftp_as(h->conn, NULL);
	free(key);
}

/* Where --keygen remote makes the key (caller frees). */
static char *
af_key_path(const struct host *h)
{
	return xasprintf("%s/key", h->kf.keydir);
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
 * --keygen remote: the host makes the key, as whoever acts on the key file,
 * in a new directory of its own next to it (0700, a name nobody can
 * predict), and answers with a request; pemrotate checks it and certifies
 * the key.  The key is then renamed into place like any new file.
 */
static int
remote_keygen(struct run *r, struct host *h, char **csr, char **msg)
{
	char args[128], *q, *script, *cmd;
	int rc;

	drop_keydir(h);
	rfile_use(h->conn, &h->kf);
	rc = sftp_mkdir(h->conn, h->kf.keydir, 0700);
	sftp_as(h->conn, NULL);
	if (rc != 0) {
		*msg = xasprintf("make %s: %s", h->kf.keydir,
		    sshconn_errmsg(h->conn));
		return rc;
	}
	genpkey_args(&r->o->keyspec, args, sizeof(args));
	q = shquote(h->kf.keydir, 1);
	script = xasprintf("cd %s && umask 077 && openssl genpkey %s -out key "
	    ">/dev/null && openssl req -new -key key -subj /CN=pemrotate", q,
	    args);
	cmd = rfile_sh(&h->kf, script);
	rc = host_exec_out(r, h, "make the key on the host", cmd,
	    r->o->agent_timeout_s, msg, csr);
	free(cmd);
	free(script);
	free(q);
	if (rc != 0)
		return rc;
	/* root made it for another owner: the owner set on a handle */
	if (h->kf.act_uid == 0 && h->kf.uid != 0 && (rc =
	    sftp_chown_handle(h->conn, af_key_path(h), h->kf.uid,
	    h->kf.gid)) != 0)
		*msg = xasprintf("set the key's owner: %s",
		    sshconn_errmsg(h->conn));
	return rc;
}

static int
remote_agent_pki(struct run *r, struct host *h, struct agent_files *af,
    char **msg)
{
	struct pki_key *pub = NULL;
	char *csr = NULL, *subj;
	int rc;

	rc = remote_keygen(r, h, &csr, msg);
	if (rc == 0 && (rc = pki_csr_public_key(csr, strlen(csr),
	    &r->o->keyspec, &pub)) != 0)
		*msg = xasprintf("the host's certificate request: %s",
		    err_str(rc));
	free(csr);
	if (rc != 0)
		return rc;
	af->host_key = af_key_path(h);
	subj = xasprintf("%s%ld", AGENT_SUBJECT_BASE, h->agent_id);
	rc = agent_cert(r, pub, subj, af);
	if (rc != 0)
		*msg = xasprintf("certify the host's key: %s", err_str(rc));
	free(subj);
	pki_key_free(pub);
	return rc;
}

void
push_restore(struct run *r, struct host *h)
{
	struct rfile *f[2] = { &h->kf, &h->cf };
	char *msg = NULL;
	int rc;

	rc = rfile_restore(h->conn, f, 2, &msg);
	if (r->o->keygen_remote)
		drop_keydir(h);
	if (rc != 0) {
		log_error("%s: restore the old key and certificate: %s",
		    h->label, msg);
		free(msg);
		return;
	}
	free(msg);
	if (stop_start(r, h) == 0)
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

int
push_agent(struct run *r, struct host *h)
{
	struct agent_files af = { 0 };
	char *msg = NULL, *out = NULL;
	int rc;

	if (!r->o->keygen_remote && (rc = make_agent_pki(r, h, &af)) != 0) {
		host_fail(h, "push", "generate key and certificate: %s",
		    err_str(rc));
		count_failure(r);
		goto out;
	}
	if ((rc = host_connect(r, h, &msg)) != 0) {
		host_fail(h, "push", "%s", msg);
		count_failure(r);
		stop_start(r, h);	/* the connection may come back */
		goto out;
	}
	if (r->o->keygen_remote)
		rc = remote_agent_pki(r, h, &af, &msg);
	if (rc == 0 && (rc = install_agent_files(h, &af, &msg)) == 0)
		rc = host_exec_out(r, h, "start the agent", h->run_cmd,
		    r->o->agent_timeout_s, &msg, &out);
	if (rc == 0) {
		h->pushed = 1;
		h->stopped = 0;
		journal_add(r->journal, JK_PUSHED, h->inv->name);
		goto out;
	}
	host_fail(h, "push", "%s", msg);
	count_failure(r);
	push_restore(r, h);
 out:
	free(msg);
	free(out);
	agent_files_clear(&af);
	return rc;
}

void
push_leafmaker(struct run *r)
{
	if (r->leafmaker == NULL && pki_leafmaker_new(r->ca_cert, r->ca_key,
	    r->o->days, &r->leafmaker) != 0)
		r->leafmaker = NULL;	/* each certificate the long way */
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
	host_release(ps->r, h);
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
push_phase(struct run *r)
{
	struct push_set ps = { r, NULL, 0 };
	size_t i, canary;
	int failed;

	push_leafmaker(r);
	ps.h = xcalloc(r->nhosts, sizeof(*ps.h));
	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i].stopped && stop_needed(&r->hosts[i]))
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
