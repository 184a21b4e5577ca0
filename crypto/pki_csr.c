/*
 * pki_csr.c: the public key of a certificate request from a remote host
 * (--keygen remote).  The request is untrusted input: bounded, its
 * self-signature checked, its key of the expected type and size.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "crypto/pki.h"
#include "crypto/pki_internal.h"

#define CSR_MAX_LEN	(64 * 1024)

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
	if ((r = pki_pem_bio(pem, len, CSR_MAX_LEN, &b)) != 0)
		return r;
	req = PEM_read_bio_X509_REQ(b, NULL, pki_no_passphrase, NULL);
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
	*pub = pki_key_wrap(pk);
	r = 0;
 out:
	X509_REQ_free(req);
	ERR_clear_error();
	return r;
}
