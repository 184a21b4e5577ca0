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
#include "common/log.h"
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

/* Index of the last record key in st, or -1. */
static long
last_record(const struct journal_state *st, const char *key)
{
	size_t i;

	for (i = st->n; i > 0; i--)
		if (strcmp(st->keys[i - 1], key) == 0)
			return (long)(i - 1);
	return -1;
}

/*
 * The journal of the rotation holding the lock, if that run ended
 * leaving the lock for "resume" (exit 1, not resumed since) and the
 * journal is in the state directory; NULL otherwise.
 */
static struct journal_state *
left_run(struct run *r)
{
	struct journal_state *st = NULL;
	char *holder, *path = NULL, *msg = NULL;
	const char *v;

	if ((holder = lock_owner(r)) == NULL ||
	    strcmp(holder, r->run_id) == 0 ||
	    (path = journal_find(r->state_dir, holder)) == NULL)
		goto out;
	st = xcalloc(1, sizeof(*st));
	if (journal_load(path, st, &msg) != 0 ||
	    journal_get(st, JK_COMMAND) != NULL ||
	    strcmp(st->run_id, holder) != 0 ||
	    (v = journal_get(st, JK_EXIT)) == NULL || strcmp(v, "1") != 0 ||
	    last_record(st, JK_RESUMED) > last_record(st, JK_EXIT)) {
		journal_state_clear(st);
		free(st);
		st = NULL;
	}
 out:
	free(holder);
	free(path);
	free(msg);
	return st;
}

/* The lock and the journal: a new one, or the adopted run's. */
static int
lock_and_journal(struct run *r, const struct dayrun *d,
    struct journal_state **adopted)
{
	struct journal_state *st = d->adopt ? left_run(r) : NULL;
	char *msg = NULL;

	if (st == NULL) {
		if (lock_acquire(r) != 0 || setup_journal(r) != 0)
			return -1;
		journal_add(r->journal, JK_COMMAND, d->name);
		journal_sync(r->journal);
		return 0;
	}
	if (lock_acquire_for(r, st->run_id) != 0)
		goto fail;
	*adopted = st;
	log_info("%s: taking over the lock of run %s, left for resume (%s)",
	    d->name, st->run_id, st->path);
	if (journal_reopen(st->path, &r->journal, &msg) != 0) {
		r->error = xasprintf("%s; nothing was changed", msg);
		free(msg);
		r->locked = 0;	/* still the run's, for resume */
		return -1;
	}
	journal_addf(r->journal, JK_RESUMED, "%ld %s", (long)r->started,
	    d->name);
	journal_sync(r->journal);
	return 0;
 fail:
	journal_state_clear(st);
	free(st);
	return -1;
}

/* Up to the step: every host checked, the estate ours, the journal. */
static int
prepare(struct run *r, const struct dayrun *d,
    struct journal_state **adopted)
{
	r->result = RUN_PREFLIGHT_FAILED;
	if (setup_run(r) != 0 || preflight_run(r) != 0)
		return -1;
	if (atomic_load(&r->stop) == STOP_SIGNAL) {
		r->error = xstrdup("interrupted; nothing was changed");
		r->result = RUN_CANCELLED;
		return -1;
	}
	if (d->check != NULL && d->check(r) != 0)
		return -1;
	if (lock_and_journal(r, d, adopted) != 0)
		return -1;
	r->result = RUN_FAILED;
	return 0;
}

/*
 * The end.  An adopted run that the command did not finish stays as it
 * was for "resume": its lock, and "partial" (exit 1) as its last result.
 */
static void
wind_down(struct run *r, const struct journal_state *adopted)
{
	int left = adopted != NULL && r->result != RUN_OK;

	if (left)
		r->locked = 0;
	lock_release(r);
	if (r->journal != NULL) {
		journal_add(r->journal, JK_RESULT, left ?
		    run_result_info(RUN_PARTIAL)->name :
		    run_result_info(r->result)->name);
		journal_addf(r->journal, JK_EXIT, "%d", left ?
		    run_result_info(RUN_PARTIAL)->exit_status : r->exit_code);
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
	struct journal_state *adopted = NULL;
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
	if (prepare(&r, d, &adopted) == 0)
		d->step(&r);
	r.exit_code = run_result_info(r.result)->exit_status;
	wind_down(&r, adopted);
	if (adopted != NULL)
		journal_state_clear(adopted);
	free(adopted);
	signals_stop(sigt, sig_ok);
	setup_free(&r);
	return r.exit_code;
}
