/*
 * stop.c: stopping the agents before the rotation, and starting again
 * those a run stopped and did not push.
 */
#include "stop.h"

#include <stdlib.h>

#include "common/err.h"
#include "common/log.h"
#include "host.h"
#include "inventory/inventory.h"
#include "journal.h"
#include "options.h"
#include "progress.h"

/* An agent this run still has to rotate. */
int
stop_needed(const struct host *h)
{
	return h->is_agent && !h->done_before && !h->unreachable &&
	    h->status != HS_FAILED;
}

int
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
	journal_add(r->journal, JK_STOPPED, h->inv->name);
	return 0;
}

static void
stop_one(void *ctx, size_t i)
{
	struct run *r = ctx;
	struct host *h = &r->hosts[i];
	double t0 = now_s();

	if (stop_needed(h) && !h->is_server) {
		stop_agent(r, h);
		host_release(r, h);
	}
	h->seconds += now_s() - t0;
	progress_step(r);
}

int
stop_phase(struct run *r)
{
	struct host *sa = r->server;
	size_t i, n = 0;

	if (stop_needed(sa)) {
		log_info("stopping the PEM server host's agent on %s",
		    sa->label);
		if (stop_agent(r, sa) != 0)
			return ERR_REMOTE_CMD;
	}
	for (i = 0; i < r->nhosts; i++)
		n += stop_needed(&r->hosts[i]) && !r->hosts[i].is_server;
	log_info("stopping %zu agent(s), %d at a time", n, r->o->parallel);
	progress_begin(r, "stop agents", r->nhosts);
	host_par_for(r, stop_one);
	progress_end(r);
	return 0;
}

/* Start an agent again on whatever files it has now. */
int
stop_start(struct run *r, struct host *h)
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
	journal_add(r->journal, JK_STARTED, h->inv->name);
	return 0;
}

static void
restart_one(void *ctx, size_t i)
{
	struct run *r = ctx;
	struct host *h = &r->hosts[i];

	if (h->stopped && !h->pushed)
		stop_start(r, h);
}

void
stop_undo(struct run *r)
{
	size_t i, n = 0;
	int stop;

	for (i = 0; i < r->nhosts; i++)
		n += r->hosts[i].stopped && !r->hosts[i].pushed;
	if (n == 0)
		return;
	log_info("starting %zu agent(s) again on their old certificates", n);
	stop = atomic_exchange(&r->stop, STOP_NONE);
	host_par_for(r, restart_one);
	atomic_store(&r->stop, stop);
}
