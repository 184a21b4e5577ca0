/*
 * lock.h: the server-side lock, one run at a time per estate.
 */
#ifndef PEMROTATE_LOCK_H
#define PEMROTATE_LOCK_H

#include "runtypes.h"

int lock_acquire(struct run *r);
void lock_release(struct run *r);

#endif
