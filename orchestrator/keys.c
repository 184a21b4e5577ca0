/*
 * keys.c: the SSH user keys, loaded once, and their in-memory signers.
 */
#include "keys.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xmem.h"
#include "crypto/pki.h"

static int
sign_ed25519(void *ctx, const unsigned char *data, size_t len,
    unsigned char sig[64])
{
	return pki_ed25519_sign(ctx, data, len, sig);
}

const struct sshconn_signer *
keys_signer(struct run *r, const char *path)
{
	unsigned char seed[32];
	struct run_key *k;
	size_t i;

	if (path == NULL)
		return NULL;
	for (i = 0; i < r->nkeys; i++)
		if (strcmp(r->keys[i]->path, path) == 0)
			return r->keys[i]->key ? &r->keys[i]->signer : NULL;
	/* each its own allocation: hosts keep pointers to the signers */
	r->keys = xrealloc(r->keys, (r->nkeys + 1) * sizeof(*r->keys));
	k = r->keys[r->nkeys++] = xcalloc(1, sizeof(*k));
	k->path = xstrdup(path);
	if (sshconn_read_ed25519(path, seed, &k->signer.pubblob,
	    &k->signer.publen) == 0 && pki_ed25519_new(seed, &k->key) == 0) {
		k->signer.sign = sign_ed25519;
		k->signer.ctx = k->key;
	}
	wipe(seed, sizeof(seed));
	log_debug("SSH key %s: %s", path, k->key ? "loaded once" :
	    "read by libssh2 at each login");
	return k->key ? &k->signer : NULL;
}

void
keys_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nkeys; i++) {
		free(r->keys[i]->path);
		free(r->keys[i]->signer.pubblob);
		pki_ed25519_free(r->keys[i]->key);
		free(r->keys[i]);
	}
	free(r->keys);
	r->keys = NULL;
	r->nkeys = 0;
}
