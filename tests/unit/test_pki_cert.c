/*
 * test_pki_cert.c: certificates (crypto/pki_cert.c), checked with OpenSSL
 * directly.
 */
#include "test_pki.h"

#include <openssl/bn.h>

/* pki_cert_verify, when only the code matters. */
static int
verify(const struct pki_cert *leaf, const struct pki_cert *ca)
{
	char *why;
	int r;

	r = pki_cert_verify(leaf, ca, NULL, 0, NULL, &why);
	free(why);
	return r;
}

static void
check_ca_x509(X509 *x, int signid)
{
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	BIGNUM *bn;
	int crit = -1, day, sec;

	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x), signid);
	assert_non_null(bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit,
	    NULL));
	assert_int_equal(crit, 1);
	assert_true(bc->ca);
	assert_null(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);
	assert_non_null(ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL));
	assert_int_equal(crit, 1);
	ASN1_BIT_STRING_free(ku);
	assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_int_equal(X509_get_extended_key_usage(x), UINT32_MAX);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_non_null(X509_get0_authority_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(x),
	    X509_get0_authority_key_id(x)), 0);
	assert_int_equal(X509_check_ca(x), 1);
	assert_true(X509_get_extension_flags(x) & EXFLAG_SS);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
	assert_non_null(bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
	    NULL));
	assert_false(BN_is_negative(bn));
	assert_false(BN_is_zero(bn));
	assert_true(BN_num_bytes(bn) <= 20);
	assert_true(BN_num_bits(bn) <= 159);
	BN_free(bn);
	assert_true(ASN1_TIME_diff(&day, &sec, NULL, X509_get0_notBefore(x)));
	assert_true(day == 0 && sec <= -290 && sec >= -330);
}

static void
test_ca_cert(void **state)
{
	struct fix *f = *state;
	X509 *x = x509_of(f->ca);
	time_t want = time(NULL) + (time_t)DAYS * 86400;
	char buf[256];

	check_ca_x509(x, NID_sha256WithRSAEncryption);
	X509_free(x);
	x = x509_of(f->ca2);
	check_ca_x509(x, NID_ecdsa_with_SHA256);
	X509_free(x);
	assert_true(llabs((long long)(pki_cert_not_after(f->ca) - want)) < 60);
	pki_cert_subject(f->ca, buf, sizeof(buf));
	assert_string_equal(buf, pki_default_ca_subject());
	pki_cert_cn(f->ca, buf, sizeof(buf));
	assert_string_equal(buf, "PEM");
	/* Two CAs never share a serial. */
	assert_false(pki_cert_equal(f->ca, f->ca2));
	{
		char s1[64], s2[64], small[4];
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(
		    (x = x509_of(f->ca))), NULL);
		char *hex = BN_bn2hex(bn);

		pki_cert_serial(f->ca, s1, sizeof(s1));
		pki_cert_serial(f->ca2, s2, sizeof(s2));
		assert_string_equal(s1, hex);
		assert_string_not_equal(s1, s2);
		pki_cert_serial(f->ca, small, sizeof(small));
		assert_string_equal(small, "");
		OPENSSL_free(hex);
		BN_free(bn);
		X509_free(x);
	}
}

static void check_client_verify(const struct fix *, const struct pki_cert *);

static void
test_leaf_client(void **state)
{
	struct fix *f = *state;
	struct pki_cert *leaf;
	X509 *x, *cax;
	char buf[256];
	int crit = -1;
	ASN1_BIT_STRING *ku;

	leaf = mkleaf(f, f->leaf_key, PKI_LEAF_CLIENT, "/CN=agent7", NULL, 0);
	pki_cert_cn(leaf, buf, sizeof(buf));
	assert_string_equal(buf, "agent7");
	assert_int_equal(pki_key_matches_cert(f->leaf_key, leaf), 1);
	x = x509_of(leaf);
	cax = x509_of(f->ca);
	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(x),
	    NID_sha256WithRSAEncryption);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_non_null(ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL));
	assert_int_equal(crit, 1);
	ASN1_BIT_STRING_free(ku);
	assert_null(X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL));
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(cax)), 0);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(x),
	    X509_get_subject_name(cax)), 0);
	X509_free(x);
	X509_free(cax);
	check_client_verify(f, leaf);
	pki_cert_free(leaf);
}

/*
 * pki_leafmaker_pem: with its serial and validity, the certificate
 * pki_cert_make_leaf writes, byte for byte up to the signature, and the
 * signature verifies under the CA; for an RSA CA (ca) and an EC CA (ca2),
 * P-256, P-384 and RSA leaf keys.  A CA key of another CA: ERR_MISMATCH.
 */
static void
test_leafmaker(void **state)
{
	struct fix *f = *state;
	const struct pki_cert *cas[2] = { f->ca, f->ca2 };
	const struct pki_key *cakeys[2] = { f->ca_key, f->ca2_key };
	struct pki_key *k384 = gen("ec:P-384"), *keys[3];
	struct pki_leafmaker *m = NULL;
	struct pki_cert *fast, *slow = NULL;
	unsigned char *d1 = NULL, *d2 = NULL;
	char *pem = NULL, cn[64];
	size_t len = 0, i, j;
	X509 *xf, *xs;
	int n1, n2;

	keys[0] = f->leaf_key;
	keys[1] = k384;
	keys[2] = f->ca_key;	/* RSA */
	for (i = 0; i < 2; i++) {
		assert_int_equal(pki_leafmaker_new(cas[i], cakeys[i], 365, &m),
		    0);
		for (j = 0; j < 3; j++) {
			assert_int_equal(pki_leafmaker_pem(m, keys[j],
			    "/C=US/O=EnterpriseDB Corporation/CN=agent42", &pem,
			    &len), 0);
			assert_int_equal(strlen(pem), len);
			assert_int_equal(pki_cert_from_pem(pem, len, &fast), 0);
			pki_cert_cn(fast, cn, sizeof(cn));
			assert_string_equal(cn, "agent42");
			assert_int_equal(pki_key_matches_cert(keys[j], fast),
			    1);
			assert_int_equal(verify(fast, cas[i]), 0);
			/* the long way, with the same serial and validity */
			assert_int_equal(pki_cert_make_leaf(cas[i], cakeys[i],
			    keys[j], PKI_LEAF_CLIENT, "/C=US/O=EnterpriseDB "
			    "Corporation/CN=agent42", NULL, 0, 365, &slow), 0);
			xf = x509_of(fast);
			xs = x509_of(slow);
			assert_true(X509_set_serialNumber(xs,
			    X509_get_serialNumber(xf)));
			assert_true(X509_set1_notBefore(xs,
			    X509_get0_notBefore(xf)));
			assert_true(X509_set1_notAfter(xs,
			    X509_get0_notAfter(xf)));
			n1 = i2d_re_X509_tbs(xf, &d1);
			n2 = i2d_re_X509_tbs(xs, &d2);
			assert_true(n1 > 0);
			assert_int_equal(n1, n2);
			assert_memory_equal(d1, d2, (size_t)n1);
			assert_int_equal(X509_get_signature_nid(xf),
			    X509_get_signature_nid(xs));
			OPENSSL_free(d1);
			OPENSSL_free(d2);
			d1 = d2 = NULL;
			X509_free(xf);
			X509_free(xs);
			pki_cert_free(fast);
			pki_cert_free(slow);
			free(pem);
		}
		pki_leafmaker_free(m);
		m = NULL;
	}
	assert_int_equal(pki_leafmaker_new(f->ca, f->ca2_key, 365, &m),
	    ERR_MISMATCH);
	assert_null(m);
	pki_leafmaker_free(NULL);
	pki_key_free(k384);
}

/* A file of the source tree (ctest sets SOURCE_DIR), NUL-terminated. */
static char *
source_file(const char *rel, size_t *len)
{
	const char *dir = getenv("SOURCE_DIR");
	char *path, *buf;
	FILE *fp;
	long n;

	path = xasprintf("%s/%s", dir != NULL ? dir : ".", rel);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	assert_true((n = ftell(fp)) > 0);
	rewind(fp);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	free(path);
	*len = (size_t)n;
	return buf;
}

/*
 * pki_leafmaker_pem with an RSA-8192 CA (a 1024-byte signature, which once
 * overflowed the hand-written template's buffer): the certificate must be
 * whole and verify.
 * The CA key is a fixture (tests/unit/data/: making one takes seconds).
 */
static void
test_leafmaker_rsa8192_ca(void **state)
{
	struct fix *f = *state;
	struct pki_key *ca_key = NULL;
	struct pki_cert *ca, *leaf = NULL;
	struct pki_leafmaker *m = NULL;
	char *pem = NULL, *text;
	size_t len = 0;
	X509 *x;

	text = source_file("tests/unit/data/rsa8192-ca.key", &len);
	assert_int_equal(pki_key_from_pem(text, len, &ca_key), 0);
	free(text);
	ca = mkca(ca_key, "/CN=Big CA");
	assert_int_equal(pki_leafmaker_new(ca, ca_key, 365, &m), 0);
	assert_int_equal(pki_leafmaker_pem(m, f->leaf_key, "/CN=agent8192",
	    &pem, &len), 0);
	assert_int_equal(pki_cert_from_pem(pem, len, &leaf), 0);
	assert_int_equal(verify(leaf, ca), 0);
	x = x509_of(leaf);
	assert_int_equal(X509_get_signature_nid(x),
	    NID_sha256WithRSAEncryption);
	X509_free(x);
	free(pem);
	pki_cert_free(leaf);
	pki_leafmaker_free(m);
	pki_cert_free(ca);
	pki_key_free(ca_key);
}

static void
check_client_verify(const struct fix *f, const struct pki_cert *leaf)
{
	char *why;

	assert_int_equal(pki_cert_verify(leaf, f->ca, NULL, 0, NULL, &why),
	    0);
	assert_null(why);
	/* Same subject, other key: must not verify. */
	assert_int_equal(pki_cert_verify(leaf, f->ca2, NULL, 0, NULL, &why),
	    ERR_VERIFY);
	assert_true(strlen(why) > 0);
	free(why);
	assert_int_equal(verify(leaf, f->ca3), ERR_VERIFY);
}

static void
test_leaf_rsa_key_usage(void **state)
{
	struct fix *f = *state;
	struct pki_cert *leaf = NULL;
	X509 *x;

	/* An RSA leaf (the CA key itself will do) gets keyEncipherment. */
	assert_int_equal(pki_cert_make_leaf(f->ca2, f->ca2_key, f->ca_key,
	    PKI_LEAF_SERVER, "/CN=rsa", NULL, 0, 30, &leaf), 0);
	x = x509_of(leaf);
	assert_int_equal(X509_get_key_usage(x),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	X509_free(x);
	assert_int_equal(verify(leaf, f->ca2), 0);
	pki_cert_free(leaf);
}

static void
test_leaf_server_san(void **state)
{
	static const char *const san[] = {
		"127.0.0.1", "pem.example.com", "::1",
	};
	struct fix *f = *state;
	struct pki_cert *leaf;
	GENERAL_NAMES *gens;
	char *why;
	X509 *x;

	leaf = mkleaf(f, f->leaf_key, PKI_LEAF_SERVER, "/CN=pem.example.com",
	    san, 3);
	x = x509_of(leaf);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	assert_non_null(gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	    NULL));
	assert_int_equal(sk_GENERAL_NAME_num(gens), 3);
	assert_int_equal(sk_GENERAL_NAME_value(gens, 0)->type, GEN_IPADD);
	assert_int_equal(sk_GENERAL_NAME_value(gens, 1)->type, GEN_DNS);
	assert_int_equal(sk_GENERAL_NAME_value(gens, 2)->type, GEN_IPADD);
	GENERAL_NAMES_free(gens);
	X509_free(x);

	assert_int_equal(pki_cert_verify(leaf, f->ca, NULL, 0, "127.0.0.1",
	    &why), 0);
	assert_int_equal(pki_cert_verify(leaf, f->ca, NULL, 0,
	    "pem.example.com", &why), 0);
	assert_int_equal(pki_cert_verify(leaf, f->ca, NULL, 0, "::1", &why),
	    0);
	assert_int_equal(pki_cert_verify(leaf, f->ca, NULL, 0,
	    "other.example.com", &why), ERR_VERIFY);
	assert_non_null(strstr(why, "mismatch"));
	free(why);
	assert_int_equal(pki_cert_verify(leaf, f->ca, NULL, 0, "127.0.0.2",
	    &why), ERR_VERIFY);
	assert_non_null(strstr(why, "mismatch"));
	free(why);
	pki_cert_free(leaf);
}

static void
test_leaf_bad_args(void **state)
{
	static const char *const badsan[] = { "pem.example.com", "bad host!" };
	static const char *const nullsan[] = { NULL };
	struct fix *f = *state;
	struct pki_cert *c = NULL;

	assert_int_equal(pki_cert_make_leaf(f->ca, f->ca2_key, f->leaf_key,
	    PKI_LEAF_CLIENT, "/CN=agent1", NULL, 0, 30, &c), ERR_MISMATCH);
	assert_int_equal(pki_cert_make_leaf(f->ca, f->ca_key, f->leaf_key,
	    PKI_LEAF_SERVER, "/CN=x", badsan, 2, 30, &c), ERR_INVAL);
	assert_int_equal(pki_cert_make_leaf(f->ca, f->ca_key, f->leaf_key,
	    PKI_LEAF_SERVER, "/CN=x", nullsan, 1, 30, &c), ERR_INVAL);
	assert_int_equal(pki_cert_make_leaf(f->ca, f->ca_key, f->leaf_key,
	    PKI_LEAF_CLIENT, "/CN=x", NULL, 0, 0, &c), ERR_INVAL);
	assert_int_equal(pki_cert_make_leaf(f->ca, f->ca_key, f->leaf_key,
	    (enum pki_leaf_kind)3, "/CN=x", NULL, 0, 30, &c), ERR_INVAL);
	assert_null(c);
}

static void
test_subject(void **state)
{
	static const char *const bad[] = {
		"", "CN=x", "/", "/CN", "/=x", "/CN=", "/XX=foo", "/CN=a/",
		"/CN=a//O=b", "/CN=x\\", "/C=USA", "/bogusName=1",
	};
	struct fix *f = *state;
	struct pki_cert *c = NULL;
	char buf[256];
	X509 *x;
	X509_NAME_ENTRY *e;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pki_cert_make_ca(f->ca2_key, bad[i], 1, &c),
		    ERR_INVAL);
	assert_int_equal(pki_cert_make_ca(f->ca2_key, NULL, 1, &c), ERR_INVAL);
	assert_null(c);

	assert_int_equal(pki_cert_make_ca(f->ca2_key,
	    "/O=A\\/B Corp/CN=Gr\xc3\xbc\xc3\x9f" "e=1", 1, &c), 0);
	x = x509_of(c);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_organizationName, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "A/B Corp");
	e = X509_NAME_get_entry(X509_get_subject_name(x), 1);
	assert_int_equal(ASN1_STRING_type(X509_NAME_ENTRY_get_data(e)),
	    V_ASN1_UTF8STRING);
	X509_free(x);
	pki_cert_cn(c, buf, sizeof(buf));
	assert_string_equal(buf, "Gr\xc3\xbc\xc3\x9f" "e=1");
	pki_cert_free(c);
}

static void
test_cert_pem_misc(void **state)
{
	struct fix *f = *state;
	struct pki_cert *c = NULL, *d;
	char *pem = NULL, *two, *three, fp[65], want[65];
	unsigned char md[32];
	unsigned int n = 0, i;
	size_t len = 0;
	X509 *x;

	assert_int_equal(pki_cert_to_pem(f->ca, &pem, &len), 0);
	assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));
	assert_int_equal(pki_cert_from_pem(pem, len, &c), 0);
	assert_true(pki_cert_equal(c, f->ca));
	assert_false(pki_cert_equal(c, f->ca2));
	assert_non_null(d = pki_cert_dup(c));
	pki_cert_free(c);
	assert_true(pki_cert_equal(d, f->ca));
	pki_cert_free(d);
	pki_cert_free(NULL);

	x = x509_of(f->ca);
	assert_true(X509_digest(x, EVP_sha256(), md, &n));
	X509_free(x);
	for (i = 0; i < n; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	pki_cert_fingerprint(f->ca, fp);
	assert_string_equal(fp, want);
	assert_int_equal(strlen(fp), 64);

	two = cat(pem, pem);
	three = cat(two, "-----BEGIN JUNK-----\nAAAA\n-----END JUNK-----\n");
	assert_int_equal(pki_pem_count_certs(two, strlen(two)), 2);
	assert_int_equal(pki_pem_count_certs(three, strlen(three)), 2);
	assert_int_equal(pki_pem_count_crls(three, strlen(three)), 0);
	assert_int_equal(pki_pem_count_certs("", 0), 0);
	assert_int_equal(pki_cert_from_pem("junk", 4, &c), ERR_PARSE);
	free(two);
	free(three);
	free(pem);
}

/* ---- threads ---- */

struct signer_arg {
	const struct fix *f;
	const struct pki_leafmaker *m;	/* one maker for every thread */
};

/* One agent's certificate both ways; 0 if each verifies. */
static int
sign_one(const struct signer_arg *a, const struct pki_key *k)
{
	struct pki_cert *c = NULL, *c2 = NULL;
	char *pem = NULL;
	size_t len = 0;
	int bad;

	bad = pki_cert_make_leaf(a->f->ca, a->f->ca_key, k, PKI_LEAF_CLIENT,
	    "/CN=agent9", NULL, 0, 30, &c) != 0 ||
	    verify(c, a->f->ca) != 0 ||
	    pki_leafmaker_pem(a->m, k, "/CN=agent9", &pem, &len) != 0 ||
	    pki_cert_from_pem(pem, len, &c2) != 0 ||
	    verify(c2, a->f->ca) != 0;
	free(pem);
	pki_cert_free(c);
	pki_cert_free(c2);
	return bad;
}

static void *
signer(void *arg)
{
	struct pki_keyspec ks;
	struct pki_key *k = NULL;
	long bad = 0;
	int i;

	for (i = 0; i < 4; i++) {
		if (pki_keyspec_parse("ec:P-256", &ks) != 0 ||
		    pki_key_generate(&ks, &k) != 0 || sign_one(arg, k) != 0)
			bad++;
		pki_key_free(k);
		k = NULL;
	}
	return (void *)bad;
}

/* Leaf certificates signed by one CA and one maker from many threads. */
static void
test_threads(void **state)
{
	struct signer_arg a = { *state, NULL };
	struct pki_leafmaker *m = NULL;
	pthread_t t[NTHREADS];
	void *bad;
	int i;

	assert_int_equal(pki_leafmaker_new(a.f->ca, a.f->ca_key, 30, &m), 0);
	a.m = m;
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, signer, &a), 0);
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_null(bad);
	}
	pki_leafmaker_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_cert),
		cmocka_unit_test(test_leaf_client),
		cmocka_unit_test(test_leaf_rsa_key_usage),
		cmocka_unit_test(test_leaf_server_san),
		cmocka_unit_test(test_leaf_bad_args),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_cert_pem_misc),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_leafmaker),
		cmocka_unit_test(test_leafmaker_rsa8192_ca),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
