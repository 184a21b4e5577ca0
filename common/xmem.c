#include "xmem.h"

#include <sys/mman.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
fatal_nomem(void)
{
	fputs("pemrotate: out of memory\n", stderr);
	exit(2);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal_nomem();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatal_nomem();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatal_nomem();
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list aq;
	int n;
	char *p;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		fatal_nomem();
	p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	if (p == NULL)
		return;
	while (n--)
		*v++ = 0;
}

void
freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	wipe(p, n);
	free(p);
}

/* Before the bytes secret_alloc() returns: what secret_free() unmaps. */
struct secret_hdr {
	size_t map_len;
	int locked;
	char pad[16 - sizeof(size_t) - sizeof(int)];
};

void *
secret_alloc(size_t n)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096, len;
	struct secret_hdr *h;

	if (n > SIZE_MAX - sizeof(*h) - page)
		fatal_nomem();
	len = (n + sizeof(*h) + page - 1) / page * page;
	h = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		fatal_nomem();
#ifdef MADV_DONTDUMP
	(void)madvise(h, len, MADV_DONTDUMP);
#endif
	h->map_len = len;
	h->locked = mlock(h, len) == 0;
	return h + 1;
}

void
secret_free(void *p)
{
	struct secret_hdr *h;
	size_t len;
	int locked;

	if (p == NULL)
		return;
	h = (struct secret_hdr *)p - 1;
	len = h->map_len;
	locked = h->locked;
	wipe(h, len);
	if (locked)
		(void)munlock(h, len);
	(void)munmap(h, len);
}
