/*
 * jobs.h: PEM's CA renewal job, disabled for the run.
 */
#ifndef PEMROTATE_JOBS_H
#define PEMROTATE_JOBS_H

#include "runtypes.h"

void jobs_disable(struct run *r);
void jobs_restore(struct run *r);

#endif
