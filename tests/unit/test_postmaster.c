/*
 * test_postmaster.c: the /proc parsers behind restart detection and the
 * data directory, fed what the kernel writes and what it never would; the
 * systemd unit name check; the pg_ctl command, run by a real /bin/sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmem.h"
#include "orchestrator/postmaster.h"

static const char tcp_head[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
    "retrnsmt   uid  timeout inode\n";

static void
test_listen_inodes(void **state)
{
	unsigned long ino[4];
	size_t n = 0;
	char *t;

	(void)state;
	t = xasprintf("%s"
	    "   0: 00000000:1538 00000000:0000 0A 00000000:00000000 "
	    "00:00000000 00000000   104        0 4242 1 0000 100 0 0 10 0\n"
	    /* a connection to the port, not a listener */
	    "   1: 0100007F:1538 0100007F:D2F0 01 00000000:00000000 "
	    "00:00000000 00000000   104        0 4243 1 0000 20 4 30 10 -1\n"
	    /* another port */
	    "   2: 00000000:0016 00000000:0000 0A 00000000:00000000 "
	    "00:00000000 00000000     0        0 99 1 0000 100 0 0 10 0\n",
	    tcp_head);
	assert_int_equal(postmaster_listen_inodes(t, 5432, ino, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ino[0], 4242);
	free(t);
	/* tcp6: 32 hex digits of address; appended after what is there */
	t = xasprintf("%s   0: 00000000000000000000000000000000:1538 "
	    "00000000000000000000000000000000:0000 0A 00000000:00000000 "
	    "00:00000000 00000000   104        0 777 1 0000 100 0 0 10 0\n",
	    tcp_head);
	assert_int_equal(postmaster_listen_inodes(t, 5432, ino, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ino[1], 777);
	free(t);
}

static void
test_listen_inodes_hostile(void **state)
{
	static const char *const bad[] = {
		/* too few fields */
		"   0: 00000000:1538 00000000:0000 0A\n",
		/* not hex */
		"   0: 0000000G:1538 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000 104 0 4242 1\n",
		/* a port of five digits */
		"   0: 00000000:15380 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000 104 0 4242 1\n",
		/* an inode that is not a number */
		"   0: 00000000:1538 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000 104 0 42x 1\n",
		/* the kernel never writes an empty line */
		"\n",
	};
	unsigned long ino[4];
	size_t i, n;
	char *t;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = xasprintf("%s%s", tcp_head, bad[i]);
		n = 0;
		assert_int_equal(postmaster_listen_inodes(t, 5432, ino, 4, &n),
		    ERR_PARSE);
		free(t);
	}
	n = 0;
	assert_int_equal(postmaster_listen_inodes("", 5432, ino, 4, &n),
	    ERR_PARSE);
	/* more listeners than room */
	n = 4;
	t = xasprintf("%s   0: 00000000:1538 00000000:0000 0A 00000000:00000000"
	    " 00:00000000 00000000 104 0 1 1\n", tcp_head);
	assert_int_equal(postmaster_listen_inodes(t, 5432, ino, 4, &n),
	    ERR_TOOBIG);
	free(t);
}

static void
test_fd_pids(void **state)
{
	long pids[4];
	size_t n;

	(void)state;
	assert_int_equal(postmaster_fd_pids("/proc/812/fd/3\n/proc/812/fd/4\n"
	    "/proc/9001/fd/3\n", pids, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pids[0], 812);
	assert_int_equal(pids[1], 9001);
	assert_int_equal(postmaster_fd_pids("", pids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(postmaster_fd_pids("/proc/self/fd/3\n", pids, 4, &n),
	    ERR_PARSE);
	assert_int_equal(postmaster_fd_pids("/proc/1/fd/3 x\n", pids, 4, &n),
	    ERR_PARSE);
	assert_int_equal(postmaster_fd_pids("/proc/1/fd/\n", pids, 4, &n),
	    ERR_PARSE);
	assert_int_equal(postmaster_fd_pids("/tmp/1/fd/3\n", pids, 4, &n),
	    ERR_PARSE);
	assert_int_equal(postmaster_fd_pids("/proc/0/fd/3\n", pids, 4, &n),
	    ERR_PARSE);
	assert_int_equal(postmaster_fd_pids("/proc/1/fd/1\n/proc/2/fd/1\n"
	    "/proc/3/fd/1\n", pids, 2, &n), ERR_TOOBIG);
}

static void
test_status_ids(void **state)
{
	long ppid = -1, uid = -1, gid = -1;

	(void)state;
	assert_int_equal(postmaster_status_ids("Name:\tpostgres\n"
	    "Umask:\t0077\nState:\tS (sleeping)\nTgid:\t812\nPid:\t812\n"
	    "PPid:\t1\nTracerPid:\t0\nUid:\t105\t105\t105\t105\n"
	    "Gid:\t110\t111\t111\t111\nFDSize:\t64\n", &ppid, &uid, &gid), 0);
	assert_int_equal(ppid, 1);
	assert_int_equal(uid, 105);
	assert_int_equal(gid, 110);
	/* missing Gid; a second Uid; not a number */
	assert_int_equal(postmaster_status_ids("PPid:\t1\nUid:\t1\t1\t1\t1\n",
	    &ppid, &uid, &gid), ERR_PARSE);
	assert_int_equal(postmaster_status_ids("PPid:\t1\nUid:\t1\nGid:\t1\n"
	    "Uid:\t0\n", &ppid, &uid, &gid), ERR_PARSE);
	assert_int_equal(postmaster_status_ids("PPid:\t1\nUid:\tx\nGid:\t1\n",
	    &ppid, &uid, &gid), ERR_PARSE);
}

/* The unit of a cgroup file, "" for none, "!" for ERR_PARSE. */
static void
expect_unit(const char *text, const char *want)
{
	char *unit = NULL;
	int rc = postmaster_cgroup_unit(text, &unit);

	if (strcmp(want, "!") == 0) {
		assert_int_equal(rc, ERR_PARSE);
		assert_null(unit);
		return;
	}
	assert_int_equal(rc, 0);
	if (*want == '\0')
		assert_null(unit);
	else
		assert_string_equal(unit, want);
	free(unit);
}

static void
test_cgroup_unit(void **state)
{
	(void)state;
	/* cgroup v2 */
	expect_unit("0::/system.slice/postgresql-15.service\n",
	    "postgresql-15.service");
	/* Debian's template, in its own slice */
	expect_unit("0::/system.slice/system-postgresql.slice/"
	    "postgresql@15-main.service\n", "postgresql@15-main.service");
	/* a sub-cgroup of the unit (Delegate=yes) */
	expect_unit("0::/system.slice/edb-as-15.service/payload\n",
	    "edb-as-15.service");
	/* systemd's escapes */
	expect_unit("0::/system.slice/postgresql@15\\x2dmain.service\n",
	    "postgresql@15\\x2dmain.service");
	/* cgroup v1: the name=systemd hierarchy, whatever the others say */
	expect_unit("11:memory:/system.slice/other.service\n"
	    "9:name=systemd:/system.slice/cron.service\n"
	    "1:cpu,cpuacct:/\n0::/\n", "cron.service");
	/* v1 with nothing, v2 with a unit (hybrid) */
	expect_unit("1:name=systemd:/\n0::/system.slice/pg.service\n",
	    "pg.service");
	/* no unit: root, a user's session, a scope, a slice */
	expect_unit("0::/\n", "");
	expect_unit("0::/user.slice/user-1000.slice/session-2.scope\n", "");
	expect_unit("0::/system.slice/docker-abc.scope\n", "");
	expect_unit("0::/system.slice\n", "");
	expect_unit("0::/system.slice/x.slice\n", "");
	expect_unit("4:memory:/process_api/7676\n", "");
	expect_unit("", "");
	/* not what the kernel writes */
	expect_unit("garbage\n", "!");
	expect_unit("0:/system.slice/x.service\n", "!");
	expect_unit("x::/system.slice/x.service\n", "!");
	expect_unit("0::relative\n", "!");
	/* a name systemd would not make reaches no shell */
	expect_unit("0::/system.slice/a'b;reboot.service\n", "!");
	expect_unit("0::/system.slice/a b.service\n", "!");
}

static void
test_unit_is_pg(void **state)
{
	static const char *const yes[] = {
		"postgresql.service", "postgresql-15.service",
		"postgresql@15-main.service", "edb-as-15.service",
		"postgres.service", "pg15.service", "my-postgres.service",
		"pemserver-db.service", "EDB-AS-14.service",
	};
	static const char *const no[] = {
		"cron.service", "sshd.service", "nginx.service",
		"systemd-journald.service", "dbus.service",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(postmaster_unit_is_pg(yes[i]));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(postmaster_unit_is_pg(no[i]));
}

static void
test_pgctl_cmd(void **state)
{
	struct postmaster pm = { 812, 105, 110,
	    "/usr/lib/postgresql/15/bin/postgres", "/srv/pg d'ata",
	    "/var/log/pg.log", NULL };
	char *c;

	(void)state;
	c = postmaster_pgctl_cmd(&pm, 60);
	assert_string_equal(c, "cd / && setpriv --reuid=105 --regid=110 "
	    "--init-groups -- '/usr/lib/postgresql/15/bin/pg_ctl' restart "
	    "-D '/srv/pg d'\\''ata' -m fast -w -t 60 -l '/var/log/pg.log' "
	    ">/dev/null </dev/null");
	free(c);
	/* no log file of its own: one in the data directory */
	pm.log = NULL;
	c = postmaster_pgctl_cmd(&pm, 5);
	assert_non_null(strstr(c,
	    "-l '/srv/pg d'\\''ata/pemrotate-restart.log'"));
	free(c);
	/* a control character is refused, not sent */
	pm.data_dir = "/srv/a\nreboot";
	assert_null(postmaster_pgctl_cmd(&pm, 5));
}

/* The command as /bin/sh sees it: each value one word. */
static void
test_pgctl_cmd_words(void **state)
{
	struct postmaster pm = { 1, 1000, 1000, "/tmp/b $x/postgres",
	    "/tmp/d;`id`", "/tmp/l $(id)", NULL };
	char *c, *sh, out[1024];
	FILE *p;
	size_t n;

	(void)state;
	/* setpriv and cd replaced: print the words, on stderr */
	c = postmaster_pgctl_cmd(&pm, 9);
	sh = xasprintf("setpriv() { printf '[%%s]' \"$@\" >&2; }; "
	    "cd() { :; }; { %s; } 2>&1", c);
	p = popen(sh, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	free(sh);
	free(c);
	assert_string_equal(out, "[--reuid=1000][--regid=1000][--init-groups]"
	    "[--][/tmp/b $x/pg_ctl][restart][-D][/tmp/d;`id`][-m][fast][-w]"
	    "[-t][9][-l][/tmp/l $(id)]");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_inodes),
		cmocka_unit_test(test_listen_inodes_hostile),
		cmocka_unit_test(test_fd_pids),
		cmocka_unit_test(test_status_ids),
		cmocka_unit_test(test_cgroup_unit),
		cmocka_unit_test(test_unit_is_pg),
		cmocka_unit_test(test_pgctl_cmd),
		cmocka_unit_test(test_pgctl_cmd_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
