/*
 * pki_inspect.c: looking at certificates that exist (pemrotate status):
 * every certificate of a PEM bundle, a serial number, who issued a
 * certificate, whether a CRL revokes it.  Nothing here checks time.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "crypto/pki_internal.h"

int
pki_certs_from_pem(const char *pem, size_t len, struct pki_cert ***out,
    size_t *n)
{
	struct pki_cert **v = NULL;
	size_t cap = 0;
	X509 *x;
	BIO *b;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = pki_pem_bio(pem, len, INT_MAX, &b)) != 0)
		return r;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 4;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[(*n)++] = pki_cert_wrap(x);
	}
	BIO_free(b);
	if ((r = pki_pem_end_ok()) != 0 || *n == 0) {
		pki_certs_free(v, *n);
		*n = 0;
		return r != 0 ? r : ERR_NOTFOUND;
	}
	*out = v;
	return 0;
}

void
pki_certs_free(struct pki_cert **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pki_cert_free(v[i]);
	free(v);
}

int
pki_cert_issued_by(const struct pki_cert *cert, const struct pki_cert *ca)
{
	EVP_PKEY *pub = X509_get0_pubkey(ca->x);
	int ok;

	if (pub == NULL || X509_NAME_cmp(X509_get_issuer_name(cert->x),
	    X509_get_subject_name(ca->x)) != 0)
		return 0;
	ok = X509_verify(cert->x, pub) == 1;
	ERR_clear_error();
	return ok;
}

/* 1 if crl names ca as its issuer and carries ca's valid signature. */
static int
crl_signed_by(X509_CRL *crl, const struct pki_cert *ca)
{
	EVP_PKEY *pub = X509_get0_pubkey(ca->x);
	int ok;

	if (pub == NULL || X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(ca->x)) != 0)
		return 0;
	ok = X509_CRL_verify(crl, pub) == 1;
	ERR_clear_error();
	return ok;
}

int
pki_crl_revokes(const char *pem, size_t len, const struct pki_cert *ca,
    const struct pki_cert *cert)
{
	STACK_OF(X509_CRL) *sk;
	X509_REVOKED *rev;
	X509_CRL *crl;
	int i, r, found = 0;

	if ((r = pki_crls_read(pem, len, &sk)) != 0)
		return r;
	for (i = 0; i < sk_X509_CRL_num(sk) && !found; i++) {
		crl = sk_X509_CRL_value(sk, i);
		rev = NULL;
		if (crl_signed_by(crl, ca) &&
		    X509_CRL_get0_by_cert(crl, &rev, cert->x) == 1)
			found = 1;
	}
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return found;
}
