/*
 * cmd_agents.c: "pemrotate agents -i INV [--agent ID ...]
 * [--expiring-within DAYS]": new agent certificates from the current CA
 * (its key read from the server into memory only), the server's files
 * left alone: per agent stop, push, start, verify, -j at a time, as a
 * rotation pushes them.
 */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "dayrun.h"
#include "host.h"
#include "inventory/inventory.h"
#include "pool.h"
#include "progress.h"
#include "push.h"
#include "serverfiles.h"
#include "stop.h"

#define CHECK_TRIES	8	/* logins tried after the start */

struct agents_set {
	struct run *r;
	struct host **h;
	size_t n;
};

/*
 * Whether an agent may be renewed, as far as the inventory tells (its
 * agent_id is read later): a key is made for it.  An --agent that is a
 * number may be any agent's agent_id.
 */
static int
agents_wanted(const struct run *r, const struct inv_host *ih)
{
	const struct opts *o = r->o;
	long id;
	size_t i;

	if (!ih->is_agent)
		return 0;
	if (o->nagents == 0)
		return 1;
	for (i = 0; i < o->nagents; i++)
		if (strcmp(o->agents[i], ih->name) == 0 ||
		    str_to_posint(o->agents[i], 2147483647L, &id))
			return 1;
	return 0;
}

/* The agents named by --agent, or every agent; 0, or -1 (r->error). */
static int
agents_named(struct run *r, struct agents_set *as)
{
	struct host *h;
	size_t i, j;

	as->h = xcalloc(r->nhosts, sizeof(*as->h));
	if (r->o->nagents == 0) {
		for (i = 0; i < r->nhosts; i++)
			if (stop_needed(&r->hosts[i]))
				as->h[as->n++] = &r->hosts[i];
		return 0;
	}
	for (i = 0; i < r->o->nagents; i++) {
		if ((h = dayrun_agent(r, r->o->agents[i])) == NULL)
			return -1;
		for (j = 0; j < as->n && as->h[j] != h; j++)
			;
		if (j == as->n)
			as->h[as->n++] = h;
	}
	return 0;
}

/*
 * 1 if h's certificate is due: it expires within --expiring-within days,
 * or is missing, unreadable or not of the current CA (said why).
 */
static int
agents_due(struct run *r, struct host *h)
{
	struct pki_cert *crt = NULL;
	char *msg = NULL;
	time_t end;
	int due = 1;

	if (dayrun_agent_cert(r, h, &crt, &msg) != 0 ||
	    dayrun_of_current_ca(r, h, crt, &msg) != 0) {
		log_info("%s: to be renewed: %s", h->label, msg);
	} else {
		end = pki_cert_not_after(crt);
		due = end - time(NULL) <= (time_t)r->o->expiring_within *
		    86400;
		log_info("%s: its certificate expires in %ld day(s): %s",
		    h->label, (long)((end - time(NULL)) / 86400),
		    due ? "to be renewed" : "left alone");
	}
	pki_cert_free(crt);
	free(msg);
	return due;
}

static void
due_one(void *ctx, size_t i)
{
	struct agents_set *as = ctx;
	struct host *h = as->h[i];

	if (!agents_due(as->r, h))
		as->h[i] = NULL;
	host_release(as->r, h);
}

/* --expiring-within: only the agents whose certificate is due. */
static void
agents_filter_due(struct run *r, struct agents_set *as)
{
	struct agents_set all = *as;
	size_t i;

	if (r->o->expiring_within < 0)
		return;
	par_for(all.n, r->o->parallel, due_one, &all, &r->stop);
	as->n = 0;
	for (i = 0; i < all.n; i++)
		if (all.h[i] != NULL)
			as->h[as->n++] = all.h[i];
}

/*
 * The agent runs on its new files: the certificate in place is the
 * current CA's, and its one login with them (pem_agent_check_cmd, when
 * set) succeeds.
 */
static int
agents_verify(struct run *r, struct host *h, char **msg)
{
	const char *cmd = host_var_nonempty(r, h, "pem_agent_check_cmd");
	struct pki_cert *crt = NULL;
	int i, rc;

	rc = dayrun_agent_cert(r, h, &crt, msg);
	if (rc == 0)
		rc = dayrun_of_current_ca(r, h, crt, msg);
	pki_cert_free(crt);
	if (rc != 0 || cmd == NULL)
		return rc;
	for (i = 0; i < CHECK_TRIES; i++) {
		free(*msg);
		*msg = NULL;
		if ((rc = host_exec(r, h, "check the agent's login", cmd,
		    r->o->agent_timeout_s, msg)) == 0)
			break;
		usleep(250 * 1000);
	}
	if (rc != 0) {
		char *why = *msg;

		*msg = xasprintf("the agent cannot log in with its new "
		    "certificate (pem_agent_check_cmd): %s",
		    why ? why : err_str(rc));
		free(why);
	}
	return rc;
}

/* A pushed agent that does not work: stopped, its originals back. */
static void
agents_undo(struct run *r, struct host *h)
{
	char *msg = NULL;

	if (host_exec(r, h, "stop the agent", h->stop_cmd,
	    r->o->agent_timeout_s, &msg) != 0)
		log_error("%s: stop the agent: %s", h->label, msg);
	free(msg);
	h->pushed = 0;
	push_restore(r, h);
}

static void
renew_one(void *ctx, size_t i)
{
	struct agents_set *as = ctx;
	struct run *r = as->r;
	struct host *h = as->h[i];
	double t0 = now_s();
	char *msg = NULL;

	if (stop_agent(r, h) == 0 && push_agent(r, h) == 0) {
		if (agents_verify(r, h, &msg) == 0) {
			h->status = HS_OK;
			log_info("%s: runs on its new certificate", h->label);
		} else {
			host_fail(h, "verify", "%s", msg);
			agents_undo(r, h);
		}
	}
	free(msg);
	host_release(r, h);
	h->seconds += now_s() - t0;
	progress_step(r);
}

/* The CA's key and certificate, for the agents' certificates. */
static int
agents_ca(struct run *r)
{
	char *msg = NULL;

	if (serverfiles_ca_key(r, &r->ca_key, &msg) != 0) {
		host_fail(r->server, "agents", "%s", msg);
		free(msg);
		return -1;
	}
	host_release(r, r->server);
	r->ca_cert = pki_cert_dup(r->sf.old_ca);
	push_leafmaker(r);
	return 0;
}

/* r->result from the hosts renewed (or not reached). */
static void
agents_outcome(struct run *r, struct agents_set *as)
{
	size_t i, failed = 0, left = 0;

	for (i = 0; i < as->n; i++) {
		if (as->h[i]->status == HS_FAILED)
			failed++;
		else if (as->h[i]->status != HS_OK) {
			as->h[i]->status = HS_SKIPPED;
			left++;
		}
	}
	if (left > 0) {
		r->result = RUN_INTERRUPTED;
		r->error = xasprintf("interrupted: %zu agent(s) not renewed",
		    left);
	} else if (failed > 0) {
		r->result = RUN_PARTIAL;
		r->error = xasprintf("%zu of %zu agent(s) failed and run on "
		    "their old certificates", failed, as->n);
	} else {
		r->result = RUN_OK;
		log_info("%zu agent(s) renewed", as->n);
	}
}

static void
agents_step(struct run *r)
{
	struct agents_set as = { r, NULL, 0 };
	size_t i;

	if (agents_named(r, &as) != 0) {
		r->result = RUN_PREFLIGHT_FAILED;
		goto out;
	}
	agents_filter_due(r, &as);
	if (atomic_load(&r->stop) == STOP_SIGNAL) {
		r->error = xstrdup("interrupted; nothing was changed");
		r->result = RUN_CANCELLED;
		goto out;
	}
	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i].is_agent)
			r->hosts[i].status = HS_SKIPPED;
	for (i = 0; i < as.n; i++)
		as.h[i]->status = HS_PENDING;
	if (as.n == 0) {
		log_info("no agent to renew");
		r->result = RUN_OK;
		goto out;
	}
	if (agents_ca(r) != 0) {
		r->result = RUN_PREFLIGHT_FAILED;
		goto out;
	}
	log_info("renewing %zu agent(s), %d at a time", as.n,
	    r->o->parallel);
	progress_begin(r, "renew agents", as.n);
	par_for(as.n, r->o->parallel, renew_one, &as, &r->stop);
	progress_end(r);
	stop_undo(r);
	agents_outcome(r, &as);
 out:
	free(as.h);
}

int
cmd_agents(const struct opts *o)
{
	static const struct dayrun d = {
		.name = "agents", .agent_wanted = agents_wanted,
		.step = agents_step,
	};

	return dayrun_main(o, &d);
}
