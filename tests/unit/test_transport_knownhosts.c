/*
 * test_transport_knownhosts.c: known_hosts read once and matched per host,
 * plain and hashed (hashed by OpenSSH's own ssh-keygen -H).
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


#include "common/err.h"
#include "common/xmem.h"
#include "transport/knownhosts.h"

static const char plain[] =
    "# a comment\n"
    "10.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAA one\n"
    "10.0.0.2,db2.example.com ecdsa-sha2-nistp256 AAAAE2VjZHNh two\n"
    "[10.0.0.3]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBB\n"
    "10.0.0.1 ecdsa-sha2-nistp256 AAAAE2VjZHNhCCC\n"
    "@cert-authority *.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDDD\n"
    "*.wild ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEEE\n"
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

static void
check_lookups(struct known_hosts *kh)
{
	char *s;

	s = known_hosts_for(kh, "10.0.0.1", 22);
	assert_string_equal(s,
	    "10.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAAA\n"
	    "10.0.0.1 ecdsa-sha2-nistp256 AAAAE2VjZHNhCCC\n");
	free(s);
	s = known_hosts_for(kh, "db2.example.com", 22);
	assert_string_equal(s,
	    "db2.example.com ecdsa-sha2-nistp256 AAAAE2VjZHNh\n");
	free(s);
	s = known_hosts_for(kh, "10.0.0.3", 2222);
	assert_string_equal(s,
	    "[10.0.0.3]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBBB\n");
	free(s);
	/* OpenSSH semantics: port 22 entries do not serve another port */
	s = known_hosts_for(kh, "10.0.0.1", 2222);
	assert_string_equal(s, "");
	free(s);
	s = known_hosts_for(kh, "10.0.0.", 22);	/* prefix */
	assert_string_equal(s, "");
	free(s);
}

static void
test_plain(void **state)
{
	struct known_hosts *kh = NULL;
	char err[256], *p = write_tmp(plain);

	(void)state;
	assert_int_equal(known_hosts_load(p, "/nonexistent", &kh, err,
	    sizeof(err)), 0);
	assert_int_equal(known_hosts_count(kh), 4);
	check_lookups(kh);
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

static void
test_hashed_by_ssh_keygen(void **state)
{
	struct known_hosts *kh = NULL;
	char err[256], *p, *cmd, *text, *k1, *k2, *s, *want;

	(void)state;
	k1 = real_key("ed25519");
	k2 = real_key("ecdsa");
	text = xasprintf("10.0.0.1 %s\n10.0.0.2,db2.example.com %s\n"
	    "[10.0.0.3]:2222 %s\n", k1, k2, k1);
	p = write_tmp(text);
	cmd = xasprintf("ssh-keygen -q -H -f %s >/dev/null 2>&1 && "
	    "rm -f %s.old && ! grep -q 10.0.0 %s", p, p, p);
	assert_int_equal(system(cmd), 0);	/* every name hashed */
	assert_int_equal(known_hosts_load(p, NULL, &kh, err, sizeof(err)), 0);
	assert_int_equal(known_hosts_count(kh), 4);
	s = known_hosts_for(kh, "db2.example.com", 22);
	want = xasprintf("db2.example.com %s\n", k2);
	assert_string_equal(s, want);
	free(s);
	free(want);
	s = known_hosts_for(kh, "10.0.0.3", 2222);
	want = xasprintf("[10.0.0.3]:2222 %s\n", k1);
	assert_string_equal(s, want);
	free(s);
	free(want);
	s = known_hosts_for(kh, "10.0.0.9", 22);
	assert_string_equal(s, "");
	free(s);
	known_hosts_free(kh);
	unlink(p);
	free(p);
	free(cmd);
	free(text);
	free(k1);
	free(k2);
}

/* Plain and hashed lines for one host come back in file order. */
static void
test_mixed_order(void **state)
{
	struct known_hosts *kh = NULL;
	char err[256], *h, *p, *cmd, *text, *k1, *k2, *s, *want, *hashed;
	FILE *f;
	size_t cap = 0;

	(void)state;
	k1 = real_key("ed25519");
	k2 = real_key("ecdsa");
	h = write_tmp("");
	f = fopen(h, "w");
	fprintf(f, "10.0.0.1 %s\n", k2);
	fclose(f);
	cmd = xasprintf("ssh-keygen -q -H -f %s >/dev/null 2>&1 && "
	    "rm -f %s.old", h, h);
	assert_int_equal(system(cmd), 0);
	f = fopen(h, "r");
	hashed = NULL;
	assert_true(getline(&hashed, &cap, f) > 0);
	fclose(f);
	/* plain ed25519, other host, hashed ecdsa, plain "a,a" ed25519 */
	text = xasprintf("10.0.0.1 %s\n10.0.0.2 %s\n%s10.0.0.1,10.0.0.1 %s\n",
	    k1, k2, hashed, k1);
	p = write_tmp(text);
	assert_int_equal(known_hosts_load(p, NULL, &kh, err, sizeof(err)), 0);
	s = known_hosts_for(kh, "10.0.0.1", 22);
	want = xasprintf("10.0.0.1 %s\n10.0.0.1 %s\n10.0.0.1 %s\n", k1, k2,
	    k1);
	assert_string_equal(s, want);
	free(s);
	free(want);
	known_hosts_free(kh);
	unlink(p);
	unlink(h);
	free(p);
	free(h);
	free(cmd);
	free(text);
	free(hashed);
	free(k1);
	free(k2);
}

static void
test_missing_file(void **state)
{
	struct known_hosts *kh = NULL;
	char err[256];

	(void)state;
	assert_int_equal(known_hosts_load("/nonexistent/kh", NULL, &kh, err,
	    sizeof(err)), ERR_IO);
	assert_non_null(strstr(err, "/nonexistent/kh"));
	assert_null(kh);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_hashed_by_ssh_keygen),
		cmocka_unit_test(test_mixed_order),
		cmocka_unit_test(test_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
