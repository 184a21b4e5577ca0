/*
 * test_sshconfig.h: the helpers the transport/sshconfig tests share
 * (test_transport_sshconfig.c: each feature and error, and OpenSSH's
 * own "ssh -G" as the reference; test_transport_sshconfig_args.c:
 * Ansible's ssh arguments and threads).  Every test runs with HOME set
 * to a fresh directory, so "~", $HOME and the user's Include directory
 * are the test's own.
 */
#ifndef PEMROTATE_TEST_SSHCONFIG_H
#define PEMROTATE_TEST_SSHCONFIG_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/sshconfig.h"

/* The test's HOME, made by home_setup(). */
static char *test_home;

/* Fixed identity for token tests: none of it is looked up. */
static const struct sshconfig_env test_env __attribute__((unused)) = {
	"/home/op", "op", "ctl1.example.net",
};

/* A fresh HOME with an empty .ssh directory. */
static inline int
home_setup(void **state)
{
	char tmpl[] = "/tmp/pemrt-sshcfg-XXXXXX", *ssh;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	test_home = xstrdup(tmpl);
	ssh = xasprintf("%s/.ssh", test_home);
	assert_int_equal(mkdir(ssh, 0700), 0);
	free(ssh);
	assert_int_equal(setenv("HOME", test_home, 1), 0);
	return 0;
}

static inline int
home_teardown(void **state)
{
	char *cmd;

	(void)state;
	cmd = xasprintf("rm -rf '%s'", test_home);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(test_home);
	test_home = NULL;
	return 0;
}

/* Write text to HOME/rel (directories made), mode 0644; its path. */
static inline char *
home_file(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", test_home, rel), *cmd;
	FILE *f;

	cmd = xasprintf("mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0644), 0);
	return path;
}

/* Load text as HOME/cfg ("ssh -F"); fails the test on error. */
static inline struct sshconfig *
load_text(const char *text, const struct sshconfig_env *env)
{
	struct sshconfig *c = NULL;
	char *path = home_file("cfg", text), *msg = NULL;
	int r;

	r = sshconfig_load(path, env, &c, &msg);
	if (r != 0)
		print_error("load: %d %s\n", r, msg);
	assert_int_equal(r, 0);
	assert_null(msg);
	free(path);
	return c;
}

/* Resolve host on c with the *_args string args (may be NULL). */
static inline struct sshconfig_host *
resolve_on(const struct sshconfig *c, const char *host, const char *args)
{
	struct sshconfig_query q = { host, NULL, 0, NULL, NULL };
	struct sshconfig_args *a = NULL;
	struct sshconfig_host *h = NULL;
	char *msg = NULL;
	int r;

	if (args != NULL) {
		r = sshconfig_args_parse(args, NULL, &a, &msg);
		if (r != 0)
			print_error("args: %d %s\n", r, msg);
		assert_int_equal(r, 0);
		q.args = a;
	}
	r = sshconfig_resolve(c, &q, &h, &msg);
	if (r != 0)
		print_error("resolve %s: %d %s\n", host, r, msg);
	assert_int_equal(r, 0);
	assert_null(msg);
	sshconfig_args_free(a);
	return h;
}

/* Load text and resolve host on it, with test_env. */
static inline struct sshconfig_host *
resolve_text(const char *text, const char *host, const char *args)
{
	struct sshconfig *c = load_text(text, &test_env);
	struct sshconfig_host *h = resolve_on(c, host, args);

	sshconfig_free(c);
	return h;
}

/* "a b c": a list joined with spaces, "none" if empty.  Caller frees. */
static inline char *
join(char *const *v, size_t n)
{
	struct strbuf b;
	size_t i;

	strbuf_init(&b);
	for (i = 0; i < n; i++)
		strbuf_addf(&b, "%s%s", i ? " " : "", v[i]);
	if (n == 0)
		strbuf_adds(&b, "none");
	return strbuf_steal(&b);
}

/* msg must start with "where:line: " (line 0: "where: ") and hold what. */
static inline void
expect_msg(const char *msg, const char *where, int line, const char *what)
{
	char *prefix = line > 0 ? xasprintf("%s:%d: ", where, line) :
	    xasprintf("%s: ", where);

	if (msg == NULL || strncmp(msg, prefix, strlen(prefix)) != 0 ||
	    strstr(msg, what) == NULL)
		print_error("want \"%s...%s\", got \"%s\"\n", prefix, what,
		    msg ? msg : "(null)");
	assert_non_null(msg);
	assert_memory_equal(msg, prefix, strlen(prefix));
	assert_non_null(strstr(msg, what));
	free(prefix);
}

#endif
