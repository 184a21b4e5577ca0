#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xmem.h"
#include "crypto/pki.h"

/* ---- par_for ---- */

struct par {
	pthread_mutex_t mu;
	size_t next, n;
	par_fn *fn;
	void *ctx;
	atomic_int *stop;
};

static void *
par_worker(void *arg)
{
	struct par *p = arg;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		if (p->next >= p->n || (p->stop != NULL &&
		    atomic_load(p->stop))) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->mu);
		p->fn(p->ctx, i);
	}
}

void
par_for(size_t n, int nthreads, par_fn *fn, void *ctx, atomic_int *stop)
{
	struct par p;
	pthread_t *t;
	int i, started = 0;

	if (n == 0)
		return;
	if (nthreads < 1)
		nthreads = 1;
	if ((size_t)nthreads > n)
		nthreads = (int)n;
	pthread_mutex_init(&p.mu, NULL);
	p.next = 0;
	p.n = n;
	p.fn = fn;
	p.ctx = ctx;
	p.stop = stop;
	t = xcalloc((size_t)nthreads, sizeof(*t));
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&t[i], NULL, par_worker, &p) != 0)
			break;
		started++;
	}
	if (started == 0)
		par_worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	free(t);
	pthread_mutex_destroy(&p.mu);
}

/* ---- keygen ---- */

enum { SLOT_FREE, SLOT_MAKING, SLOT_READY, SLOT_TAKEN };

struct keyslot {
	struct pki_key *key;
	int state;		/* SLOT_* */
	int err;
};

struct keygen {
	pthread_mutex_t mu;
	pthread_cond_t done;	/* a slot became ready, or cancel */
	pthread_cond_t room;	/* a worker-made key was taken, or cancel */
	struct pki_keyspec spec;
	struct keyslot *slots;
	size_t n, next;
	size_t ahead;		/* bound on held */
	size_t held;		/* worker keys being made or not yet taken */
	size_t made;
	int cancel;
	double busy;
	pthread_t *threads;
	int nthreads;
};

static double
thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Make key i outside the lock; called with mu held, returns with it. */
static void
make_slot(struct keygen *kg, size_t i)
{
	struct pki_key *k = NULL;
	double t0;
	int r;

	kg->slots[i].state = SLOT_MAKING;
	pthread_mutex_unlock(&kg->mu);
	t0 = thread_cpu();
	r = pki_key_generate(&kg->spec, &k);
	pthread_mutex_lock(&kg->mu);
	kg->busy += thread_cpu() - t0;
	kg->made++;
	kg->slots[i].key = k;
	kg->slots[i].err = r;
	kg->slots[i].state = SLOT_READY;
	pthread_cond_broadcast(&kg->done);
}

static void *
keygen_worker(void *arg)
{
	struct keygen *kg = arg;
	size_t i;

	pthread_mutex_lock(&kg->mu);
	while (!kg->cancel && kg->next < kg->n) {
		if (kg->held >= kg->ahead) {
			/* a taker waiting for a later key makes it itself */
			pthread_cond_broadcast(&kg->done);
			pthread_cond_wait(&kg->room, &kg->mu);
			continue;
		}
		i = kg->next++;
		if (kg->slots[i].state != SLOT_FREE)
			continue;	/* a taker made it itself */
		kg->held++;
		make_slot(kg, i);
	}
	pthread_mutex_unlock(&kg->mu);
	return NULL;
}

struct keygen *
keygen_start(const struct pki_keyspec *spec, size_t nkeys, int nthreads,
    size_t ahead)
{
	struct keygen *kg = xcalloc(1, sizeof(*kg));
	int i;

	pthread_mutex_init(&kg->mu, NULL);
	pthread_cond_init(&kg->done, NULL);
	pthread_cond_init(&kg->room, NULL);
	kg->spec = *spec;
	kg->n = nkeys;
	kg->ahead = ahead > 0 ? ahead : 2 * (size_t)(nthreads > 0 ?
	    nthreads : 1);
	kg->slots = xcalloc(nkeys ? nkeys : 1, sizeof(*kg->slots));
	kg->threads = xcalloc((size_t)nthreads, sizeof(*kg->threads));
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&kg->threads[kg->nthreads], NULL,
		    keygen_worker, kg) == 0)
			kg->nthreads++;
	}
	return kg;
}

int
keygen_take(struct keygen *kg, size_t i, struct pki_key **out)
{
	struct keyslot *sl;
	int r, by_worker;

	*out = NULL;
	if (i >= kg->n)
		return ERR_INTERNAL;
	pthread_mutex_lock(&kg->mu);
	sl = &kg->slots[i];
	/*
	 * Not started: the threads will come to it, unless there are none
	 * or they wait for room (keys of hosts that will never be pushed
	 * fill the look-ahead); then it is made here rather than waited for.
	 * So at most nthreads keys are being made at once while the pool
	 * works, and memory holds no more keys than the look-ahead.
	 */
	by_worker = 1;
	while (sl->state == SLOT_FREE && !kg->cancel) {
		if (kg->nthreads == 0 || kg->held >= kg->ahead) {
			by_worker = 0;
			make_slot(kg, i);
			break;
		}
		pthread_cond_wait(&kg->done, &kg->mu);
	}
	while (sl->state == SLOT_MAKING && !kg->cancel)
		pthread_cond_wait(&kg->done, &kg->mu);
	if (sl->state != SLOT_READY) {
		pthread_mutex_unlock(&kg->mu);
		return kg->cancel ? ERR_CANCELLED : ERR_INTERNAL;
	}
	*out = sl->key;
	r = sl->err;
	sl->key = NULL;
	sl->state = SLOT_TAKEN;
	if (by_worker) {
		kg->held--;
		pthread_cond_broadcast(&kg->room);
	}
	pthread_mutex_unlock(&kg->mu);
	return r;
}

void
keygen_stats(struct keygen *kg, struct keygen_stats *st)
{
	pthread_mutex_lock(&kg->mu);
	st->made = kg->made;
	st->held = kg->held;
	st->busy_s = kg->busy;
	pthread_mutex_unlock(&kg->mu);
}

void
keygen_free(struct keygen *kg)
{
	size_t i;
	int t;

	if (kg == NULL)
		return;
	pthread_mutex_lock(&kg->mu);
	kg->cancel = 1;
	pthread_cond_broadcast(&kg->done);
	pthread_cond_broadcast(&kg->room);
	pthread_mutex_unlock(&kg->mu);
	for (t = 0; t < kg->nthreads; t++)
		pthread_join(kg->threads[t], NULL);
	for (i = 0; i < kg->n; i++)
		pki_key_free(kg->slots[i].key);
	free(kg->slots);
	free(kg->threads);
	pthread_cond_destroy(&kg->done);
	pthread_cond_destroy(&kg->room);
	pthread_mutex_destroy(&kg->mu);
	free(kg);
}

int
cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}
