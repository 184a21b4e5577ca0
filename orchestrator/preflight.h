/*
 * preflight.h: everything read and checked before anything is
 * changed.  A failure here ends the run with exit status 2.
 */
#ifndef PEMROTATE_PREFLIGHT_H
#define PEMROTATE_PREFLIGHT_H

#include "runtypes.h"

int preflight_run(struct run *r);

#endif
