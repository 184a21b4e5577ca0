/*
 * resume.c: finishing a run from its journal.
 *
 * The journal says what the run did; the server says what is true now.
 * If the PEM server already runs on the run's new CA, the run goes on
 * forward: the new CA key is read from the server into memory, the agents
 * not yet pushed are pushed, the overlap is ended.  If the server still
 * has (or had partly) its original files, they are put back and the
 * rotation is done again from the server phase on, under the same run id
 * so the original backups are kept.
 */
#include "resume.h"

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
#include "server.h"
#include "serverfiles.h"

/* Hosts the earlier run pushed; jobs it disabled and did not enable. */
static void
load_progress(struct run *r)
{
	const struct journal_state *st = r->resume;
	struct host *h;
	long id;
	size_t i;

	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		if (h->is_agent && journal_has(st, JK_PUSHED, h->inv->name)) {
			h->done_before = 1;
			h->status = HS_OK;
		}
	}
	for (i = 0; i < st->n; i++) {
		if (strcmp(st->keys[i], JK_JOB_DISABLED) != 0 ||
		    journal_has(st, JK_JOB_ENABLED, st->values[i]) ||
		    !str_to_posint(st->values[i], 2147483647L, &id))
			continue;
		r->jobs = xrealloc(r->jobs, (r->njobs + 1) * sizeof(*r->jobs));
		r->jobs[r->njobs++] = id;
	}
}

/* The new CA key, from the server, into memory; it must match the CA. */
static int
load_ca_key(struct run *r)
{
	char *msg = NULL;
	int rc;

	if ((rc = serverfiles_ca_key(r, &r->ca_key, &msg)) != 0)
		r->error = xasprintf("resume: %s", msg);
	free(msg);
	return rc;
}

/* The server runs on the new CA: take it as this run's CA and go on. */
static int
go_forward(struct run *r)
{
	char *why;
	size_t len;
	int rc;

	if ((rc = load_ca_key(r)) != 0)
		return rc;
	r->ca_cert = pki_cert_dup(r->sf.old_ca);
	r->server_cert = pki_cert_dup(r->sf.old_server_cert);
	if ((rc = pki_cert_verify(r->server_cert, r->ca_cert, NULL, 0, NULL,
	    &why)) != 0) {
		r->error = xasprintf("resume: %s is not signed by the new CA: "
		    "%s", r->sf.path[SF_SERVER_CRT], why ? why : err_str(rc));
		free(why);
		return ERR_VERIFY;
	}
	if ((rc = pki_cert_to_pem(r->ca_cert, &r->ca_pem, &len)) != 0 ||
	    (rc = pki_crl_make(r->ca_cert, r->ca_key, r->o->days, NULL, 0,
	    &r->crl_pem, &len)) != 0)
		return rc;
	memcpy(r->new_ca_fp, r->old_ca_fp, sizeof(r->new_ca_fp));
	snprintf(r->old_ca_fp, sizeof(r->old_ca_fp), "%s",
	    journal_get(r->resume, JK_OLD_CA) ? journal_get(r->resume,
	    "old_ca") : "");
	r->forward = 1;
	log_info("resume: the PEM server runs on the new CA; pushing the "
	    "agents not yet done");
	return server_ensure_serving(r);
}

int
resume_prepare(struct run *r)
{
	const char *new_ca = journal_get(r->resume, JK_NEW_CA);
	const char *old_ca = journal_get(r->resume, JK_OLD_CA);
	char *msg;

	load_progress(r);
	if (new_ca != NULL && strcmp(r->old_ca_fp, new_ca) == 0)
		return go_forward(r);
	if (old_ca != NULL && *old_ca != '\0' &&
	    strcmp(r->old_ca_fp, old_ca) != 0) {
		r->error = xasprintf("resume: the PEM server's CA is neither "
		    "the one run %s found nor the one it made; something else "
		    "changed it, refusing to go on", r->run_id);
		return ERR_MISMATCH;
	}
	if (journal_get(r->resume, JK_SERVER) != NULL) {
		log_info("resume: the earlier run did not finish the server; "
		    "putting its original files back");
		if (server_restore(r, 1) != 0)
			return ERR_IO;
		r->result = RUN_FAILED;
		if (serverfiles_reread(r, &msg) != 0) {
			host_fail(r->server, "resume", "%s", msg);
			free(msg);
			return ERR_IO;
		}
	}
	log_info("resume: rotating from the server phase on");
	return 0;
}
