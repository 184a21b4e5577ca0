/*
 * progress.h: the progress line on stderr (a terminal only), and what
 * the run cost.  Any thread may call progress_step; r->mu guards it.
 */
#ifndef PEMROTATE_PROGRESS_H
#define PEMROTATE_PROGRESS_H

#include "runtypes.h"

/* Set up once; a phase of n steps begins; one step is done; it ends. */
void progress_init(struct run *r);
void progress_begin(struct run *r, const char *phase, size_t n);
void progress_step(struct run *r);
void progress_end(struct run *r);
/* With -v, log the process's CPU time so far, after "phase" (profiling). */
void progress_cpu_mark(const char *phase);
/* Log what the run cost this machine: key generation, CPU, memory. */
void progress_cost(struct run *r);

#endif
