/*
 * pki_crl.c: certificate revocation lists, made and chosen in memory.
 *
 * A new CRL carries over every revocation of the CA's earlier CRLs and
 * numbers itself past them, so a rotation never drops a revocation nor
 * makes crlNumber go back.
 */
#include <limits.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "crypto/pki.h"
#include "crypto/pki_internal.h"

int
pki_crls_read(const char *pem, size_t len, STACK_OF(X509_CRL) **out)
{
	STACK_OF(X509_CRL) *sk = NULL;
	X509_CRL *crl;
	BIO *b = NULL;
	int r;

	*out = NULL;
	if ((r = pki_pem_bio(pem, len, INT_MAX, &b)) != 0)
		return r;
	r = ERR_CRYPTO;
	if ((sk = sk_X509_CRL_new_null()) == NULL)
		goto out;
	while ((crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_CRL_push(sk, crl)) {
			X509_CRL_free(crl);
			goto out;
		}
	}
	if ((r = pki_pem_end_ok()) != 0)
		goto out;
	*out = sk;
	sk = NULL;
 out:
	BIO_free(b);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return r;
}

/* 1 if crl names ca as its issuer and carries ca's valid signature. */
static int
crl_from(X509_CRL *crl, const struct pki_cert *ca)
{
	EVP_PKEY *pub = X509_get0_pubkey(ca->x);

	if (pub == NULL || X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(ca->x)) != 0)
		return 0;
	if (X509_CRL_verify(crl, pub) == 1)
		return 1;
	ERR_clear_error();
	return 0;
}

static int
crl_has_serial(X509_CRL *crl, const ASN1_INTEGER *serial)
{
	STACK_OF(X509_REVOKED) *rs = X509_CRL_get_REVOKED(crl);
	int i;

	for (i = 0; i < sk_X509_REVOKED_num(rs); i++)
		if (ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(
		    sk_X509_REVOKED_value(rs, i)), serial) == 0)
			return 1;
	return 0;
}

static int
crl_copy_revoked(X509_CRL *crl, X509_CRL *from)
{
	STACK_OF(X509_REVOKED) *rs = X509_CRL_get_REVOKED(from);
	X509_REVOKED *rv, *dup;
	int i;

	for (i = 0; i < sk_X509_REVOKED_num(rs); i++) {
		rv = sk_X509_REVOKED_value(rs, i);
		if (crl_has_serial(crl, X509_REVOKED_get0_serialNumber(rv)))
			continue;
		if ((dup = X509_REVOKED_dup(rv)) == NULL ||
		    !X509_CRL_add0_revoked(crl, dup)) {
			X509_REVOKED_free(dup);
			return ERR_CRYPTO;
		}
	}
	return 0;
}

/* Raise num past crl's crlNumber, so numbers only ever grow. */
static int
crl_number_raise(X509_CRL *crl, BIGNUM *num)
{
	ASN1_INTEGER *ai;
	BIGNUM *bn = NULL;
	int r = 0;

	ai = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	if (ai == NULL)
		return 0;
	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL ||
	    !BN_add_word(bn, 1))
		r = ERR_CRYPTO;
	else if (BN_cmp(bn, num) > 0 && BN_copy(num, bn) == NULL)
		r = ERR_CRYPTO;
	BN_free(bn);
	ASN1_INTEGER_free(ai);
	return r;
}

static int
crl_carry(X509_CRL *crl, const struct pki_cert *ca, const char *pem,
    size_t len, BIGNUM *num)
{
	STACK_OF(X509_CRL) *old;
	X509_CRL *o;
	int i, r;

	if ((r = pki_crls_read(pem, len, &old)) != 0)
		return r;
	for (i = 0; i < sk_X509_CRL_num(old) && r == 0; i++) {
		o = sk_X509_CRL_value(old, i);
		if (!crl_from(o, ca))
			continue;
		if ((r = crl_copy_revoked(crl, o)) == 0)
			r = crl_number_raise(o, num);
	}
	sk_X509_CRL_pop_free(old, X509_CRL_free);
	return r;
}

/* Version, issuer and update times of a new CRL. */
static int
crl_body(const struct pki_cert *ca, int days, time_t now, X509_CRL **out)
{
	ASN1_TIME *last = NULL, *next = NULL;
	X509_CRL *crl;
	int r = ERR_CRYPTO;

	if ((*out = crl = X509_CRL_new()) == NULL)
		return ERR_CRYPTO;
	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->x)) ||
	    (last = ASN1_TIME_adj(NULL, now, 0, -PKI_SKEW_SECS)) == NULL ||
	    (next = ASN1_TIME_adj(NULL, now, days, 0)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, last) ||
	    !X509_CRL_set1_nextUpdate(crl, next))
		goto out;
	r = 0;
 out:
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	return r;
}

/* crlNumber and authorityKeyIdentifier, then sort and sign. */
static int
crl_finish(X509_CRL *crl, const struct pki_cert *ca,
    const struct pki_key *ca_key, const BIGNUM *num)
{
	ASN1_INTEGER *ai;
	AUTHORITY_KEYID *akid;
	int ok;

	ai = BN_to_ASN1_INTEGER(num, NULL);
	akid = pki_akid_new(ca->x);
	ok = ai != NULL && akid != NULL &&
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 0, 0) &&
	    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid,
	    0, 0) &&
	    X509_CRL_sort(crl) &&
	    X509_CRL_sign(crl, ca_key->pk, pki_md_sha256()) > 0;
	ASN1_INTEGER_free(ai);
	AUTHORITY_KEYID_free(akid);
	return ok ? 0 : ERR_CRYPTO;
}

static int
crl_to_pem(X509_CRL *crl, char **pem, size_t *len)
{
	BIO *b;
	int r = ERR_CRYPTO;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return ERR_CRYPTO;
	if (PEM_write_bio_X509_CRL(b, crl))
		r = pki_bio_copy(b, 0, pem, len);
	BIO_free(b);
	return r;
}

/* An entry revoking cert, dated now. */
static int
crl_revoke_cert(X509_CRL *crl, const struct pki_cert *cert, time_t now)
{
	const ASN1_INTEGER *serial = X509_get0_serialNumber(cert->x);
	X509_REVOKED *rv;
	ASN1_TIME *t;
	int ok;

	if (crl_has_serial(crl, serial))
		return 0;
	if ((rv = X509_REVOKED_new()) == NULL)
		return ERR_CRYPTO;
	t = ASN1_TIME_set(NULL, now);
	ok = t != NULL && X509_REVOKED_set_serialNumber(rv,
	    (ASN1_INTEGER *)serial) && X509_REVOKED_set_revocationDate(rv, t) &&
	    X509_CRL_add0_revoked(crl, rv);
	ASN1_TIME_free(t);
	if (!ok)
		X509_REVOKED_free(rv);
	return ok ? 0 : ERR_CRYPTO;
}

/* ca's new CRL: earlier revocations carried over, revoke added. */
static int
crl_new(const struct pki_cert *ca, const struct pki_key *ca_key, int days,
    const char *from, size_t from_len, const struct pki_cert *revoke,
    X509_CRL **out)
{
	X509_CRL *crl = NULL;
	BIGNUM *num = NULL;
	time_t now = time(NULL);
	int r;

	*out = NULL;
	if (ca == NULL || days <= 0 || days > PKI_MAX_DAYS)
		return ERR_INVAL;
	if (!pki_key_matches_cert(ca_key, ca))
		return ERR_MISMATCH;
	if ((r = crl_body(ca, days, now, &crl)) != 0)
		goto out;
	r = ERR_CRYPTO;
	if ((num = BN_new()) == NULL || !BN_set_word(num, (BN_ULONG)now))
		goto out;
	if (from != NULL && (r = crl_carry(crl, ca, from, from_len, num)) != 0)
		goto out;
	if (revoke != NULL && (r = crl_revoke_cert(crl, revoke, now)) != 0)
		goto out;
	if ((r = crl_finish(crl, ca, ca_key, num)) != 0)
		goto out;
	*out = crl;
	crl = NULL;
 out:
	X509_CRL_free(crl);
	BN_free(num);
	return r;
}

int
pki_crl_make(const struct pki_cert *ca, const struct pki_key *ca_key,
    int days, const char *revoked_from, size_t revoked_len,
    char **pem, size_t *len)
{
	X509_CRL *crl;
	int r;

	*pem = NULL;
	*len = 0;
	if ((r = crl_new(ca, ca_key, days, revoked_from, revoked_len, NULL,
	    &crl)) != 0)
		return r;
	r = crl_to_pem(crl, pem, len);
	X509_CRL_free(crl);
	return r;
}

/* Write every CRL of sk that ca did not issue to b, unchanged. */
static int
crl_write_others(BIO *b, STACK_OF(X509_CRL) *sk, const struct pki_cert *ca)
{
	X509_CRL *o;
	int i;

	for (i = 0; i < sk_X509_CRL_num(sk); i++) {
		o = sk_X509_CRL_value(sk, i);
		if (!crl_from(o, ca) && !PEM_write_bio_X509_CRL(b, o))
			return ERR_CRYPTO;
	}
	return 0;
}

int
pki_crl_revoke(const struct pki_cert *ca, const struct pki_key *ca_key,
    int days, const char *crls, size_t crls_len,
    const struct pki_cert *cert, char **pem, size_t *len)
{
	STACK_OF(X509_CRL) *sk = NULL;
	X509_CRL *crl = NULL;
	BIO *b = NULL;
	int r;

	*pem = NULL;
	*len = 0;
	if (cert == NULL || X509_check_issued(ca->x, cert->x) != X509_V_OK ||
	    X509_verify(cert->x, X509_get0_pubkey(ca->x)) != 1) {
		ERR_clear_error();
		return ERR_MISMATCH;
	}
	if (crls != NULL && crls_len > 0 &&
	    (r = pki_crls_read(crls, crls_len, &sk)) != 0)
		return r;
	if ((r = crl_new(ca, ca_key, days, crls_len > 0 ? crls : NULL,
	    crls_len, cert, &crl)) != 0)
		goto out;
	r = ERR_CRYPTO;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509_CRL(b, crl))
		goto out;
	if ((r = crl_write_others(b, sk, ca)) == 0)
		r = pki_bio_copy(b, 0, pem, len);
 out:
	BIO_free(b);
	X509_CRL_free(crl);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return r;
}

static int
crl_expired(const X509_CRL *crl)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);

	return next != NULL && X509_cmp_current_time(next) <= 0;
}

int
pki_crl_select(const char *pem, size_t len, const struct pki_cert *ca,
    char **out, size_t *outlen)
{
	STACK_OF(X509_CRL) *sk = NULL;
	X509_CRL *crl;
	BIO *b = NULL;
	int i, n = 0, r;

	*out = NULL;
	*outlen = 0;
	if ((r = pki_crls_read(pem, len, &sk)) != 0)
		goto out;
	r = ERR_CRYPTO;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	for (i = 0; i < sk_X509_CRL_num(sk); i++) {
		crl = sk_X509_CRL_value(sk, i);
		if (!crl_from(crl, ca) || crl_expired(crl))
			continue;
		if (!PEM_write_bio_X509_CRL(b, crl))
			goto out;
		n++;
	}
	r = n > 0 ? pki_bio_copy(b, 0, out, outlen) : ERR_NOTFOUND;
 out:
	BIO_free(b);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return r;
}

int
pki_pem_count_crls(const char *pem, size_t len)
{
	STACK_OF(X509_CRL) *sk;
	int n, r;

	if ((r = pki_crls_read(pem, len, &sk)) != 0)
		return r;
	n = sk_X509_CRL_num(sk);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return n;
}
