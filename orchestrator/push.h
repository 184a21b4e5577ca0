/*
 * push.h: each stopped agent gets its new key and certificate and is
 * started; a failed push puts the old files back.
 */
#ifndef PEMROTATE_PUSH_H
#define PEMROTATE_PUSH_H

#include "runtypes.h"

/* Push every stopped agent (the canary first), -j at a time. */
int push_phase(struct run *r);

#endif
