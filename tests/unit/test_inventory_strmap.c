/*
 * test_inventory_strmap.c: the inventory's hash tables (inventory/strmap.h)
 * through their growth: every key found after many doublings, absent keys
 * not, and a pair counted once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "inventory/strmap.h"

#define NKEYS	5000

static void
test_strmap(void **state)
{
	static char keys[NKEYS][16];
	struct strmap m = { 0 };
	size_t i, v;

	(void)state;
	assert_int_equal(strmap_get(&m, "a", &v), 0);
	for (i = 0; i < NKEYS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "host%zu", i);
		strmap_put(&m, keys[i], i);
	}
	assert_int_equal(m.n, NKEYS);
	assert_true(m.cap >= 2 * m.n);
	for (i = 0; i < NKEYS; i++) {
		v = SIZE_MAX;
		assert_int_equal(strmap_get(&m, keys[i], &v), 1);
		assert_int_equal(v, i);
	}
	assert_int_equal(strmap_get(&m, "host5000", &v), 0);
	assert_int_equal(strmap_get(&m, "", &v), 0);
	strmap_free(&m);
	assert_null(m.keys);
	assert_int_equal(m.n, 0);
	strmap_free(&m);
}

static void
test_pairset(void **state)
{
	struct pairset s = { 0 };
	size_t a, b;

	(void)state;
	for (a = 0; a < 100; a++) {
		for (b = 0; b < 50; b++)
			assert_int_equal(pairset_add(&s, a, b), 1);
	}
	assert_int_equal(s.n, 5000);
	for (a = 0; a < 100; a++) {
		for (b = 0; b < 50; b++)
			assert_int_equal(pairset_add(&s, a, b), 0);
	}
	/* (a, b) and (b, a) are different pairs. */
	assert_int_equal(pairset_add(&s, 7, 99), 1);
	assert_int_equal(pairset_add(&s, 99, 7), 0);
	assert_int_equal(pairset_add(&s, 0xffffffffu, 0xffffffffu), 1);
	assert_int_equal(s.n, 5002);
	pairset_free(&s);
	assert_null(s.keys);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strmap),
		cmocka_unit_test(test_pairset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
