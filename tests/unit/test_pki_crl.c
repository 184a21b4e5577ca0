/*
 * test_pki_crl.c: CRLs and verification against them (crypto/pki_crl.c),
 * checked with OpenSSL directly.
 */
#include "test_pki.h"

static X509_CRL *
crl_parse(const char *pem)
{
	X509_CRL *crl;
	BIO *b;

	assert_non_null(b = BIO_new_mem_buf(pem, -1));
	assert_non_null(crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL));
	BIO_free(b);
	return crl;
}

static void
add_revoked(X509_CRL *crl, const ASN1_INTEGER *serial, const ASN1_TIME *when)
{
	X509_REVOKED *rv;

	assert_non_null(rv = X509_REVOKED_new());
	assert_true(X509_REVOKED_set_serialNumber(rv, (ASN1_INTEGER *)serial));
	assert_true(X509_REVOKED_set_revocationDate(rv, (ASN1_TIME *)when));
	assert_true(X509_CRL_add0_revoked(crl, rv));
}

/* A CRL made with OpenSSL alone, optionally revoking serial. */
static char *
test_crl(const struct pki_cert *issuer, const struct pki_key *signer,
    const ASN1_INTEGER *serial, long next_secs, long number)
{
	X509 *ix = x509_of(issuer);
	EVP_PKEY *pk = pkey_of(signer);
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_adj(NULL, time(NULL), 0, -7200);
	ASN1_TIME *next = ASN1_TIME_adj(NULL, time(NULL), 0, next_secs);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_true(X509_CRL_set_version(crl, X509_CRL_VERSION_2));
	assert_true(X509_CRL_set_issuer_name(crl, X509_get_subject_name(ix)));
	assert_true(X509_CRL_set1_lastUpdate(crl, last));
	assert_true(X509_CRL_set1_nextUpdate(crl, next));
	if (serial != NULL)
		add_revoked(crl, serial, last);
	assert_true(ASN1_INTEGER_set(num, number));
	assert_true(X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0));
	assert_true(X509_CRL_sort(crl));
	assert_true(X509_CRL_sign(crl, pk, EVP_sha256()) > 0);
	assert_true(PEM_write_bio_X509_CRL(b, crl));
	n = BIO_get_mem_data(b, &data);
	assert_non_null(out = calloc(1, (size_t)n + 1));
	memcpy(out, data, (size_t)n);
	BIO_free(b);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	X509_CRL_free(crl);
	EVP_PKEY_free(pk);
	X509_free(ix);
	return out;
}

static char *
mkcrl(const struct pki_cert *ca, const struct pki_key *key, const char *from)
{
	char *pem = NULL;
	size_t len = 0;

	assert_int_equal(pki_crl_make(ca, key, 30, from,
	    from ? strlen(from) : 0, &pem, &len), 0);
	assert_int_equal(strlen(pem), len);
	return pem;
}

/* 1 if the first CRL in pem lists serial as revoked. */
static int
crl_lists(const char *pem, const ASN1_INTEGER *serial)
{
	X509_CRL *crl = crl_parse(pem);
	X509_REVOKED *rv = NULL;
	int found;

	found = X509_CRL_get0_by_serial(crl, &rv, (ASN1_INTEGER *)serial);
	X509_CRL_free(crl);
	return found == 1;
}

static ASN1_INTEGER *
serial_of(const struct pki_cert *c)
{
	X509 *x = x509_of(c);
	ASN1_INTEGER *s = ASN1_INTEGER_dup(X509_get0_serialNumber(x));

	X509_free(x);
	return s;
}

static void
test_crl_make(void **state)
{
	struct fix *f = *state;
	X509_CRL *crl;
	X509 *cax = x509_of(f->ca);
	ASN1_INTEGER *num;
	AUTHORITY_KEYID *akid;
	time_t now = time(NULL);
	char *pem;
	int day, sec;

	pem = mkcrl(f->ca, f->ca_key, NULL);
	assert_int_equal(pki_pem_count_crls(pem, strlen(pem)), 1);
	crl = crl_parse(pem);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_CRL_get_signature_nid(crl),
	    NID_sha256WithRSAEncryption);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(cax)), 1);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(cax)), 0);
	assert_non_null(num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL,
	    NULL));
	assert_true(ASN1_INTEGER_get(num) >= (long)now &&
	    ASN1_INTEGER_get(num) <= (long)now + 5);
	ASN1_INTEGER_free(num);
	assert_non_null(akid = X509_CRL_get_ext_d2i(crl,
	    NID_authority_key_identifier, NULL, NULL));
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid,
	    X509_get0_subject_key_id(cax)), 0);
	AUTHORITY_KEYID_free(akid);
	assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0);
	assert_true(ASN1_TIME_diff(&day, &sec, NULL,
	    X509_CRL_get0_nextUpdate(crl)));
	assert_true(day == 30 || (day == 29 && sec > 86300));
	X509_CRL_free(crl);
	X509_free(cax);
	free(pem);
}

static void
test_crl_carry(void **state)
{
	struct fix *f = *state;
	ASN1_INTEGER *s1 = ASN1_INTEGER_new(), *s2 = ASN1_INTEGER_new();
	char *mine, *forged, *bundle, *next, *again;
	X509_CRL *crl;
	ASN1_INTEGER *num;
	long big = (long)time(NULL) + 100000;

	assert_true(ASN1_INTEGER_set(s1, 0x1234));
	assert_true(ASN1_INTEGER_set(s2, 0x9999));
	/* One CRL really from ca; one with ca's name signed by ca2's key. */
	mine = test_crl(f->ca, f->ca_key, s1, 86400, big);
	forged = test_crl(f->ca2, f->ca2_key, s2, 86400, big + 50);
	bundle = cat(forged, mine);
	next = mkcrl(f->ca, f->ca_key, bundle);
	assert_true(crl_lists(next, s1));
	assert_false(crl_lists(next, s2));
	/* The number only grows, even past a clock that went back. */
	crl = crl_parse(next);
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	assert_int_equal(ASN1_INTEGER_get(num), big + 1);
	ASN1_INTEGER_free(num);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
	X509_CRL_free(crl);
	/* Carried again, still once. */
	again = mkcrl(f->ca, f->ca_key, next);
	assert_true(crl_lists(again, s1));
	crl = crl_parse(again);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
	X509_CRL_free(crl);
	free(mine);
	free(forged);
	free(bundle);
	free(next);
	free(again);
	ASN1_INTEGER_free(s1);
	ASN1_INTEGER_free(s2);
}

static void
test_crl_select(void **state)
{
	struct fix *f = *state;
	struct pki_key *k4 = gen("ec:P-256");
	struct pki_cert *ca4 = mkca(k4, "/CN=No CRL CA");
	char *c1 = mkcrl(f->ca, f->ca_key, NULL);
	char *c2 = mkcrl(f->ca2, f->ca2_key, NULL);
	char *old = test_crl(f->ca, f->ca_key, NULL, -60, 1);
	char *b1 = cat(c2, old), *bundle = cat(b1, c1);
	char *out = NULL;
	size_t outlen = 0;

	assert_int_equal(pki_pem_count_crls(bundle, strlen(bundle)), 3);
	assert_int_equal(pki_crl_select(bundle, strlen(bundle), f->ca, &out,
	    &outlen), 0);
	assert_int_equal(strlen(out), outlen);
	assert_int_equal(pki_pem_count_crls(out, outlen), 1);
	assert_string_equal(out, c1);
	free(out);
	assert_int_equal(pki_crl_select(bundle, strlen(bundle), f->ca2, &out,
	    &outlen), 0);
	assert_string_equal(out, c2);
	free(out);
	assert_int_equal(pki_crl_select(bundle, strlen(bundle), ca4, &out,
	    &outlen), ERR_NOTFOUND);
	assert_null(out);
	assert_int_equal(pki_crl_select(old, strlen(old), f->ca, &out,
	    &outlen), ERR_NOTFOUND);
	free(c1);
	free(c2);
	free(old);
	free(b1);
	free(bundle);
	pki_cert_free(ca4);
	pki_key_free(k4);
}

static void
test_verify_crl(void **state)
{
	struct fix *f = *state;
	struct pki_cert *leaf;
	ASN1_INTEGER *serial;
	char *c1, *c2, *c3, *both, *rev, *revcrl, *why;

	leaf = mkleaf(f, f->leaf_key, PKI_LEAF_CLIENT, "/CN=agent3", NULL, 0);
	c1 = mkcrl(f->ca, f->ca_key, NULL);
	c2 = mkcrl(f->ca2, f->ca2_key, NULL);
	c3 = mkcrl(f->ca3, f->ca2_key, NULL);
	both = cat(c2, c1);
	assert_int_equal(pki_cert_verify(leaf, f->ca, c1, strlen(c1), NULL,
	    &why), 0);
	/* Old and new CA share a name: the AKID picks the right CRL. */
	assert_int_equal(pki_cert_verify(leaf, f->ca, both, strlen(both),
	    NULL, &why), 0);
	assert_int_equal(pki_cert_verify(leaf, f->ca, c3, strlen(c3), NULL,
	    &why), ERR_VERIFY);
	assert_string_equal(why, "unable to get certificate CRL");
	free(why);
	assert_int_equal(pki_cert_verify(leaf, f->ca, "", 0, NULL, &why),
	    ERR_VERIFY);
	assert_string_equal(why, "unable to get certificate CRL");
	free(why);

	serial = serial_of(leaf);
	rev = test_crl(f->ca, f->ca_key, serial, 86400, 7);
	revcrl = mkcrl(f->ca, f->ca_key, rev);
	assert_int_equal(pki_cert_verify(leaf, f->ca, revcrl, strlen(revcrl),
	    NULL, &why), ERR_VERIFY);
	assert_string_equal(why, "certificate revoked");
	free(why);
	ASN1_INTEGER_free(serial);
	free(c1);
	free(c2);
	free(c3);
	free(both);
	free(rev);
	free(revcrl);
	pki_cert_free(leaf);
}

/* The first CRL of pem's crlNumber. */
static long
crl_number(const char *pem)
{
	X509_CRL *crl = crl_parse(pem);
	ASN1_INTEGER *num;
	long n;

	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	assert_non_null(num);
	n = ASN1_INTEGER_get(num);
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	return n;
}

static char *
revoke(const struct fix *f, const char *crls, const struct pki_cert *c)
{
	char *pem = NULL;
	size_t len = 0;

	assert_int_equal(pki_crl_revoke(f->ca, f->ca_key, 30, crls,
	    crls ? strlen(crls) : 0, c, &pem, &len), 0);
	assert_int_equal(strlen(pem), len);
	return pem;
}

static void
test_crl_revoke(void **state)
{
	struct fix *f = *state;
	struct pki_cert *a, *b, *other = NULL;
	ASN1_INTEGER *s1 = ASN1_INTEGER_new(), *sa, *sb;
	long big = (long)time(NULL) + 100000;
	char *mine, *theirs, *root, *r1, *r2, *why, *out = NULL;
	size_t len;

	a = mkleaf(f, f->leaf_key, PKI_LEAF_CLIENT, "/CN=agent2", NULL, 0);
	b = mkleaf(f, f->leaf_key, PKI_LEAF_CLIENT, "/CN=agent3", NULL, 0);
	sa = serial_of(a);
	sb = serial_of(b);
	assert_true(ASN1_INTEGER_set(s1, 0x1234));
	mine = test_crl(f->ca, f->ca_key, s1, 86400, big);
	theirs = test_crl(f->ca2, f->ca2_key, NULL, 86400, 5);
	root = cat(theirs, mine);
	/* ca's CRL first, the other CA's kept as it was: one per CA */
	r1 = revoke(f, root, a);
	assert_int_equal(pki_pem_count_crls(r1, strlen(r1)), 2);
	assert_non_null(strstr(r1, theirs));
	assert_true(crl_lists(r1, s1));
	assert_true(crl_lists(r1, sa));
	assert_false(crl_lists(r1, sb));
	assert_int_equal(crl_number(r1), big + 1);
	assert_int_equal(pki_cert_verify(a, f->ca, r1, strlen(r1), NULL,
	    &why), ERR_VERIFY);
	assert_string_equal(why, "certificate revoked");
	free(why);
	assert_int_equal(pki_cert_verify(b, f->ca, r1, strlen(r1), NULL,
	    &why), 0);
	/* a second revocation keeps the first, and the number grows */
	r2 = revoke(f, r1, b);
	assert_int_equal(pki_pem_count_crls(r2, strlen(r2)), 2);
	assert_true(crl_lists(r2, s1) && crl_lists(r2, sa) &&
	    crl_lists(r2, sb));
	assert_int_equal(crl_number(r2), big + 2);
	/* no root.crl yet: ca's CRL alone */
	free(r1);
	r1 = revoke(f, NULL, a);
	assert_int_equal(pki_pem_count_crls(r1, strlen(r1)), 1);
	assert_true(crl_lists(r1, sa));
	/* a certificate of another CA (same name, other key) is refused */
	assert_int_equal(pki_cert_make_leaf(f->ca2, f->ca2_key, f->leaf_key,
	    PKI_LEAF_CLIENT, "/CN=agent4", NULL, 0, 30, &other), 0);
	assert_int_equal(pki_crl_revoke(f->ca, f->ca_key, 30, root,
	    strlen(root), other, &out, &len), ERR_MISMATCH);
	assert_null(out);
	assert_int_equal(pki_crl_revoke(f->ca, f->ca2_key, 30, root,
	    strlen(root), a, &out, &len), ERR_MISMATCH);
	pki_cert_free(a);
	pki_cert_free(b);
	pki_cert_free(other);
	ASN1_INTEGER_free(s1);
	ASN1_INTEGER_free(sa);
	ASN1_INTEGER_free(sb);
	free(mine);
	free(theirs);
	free(root);
	free(r1);
	free(r2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crl_make),
		cmocka_unit_test(test_crl_carry),
		cmocka_unit_test(test_crl_select),
		cmocka_unit_test(test_verify_crl),
		cmocka_unit_test(test_crl_revoke),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
