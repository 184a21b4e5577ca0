/*
 * resume.h: finishing a run from its journal.
 */
#ifndef PEMROTATE_RESUME_H
#define PEMROTATE_RESUME_H

#include "runtypes.h"

/* The options of the run being resumed, from its journal. */
int resume_opts(struct run *r, struct opts *ro, struct journal_state *st);
/* After the lock: decide from the journal and the server how to go on. */
int resume_prepare(struct run *r);

#endif
