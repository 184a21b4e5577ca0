/*
 * pki_internal.h: what the crypto/pki*.c files share beyond pki.h.
 * Includes OpenSSL, so never include it outside crypto/.
 */
#ifndef PEMROTATE_PKI_INTERNAL_H
#define PEMROTATE_PKI_INTERNAL_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define PKI_MAX_DAYS	(100 * 366)	/* sanity bound on validity */
#define PKI_SKEW_SECS	(5 * 60)	/* notBefore/lastUpdate back-dating */

struct pki_key {
	EVP_PKEY *pk;
};

struct pki_cert {
	X509 *x;
};

/* SHA-256, fetched once by pki_init(). */
const EVP_MD *pki_md_sha256(void);

/* s into buf (cut to fit) if buf is not NULL. */
void pki_say(char *buf, size_t len, const char *s);

/* "/C=US/O=.../CN=..." into a new X509_NAME; ERR_INVAL if malformed. */
int pki_subject_parse(const char *s, X509_NAME **out);

/* A read-only memory BIO over pem (at most max bytes); 0 or an err_code. */
int pki_pem_bio(const char *pem, size_t len, size_t max, BIO **b);

/*
 * What memory BIO b holds, copied into a new NUL-terminated buffer:
 * from secret_alloc() if secret, else malloc().
 */
int pki_bio_copy(BIO *b, int secret, char **out, size_t *outlen);

/* A pem_password_cb that refuses: encrypted input is not prompted for. */
int pki_no_passphrase(char *buf, int size, int rwflag, void *u);

/* After a PEM read loop: 0 if it stopped at the end of the input. */
int pki_pem_end_ok(void);

/* Every CRL in a PEM buffer, in order; other PEM blocks are skipped. */
int pki_crls_read(const char *pem, size_t len, STACK_OF(X509_CRL) **out);

/* authorityKeyIdentifier naming issuer: its SKID, else its key's hash. */
AUTHORITY_KEYID *pki_akid_new(X509 *issuer);

/* Wrap pk, taking over the caller's reference. */
struct pki_key *pki_key_wrap(EVP_PKEY *pk);

/* Wrap x, taking over the caller's reference.  NULL if x is NULL. */
struct pki_cert *pki_cert_wrap(X509 *x);


#endif
