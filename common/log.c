#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Process-wide logging state: the level, set once by main before threads
 * start, then only read; the hook, set and read under the mutex, which
 * also orders whole lines.
 */
static enum log_level log_level = LOG_INFO;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static void (*log_before)(void *);
static void (*log_after)(void *);
static void *log_hook_arg;

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

void
log_set_hook(void (*before)(void *), void (*after)(void *), void *arg)
{
	pthread_mutex_lock(&log_mu);
	log_before = before;
	log_after = after;
	log_hook_arg = arg;
	pthread_mutex_unlock(&log_mu);
}

static void __attribute__((format(printf, 3, 0)))
log_emit(enum log_level level, const char *prefix, const char *fmt,
    va_list ap)
{
	char line[2048];
	int n;
	size_t len;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "pemrotate: %s", prefix);
	if (n < 0)
		return;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	len = strlen(line);
	if (len == sizeof(line) - 1)
		line[len - 1] = '\n';
	else
		line[len++] = '\n';
	pthread_mutex_lock(&log_mu);
	if (log_before != NULL)
		log_before(log_hook_arg);
	if (write(STDERR_FILENO, line, len) < 0) {
		/* nowhere left to report it */
	}
	if (log_after != NULL)
		log_after(log_hook_arg);
	pthread_mutex_unlock(&log_mu);
}

#define LOG_FN(name, level, prefix)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
								\
	va_start(ap, fmt);					\
	log_emit(level, prefix, fmt, ap);			\
	va_end(ap);						\
}

LOG_FN(log_error, LOG_ERROR, "error: ")
LOG_FN(log_warn, LOG_ERROR, "warning: ")
LOG_FN(log_info, LOG_INFO, "")
LOG_FN(log_debug, LOG_DEBUG, "debug: ")
