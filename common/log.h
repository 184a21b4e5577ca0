/*
 * log.h: messages to stderr, safe from many threads.
 *
 * The level is set once by main before any thread starts.  Messages are
 * written whole (one write per line) so lines from workers never mix.
 * Nothing secret may be passed here.
 */
#ifndef PEMROTATE_LOG_H
#define PEMROTATE_LOG_H

enum log_level { LOG_QUIET = 0, LOG_ERROR = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/*
 * Hook called before and after each message, under the lock that orders
 * them (the orchestrator's run uses it to erase and redraw its progress
 * line on a terminal, and clears it when the run ends).  NULL to clear;
 * may be called while other threads log.
 */
void log_set_hook(void (*before)(void *), void (*after)(void *), void *arg);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
