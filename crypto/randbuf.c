/*
 * randbuf.c - RAND_bytes served from a per-thread buffer.
 *
 * libssh2 1.10 asks OpenSSL for random bytes for the padding of every SSH
 * packet (4 to 16 bytes, ~40 times per agent), libpq for its SCRAM nonce.
 * In OpenSSL 3.0 each RAND_bytes call costs ~7,000 instructions and a
 * getpid() system call (the DRBG's fork check, its reseed checks, a fresh
 * AES key schedule after every request): ~6 % of pemrotate's CPU at 1000
 * agents (perf).
 *
 * This file defines RAND_bytes in the executable (the dynamic linker binds
 * the libraries' calls to it first).  A request of at most 64 bytes is
 * served from a buffer of this thread's, refilled 1 KB at a time by
 * OpenSSL's own RAND_bytes: the bytes are the same DRBG's output, handed
 * out once each and wiped from the buffer as they are.  Larger requests,
 * and any refill failure, go to OpenSSL directly.  A fork() wipes the
 * forking thread's buffer in the child (pthread_atfork), so parent and
 * child never share bytes.  OpenSSL's own callers (key generation,
 * signatures, TLS) use its internal entry points and are not affected.
 *
 * Built with -DPEMROTATE_OPENSSL_SHIMS=OFF it is left out.
 */
#ifndef PEMROTATE_OPENSSL_SHIMS

#include <stddef.h>

#include "crypto/pki.h"

size_t
pki_randbuf_left(void)
{
	return 0;
}

#else

#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto/pki.h"

#define RB_SIZE		1024
#define RB_MAX_ASK	64

typedef int (*rand_fn)(unsigned char *, int);

/* Written once under pthread_once, read-only afterwards. */
static rand_fn rb_real;
static pthread_once_t rb_once = PTHREAD_ONCE_INIT;

static _Thread_local struct {
	unsigned char b[RB_SIZE];
	size_t off, len;
} rb;

static void
rb_wipe(void)
{
	OPENSSL_cleanse(&rb, sizeof(rb));
}

static void
rb_init(void)
{
	rb_real = (rand_fn)(void (*)(void))dlsym(RTLD_NEXT, "RAND_bytes");
	(void)pthread_atfork(NULL, NULL, rb_wipe);
}

int
RAND_bytes(unsigned char *buf, int num)
{
	size_t n = (size_t)num;

	pthread_once(&rb_once, rb_init);
	if (rb_real == NULL)
		return 0;
	if (num <= 0 || n > RB_MAX_ASK)
		return rb_real(buf, num);
	if (rb.len - rb.off < n) {
		rb_wipe();
		if (rb_real(rb.b, RB_SIZE) != 1) {
			rb_wipe();
			return rb_real(buf, num);
		}
		rb.len = RB_SIZE;
	}
	memcpy(buf, rb.b + rb.off, n);
	OPENSSL_cleanse(rb.b + rb.off, n);
	rb.off += n;
	return 1;
}

size_t
pki_randbuf_left(void)
{
	pthread_once(&rb_once, rb_init);
	return rb.len - rb.off;
}

#endif /* PEMROTATE_OPENSSL_SHIMS */
