/*
 * pki_key.c: private keys (RSA, EC) and the Ed25519 SSH user key.
 *
 * A private key lives in an EVP_PKEY (OpenSSL's secure heap once
 * pki_secure_heap() has run) and leaves it only as PKCS#8 PEM written by
 * OpenSSL's encoder into a secure-memory BIO, then copied into a
 * secret_alloc() buffer for the caller.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "crypto/pki_internal.h"

static const struct {
	const char *name;
	enum pki_alg alg;
	int bits;
	const char *curve;
} keyspecs[] = {
	{ "rsa:2048", PKI_ALG_RSA, 2048, "" },
	{ "rsa:3072", PKI_ALG_RSA, 3072, "" },
	{ "rsa:4096", PKI_ALG_RSA, 4096, "" },
	{ "ec:P-256", PKI_ALG_EC, 0, "P-256" },
	{ "ec:P-384", PKI_ALG_EC, 0, "P-384" },
};
#define NKEYSPECS	(sizeof(keyspecs) / sizeof(keyspecs[0]))

/* ---- key specs ---- */

int
pki_keyspec_parse(const char *s, struct pki_keyspec *out)
{
	size_t i;

	if (s == NULL || out == NULL)
		return ERR_INVAL;
	for (i = 0; i < NKEYSPECS; i++) {
		if (strcasecmp(s, keyspecs[i].name) != 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->alg = keyspecs[i].alg;
		out->bits = keyspecs[i].bits;
		snprintf(out->curve, sizeof(out->curve), "%s",
		    keyspecs[i].curve);
		return 0;
	}
	return ERR_INVAL;
}

/* The table entry spec stands for, or -1. */
static int
keyspec_index(const struct pki_keyspec *spec)
{
	size_t i;

	for (i = 0; spec != NULL && i < NKEYSPECS; i++) {
		if (spec->alg != keyspecs[i].alg)
			continue;
		if (spec->alg == PKI_ALG_RSA && spec->bits == keyspecs[i].bits)
			return (int)i;
		if (spec->alg == PKI_ALG_EC && strncmp(spec->curve,
		    keyspecs[i].curve, sizeof(spec->curve)) == 0)
			return (int)i;
	}
	return -1;
}

void
pki_keyspec_str(const struct pki_keyspec *spec, char *buf, size_t len)
{
	int i = keyspec_index(spec);

	pki_say(buf, len, i < 0 ? "invalid" : keyspecs[i].name);
}

/* ---- keys ---- */

struct pki_key *
pki_key_wrap(EVP_PKEY *pk)
{
	struct pki_key *k = xmalloc(sizeof(*k));

	k->pk = pk;
	return k;
}

int
pki_key_generate(const struct pki_keyspec *spec, struct pki_key **out)
{
	EVP_PKEY *pk;
	int i;

	*out = NULL;
	if ((i = keyspec_index(spec)) < 0)
		return ERR_INVAL;
	if (keyspecs[i].alg == PKI_ALG_RSA)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)keyspecs[i].bits);
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", keyspecs[i].curve);
	if (pk == NULL)
		return ERR_CRYPTO;
	*out = pki_key_wrap(pk);
	return 0;
}

int
pki_key_from_pem(const char *pem, size_t len, struct pki_key **out)
{
	EVP_PKEY *pk;
	BIO *b;
	int r;

	*out = NULL;
	if ((r = pki_pem_bio(pem, len, INT_MAX, &b)) != 0)
		return r;
	pk = PEM_read_bio_PrivateKey(b, NULL, pki_no_passphrase, NULL);
	BIO_free(b);
	if (pk == NULL)
		return ERR_PARSE;
	*out = pki_key_wrap(pk);
	return 0;
}

int
pki_key_to_pem(const struct pki_key *key, char **pem, size_t *len)
{
	BIO *b;
	int r = ERR_CRYPTO;

	*pem = NULL;
	*len = 0;
	/*
	 * A secure-heap BIO (ordinary heap if pki_secure_heap() was not
	 * called): its buffer is cleansed when grown and freed.  OpenSSL 3
	 * writes PEM_write_bio_PrivateKey as PKCS#8 ("BEGIN PRIVATE KEY").
	 */
	if ((b = BIO_new(BIO_s_secmem())) == NULL)
		return ERR_CRYPTO;
	if (PEM_write_bio_PrivateKey(b, key->pk, NULL, NULL, 0, NULL, NULL))
		r = pki_bio_copy(b, 1, pem, len);
	BIO_free(b);
	return r;
}

void
pki_secret_free(char *p, size_t len)
{
	(void)len;	/* the buffer knows its size */
	secret_free(p);
}

int
pki_key_matches_cert(const struct pki_key *key,
    const struct pki_cert *cert)
{
	const EVP_PKEY *pub;

	if (key == NULL || cert == NULL ||
	    (pub = X509_get0_pubkey(cert->x)) == NULL)
		return 0;
	return EVP_PKEY_eq(key->pk, pub) == 1;
}

void
pki_key_free(struct pki_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pk);	/* clears the private numbers */
	freezero(key, sizeof(*key));
}

/* ---- the Ed25519 SSH user key ---- */

struct pki_ed25519 {
	EVP_PKEY *pk;
	EVP_MD_CTX *proto;	/* set up once; copied for each signature */
};

int
pki_ed25519_new(const unsigned char seed[32], struct pki_ed25519 **out)
{
	EVP_PKEY *pk;

	*out = NULL;
	pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (pk == NULL)
		return ERR_CRYPTO;
	*out = xmalloc(sizeof(**out));
	(*out)->pk = pk;
	/* the algorithm fetch of DigestSignInit, done once */
	if (((*out)->proto = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit((*out)->proto, NULL, NULL, NULL, pk) != 1) {
		EVP_MD_CTX_free((*out)->proto);
		(*out)->proto = NULL;
	}
	return 0;
}

int
pki_ed25519_sign(const struct pki_ed25519 *k, const unsigned char *data,
    size_t len, unsigned char sig[64])
{
	EVP_MD_CTX *ctx;
	size_t siglen = 64;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_NOMEM;
	ok = (k->proto != NULL ? EVP_MD_CTX_copy_ex(ctx, k->proto) == 1 :
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pk) == 1) &&
	    EVP_DigestSign(ctx, sig, &siglen, data, len) == 1 && siglen == 64;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : ERR_CRYPTO;
}

void
pki_ed25519_free(struct pki_ed25519 *k)
{
	if (k == NULL)
		return;
	EVP_MD_CTX_free(k->proto);
	EVP_PKEY_free(k->pk);
	free(k);
}
