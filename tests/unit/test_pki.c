/*
 * test_pki.c: keys, certificate requests and the Ed25519 key (crypto/pki_key.c,
 * pki_csr.c, pki.c), checked with OpenSSL directly.
 */
#include "test_pki.h"
#include "test_smaps.h"

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

/*
 * A key's PEM is unencrypted PKCS#8 ("BEGIN PRIVATE KEY"): the bytes
 * OpenSSL's PKCS#8 encoder writes for the key parsed back, a
 * PrivateKeyInfo whose key is the one generated, in a secret buffer.
 */
static void
test_key_pem_pkcs8(void **state)
{
	static const char *const specs[] = { "ec:P-256", "ec:P-384",
	    "rsa:2048" };
	struct pki_key *k, *back;
	PKCS8_PRIV_KEY_INFO *p8;
	EVP_PKEY *pk, *orig;
	char *pem, *data;
	size_t len, i, round;
	BIO *b;
	long n;

	(void)state;
	for (i = 0; i < 3; i++) {
		for (round = 0; round < (i < 2 ? 5 : 1); round++) {
			k = gen(specs[i]);
			assert_int_equal(pki_key_to_pem(k, &pem, &len), 0);
			assert_int_equal(strlen(pem), len);
			assert_non_null(strstr(pem,
			    "-----BEGIN PRIVATE KEY-----\n"));
			b = BIO_new_mem_buf(pem, (int)len);
			p8 = PEM_read_bio_PKCS8_PRIV_KEY_INFO(b, NULL, NULL,
			    NULL);
			assert_non_null(p8);
			assert_non_null(pk = EVP_PKCS82PKEY(p8));
			PKCS8_PRIV_KEY_INFO_free(p8);
			BIO_free(b);
			orig = pkey_of(k);
			assert_int_equal(EVP_PKEY_eq(pk, orig), 1);
			EVP_PKEY_free(orig);
			/* what OpenSSL's PKCS#8 encoder makes of the key */
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

/* ---- certificate requests ---- */

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

/* ---- the Ed25519 user key, errors ---- */

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
		cmocka_unit_test(test_last_error),
		cmocka_unit_test(test_csr_public_key),
		cmocka_unit_test(test_ed25519_sign),
		cmocka_unit_test(test_key_pem_pkcs8),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
