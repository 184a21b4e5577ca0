/*
 * test_pkiconv.h: crypto/'s keys and certificates as OpenSSL objects,
 * parsed back from the PEM crypto/ writes, for the tests that check them
 * with OpenSSL directly (test_pki*.c, test_tlsprobe.c).
 */
#ifndef PEMROTATE_TEST_PKICONV_H
#define PEMROTATE_TEST_PKICONV_H

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/pki.h"

static inline X509 *
x509_of(const struct pki_cert *c)
{
	char *pem = NULL;
	size_t len = 0;
	X509 *x;
	BIO *b;

	assert_int_equal(pki_cert_to_pem(c, &pem, &len), 0);
	assert_int_equal(strlen(pem), len);
	assert_non_null(b = BIO_new_mem_buf(pem, (int)len));
	assert_non_null(x = PEM_read_bio_X509(b, NULL, NULL, NULL));
	BIO_free(b);
	free(pem);
	return x;
}

static inline EVP_PKEY *
pkey_of(const struct pki_key *k)
{
	char *pem = NULL;
	size_t len = 0;
	EVP_PKEY *pk;
	BIO *b;

	assert_int_equal(pki_key_to_pem(k, &pem, &len), 0);
	assert_non_null(b = BIO_new_mem_buf(pem, (int)len));
	assert_non_null(pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL));
	BIO_free(b);
	pki_secret_free(pem, len);
	return pk;
}

#endif
