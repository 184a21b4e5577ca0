/*
 * setup.h: a run made from the options (main thread, before any
 * connection), its first journal records, and freeing it.
 */
#ifndef PEMROTATE_SETUP_H
#define PEMROTATE_SETUP_H

#include "runtypes.h"

/* Fill r: run id, names, inventory, known hosts, hosts, key pool. */
int setup_run(struct run *r);
/* Create (or reopen, resume) the journal: what the run is. r->error. */
int setup_journal(struct run *r);
/* Free everything r holds (r itself is the caller's). */
void setup_free(struct run *r);

#endif
