/*
 * lock.h: the server-side lock, one run at a time per estate.
 */
#ifndef PEMROTATE_LOCK_H
#define PEMROTATE_LOCK_H

#include "runtypes.h"

int lock_acquire(struct run *r);
/*
 * Likewise, taking over the lock when it names run may_hold (a run left
 * for "resume"; lock_acquire: r's own run).
 */
int lock_acquire_for(struct run *r, const char *may_hold);
/* The run id the lock names; NULL when there is no lock (or unreadable). */
char *lock_owner(struct run *r);
void lock_release(struct run *r);

#endif
