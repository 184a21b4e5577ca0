/*
 * test_remote.c: the shell text pemrotate sends to hosts, run for real by
 * /bin/sh on local files with hostile names; control characters refused.
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

static void
test_control_chars_refused(void **state)
{
	(void)state;
	assert_null(remote_detect_restart_script("/var/lib/x\n"));
}

static void
test_restart_cmd(void **state)
{
	char *c;

	(void)state;
	c = remote_restart_cmd("systemd\npostgresql@15-main.service\n",
	    "/var/lib/postgresql/15/main", 60);
	assert_string_equal(c, "systemctl restart 'postgresql@15-main.service'");
	free(c);
	c = remote_restart_cmd("pg_ctl\npostgres\n/usr/lib/postgresql/15/bin"
	    "\n-\n", "/d i r", 60);
	assert_non_null(strstr(c, "d='/d i r'"));
	assert_non_null(strstr(c, "l='/d i r/pemrotate-restart.log'"));
	assert_non_null(strstr(c, "restart -D \"$d\" -m fast -w -t 60"));
	free(c);
	c = remote_restart_cmd("pg_ctl\npostgres\n/b\n/var/log/pg it's.log\n",
	    "/d", 60);
	assert_non_null(strstr(c, "l='/var/log/pg it'\\''s.log'"));
	free(c);
	assert_null(remote_restart_cmd("garbage", "/d", 60));
	assert_null(remote_restart_cmd("pg_ctl\npostgres\n", "/d", 60));
}

/* The detection script, run by a real sh against a fake data directory
 * whose postmaster.pid names this test's own process. */
static void
test_detect_restart(void **state)
{
	char *d, *pid, *s, *q, *cmd, out[4096];
	FILE *p;
	size_t n;

	(void)state;
	d = xasprintf("%s/data", dir);
	mkdir(d, 0700);
	pid = xasprintf("%s/postmaster.pid", d);
	cmd = xasprintf("%ld\n%s\n", (long)getpid(), d);
	put(pid, cmd, 0600);
	free(cmd);
	s = remote_detect_restart_script(d);
	q = shquote(s, 0);
	cmd = xasprintf("/bin/sh -c %s", q);
	free(q);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	/* no systemd here: pg_ctl, the directory's owner, our bin dir */
	assert_memory_equal(out, "pg_ctl\n", 7);
	free(s);
	s = remote_restart_cmd(out, d, 30);
	assert_non_null(s);
	free(s);
	free(cmd);
	free(pid);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_control_chars_refused),
		cmocka_unit_test(test_restart_cmd),
		cmocka_unit_test(test_detect_restart),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
