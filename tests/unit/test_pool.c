/*
 * test_pool.c: the worker pool and the background key generator, with
 * real threads (run under TSan in CI).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "common/err.h"
#include "crypto/pki.h"
#include "orchestrator/pool.h"

struct counts {
	pthread_mutex_t mu;
	int seen[1000];
	int total;
	atomic_int stop;
};

static void
count_one(void *ctx, size_t i)
{
	struct counts *c = ctx;

	pthread_mutex_lock(&c->mu);
	c->seen[i]++;
	c->total++;
	if (c->total == 10)
		atomic_store(&c->stop, 1);
	pthread_mutex_unlock(&c->mu);
}

static void
test_par_for_each_index_once(void **state)
{
	struct counts c;
	int i;

	(void)state;
	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.mu, NULL);
	par_for(1000, 8, count_one, &c, NULL);
	for (i = 0; i < 1000; i++)
		assert_int_equal(c.seen[i], 1);
	pthread_mutex_destroy(&c.mu);
}

static void
test_par_for_stops(void **state)
{
	struct counts c;

	(void)state;
	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.mu, NULL);
	par_for(1000, 4, count_one, &c, &c.stop);
	/* at most one index per thread after the flag was raised */
	assert_true(c.total >= 10 && c.total <= 14);
	pthread_mutex_destroy(&c.mu);
}

static void
test_par_for_edge_sizes(void **state)
{
	struct counts c;

	(void)state;
	memset(&c, 0, sizeof(c));
	pthread_mutex_init(&c.mu, NULL);
	par_for(0, 4, count_one, &c, NULL);
	assert_int_equal(c.total, 0);
	par_for(3, 64, count_one, &c, NULL);
	assert_int_equal(c.total, 3);
	pthread_mutex_destroy(&c.mu);
}

static struct keygen_stats
stats(struct keygen *kg)
{
	struct keygen_stats st;

	keygen_stats(kg, &st);
	return st;
}

static void
test_keygen_all_distinct(void **state)
{
	struct pki_keyspec spec;
	struct pki_key *k[12] = { 0 };
	struct pki_cert *ca;
	struct keygen *kg;
	int i, j, matches;

	(void)state;
	assert_int_equal(pki_keyspec_parse("ec:P-256", &spec), 0);
	kg = keygen_start(&spec, 16, 2, 0);
	/* take out of order; 4 are never taken and freed by keygen_free */
	for (i = 11; i >= 0; i--)
		assert_int_equal(keygen_take(kg, (size_t)i, &k[i]), 0);
	assert_true(stats(kg).busy_s > 0.0);
	keygen_free(kg);
	for (i = 0; i < 12; i++) {
		assert_non_null(k[i]);
		assert_int_equal(pki_cert_make_ca(k[i], "/CN=t", 1, &ca), 0);
		matches = 0;
		for (j = 0; j < 12; j++)
			matches += pki_key_matches_cert(k[j], ca);
		assert_int_equal(matches, 1);
		pki_cert_free(ca);
	}
	for (i = 0; i < 12; i++)
		pki_key_free(k[i]);
}

/*
 * A bounded look-ahead: the threads stop at that many keys made and not
 * taken; then a key nobody has started is made by its taker, so keys of
 * hosts that are never pushed (never taken) do not block the others.
 */
static void
test_keygen_ahead(void **state)
{
	struct pki_keyspec spec;
	struct pki_key *k[40] = { 0 };
	struct keygen *kg;
	int i, waited;

	(void)state;
	assert_int_equal(pki_keyspec_parse("ec:P-256", &spec), 0);
	kg = keygen_start(&spec, 40, 2, 3);
	for (waited = 0; stats(kg).held < 3 && waited < 2000; waited++)
		usleep(1000);
	usleep(20000);
	assert_int_equal(stats(kg).held, 3);	/* and no more */
	assert_int_equal(keygen_take(kg, 39, &k[39]), 0);	/* made here */
	assert_int_equal(stats(kg).held, 3);
	/* 0..4 are never taken: 3 of them fill the look-ahead for good */
	for (i = 5; i < 39; i++)
		assert_int_equal(keygen_take(kg, (size_t)i, &k[i]), 0);
	assert_true(stats(kg).held <= 3);
	keygen_free(kg);
	for (i = 5; i < 40; i++) {
		assert_non_null(k[i]);
		pki_key_free(k[i]);
	}
}

/*
 * No pool makes every key at once: ahead 0 holds at most two keys per
 * thread, and each key taken lets one more be made.
 */
static void
test_keygen_default_ahead(void **state)
{
	struct pki_keyspec spec;
	struct pki_key *k[10] = { 0 };
	struct keygen *kg;
	int i, waited;

	(void)state;
	assert_int_equal(pki_keyspec_parse("ec:P-256", &spec), 0);
	kg = keygen_start(&spec, 10, 2, 0);
	for (waited = 0; stats(kg).held < 4 && waited < 2000; waited++)
		usleep(1000);
	usleep(20000);
	assert_int_equal(stats(kg).held, 4);
	assert_int_equal(stats(kg).made, 4);
	for (i = 0; i < 10; i++) {
		assert_int_equal(keygen_take(kg, (size_t)i, &k[i]), 0);
		assert_true(stats(kg).held <= 4);
	}
	keygen_free(kg);
	for (i = 0; i < 10; i++) {
		assert_non_null(k[i]);
		pki_key_free(k[i]);
	}
}

static void
test_keygen_bad_slot(void **state)
{
	struct pki_keyspec spec;
	struct pki_key *k;
	struct keygen *kg;

	(void)state;
	pki_keyspec_parse("ec:P-256", &spec);
	kg = keygen_start(&spec, 1, 1, 0);
	assert_int_equal(keygen_take(kg, 5, &k), ERR_INTERNAL);
	assert_int_equal(keygen_take(kg, 0, &k), 0);
	pki_key_free(k);
	keygen_free(kg);
	assert_true(cpu_count() >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_par_for_each_index_once),
		cmocka_unit_test(test_par_for_stops),
		cmocka_unit_test(test_keygen_ahead),
		cmocka_unit_test(test_keygen_default_ahead),
		cmocka_unit_test(test_par_for_edge_sizes),
		cmocka_unit_test(test_keygen_all_distinct),
		cmocka_unit_test(test_keygen_bad_slot),
	};
	pki_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
