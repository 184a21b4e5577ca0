/*
 * pki_cert.c: X.509 certificates made, read and verified with OpenSSL's
 * X509 objects.
 *
 * Objects are never changed after they are built, so a CA key and
 * certificate may be shared by many signing threads.  A certificate is
 * handed out as the X509 that was signed (its extension cache filled
 * before it is shared): i2d of a signed X509 is exactly the bytes a peer
 * parses.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "crypto/pki_internal.h"

#define PKI_SERIAL_BITS	159		/* positive, at most 20 octets */
#define PKI_KEYID_LEN	20		/* RFC 7093 method 1 */
#define PKI_DNS_CHARS	\
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._*"

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

/* ---- the parts of a new certificate ---- */

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
static int
cert_body(const char *subject, const X509_NAME *issuer, EVP_PKEY *pub,
    int days, X509 **out)
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
	    !X509_set_pubkey(x, pub)) {
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
	if (!X509_pubkey_digest(x, pki_md_sha256(), md, &n) ||
	    n < PKI_KEYID_LEN || (*out = ASN1_OCTET_STRING_new()) == NULL)
		return ERR_CRYPTO;
	if (!ASN1_OCTET_STRING_set(*out, md, PKI_KEYID_LEN)) {
		ASN1_OCTET_STRING_free(*out);
		*out = NULL;
		return ERR_CRYPTO;
	}
	return 0;
}

AUTHORITY_KEYID *
pki_akid_new(X509 *issuer)
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

/*
 * SKID for x, and AKID: the extension akid (only read, so it may be shared
 * between threads), or x's own key id if akid is NULL (self-signed).
 */
static int
add_key_ids(X509 *x, X509_EXTENSION *akid)
{
	ASN1_OCTET_STRING *skid = NULL;
	AUTHORITY_KEYID *self = NULL;
	int r;

	if ((r = keyid_of(x, &skid)) != 0)
		goto out;
	r = ERR_CRYPTO;
	if (!X509_add1_ext_i2d(x, NID_subject_key_identifier, skid, 0,
	    X509V3_ADD_DEFAULT))
		goto out;
	if (akid != NULL) {
		if (!X509_add_ext(x, akid, -1))
			goto out;
	} else {
		if ((self = AUTHORITY_KEYID_new()) == NULL)
			goto out;
		self->keyid = skid;
		skid = NULL;
		if (!X509_add1_ext_i2d(x, NID_authority_key_identifier, self,
		    0, X509V3_ADD_DEFAULT))
			goto out;
	}
	r = 0;
 out:
	ASN1_OCTET_STRING_free(skid);
	AUTHORITY_KEYID_free(self);
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

/* Sign x; *out takes a new reference to it. */
static int
cert_finish(X509 *x, EVP_PKEY *signer, struct pki_cert **out)
{
	if (X509_sign(x, signer, pki_md_sha256()) <= 0 || !X509_up_ref(x))
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
	if ((r = cert_body(subject, NULL, key->pk, days, &x)) != 0)
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

/*
 * What every leaf certificate of one CA shares, made once: the CA, its
 * extensions (only read, so shared by signing threads: X509_add_ext adds
 * a copy) and a signing context (copied for each signature).
 */
struct leaf_issuer {
	X509 *ca;
	int days;
	X509_EXTENSION *bc, *ku[2], *eku[2], *akid;
	EVP_MD_CTX *sign;
};

enum { KU_EC, KU_RSA };
enum { EKU_CLIENT, EKU_SERVER };

/* An extension from its openssl.cnf text ("critical,CA:TRUE"). */
static X509_EXTENSION *
ext_new(int nid, const char *value)
{
	X509V3_CTX ctx;

	memset(&ctx, 0, sizeof(ctx));
	X509V3_set_ctx(&ctx, NULL, NULL, NULL, NULL, 0);
	return X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
}

static void
leaf_issuer_clear(struct leaf_issuer *is)
{
	X509_free(is->ca);
	X509_EXTENSION_free(is->bc);
	X509_EXTENSION_free(is->ku[KU_EC]);
	X509_EXTENSION_free(is->ku[KU_RSA]);
	X509_EXTENSION_free(is->eku[EKU_CLIENT]);
	X509_EXTENSION_free(is->eku[EKU_SERVER]);
	X509_EXTENSION_free(is->akid);
	EVP_MD_CTX_free(is->sign);
	memset(is, 0, sizeof(*is));
}

/* is for ca and ca_key (checked to match); leaf_issuer_clear after. */
static int
leaf_issuer_init(struct leaf_issuer *is, const struct pki_cert *ca,
    const struct pki_key *ca_key, int days)
{
	AUTHORITY_KEYID *akid;

	memset(is, 0, sizeof(*is));
	if (ca == NULL || ca_key == NULL || days <= 0 || days > PKI_MAX_DAYS)
		return ERR_INVAL;
	if (!pki_key_matches_cert(ca_key, ca))
		return ERR_MISMATCH;
	is->days = days;
	if (X509_up_ref(ca->x))
		is->ca = ca->x;
	is->bc = ext_new(NID_basic_constraints, "CA:FALSE");
	is->ku[KU_EC] = ext_new(NID_key_usage, "critical,digitalSignature");
	is->ku[KU_RSA] = ext_new(NID_key_usage,
	    "critical,digitalSignature,keyEncipherment");
	is->eku[EKU_CLIENT] = ext_new(NID_ext_key_usage, "clientAuth");
	is->eku[EKU_SERVER] = ext_new(NID_ext_key_usage, "serverAuth");
	if ((akid = pki_akid_new(ca->x)) != NULL)
		is->akid = X509V3_EXT_i2d(NID_authority_key_identifier, 0,
		    akid);
	AUTHORITY_KEYID_free(akid);
	if ((is->sign = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(is->sign, NULL, pki_md_sha256(), NULL,
	    ca_key->pk) != 1) {
		EVP_MD_CTX_free(is->sign);
		is->sign = NULL;
	}
	if (is->ca == NULL || is->bc == NULL || is->ku[KU_EC] == NULL ||
	    is->ku[KU_RSA] == NULL || is->eku[EKU_CLIENT] == NULL ||
	    is->eku[EKU_SERVER] == NULL || is->akid == NULL ||
	    is->sign == NULL) {
		leaf_issuer_clear(is);
		return ERR_CRYPTO;
	}
	return 0;
}

/* Sign x with a copy of is's signing context. */
static int
leaf_sign(const struct leaf_issuer *is, X509 *x)
{
	EVP_MD_CTX *ctx;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ERR_CRYPTO;
	ok = EVP_MD_CTX_copy_ex(ctx, is->sign) == 1 &&
	    X509_sign_ctx(x, ctx) > 0;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : ERR_CRYPTO;
}

/* A signed leaf certificate; *out owned by the caller (X509_free). */
static int
leaf_build(const struct leaf_issuer *is, EVP_PKEY *pub,
    enum pki_leaf_kind kind, const char *subject, const char *const *san,
    size_t nsan, X509 **out)
{
	X509_EXTENSION *ku, *eku;
	X509 *x = NULL;
	int r;

	*out = NULL;
	ku = is->ku[EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA ? KU_RSA : KU_EC];
	eku = is->eku[kind == PKI_LEAF_SERVER ? EKU_SERVER : EKU_CLIENT];
	if ((r = cert_body(subject, X509_get_subject_name(is->ca), pub,
	    is->days, &x)) != 0)
		goto out;
	r = ERR_CRYPTO;
	if (!X509_add_ext(x, is->bc, -1) || !X509_add_ext(x, ku, -1) ||
	    !X509_add_ext(x, eku, -1))
		goto out;
	if ((r = add_key_ids(x, is->akid)) != 0 ||
	    (r = add_san(x, san, nsan)) != 0 ||
	    (r = leaf_sign(is, x)) != 0)
		goto out;
	*out = x;
	x = NULL;
 out:
	X509_free(x);
	return r;
}

int
pki_cert_make_leaf(const struct pki_cert *ca, const struct pki_key *ca_key,
    const struct pki_key *leaf_key, enum pki_leaf_kind kind,
    const char *subject, const char *const *san, size_t nsan, int days,
    struct pki_cert **out)
{
	struct leaf_issuer is;
	X509 *x = NULL;
	int r;

	*out = NULL;
	if (ca == NULL || leaf_key == NULL || (nsan > 0 && san == NULL) ||
	    (kind != PKI_LEAF_SERVER && kind != PKI_LEAF_CLIENT))
		return ERR_INVAL;
	if ((r = leaf_issuer_init(&is, ca, ca_key, days)) != 0)
		return r;
	if ((r = leaf_build(&is, leaf_key->pk, kind, subject, san, nsan,
	    &x)) == 0)
		*out = pki_cert_wrap(x);
	leaf_issuer_clear(&is);
	return r;
}

/* ---- agents' client certificates in bulk ---- */

struct pki_leafmaker {
	struct leaf_issuer is;
};

int
pki_leafmaker_new(const struct pki_cert *ca, const struct pki_key *ca_key,
    int days, struct pki_leafmaker **out)
{
	struct pki_leafmaker *m = xcalloc(1, sizeof(*m));
	int r;

	*out = NULL;
	if ((r = leaf_issuer_init(&m->is, ca, ca_key, days)) != 0) {
		free(m);
		return r;
	}
	*out = m;
	return 0;
}

int
pki_leafmaker_pem(const struct pki_leafmaker *m,
    const struct pki_key *leaf_key, const char *subject, char **pem,
    size_t *len)
{
	X509 *x = NULL;
	BIO *b = NULL;
	int r;

	*pem = NULL;
	*len = 0;
	if (m == NULL || leaf_key == NULL)
		return ERR_INVAL;
	if ((r = leaf_build(&m->is, leaf_key->pk, PKI_LEAF_CLIENT, subject,
	    NULL, 0, &x)) != 0)
		return r;
	r = ERR_CRYPTO;
	if ((b = BIO_new(BIO_s_mem())) != NULL && PEM_write_bio_X509(b, x))
		r = pki_bio_copy(b, 0, pem, len);
	BIO_free(b);
	X509_free(x);
	return r;
}

void
pki_leafmaker_free(struct pki_leafmaker *m)
{
	if (m == NULL)
		return;
	leaf_issuer_clear(&m->is);
	free(m);
}

/* ---- reading, writing, comparing ---- */

int
pki_cert_from_pem(const char *pem, size_t len, struct pki_cert **out)
{
	X509 *x;
	BIO *b;
	int r;

	*out = NULL;
	if ((r = pki_pem_bio(pem, len, INT_MAX, &b)) != 0)
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
		r = pki_bio_copy(b, 0, pem, len);
	BIO_free(b);
	return r;
}

void
pki_cert_fingerprint(const struct pki_cert *cert, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int i, n = 0;

	out[0] = '\0';
	if (!X509_digest(cert->x, pki_md_sha256(), md, &n) || n != 32)
		return;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
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
pki_cert_serial(const struct pki_cert *cert, char *buf, size_t len)
{
	BIGNUM *bn;
	char *hex = NULL;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert->x), NULL);
	if (bn != NULL && (hex = BN_bn2hex(bn)) != NULL &&
	    strlen(hex) < len)
		snprintf(buf, len, "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
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

static int
store_add_crls(X509_STORE *st, const char *pem, size_t len)
{
	STACK_OF(X509_CRL) *sk;
	int i, r;

	if ((r = pki_crls_read(pem, len, &sk)) != 0)
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
	if (str_is_ip_address(host))
		return X509_VERIFY_PARAM_set1_ip_asc(vp, host);
	return X509_VERIFY_PARAM_set1_host(vp, host, 0);
}

int
pki_cert_verify(const struct pki_cert *leaf, const struct pki_cert *ca,
    const char *crl_pem, size_t crl_len, const char *host, char **msg)
{
	X509_STORE_CTX *ctx = NULL;
	X509_STORE *st = NULL;
	int r = ERR_CRYPTO;

	*msg = NULL;
	if ((st = X509_STORE_new()) == NULL ||
	    !X509_STORE_add_cert(st, ca->x))
		goto out;
	if (crl_pem != NULL && (r = store_add_crls(st, crl_pem,
	    crl_len)) != 0) {
		*msg = xstrdup("cannot read the CRLs");
		r = r == ERR_PARSE ? ERR_VERIFY : r;
		goto out;
	}
	r = ERR_CRYPTO;
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, st, leaf->x, NULL))
		goto out;
	if (host != NULL && !set_host(X509_STORE_CTX_get0_param(ctx), host)) {
		r = ERR_INVAL;
		goto out;
	}
	r = 0;
	if (X509_verify_cert(ctx) != 1) {
		r = ERR_VERIFY;
		*msg = xstrdup(X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	}
 out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
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

int
pki_pem_count_certs(const char *pem, size_t len)
{
	X509 *x;
	BIO *b;
	int n = 0, r;

	if ((r = pki_pem_bio(pem, len, INT_MAX, &b)) != 0)
		return r;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	BIO_free(b);
	r = pki_pem_end_ok();
	return r != 0 ? r : n;
}
