/*
 * test_transport_sha1.c: the SHA-1 compressions behind known_hosts' hashed
 * entries (transport/knownhosts.c, included here for its static
 * functions): FIPS 180 and RFC 2202 vectors through the portable and, on a
 * CPU with the SHA extensions, the SHA-NI compression, and the two agreeing
 * on random states and blocks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "transport/knownhosts.c"

static void
hex(const unsigned char *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* The compressions to test: the portable one and what this CPU picks. */
static size_t
blocks(sha1_block_fn fn[2])
{
	fn[0] = sha1_block;
	fn[1] = sha1_pick();
	return fn[1] == sha1_block ? 1 : 2;
}

static void
test_fips_vectors(void **state)
{
	sha1_block_fn fn[2];
	unsigned char d[20];
	char h[41];
	struct sha1 s;
	size_t k, nf = blocks(fn);

	for (k = 0; k < nf; k++) {
		sha1_init(&s);
		sha1_last(fn[k], s, 0, (const unsigned char *)"abc", 3, d);
		hex(d, 20, h);
		assert_string_equal(h,
		    "a9993e364706816aba3e25717850c26c9cd0d89d");
		sha1_init(&s);
		sha1_last(fn[k], s, 0, (const unsigned char *)"", 0, d);
		hex(d, 20, h);
		assert_string_equal(h,
		    "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	}
}

static void
test_hmac_rfc2202(void **state)
{
	static const char jefe_out[] =
	    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";
	unsigned char key[80], d[20];
	sha1_block_fn fn[2];
	struct sha1 in, out;
	char h[41];
	size_t k, nf = blocks(fn);

	for (k = 0; k < nf; k++) {
		/* test case 2: key "Jefe" */
		hmac_pads(fn[k], (const unsigned char *)"Jefe", 4, &in, &out);
		hmac_name(fn[k], &in, &out, "what do ya want for nothing?", 28,
		    d);
		hex(d, 20, h);
		assert_string_equal(h, jefe_out);
		/* test case 6: an 80-byte key, hashed first */
		memset(key, 0xaa, sizeof(key));
		hmac_pads(fn[k], key, sizeof(key), &in, &out);
		hmac_name(fn[k], &in, &out,
		    "Test Using Larger Than Block-Size Key - Hash Key First",
		    54, d);
		hex(d, 20, h);
		assert_string_equal(h,
		    "aa4ae5e15272d00e95705637ce8a3b55ed402112");
	}
}

static void
test_ni_matches_portable(void **state)
{
	unsigned char blk[64];
	sha1_block_fn fn[2];
	struct sha1 a, b;
	unsigned int x = 2463534242u;
	int round, i;

	if (blocks(fn) < 2) {
		print_message("this CPU has no SHA extensions: "
		    "only the portable compression is tested\n");
		skip();
	}
	for (round = 0; round < 10000; round++) {
		for (i = 0; i < 5; i++) {
			x ^= x << 13; x ^= x >> 17; x ^= x << 5;
			a.h[i] = b.h[i] = x;
		}
		for (i = 0; i < 64; i++) {
			x ^= x << 13; x ^= x >> 17; x ^= x << 5;
			blk[i] = (unsigned char)x;
		}
		fn[0](&a, blk);
		fn[1](&b, blk);
		assert_memory_equal(a.h, b.h, sizeof(a.h));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_vectors),
		cmocka_unit_test(test_hmac_rfc2202),
		cmocka_unit_test(test_ni_matches_portable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
