/*
 * pki.c: what the crypto/pki*.c files share: the module's set-up, subject
 * names, PEM buffers, digests and OpenSSL's error text.
 *
 * The rest of pki.h is by concern: keys (pki_key.c), certificates
 * (pki_cert.c), certificate requests (pki_csr.c) and CRLs (pki_crl.c).
 * Every encoding and decoding goes through OpenSSL's own functions.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "crypto/pki_internal.h"

/* Set once by pki_init() before any thread starts; read-only after. */
static EVP_MD *pki_sha256;

const EVP_MD *
pki_md_sha256(void)
{
	return pki_sha256 != NULL ? pki_sha256 : EVP_sha256();
}

void
pki_say(char *buf, size_t len, const char *s)
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

/* ---- PEM buffers ---- */

int
pki_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

int
pki_pem_bio(const char *pem, size_t len, size_t max, BIO **b)
{
	*b = NULL;
	if (pem == NULL)
		return ERR_INVAL;
	if (len > max || len > INT_MAX)
		return ERR_TOOBIG;
	if ((*b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return ERR_CRYPTO;
	return 0;
}

int
pki_bio_copy(BIO *b, int secret, char **out, size_t *outlen)
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

int
pki_pem_end_ok(void)
{
	unsigned long e = ERR_peek_last_error();

	if (e != 0 && (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE))
		return ERR_PARSE;
	ERR_clear_error();
	return 0;
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

/* ---- digests and errors ---- */

int
pki_digest_sha256(const void *const *p, const size_t *len, size_t n,
    unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int olen = 0;
	size_t i;
	int ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, pki_md_sha256(), NULL);
	for (i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, p[i], len[i]);
	ok = ok && EVP_DigestFinal_ex(ctx, out, &olen) && olen == 32;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : ERR_CRYPTO;
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
		pki_say(buf, len, "no OpenSSL error");
	else
		ERR_error_string_n(last, buf, len);
}
