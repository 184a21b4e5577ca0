/*
 * clock.h: the monotonic clock that every deadline and duration is
 * measured on.
 *
 * No state: safe from any thread.  Never the wall clock, which the
 * operator or NTP may step.
 */
#ifndef PEMROTATE_CLOCK_H
#define PEMROTATE_CLOCK_H

/* CLOCK_MONOTONIC in milliseconds (for deadlines). */
long long now_ms(void);

/* CLOCK_MONOTONIC in seconds (for durations that are reported). */
double now_s(void);

#endif
