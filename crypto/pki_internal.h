/*
 * pki_internal.h: what crypto/ files share beyond pki.h.  Includes OpenSSL,
 * so never include it outside crypto/.
 */
#ifndef PEMROTATE_PKI_INTERNAL_H
#define PEMROTATE_PKI_INTERNAL_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct pki_key {
	EVP_PKEY *pk;
};

struct pki_cert {
	X509 *x;
};

/* SHA-256, fetched once by pki_init(). */
const EVP_MD *pki_md_sha256(void);

/* "/C=US/O=.../CN=..." into a new X509_NAME; ERR_INVAL if malformed. */
int pki_subject_parse(const char *s, X509_NAME **out);

/* A DER tag and length (len < 65536) at der + *o; its size for len. */
void pki_der_hdr(unsigned char *der, size_t *o, unsigned char tag,
    size_t len);
size_t pki_der_hlen(size_t len);

/* The id-ecPublicKey OID, DER (tag, length, value). */
extern const unsigned char pki_der_id_ec[9];

/*
 * An EC key on P-256 or P-384: 0 with its curve's OID (DER), the field
 * size in bytes and its public point (uncompressed, 2 * fl + 1 bytes).  1
 * for any other key, ERR_CRYPTO if the point cannot be read.
 */
int pki_ec_point(EVP_PKEY *pk, const unsigned char **oid, size_t *oidlen,
    size_t *fl, unsigned char pt[97], size_t *ptlen);

/* PEM armour around der (base64 in lines of 64); a new buffer. */
char *pki_pem_armour(const char *label, const unsigned char *der, size_t n,
    size_t *len);

/* Wrap x, taking over the caller's reference.  NULL if x is NULL. */
struct pki_cert *pki_cert_wrap(X509 *x);

/* 1 if s is an IPv4 or IPv6 address literal, else 0. */
int pki_is_ip_literal(const char *s);

#endif
