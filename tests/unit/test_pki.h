/*
 * test_pki.h: the fixture and helpers the crypto/pki tests share
 * (test_pki.c: keys; test_pki_cert.c: certificates; test_pki_crl.c: CRLs).
 * Everything is checked with OpenSSL directly: what crypto/ writes is
 * parsed back, its signatures verified.
 */
#ifndef PEMROTATE_TEST_PKI_H
#define PEMROTATE_TEST_PKI_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/xmem.h"
#include "crypto/pki.h"

#include "test_pkiconv.h"

#define DAYS		3650
#define NTHREADS	4

struct fix {
	struct pki_key *ca_key;		/* RSA 2048 */
	struct pki_key *ca2_key;	/* EC P-256 */
	struct pki_key *leaf_key;	/* EC P-256 */
	struct pki_cert *ca;		/* default subject, ca_key */
	struct pki_cert *ca2;		/* default subject too, ca2_key */
	struct pki_cert *ca3;		/* "Other CA", ca2_key */
};

static inline struct pki_key *
gen(const char *spec)
{
	struct pki_keyspec ks;
	struct pki_key *k = NULL;

	assert_int_equal(pki_keyspec_parse(spec, &ks), 0);
	assert_int_equal(pki_key_generate(&ks, &k), 0);
	assert_non_null(k);
	return k;
}

static inline struct pki_cert *
mkca(const struct pki_key *k, const char *subject)
{
	struct pki_cert *c = NULL;

	assert_int_equal(pki_cert_make_ca(k, subject, DAYS, &c), 0);
	assert_non_null(c);
	return c;
}

static inline struct pki_cert *
mkleaf(const struct fix *f, const struct pki_key *k, enum pki_leaf_kind kind,
    const char *subject, const char *const *san, size_t nsan)
{
	struct pki_cert *c = NULL;

	assert_int_equal(pki_cert_make_leaf(f->ca, f->ca_key, k, kind,
	    subject, san, nsan, 365, &c), 0);
	assert_non_null(c);
	return c;
}

static inline char *
cat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = malloc(na + nb + 1);

	assert_non_null(s);
	memcpy(s, a, na);
	memcpy(s + na, b, nb + 1);
	return s;
}

/* ---- fixture: two CAs of one name, a third CA, keys ---- */

static inline int
group_setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (f == NULL || pki_init() != 0)
		return -1;
	/* keys in a secure heap, as pemrotate runs (locked or not) */
	if (pki_secure_heap(1024 * 1024) == ERR_NOMEM)
		return -1;
	f->ca_key = gen("rsa:2048");
	f->ca2_key = gen("ec:P-256");
	f->leaf_key = gen("ec:P-256");
	f->ca = mkca(f->ca_key, pki_default_ca_subject());
	f->ca2 = mkca(f->ca2_key, pki_default_ca_subject());
	f->ca3 = mkca(f->ca2_key, "/O=Other/CN=Other CA");
	*state = f;
	return 0;
}

static inline int
group_teardown(void **state)
{
	struct fix *f = *state;

	pki_cert_free(f->ca);
	pki_cert_free(f->ca2);
	pki_cert_free(f->ca3);
	pki_key_free(f->ca_key);
	pki_key_free(f->ca2_key);
	pki_key_free(f->leaf_key);
	free(f);
	return 0;
}

#endif
