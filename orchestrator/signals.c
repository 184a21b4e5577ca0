/*
 * signals.c: a thread turns SIGINT, SIGTERM and SIGHUP into r->stop.
 */
#include "signals.h"

#include <signal.h>

#include "common/log.h"

static void *
signal_thread(void *arg)
{
	struct run *r = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		if (sigwait(&set, &sig) != 0 || sig == SIGUSR2)
			return NULL;
		if (atomic_exchange(&r->stop, STOP_SIGNAL) == STOP_SIGNAL)
			log_error("already stopping: the hosts in flight are "
			    "being finished and stopped agents started again");
		else
			log_error("%s: starting no new host; finishing those "
			    "in flight", sig == SIGINT ? "interrupted" :
			    sig == SIGHUP ? "hung up" : "terminated");
	}
}

/*
 * Block the signals in every thread; one thread waits for them.  A hang-up
 * (the operator's SSH session to this machine dropped) is an interruption
 * too: the run winds down cleanly instead of dying half-way.
 */
int
signals_start(struct run *r, pthread_t *t)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return pthread_create(t, NULL, signal_thread, r) == 0;
}

void
signals_stop(pthread_t t, int started)
{
	if (!started)
		return;
	pthread_kill(t, SIGUSR2);
	pthread_join(t, NULL);
}
