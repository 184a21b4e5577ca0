/*
 * keygen_floor N SPEC: generate N keys of SPEC ("rsa:4096", "ec:P-256")
 * with pemrotate's own key code (crypto/pki_key.c through the keygen pool of
 * orchestrator/pool.c) on every online CPU, and print the wall seconds it
 * took.  This is the floor no rotation of N keys can beat on this machine:
 * bench/run.sh compares pemrotate's wall time with it.
 *
 * Output (stdout), one line: "<seconds> <N> <SPEC> <threads>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "crypto/pki.h"
#include "orchestrator/pool.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct pki_keyspec spec;
	struct keygen *kg;
	struct pki_key *k;
	char *end;
	long n;
	size_t i;
	double t0, t1;
	int threads, r;

	if (argc != 3) {
		fprintf(stderr, "usage: keygen_floor N SPEC\n");
		return 2;
	}
	n = strtol(argv[1], &end, 10);
	if (*end != '\0' || n < 1 || n > 1000000) {
		fprintf(stderr, "keygen_floor: N: 1..1000000\n");
		return 2;
	}
	if (pki_keyspec_parse(argv[2], &spec) != 0) {
		fprintf(stderr, "keygen_floor: %s: not a key spec "
		    "(rsa:2048|3072|4096, ec:P-256|P-384)\n", argv[2]);
		return 2;
	}
	if (pki_init() != 0) {
		fprintf(stderr, "keygen_floor: pki_init failed\n");
		return 1;
	}
	threads = cpu_count();
	t0 = now();
	kg = keygen_start(&spec, (size_t)n, threads, 0);
	for (i = 0; i < (size_t)n; i++) {
		if ((r = keygen_take(kg, i, &k)) != 0 || k == NULL) {
			fprintf(stderr, "keygen_floor: key %zu: error %d\n",
			    i, r);
			keygen_free(kg);
			return 1;
		}
		pki_key_free(k);
	}
	t1 = now();
	keygen_free(kg);
	printf("%.3f %ld %s %d\n", t1 - t0, n, argv[2], threads);
	return 0;
}
