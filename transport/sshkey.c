/*
 * sshkey.c: OpenSSH's own private key format, for Ed25519 keys, so that a
 * run reads its SSH key once (see sshconn_read_ed25519 in sshconn.h).
 *
 *	"openssh-key-v1\0" string cipher, string kdf, string kdfoptions,
 *	uint32 nkeys, string pubkey, string private section:
 *	uint32 check, uint32 check, string "ssh-ed25519", string pk[32],
 *	string sk[64] (seed and pk), string comment, padding
 */
#include "sshconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"

#define KEYFILE_MAX	(64 * 1024)
#define MAGIC		"openssh-key-v1"

struct rd {
	const unsigned char *p;
	size_t left;
};

static int
rd_u32(struct rd *r, unsigned long *v)
{
	if (r->left < 4)
		return -1;
	*v = (unsigned long)r->p[0] << 24 | (unsigned long)r->p[1] << 16 |
	    (unsigned long)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return 0;
}

static int
rd_str(struct rd *r, const unsigned char **s, size_t *n)
{
	unsigned long len;

	if (rd_u32(r, &len) != 0 || len > r->left)
		return -1;
	*s = r->p;
	*n = len;
	r->p += len;
	r->left -= len;
	return 0;
}

static int
str_is(const unsigned char *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* The base64 body between the armour lines, decoded into out. */
static size_t
unarmour(const char *text, unsigned char *out, size_t max)
{
	const char *p = strstr(text, "-----BEGIN OPENSSH PRIVATE KEY-----");
	unsigned long acc = 0;
	size_t o = 0;
	int bits = 0, v;

	if (p == NULL)
		return 0;
	for (p = strchr(p, '\n'); p != NULL && *p != '\0' && *p != '-'; p++) {
		if ((v = str_b64val((unsigned char)*p)) < 0)
			continue;	/* line breaks; '=' ends at '-' */
		acc = (acc << 6) | (unsigned long)v;
		if ((bits += 6) >= 8 && o < max) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	wipe(&acc, sizeof(acc));
	return o;
}

/* The private section: the seed, checked against the public key. */
static int
read_private(struct rd *r, unsigned char seed[32])
{
	const unsigned char *priv, *type, *pk, *sk;
	size_t plen, tlen, pklen, sklen;
	unsigned long c1, c2;
	struct rd pr;

	if (rd_str(r, &priv, &plen) != 0)
		return ERR_PARSE;
	pr.p = priv;
	pr.left = plen;
	if (rd_u32(&pr, &c1) != 0 || rd_u32(&pr, &c2) != 0 || c1 != c2)
		return ERR_PARSE;
	if (rd_str(&pr, &type, &tlen) != 0 || !str_is(type, tlen,
	    "ssh-ed25519"))
		return ERR_INVAL;
	if (rd_str(&pr, &pk, &pklen) != 0 || pklen != 32 ||
	    rd_str(&pr, &sk, &sklen) != 0 || sklen != 64 ||
	    memcmp(sk + 32, pk, 32) != 0)
		return ERR_PARSE;
	memcpy(seed, sk, 32);
	return 0;
}

static int
parse_key(const unsigned char *buf, size_t n, unsigned char seed[32],
    unsigned char **pubblob, size_t *publen)
{
	const unsigned char *cipher, *kdf, *opts, *pub;
	size_t clen, klen, olen, plen;
	unsigned long nkeys;
	struct rd r;
	int rc;

	if (n < sizeof(MAGIC) || memcmp(buf, MAGIC, sizeof(MAGIC)) != 0)
		return ERR_PARSE;
	r.p = buf + sizeof(MAGIC);
	r.left = n - sizeof(MAGIC);
	if (rd_str(&r, &cipher, &clen) != 0 || rd_str(&r, &kdf, &klen) != 0 ||
	    rd_str(&r, &opts, &olen) != 0 || rd_u32(&r, &nkeys) != 0 ||
	    rd_str(&r, &pub, &plen) != 0)
		return ERR_PARSE;
	if (!str_is(cipher, clen, "none") || !str_is(kdf, klen, "none") ||
	    nkeys != 1)
		return ERR_INVAL;	/* encrypted, or several keys */
	if ((rc = read_private(&r, seed)) != 0)
		return rc;
	*pubblob = xmalloc(plen);
	memcpy(*pubblob, pub, plen);
	*publen = plen;
	return 0;
}

int
sshconn_read_ed25519(const char *path, unsigned char seed[32],
    unsigned char **pubblob, size_t *publen)
{
	unsigned char *bin = NULL;
	char *text;
	size_t n, binlen = 0;
	FILE *f;
	int rc = ERR_IO;

	*pubblob = NULL;
	if ((f = fopen(path, "re")) == NULL)
		return ERR_IO;
	text = xcalloc(1, KEYFILE_MAX + 1);
	n = fread(text, 1, KEYFILE_MAX, f);
	fclose(f);
	if (n > 0 && n < KEYFILE_MAX) {
		bin = xmalloc(n);
		binlen = unarmour(text, bin, n);
		rc = parse_key(bin, binlen, seed, pubblob, publen);
	}
	freezero(text, KEYFILE_MAX + 1);
	freezero(bin, n);
	return rc;
}
