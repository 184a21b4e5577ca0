/*
 * resume.h: finishing a run from its journal.
 */
#ifndef PEMROTATE_RESUME_H
#define PEMROTATE_RESUME_H

#include "runtypes.h"

/* After the lock: decide from the journal and the server how to go on. */
int resume_prepare(struct run *r);

#endif
