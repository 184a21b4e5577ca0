/*
 * dayrun.c: a day-two command from start to end: set-up, the preflight
 * of every host, the lock and the journal, the command's step, the end
 * and the report -- the run machinery of a rotation, without its phases.
 */
#include "dayrun.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "host.h"
#include "inventory/inventory.h"
#include "journal.h"
#include "lock.h"
#include "options.h"
#include "preflight.h"
#include "report.h"
#include "setup.h"
#include "signals.h"

struct host *
dayrun_agent(struct run *r, const char *want)
{
	struct host *h;
	long id = 0;
	size_t i;

	if (!str_to_posint(want, 2147483647L, &id))
		id = 0;
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		if (h->is_agent && (strcmp(h->inv->name, want) == 0 ||
		    (id > 0 && h->agent_id == id)))
			return h;
	}
	free(r->error);
	r->error = xasprintf("no agent \"%s\" in %s (neither a host of "
	    "pem_agents nor an agent_id); nothing was changed", want,
	    inventory_path(r->inv));
	return NULL;
}

#define CRT_MAX		(1024 * 1024)

int
dayrun_agent_cert(struct run *r, struct host *h, struct pki_cert **crt,
    char **msg)
{
	char *buf = NULL;
	size_t len;
	int rc;

	*crt = NULL;
	if (!h->cf.exists) {
		*msg = xasprintf("%s (agent_ssl_crt) does not exist",
		    h->crt_path);
		return ERR_NOTFOUND;
	}
	if ((rc = host_connect(r, h, msg)) != 0)
		return rc;
	if ((rc = rfile_read(h->conn, &h->cf, CRT_MAX, 0, &buf, &len)) != 0)
		*msg = xasprintf("read %s: %s", h->crt_path,
		    sshconn_errmsg(h->conn));
	else if ((rc = pki_cert_from_pem(buf, len, crt)) != 0)
		*msg = xasprintf("%s holds no PEM certificate", h->crt_path);
	free(buf);
	return rc;
}

int
dayrun_of_current_ca(struct run *r, struct host *h,
    const struct pki_cert *crt, char **msg)
{
	char *why = NULL;
	int rc;

	if (r->sf.old_ca == NULL) {
		*msg = xasprintf("%s holds no CA certificate",
		    r->sf.path[SF_CA_CRT]);
		return ERR_NOTFOUND;
	}
	rc = pki_cert_verify(crt, r->sf.old_ca, NULL, 0, NULL, &why);
	if (rc != 0)
		*msg = xasprintf("%s is not a valid certificate of the "
		    "current CA (%s): %s", h->crt_path,
		    r->sf.path[SF_CA_CRT], why ? why : err_str(rc));
	free(why);
	return rc;
}

/* Up to the step: every host checked, the estate ours, the journal. */
static int
prepare(struct run *r, const struct dayrun *d)
{
	r->result = RUN_PREFLIGHT_FAILED;
	if (setup_run(r) != 0 || preflight_run(r) != 0)
		return -1;
	if (atomic_load(&r->stop) == STOP_SIGNAL) {
		r->error = xstrdup("interrupted; nothing was changed");
		r->result = RUN_CANCELLED;
		return -1;
	}
	if (lock_acquire(r) != 0 || setup_journal(r) != 0)
		return -1;
	journal_add(r->journal, JK_COMMAND, d->name);
	journal_sync(r->journal);
	r->result = RUN_FAILED;
	return 0;
}

static void
wind_down(struct run *r)
{
	lock_release(r);
	if (r->journal != NULL) {
		journal_add(r->journal, JK_RESULT,
		    run_result_info(r->result)->name);
		journal_addf(r->journal, JK_EXIT, "%d", r->exit_code);
		journal_close(r->journal);
		r->journal = NULL;
	}
	r->finished = time(NULL);
	/* a host the preflight checked and the step did not fail is ok */
	host_mark_pending(r, r->result == RUN_PREFLIGHT_FAILED ||
	    r->result == RUN_CANCELLED ? HS_SKIPPED : HS_OK);
	report_end(r);
}

int
dayrun_main(const struct opts *o, const struct dayrun *d)
{
	struct opts ro = *o;
	struct run r;
	pthread_t sigt;
	int sig_ok;

	memset(&r, 0, sizeof(r));
	r.o = &ro;
	r.started = time(NULL);
	pthread_mutex_init(&r.mu, NULL);
	r.state_dir = o->state_dir ? xstrdup(o->state_dir) :
	    journal_default_dir();
	r.day_two = 1;
	r.agent_wanted = d->agent_wanted;
	sig_ok = signals_start(&r, &sigt);
	if (prepare(&r, d) == 0)
		d->step(&r);
	r.exit_code = run_result_info(r.result)->exit_status;
	wind_down(&r);
	signals_stop(sigt, sig_ok);
	setup_free(&r);
	return r.exit_code;
}
