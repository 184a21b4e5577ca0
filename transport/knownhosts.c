/*
 * knownhosts.c: known_hosts parsed once and matched per host as OpenSSH
 * matches it (see knownhosts.h).  Hashed names are checked with OpenSSL's
 * HMAC-SHA1; the store owns every string it hands out pointers into.
 */
#include "knownhosts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/sshmatch.h"

#define KH_FILE_MAX	(64 * 1024 * 1024)
#define KH_SALT_MAX	64
#define KH_HASH_LEN	20	/* HMAC-SHA1 */

enum kh_marker {
	KH_KEY,			/* a host key line */
	KH_CA,			/* @cert-authority */
	KH_REVOKED,		/* @revoked */
};

struct kh_entry {
	enum kh_marker marker;
	char *names;		/* host field, lower case; NULL if hashed */
	unsigned char salt[KH_SALT_MAX];	/* hashed: the HMAC key */
	size_t saltlen;
	unsigned char hash[KH_HASH_LEN];	/* and the name's HMAC */
	char *type_key;		/* "ssh-ed25519 AAAA..." */
	const char *file;	/* one of known_hosts.files */
	unsigned long line;
};

/* One name of a line without patterns, for the index. */
struct kh_name {
	const char *name;	/* into e[entry].names, not terminated */
	size_t len, entry;
};

struct known_hosts {
	struct kh_entry *e;
	size_t n, cap;
	char *files[2];
	struct kh_name *idx;	/* literal names, by name, then entry */
	size_t nidx;
	size_t *scan;		/* hashed and pattern lines, file order */
	size_t nscan;
	size_t *revoked;	/* @revoked lines, in file order */
	size_t nrevoked;
	EVP_MAC *hmac;		/* fetched if there are hashed lines */
};

/* Matched entries of one lookup. */
struct kh_hits {
	size_t *v;
	size_t n, cap;
};

/* Decode base64 s[0..n) into out (at most max bytes); -1 if malformed. */
static long
b64dec(const char *s, size_t n, unsigned char *out, size_t max)
{
	unsigned long acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	for (i = 0; i < n && s[i] != '='; i++) {
		if ((v = str_b64val((unsigned char)s[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (o >= max)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A context computing HMAC-SHA1; NULL if OpenSSL cannot. */
static EVP_MAC_CTX *
hmac_sha1_new(EVP_MAC *mac)
{
	char digest[] = "SHA1";
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_MAC_CTX_new(mac)) != NULL &&
	    EVP_MAC_CTX_set_params(ctx, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* 1 if e's hash is the HMAC-SHA1 of name under e's salt. */
static int
hash_match(EVP_MAC_CTX *ctx, const struct kh_entry *e, const char *name)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t len = 0;

	return EVP_MAC_init(ctx, e->salt, e->saltlen, NULL) == 1 &&
	    EVP_MAC_update(ctx, (const unsigned char *)name,
	    strlen(name)) == 1 &&
	    EVP_MAC_final(ctx, md, &len, sizeof(md)) == 1 &&
	    len == KH_HASH_LEN && memcmp(md, e->hash, KH_HASH_LEN) == 0;
}

/* "|1|salt|hash" into e; 0 or -1. */
static int
parse_hashed(struct kh_entry *e, const char *h)
{
	const char *bar;
	size_t n = strlen(h);
	long sl, hl;

	if (n < 4 || (bar = memchr(h + 3, '|', n - 3)) == NULL)
		return -1;
	sl = b64dec(h + 3, (size_t)(bar - h - 3), e->salt, sizeof(e->salt));
	hl = b64dec(bar + 1, n - (size_t)(bar + 1 - h), e->hash,
	    sizeof(e->hash));
	if (sl <= 0 || hl != KH_HASH_LEN)
		return -1;
	e->saltlen = (size_t)sl;
	return 0;
}

/* Split s at blanks into at most max fields; the number found. */
static size_t
split(char *s, char **f, size_t max)
{
	char *save = NULL, *t;
	size_t n;

	for (n = 0; n < max; n++) {
		t = strtok_r(n == 0 ? s : NULL, " \t\r\n", &save);
		if (t == NULL)
			break;
		f[n] = t;
	}
	return n;
}

/* The marker of field f (@...), or -1 for one OpenSSH does not know. */
static int
marker_of(const char *f)
{
	if (strcmp(f, "@revoked") == 0)
		return KH_REVOKED;
	if (strcmp(f, "@cert-authority") == 0)
		return KH_CA;
	return -1;
}

static void
add_entry(struct known_hosts *kh, const struct kh_entry *e)
{
	if (kh->n == kh->cap) {
		kh->cap = kh->cap ? kh->cap * 2 : 64;
		kh->e = xrealloc(kh->e, kh->cap * sizeof(*kh->e));
	}
	kh->e[kh->n++] = *e;
}

/*
 * One line: "[@marker] names type key [comment]"; comments, unknown
 * markers and malformed lines are skipped, as by OpenSSH.  The host field
 * of a @revoked line is not looked at: the key is refused for any host.
 */
static void
parse_line(struct known_hosts *kh, char *line, const char *file,
    unsigned long lineno)
{
	struct kh_entry e;
	char *f[4];
	size_t nf, k = 0;
	int m = KH_KEY;

	memset(&e, 0, sizeof(e));
	nf = split(line, f, 4);
	if (nf == 0 || f[0][0] == '#')
		return;
	if (f[0][0] == '@') {
		if ((m = marker_of(f[0])) < 0)
			return;
		k = 1;
	}
	if (nf < k + 3)
		return;
	e.marker = (enum kh_marker)m;
	if (m != KH_REVOKED && strncmp(f[k], "|1|", 3) == 0) {
		if (parse_hashed(&e, f[k]) != 0)
			return;
	} else if (m != KH_REVOKED) {
		e.names = xstrdup(f[k]);
		lower(e.names);
	}
	e.type_key = xasprintf("%s %s", f[k + 1], f[k + 2]);
	e.file = file;
	e.line = lineno;
	add_entry(kh, &e);
}

static int
load_file(struct known_hosts *kh, const char *path, char **msg)
{
	char *line = NULL;
	size_t cap = 0, total = 0;
	unsigned long lineno = 0;
	ssize_t n;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		*msg = xasprintf("known_hosts %s: %s", path, strerror(errno));
		return ERR_IO;
	}
	while ((n = getline(&line, &cap, f)) > 0 &&
	    (total += (size_t)n) <= KH_FILE_MAX)
		parse_line(kh, line, path, ++lineno);
	free(line);
	fclose(f);
	return 0;
}

static int
name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c != 0 ? c : alen < blen ? -1 : alen > blen;
}

static int
idx_cmp(const void *pa, const void *pb)
{
	const struct kh_name *a = pa, *b = pb;
	int c = name_cmp(a->name, a->len, b->name, b->len);

	return c != 0 ? c : a->entry < b->entry ? -1 : a->entry > b->entry;
}

static void
idx_add(struct known_hosts *kh, size_t *cap, const char *p, size_t len,
    size_t entry)
{
	if (kh->nidx == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		kh->idx = xrealloc(kh->idx, *cap * sizeof(*kh->idx));
	}
	kh->idx[kh->nidx].name = p;
	kh->idx[kh->nidx].len = len;
	kh->idx[kh->nidx++].entry = entry;
}

/*
 * Index the names of lines without patterns and list the others, so a
 * lookup costs a binary search plus one HMAC or pattern match per listed
 * line instead of a pass over every name of the file.
 */
static void
build_index(struct known_hosts *kh)
{
	size_t i, cap = 0;
	const char *p, *comma;

	kh->scan = xcalloc(kh->n ? kh->n : 1, sizeof(*kh->scan));
	kh->revoked = xcalloc(kh->n ? kh->n : 1, sizeof(*kh->revoked));
	for (i = 0; i < kh->n; i++) {
		if (kh->e[i].marker == KH_REVOKED) {
			kh->revoked[kh->nrevoked++] = i;
			continue;
		}
		if (kh->e[i].names == NULL ||
		    strpbrk(kh->e[i].names, "*?!") != NULL) {
			kh->scan[kh->nscan++] = i;
			continue;
		}
		for (p = kh->e[i].names; p != NULL; p = comma ? comma + 1 :
		    NULL) {
			comma = strchr(p, ',');
			idx_add(kh, &cap, p, comma ? (size_t)(comma - p) :
			    strlen(p), i);
		}
	}
	if (kh->nidx > 1)
		qsort(kh->idx, kh->nidx, sizeof(*kh->idx), idx_cmp);
}

/* Hashed lines need HMAC-SHA1: fetch it once and make sure it works. */
static int
setup_hmac(struct known_hosts *kh, char **msg)
{
	static const unsigned char key[1];
	EVP_MAC_CTX *ctx = NULL;
	size_t i;
	int ok;

	for (i = 0; i < kh->nscan && kh->e[kh->scan[i]].names != NULL; i++)
		;
	if (i == kh->nscan)
		return 0;
	ok = (kh->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL &&
	    (ctx = hmac_sha1_new(kh->hmac)) != NULL &&
	    EVP_MAC_init(ctx, key, sizeof(key), NULL) == 1;
	EVP_MAC_CTX_free(ctx);
	if (ok)
		return 0;
	*msg = xasprintf("known_hosts %s: hashed names need HMAC-SHA1, "
	    "which OpenSSL does not offer here", kh->e[kh->scan[i]].file);
	return ERR_CRYPTO;
}

int
known_hosts_load(const char *path, const char *path2,
    struct known_hosts **out, char **msg)
{
	struct known_hosts *kh = xcalloc(1, sizeof(*kh));
	int rc;

	*msg = NULL;
	kh->files[0] = xstrdup(path);
	if ((rc = load_file(kh, kh->files[0], msg)) == 0 &&
	    path2 != NULL && access(path2, F_OK) == 0) {
		kh->files[1] = xstrdup(path2);
		rc = load_file(kh, kh->files[1], msg);
	}
	if (rc == 0) {
		build_index(kh);
		rc = setup_hmac(kh, msg);
	}
	if (rc != 0) {
		known_hosts_free(kh);
		return rc;
	}
	*out = kh;
	return 0;
}

/* First index position whose name is not below name. */
static size_t
idx_lower(const struct known_hosts *kh, const char *name, size_t n)
{
	size_t lo = 0, hi = kh->nidx, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (name_cmp(kh->idx[mid].name, kh->idx[mid].len, name, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
hits_add(struct kh_hits *h, size_t entry)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	h->v[h->n++] = entry;
}

static int
size_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	return a < b ? -1 : a > b;
}

/* The lines that apply to name (lower case), in file order, once each. */
static void
find(const struct known_hosts *kh, const char *name, struct kh_hits *h)
{
	EVP_MAC_CTX *ctx = NULL;
	const struct kh_entry *e;
	size_t i, j, n = strlen(name);

	for (i = idx_lower(kh, name, n); i < kh->nidx &&
	    name_cmp(kh->idx[i].name, kh->idx[i].len, name, n) == 0; i++)
		hits_add(h, kh->idx[i].entry);
	for (i = 0; i < kh->nscan; i++) {
		e = &kh->e[kh->scan[i]];
		if (e->names == NULL && ctx == NULL &&
		    (ctx = hmac_sha1_new(kh->hmac)) == NULL)
			fatal_nomem();	/* it worked at load time */
		if (e->names != NULL ? sshmatch_list(name, e->names, 0) == 1 :
		    hash_match(ctx, e, name))
			hits_add(h, kh->scan[i]);
	}
	EVP_MAC_CTX_free(ctx);
	if (h->n > 1)
		qsort(h->v, h->n, sizeof(*h->v), size_cmp);
	for (i = j = 0; i < h->n; i++)	/* "a,a" on one line */
		if (j == 0 || h->v[j - 1] != h->v[i])
			h->v[j++] = h->v[i];
	h->n = j;
}

static void
add_marker(struct strbuf *b, const char *marker, const struct kh_entry *e)
{
	strbuf_addf(b, "%s * %s %s line %lu\n", marker, e->type_key, e->file,
	    e->line);
}

char *
known_hosts_for(const struct known_hosts *kh, const char *host, int port)
{
	struct kh_hits h = { NULL, 0, 0 };
	const struct kh_entry *e;
	struct strbuf b;
	char *shown, *name;
	size_t i;

	shown = port == 22 ? xstrdup(host) : xasprintf("[%s]:%d", host, port);
	name = xstrdup(shown);
	lower(name);
	find(kh, name, &h);
	strbuf_init(&b);
	for (i = 0; i < h.n; i++) {
		e = &kh->e[h.v[i]];
		if (e->marker == KH_KEY)
			strbuf_addf(&b, "%s %s\n", shown, e->type_key);
	}
	for (i = 0; i < h.n; i++) {
		e = &kh->e[h.v[i]];
		if (e->marker == KH_CA)
			add_marker(&b, "@cert-authority", e);
	}
	for (i = 0; i < kh->nrevoked; i++)
		add_marker(&b, "@revoked", &kh->e[kh->revoked[i]]);
	free(h.v);
	free(name);
	free(shown);
	return strbuf_steal(&b);
}

/*
 * If s[0..n) is a line "MARKER * TYPE KEY FILE line N" (as add_marker
 * writes it), point key and at at its key and its place; 1, else 0.
 */
static int
marker_fields(const char *s, size_t n, const char *marker,
    const char **key, size_t *klen, const char **at, size_t *alen)
{
	const char *p = s, *end = s + n, *f = s;
	size_t ml = strlen(marker);
	int i;

	if (n <= ml || memcmp(s, marker, ml) != 0 || s[ml] != ' ')
		return 0;
	for (i = 0; i < 4; i++) {	/* marker, "*", type, key */
		f = p;
		if ((p = memchr(p, ' ', (size_t)(end - p))) == NULL)
			return 0;
		p++;
	}
	*key = f;
	*klen = (size_t)(p - 1 - f);
	*at = p;
	*alen = (size_t)(end - p);
	return 1;
}

static void
copy_place(char *where, size_t wherelen, const char *at, size_t alen)
{
	if (wherelen == 0)
		return;
	if (alen >= wherelen)
		alen = wherelen - 1;
	memcpy(where, at, alen);
	where[alen] = '\0';
}

/*
 * The first line of lines that is a marker line of this kind and, when
 * blob is not NULL, holds that key; 1 with its place in where, else 0.
 */
static int
find_marker(const char *lines, const char *marker, const unsigned char *blob,
    size_t len, char *where, size_t wherelen)
{
	const char *s, *nl, *key, *at;
	unsigned char *buf = xmalloc(len + 1);
	size_t klen, alen;
	int found = 0;

	for (s = lines; !found && *s != '\0'; s = *nl ? nl + 1 : nl) {
		nl = s + strcspn(s, "\n");
		if (!marker_fields(s, (size_t)(nl - s), marker, &key, &klen,
		    &at, &alen))
			continue;
		found = blob == NULL || (b64dec(key, klen, buf, len + 1) ==
		    (long)len && memcmp(buf, blob, len) == 0);
		if (found)
			copy_place(where, wherelen, at, alen);
	}
	free(buf);
	return found;
}

int
known_hosts_revoked(const char *lines, const unsigned char *blob,
    size_t len, char *where, size_t wherelen)
{
	return blob != NULL && find_marker(lines, "@revoked", blob, len,
	    where, wherelen);
}

int
known_hosts_cert_authority(const char *lines, char *where, size_t wherelen)
{
	return find_marker(lines, "@cert-authority", NULL, 0, where,
	    wherelen);
}

size_t
known_hosts_count(const struct known_hosts *kh)
{
	return kh->n;
}

void
known_hosts_free(struct known_hosts *kh)
{
	size_t i;

	if (kh == NULL)
		return;
	for (i = 0; i < kh->n; i++) {
		free(kh->e[i].names);
		free(kh->e[i].type_key);
	}
	free(kh->e);
	free(kh->idx);
	free(kh->scan);
	free(kh->revoked);
	free(kh->files[0]);
	free(kh->files[1]);
	EVP_MAC_free(kh->hmac);
	free(kh);
}
