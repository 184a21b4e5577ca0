/*
 * xmem.h: allocation that aborts on out-of-memory, and wiping of secrets.
 */
#ifndef PEMROTATE_XMEM_H
#define PEMROTATE_XMEM_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/*
 * Secrets: every buffer that held one is cleared with wipe() (or, for
 * heap memory, freezero()) before it is freed or goes out of scope.
 */
/* Overwrite n bytes of p so the compiler cannot elide it. */
void wipe(void *p, size_t n);
/* wipe(p, n) then free(p); accepts NULL. */
void freezero(void *p, size_t n);
/*
 * A buffer of n bytes for a secret, on pages of its own: left out of core
 * dumps (MADV_DONTDUMP) and locked in memory (never swapped) where
 * RLIMIT_MEMLOCK allows.  Zero-filled.  Aborts on out-of-memory.  Costs a
 * few system calls: for buffers that hold key bytes, not for every string.
 * Release with secret_free().
 */
void *secret_alloc(size_t n);
/* Wipe, unlock and unmap a secret_alloc() buffer; accepts NULL. */
void secret_free(void *p);

/* Print "pemrotate: out of memory" and exit(2). */
void fatal_nomem(void) __attribute__((noreturn));

#endif
