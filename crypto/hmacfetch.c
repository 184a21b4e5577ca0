/*
 * hmacfetch.c - HMAC for libssh2 and libpq without OpenSSL 3.0's per-call
 * overhead.
 *
 * OpenSSL 3.0's HMAC_Init_ex, given one of the built-in digests
 * (EVP_sha256() and friends), fetches the provider's implementation again
 * on every call: three fetches through a locked method store per call.
 * libssh2 1.10 calls it for every SSH packet (the packet MAC) and libpq 15
 * for every one of SCRAM-SHA-256's 4096 PBKDF2 rounds, so in a rotation it
 * ran ~90 times per agent and ~12,000 times per database login, about a
 * tenth of pemrotate's CPU (callgrind, docs/performance.md).  Even with
 * the digest fetched once, each round still copies two digest contexts
 * through the provider interface (a malloc, a free and a cleanse each):
 * about 0.6 us per HMAC, where the two SHA-256 compressions take 0.1 us.
 *
 * This file defines HMAC_Init_ex, HMAC_Update, HMAC_Final and the
 * context functions around them in the executable; the dynamic linker
 * binds the libraries' calls to the executable's definitions first.
 *
 * - HMAC-SHA256 (libssh2's hmac-sha2-256, libpq's SCRAM) is computed here
 *   with OpenSSL's low-level SHA-256 (SHA256_Update: its assembly, SHA
 *   extensions where the CPU has them; no provider, no allocation): the
 *   states after the key's inner and outer pad are kept, so a round costs
 *   two compressions.  Each thread keeps up to FAST_SLOTS such contexts
 *   (libssh2 and libpq key, update and finalize a context on one thread,
 *   in one call); more go to OpenSSL.  Keyed again with the key it holds
 *   (SCRAM, 4096 times per login), a context is only reset.
 * - Other digests go to OpenSSL's own HMAC_Init_ex with the digest fetched
 *   once at start-up, and the same-key reset (OpenSSL documents that a
 *   NULL key and digest reuse what the context holds).
 * - A digest it does not know, an ENGINE, or a failed fetch goes to
 *   OpenSSL unchanged.
 *
 * Secrets: the keys and pad states live in this thread's slots and are
 * wiped when the context is freed, reset, copied over or keyed anew.
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

unsigned long
pki_hmac_fast_count(void)
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
#include <openssl/sha.h>

#include "crypto/pki.h"

#include <openssl/crypto.h>

typedef int (*hmac_init_fn)(HMAC_CTX *, const void *, int, const EVP_MD *,
    ENGINE *);
typedef void (*hmac_free_fn)(HMAC_CTX *);
typedef int (*hmac_copy_fn)(HMAC_CTX *, HMAC_CTX *);
typedef int (*hmac_update_fn)(HMAC_CTX *, const unsigned char *, size_t);
typedef int (*hmac_final_fn)(HMAC_CTX *, unsigned char *, unsigned int *);
typedef int (*hmac_reset_fn)(HMAC_CTX *);
typedef const EVP_MD *(*hmac_get_md_fn)(const HMAC_CTX *);
typedef size_t (*hmac_size_fn)(const HMAC_CTX *);

/* Written once under pthread_once, read-only afterwards. */
static struct {
	hmac_init_fn real;
	hmac_free_fn real_free;
	hmac_copy_fn real_copy;
	hmac_update_fn real_update;
	hmac_final_fn real_final;
	hmac_reset_fn real_reset;
	hmac_get_md_fn real_get_md;
	hmac_size_fn real_size;
	const EVP_MD *builtin[4];
	EVP_MD *fetched[4];
} hf;
static pthread_once_t hf_once = PTHREAD_ONCE_INIT;
/* Counters for the tests: this thread's calls (no shared cache line on
 * the per-packet path). */
static _Thread_local unsigned long hf_swapped, hf_reused, hf_fast;

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

/* OpenSSL's own definition of name, the one this file stands in front of. */
static void (*next_sym(const char *name))(void)
{
	return (void (*)(void))dlsym(RTLD_NEXT, name);
}

static void
hf_init(void)
{
	static const char *const names[4] = { "SHA1", "SHA256", "SHA384",
	    "SHA512" };
	size_t i;

	hf.real = (hmac_init_fn)next_sym("HMAC_Init_ex");
	hf.real_free = (hmac_free_fn)next_sym("HMAC_CTX_free");
	hf.real_copy = (hmac_copy_fn)next_sym("HMAC_CTX_copy");
	hf.real_update = (hmac_update_fn)next_sym("HMAC_Update");
	hf.real_final = (hmac_final_fn)next_sym("HMAC_Final");
	hf.real_reset = (hmac_reset_fn)next_sym("HMAC_CTX_reset");
	hf.real_get_md = (hmac_get_md_fn)next_sym("HMAC_CTX_get_md");
	hf.real_size = (hmac_size_fn)next_sym("HMAC_size");
	hf.builtin[0] = EVP_sha1();
	hf.builtin[1] = EVP_sha256();
	hf.builtin[2] = EVP_sha384();
	hf.builtin[3] = EVP_sha512();
	for (i = 0; i < 4; i++)
		hf.fetched[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

/* ---- HMAC-SHA256 computed here ---- */

#define FAST_SLOTS	8

/* One context of this thread whose HMAC-SHA256 is computed here. */
struct fast {
	HMAC_CTX *ctx;		/* NULL: the slot is free */
	const EVP_MD *md;	/* what the caller gave (get_md answers it) */
	SHA256_CTX ipad, opad;	/* states after the key's pads */
	SHA256_CTX inner;	/* the message so far */
	int done;		/* finalized: Update/Final need a new Init */
	int len;		/* the key, to tell a re-key with the same one */
	unsigned char key[SHA256_CBLOCK];
};

static _Thread_local struct fast hf_fast_slot[FAST_SLOTS];

static struct fast *
fast_find(const HMAC_CTX *ctx)
{
	size_t i;

	if (ctx == NULL)
		return NULL;
	for (i = 0; i < FAST_SLOTS; i++)
		if (hf_fast_slot[i].ctx == ctx)
			return &hf_fast_slot[i];
	return NULL;
}

static struct fast *
fast_new(HMAC_CTX *ctx)
{
	size_t i;

	for (i = 0; i < FAST_SLOTS; i++) {
		if (hf_fast_slot[i].ctx == NULL) {
			hf_fast_slot[i].ctx = ctx;
			hf_fast_slot[i].len = -1;	/* not keyed yet */
			return &hf_fast_slot[i];
		}
	}
	return NULL;
}

static void
fast_drop(struct fast *f)
{
	if (f != NULL)
		OPENSSL_cleanse(f, sizeof(*f));
}

static int
is_sha256(const EVP_MD *md)
{
	return md != NULL && (md == hf.builtin[1] || md == hf.fetched[1]);
}

/* Key f (len >= 0 bytes); a key longer than a block is hashed first. */
static void
fast_key(struct fast *f, const unsigned char *key, int len)
{
	unsigned char k[SHA256_CBLOCK], pad[SHA256_CBLOCK];
	size_t i;

	memset(k, 0, sizeof(k));
	if ((size_t)len > sizeof(k))
		SHA256(key, (size_t)len, k);
	else if (len > 0)
		memcpy(k, key, (size_t)len);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	SHA256_Init(&f->ipad);
	SHA256_Update(&f->ipad, pad, sizeof(pad));
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	SHA256_Init(&f->opad);
	SHA256_Update(&f->opad, pad, sizeof(pad));
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(f->key, sizeof(f->key));
	f->len = -1;		/* a long key is never compared */
	if ((size_t)len <= sizeof(f->key)) {
		f->len = len;
		if (len > 0)
			memcpy(f->key, key, (size_t)len);
	}
}

/*
 * HMAC_Init_ex for HMAC-SHA256 contexts: 1 done, 0 failed, -1 not ours
 * (OpenSSL's HMAC_Init_ex must do it; f's slot, if any, is dropped).
 */
static int
fast_init(HMAC_CTX *ctx, const void *key, int len, const EVP_MD *md,
    ENGINE *impl)
{
	struct fast *f = fast_find(ctx);

	if (impl != NULL || (md != NULL && !is_sha256(md)) ||
	    (f == NULL && (md == NULL || key == NULL))) {
		fast_drop(f);
		return -1;
	}
	if (key != NULL && len < 0)
		return 0;
	if (f == NULL && (f = fast_new(ctx)) == NULL)
		return -1;	/* this thread has too many: OpenSSL's */
	if (md != NULL)
		f->md = md;
	if (key != NULL) {
		if (f->len == len && len >= 0 &&
		    CRYPTO_memcmp(key, f->key, (size_t)len) == 0)
			hf_reused++;
		else
			fast_key(f, key, len);
	}
	f->inner = f->ipad;
	f->done = 0;
	hf_fast++;
	return 1;
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
	if (hf.real_update != NULL && hf.real_final != NULL &&
	    hf.real_reset != NULL && (rc = fast_init(ctx, key, len, md,
	    impl)) >= 0)
		return rc;
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

int
HMAC_Update(HMAC_CTX *ctx, const unsigned char *data, size_t len)
{
	struct fast *f;

	pthread_once(&hf_once, hf_init);
	if ((f = fast_find(ctx)) == NULL)
		return hf.real_update != NULL ?
		    hf.real_update(ctx, data, len) : 0;
	if (f->done)
		return 0;
	return len == 0 || SHA256_Update(&f->inner, data, len);
}

int
HMAC_Final(HMAC_CTX *ctx, unsigned char *md, unsigned int *len)
{
	unsigned char ih[SHA256_DIGEST_LENGTH];
	SHA256_CTX outer;
	struct fast *f;

	pthread_once(&hf_once, hf_init);
	if ((f = fast_find(ctx)) == NULL)
		return hf.real_final != NULL ? hf.real_final(ctx, md, len) : 0;
	if (f->done || md == NULL)
		return 0;
	SHA256_Final(ih, &f->inner);
	outer = f->opad;
	SHA256_Update(&outer, ih, sizeof(ih));
	SHA256_Final(md, &outer);
	/* per packet and SCRAM round: glibc's fast wipe, not OpenSSL's */
	explicit_bzero(ih, sizeof(ih));
	explicit_bzero(&outer, sizeof(outer));
	explicit_bzero(&f->inner, sizeof(f->inner));
	f->done = 1;
	if (len != NULL)
		*len = SHA256_DIGEST_LENGTH;
	return 1;
}

int
HMAC_CTX_reset(HMAC_CTX *ctx)
{
	pthread_once(&hf_once, hf_init);
	fast_drop(fast_find(ctx));
	if (ctx != NULL && ctx == hf_last.ctx)
		hf_forget();
	return hf.real_reset != NULL ? hf.real_reset(ctx) : 0;
}

const EVP_MD *
HMAC_CTX_get_md(const HMAC_CTX *ctx)
{
	struct fast *f;

	pthread_once(&hf_once, hf_init);
	if ((f = fast_find(ctx)) != NULL)
		return f->md;
	return hf.real_get_md != NULL ? hf.real_get_md(ctx) : NULL;
}

size_t
HMAC_size(const HMAC_CTX *ctx)
{
	pthread_once(&hf_once, hf_init);
	if (fast_find(ctx) != NULL)
		return SHA256_DIGEST_LENGTH;
	return hf.real_size != NULL ? hf.real_size(ctx) : 0;
}

void
HMAC_CTX_free(HMAC_CTX *ctx)
{
	pthread_once(&hf_once, hf_init);
	fast_drop(fast_find(ctx));
	if (ctx != NULL && ctx == hf_last.ctx)
		hf_forget();
	if (hf.real_free != NULL)
		hf.real_free(ctx);
}

int
HMAC_CTX_copy(HMAC_CTX *dctx, HMAC_CTX *sctx)
{
	struct fast *s, *d;

	pthread_once(&hf_once, hf_init);
	if (dctx == hf_last.ctx)
		hf_forget();
	d = fast_find(dctx);
	if ((s = fast_find(sctx)) == NULL) {
		fast_drop(d);
		return hf.real_copy != NULL ? hf.real_copy(dctx, sctx) : 0;
	}
	if (d == NULL && (d = fast_new(dctx)) == NULL)
		return 0;
	if (d != s)
		*d = *s;
	d->ctx = dctx;
	return 1;
}

unsigned long
pki_hmac_fast_count(void)
{
	return hf_fast;
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
