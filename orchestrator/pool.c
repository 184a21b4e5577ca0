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

struct keyslot {
	struct pki_key *key;
	int state;		/* 0 pending, 1 done, 2 taken */
	int err;
};

struct keygen {
	pthread_mutex_t mu;
	pthread_cond_t done;
	struct pki_keyspec spec;
	struct keyslot *slots;
	size_t n, next;
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

static void *
keygen_worker(void *arg)
{
	struct keygen *kg = arg;
	struct pki_key *k;
	size_t i;
	double t0;
	int r;

	pthread_mutex_lock(&kg->mu);
	while (!kg->cancel && kg->next < kg->n) {
		i = kg->next++;
		pthread_mutex_unlock(&kg->mu);
		k = NULL;
		t0 = thread_cpu();
		r = pki_key_generate(&kg->spec, &k);
		pthread_mutex_lock(&kg->mu);
		kg->busy += thread_cpu() - t0;
		kg->slots[i].key = k;
		kg->slots[i].err = r;
		kg->slots[i].state = 1;
		pthread_cond_broadcast(&kg->done);
	}
	pthread_mutex_unlock(&kg->mu);
	return NULL;
}

struct keygen *
keygen_start(const struct pki_keyspec *spec, size_t nkeys, int nthreads)
{
	struct keygen *kg = xcalloc(1, sizeof(*kg));
	int i;

	pthread_mutex_init(&kg->mu, NULL);
	pthread_cond_init(&kg->done, NULL);
	kg->spec = *spec;
	kg->n = nkeys;
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
	int r;

	*out = NULL;
	if (i >= kg->n)
		return ERR_INTERNAL;
	pthread_mutex_lock(&kg->mu);
	if (kg->nthreads == 0 && kg->slots[i].state == 0) {
		/* no thread could be started: make it here */
		pthread_mutex_unlock(&kg->mu);
		return pki_key_generate(&kg->spec, out);
	}
	while (kg->slots[i].state == 0 && !kg->cancel)
		pthread_cond_wait(&kg->done, &kg->mu);
	if (kg->slots[i].state != 1) {
		pthread_mutex_unlock(&kg->mu);
		return kg->cancel ? ERR_CANCELLED : ERR_INTERNAL;
	}
	*out = kg->slots[i].key;
	r = kg->slots[i].err;
	kg->slots[i].key = NULL;
	kg->slots[i].state = 2;
	pthread_mutex_unlock(&kg->mu);
	return r;
}

double
keygen_busy_seconds(struct keygen *kg)
{
	double b;

	pthread_mutex_lock(&kg->mu);
	b = kg->busy;
	pthread_mutex_unlock(&kg->mu);
	return b;
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
	pthread_mutex_unlock(&kg->mu);
	for (t = 0; t < kg->nthreads; t++)
		pthread_join(kg->threads[t], NULL);
	for (i = 0; i < kg->n; i++)
		pki_key_free(kg->slots[i].key);
	free(kg->slots);
	free(kg->threads);
	pthread_cond_destroy(&kg->done);
	pthread_mutex_destroy(&kg->mu);
	free(kg);
}

int
cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}
