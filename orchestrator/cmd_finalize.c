/*
 * cmd_finalize.c: "pemrotate finalize -i INV": end the overlap a rotation
 * left (root.crt trusting the previous CA and the new one, as when some
 * agents failed) once every agent carries a certificate of the new CA
 * (ca_certificate.crt): root.crt and root.crl of the new CA alone,
 * reloaded and checked, as the rotation's own finalize step does.
 * Otherwise it refuses, changing nothing, and names the stragglers.
 */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "dayrun.h"
#include "host.h"
#include "journal.h"
#include "server.h"
#include "serverfiles.h"

/* The CN of the CA of root.crt that issued crt, into buf. */
static void
issuer_name(const struct run *r, const struct pki_cert *crt, char *buf,
    size_t len)
{
	struct pki_cert **cas = NULL;
	size_t i, n = 0;

	snprintf(buf, len, "a CA not in %s", r->sf.path[SF_ROOT_CRT]);
	if (pki_certs_from_pem(r->sf.old_root_crt, r->sf.old_root_crt_len,
	    &cas, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (!pki_cert_issued_by(crt, cas[i]))
			continue;
		pki_cert_cn(cas[i], buf, len);
		if (*buf == '\0')
			snprintf(buf, len, "(no CN)");
		break;
	}
	pki_certs_free(cas, n);
}

/* 1 if agent h carries a certificate of the new CA; else says why. */
static int
on_new_ca(struct run *r, struct host *h, char **why)
{
	struct pki_cert *crt = NULL;
	char *msg = NULL, ca[128];
	int ok = 0;

	if (dayrun_agent_cert(r, h, &crt, &msg) != 0) {
		*why = msg;
		return 0;
	}
	if (pki_cert_issued_by(crt, r->sf.old_ca)) {
		ok = 1;
	} else {
		issuer_name(r, crt, ca, sizeof(ca));
		*why = xasprintf("its certificate %s is of CA \"%s\", not the "
		    "new CA", h->crt_path, ca);
	}
	pki_cert_free(crt);
	return ok;
}

/* Every agent checked; the number not on the new CA, each failed. */
static int
stragglers(struct run *r, char **list)
{
	struct host *h;
	char *why, *more;
	int n = 0;
	size_t i;

	*list = NULL;
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		why = NULL;
		if (!h->is_agent || on_new_ca(r, h, &why))
			continue;
		host_fail(h, "finalize", "agent id %ld: %s", h->agent_id, why);
		more = xasprintf("%s%s%s (agent id %ld: %s)", *list ? *list :
		    "", *list ? ", " : "", h->label, h->agent_id, why);
		free(*list);
		*list = more;
		free(why);
		n++;
	}
	return n;
}

/* Before the lock: is there an overlap, and is every agent on the new CA. */
static int
finalize_check(struct run *r)
{
	char *list = NULL;
	int ncas, n;

	if (r->sf.old_ca == NULL) {
		r->error = xasprintf("%s holds no CA certificate; nothing was "
		    "changed", r->sf.path[SF_CA_CRT]);
		return -1;
	}
	ncas = pki_pem_count_certs(r->sf.old_root_crt, r->sf.old_root_crt_len);
	if (ncas == 1) {
		log_info("%s holds one CA: no overlap, nothing to do",
		    r->sf.path[SF_ROOT_CRT]);
		r->result = RUN_OK;
		return -1;
	}
	if ((n = stragglers(r, &list)) > 0) {
		r->error = xasprintf("%d agent(s) do not carry a certificate "
		    "of the new CA (%s): %s; nothing was changed (rotate them "
		    "with \"pemrotate resume\" or \"pemrotate agents\")", n,
		    r->sf.path[SF_CA_CRT], list);
		free(list);
		return -1;
	}
	return 0;
}

/*
 * The new CA's part of the server's files: its certificate, the server
 * certificate it signed, and its CRL from root.crl (revocations kept);
 * a CRL made with the CA key (read into memory only) when root.crl holds
 * none of it.
 */
static int
new_ca_parts(struct run *r, char **msg)
{
	char *why = NULL, err[256];
	size_t len;
	int rc;

	r->ca_cert = pki_cert_dup(r->sf.old_ca);
	r->server_cert = pki_cert_dup(r->sf.old_server_cert);
	if ((rc = pki_cert_verify(r->server_cert, r->ca_cert, NULL, 0, NULL,
	    &why)) != 0) {
		*msg = xasprintf("%s is not signed by the new CA (%s): %s",
		    r->sf.path[SF_SERVER_CRT], r->sf.path[SF_CA_CRT],
		    why ? why : err_str(rc));
		free(why);
		return rc;
	}
	if ((rc = pki_cert_to_pem(r->ca_cert, &r->ca_pem, &len)) != 0)
		return rc;
	if (r->sf.old_root_crl != NULL && pki_crl_select(r->sf.old_root_crl,
	    r->sf.old_root_crl_len, r->ca_cert, &r->crl_pem, &len) == 0)
		return 0;
	log_info("%s holds no current CRL of the new CA: making one",
	    r->sf.path[SF_ROOT_CRL]);
	if ((rc = serverfiles_ca_key(r, &r->ca_key, msg)) != 0)
		return rc;
	if ((rc = pki_crl_make(r->ca_cert, r->ca_key, r->o->days,
	    r->sf.old_root_crl, r->sf.old_root_crl ? r->sf.old_root_crl_len :
	    0, &r->crl_pem, &len)) != 0) {
		pki_last_error(err, sizeof(err));
		*msg = xasprintf("make the CRL: %s", err);
	}
	return rc;
}

static void
finalize_step(struct run *r)
{
	char *msg = NULL;

	if (new_ca_parts(r, &msg) != 0) {
		host_fail(r->server, "finalize", "%s", msg ? msg :
		    "cannot read the new CA");
		r->result = RUN_PREFLIGHT_FAILED;
	} else if (server_finalize(r) != 0) {
		host_fail(r->server, "finalize", "%s", r->error);
		server_restore(r, 0);	/* sets the result */
	} else {
		journal_add(r->journal, JK_FINALIZED, "yes");
		r->server->status = HS_OK;
		r->result = RUN_OK;
	}
	free(msg);
}

int
cmd_finalize(const struct opts *o)
{
	static const struct dayrun d = {
		.name = "finalize", .check = finalize_check, .adopt = 1,
		.step = finalize_step,
	};

	return dayrun_main(o, &d);
}
