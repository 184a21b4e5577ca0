/*
 * test_transport_sshkey.c: reading OpenSSH's Ed25519 private key format,
 * with keys made by ssh-keygen; the seed really is the key (checked by
 * signing with it and verifying with the public half from the blob).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/xmem.h"
#include "transport/sshconn.h"

static char dir[] = "/tmp/pemrt-sshkey-XXXXXX";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char *cmd = xasprintf("rm -rf %s", dir);

	(void)state;
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup failed\n");
	free(cmd);
	return 0;
}

static char *
keygen(const char *name, const char *args)
{
	char *path = xasprintf("%s/%s", dir, name), *cmd;

	cmd = xasprintf("ssh-keygen -q %s -C test -f %s", args, path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return path;
}

static void
test_ed25519_roundtrip(void **state)
{
	unsigned char seed[32], sig[64], *blob = NULL;
	const unsigned char msg[] = "session id and userauth request";
	size_t len = 0;
	EVP_PKEY *priv, *pub;
	EVP_MD_CTX *ctx;
	size_t siglen = sizeof(sig);
	char *path = keygen("ed", "-t ed25519 -N ''");

	(void)state;
	assert_int_equal(sshconn_read_ed25519(path, seed, &blob, &len), 0);
	/* blob: string "ssh-ed25519" (4+11), string pk (4+32) */
	assert_int_equal(len, 51);
	assert_memory_equal(blob + 4, "ssh-ed25519", 11);
	priv = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, blob + 19,
	    32);
	assert_non_null(priv);
	assert_non_null(pub);
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, priv), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)),
	    1);
	EVP_MD_CTX_free(ctx);
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)),
	    1);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	free(blob);
	free(path);
}

static void
test_other_keys_refused(void **state)
{
	unsigned char seed[32], *blob = NULL;
	size_t len;
	char *p;
	FILE *f;

	(void)state;
	p = keygen("enc", "-t ed25519 -N secret");
	assert_int_equal(sshconn_read_ed25519(p, seed, &blob, &len), ERR_INVAL);
	free(p);
	p = keygen("ec", "-t ecdsa -N ''");
	assert_int_equal(sshconn_read_ed25519(p, seed, &blob, &len), ERR_INVAL);
	free(p);
	assert_null(blob);
	assert_int_equal(sshconn_read_ed25519("/nonexistent", seed, &blob,
	    &len), ERR_IO);
	p = xasprintf("%s/junk", dir);
	f = fopen(p, "w");
	fputs("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n"
	    "-----END OPENSSH PRIVATE KEY-----\n", f);
	fclose(f);
	assert_int_equal(sshconn_read_ed25519(p, seed, &blob, &len), ERR_PARSE);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ed25519_roundtrip),
		cmocka_unit_test(test_other_keys_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
