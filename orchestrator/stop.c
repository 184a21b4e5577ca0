/*
 * stop.c: stopping the agents before the rotation, and starting again
 * those a run stopped and did not push.
 */
#include "run.h"

#include <stdlib.h>

#include "common/err.h"
#include "common/log.h"
#include "inventory/inventory.h"
#include "journal.h"
#include "options.h"
#include "pool.h"

/* An agent this run still has to rotate. */
int
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
int
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
