/*
 * pki.c: keys, certificates and CRLs made in memory with OpenSSL 3.
 *
 * Objects are never changed after they are built, so a CA key and
 * certificate may be shared by many signing threads.  Certificates are
 * re-read from their DER after signing, so the X509 a caller holds is
 * exactly what a peer will parse, with a fresh extension cache.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "crypto/pki_internal.h"

#define PKI_MAX_DAYS	(100 * 366)	/* sanity bound on validity */
#define PKI_SKEW_SECS	(5 * 60)	/* notBefore back-dating */
#define PKI_SERIAL_BITS	159		/* positive, at most 20 octets */
#define PKI_KEYID_LEN	20		/* RFC 7093 method 1 */
#define PKI_DNS_CHARS	\
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._*"

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

/* Set once by pki_init() before any thread starts; read-only after. */
static EVP_MD *pki_sha256;

static const EVP_MD *
sha256(void)
{
	return pki_sha256 != NULL ? pki_sha256 : EVP_sha256();
}

const EVP_MD *
pki_md_sha256(void)
{
	return sha256();
}

static void
say(char *buf, size_t len, const char *s)
{
	if (buf != NULL && len > 0)
		snprintf(buf, len, "%s", s);
}

int
pki_init(void)
{
	if (pki_sha256 == NULL &&
	    (pki_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL)) == NULL)
		return ERR_CRYPTO;
	return 0;
}

int
pki_secure_heap(size_t size)
{
	/* 32 bytes at least: a P-256 scalar, without waste for smaller */
	switch (CRYPTO_secure_malloc_init(size, 32)) {
	case 1:
		return 0;
	case 2:
		return ERR_PERM;	/* in use; mlock or madvise failed */
	default:
		return ERR_NOMEM;
	}
}

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

	say(buf, len, i < 0 ? "invalid" : keyspecs[i].name);
}

/* ---- keys ---- */

static struct pki_key *
key_wrap(EVP_PKEY *pk)
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
	*out = key_wrap(pk);
	return 0;
}

/* Refuse encrypted keys rather than prompt on the terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* A read-only memory BIO over pem; 0 or an err_code. */
static int
pem_bio(const char *pem, size_t len, size_t max, BIO **b)
{
	*b = NULL;
	if (pem == NULL)
		return ERR_INVAL;
	if (len > max)
		return ERR_TOOBIG;
	if ((*b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return ERR_CRYPTO;
	return 0;
}

int
pki_key_from_pem(const char *pem, size_t len, struct pki_key **out)
{
	EVP_PKEY *pk;
	BIO *b;
	int r;

	*out = NULL;
	if ((r = pem_bio(pem, len, INT_MAX, &b)) != 0)
		return r;
	pk = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	if (pk == NULL)
		return ERR_PARSE;
	*out = key_wrap(pk);
	return 0;
}

/*
 * Copy what memory BIO b holds into a new NUL-terminated buffer, from
 * secret_alloc() if secret (else malloc).
 */
static int
bio_copy(BIO *b, int secret, char **out, size_t *outlen)
{
	char *data = NULL;
	long n;

	if ((n = BIO_get_mem_data(b, &data)) <= 0 || data == NULL)
		return ERR_CRYPTO;
	*out = secret ? secret_alloc((size_t)n + 1) : xmalloc((size_t)n + 1);
	memcpy(*out, data, (size_t)n);
	(*out)[n] = '\0';
	*outlen = (size_t)n;
	return 0;
}

/* Append DER tag and length (len < 65536) at der + *o. */
void
pki_der_hdr(unsigned char *der, size_t *o, unsigned char tag, size_t len)
{
	der[(*o)++] = tag;
	if (len < 0x80) {
		der[(*o)++] = (unsigned char)len;
	} else if (len < 0x100) {
		der[(*o)++] = 0x81;
		der[(*o)++] = (unsigned char)len;
	} else {
		der[(*o)++] = 0x82;
		der[(*o)++] = (unsigned char)(len >> 8);
		der[(*o)++] = (unsigned char)len;
	}
}

/* Length of a DER header for content of len bytes. */
size_t
pki_der_hlen(size_t len)
{
	return len < 0x80 ? 2 : len < 0x100 ? 3 : 4;
}

#define EC_PKCS8_MAX	256	/* P-384: 185 bytes */

const unsigned char pki_der_id_ec[9] = { 0x06, 0x07, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x02, 0x01 };

int
pki_ec_point(EVP_PKEY *pk, const unsigned char **oid, size_t *oidlen,
    size_t *fl, unsigned char pt[97], size_t *ptlen)
{
	static const unsigned char p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48,
	    0xce, 0x3d, 0x03, 0x01, 0x07 };
	static const unsigned char p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04,
	    0x00, 0x22 };
	char curve[32];

	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
	    curve, sizeof(curve), NULL))
		return 1;
	if (strcmp(curve, "prime256v1") == 0) {
		*oid = p256, *oidlen = sizeof(p256), *fl = 32;
	} else if (strcmp(curve, "secp384r1") == 0) {
		*oid = p384, *oidlen = sizeof(p384), *fl = 48;
	} else {
		return 1;
	}
	if (!EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    2 * *fl + 1, ptlen) || *ptlen != 2 * *fl + 1 || pt[0] != 0x04)
		return ERR_CRYPTO;
	return 0;
}

/*
 * PKCS#8 PrivateKeyInfo of a P-256 or P-384 key, written directly: the
 * bytes OpenSSL's encoder writes (RFC 5915 ECPrivateKey, version 1, no
 * parameters, with the public key; the curve in the AlgorithmIdentifier),
 * without the encoder framework's ~0.8 M instructions per key.  0, a
 * negative error, or 1 for any other key (the caller uses the encoder).
 */
static int
ec_pkcs8_der(EVP_PKEY *pk, unsigned char der[EC_PKCS8_MAX], size_t *len)
{
	const unsigned char *id_ec = pki_der_id_ec, *oid;
	unsigned char priv[48], pub[97];
	size_t oidlen, fl, publen = 0, eck, oct, alg, o = 0;
	BIGNUM *d = NULL;
	int r;

	if ((r = pki_ec_point(pk, &oid, &oidlen, &fl, pub, &publen)) != 0)
		return r;
	r = ERR_CRYPTO;
	/* the scalar into a secure-heap BIGNUM, not the ordinary heap */
	if ((d = BN_secure_new()) == NULL ||
	    !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) ||
	    BN_bn2binpad(d, priv, (int)fl) != (int)fl)
		goto out;
	/* ECPrivateKey: version, privateKey, [1] { BIT STRING publicKey } */
	eck = 3 + 2 + fl + 2 + 2 + 1 + publen;
	oct = pki_der_hlen(eck) + eck;
	alg = sizeof(pki_der_id_ec) + oidlen;
	pki_der_hdr(der, &o, 0x30, 3 + pki_der_hlen(alg) + alg +
	    pki_der_hlen(oct) + oct);
	memcpy(der + o, "\x02\x01\x00", 3), o += 3;
	pki_der_hdr(der, &o, 0x30, alg);
	memcpy(der + o, id_ec, sizeof(pki_der_id_ec));
	o += sizeof(pki_der_id_ec);
	memcpy(der + o, oid, oidlen), o += oidlen;
	pki_der_hdr(der, &o, 0x04, oct);
	pki_der_hdr(der, &o, 0x30, eck);
	memcpy(der + o, "\x02\x01\x01", 3), o += 3;
	pki_der_hdr(der, &o, 0x04, fl);
	memcpy(der + o, priv, fl), o += fl;
	pki_der_hdr(der, &o, 0xa1, 2 + 1 + publen);
	pki_der_hdr(der, &o, 0x03, 1 + publen);
	der[o++] = 0x00;
	memcpy(der + o, pub, publen), o += publen;
	*len = o;
	r = 0;
 out:
	wipe(priv, sizeof(priv));
	BN_clear_free(d);
	return r;
}

/* The size of a buffer that armour() fills for label and n bytes. */
static size_t
armour_cap(const char *label, size_t n)
{
	return strlen(label) * 2 + 32 + (n + 2) / 3 * 4 + n / 48 + 2;
}

/* PEM armour around der into p (armour_cap bytes); its length. */
static size_t
armour(char *p, size_t cap, const char *label, const unsigned char *der,
    size_t n)
{
	char *q = p;
	size_t i, k;

	q += snprintf(q, cap, "-----BEGIN %s-----\n", label);
	for (i = 0; i < n; i += 48) {
		k = n - i < 48 ? n - i : 48;
		q += EVP_EncodeBlock((unsigned char *)q, der + i, (int)k);
		*q++ = '\n';
	}
	q += snprintf(q, cap - (size_t)(q - p), "-----END %s-----\n", label);
	return (size_t)(q - p);
}

/* PEM armour around der: base64 in lines of 64, as PEM_write_bio does. */
char *
pki_pem_armour(const char *label, const unsigned char *der, size_t n,
    size_t *len)
{
	size_t cap = armour_cap(label, n);
	char *p = xmalloc(cap);

	*len = armour(p, cap, label, der, n);
	return p;
}

int
pki_key_to_pem(const struct pki_key *key, char **pem, size_t *len)
{
	unsigned char der[EC_PKCS8_MAX];
	size_t dlen = 0;
	BIO *b = NULL;
	int r = ERR_CRYPTO;

	*pem = NULL;
	*len = 0;
	r = ec_pkcs8_der(key->pk, der, &dlen);
	if (r == 0) {
		*pem = secret_alloc(armour_cap("PRIVATE KEY", dlen));
		*len = armour(*pem, armour_cap("PRIVATE KEY", dlen),
		    "PRIVATE KEY", der, dlen);
	}
	wipe(der, sizeof(der));
	if (r <= 0)
		return r;
	r = ERR_CRYPTO;
	/*
	 * A secure-heap BIO (ordinary heap if pki_secure_heap() was not
	 * called): its buffer is cleansed when grown and freed.
	 */
	if ((b = BIO_new(BIO_s_secmem())) == NULL)
		goto out;
	if (!PEM_write_bio_PKCS8PrivateKey(b, key->pk, NULL, NULL, 0,
	    NULL, NULL))
		goto out;
	r = bio_copy(b, 1, pem, len);
 out:
	BIO_free(b);
	return r;
}

void
pki_secret_free(char *p, size_t len)
{
	(void)len;	/* the buffer knows its size */
	secret_free(p);
}

/*
 * c->x with its public key decoded.  A certificate made on the fast path
 * (set_pubkey) carries its key only as bytes; then a parsed copy is made
 * into *tmp (caller frees it), as a peer would see it.
 */
static X509 *
decoded(const struct pki_cert *c, X509 **tmp)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int n;

	*tmp = NULL;
	if (X509_get0_pubkey(c->x) != NULL)
		return c->x;
	ERR_clear_error();
	if ((n = i2d_X509(c->x, &der)) <= 0)
		return NULL;
	p = der;
	*tmp = d2i_X509(NULL, &p, n);
	OPENSSL_free(der);
	return *tmp;
}

int
pki_key_matches_cert(const struct pki_key *key,
    const struct pki_cert *cert)
{
	const EVP_PKEY *pub;
	X509 *x, *tmp;
	int eq = 0;

	if (key == NULL || cert == NULL || (x = decoded(cert, &tmp)) == NULL)
		return 0;
	if ((pub = X509_get0_pubkey(x)) != NULL)
		eq = EVP_PKEY_eq(key->pk, pub) == 1;
	X509_free(tmp);
	return eq;
}

/* Whether pk is of spec: RSA of that many bits, or EC on that curve. */
static int
key_is_spec(EVP_PKEY *pk, const struct pki_keyspec *spec)
{
	char group[64];
	size_t glen = 0;
	int nid;

	if (spec->alg == PKI_ALG_RSA)
		return EVP_PKEY_is_a(pk, "RSA") &&
		    EVP_PKEY_get_bits(pk) == spec->bits;
	if (!EVP_PKEY_is_a(pk, "EC") ||
	    !EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen))
		return 0;
	nid = EC_curve_nist2nid(spec->curve);
	return nid != NID_undef && strcmp(group, OBJ_nid2sn(nid)) == 0;
}

int
pki_csr_public_key(const char *pem, size_t len,
    const struct pki_keyspec *spec, struct pki_key **pub)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pk;
	BIO *b;
	int r;

	*pub = NULL;
	if ((r = pem_bio(pem, len, 64 * 1024, &b)) != 0)
		return r;
	req = PEM_read_bio_X509_REQ(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	r = ERR_PARSE;
	if (req == NULL || (pk = X509_REQ_get0_pubkey(req)) == NULL)
		goto out;
	r = ERR_VERIFY;
	if (X509_REQ_verify(req, pk) != 1)
		goto out;
	r = ERR_MISMATCH;
	if (!key_is_spec(pk, spec))
		goto out;
	EVP_PKEY_up_ref(pk);
	*pub = key_wrap(pk);
	r = 0;
 out:
	X509_REQ_free(req);
	ERR_clear_error();
	return r;
}

struct pki_ed25519 {
	EVP_PKEY *pk;
	EVP_MD_CTX *proto;	/* initialised once; copied for each signature */
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

void
pki_key_free(struct pki_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pk);	/* clears the private numbers */
	freezero(key, sizeof(*key));
}

/* ---- subjects ---- */

const char *
pki_default_ca_subject(void)
{
	return "/C=US/ST=MA/L=Bedford/O=EnterpriseDB Corporation"
	    "/OU=Postgres Enterprise Manager/CN=PEM"
	    "/emailAddress=support@enterprisedb.com";
}

/*
 * Cut the next "name=value" off *pp (after its leading '/'), unescaping
 * the value in place.  *more is set if another '/' follows.
 */
static int
subject_next(char **pp, char **name, char **val, int *more)
{
	char *p = *pp, *w;

	*name = p;
	p += strcspn(p, "=/");
	if (*p != '=' || p == *name)
		return ERR_INVAL;
	*p++ = '\0';
	for (*val = w = p; *p != '\0' && *p != '/'; p++) {
		if (*p == '\\' && *++p == '\0')
			return ERR_INVAL;
		*w++ = *p;
	}
	*more = *p == '/';
	*w = '\0';
	*pp = p + *more;
	return **val == '\0' ? ERR_INVAL : 0;
}

int
pki_subject_parse(const char *s, X509_NAME **out)
{
	X509_NAME *n = NULL;
	char *buf = NULL, *p, *name, *val;
	int nid, more = 1, r = ERR_INVAL;

	*out = NULL;
	if (s == NULL || *s != '/')
		return ERR_INVAL;
	p = buf = xstrdup(s + 1);
	if ((n = X509_NAME_new()) == NULL) {
		r = ERR_CRYPTO;
		goto out;
	}
	while (more) {
		if ((r = subject_next(&p, &name, &val, &more)) != 0)
			goto out;
		r = ERR_INVAL;
		if ((nid = OBJ_txt2nid(name)) == NID_undef ||
		    !X509_NAME_add_entry_by_NID(n, nid, MBSTRING_UTF8,
		    (const unsigned char *)val, -1, -1, 0))
			goto out;
	}
	*out = n;
	n = NULL;
	r = 0;
 out:
	X509_NAME_free(n);
	free(buf);
	return r;
}

/* ---- certificates ---- */

struct pki_cert *
pki_cert_wrap(X509 *x)
{
	struct pki_cert *c;

	if (x == NULL)
		return NULL;
	/* Fill the extension cache now, while x is not yet shared. */
	(void)X509_check_purpose(x, -1, 0);
	c = xmalloc(sizeof(*c));
	c->x = x;
	return c;
}

int
pki_is_ip_literal(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

static int
set_random_serial(X509 *x)
{
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn;
	int r = ERR_CRYPTO;

	if ((bn = BN_new()) == NULL)
		goto out;
	do {
		if (!BN_rand(bn, PKI_SERIAL_BITS, BN_RAND_TOP_ANY,
		    BN_RAND_BOTTOM_ANY))
			goto out;
	} while (BN_is_zero(bn));
	if ((ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, ai))
		goto out;
	r = 0;
 out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

/* A v3 body: serial, names, validity, public key.  issuer NULL: self. */
/*
 * The certificate's public key.  For EC keys the SubjectPublicKeyInfo is
 * written from the key's point and curve directly: X509_set_pubkey goes
 * through OpenSSL 3's encoder framework, which costs more than signing.
 */
static int
set_pubkey(X509 *x, EVP_PKEY *pk)
{
	unsigned char pt[160], *copy;
	char group[64];
	size_t glen = 0, len = 0;
	int nid;

	if (!EVP_PKEY_is_a(pk, "EC") ||
	    !EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) ||
	    (nid = OBJ_sn2nid(group)) == NID_undef ||
	    !EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt), &len) || len == 0)
		return X509_set_pubkey(x, pk);
	if ((copy = OPENSSL_memdup(pt, len)) == NULL)
		return 0;
	if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x),
	    OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
	    OBJ_nid2obj(nid), copy, (int)len)) {
		OPENSSL_free(copy);
		return 0;
	}
	return 1;
}

static int
cert_body(const char *subject, const X509_NAME *issuer, EVP_PKEY *pub,
    int days, int fast, X509 **out)
{
	X509_NAME *subj = NULL;
	X509 *x = NULL;
	time_t now = time(NULL);
	int r;

	*out = NULL;
	if (days <= 0 || days > PKI_MAX_DAYS)
		return ERR_INVAL;
	if ((r = pki_subject_parse(subject, &subj)) != 0)
		goto out;
	r = ERR_CRYPTO;
	if ((x = X509_new()) == NULL ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    (r = set_random_serial(x)) != 0 ||
	    !X509_set_subject_name(x, subj) ||
	    !X509_set_issuer_name(x, issuer != NULL ? issuer : subj) ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, -PKI_SKEW_SECS,
	    &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &now) ||
	    !(fast ? set_pubkey(x, pub) : X509_set_pubkey(x, pub))) {
		r = r != 0 ? r : ERR_CRYPTO;
		goto out;
	}
	*out = x;
	x = NULL;
 out:
	X509_free(x);
	X509_NAME_free(subj);
	return r;
}

/* An extension written the way openssl.cnf would ("critical,CA:TRUE"). */
static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	memset(&ctx, 0, sizeof(ctx));
	X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value)) == NULL)
		return ERR_CRYPTO;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : ERR_CRYPTO;
}

/* Key id: the leftmost 160 bits of SHA-256(subjectPublicKey). */
static int
keyid_of(const X509 *x, ASN1_OCTET_STRING **out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	*out = NULL;
	if (!X509_pubkey_digest(x, sha256(), md, &n) || n < PKI_KEYID_LEN ||
	    (*out = ASN1_OCTET_STRING_new()) == NULL)
		return ERR_CRYPTO;
	if (!ASN1_OCTET_STRING_set(*out, md, PKI_KEYID_LEN)) {
		ASN1_OCTET_STRING_free(*out);
		*out = NULL;
		return ERR_CRYPTO;
	}
	return 0;
}

/* authorityKeyIdentifier naming issuer: its SKID, else its key's hash. */
static AUTHORITY_KEYID *
akid_new(X509 *issuer)
{
	AUTHORITY_KEYID *akid;
	const ASN1_OCTET_STRING *kid;

	if ((akid = AUTHORITY_KEYID_new()) == NULL)
		return NULL;
	if ((kid = X509_get0_subject_key_id(issuer)) != NULL)
		akid->keyid = ASN1_OCTET_STRING_dup(kid);
	else
		(void)keyid_of(issuer, &akid->keyid);
	if (akid->keyid == NULL) {
		AUTHORITY_KEYID_free(akid);
		return NULL;
	}
	return akid;
}

/* SKID for x, and AKID naming issuer (x itself if issuer is NULL). */
static int
add_key_ids(X509 *x, X509 *issuer)
{
	ASN1_OCTET_STRING *skid = NULL;
	AUTHORITY_KEYID *akid = NULL;
	int r;

	if ((r = keyid_of(x, &skid)) != 0)
		goto out;
	r = ERR_CRYPTO;
	if (!X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0,
	    X509V3_ADD_DEFAULT))
		goto out;
	if (issuer != NULL)
		akid = akid_new(issuer);
	else if ((akid = AUTHORITY_KEYID_new()) != NULL) {
		akid->keyid = skid;
		skid = NULL;
	}
	if (akid == NULL || !X509_add1_ext_i2d(x,
	    NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT))
		goto out;
	r = 0;
 out:
	ASN1_OCTET_STRING_free(skid);
	AUTHORITY_KEYID_free(akid);
	return r;
}

static int
dns_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 253 && strspn(s, PKI_DNS_CHARS) == n;
}

/* One subjectAltName entry: IP if s is an address literal, else DNS. */
static int
san_entry(const char *s, GENERAL_NAME **out)
{
	unsigned char ip[16];
	const void *data = s;
	int dlen = -1, type = GEN_DNS;
	ASN1_STRING *v;

	*out = NULL;
	if (inet_pton(AF_INET, s, ip) == 1)
		dlen = 4;
	else if (inet_pton(AF_INET6, s, ip) == 1)
		dlen = 16;
	else if (!dns_name_ok(s))
		return ERR_INVAL;
	if (dlen > 0) {
		data = ip;
		type = GEN_IPADD;
	}
	v = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
	if (v == NULL || !ASN1_STRING_set(v, data, dlen) ||
	    (*out = GENERAL_NAME_new()) == NULL) {
		ASN1_STRING_free(v);
		return ERR_CRYPTO;
	}
	GENERAL_NAME_set0_value(*out, type, v);
	return 0;
}

static int
add_san(X509 *x, const char *const *san, size_t nsan)
{
	GENERAL_NAMES *gens;
	GENERAL_NAME *gn;
	size_t i;
	int r = 0;

	if (nsan == 0)
		return 0;
	if ((gens = GENERAL_NAMES_new()) == NULL)
		return ERR_CRYPTO;
	for (i = 0; i < nsan && r == 0; i++) {
		if (san[i] == NULL)
			r = ERR_INVAL;
		else if ((r = san_entry(san[i], &gn)) == 0 &&
		    !sk_GENERAL_NAME_push(gens, gn)) {
			GENERAL_NAME_free(gn);
			r = ERR_CRYPTO;
		}
	}
	if (r == 0 && !X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT))
		r = ERR_CRYPTO;
	GENERAL_NAMES_free(gens);
	return r;
}

/* Sign x and re-read it from its DER. */
static int
cert_finish(X509 *x, EVP_PKEY *signer, struct pki_cert **out)
{
	/*
	 * The signed object is handed out as it is (the caller keeps its own
	 * reference): encoding and parsing it again, to start from exactly
	 * the bytes a peer sees, cost more than the signature itself
	 * (OpenSSL 3 decoders), and i2d of a signed X509 is those bytes.
	 */
	if (X509_sign(x, signer, sha256()) <= 0 || !X509_up_ref(x))
		return ERR_CRYPTO;
	*out = pki_cert_wrap(x);
	return 0;
}

int
pki_cert_make_ca(const struct pki_key *key, const char *subject,
    int days, struct pki_cert **out)
{
	X509 *x = NULL;
	int r;

	*out = NULL;
	if (key == NULL)
		return ERR_INVAL;
	if ((r = cert_body(subject, NULL, key->pk, days, 0, &x)) != 0)
		goto out;
	if ((r = add_ext(x, NID_basic_constraints, "critical,CA:TRUE")) != 0 ||
	    (r = add_ext(x, NID_key_usage,
	    "critical,keyCertSign,cRLSign")) != 0 ||
	    (r = add_key_ids(x, NULL)) != 0)
		goto out;
	r = cert_finish(x, key->pk, out);
 out:
	X509_free(x);
	return r;
}

static const char *
leaf_key_usage(const struct pki_key *key)
{
	if (EVP_PKEY_get_base_id(key->pk) == EVP_PKEY_RSA)
		return "critical,digitalSignature,keyEncipherment";
	return "critical,digitalSignature";
}

int
pki_cert_make_leaf(const struct pki_cert *ca, const struct pki_key *ca_key,
    const struct pki_key *leaf_key, enum pki_leaf_kind kind,
    const char *subject, const char *const *san, size_t nsan, int days,
    struct pki_cert **out)
{
	X509 *x = NULL;
	int r;

	*out = NULL;
	if (ca == NULL || leaf_key == NULL || (nsan > 0 && san == NULL) ||
	    (kind != PKI_LEAF_SERVER && kind != PKI_LEAF_CLIENT))
		return ERR_INVAL;
	if (!pki_key_matches_cert(ca_key, ca))
		return ERR_MISMATCH;
	/* agents' certificates, made by the thousand, take the fast path */
	if ((r = cert_body(subject, X509_get_subject_name(ca->x),
	    leaf_key->pk, days, kind == PKI_LEAF_CLIENT, &x)) != 0)
		goto out;
	if ((r = add_ext(x, NID_basic_constraints, "CA:FALSE")) != 0 ||
	    (r = add_ext(x, NID_key_usage, leaf_key_usage(leaf_key))) != 0 ||
	    (r = add_ext(x, NID_ext_key_usage, kind == PKI_LEAF_SERVER ?
	    "serverAuth" : "clientAuth")) != 0 ||
	    (r = add_key_ids(x, ca->x)) != 0 ||
	    (r = add_san(x, san, nsan)) != 0)
		goto out;
	r = cert_finish(x, ca_key->pk, out);
 out:
	X509_free(x);
	return r;
}

int
pki_cert_from_pem(const char *pem, size_t len, struct pki_cert **out)
{
	X509 *x;
	BIO *b;
	int r;

	*out = NULL;
	if ((r = pem_bio(pem, len, INT_MAX, &b)) != 0)
		return r;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL)
		return ERR_PARSE;
	*out = pki_cert_wrap(x);
	return 0;
}

int
pki_cert_to_pem(const struct pki_cert *cert, char **pem, size_t *len)
{
	BIO *b;
	int r = ERR_CRYPTO;

	*pem = NULL;
	*len = 0;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return ERR_CRYPTO;
	if (PEM_write_bio_X509(b, cert->x))
		r = bio_copy(b, 0, pem, len);
	BIO_free(b);
	return r;
}

void
pki_cert_fingerprint(const struct pki_cert *cert, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int i, n = 0;

	out[0] = '\0';
	if (!X509_digest(cert->x, sha256(), md, &n) || n != 32)
		return;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int
pki_digest_sha256(const void *const *p, const size_t *len, size_t n,
    unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int olen = 0;
	size_t i;
	int ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, sha256(), NULL);
	for (i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, p[i], len[i]);
	ok = ok && EVP_DigestFinal_ex(ctx, out, &olen) && olen == 32;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : ERR_CRYPTO;
}

void
pki_cert_subject(const struct pki_cert *cert, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return;
	if (X509_NAME_oneline(X509_get_subject_name(cert->x), buf,
	    len > INT_MAX ? INT_MAX : (int)len) == NULL)
		buf[0] = '\0';
}

void
pki_cert_cn(const struct pki_cert *cert, char *buf, size_t len)
{
	if (buf == NULL || len == 0)
		return;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert->x),
	    NID_commonName, buf, len > INT_MAX ? INT_MAX : (int)len) < 0)
		buf[0] = '\0';
}

time_t
pki_cert_not_after(const struct pki_cert *cert)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!ASN1_TIME_to_tm(X509_get0_notAfter(cert->x), &tm))
		return 0;
	return timegm(&tm);
}

int
pki_cert_equal(const struct pki_cert *a, const struct pki_cert *b)
{
	unsigned char *da = NULL, *db = NULL;
	int na, nb, eq;

	if (a == NULL || b == NULL)
		return 0;
	na = i2d_X509(a->x, &da);
	nb = i2d_X509(b->x, &db);
	eq = na > 0 && na == nb && memcmp(da, db, (size_t)na) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	return eq;
}

/* After a PEM read loop: 0 if it stopped at the end of the input. */
static int
pem_end_ok(void)
{
	unsigned long e = ERR_peek_last_error();

	if (e != 0 && (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE))
		return ERR_PARSE;
	ERR_clear_error();
	return 0;
}

/* Every CRL in a PEM buffer, in order; other PEM blocks are skipped. */
static int
crls_read(const char *pem, size_t len, STACK_OF(X509_CRL) **out)
{
	STACK_OF(X509_CRL) *sk = NULL;
	X509_CRL *crl;
	BIO *b = NULL;
	int r = ERR_CRYPTO;

	*out = NULL;
	if (pem == NULL)
		return ERR_INVAL;
	if (len > INT_MAX)
		return ERR_TOOBIG;
	if ((sk = sk_X509_CRL_new_null()) == NULL ||
	    (b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		goto out;
	while ((crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_CRL_push(sk, crl)) {
			X509_CRL_free(crl);
			goto out;
		}
	}
	if ((r = pem_end_ok()) != 0)
		goto out;
	*out = sk;
	sk = NULL;
 out:
	BIO_free(b);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return r;
}

static int
store_add_crls(X509_STORE *st, const char *pem, size_t len)
{
	STACK_OF(X509_CRL) *sk;
	int i, r;

	if ((r = crls_read(pem, len, &sk)) != 0)
		return r;
	for (i = 0; i < sk_X509_CRL_num(sk) && r == 0; i++)
		if (!X509_STORE_add_crl(st, sk_X509_CRL_value(sk, i)))
			r = ERR_CRYPTO;
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	if (r == 0 && !X509_STORE_set_flags(st,
	    X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL))
		r = ERR_CRYPTO;
	return r;
}

static int
set_host(X509_VERIFY_PARAM *vp, const char *host)
{
	if (pki_is_ip_literal(host))
		return X509_VERIFY_PARAM_set1_ip_asc(vp, host);
	return X509_VERIFY_PARAM_set1_host(vp, host, 0);
}

int
pki_cert_verify(const struct pki_cert *leaf, const struct pki_cert *ca,
    const char *crl_pem, size_t crl_len, const char *host,
    char *why, size_t whylen)
{
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *st = NULL;
	X509 *x, *tmp = NULL;
	int r = ERR_CRYPTO;

	say(why, whylen, "");
	if ((st = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(st, ca->x))
		goto out;
	if (crl_pem != NULL && (r = store_add_crls(st, crl_pem,
	    crl_len)) != 0) {
		say(why, whylen, "cannot read the CRLs");
		r = r == ERR_PARSE ? ERR_VERIFY : r;
		goto out;
	}
	r = ERR_CRYPTO;
	if ((x = decoded(leaf, &tmp)) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, st, x, NULL))
		goto out;
	if (host != NULL && !set_host(X509_STORE_CTX_get0_param(ctx), host)) {
		r = ERR_INVAL;
		goto out;
	}
	r = 0;
	if (X509_verify_cert(ctx) != 1) {
		r = ERR_VERIFY;
		say(why, whylen, X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	}
 out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_free(tmp);
	return r;
}

struct pki_cert *
pki_cert_dup(const struct pki_cert *cert)
{
	if (cert == NULL || !X509_up_ref(cert->x))
		return NULL;
	return pki_cert_wrap(cert->x);
}

void
pki_cert_free(struct pki_cert *cert)
{
	if (cert == NULL)
		return;
	X509_free(cert->x);
	free(cert);
}

/* ---- CRLs ---- */

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

	if ((r = crls_read(pem, len, &old)) != 0)
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
	    (last = ASN1_TIME_adj(NULL, now, 0, -300)) == NULL ||
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
	akid = akid_new(ca->x);
	ok = ai != NULL && akid != NULL &&
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, ai, 0, 0) &&
	    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid,
	    0, 0) &&
	    X509_CRL_sort(crl) &&
	    X509_CRL_sign(crl, ca_key->pk, sha256()) > 0;
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
		r = bio_copy(b, 0, pem, len);
	BIO_free(b);
	return r;
}

int
pki_crl_make(const struct pki_cert *ca, const struct pki_key *ca_key,
    int days, const char *revoked_from, size_t revoked_len,
    char **pem, size_t *len)
{
	X509_CRL *crl = NULL;
	BIGNUM *num = NULL;
	time_t now = time(NULL);
	int r;

	*pem = NULL;
	*len = 0;
	if (ca == NULL || days <= 0 || days > PKI_MAX_DAYS)
		return ERR_INVAL;
	if (!pki_key_matches_cert(ca_key, ca))
		return ERR_MISMATCH;
	if ((r = crl_body(ca, days, now, &crl)) != 0)
		goto out;
	r = ERR_CRYPTO;
	if ((num = BN_new()) == NULL || !BN_set_word(num, (BN_ULONG)now))
		goto out;
	if (revoked_from != NULL && (r = crl_carry(crl, ca, revoked_from,
	    revoked_len, num)) != 0)
		goto out;
	if ((r = crl_finish(crl, ca, ca_key, num)) != 0)
		goto out;
	r = crl_to_pem(crl, pem, len);
 out:
	X509_CRL_free(crl);
	BN_free(num);
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
	if ((r = crls_read(pem, len, &sk)) != 0)
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
	r = n > 0 ? bio_copy(b, 0, out, outlen) : ERR_NOTFOUND;
 out:
	BIO_free(b);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return r;
}

int
pki_pem_count_certs(const char *pem, size_t len)
{
	X509 *x;
	BIO *b;
	int n = 0, r;

	if (pem == NULL)
		return ERR_INVAL;
	if (len > INT_MAX)
		return ERR_TOOBIG;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return ERR_CRYPTO;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	BIO_free(b);
	r = pem_end_ok();
	return r != 0 ? r : n;
}

int
pki_pem_count_crls(const char *pem, size_t len)
{
	STACK_OF(X509_CRL) *sk;
	int n, r;

	if ((r = crls_read(pem, len, &sk)) != 0)
		return r;
	n = sk_X509_CRL_num(sk);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	return n;
}

void
pki_last_error(char *buf, size_t len)
{
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (buf == NULL || len == 0)
		return;
	if (last == 0)
		say(buf, len, "no OpenSSL error");
	else
		ERR_error_string_n(last, buf, len);
}
