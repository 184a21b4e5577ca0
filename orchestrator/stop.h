/*
 * stop.h: stopping the agents before the rotation, and starting again
 * those the run stopped and did not push.
 */
#ifndef PEMROTATE_STOP_H
#define PEMROTATE_STOP_H

#include "runtypes.h"

/* The server host's agent, then every other (-j at a time). */
int stop_phase(struct run *r);
/* 1 if h is an agent this run still has to rotate. */
int stop_needed(const struct host *h);
/* Stop h's agent (recorded on h when it fails). */
int stop_agent(struct run *r, struct host *h);
/* Start h's agent again on whatever files it has now. */
int stop_start(struct run *r, struct host *h);
/* At the end: every agent stopped and not pushed is started again. */
void stop_undo(struct run *r);

#endif
