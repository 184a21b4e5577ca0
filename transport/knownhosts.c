#include "knownhosts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"

#define KH_FILE_MAX	(64 * 1024 * 1024)

struct kh_entry {
	char *names;		/* "a,b,[c]:2222" for plain lines, or NULL */
	unsigned char salt[64], hash[20];
	size_t saltlen;		/* hashed lines: salt and hash */
	char *type_key;		/* "ssh-ed25519 AAAA..." */
};

struct known_hosts {
	struct kh_entry *e;
	size_t n, cap;
};

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode base64 s[0..n) into out (at most max bytes); -1 if malformed. */
static long
b64dec(const char *s, size_t n, unsigned char *out, size_t max)
{
	unsigned long acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	for (i = 0; i < n && s[i] != '='; i++) {
		if ((v = b64val((unsigned char)s[i])) < 0)
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
parse_hashed(struct kh_entry *e, const char *h, size_t n)
{
	const char *bar;
	long sl, hl;

	if (n < 4 || (bar = memchr(h + 3, '|', n - 3)) == NULL)
		return -1;
	sl = b64dec(h + 3, (size_t)(bar - h - 3), e->salt, sizeof(e->salt));
	hl = b64dec(bar + 1, n - (size_t)(bar + 1 - h), e->hash,
	    sizeof(e->hash));
	if (sl <= 0 || hl != 20)
		return -1;
	e->saltlen = (size_t)sl;
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
		if (parse_hashed(&e, names, strlen(names)) != 0)
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

int
known_hosts_load(const char *path, const char *path2,
    struct known_hosts **out, char *err, size_t errlen)
{
	struct known_hosts *kh = xcalloc(1, sizeof(*kh));
	int rc;

	if ((rc = load_file(kh, path, err, errlen)) == 0 && path2 != NULL &&
	    access(path2, F_OK) == 0)
		rc = load_file(kh, path2, err, errlen);
	if (rc != 0) {
		known_hosts_free(kh);
		return rc;
	}
	*out = kh;
	return 0;
}

/* Whether the comma-separated list names holds name exactly. */
static int
names_hold(const char *names, const char *name)
{
	size_t n = strlen(name);
	const char *p = names;

	while (p != NULL) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return 0;
}

char *
known_hosts_for(const struct known_hosts *kh, const char *host, int port,
    known_hosts_hmac_fn *hmac)
{
	unsigned char h[20];
	struct strbuf b;
	char *name;
	size_t i;
	int hit;

	name = port == 22 ? xstrdup(host) : xasprintf("[%s]:%d", host, port);
	strbuf_init(&b);
	for (i = 0; i < kh->n; i++) {
		if (kh->e[i].names != NULL) {
			hit = names_hold(kh->e[i].names, name);
		} else {
			hmac(kh->e[i].salt, kh->e[i].saltlen, name,
			    strlen(name), h);
			hit = memcmp(h, kh->e[i].hash, sizeof(h)) == 0;
		}
		if (hit)
			strbuf_addf(&b, "%s %s\n", name, kh->e[i].type_key);
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
	free(kh);
}
