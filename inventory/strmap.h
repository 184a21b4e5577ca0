/*
 * strmap.h: the inventory's hash tables, so that large estates parse in
 * linear time.
 *
 * A strmap maps a string to an index; it borrows its keys, which must
 * outlive it (they are the names held by the groups and hosts).  A
 * pairset is a set of pairs of indexes below 2^32.  Both are open
 * addressing tables that grow by doubling; zero-initialised is empty.
 * Out of memory aborts (fatal_nomem).
 */
#ifndef PEMROTATE_STRMAP_H
#define PEMROTATE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap {
	const char **keys;	/* borrowed from the group or host */
	size_t *vals;
	size_t cap;
	size_t n;
};

struct pairset {
	uint64_t *keys;		/* (a << 32 | b) + 1; 0 is empty */
	size_t cap;
	size_t n;
};

/* 1 and the value of key in *val, or 0 if key is not in m. */
int strmap_get(const struct strmap *m, const char *key, size_t *val);
/* Add key, which must not be in m yet. */
void strmap_put(struct strmap *m, const char *key, size_t val);
/* Free the table (not the keys); m is empty again. */
void strmap_free(struct strmap *m);

/* 1 if (a, b) was added, 0 if it was there already. */
int pairset_add(struct pairset *s, size_t a, size_t b);
void pairset_free(struct pairset *s);

#endif
