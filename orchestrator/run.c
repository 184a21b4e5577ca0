/*
 * run.c: the "rotate" command from start to end: set-up, the phases in
 * their required order, the exit status and the report.
 */
#include "run.h"

#include <sys/resource.h>

#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "dbtrust.h"
#include "inventory/inventory.h"
#include "inventory/pemdb.h"
#include "journal.h"
#include "options.h"
#include "pool.h"
#include "transport/knownhosts.h"

/* ---- the plan, and asking ---- */

/* ---- the phases in order ---- */

/* "resume RUN" when the run left work to do. */
static void
say_resume(struct run *r, const char *what)
{
	free(r->error);
	r->error = xasprintf("%s; the old CA stays trusted, so every agent "
	    "still logs in. Finish with: pemrotate resume %s%s%s", what,
	    r->run_id, r->o->state_dir ? " --state-dir " : "",
	    r->o->state_dir ? r->o->state_dir : "");
}

static int
after_push(struct run *r)
{
	int failed = count_status(r, HS_FAILED);
	int skipped = count_status(r, HS_SKIPPED);
	char what[160];

	if (atomic_load(&r->stop) == STOP_SIGNAL) {
		r->result = "interrupted";
		say_resume(r, "interrupted before every agent was rotated");
		return 1;
	}
	if (failed > 0 || skipped > 0) {
		r->result = "partial";
		if (skipped == 0)
			snprintf(what, sizeof(what), "%d host(s) failed and "
			    "run on their old certificates", failed);
		else if (failed == 0)
			snprintf(what, sizeof(what), "%d host(s) were left "
			    "alone and run on their old certificates", skipped);
		else
			snprintf(what, sizeof(what), "%d host(s) failed and %d "
			    "were left alone; they run on their old "
			    "certificates", failed, skipped);
		say_resume(r, what);
		return 1;
	}
	if (!r->o->no_overlap && phase_finalize(r) != 0) {
		r->result = "partial";
		return 1;
	}
	journal_add(r->journal, "finalized", "yes");
	r->result = "ok";
	return 0;
}

static int
interrupted(const struct run *r)
{
	return atomic_load(&r->stop) == STOP_SIGNAL;
}

/* Everything that must hold before the first change. */
static int
prepare(struct run *r)
{
	run_cpu_mark("set-up");
	if (preflight(r) != 0) {
		r->result = "preflight_failed";
		return 2;
	}
	run_cpu_mark("preflight");
	if (r->o->dry_run) {
		print_plan(r, stdout);
		mark_all(r, HS_OK);	/* each host passed the preflight */
		r->result = "dry_run";
		return 0;
	}
	if (interrupted(r) || !confirm(r)) {
		r->error = xstrdup(interrupted(r) ? "interrupted; nothing "
		    "was changed" : "not confirmed; nothing was changed");
		r->result = "cancelled";
		return 2;
	}
	if (lock_acquire(r) != 0 || journal_begin(r) != 0) {
		r->result = "preflight_failed";
		return 2;
	}
	return -1;
}

static int
rotate(struct run *r)
{
	int rc;

	if ((rc = prepare(r)) >= 0)
		return rc;
	jobs_disable(r);
	if (r->resume != NULL && (rc = resume_prepare(r)) != 0) {
		if (r->result == NULL || strcmp(r->result, "failed") == 0)
			r->result = "preflight_failed";
		return strcmp(r->result, "rollback_failed") == 0 ? 3 : 2;
	}
	run_cpu_mark("lock and journal");
	if (phase_stop_agents(r) != 0) {
		r->error = xstrdup("the PEM server host's agent could not be "
		    "stopped; nothing was changed");
		r->result = "preflight_failed";
		return 2;
	}
	if (interrupted(r) && !r->forward) {
		r->error = xstrdup("interrupted; nothing was changed and the "
		    "agents are started again");
		r->result = "interrupted";
		return 2;
	}
	run_cpu_mark("stop");
	if (!r->forward) {
		if (phase_server(r) != 0)
			return 3;
		run_cpu_mark("server");
		if (!r->server->is_agent)
			r->server->status = HS_OK;
	} else if (!r->server->is_agent || r->server->done_before) {
		r->server->status = HS_OK;
	}
	phase_push_agents(r);
	run_cpu_mark("push");
	rc = after_push(r);
	run_cpu_mark("finalize");
	return rc;
}

/* The end, whatever happened: agents running, PEM's job back, the lock. */
static void
wind_down(struct run *r)
{
	const char *res = r->result ? r->result : "failed";

	restart_stopped_agents(r);
	jobs_restore(r);
	/* a run left for "resume" keeps the estate locked; any other ends */
	if (r->exit_code != 1)
		lock_release(r);
	if (r->journal != NULL) {
		journal_add(r->journal, "result", res);
		journal_addf(r->journal, "exit", "%d", r->exit_code);
		journal_close(r->journal);
		r->journal = NULL;
	}
}

static void
finish(struct run *r)
{
	r->finished = time(NULL);
	if (r->result == NULL)
		r->result = "failed";
	mark_all(r, HS_SKIPPED);
	progress_cost(r);
	report_end(r);
}

/* ---- signals: a thread turns SIGINT, SIGTERM, SIGHUP into r->stop ---- */

int
run_main(const struct opts *o)
{
	struct journal_state st;
	struct opts ro = *o;
	struct run r;
	pthread_t sigt;
	int sig_ok, rc;

	memset(&r, 0, sizeof(r));
	memset(&st, 0, sizeof(st));
	r.o = &ro;
	r.started = time(NULL);
	pthread_mutex_init(&r.mu, NULL);
	r.state_dir = o->state_dir ? xstrdup(o->state_dir) :
	    journal_default_dir();
	sig_ok = signals_start(&r, &sigt);
	if (strcmp(o->command, "resume") == 0 &&
	    (rc = resume_opts(&r, &ro, &st)) != 0) {
		r.exit_code = rc > 0 ? 0 : 2;
		r.result = rc > 0 ? "ok" : "preflight_failed";
	} else if (setup_run(&r) != 0) {
		r.exit_code = 2;
		r.result = "preflight_failed";
	} else {
		r.exit_code = rotate(&r);
	}
	wind_down(&r);
	finish(&r);
	signals_stop(sigt, sig_ok);
	free_run(&r);
	journal_state_clear(&st);
	return r.exit_code;
}
