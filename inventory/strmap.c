/*
 * strmap.c: string-to-index map and set of index pairs (see strmap.h).
 * FNV-1a for strings, Fibonacci hashing for pairs, linear probing, at
 * most half full.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/xmem.h"
#include "inventory/strmap.h"

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int
strmap_get(const struct strmap *m, const char *key, size_t *val)
{
	size_t i, mask = m->cap - 1;

	if (m->cap == 0)
		return 0;
	for (i = hash_str(key) & mask; m->keys[i] != NULL; i = (i + 1) & mask) {
		if (strcmp(m->keys[i], key) == 0) {
			*val = m->vals[i];
			return 1;
		}
	}
	return 0;
}

static void
strmap_insert(struct strmap *m, const char *key, size_t val)
{
	size_t i, mask = m->cap - 1;

	for (i = hash_str(key) & mask; m->keys[i] != NULL; i = (i + 1) & mask)
		;
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
}

/* Add key, which must not be in m yet. */
void
strmap_put(struct strmap *m, const char *key, size_t val)
{
	struct strmap old = *m;
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		m->cap = old.cap ? old.cap * 2 : 64;
		m->keys = xcalloc(m->cap, sizeof(*m->keys));
		m->vals = xcalloc(m->cap, sizeof(*m->vals));
		m->n = 0;
		for (i = 0; i < old.cap; i++) {
			if (old.keys[i] != NULL)
				strmap_insert(m, old.keys[i], old.vals[i]);
		}
		free(old.keys);
		free(old.vals);
	}
	strmap_insert(m, key, val);
}

void
strmap_free(struct strmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static int
pairset_insert(struct pairset *s, uint64_t key)
{
	size_t i, mask = s->cap - 1;

	for (i = (key * 0x9e3779b97f4a7c15ULL) >> 20 & mask; s->keys[i] != 0;
	    i = (i + 1) & mask) {
		if (s->keys[i] == key)
			return 0;
	}
	s->keys[i] = key;
	s->n++;
	return 1;
}

/* 1 if (a, b) was added, 0 if it was there already. */
int
pairset_add(struct pairset *s, size_t a, size_t b)
{
	struct pairset old = *s;
	size_t i;

	if ((s->n + 1) * 2 > s->cap) {
		s->cap = old.cap ? old.cap * 2 : 256;
		s->keys = xcalloc(s->cap, sizeof(*s->keys));
		s->n = 0;
		for (i = 0; i < old.cap; i++) {
			if (old.keys[i] != 0)
				pairset_insert(s, old.keys[i]);
		}
		free(old.keys);
	}
	return pairset_insert(s, ((uint64_t)a << 32 | (uint64_t)b) + 1);
}

void
pairset_free(struct pairset *s)
{
	free(s->keys);
	memset(s, 0, sizeof(*s));
}
