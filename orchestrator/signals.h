/*
 * signals.h: SIGINT, SIGTERM and SIGHUP set r->stop; a thread of its
 * own waits for them, every other thread blocks them.
 */
#ifndef PEMROTATE_SIGNALS_H
#define PEMROTATE_SIGNALS_H

#include "runtypes.h"

/* 1 if the thread runs (t); signals_stop ends it. */
int signals_start(struct run *r, pthread_t *t);
void signals_stop(pthread_t t, int started);

#endif
