/*
 * test_transport_knownhosts.c: known_hosts read once and matched per host
 * as OpenSSH matches it: plain names, patterns and negations, names hashed
 * by OpenSSH's own ssh-keygen -H (long names and [host]:port included,
 * and ssh-keygen -F asked which lines it finds), @revoked and
 * @cert-authority lines.
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
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/knownhosts.h"

/* 58 bytes: over the 55 that fit one SHA-1 block with its padding */
#define LONGNAME "agent3.a-rather-long-subdomain.pem-estate.example.internal"

static const char plain[] =
    "# a comment\n"
    "10.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAA one\n"
    "10.0.0.2,db2.example.com ecdsa-sha2-nistp256 AAAAE2VjZHNh two\n"
    "[10.0.0.3]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBB\n"
    "10.0.0.1 ecdsa-sha2-nistp256 AAAAE2VjZHNhCCC\n"
    "@cert-authority *.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDDD\n"
    "*.wild ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEEE\n"
    "@unknown-marker 10.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFFF\n"
    "broken-line-without-key\n";

static char *
write_tmp(const char *text)
{
	char *path = xstrdup("/tmp/pemrt-kh-XXXXXX");
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static struct known_hosts *
load(const char *path)
{
	struct known_hosts *kh = NULL;
	char *msg;

	assert_int_equal(known_hosts_load(path, NULL, &kh, &msg), 0);
	assert_null(msg);
	return kh;
}

/* known_hosts_for(host, port) must be want (a printf format). */
static void __attribute__((format(printf, 4, 5)))
expect(const struct known_hosts *kh, const char *host, int port,
    const char *fmt, ...)
{
	char want[4096], *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	s = known_hosts_for(kh, host, port);
	assert_string_equal(s, want);
	free(s);
}

static void
test_plain(void **state)
{
	struct known_hosts *kh;
	char *p = write_tmp(plain);

	(void)state;
	kh = load(p);
	assert_int_equal(known_hosts_count(kh), 6);
	expect(kh, "10.0.0.1", 22,
	    "10.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAA\n"
	    "10.0.0.1 ecdsa-sha2-nistp256 AAAAE2VjZHNhCCC\n");
	expect(kh, "db2.example.com", 22,
	    "db2.example.com ecdsa-sha2-nistp256 AAAAE2VjZHNh\n"
	    "@cert-authority * ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDDD "
	    "%s line 6\n", p);
	expect(kh, "10.0.0.3", 2222,
	    "[10.0.0.3]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBB\n");
	expect(kh, "a.wild", 22,
	    "a.wild ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEEE\n");
	/* OpenSSH semantics: port 22 entries do not serve another port */
	expect(kh, "10.0.0.1", 2222, "%s", "");
	expect(kh, "10.0.0.", 22, "%s", "");	/* a prefix */
	known_hosts_free(kh);
	unlink(p);
	free(p);
}

/* Lists, '*', '?', '!' and case, as OpenSSH's match_hostname. */
static void
test_patterns(void **state)
{
	struct known_hosts *kh;
	char *p = write_tmp(
	    "*.example.com,!bad.example.com ssh-ed25519 K1\n"
	    "10.0.0.? ssh-ed25519 K2\n"
	    "[10.0.1.*]:2222 ssh-ed25519 K3\n"
	    "Web1.EXAMPLE.com ssh-ed25519 K4\n"
	    "!*,web1.example.com ssh-ed25519 K5\n"
	    "a*b*c ssh-ed25519 K6\n");

	(void)state;
	kh = load(p);
	expect(kh, "web1.example.com", 22,
	    "web1.example.com ssh-ed25519 K1\n"
	    "web1.example.com ssh-ed25519 K4\n");
	expect(kh, "WEB1.example.COM", 22,
	    "WEB1.example.COM ssh-ed25519 K1\n"
	    "WEB1.example.COM ssh-ed25519 K4\n");
	expect(kh, "bad.example.com", 22, "%s", "");
	expect(kh, "example.com", 22, "%s", "");
	expect(kh, "10.0.0.7", 22, "10.0.0.7 ssh-ed25519 K2\n");
	expect(kh, "10.0.0.17", 22, "%s", "");
	expect(kh, "10.0.0.7", 2222, "%s", "");
	expect(kh, "10.0.1.5", 2222, "[10.0.1.5]:2222 ssh-ed25519 K3\n");
	expect(kh, "10.0.1.5", 22, "%s", "");
	expect(kh, "axxbyyc", 22, "axxbyyc ssh-ed25519 K6\n");
	expect(kh, "abc", 22, "abc ssh-ed25519 K6\n");
	expect(kh, "axxbyycd", 22, "%s", "");
	known_hosts_free(kh);
	unlink(p);
	free(p);
}

/* "TYPE KEY" of a fresh key made by ssh-keygen. */
static char *
real_key(const char *type)
{
	char *cmd, buf[1024];
	size_t n;
	FILE *p;

	cmd = xasprintf("d=$(mktemp -d) && ssh-keygen -q -t %s -N '' -f $d/k "
	    "&& cut -d' ' -f1,2 $d/k.pub; rm -rf $d", type);
	p = popen(cmd, "r");
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	assert_int_equal(pclose(p), 0);
	buf[strcspn(buf, "\n")] = '\0';
	free(cmd);
	return xstrdup(buf);
}

/* Hash every name of path with ssh-keygen -H; none may stay readable. */
static void
hash_file(const char *path, const char *readable)
{
	char *cmd;

	cmd = xasprintf("ssh-keygen -q -H -f %s >/dev/null 2>&1 && "
	    "rm -f %s.old && ! grep -q '%s' %s", path, path, readable, path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void
test_hashed_by_ssh_keygen(void **state)
{
	struct known_hosts *kh;
	char *p, *text, *k1, *k2;

	(void)state;
	k1 = real_key("ed25519");
	k2 = real_key("ecdsa");
	text = xasprintf("10.0.0.1 %s\n10.0.0.2,db2.example.com %s\n"
	    "[10.0.0.3]:2222 %s\n[127.0.0.1]:2222 %s\n%s %s\n[%s]:2222 %s\n",
	    k1, k2, k1, k2, LONGNAME, k1, LONGNAME, k2);
	p = write_tmp(text);
	hash_file(p, "0\\.0\\|example");
	kh = load(p);
	assert_int_equal(known_hosts_count(kh), 7);
	expect(kh, "db2.example.com", 22, "db2.example.com %s\n", k2);
	expect(kh, "DB2.Example.com", 22, "DB2.Example.com %s\n", k2);
	expect(kh, "10.0.0.3", 2222, "[10.0.0.3]:2222 %s\n", k1);
	expect(kh, "127.0.0.1", 2222, "[127.0.0.1]:2222 %s\n", k2);
	expect(kh, "127.0.0.1", 22, "%s", "");
	expect(kh, LONGNAME, 22, "%s %s\n", LONGNAME, k1);
	expect(kh, LONGNAME, 2222, "[%s]:2222 %s\n", LONGNAME, k2);
	expect(kh, "10.0.0.3", 22, "%s", "");
	expect(kh, "10.0.0.9", 22, "%s", "");
	known_hosts_free(kh);
	unlink(p);
	free(p);
	free(text);
	free(k1);
	free(k2);
}

/* Plain and hashed lines for one host come back in file order. */
static void
test_mixed_order(void **state)
{
	struct known_hosts *kh;
	char *h, *p, *text, *k1, *k2, *hashed = NULL;
	size_t cap = 0;
	FILE *f;

	(void)state;
	k1 = real_key("ed25519");
	k2 = real_key("ecdsa");
	text = xasprintf("10.0.0.1 %s\n", k2);
	h = write_tmp(text);
	hash_file(h, "10\\.0");
	f = fopen(h, "r");
	assert_true(getline(&hashed, &cap, f) > 0);
	fclose(f);
	free(text);
	/* plain ed25519, other host, hashed ecdsa, plain "a,a" ed25519 */
	text = xasprintf("10.0.0.1 %s\n10.0.0.2 %s\n%s10.0.0.1,10.0.0.1 %s\n",
	    k1, k2, hashed, k1);
	p = write_tmp(text);
	kh = load(p);
	expect(kh, "10.0.0.1", 22, "10.0.0.1 %s\n10.0.0.1 %s\n10.0.0.1 %s\n",
	    k1, k2, k1);
	known_hosts_free(kh);
	unlink(p);
	unlink(h);
	free(p);
	free(h);
	free(text);
	free(hashed);
	free(k1);
	free(k2);
}

/* The "TYPE KEY" of every key line (no marker) of text, in order. */
static char *
key_lines(const char *text)
{
	struct strbuf b;
	const char *s, *nl, *sp;

	strbuf_init(&b);
	for (s = text; *s != '\0'; s = *nl ? nl + 1 : nl) {
		nl = s + strcspn(s, "\n");
		if (*s == '@' || *s == '#' || (sp = memchr(s, ' ',
		    (size_t)(nl - s))) == NULL)
			continue;
		strbuf_add(&b, sp + 1, (size_t)(nl - sp - 1));
		strbuf_adds(&b, "\n");
	}
	return strbuf_steal(&b);
}

/* What ssh-keygen -F finds for name in path, as key_lines() gives it. */
static char *
openssh_finds(const char *path, const char *name)
{
	char *cmd, *all, *keys;
	struct strbuf b;
	char buf[4096];
	size_t n;
	FILE *p;

	cmd = xasprintf("ssh-keygen -F '%s' -f %s 2>/dev/null | "
	    "cut -d' ' -f1-3", name, path);
	p = popen(cmd, "r");
	strbuf_init(&b);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		strbuf_add(&b, buf, n);
	pclose(p);
	all = strbuf_steal(&b);
	keys = key_lines(all);
	free(all);
	free(cmd);
	return keys;
}

static int
count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* For each lookup, the key lines found are those ssh-keygen -F finds. */
static void
test_openssh_agrees(void **state)
{
	static const struct {
		const char *host;
		int port, nkeys;	/* how many lines it finds */
	} look[] = {
		{ "web1.example.com", 22, 1 }, { "bad.example.com", 22, 0 },
		{ "10.0.0.7", 22, 2 }, { "10.0.0.17", 22, 0 },
		{ "10.0.1.5", 2222, 1 }, { "10.0.1.5", 22, 0 },
		{ "127.0.0.1", 2222, 1 }, { "127.0.0.1", 22, 0 },
		{ LONGNAME, 22, 1 }, { LONGNAME, 2222, 1 },
		{ "x.wild", 22, 1 },
	};
	struct known_hosts *kh;
	char *k[8], *text, *p, *h, *name, *ours, *theirs, *all;
	size_t i;

	(void)state;
	for (i = 0; i < 8; i++)
		k[i] = real_key("ed25519");
	h = xasprintf("[127.0.0.1]:2222 %s\n%s %s\n[%s]:2222 %s\n"
	    "10.0.0.7 %s\n", k[0], LONGNAME, k[1], LONGNAME, k[2], k[3]);
	p = write_tmp(h);
	hash_file(p, "0\\.0\\|example");
	text = xasprintf("*.example.com,!bad.example.com %s\n10.0.0.? %s\n"
	    "[10.0.1.*]:2222 %s\n!*,web1.example.com %s\n*.wild %s\n",
	    k[4], k[5], k[6], k[7], k[4]);
	free(h);
	h = xasprintf("cat >>%s <<'EOF'\n%sEOF\n", p, text);
	assert_int_equal(system(h), 0);
	kh = load(p);
	for (i = 0; i < sizeof(look) / sizeof(look[0]); i++) {
		name = look[i].port == 22 ? xstrdup(look[i].host) :
		    xasprintf("[%s]:%d", look[i].host, look[i].port);
		all = known_hosts_for(kh, look[i].host, look[i].port);
		ours = key_lines(all);
		theirs = openssh_finds(p, name);
		assert_string_equal(ours, theirs);
		assert_int_equal(count_lines(ours), look[i].nkeys);
		free(all);
		free(ours);
		free(theirs);
		free(name);
	}
	known_hosts_free(kh);
	unlink(p);
	free(p);
	free(h);
	free(text);
	for (i = 0; i < 8; i++)
		free(k[i]);
}

/* The SSH blob of "TYPE BASE64" (what a server sends as its host key). */
static unsigned char *
blob_of(const char *type_key, size_t *len)
{
	const char *b64 = strchr(type_key, ' ') + 1;
	size_t n = strlen(b64);
	unsigned char *out = xmalloc(n);
	int r = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);

	assert_true(r > 0);
	*len = (size_t)r - (n > 0 && b64[n - 1] == '=') -
	    (n > 1 && b64[n - 2] == '=');
	return out;
}

/* @revoked applies to the key whatever the host field says. */
static void
test_revoked(void **state)
{
	struct known_hosts *kh;
	char *k1, *k2, *k3, *p, *text, *s, *want, where[256];
	unsigned char *b1, *b2, *b3;
	size_t l1, l2, l3;

	(void)state;
	k1 = real_key("ed25519");
	k2 = real_key("ecdsa");
	k3 = real_key("ed25519");
	text = xasprintf("10.0.0.1 %s\n10.0.0.1 %s\n"
	    "@revoked some-other-host %s\n# two\n@revoked * %s\n", k1, k3,
	    k1, k2);
	p = write_tmp(text);
	kh = load(p);
	assert_int_equal(known_hosts_count(kh), 4);
	s = known_hosts_for(kh, "10.0.0.9", 22);	/* any host */
	want = xasprintf("@revoked * %s %s line 3\n@revoked * %s %s line 5\n",
	    k1, p, k2, p);
	assert_string_equal(s, want);
	b1 = blob_of(k1, &l1);
	b2 = blob_of(k2, &l2);
	b3 = blob_of(k3, &l3);
	assert_int_equal(known_hosts_revoked(s, b1, l1, where,
	    sizeof(where)), 1);
	free(want);
	want = xasprintf("%s line 3", p);
	assert_string_equal(where, want);
	assert_int_equal(known_hosts_revoked(s, b2, l2, where,
	    sizeof(where)), 1);
	assert_int_equal(known_hosts_revoked(s, b3, l3, where,
	    sizeof(where)), 0);
	assert_int_equal(known_hosts_revoked(s, b1, l1 - 1, where,
	    sizeof(where)), 0);		/* a prefix of the key */
	assert_int_equal(known_hosts_cert_authority(s, where, sizeof(where)),
	    0);
	free(s);
	/* the host's own line stays, the revoked key is still marked */
	s = known_hosts_for(kh, "10.0.0.1", 22);
	assert_non_null(strstr(s, k3));
	assert_int_equal(known_hosts_revoked(s, b1, l1, where,
	    sizeof(where)), 1);
	free(s);
	known_hosts_free(kh);
	unlink(p);
	free(p);
	free(want);
	free(text);
	free(b1);
	free(b2);
	free(b3);
	free(k1);
	free(k2);
	free(k3);
}

static void
test_cert_authority(void **state)
{
	struct known_hosts *kh;
	char *k1, *p, *text, *s, *want, where[256];

	(void)state;
	k1 = real_key("ed25519");
	text = xasprintf("# ca\n@cert-authority *.example.com,!h2.example.com "
	    "%s\n", k1);
	p = write_tmp(text);
	hash_file(p, "nothing-to-hash");	/* CA lines are left alone */
	kh = load(p);
	s = known_hosts_for(kh, "h1.example.com", 22);
	want = xasprintf("@cert-authority * %s %s line 2\n", k1, p);
	assert_string_equal(s, want);
	assert_int_equal(known_hosts_cert_authority(s, where, sizeof(where)),
	    1);
	free(want);
	want = xasprintf("%s line 2", p);
	assert_string_equal(where, want);
	free(s);
	s = known_hosts_for(kh, "h2.example.com", 22);
	assert_string_equal(s, "");
	assert_int_equal(known_hosts_cert_authority(s, where, sizeof(where)),
	    0);
	free(s);
	known_hosts_free(kh);
	unlink(p);
	free(p);
	free(want);
	free(text);
	free(k1);
}

static void
test_missing_file(void **state)
{
	struct known_hosts *kh = NULL;
	char *msg;

	(void)state;
	assert_int_equal(known_hosts_load("/nonexistent/kh", NULL, &kh, &msg),
	    ERR_IO);
	assert_string_equal(msg, "known_hosts /nonexistent/kh: No such file "
	    "or directory");
	free(msg);
	assert_null(kh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_hashed_by_ssh_keygen),
		cmocka_unit_test(test_mixed_order),
		cmocka_unit_test(test_openssh_agrees),
		cmocka_unit_test(test_revoked),
		cmocka_unit_test(test_cert_authority),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
