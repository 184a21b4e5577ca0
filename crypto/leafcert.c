/*
 * leafcert.c: the agents' client certificates, written from a template.
 *
 * pki_cert_make_leaf builds each certificate through OpenSSL's X509
 * objects: the issuer name copied, three extensions parsed from their
 * openssl.cnf text, the key identifiers computed through the encoder
 * framework, the whole encoded twice (to sign, to write the PEM); about
 * 1 M instructions per certificate, five times its ECDSA signature.  A
 * run's agent certificates differ only in serial, subject, public key and
 * subject key identifier: everything else is encoded once here (with
 * OpenSSL, from the same texts), and each certificate is the DER of
 * RFC 5280 put together around its four parts, then signed.  The bytes
 * are those pki_cert_make_leaf writes (tests/unit/test_pki.c compares
 * them), for EC keys; any other key goes the long way.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "crypto/pki_internal.h"

#define LEAF_SKEW_SECS	(5 * 60)	/* as pki_cert_make_leaf */
#define LEAF_SERIAL_LEN	20		/* 159 random bits, positive */
#define LEAF_KEYID_LEN	20

struct pki_leafmaker {
	EVP_PKEY *ca_pk;
	unsigned char *mid;	/* signature algorithm, issuer, validity */
	size_t mid_len;
	unsigned char *exts;	/* basicConstraints, keyUsage, extKeyUsage */
	size_t exts_len;
	unsigned char *akid;	/* authorityKeyIdentifier */
	size_t akid_len;
	unsigned char sigalg[16];
	size_t sigalg_len;
};

/* A growing DER buffer. */
struct der {
	unsigned char *p;
	size_t len, cap;
};

static void
der_put(struct der *d, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (d->len + n > d->cap) {
		d->cap = (d->len + n) * 2;
		d->p = xrealloc(d->p, d->cap);
	}
	memcpy(d->p + d->len, p, n);
	d->len += n;
}

/* A tag and length, then the content. */
static void
der_tlv(struct der *d, unsigned char tag, const void *p, size_t n)
{
	unsigned char h[4];
	size_t o = 0;

	pki_der_hdr(h, &o, tag, n);
	der_put(d, h, o);
	der_put(d, p, n);
}

/* What an i2d function wrote into *der (n bytes), appended to d. */
static int
der_take(struct der *d, unsigned char *der, int n)
{
	if (n > 0)
		der_put(d, der, (size_t)n);
	OPENSSL_free(der);
	return n > 0 ? 0 : ERR_CRYPTO;
}

static int
der_name(struct der *d, const X509_NAME *name)
{
	unsigned char *der = NULL;
	int n = i2d_X509_NAME(name, &der);

	return der_take(d, der, n);
}

static int
der_time(struct der *d, const ASN1_TIME *tm)
{
	unsigned char *der = NULL;
	int n = i2d_ASN1_TIME(tm, &der);

	return der_take(d, der, n);
}

static int
add_ext_der(struct der *d, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	unsigned char *der = NULL;
	int n, r;

	memset(&ctx, 0, sizeof(ctx));
	X509V3_set_ctx(&ctx, NULL, NULL, NULL, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value)) == NULL)
		return ERR_CRYPTO;
	n = i2d_X509_EXTENSION(ext, &der);
	r = der_take(d, der, n);
	X509_EXTENSION_free(ext);
	return r;
}

/* The CA's key identifier: its SKID, else SHA-256 of its key (160 bits). */
static int
ca_keyid(X509 *ca, unsigned char *id, size_t *len)
{
	const ASN1_OCTET_STRING *kid = X509_get0_subject_key_id(ca);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (kid != NULL) {
		if (ASN1_STRING_length(kid) <= 0 ||
		    ASN1_STRING_length(kid) > 64)
			return ERR_CRYPTO;
		*len = (size_t)ASN1_STRING_length(kid);
		memcpy(id, ASN1_STRING_get0_data(kid), *len);
		return 0;
	}
	if (!X509_pubkey_digest(ca, pki_md_sha256(), md, &n) ||
	    n < LEAF_KEYID_LEN)
		return ERR_CRYPTO;
	memcpy(id, md, LEAF_KEYID_LEN);
	*len = LEAF_KEYID_LEN;
	return 0;
}

/* The signature algorithm X509_sign writes for the CA's key and SHA-256. */
static int
sigalg_of(EVP_PKEY *pk, unsigned char *out, size_t *len)
{
	static const unsigned char ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08,
	    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
	static const unsigned char rsa_sha256[] = { 0x30, 0x0d, 0x06, 0x09,
	    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05,
	    0x00 };

	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_EC:
		memcpy(out, ecdsa_sha256, sizeof(ecdsa_sha256));
		*len = sizeof(ecdsa_sha256);
		return 0;
	case EVP_PKEY_RSA:
		memcpy(out, rsa_sha256, sizeof(rsa_sha256));
		*len = sizeof(rsa_sha256);
		return 0;
	}
	return ERR_INVAL;
}

int
pki_leafmaker_new(const struct pki_cert *ca, const struct pki_key *ca_key,
    int days, struct pki_leafmaker **out)
{
	struct pki_leafmaker *m;
	struct der mid = { 0 }, val = { 0 }, ex = { 0 }, ak = { 0 }, t = { 0 };
	unsigned char kid[64];
	ASN1_TIME *nb = NULL, *na = NULL;
	time_t now = time(NULL);
	size_t klen = 0;
	int r = ERR_CRYPTO;

	*out = NULL;
	if (ca == NULL || ca_key == NULL || days <= 0 || days > 36500)
		return ERR_INVAL;
	if (!pki_key_matches_cert(ca_key, ca))
		return ERR_MISMATCH;
	m = xcalloc(1, sizeof(*m));
	if ((r = sigalg_of(ca_key->pk, m->sigalg, &m->sigalg_len)) != 0)
		goto out;
	r = ERR_CRYPTO;
	/* signature algorithm, issuer, validity: the same for every leaf */
	der_put(&mid, m->sigalg, m->sigalg_len);
	if (der_name(&mid, X509_get_subject_name(ca->x)) != 0 ||
	    (nb = X509_time_adj_ex(NULL, 0, -LEAF_SKEW_SECS, &now)) == NULL ||
	    (na = X509_time_adj_ex(NULL, days, 0, &now)) == NULL ||
	    der_time(&val, nb) != 0 || der_time(&val, na) != 0)
		goto out;
	der_tlv(&mid, 0x30, val.p, val.len);
	/* the extensions before the key identifiers, as make_leaf adds them */
	if (add_ext_der(&ex, NID_basic_constraints, "CA:FALSE") != 0 ||
	    add_ext_der(&ex, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext_der(&ex, NID_ext_key_usage, "clientAuth") != 0)
		goto out;
	/* authorityKeyIdentifier: SEQUENCE { [0] keyid } in an extension */
	if (ca_keyid(ca->x, kid, &klen) != 0)
		goto out;
	val.len = 0;
	der_tlv(&val, 0x80, kid, klen);
	der_tlv(&ak, 0x30, val.p, val.len);
	val.len = 0;
	der_put(&val, "\x06\x03\x55\x1d\x23", 5);
	der_tlv(&val, 0x04, ak.p, ak.len);
	der_tlv(&t, 0x30, val.p, val.len);
	if (!EVP_PKEY_up_ref(ca_key->pk))
		goto out;
	m->ca_pk = ca_key->pk;
	m->mid = mid.p, m->mid_len = mid.len, mid.p = NULL;
	m->exts = ex.p, m->exts_len = ex.len, ex.p = NULL;
	m->akid = t.p, m->akid_len = t.len, t.p = NULL;
	*out = m;
	m = NULL;
	r = 0;
 out:
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	free(mid.p);
	free(val.p);
	free(ex.p);
	free(ak.p);
	free(t.p);
	pki_leafmaker_free(m);
	return r;
}

void
pki_leafmaker_free(struct pki_leafmaker *m)
{
	if (m == NULL)
		return;
	EVP_PKEY_free(m->ca_pk);
	free(m->mid);
	free(m->exts);
	free(m->akid);
	free(m);
}

/* SubjectPublicKeyInfo of an EC key, and its point (for the SKID). */
static int
ec_spki(EVP_PKEY *pk, struct der *d, unsigned char pt[97], size_t *ptlen)
{
	unsigned char alg[32], bits[128];
	const unsigned char *oid;
	size_t oidlen, fl, o = 0;
	struct der in = { 0 };
	int r;

	if ((r = pki_ec_point(pk, &oid, &oidlen, &fl, pt, ptlen)) != 0)
		return r;
	memcpy(alg, pki_der_id_ec, sizeof(pki_der_id_ec));
	memcpy(alg + sizeof(pki_der_id_ec), oid, oidlen);
	bits[o++] = 0x00;		/* no unused bits */
	memcpy(bits + o, pt, *ptlen);
	o += *ptlen;
	der_tlv(&in, 0x30, alg, sizeof(pki_der_id_ec) + oidlen);
	der_tlv(&in, 0x03, bits, o);
	der_tlv(d, 0x30, in.p, in.len);
	free(in.p);
	return 0;
}

/* A positive serial of 159 random bits, minimally encoded. */
static int
put_serial(struct der *d)
{
	unsigned char s[LEAF_SERIAL_LEN + 1];
	size_t i;

	do {
		if (RAND_bytes(s + 1, LEAF_SERIAL_LEN) != 1)
			return ERR_CRYPTO;
		s[1] &= 0x7f;
		for (i = 1; i < sizeof(s) && s[i] == 0; i++)
			;
	} while (i == sizeof(s));
	/* a leading 0x00 when the first byte would read as negative */
	if (s[i] & 0x80)
		s[--i] = 0x00;
	der_tlv(d, 0x02, s + i, sizeof(s) - i);
	return 0;
}

int
pki_leafmaker_pem(const struct pki_leafmaker *m,
    const struct pki_key *leaf_key, const char *subject, char **pem,
    size_t *len)
{
	struct der tbs = { 0 }, body = { 0 }, cert = { 0 }, sk = { 0 };
	struct der ext = { 0 };
	unsigned char pt[97], md[SHA256_DIGEST_LENGTH], *sig = NULL;
	unsigned char kid[LEAF_KEYID_LEN + 2];
	X509_NAME *name = NULL;
	EVP_PKEY_CTX *pc = NULL;
	size_t ptlen = 0, siglen = 0;
	int r;

	*pem = NULL;
	*len = 0;
	if (m == NULL || leaf_key == NULL)
		return ERR_INVAL;
	/* version 3, serial, the shared middle, subject, key */
	der_put(&body, "\xa0\x03\x02\x01\x02", 5);
	if ((r = put_serial(&body)) != 0)
		goto out;
	der_put(&body, m->mid, m->mid_len);
	if ((r = pki_subject_parse(subject, &name)) != 0 ||
	    (r = der_name(&body, name)) != 0)
		goto out;
	if ((r = ec_spki(leaf_key->pk, &body, pt, &ptlen)) != 0) {
		r = r > 0 ? ERR_INVAL : r;	/* not EC: not for here */
		goto out;
	}
	/* extensions: the shared three, SKID (SHA-256 of the point), AKID */
	SHA256(pt, ptlen, md);
	kid[0] = 0x04;
	kid[1] = LEAF_KEYID_LEN;
	memcpy(kid + 2, md, LEAF_KEYID_LEN);
	der_put(&sk, "\x06\x03\x55\x1d\x0e", 5);
	der_tlv(&sk, 0x04, kid, sizeof(kid));
	der_put(&ext, m->exts, m->exts_len);
	der_tlv(&ext, 0x30, sk.p, sk.len);
	der_put(&ext, m->akid, m->akid_len);
	sk.len = 0;
	der_tlv(&sk, 0x30, ext.p, ext.len);
	der_tlv(&body, 0xa3, sk.p, sk.len);
	der_tlv(&tbs, 0x30, body.p, body.len);
	/* signed by the CA: SHA-256, then the key's own signature scheme */
	SHA256(tbs.p, tbs.len, md);
	r = ERR_CRYPTO;
	if ((pc = EVP_PKEY_CTX_new_from_pkey(NULL, m->ca_pk, NULL)) == NULL ||
	    EVP_PKEY_sign_init(pc) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(pc, pki_md_sha256()) <= 0 ||
	    (EVP_PKEY_get_base_id(m->ca_pk) == EVP_PKEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) <= 0) ||
	    EVP_PKEY_sign(pc, NULL, &siglen, md, sizeof(md)) <= 0)
		goto out;
	/* the BIT STRING's unused-bits byte, then room for siglen bytes */
	sig = xmalloc(1 + siglen);
	if (EVP_PKEY_sign(pc, sig + 1, &siglen, md, sizeof(md)) <= 0)
		goto out;
	sig[0] = 0x00;
	der_put(&cert, tbs.p, tbs.len);
	der_put(&cert, m->sigalg, m->sigalg_len);
	der_tlv(&cert, 0x03, sig, siglen + 1);
	free(body.p);
	body.p = NULL;
	body.len = body.cap = 0;
	der_tlv(&body, 0x30, cert.p, cert.len);
	*pem = pki_pem_armour("CERTIFICATE", body.p, body.len, len);
	r = 0;
 out:
	EVP_PKEY_CTX_free(pc);
	X509_NAME_free(name);
	free(sig);
	free(tbs.p);
	free(body.p);
	free(cert.p);
	free(sk.p);
	free(ext.p);
	return r;
}
