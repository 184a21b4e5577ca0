/*
 * xmem.h: allocation that aborts on out-of-memory, and wiping of secrets.
 */
#ifndef PEMROTATE_XMEM_H
#define PEMROTATE_XMEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Overwrite n bytes of p so the compiler cannot elide it. */
void wipe(void *p, size_t n);
/* wipe(p, n) then free(p); accepts NULL. */
void freezero(void *p, size_t n);

/* Print "pemrotate: out of memory" and exit(2). */
void fatal_nomem(void) __attribute__((noreturn));

#endif
