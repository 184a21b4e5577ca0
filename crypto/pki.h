/*
 * pki.h: keys, certificates and CRLs for a PEM estate, made in memory.
 *
 * Only crypto/ includes OpenSSL, and every encoding goes through it.
 * Every object is opaque.  Private keys exist only inside struct pki_key
 * (OpenSSL's secure heap, see pki_secure_heap) and in buffers returned by
 * pki_key_to_pem() (pages of their own, see secret_alloc), which the
 * caller must release with pki_secret_free().
 * All functions are safe to call from several threads at once on distinct
 * objects; a const object (a CA key and certificate) may be shared by many
 * signing threads.
 */
#ifndef PEMROTATE_PKI_H
#define PEMROTATE_PKI_H

#include <stddef.h>
#include <time.h>

struct pki_key;		/* a private key (and its public half) */
struct pki_cert;	/* an X.509 certificate */

enum pki_alg { PKI_ALG_RSA = 1, PKI_ALG_EC = 2 };

struct pki_keyspec {
	enum pki_alg alg;
	int bits;		/* RSA: 2048, 3072 or 4096 */
	char curve[16];		/* EC: "P-256" or "P-384" */
};

/* Parse "rsa:2048|3072|4096" or "ec:P-256|P-384".  0 or ERR_INVAL. */
int pki_keyspec_parse(const char *s, struct pki_keyspec *out);
/* Write the canonical text of spec ("rsa:4096") into buf. */
void pki_keyspec_str(const struct pki_keyspec *spec, char *buf, size_t len);

/* Call once from main before any thread uses this module. */
int pki_init(void);
/*
 * Give OpenSSL a secure heap of size bytes (a power of two) for private
 * keys (CRYPTO_secure_malloc_init): locked in memory and left out of core
 * dumps.  Call once, before any key exists and before other threads use
 * OpenSSL.  0; ERR_PERM if the heap works but could not be locked
 * (RLIMIT_MEMLOCK) or kept out of dumps; ERR_NOMEM if there is none (keys
 * then live on the ordinary heap, cleansed when freed).  Once the heap is
 * full, making a key fails: size it for every key alive at once.
 */
int pki_secure_heap(size_t size);

/* ---- keys ---- */

/* Generate a new key.  *out owned by caller (pki_key_free). */
int pki_key_generate(const struct pki_keyspec *spec, struct pki_key **out);
/* Load a PEM private key (PKCS#8 or traditional, unencrypted). */
int pki_key_from_pem(const char *pem, size_t len, struct pki_key **out);
/*
 * Encode as unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY").  *pem is a
 * NUL-terminated secret of *len bytes (NUL not counted) from
 * secret_alloc(): release it with pki_secret_free(*pem, *len), never
 * free().
 */
int pki_key_to_pem(const struct pki_key *key, char **pem, size_t *len);
/* Wipe and free a buffer from pki_key_to_pem(); accepts NULL. */
void pki_secret_free(char *p, size_t len);
/* 1 if cert's public key is key's public half, else 0. */
int pki_key_matches_cert(const struct pki_key *key,
    const struct pki_cert *cert);
/* Wipes and frees; accepts NULL. */
void pki_key_free(struct pki_key *key);

/*
 * The public key of a PEM certificate request that came from a remote host
 * (untrusted): at most 64 KiB, its self-signature must verify, and its key
 * must be of spec (algorithm and size or curve).  The request's subject
 * and extensions are ignored: the caller decides what to certify.  *pub
 * holds only a public key, usable as leaf_key of pki_cert_make_leaf().
 * ERR_PARSE, ERR_VERIFY, ERR_MISMATCH or ERR_TOOBIG.
 */
int pki_csr_public_key(const char *pem, size_t len,
    const struct pki_keyspec *spec, struct pki_key **pub);

/* ---- an Ed25519 signing key (the SSH user key, loaded once) ---- */

struct pki_ed25519;

/* From its 32-byte seed (the caller wipes the seed afterwards). */
int pki_ed25519_new(const unsigned char seed[32], struct pki_ed25519 **out);
/* Sign data: 64 raw bytes.  Safe from many threads on one key. */
int pki_ed25519_sign(const struct pki_ed25519 *k, const unsigned char *data,
    size_t len, unsigned char sig[64]);
void pki_ed25519_free(struct pki_ed25519 *k);

/* ---- certificates ---- */

/*
 * Subjects are written in OpenSSL's one-line form with '/' separators,
 * e.g. "/C=US/ST=MA/L=Bedford/O=EnterpriseDB Corporation/CN=PEM".
 * A value containing '/' may escape it as "\/".  ERR_INVAL if malformed.
 */

/* The default CA subject (PEM installer's fields).  Static string. */
const char *pki_default_ca_subject(void);

/*
 * A self-signed CA: X.509 v3, SHA-256, random positive 159-bit serial,
 * notBefore = now - 5 minutes (clock skew), notAfter = now + days,
 * basicConstraints=critical,CA:TRUE, keyUsage=critical,keyCertSign,cRLSign,
 * subjectKeyIdentifier, authorityKeyIdentifier.
 */
int pki_cert_make_ca(const struct pki_key *key, const char *subject,
    int days, struct pki_cert **out);

enum pki_leaf_kind { PKI_LEAF_SERVER = 1, PKI_LEAF_CLIENT = 2 };

/*
 * A leaf certificate for leaf_key signed by ca/ca_key: v3, SHA-256, random
 * serial, basicConstraints=CA:FALSE, keyUsage=critical,digitalSignature
 * (+keyEncipherment for RSA), extendedKeyUsage serverAuth or clientAuth,
 * subject and authority key identifiers.  subject as above.  san: n
 * entries, each a host name or an IPv4/IPv6 address literal (detected),
 * written as subjectAltName DNS:/IP: entries; n may be 0.
 */
int pki_cert_make_leaf(const struct pki_cert *ca, const struct pki_key *ca_key,
    const struct pki_key *leaf_key, enum pki_leaf_kind kind,
    const char *subject, const char *const *san, size_t nsan, int days,
    struct pki_cert **out);

/*
 * Agents' client certificates in bulk: what pki_cert_make_leaf(ca, ca_key,
 * key, PKI_LEAF_CLIENT, subject, NULL, 0, days) writes, for any key, with
 * the CA's key checked and its authorityKeyIdentifier made once
 * (crypto/pki_cert.c).  One maker serves many threads at once; it holds
 * references to ca and ca_key, which may be freed before it.
 */
struct pki_leafmaker;
int pki_leafmaker_new(const struct pki_cert *ca, const struct pki_key *ca_key,
    int days, struct pki_leafmaker **out);
/* The certificate of leaf_key for subject, as PEM (caller frees). */
int pki_leafmaker_pem(const struct pki_leafmaker *m,
    const struct pki_key *leaf_key, const char *subject, char **pem,
    size_t *len);
void pki_leafmaker_free(struct pki_leafmaker *m);

/* Parse the first certificate in a PEM buffer. */
int pki_cert_from_pem(const char *pem, size_t len, struct pki_cert **out);
/* Encode as PEM; *pem NUL-terminated, caller frees with free(). */
int pki_cert_to_pem(const struct pki_cert *cert, char **pem, size_t *len);
/* SHA-256 of the DER, 64 lowercase hex digits + NUL. */
void pki_cert_fingerprint(const struct pki_cert *cert, char out[65]);
/* Subject in one-line "/C=../CN=.." form into buf (cut to fit). */
void pki_cert_subject(const struct pki_cert *cert, char *buf, size_t len);
/*
 * The serial number in upper-case hex, as openssl x509 -serial prints it,
 * into buf ("" if it does not fit: never a cut serial).
 */
void pki_cert_serial(const struct pki_cert *cert, char *buf, size_t len);
/* The subject's CN into buf ("" if none). */
void pki_cert_cn(const struct pki_cert *cert, char *buf, size_t len);
time_t pki_cert_not_after(const struct pki_cert *cert);
/* 1 if the two certificates are byte-identical. */
int pki_cert_equal(const struct pki_cert *a, const struct pki_cert *b);
/*
 * Verify leaf against the trust anchor ca (and, if crl_pem is not NULL,
 * with CRL checking of every certificate in the chain against the CRLs in
 * that PEM buffer, as PostgreSQL does).  If host is not NULL, the leaf must
 * also match it (name or IP address).  0, or ERR_VERIFY with the reason
 * in *msg (caller frees; NULL on success, and for another code).
 */
int pki_cert_verify(const struct pki_cert *leaf, const struct pki_cert *ca,
    const char *crl_pem, size_t crl_len, const char *host, char **msg);
struct pki_cert *pki_cert_dup(const struct pki_cert *cert);
void pki_cert_free(struct pki_cert *cert);

/* ---- CRLs ---- */

/*
 * A v2 CRL signed by ca/ca_key: SHA-256, lastUpdate now - 5 minutes (clock
 * skew between hosts), nextUpdate now +
 * days, crlNumber = now in seconds (monotonic across runs),
 * authorityKeyIdentifier.  If revoked_from is not NULL, every revoked entry
 * of every CRL in that PEM buffer that was issued by ca (name and
 * signature) is carried over, so revocations are never dropped.  *pem
 * NUL-terminated, caller frees.
 */
int pki_crl_make(const struct pki_cert *ca, const struct pki_key *ca_key,
    int days, const char *revoked_from, size_t revoked_len,
    char **pem, size_t *len);

/*
 * root.crl with cert revoked: a new CRL of ca (as pki_crl_make, carrying
 * over the revocations of ca's CRLs in crls) that also revokes cert,
 * followed by every other CRL of crls (other CAs', kept as they are), so
 * the file still holds one CRL per trusted CA.  cert must be issued by ca
 * (ERR_MISMATCH).  *pem NUL-terminated, caller frees.
 */
int pki_crl_revoke(const struct pki_cert *ca, const struct pki_key *ca_key,
    int days, const char *crls, size_t crls_len,
    const struct pki_cert *cert, char **pem, size_t *len);

/*
 * From the CRLs in a PEM buffer, copy those issued by ca (name match and
 * valid signature) and not expired into a new PEM buffer.  ERR_NOTFOUND if
 * there are none.  *out NUL-terminated, caller frees.
 */
int pki_crl_select(const char *pem, size_t len, const struct pki_cert *ca,
    char **out, size_t *outlen);

/* Number of certificates / CRLs in a PEM buffer (for checks and tests). */
int pki_pem_count_certs(const char *pem, size_t len);
int pki_pem_count_crls(const char *pem, size_t len);

/*
 * Describe the last OpenSSL error of this thread into buf (for messages).
 * Never contains key material.
 */
void pki_last_error(char *buf, size_t len);

/* SHA-256 of the n parts p[i] of len[i] bytes, one after the other. */
int pki_digest_sha256(const void *const *p, const size_t *len, size_t n,
    unsigned char out[32]);

/* ---- looking at certificates that exist (pki_inspect.c) ---- */

/*
 * Every certificate of a PEM buffer, in order: *out an array of *n
 * (free with pki_certs_free).  ERR_NOTFOUND when there is none, ERR_PARSE
 * when a block does not parse.
 */
int pki_certs_from_pem(const char *pem, size_t len, struct pki_cert ***out,
    size_t *n);
void pki_certs_free(struct pki_cert **v, size_t n);
/*
 * 1 if cert names ca's subject as its issuer and carries ca's valid
 * signature (whatever the dates), else 0.
 */
int pki_cert_issued_by(const struct pki_cert *cert, const struct pki_cert *ca);
/*
 * 1 if a CRL in the PEM buffer, issued and signed by ca, lists cert's
 * serial (whatever the CRL's dates); 0 if none does; ERR_PARSE.
 */
int pki_crl_revokes(const char *pem, size_t len, const struct pki_cert *ca,
    const struct pki_cert *cert);

#endif
