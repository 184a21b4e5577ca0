/*
 * run.c: the "rotate" command from start to end: set-up, the phases in
 * their required order, the exit status and the report.
 */
#include "run.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/xmem.h"
#include "host.h"
#include "jobs.h"
#include "journal.h"
#include "lock.h"
#include "options.h"
#include "plan.h"
#include "preflight.h"
#include "progress.h"
#include "push.h"
#include "report.h"
#include "resume.h"
#include "server.h"
#include "setup.h"
#include "signals.h"
#include "stop.h"

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

/* The agents are pushed: the outcome, and the end of the overlap. */
static void
after_push(struct run *r)
{
	int failed = host_count(r, HS_FAILED);
	int skipped = host_count(r, HS_SKIPPED);
	char what[160];

	if (atomic_load(&r->stop) == STOP_SIGNAL) {
		r->result = RUN_INTERRUPTED;
		say_resume(r, "interrupted before every agent was rotated");
		return;
	}
	if (failed > 0 || skipped > 0) {
		r->result = RUN_PARTIAL;
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
		return;
	}
	if (!r->o->no_overlap && server_finalize(r) != 0) {
		r->result = RUN_PARTIAL;
		return;
	}
	journal_add(r->journal, JK_FINALIZED, "yes");
	r->result = RUN_OK;
}

static int
interrupted(const struct run *r)
{
	return atomic_load(&r->stop) == STOP_SIGNAL;
}

/* Everything that must hold before the first change; 0 to go on. */
static int
prepare(struct run *r)
{
	progress_cpu_mark("set-up");
	r->result = RUN_PREFLIGHT_FAILED;
	if (preflight_run(r) != 0)
		return -1;
	progress_cpu_mark("preflight");
	if (r->o->dry_run) {
		plan_print(r, stdout);
		if (r->o->plan)
			plan_print_hosts(r, stdout);
		/* each host passed the preflight */
		host_mark_pending(r, HS_OK);
		r->result = RUN_DRY_RUN;
		return -1;
	}
	if (interrupted(r) || !plan_confirm(r)) {
		r->error = xstrdup(interrupted(r) ? "interrupted; nothing "
		    "was changed" : "not confirmed; nothing was changed");
		r->result = RUN_CANCELLED;
		return -1;
	}
	if (lock_acquire(r) != 0 || setup_journal(r) != 0)
		return -1;
	r->result = RUN_FAILED;
	return 0;
}

/* Up to the first change: resume's decision, the agents stopped. */
static int
stop_all(struct run *r)
{
	jobs_disable(r);
	if (r->resume != NULL && resume_prepare(r) != 0) {
		if (r->result != RUN_ROLLBACK_FAILED)
			r->result = RUN_PREFLIGHT_FAILED;
		return -1;
	}
	progress_cpu_mark("lock and journal");
	if (stop_phase(r) != 0) {
		r->error = xstrdup("the PEM server host's agent could not be "
		    "stopped; nothing was changed");
		r->result = RUN_PREFLIGHT_FAILED;
		return -1;
	}
	if (interrupted(r) && !r->forward) {
		r->error = xstrdup("interrupted; nothing was changed and the "
		    "agents are started again");
		r->result = RUN_INTERRUPTED_EARLY;
		return -1;
	}
	progress_cpu_mark("stop");
	return 0;
}

/* The phases in their required order; r->result says how it ended. */
static void
rotate(struct run *r)
{
	if (r->act != NULL) {
		r->result = RUN_PREFLIGHT_FAILED;
		if (preflight_run(r) == 0 && !interrupted(r)) {
			r->act(r);
			host_mark_pending(r, HS_OK);
		}
		return;
	}
	if (prepare(r) != 0 || stop_all(r) != 0)
		return;
	if (!r->forward) {
		if (server_phase(r) != 0)
			return;
		progress_cpu_mark("server");
		if (!r->server->is_agent)
			r->server->status = HS_OK;
	} else if (!r->server->is_agent || r->server->done_before) {
		r->server->status = HS_OK;
	}
	push_phase(r);
	progress_cpu_mark("push");
	after_push(r);
	progress_cpu_mark("finalize");
}

/* The end, whatever happened: agents running, PEM's job back, the lock. */
static void
wind_down(struct run *r)
{
	stop_undo(r);
	jobs_restore(r);
	/* a run left for "resume" keeps the estate locked; any other ends */
	if (r->exit_code != 1)
		lock_release(r);
	if (r->journal != NULL) {
		journal_add(r->journal, JK_RESULT,
		    run_result_info(r->result)->name);
		journal_addf(r->journal, JK_EXIT, "%d", r->exit_code);
		journal_close(r->journal);
		r->journal = NULL;
	}
}

static void
finish(struct run *r)
{
	r->finished = time(NULL);
	host_mark_pending(r, HS_SKIPPED);
	progress_cost(r);
	report_end(r);
}

static int
run_act(const struct opts *o, run_load_fn *load, run_act_fn *act)
{
	struct opts ro = *o;
	struct run r;
	pthread_t sigt;
	int sig_ok, rc;

	memset(&r, 0, sizeof(r));
	r.o = &ro;
	r.act = act;
	r.started = time(NULL);
	pthread_mutex_init(&r.mu, NULL);
	r.state_dir = o->state_dir ? xstrdup(o->state_dir) :
	    journal_default_dir();
	sig_ok = signals_start(&r, &sigt);
	if (load != NULL && (rc = load(&r, &ro)) != 0)
		r.result = rc > 0 ? RUN_OK : RUN_PREFLIGHT_FAILED;
	else if (setup_run(&r) != 0)
		r.result = RUN_PREFLIGHT_FAILED;
	else
		rotate(&r);
	r.exit_code = run_result_info(r.result)->exit_status;
	wind_down(&r);
	finish(&r);
	signals_stop(sigt, sig_ok);
	setup_free(&r);
	return r.exit_code;
}

int
run_main(const struct opts *o, run_load_fn *load)
{
	return run_act(o, load, NULL);
}

int
run_main_act(const struct opts *o, run_act_fn *act)
{
	return run_act(o, NULL, act);
}
