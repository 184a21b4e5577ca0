/*
 * progress.c: the progress line on a terminal, and CPU marks with -v.
 */
#include "progress.h"

#include <sys/resource.h>

#include <unistd.h>

#include "common/log.h"
#include "options.h"
#include "pool.h"

static double
tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + tv->tv_usec / 1e6;
}

/* With -v: the process's CPU so far, where each phase ends (profiling). */
void
progress_cpu_mark(const char *phase)
{
	struct rusage ru;

	if (log_get_level() >= LOG_DEBUG && getrusage(RUSAGE_SELF, &ru) == 0)
		log_debug("CPU after %s: %.1f ms (%.1f user, %.1f system)",
		    phase, 1e3 * (tv_s(&ru.ru_utime) + tv_s(&ru.ru_stime)),
		    1e3 * tv_s(&ru.ru_utime), 1e3 * tv_s(&ru.ru_stime));
}

static void
progress_draw(struct run *r)
{
	char line[160];
	int n;

	if (!r->tty || r->progress_phase == NULL)
		return;
	n = snprintf(line, sizeof(line), "\r\033[K  %s: %zu/%zu hosts",
	    r->progress_phase, r->done, r->total);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		r->tty = 0;
}

/* Log hooks: erase the line before a message, draw it again after. */
static void
progress_erase(void *arg)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->mu);
	if (r->tty && r->progress_phase != NULL &&
	    write(STDERR_FILENO, "\r\033[K", 4) < 0)
		r->tty = 0;
	pthread_mutex_unlock(&r->mu);
}

static void
progress_redraw(void *arg)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->mu);
	progress_draw(r);
	pthread_mutex_unlock(&r->mu);
}

void
progress_init(struct run *r)
{
	r->tty = isatty(STDERR_FILENO) && !r->o->quiet;
	if (r->tty)
		log_set_hook(progress_erase, progress_redraw, r);
}

void
progress_begin(struct run *r, const char *phase, size_t n)
{
	pthread_mutex_lock(&r->mu);
	r->progress_phase = phase;
	r->done = 0;
	r->total = n;
	progress_draw(r);
	pthread_mutex_unlock(&r->mu);
}

void
progress_step(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	r->done++;
	progress_draw(r);
	pthread_mutex_unlock(&r->mu);
}

void
progress_end(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	if (r->tty && r->progress_phase != NULL &&
	    write(STDERR_FILENO, "\r\033[K", 4) < 0)
		r->tty = 0;
	r->progress_phase = NULL;
	pthread_mutex_unlock(&r->mu);
}

/*
 * What the run cost this machine (getrusage: microseconds, KB), before
 * the table and the last word, which stay the last lines.
 */
void
progress_cost(struct run *r)
{
	struct keygen_stats ks;
	struct rusage ru;

	if (r->kg != NULL && r->nlocal_keys > 0) {
		keygen_stats(r->kg, &ks);
		log_info("key generation: %zu key(s) of %zu made, %.2f s of "
		    "CPU (%.2f s on %d CPUs)", ks.made, r->nlocal_keys,
		    ks.busy_s, ks.busy_s / cpu_count(), cpu_count());
	}
	if (r->nhosts > 0 && getrusage(RUSAGE_SELF, &ru) == 0)
		log_info("resources: %.3f s of CPU (%.3f user, %.3f system), "
		    "peak memory %.1f MB", tv_s(&ru.ru_utime) +
		    tv_s(&ru.ru_stime), tv_s(&ru.ru_utime), tv_s(&ru.ru_stime),
		    ru.ru_maxrss / 1024.0);
}
