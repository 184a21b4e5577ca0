/*
 * push.h: each stopped agent gets its new key and certificate and is
 * started; a failed push puts the old files back.
 */
#ifndef PEMROTATE_PUSH_H
#define PEMROTATE_PUSH_H

#include "runtypes.h"

/* Push every stopped agent (the canary first), -j at a time. */
int push_phase(struct run *r);

/*
 * The CA's part of every agent certificate, made once from r->ca_cert
 * and r->ca_key (without it each certificate is made the long way).
 */
void push_leafmaker(struct run *r);
/*
 * One stopped agent: its new key and certificate (CN agent<ID>, from the
 * keygen pool or made on the host) put in place with the originals kept,
 * the agent started; on failure (recorded on h) the originals are put
 * back and the agent started on them.  0 or the code.
 */
int push_agent(struct run *r, struct host *h);
/* After a failed push: the originals back, the agent started on them. */
void push_restore(struct run *r, struct host *h);

#endif
