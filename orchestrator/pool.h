/*
 * pool.h: the two kinds of parallelism pemrotate uses.
 *
 * par_for runs fn(ctx, i) for i in [0, n) on nthreads threads and returns
 * when all are done; once *stop is non-zero no new index is started.
 *
 * keygen: a pool of CPU threads started at once that generates keys in
 * the background, in the order they were queued, while the network work
 * goes on.  Each key is a slot the network side waits on.
 */
#ifndef PEMROTATE_POOL_H
#define PEMROTATE_POOL_H

#include <stdatomic.h>
#include <stddef.h>

struct pki_keyspec;
struct pki_key;

typedef void par_fn(void *ctx, size_t i);

/* Run fn over [0, n) with at most nthreads threads (>= 1). */
void par_for(size_t n, int nthreads, par_fn *fn, void *ctx,
    atomic_int *stop);

struct keygen;

/*
 * Start nthreads threads generating nkeys keys of spec.  Slot 0 is made
 * first, then 1, ...  The threads hold at most ahead keys made (or being
 * made) and not yet taken, 0 for two per thread: private keys are made
 * just ahead of their use, never all at once, and the threads stay busy
 * as long as keys are taken.  The caller owns the returned pool.
 */
struct keygen *keygen_start(const struct pki_keyspec *spec, size_t nkeys,
    int nthreads, size_t ahead);
/*
 * Take key i (the caller owns and frees it): wait while a thread makes it,
 * or make it in the calling thread if none has started it.  Returns 0, or
 * the err_code generation failed with.  Each slot may be taken once.
 */
int keygen_take(struct keygen *kg, size_t i, struct pki_key **out);
struct keygen_stats {
	size_t made;		/* keys made so far, by threads and takers */
	size_t held;		/* made or being made by the threads, untaken */
	double busy_s;		/* thread CPU seconds spent making them: what
				   the same keys cost on one CPU */
};

/* A consistent snapshot of the pool's counters. */
void keygen_stats(struct keygen *kg, struct keygen_stats *st);
/* Stop (keys not yet made are not made), join, free untaken keys. */
void keygen_free(struct keygen *kg);

/* Number of online CPUs (>= 1). */
int cpu_count(void);

#endif
