/*
 * test_pki.c: keys, certificates and CRLs, checked with OpenSSL directly.
 */
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

/* ---- helpers ---- */

static struct pki_key *
gen(const char *spec)
{
	struct pki_keyspec ks;
	struct pki_key *k = NULL;

	assert_int_equal(pki_keyspec_parse(spec, &ks), 0);
	assert_int_equal(pki_key_generate(&ks, &k), 0);
	assert_non_null(k);
	return k;
}

static struct pki_cert *
mkca(const struct pki_key *k, const char *subject)
{
	struct pki_cert *c = NULL;

	assert_int_equal(pki_cert_make_ca(k, subject, DAYS, &c), 0);
	assert_non_null(c);
	return c;
}

static struct pki_cert *
mkleaf(const struct fix *f, const struct pki_key *k, enum pki_leaf_kind kind,
    const char *subject, const char *const *san, size_t nsan)
{
	struct pki_cert *c = NULL;

	assert_int_equal(pki_cert_make_leaf(f->ca, f->ca_key, k, kind,
	    subject, san, nsan, 365, &c), 0);
	assert_non_null(c);
	return c;
}

static X509 *
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

static EVP_PKEY *
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

static char *
cat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = malloc(na + nb + 1);

	assert_non_null(s);
	memcpy(s, a, na);
	memcpy(s + na, b, nb + 1);
	return s;
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

/* ---- fixture ---- */

static int
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

static int
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

/* ---- key specs and keys ---- */

static void
test_keyspec_good(void **state)
{
	static const char *const good[][2] = {
		{ "rsa:2048", "rsa:2048" }, { "rsa:3072", "rsa:3072" },
		{ "rsa:4096", "rsa:4096" }, { "RSA:4096", "rsa:4096" },
		{ "ec:P-256", "ec:P-256" }, { "ec:p-384", "ec:P-384" },
	};
	struct pki_keyspec ks;
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(pki_keyspec_parse(good[i][0], &ks), 0);
		pki_keyspec_str(&ks, buf, sizeof(buf));
		assert_string_equal(buf, good[i][1]);
	}
	assert_int_equal(pki_keyspec_parse("rsa:3072", &ks), 0);
	assert_int_equal(ks.alg, PKI_ALG_RSA);
	assert_int_equal(ks.bits, 3072);
	assert_int_equal(pki_keyspec_parse("ec:P-384", &ks), 0);
	assert_int_equal(ks.alg, PKI_ALG_EC);
	assert_string_equal(ks.curve, "P-384");
}

static void
test_keyspec_bad(void **state)
{
	static const char *const bad[] = {
		"", "rsa", "rsa:", "rsa:1024", "rsa:2048x", "rsa:02048",
		" rsa:2048", "rsa:2048 ", "ec", "ec:", "ec:P-521",
		"ec:secp256k1", "dsa:2048", "ed25519", "rsa:4096:1",
	};
	struct pki_keyspec ks = { PKI_ALG_RSA, 4096, "" };
	struct pki_key *k = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pki_keyspec_parse(bad[i], &ks), ERR_INVAL);
	assert_int_equal(pki_keyspec_parse(NULL, &ks), ERR_INVAL);
	/* A failed parse leaves *out alone. */
	assert_int_equal(ks.bits, 4096);
	ks.bits = 1024;
	assert_int_equal(pki_key_generate(&ks, &k), ERR_INVAL);
	assert_null(k);
}

static void
test_keygen_rsa(void **state)
{
	struct fix *f = *state;
	EVP_PKEY *pk = pkey_of(f->ca_key);
	char *pem = NULL;
	size_t len = 0;

	assert_int_equal(EVP_PKEY_get_base_id(pk), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(pk), 2048);
	EVP_PKEY_free(pk);
	assert_int_equal(pki_key_to_pem(f->ca_key, &pem, &len), 0);
	assert_int_equal(strlen(pem), len);
	assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----\n"));
	assert_null(strstr(pem, "RSA PRIVATE KEY"));
	pki_secret_free(pem, len);
	pki_secret_free(NULL, 0);
}

static void
check_ec(const char *spec, const char *group, int bits)
{
	struct pki_key *k = gen(spec);
	EVP_PKEY *pk = pkey_of(k);
	char name[32];
	size_t n = 0;

	assert_int_equal(EVP_PKEY_get_base_id(pk), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_bits(pk), bits);
	assert_true(EVP_PKEY_get_group_name(pk, name, sizeof(name), &n));
	assert_string_equal(name, group);
	EVP_PKEY_free(pk);
	pki_key_free(k);
}

static void
test_keygen_ec(void **state)
{
	check_ec("ec:P-256", "prime256v1", 256);
	check_ec("ec:P-384", "secp384r1", 384);
}

static char *
traditional_pem(const struct pki_key *k, const EVP_CIPHER *enc)
{
	EVP_PKEY *pk = pkey_of(k);
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	if (enc == NULL)
		assert_true(PEM_write_bio_PrivateKey_traditional(b, pk, NULL,
		    NULL, 0, NULL, NULL));
	else
		assert_true(PEM_write_bio_PKCS8PrivateKey(b, pk, enc,
		    "secret", 6, NULL, NULL));
	n = BIO_get_mem_data(b, &data);
	assert_non_null(out = calloc(1, (size_t)n + 1));
	memcpy(out, data, (size_t)n);
	BIO_free(b);
	EVP_PKEY_free(pk);
	return out;
}

/* The VmFlags of the mapping holding p (/proc/self/smaps); caller frees. */
static char *
vmflags_of(const void *p)
{
	unsigned long lo, hi, a = (unsigned long)p;
	char line[512], *flags = NULL;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	while (flags == NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = a >= lo && a < hi;
		else if (in && strncmp(line, "VmFlags:", 8) == 0)
			flags = xstrdup(line + 8);
	}
	fclose(f);
	assert_non_null(flags);
	return flags;
}

/*
 * Private keys live in OpenSSL's secure heap (generated or read from
 * PEM), and freeing them gives it back; a key's PEM is on pages of its
 * own left out of core dumps.
 */
static void
test_key_secure_memory(void **state)
{
	static const char *const specs[] = { "ec:P-256", "rsa:2048" };
	struct pki_key *k, *back;
	struct pki_cert *c;
	size_t used, len, i;
	char *pem, *flags;

	(void)state;
	for (i = 0; i < 2; i++) {
		used = CRYPTO_secure_used();
		k = gen(specs[i]);
		assert_true(CRYPTO_secure_used() > used);
		assert_int_equal(pki_key_to_pem(k, &pem, &len), 0);
		flags = vmflags_of(pem);
		assert_non_null(strstr(flags, " dd"));
		free(flags);
		assert_int_equal(pki_key_from_pem(pem, len, &back), 0);
		pki_secret_free(pem, len);
		c = mkca(k, "/CN=secure");
		assert_int_equal(pki_key_matches_cert(back, c), 1);
		pki_cert_free(c);
		pki_key_free(back);
		pki_key_free(k);
		assert_int_equal(CRYPTO_secure_used(), used);
	}
}

static void
test_key_pem_roundtrip(void **state)
{
	struct fix *f = *state;
	struct pki_key *k = NULL;
	char *pem = NULL, *trad;
	size_t len = 0;

	assert_int_equal(pki_key_to_pem(f->ca_key, &pem, &len), 0);
	assert_int_equal(pki_key_from_pem(pem, len, &k), 0);
	pki_secret_free(pem, len);
	assert_int_equal(pki_key_matches_cert(k, f->ca), 1);
	assert_int_equal(pki_key_matches_cert(k, f->ca2), 0);
	assert_int_equal(pki_key_matches_cert(f->leaf_key, f->ca), 0);
	pki_key_free(k);

	trad = traditional_pem(f->ca2_key, NULL);
	assert_non_null(strstr(trad, "BEGIN EC PRIVATE KEY"));
	assert_int_equal(pki_key_from_pem(trad, strlen(trad), &k), 0);
	assert_int_equal(pki_key_matches_cert(k, f->ca2), 1);
	pki_key_free(k);
	free(trad);

	/* Encrypted keys are refused, never prompted for. */
	trad = traditional_pem(f->ca2_key, EVP_aes_256_cbc());
	assert_int_equal(pki_key_from_pem(trad, strlen(trad), &k), ERR_PARSE);
	assert_null(k);
	free(trad);
	assert_int_equal(pki_key_from_pem("junk", 4, &k), ERR_PARSE);
	assert_null(k);
	pki_key_free(NULL);
}

/* ---- certificates ---- */

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
 * crypto/leafcert.c: a client certificate from the template is, with its
 * serial and validity, the certificate pki_cert_make_leaf writes, byte for
 * byte up to the signature; the signature verifies under the CA, for an
 * RSA CA (ca) and an EC CA (ca2), P-256 and P-384 leaf keys; a key that is
 * not EC is refused (ERR_INVAL) and a CA key of another CA (ERR_MISMATCH).
 */
static void
test_leafmaker(void **state)
{
	struct fix *f = *state;
	const struct pki_cert *cas[2] = { f->ca, f->ca2 };
	const struct pki_key *cakeys[2] = { f->ca_key, f->ca2_key };
	struct pki_key *k384 = gen("ec:P-384"), *keys[2];
	struct pki_leafmaker *m = NULL;
	struct pki_cert *fast, *slow = NULL;
	unsigned char *d1 = NULL, *d2 = NULL;
	char *pem = NULL, cn[64];
	size_t len = 0, i, j;
	X509 *xf, *xs;
	int n1, n2;

	keys[0] = f->leaf_key;
	keys[1] = k384;
	for (i = 0; i < 2; i++) {
		assert_int_equal(pki_leafmaker_new(cas[i], cakeys[i], 365, &m),
		    0);
		for (j = 0; j < 2; j++) {
			assert_int_equal(pki_leafmaker_pem(m, keys[j],
			    "/C=US/O=EnterpriseDB Corporation/CN=agent42", &pem,
			    &len), 0);
			assert_int_equal(strlen(pem), len);
			assert_int_equal(pki_cert_from_pem(pem, len, &fast), 0);
			pki_cert_cn(fast, cn, sizeof(cn));
			assert_string_equal(cn, "agent42");
			assert_int_equal(pki_key_matches_cert(keys[j], fast), 1);
			assert_int_equal(pki_cert_verify(fast, cas[i], NULL, 0,
			    NULL, NULL, 0), 0);
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
		/* an RSA key is not for the template */
		assert_int_equal(pki_leafmaker_pem(m, f->ca_key, "/CN=agent1",
		    &pem, &len), ERR_INVAL);
		assert_null(pem);
		pki_leafmaker_free(m);
		m = NULL;
	}
	assert_int_equal(pki_leafmaker_new(f->ca, f->ca2_key, 365, &m),
	    ERR_MISMATCH);
	assert_null(m);
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
 * crypto/leafcert.c with a CA whose signature fills the old stack buffer
 * exactly: an RSA-8192 CA signs 1024 bytes, which the template once wrote
 * after the BIT STRING's first byte into 1024 bytes (one past the end,
 * then refused the result).  The certificate must be whole and verify.
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
	assert_int_equal(pki_cert_verify(leaf, ca, NULL, 0, NULL, NULL, 0), 0);
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
	char why[128];

	assert_int_equal(pki_cert_verify(leaf, f->ca, NULL, 0, NULL, why,
	    sizeof(why)), 0);
	assert_string_equal(why, "");
	/* Same subject, other key: must not verify. */
	assert_int_equal(pki_cert_verify(leaf, f->ca2, NULL, 0, NULL, why,
	    sizeof(why)), ERR_VERIFY);
	assert_true(strlen(why) > 0);
	assert_int_equal(pki_cert_verify(leaf, f->ca3, NULL, 0, NULL, NULL,
	    0), ERR_VERIFY);
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
	assert_int_equal(pki_cert_verify(leaf, f->ca2, NULL, 0, NULL, NULL,
	    0), 0);
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
	char why[128];
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
	    why, sizeof(why)), 0);
	assert_int_equal(pki_cert_verify(leaf, f->ca, NULL, 0,
	    "pem.example.com", why, sizeof(why)), 0);
	assert_int_equal(pki_cert_verify(leaf, f->ca, NULL, 0, "::1", why,
	    sizeof(why)), 0);
	assert_int_equal(pki_cert_verify(leaf, f->ca, NULL, 0,
	    "other.example.com", why, sizeof(why)), ERR_VERIFY);
	assert_non_null(strstr(why, "mismatch"));
	assert_int_equal(pki_cert_verify(leaf, f->ca, NULL, 0, "127.0.0.2",
	    why, sizeof(why)), ERR_VERIFY);
	assert_non_null(strstr(why, "mismatch"));
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

/* ---- CRLs ---- */

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
	char *c1, *c2, *c3, *both, *rev, *revcrl, why[128];

	leaf = mkleaf(f, f->leaf_key, PKI_LEAF_CLIENT, "/CN=agent3", NULL, 0);
	c1 = mkcrl(f->ca, f->ca_key, NULL);
	c2 = mkcrl(f->ca2, f->ca2_key, NULL);
	c3 = mkcrl(f->ca3, f->ca2_key, NULL);
	both = cat(c2, c1);
	assert_int_equal(pki_cert_verify(leaf, f->ca, c1, strlen(c1), NULL,
	    why, sizeof(why)), 0);
	/* Old and new CA share a name: the AKID picks the right CRL. */
	assert_int_equal(pki_cert_verify(leaf, f->ca, both, strlen(both),
	    NULL, why, sizeof(why)), 0);
	assert_int_equal(pki_cert_verify(leaf, f->ca, c3, strlen(c3), NULL,
	    why, sizeof(why)), ERR_VERIFY);
	assert_string_equal(why, "unable to get certificate CRL");
	assert_int_equal(pki_cert_verify(leaf, f->ca, "", 0, NULL, why,
	    sizeof(why)), ERR_VERIFY);

	serial = serial_of(leaf);
	rev = test_crl(f->ca, f->ca_key, serial, 86400, 7);
	revcrl = mkcrl(f->ca, f->ca_key, rev);
	assert_int_equal(pki_cert_verify(leaf, f->ca, revcrl, strlen(revcrl),
	    NULL, why, sizeof(why)), ERR_VERIFY);
	assert_string_equal(why, "certificate revoked");
	ASN1_INTEGER_free(serial);
	free(c1);
	free(c2);
	free(c3);
	free(both);
	free(rev);
	free(revcrl);
	pki_cert_free(leaf);
}

/* ---- threads ---- */

static void *
signer(void *arg)
{
	const struct fix *f = arg;
	struct pki_keyspec ks;
	struct pki_key *k = NULL;
	struct pki_cert *c = NULL;
	long bad = 0;
	int i;

	for (i = 0; i < 4; i++) {
		if (pki_keyspec_parse("ec:P-256", &ks) != 0 ||
		    pki_key_generate(&ks, &k) != 0 ||
		    pki_cert_make_leaf(f->ca, f->ca_key, k, PKI_LEAF_CLIENT,
		    "/CN=agent9", NULL, 0, 30, &c) != 0 ||
		    pki_cert_verify(c, f->ca, NULL, 0, NULL, NULL, 0) != 0)
			bad++;
		pki_cert_free(c);
		pki_key_free(k);
		c = NULL;
		k = NULL;
	}
	return (void *)bad;
}

static void
test_threads(void **state)
{
	pthread_t t[NTHREADS];
	void *bad;
	int i;

	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, signer, *state),
		    0);
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_null(bad);
	}
}

static void
test_last_error(void **state)
{
	static const char bad[] = "-----BEGIN PRIVATE KEY-----\n"
	    "AAAA\n-----END PRIVATE KEY-----\n";
	struct pki_key *k = NULL;
	char buf[256];

	assert_int_equal(pki_key_from_pem(bad, strlen(bad), &k), ERR_PARSE);
	pki_last_error(buf, sizeof(buf));
	assert_true(strlen(buf) > 0);
	assert_string_not_equal(buf, "no OpenSSL error");
	pki_last_error(buf, sizeof(buf));
	assert_string_equal(buf, "no OpenSSL error");
}

/* A CSR made by the openssl command line, as a remote host makes it. */
static char *
cli_csr(const char *genpkey_args, size_t *len)
{
	char *cmd, buf[8192];
	size_t n;
	FILE *p;

	cmd = xasprintf("d=$(mktemp -d) && openssl genpkey %s -out $d/k "
	    "2>/dev/null && openssl req -new -key $d/k -subj /CN=agent7; "
	    "rm -rf $d", genpkey_args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	assert_int_equal(pclose(p), 0);
	free(cmd);
	*len = n;
	return xstrdup(buf);
}

static void
test_csr_public_key(void **state)
{
	struct pki_keyspec ec256, ec384, rsa2048;
	struct pki_key *pub = NULL, *cak = NULL;
	struct pki_cert *ca = NULL, *leaf = NULL;
	char *csr, *bad;
	size_t len;

	(void)state;
	pki_keyspec_parse("ec:P-256", &ec256);
	pki_keyspec_parse("ec:P-384", &ec384);
	pki_keyspec_parse("rsa:2048", &rsa2048);
	csr = cli_csr("-algorithm EC -pkeyopt ec_paramgen_curve:P-256", &len);
	assert_int_equal(pki_csr_public_key(csr, len, &ec256, &pub), 0);
	/* the public key can be certified */
	assert_int_equal(pki_key_generate(&ec256, &cak), 0);
	assert_int_equal(pki_cert_make_ca(cak, "/CN=ca", 1, &ca), 0);
	assert_int_equal(pki_cert_make_leaf(ca, cak, pub, PKI_LEAF_CLIENT,
	    "/CN=agent7", NULL, 0, 1, &leaf), 0);
	assert_true(pki_key_matches_cert(pub, leaf));
	pki_key_free(pub);
	/* another curve or algorithm than asked for */
	assert_int_equal(pki_csr_public_key(csr, len, &ec384, &pub),
	    ERR_MISMATCH);
	assert_int_equal(pki_csr_public_key(csr, len, &rsa2048, &pub),
	    ERR_MISMATCH);
	assert_null(pub);
	/* a signature that does not verify: flip a byte near the end */
	bad = xstrdup(csr);
	bad[len - 40] = bad[len - 40] == 'A' ? 'B' : 'A';
	assert_int_not_equal(pki_csr_public_key(bad, len, &ec256, &pub), 0);
	assert_null(pub);
	assert_int_equal(pki_csr_public_key("garbage", 7, &ec256, &pub),
	    ERR_PARSE);
	free(bad);
	free(csr);
	csr = cli_csr("-algorithm RSA -pkeyopt rsa_keygen_bits:2048", &len);
	assert_int_equal(pki_csr_public_key(csr, len, &rsa2048, &pub), 0);
	pki_key_free(pub);
	free(csr);
	pki_cert_free(leaf);
	pki_cert_free(ca);
	pki_key_free(cak);
}

/* The direct EC PKCS#8 writer gives OpenSSL's encoder's bytes exactly. */
static void
test_ec_key_pem_matches_encoder(void **state)
{
	static const char *const specs[] = { "ec:P-256", "ec:P-384",
	    "rsa:2048" };
	struct pki_keyspec spec;
	struct pki_key *k, *back;
	char *pem, *data;
	size_t len, i, round;
	EVP_PKEY *pk;
	BIO *b;
	long n;

	for (i = 0; i < 3; i++) {
		for (round = 0; round < (i < 2 ? 20 : 1); round++) {
			assert_int_equal(pki_keyspec_parse(specs[i], &spec), 0);
			assert_int_equal(pki_key_generate(&spec, &k), 0);
			assert_int_equal(pki_key_to_pem(k, &pem, &len), 0);
			assert_int_equal(strlen(pem), len);
			/* what OpenSSL's own encoder makes of the same key */
			b = BIO_new_mem_buf(pem, (int)len);
			pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
			assert_non_null(pk);
			BIO_free(b);
			b = BIO_new(BIO_s_mem());
			assert_true(PEM_write_bio_PKCS8PrivateKey(b, pk, NULL,
			    NULL, 0, NULL, NULL));
			n = BIO_get_mem_data(b, &data);
			assert_int_equal((size_t)n, len);
			assert_memory_equal(data, pem, len);
			assert_int_equal(pki_key_from_pem(pem, len, &back), 0);
			pki_key_free(back);
			BIO_free(b);
			EVP_PKEY_free(pk);
			pki_secret_free(pem, len);
			pki_key_free(k);
		}
	}
}

static void
test_ed25519_sign(void **state)
{
	unsigned char seed[32], sig1[64], sig2[64], pub[32];
	const unsigned char msg[] = "userauth request";
	struct pki_ed25519 *k = NULL;
	EVP_PKEY *priv, *vk;
	EVP_MD_CTX *ctx;
	size_t publen = sizeof(pub);
	int i;

	(void)state;
	for (i = 0; i < 32; i++)
		seed[i] = (unsigned char)(i * 7 + 1);
	assert_int_equal(pki_ed25519_new(seed, &k), 0);
	/* twice from the one prepared context: deterministic, valid */
	assert_int_equal(pki_ed25519_sign(k, msg, sizeof(msg), sig1), 0);
	assert_int_equal(pki_ed25519_sign(k, msg, sizeof(msg), sig2), 0);
	assert_memory_equal(sig1, sig2, 64);
	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	assert_int_equal(EVP_PKEY_get_raw_public_key(priv, pub, &publen), 1);
	vk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, vk), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig1, 64, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(vk);
	pki_ed25519_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyspec_good),
		cmocka_unit_test(test_keyspec_bad),
		cmocka_unit_test(test_keygen_rsa),
		cmocka_unit_test(test_keygen_ec),
		cmocka_unit_test(test_key_pem_roundtrip),
		cmocka_unit_test(test_key_secure_memory),
		cmocka_unit_test(test_ca_cert),
		cmocka_unit_test(test_leaf_client),
		cmocka_unit_test(test_leaf_rsa_key_usage),
		cmocka_unit_test(test_leaf_server_san),
		cmocka_unit_test(test_leaf_bad_args),
		cmocka_unit_test(test_subject),
		cmocka_unit_test(test_cert_pem_misc),
		cmocka_unit_test(test_crl_make),
		cmocka_unit_test(test_crl_carry),
		cmocka_unit_test(test_crl_select),
		cmocka_unit_test(test_verify_crl),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_last_error),
		cmocka_unit_test(test_csr_public_key),
		cmocka_unit_test(test_ed25519_sign),
		cmocka_unit_test(test_ec_key_pem_matches_encoder),
		cmocka_unit_test(test_leafmaker),
		cmocka_unit_test(test_leafmaker_rsa8192_ca),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
