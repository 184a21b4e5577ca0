/*
 * test_remote.c: the shell text pemrotate sends to hosts, run for real by
 * /bin/sh on local files with hostile names: backups kept, files replaced
 * atomically, restores put the originals back, control characters refused.
 */
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

#include "common/strutil.h"
#include "common/xmem.h"
#include "orchestrator/remote.h"

static char dir[256];

static int
setup_dir(void **state)
{
	(void)state;
	/* a directory name a shell would split and expand */
	snprintf(dir, sizeof(dir), "/tmp/pemrt unit $x;'q' %ld",
	    (long)getpid());
	return mkdir(dir, 0700);
}

static int
teardown_dir(void **state)
{
	char *cmd, *q;

	(void)state;
	q = shquote(dir, 1);
	cmd = xasprintf("rm -rf -- %s", q);
	free(q);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	free(cmd);
	return 0;
}

static void
put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static char *
get(const char *path)
{
	char buf[256];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return xstrdup(buf);
}

static int
run_sh(const char *script)
{
	FILE *p = popen("/bin/sh >/dev/null 2>&1", "w");

	assert_non_null(p);
	fputs(script, p);
	return pclose(p);
}

static void
assert_file(const char *path, const char *text)
{
	char *s = get(path);

	assert_non_null(s);
	assert_string_equal(s, text);
	free(s);
}

static void
test_tmp_path(void **state)
{
	char *t;

	(void)state;
	t = remote_tmp_path("/a b/server.key", "20261127T000000Z");
	assert_string_equal(t, "/a b/.server.key.pemrotate-20261127T000000Z");
	free(t);
}

static void
test_install_and_restore(void **state)
{
	char *dst[2], *tmp[2], *s, *b;
	struct stat st;
	int i;

	(void)state;
	dst[0] = xasprintf("%s/agent 7 $(id).key", dir);
	dst[1] = xasprintf("%s/agent7;rm -rf x.crt", dir);
	for (i = 0; i < 2; i++) {
		tmp[i] = remote_tmp_path(dst[i], "RUN1");
		put(dst[i], i ? "old crt" : "old key", 0600);
		put(tmp[i], i ? "new crt" : "new key", 0600);
	}
	s = remote_install_script((const char *const *)tmp,
	    (const char *const *)dst, 2, ".pemrotate-RUN1", "true");
	assert_non_null(s);
	assert_int_equal(run_sh(s), 0);
	free(s);
	assert_file(dst[0], "new key");
	assert_file(dst[1], "new crt");
	b = xasprintf("%s.pemrotate-RUN1", dst[0]);
	assert_file(b, "old key");
	assert_int_equal(stat(b, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(access(tmp[0], F_OK), -1);
	free(b);

	s = remote_restore_script((const char *const *)dst, NULL, 2,
	    ".pemrotate-RUN1", NULL);
	assert_int_equal(run_sh(s), 0);
	free(s);
	assert_file(dst[0], "old key");
	assert_file(dst[1], "old crt");
	b = xasprintf("%s.pemrotate-RUN1", dst[1]);
	assert_file(b, "old crt");	/* the backup stays */
	free(b);
	for (i = 0; i < 2; i++) {
		free(dst[i]);
		free(tmp[i]);
	}
}

static void
test_install_new_file_then_restore_removes(void **state)
{
	static const int created[1] = { 1 };
	const char *dstv[1];
	char *dst, *tmp, *s;

	(void)state;
	dst = xasprintf("%s/root.crl", dir);
	tmp = remote_tmp_path(dst, "RUN2");
	put(tmp, "crl", 0600);
	dstv[0] = dst;
	s = remote_install_script((const char *const *)&tmp, dstv, 1,
	    ".pemrotate-RUN2", NULL);
	assert_int_equal(run_sh(s), 0);
	free(s);
	assert_file(dst, "crl");
	/* not known to be new: a file without a backup is left alone */
	s = remote_restore_script(dstv, NULL, 1, ".pemrotate-RUN2", NULL);
	assert_int_equal(run_sh(s), 0);
	free(s);
	assert_file(dst, "crl");
	/* known to be new: removed */
	s = remote_restore_script(dstv, created, 1, ".pemrotate-RUN2", NULL);
	assert_int_equal(run_sh(s), 0);
	free(s);
	assert_int_equal(access(dst, F_OK), -1);
	free(dst);
	free(tmp);
}

static void
test_second_install_keeps_first_backup(void **state)
{
	const char *dstv[1];
	char *dst, *tmp, *s, *b;

	(void)state;
	dst = xasprintf("%s/root.crt", dir);
	tmp = remote_tmp_path(dst, "RUN3");
	dstv[0] = dst;
	put(dst, "original", 0600);
	put(tmp, "overlap", 0600);
	s = remote_install_script((const char *const *)&tmp, dstv, 1,
	    ".pemrotate-RUN3", NULL);
	assert_int_equal(run_sh(s), 0);
	put(tmp, "final", 0600);
	assert_int_equal(run_sh(s), 0);
	free(s);
	assert_file(dst, "final");
	b = xasprintf("%s.pemrotate-RUN3", dst);
	assert_file(b, "original");
	free(b);
	free(dst);
	free(tmp);
}

static void
test_failed_then_cmd_fails_script(void **state)
{
	const char *dstv[1];
	char *dst, *tmp, *s;

	(void)state;
	dst = xasprintf("%s/x.crt", dir);
	tmp = remote_tmp_path(dst, "RUN4");
	dstv[0] = dst;
	put(tmp, "n", 0600);
	s = remote_install_script((const char *const *)&tmp, dstv, 1,
	    ".pemrotate-RUN4", "exit 7");
	assert_int_equal(WEXITSTATUS(run_sh(s)), 7);
	free(s);
	/* a missing temporary file stops the script before the command */
	s = remote_install_script((const char *const *)&tmp, dstv, 1,
	    ".pemrotate-RUN4", "touch /tmp/should-not-run-pemrt");
	assert_int_not_equal(run_sh(s), 0);
	assert_int_equal(access("/tmp/should-not-run-pemrt", F_OK), -1);
	free(s);
	free(dst);
	free(tmp);
}

static void
test_control_chars_refused(void **state)
{
	const char *bad[1] = { "/tmp/a\nrm -rf /" };
	const char *tmp[1] = { "/tmp/t" };

	(void)state;
	assert_null(remote_install_script(tmp, bad, 1, ".s", NULL));
	assert_null(remote_restore_script(bad, NULL, 1, ".s", NULL));
	assert_null(remote_rm_script(bad, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tmp_path),
		cmocka_unit_test(test_install_and_restore),
		cmocka_unit_test(test_install_new_file_then_restore_removes),
		cmocka_unit_test(test_second_install_keeps_first_backup),
		cmocka_unit_test(test_failed_then_cmd_fails_script),
		cmocka_unit_test(test_control_chars_refused),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
