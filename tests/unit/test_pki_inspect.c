/*
 * test_pki_inspect.c: looking at certificates that exist
 * (crypto/pki_inspect.c), checked with OpenSSL directly.
 */
#include "test_pki.h"

/* A CRL signed by signer naming issuer, revoking serial (or nothing). */
static char *
crl_revoking(const struct pki_cert *issuer, const struct pki_key *signer,
    const ASN1_INTEGER *serial)
{
	X509 *ix = x509_of(issuer);
	EVP_PKEY *pk = pkey_of(signer);
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_adj(NULL, time(NULL), 0, -7200);
	X509_REVOKED *rv;
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_true(X509_CRL_set_version(crl, X509_CRL_VERSION_2));
	assert_true(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ix)));
	assert_true(X509_CRL_set1_lastUpdate(crl, last));
	if (serial != NULL) {
		assert_non_null(rv = X509_REVOKED_new());
		assert_true(X509_REVOKED_set_serialNumber(rv,
		    (ASN1_INTEGER *)serial));
		assert_true(X509_REVOKED_set_revocationDate(rv, last));
		assert_true(X509_CRL_add0_revoked(crl, rv));
	}
	assert_true(X509_CRL_sort(crl));
	assert_true(X509_CRL_sign(crl, pk, EVP_sha256()) > 0);
	assert_true(PEM_write_bio_X509_CRL(b, crl));
	n = BIO_get_mem_data(b, &data);
	assert_non_null(out = calloc(1, (size_t)n + 1));
	memcpy(out, data, (size_t)n);
	BIO_free(b);
	ASN1_TIME_free(last);
	X509_CRL_free(crl);
	EVP_PKEY_free(pk);
	X509_free(ix);
	return out;
}

static char *
pem_of(const struct pki_cert *c)
{
	char *pem = NULL;
	size_t len;

	assert_int_equal(pki_cert_to_pem(c, &pem, &len), 0);
	return pem;
}

static void
test_certs_from_pem(void **state)
{
	struct fix *f = *state;
	char *a = pem_of(f->ca), *b = pem_of(f->ca3), *both = cat(a, b);
	struct pki_cert **v = NULL;
	size_t n = 0;

	assert_int_equal(pki_certs_from_pem(both, strlen(both), &v, &n), 0);
	assert_int_equal(n, 2);
	assert_true(pki_cert_equal(v[0], f->ca));
	assert_true(pki_cert_equal(v[1], f->ca3));
	pki_certs_free(v, n);
	assert_int_equal(pki_certs_from_pem("", 0, &v, &n), ERR_NOTFOUND);
	assert_null(v);
	assert_int_equal(n, 0);
	both[strlen(a) + 40] = '!';	/* a broken second block */
	assert_int_not_equal(pki_certs_from_pem(both, strlen(both), &v, &n),
	    0);
	assert_null(v);
	free(a);
	free(b);
	free(both);
}

static void
test_serial(void **state)
{
	struct fix *f = *state;
	struct pki_cert *leaf = mkleaf(f, f->leaf_key, PKI_LEAF_CLIENT,
	    "/CN=agent1", NULL, 0);
	X509 *x = x509_of(leaf);
	BIGNUM *bn;
	char buf[128], *hex;

	assert_non_null(bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
	    NULL));
	hex = BN_bn2hex(bn);
	pki_cert_serial(leaf, buf, sizeof(buf));
	assert_string_equal(buf, hex);
	pki_cert_serial(leaf, buf, 5);	/* never a cut serial */
	assert_string_equal(buf, "");
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	pki_cert_free(leaf);
}

static void
test_issued_by(void **state)
{
	struct fix *f = *state;
	struct pki_cert *leaf = mkleaf(f, f->leaf_key, PKI_LEAF_CLIENT,
	    "/CN=agent1", NULL, 0);

	assert_int_equal(pki_cert_issued_by(leaf, f->ca), 1);
	/* the same name, another key: not its issuer */
	assert_int_equal(pki_cert_issued_by(leaf, f->ca2), 0);
	assert_int_equal(pki_cert_issued_by(leaf, f->ca3), 0);
	assert_int_equal(pki_cert_issued_by(f->ca, f->ca), 1);
	assert_int_equal(pki_cert_issued_by(f->ca3, f->ca), 0);
	pki_cert_free(leaf);
}

static void
test_crl_revokes(void **state)
{
	struct fix *f = *state;
	struct pki_cert *leaf = mkleaf(f, f->leaf_key, PKI_LEAF_CLIENT,
	    "/CN=agent1", NULL, 0);
	X509 *x = x509_of(leaf);
	const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
	char *none = crl_revoking(f->ca, f->ca_key, NULL);
	char *rev = crl_revoking(f->ca, f->ca_key, serial);
	/* the same name, signed by another key: not the CA's CRL */
	char *forged = crl_revoking(f->ca2, f->ca2_key, serial);
	char *both = cat(none, rev);

	assert_int_equal(pki_crl_revokes(none, strlen(none), f->ca, leaf), 0);
	assert_int_equal(pki_crl_revokes(rev, strlen(rev), f->ca, leaf), 1);
	assert_int_equal(pki_crl_revokes(both, strlen(both), f->ca, leaf), 1);
	assert_int_equal(pki_crl_revokes(forged, strlen(forged), f->ca,
	    leaf), 0);
	assert_int_equal(pki_crl_revokes(rev, strlen(rev), f->ca3, leaf), 0);
	assert_int_equal(pki_crl_revokes("", 0, f->ca, leaf), 0);
	X509_free(x);
	free(none);
	free(rev);
	free(forged);
	free(both);
	pki_cert_free(leaf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_certs_from_pem),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_issued_by),
		cmocka_unit_test(test_crl_revokes),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
