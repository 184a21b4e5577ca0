/*
 * cmd_revoke.c: "pemrotate revoke -i INV --agent ID": the agent's
 * current certificate goes into root.crl (the CA key read from the server
 * into memory only), PostgreSQL reloads it, and the agent's login with
 * it is shown to fail -- what PEM does when an agent is uninstalled.
 */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "dayrun.h"
#include "host.h"
#include "server.h"
#include "serverfiles.h"

#define CHECK_TRIES	20		/* a reload is asynchronous */

/* 1 if root.crl (crl) refuses crt as revoked. */
static int
crl_revokes(const struct run *r, const struct pki_cert *crt,
    const char *crl, size_t len)
{
	char *why = NULL;
	int revoked;

	if (crl == NULL)
		return 0;
	revoked = pki_cert_verify(crt, r->sf.old_ca, crl, len, NULL,
	    &why) == ERR_VERIFY && why != NULL &&
	    strcmp(why, "certificate revoked") == 0;
	free(why);
	return revoked;
}

/* The new root.crl, signed with the CA key read into memory only. */
static int
make_crl(struct run *r, const struct pki_cert *crt, char **crl,
    char **msg)
{
	struct pki_key *key = NULL;
	char why[256];
	size_t len;
	int rc;

	if ((rc = serverfiles_ca_key(r, &key, msg)) != 0)
		return rc;
	rc = pki_crl_revoke(r->sf.old_ca, key, r->o->days, r->sf.old_root_crl,
	    r->sf.old_root_crl ? r->sf.old_root_crl_len : 0, crt, crl, &len);
	pki_key_free(key);
	if (rc != 0) {
		pki_last_error(why, sizeof(why));
		*msg = xasprintf("make the CRL: %s: %s", err_str(rc), why);
	}
	return rc;
}

/* Write root.crl and reload; on failure the original goes back. */
static int
apply_crl(struct run *r, const char *crl)
{
	char *msg = NULL;
	int ncas, rc;

	ncas = pki_pem_count_certs(r->sf.old_root_crt, r->sf.old_root_crt_len);
	rc = server_put_roots(r, NULL, crl, r->sf.old_server_cert, NULL,
	    ncas, &msg);
	if (rc != 0) {
		host_fail(r->server, "revoke", "%s", msg ? msg : err_str(rc));
		server_restore(r, 0);
	} else {
		r->server->status = HS_OK;
		log_info("%s: %s written and reloaded", r->server->label,
		    r->sf.path[SF_ROOT_CRL]);
	}
	free(msg);
	return rc;
}

/*
 * The proof from the agent's side: its pem_agent_check_cmd (one login
 * with its files, changing nothing) must fail now.  0 if it does, or no
 * command is set (said so); ERR_VERIFY if it still logs in.
 */
static int
prove_refused(struct run *r, struct host *h)
{
	const char *cmd = host_var_nonempty(r, h, "pem_agent_check_cmd");
	char *msg = NULL;
	int i, rc = 0;

	if (cmd == NULL) {
		log_warn("%s: no pem_agent_check_cmd: the refusal is shown by "
		    "the CRL alone, not by a login", h->label);
		return 0;
	}
	for (i = 0; i < CHECK_TRIES; i++) {
		free(msg);
		msg = NULL;
		if ((rc = host_exec(r, h, "check the agent's login", cmd,
		    r->o->agent_timeout_s, &msg)) != 0)
			break;
		usleep(250 * 1000);
	}
	if (rc == 0) {
		host_fail(h, "revoke", "the agent still logs in with its "
		    "revoked certificate (pem_agent_check_cmd succeeds)");
		rc = ERR_VERIFY;
	} else {
		log_info("%s: its login is refused now: %s", h->label,
		    msg ? msg : err_str(rc));
		rc = 0;
	}
	free(msg);
	return rc;
}

/* Revoke crt of h; r->result says how it went. */
static void
revoke_cert(struct run *r, struct host *h, const struct pki_cert *crt)
{
	char *crl = NULL, *msg = NULL, serial[80], cn[128];

	pki_cert_serial(crt, serial, sizeof(serial));
	pki_cert_cn(crt, cn, sizeof(cn));
	if (crl_revokes(r, crt, r->sf.old_root_crl, r->sf.old_root_crl_len)) {
		log_info("%s: certificate serial %s (CN %s) is already in %s",
		    h->label, serial, cn, r->sf.path[SF_ROOT_CRL]);
	} else if (make_crl(r, crt, &crl, &msg) != 0) {
		host_fail(r->server, "revoke", "%s", msg);
		r->result = RUN_PREFLIGHT_FAILED;
		goto out;
	} else if (!crl_revokes(r, crt, crl, strlen(crl))) {
		r->error = xstrdup("the new CRL does not revoke the "
		    "certificate; nothing was changed");
		r->result = RUN_PREFLIGHT_FAILED;
		goto out;
	} else if (apply_crl(r, crl) != 0) {
		goto out;	/* server_restore set the result */
	} else {
		log_info("%s: certificate serial %s (CN %s) revoked",
		    h->label, serial, cn);
	}
	if (prove_refused(r, h) == 0) {
		h->status = HS_OK;
		r->result = RUN_OK;
	} else {
		r->error = xasprintf("%s: the revoked certificate is still "
		    "accepted", h->label);
	}
 out:
	free(crl);
	free(msg);
}

static void
revoke_step(struct run *r)
{
	struct pki_cert *crt = NULL;
	struct host *h;
	char *msg = NULL;

	if ((h = dayrun_agent(r, r->o->agents[0])) == NULL) {
		r->result = RUN_PREFLIGHT_FAILED;
		return;
	}
	if (dayrun_agent_cert(r, h, &crt, &msg) != 0 ||
	    dayrun_of_current_ca(r, h, crt, &msg) != 0) {
		host_fail(h, "revoke", "%s", msg);
		r->result = RUN_PREFLIGHT_FAILED;
	} else {
		revoke_cert(r, h, crt);
	}
	pki_cert_free(crt);
	free(msg);
}

int
cmd_revoke(const struct opts *o)
{
	static const struct dayrun d = {
		.name = "revoke", .step = revoke_step,
	};

	return dayrun_main(o, &d);
}
