/*
 * dayrun.h: the driver of a day-two command (revoke, finalize, agents):
 * the same set-up, preflight, lock, journal and report as a rotation,
 * around the command's own step.
 */
#ifndef PEMROTATE_DAYRUN_H
#define PEMROTATE_DAYRUN_H

#include "runtypes.h"

struct pki_cert;

struct dayrun {
	const char *name;		/* "revoke": journal and messages */
	/* Which agents get a new key (NULL: none). */
	int (*agent_wanted)(const struct run *r, const struct inv_host *ih);
	/*
	 * After the preflight, before the lock (NULL: none), changing
	 * nothing: 0 to go on; else the command ends there with r->result
	 * as set (RUN_OK: nothing to do).
	 */
	int (*check)(struct run *r);
	/*
	 * 1: a lock a rotation kept for "resume" (the run ended, its journal
	 * in the state directory) is taken over, and the command's records
	 * and result go to that run's journal; the lock stays when the
	 * command does not end RUN_OK.
	 */
	int adopt;
	/*
	 * The command's step, after the preflight, with the estate locked
	 * and the journal open; sets r->result (RUN_FAILED when it is
	 * called) and r->error.
	 */
	void (*step)(struct run *r);
};

/* The command from start to end; the exit status. */
int dayrun_main(const struct opts *o, const struct dayrun *d);

/*
 * The agent host named by want (inventory name, or agent_id once the
 * preflight has read it); NULL with r->error when there is none.
 */
struct host *dayrun_agent(struct run *r, const char *want);

/*
 * The certificate h's agent logs in with now, read over SSH (*crt the
 * caller's); ERR_NOTFOUND when there is none, the reason in *msg.
 */
int dayrun_agent_cert(struct run *r, struct host *h, struct pki_cert **crt,
    char **msg);
/* 0 if the current CA (ca_certificate.crt) issued crt, else why. */
int dayrun_of_current_ca(struct run *r, struct host *h,
    const struct pki_cert *crt, char **msg);

#endif
