#include "knownhosts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define KH_SHA_NI 1
#endif

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"

#define KH_FILE_MAX	(64 * 1024 * 1024)

struct sha1 {
	unsigned int h[5];
};

/* One SHA-1 compression: the portable one or the SHA-NI one. */
typedef void (*sha1_block_fn)(struct sha1 *, const unsigned char *);

struct kh_entry {
	char *names;		/* "a,b,[c]:2222" for plain lines, or NULL */
	unsigned char hash[20];	/* hashed lines: the name's HMAC, */
	struct sha1 in, out;	/* and the salt's pad states */
	char *type_key;		/* "ssh-ed25519 AAAA..." */
};

/* One name of a plain line, for the index. */
struct kh_name {
	const char *name;	/* into e[entry].names, not terminated */
	size_t len, entry;
};

struct known_hosts {
	struct kh_entry *e;
	size_t n, cap;
	struct kh_name *idx;	/* plain names sorted by name, then entry */
	size_t nidx;
	size_t *hashed;		/* indices of hashed entries, in file order */
	size_t nhashed;
	sha1_block_fn block;	/* chosen once for this CPU */
};


/*
 * SHA-1 (FIPS 180-4), just enough for HMAC-SHA1 of host names against
 * known_hosts' hashed entries: the inner and outer states after the key
 * pads are computed once per entry, so each (entry, host) pair costs two
 * compressions instead of a full HMAC through a library.
 */
static unsigned int
rol(unsigned int x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void
sha1_block(struct sha1 *s, const unsigned char *p)
{
	unsigned int w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (unsigned int)p[4 * i] << 24 |
		    (unsigned int)p[4 * i + 1] << 16 |
		    (unsigned int)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3]; e = s->h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d; d = c; c = rol(b, 30); b = a; a = t;
	}
	s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d; s->h[4] += e;
}

#ifdef KH_SHA_NI
/*
 * The same compression with the x86 SHA extensions (Intel since Goldmont
 * and Ice Lake, AMD since Zen): 20 groups of 4 rounds.  The state lanes
 * hold A..D high to low and E in the top lane; the message words are
 * loaded big-endian with W0 in the top lane, as the instructions expect.
 */
#define SHA1_GROUP(f) do {						\
	if (g >= 4)							\
		w[g & 3] = _mm_sha1msg2_epu32(_mm_xor_si128(		\
		    _mm_sha1msg1_epu32(w[g & 3], w[(g + 1) & 3]),	\
		    w[(g + 2) & 3]), w[(g + 3) & 3]);			\
	e = g == 0 ? _mm_add_epi32(e, w[0]) :				\
	    _mm_sha1nexte_epu32(prev, w[g & 3]);			\
	prev = abcd;							\
	abcd = _mm_sha1rnds4_epu32(abcd, e, f);				\
	g++;								\
} while (0)

__attribute__((target("sha,sse4.1,ssse3")))
static void
sha1_block_ni(struct sha1 *s, const unsigned char *p)
{
	const __m128i bswap = _mm_set_epi64x(0x0001020304050607LL,
	    0x08090a0b0c0d0e0fLL);
	__m128i abcd, abcd0, e, e0, prev, w[4];
	int g = 0, i;

	abcd = _mm_shuffle_epi32(_mm_loadu_si128((const void *)s->h), 0x1b);
	e = e0 = _mm_set_epi32((int)s->h[4], 0, 0, 0);
	abcd0 = prev = abcd;
	for (i = 0; i < 4; i++)
		w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const void *)(p +
		    16 * i)), bswap);
	for (i = 0; i < 5; i++)
		SHA1_GROUP(0);
	for (i = 0; i < 5; i++)
		SHA1_GROUP(1);
	for (i = 0; i < 5; i++)
		SHA1_GROUP(2);
	for (i = 0; i < 5; i++)
		SHA1_GROUP(3);
	e = _mm_sha1nexte_epu32(prev, e0);
	abcd = _mm_shuffle_epi32(_mm_add_epi32(abcd, abcd0), 0x1b);
	_mm_storeu_si128((void *)s->h, abcd);
	s->h[4] = (unsigned int)_mm_extract_epi32(e, 3);
}
#undef SHA1_GROUP
#endif

/* The fastest compression this CPU runs. */
static sha1_block_fn
sha1_pick(void)
{
#ifdef KH_SHA_NI
	unsigned int a, b, c, d;

	if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_1) &&
	    (c & bit_SSSE3) && __get_cpuid_count(7, 0, &a, &b, &c, &d) &&
	    (b & bit_SHA))
		return sha1_block_ni;
#endif
	return sha1_block;
}

static void
sha1_init(struct sha1 *s)
{
	static const unsigned int iv[5] = {
		0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0,
	};

	memcpy(s->h, iv, sizeof(iv));
}

/*
 * Finish a hash whose state s has consumed done bytes (whole blocks) with
 * the last n bytes of msg (n <= 55, so one block), into out.
 */
static void
sha1_last(sha1_block_fn block, struct sha1 s, size_t done,
    const unsigned char *msg, size_t n, unsigned char out[20])
{
	unsigned char blk[64];
	unsigned long long bits = (unsigned long long)(done + n) * 8;
	int i;

	memset(blk, 0, sizeof(blk));
	memcpy(blk, msg, n);
	blk[n] = 0x80;
	for (i = 0; i < 8; i++)
		blk[63 - i] = (unsigned char)(bits >> (8 * i));
	block(&s, blk);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(s.h[i / 4] >> (24 - 8 * (i % 4)));
}

/* The states after the key's inner and outer pad blocks. */
static void
hmac_pads(sha1_block_fn block, const unsigned char *key, size_t keylen,
    struct sha1 *in, struct sha1 *outer)
{
	unsigned char ipad[64], opad[64], k[20];
	struct sha1 t;
	size_t i;

	if (keylen > 64) {	/* never for OpenSSH's 20-byte salts */
		sha1_init(&t);
		for (i = 0; i + 64 <= keylen; i += 64)
			block(&t, key + i);
		sha1_last(block, t, i, key + i, keylen - i, k);
		key = k;
		keylen = 20;
	}
	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (i = 0; i < keylen; i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
	sha1_init(in);
	block(in, ipad);
	sha1_init(outer);
	block(outer, opad);
}

/* HMAC-SHA1 of a name of at most 55 bytes from precomputed pads. */
static void
hmac_name(sha1_block_fn block, const struct sha1 *in,
    const struct sha1 *outer, const char *name, size_t n,
    unsigned char out[20])
{
	unsigned char inner[20];

	sha1_last(block, *in, 64, (const unsigned char *)name, n, inner);
	sha1_last(block, *outer, 64, inner, sizeof(inner), out);
}

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

/* "|1|salt|hash" into e; 0 or -1. */
static int
parse_hashed(const struct known_hosts *kh, struct kh_entry *e, const char *h,
    size_t n)
{
	unsigned char salt[64];
	const char *bar;
	long sl, hl;

	if (n < 4 || (bar = memchr(h + 3, '|', n - 3)) == NULL)
		return -1;
	sl = b64dec(h + 3, (size_t)(bar - h - 3), salt, sizeof(salt));
	hl = b64dec(bar + 1, n - (size_t)(bar + 1 - h), e->hash,
	    sizeof(e->hash));
	if (sl <= 0 || hl != 20)
		return -1;
	hmac_pads(kh->block, salt, (size_t)sl, &e->in, &e->out);
	return 0;
}

/* One line: "names type key [comment]"; markers and junk are skipped. */
static void
parse_line(struct known_hosts *kh, char *line)
{
	char *names, *type, *key, *save = NULL;
	struct kh_entry e;

	memset(&e, 0, sizeof(e));
	line += strspn(line, " \t");
	if (*line == '#' || *line == '@' || *line == '\0')
		return;
	names = strtok_r(line, " \t", &save);
	type = strtok_r(NULL, " \t", &save);
	key = strtok_r(NULL, " \t\r\n", &save);
	if (names == NULL || type == NULL || key == NULL)
		return;
	if (strncmp(names, "|1|", 3) == 0) {
		if (parse_hashed(kh, &e, names, strlen(names)) != 0)
			return;
	} else if (strpbrk(names, "*?!") == NULL) {
		e.names = xstrdup(names);
	} else {
		return;
	}
	e.type_key = xasprintf("%s %s", type, key);
	if (kh->n == kh->cap) {
		kh->cap = kh->cap ? kh->cap * 2 : 64;
		kh->e = xrealloc(kh->e, kh->cap * sizeof(*kh->e));
	}
	kh->e[kh->n++] = e;
}

static int
load_file(struct known_hosts *kh, const char *path, char *err,
    size_t errlen)
{
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t n;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "known_hosts %s: %s", path,
		    strerror(errno));
		return ERR_IO;
	}
	while ((n = getline(&line, &cap, f)) > 0 &&
	    (total += (size_t)n) <= KH_FILE_MAX)
		parse_line(kh, line);
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

/*
 * Index the names of plain lines and list the hashed lines, so a lookup
 * costs a binary search plus one HMAC per hashed line instead of a pass
 * over every name of the file (1000 hosts x 2000 lines in a big fleet).
 */
static void
build_index(struct known_hosts *kh)
{
	size_t i, cap = 0;
	const char *p, *comma;

	kh->hashed = xcalloc(kh->n ? kh->n : 1, sizeof(*kh->hashed));
	for (i = 0; i < kh->n; i++) {
		if (kh->e[i].names == NULL) {
			kh->hashed[kh->nhashed++] = i;
			continue;
		}
		for (p = kh->e[i].names; p != NULL; p = comma ? comma + 1 :
		    NULL) {
			comma = strchr(p, ',');
			if (kh->nidx == cap) {
				cap = cap ? cap * 2 : 64;
				kh->idx = xrealloc(kh->idx, cap *
				    sizeof(*kh->idx));
			}
			kh->idx[kh->nidx].name = p;
			kh->idx[kh->nidx].len = comma ? (size_t)(comma - p) :
			    strlen(p);
			kh->idx[kh->nidx++].entry = i;
		}
	}
	if (kh->nidx > 1)
		qsort(kh->idx, kh->nidx, sizeof(*kh->idx), idx_cmp);
}

int
known_hosts_load(const char *path, const char *path2,
    struct known_hosts **out, char *err, size_t errlen)
{
	struct known_hosts *kh = xcalloc(1, sizeof(*kh));
	int rc;

	kh->block = sha1_pick();
	if ((rc = load_file(kh, path, err, errlen)) == 0 && path2 != NULL &&
	    access(path2, F_OK) == 0)
		rc = load_file(kh, path2, err, errlen);
	if (rc != 0) {
		known_hosts_free(kh);
		return rc;
	}
	build_index(kh);
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

char *
known_hosts_for(const struct known_hosts *kh, const char *host, int port)
{
	unsigned char h[20];
	struct strbuf b;
	char *name;
	size_t n, p, q, e, last = (size_t)-1;
	int hashed_hit;

	name = port == 22 ? xstrdup(host) : xasprintf("[%s]:%d", host, port);
	n = strlen(name);
	strbuf_init(&b);
	/* merge the plain hits (index order = file order) with the hashed */
	p = idx_lower(kh, name, n);
	for (q = 0; q <= kh->nhashed; q++) {
		e = q < kh->nhashed ? kh->hashed[q] : kh->n;
		for (; p < kh->nidx && kh->idx[p].len == n &&
		    memcmp(kh->idx[p].name, name, n) == 0 &&
		    kh->idx[p].entry < e; p++) {
			if (kh->idx[p].entry == last)
				continue;	/* "a,a" on one line */
			last = kh->idx[p].entry;
			strbuf_addf(&b, "%s %s\n", name,
			    kh->e[last].type_key);
		}
		if (q == kh->nhashed || n > 55)	/* no host name is that long */
			continue;
		hmac_name(kh->block, &kh->e[e].in, &kh->e[e].out, name, n, h);
		hashed_hit = memcmp(h, kh->e[e].hash, sizeof(h)) == 0;
		if (hashed_hit)
			strbuf_addf(&b, "%s %s\n", name, kh->e[e].type_key);
	}
	free(name);
	return strbuf_steal(&b);
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
	free(kh->hashed);
	free(kh);
}
