/*
 * hmacfetch.c - HMAC_Init_ex with digests fetched once.
 *
 * OpenSSL 3.0's HMAC_Init_ex, given one of the built-in digests
 * (EVP_sha256() and friends), fetches the provider's implementation again
 * on every call: three fetches through a locked method store per call.
 * libssh2 1.10 calls it for every SSH packet (the packet MAC) and libpq 15
 * for every one of SCRAM-SHA-256's 4096 PBKDF2 rounds, so in a rotation it
 * ran ~90 times per agent and ~12,000 times per database login, about a
 * tenth of pemrotate's CPU (callgrind, docs/performance.md).
 *
 * This file defines HMAC_Init_ex in the executable.  The dynamic linker
 * binds the libraries' calls to the executable's definition first; it
 * swaps a built-in digest for one fetched once at start-up and calls
 * OpenSSL's own HMAC_Init_ex, so the HMAC computed is OpenSSL's, byte for
 * byte.  A digest it does not know, an ENGINE, or a failed fetch goes to
 * OpenSSL unchanged.
 *
 * libpq's SCRAM also keys the same context with the same password 4096
 * times in a row.  OpenSSL documents that HMAC_Init_ex with a NULL key and
 * digest reuses the key the context holds, which skips two digest
 * initialisations and two compressions per round: each thread remembers
 * the context and key it last keyed (a copy wiped when the context is
 * freed or another is keyed), and a context that still holds that digest
 * is only reset.  About 30 M instructions per database login.
 *
 * Build with -DPEMROTATE_OPENSSL_SHIMS=OFF to leave all this out.
 */
#ifndef PEMROTATE_OPENSSL_SHIMS

#include "crypto/pki.h"

unsigned long
pki_hmac_fetch_count(void)
{
	return 0;
}

unsigned long
pki_hmac_reuse_count(void)
{
	return 0;
}

#else

#define _GNU_SOURCE
#define OPENSSL_SUPPRESS_DEPRECATED
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto/pki.h"

#include <openssl/crypto.h>

typedef int (*hmac_init_fn)(HMAC_CTX *, const void *, int, const EVP_MD *,
    ENGINE *);
typedef void (*hmac_free_fn)(HMAC_CTX *);
typedef int (*hmac_copy_fn)(HMAC_CTX *, HMAC_CTX *);

/* Written once under pthread_once, read-only afterwards. */
static struct {
	hmac_init_fn real;
	hmac_free_fn real_free;
	hmac_copy_fn real_copy;
	const EVP_MD *builtin[4];
	EVP_MD *fetched[4];
} hf;
static pthread_once_t hf_once = PTHREAD_ONCE_INIT;
/* Counters for the tests: this thread's calls (no shared cache line on
 * the per-packet path). */
static _Thread_local unsigned long hf_swapped, hf_reused;

/* The context this thread keyed last, and with what. */
static _Thread_local struct {
	HMAC_CTX *ctx;
	const EVP_MD *md;
	int len;
	unsigned char key[128];
} hf_last;

static void
hf_forget(void)
{
	OPENSSL_cleanse(&hf_last, sizeof(hf_last));
}

static void
hf_init(void)
{
	static const char *const names[4] = { "SHA1", "SHA256", "SHA384",
	    "SHA512" };
	size_t i;

	hf.real = (hmac_init_fn)(void (*)(void))dlsym(RTLD_NEXT,
	    "HMAC_Init_ex");
	hf.real_free = (hmac_free_fn)(void (*)(void))dlsym(RTLD_NEXT,
	    "HMAC_CTX_free");
	hf.real_copy = (hmac_copy_fn)(void (*)(void))dlsym(RTLD_NEXT,
	    "HMAC_CTX_copy");
	hf.builtin[0] = EVP_sha1();
	hf.builtin[1] = EVP_sha256();
	hf.builtin[2] = EVP_sha384();
	hf.builtin[3] = EVP_sha512();
	for (i = 0; i < 4; i++)
		hf.fetched[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

int
HMAC_Init_ex(HMAC_CTX *ctx, const void *key, int len, const EVP_MD *md,
    ENGINE *impl)
{
	size_t i;
	int rc;

	pthread_once(&hf_once, hf_init);
	if (hf.real == NULL)
		return 0;
	if (md != NULL && impl == NULL) {
		for (i = 0; i < 4; i++) {
			if (md == hf.builtin[i] && hf.fetched[i] != NULL) {
				md = hf.fetched[i];
				hf_swapped++;
				break;
			}
		}
	}
	if (key == NULL || impl != NULL || md == NULL || len <= 0 ||
	    (size_t)len > sizeof(hf_last.key)) {
		if (ctx == hf_last.ctx && key != NULL)
			hf_forget();
		return hf.real(ctx, key, len, md, impl);
	}
	if (ctx == hf_last.ctx && md == hf_last.md && len == hf_last.len &&
	    HMAC_CTX_get_md(ctx) == md &&
	    CRYPTO_memcmp(key, hf_last.key, (size_t)len) == 0) {
		hf_reused++;
		return hf.real(ctx, NULL, 0, NULL, NULL);
	}
	hf_forget();
	if ((rc = hf.real(ctx, key, len, md, impl)) == 1) {
		hf_last.ctx = ctx;
		hf_last.md = md;
		hf_last.len = len;
		memcpy(hf_last.key, key, (size_t)len);
	}
	return rc;
}

void
HMAC_CTX_free(HMAC_CTX *ctx)
{
	pthread_once(&hf_once, hf_init);
	if (ctx != NULL && ctx == hf_last.ctx)
		hf_forget();
	if (hf.real_free != NULL)
		hf.real_free(ctx);
}

int
HMAC_CTX_copy(HMAC_CTX *dctx, HMAC_CTX *sctx)
{
	pthread_once(&hf_once, hf_init);
	if (dctx == hf_last.ctx)
		hf_forget();
	return hf.real_copy != NULL ? hf.real_copy(dctx, sctx) : 0;
}

unsigned long
pki_hmac_reuse_count(void)
{
	return hf_reused;
}

unsigned long
pki_hmac_fetch_count(void)
{
	pthread_once(&hf_once, hf_init);
	return hf_swapped;
}

#endif /* PEMROTATE_OPENSSL_SHIMS */
