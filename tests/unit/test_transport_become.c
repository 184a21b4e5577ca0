/*
 * test_transport_become.c: sudo under commands and SFTP servers
 * (sshconn_set_become), against a real sshd on 127.0.0.1 and the real
 * sudo, as users made for the run and deleted at its end: one who may use
 * sudo without a password, one who may not use sudo, one whose sudo asks
 * for a password (checked by PAM against a real hash).  Needs root,
 * /usr/sbin/sshd and sudo; exits 77 (skipped) without them.
 */
#define _GNU_SOURCE	/* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/xmem.h"
#include "transport/sftp.h"
#include "transport/sshconn.h"

#include "test_become_estate.h"

#define TIMEOUT_MS	20000	/* each connection's */

/* ---- logging in, becoming ---- */

static struct sshconn *
login(const char *user)
{
	struct sshconn_opts o;
	struct sshconn *c = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	o.host = "127.0.0.1";
	o.port = env.port;
	o.user = user;
	o.key_file = env.key;
	o.known_hosts = env.kh;
	o.timeout_ms = TIMEOUT_MS;
	r = sshconn_open(&o, &c);
	if (r != 0)
		fprintf(stderr, "login %s: %s\n", user, sshconn_errmsg(c));
	assert_int_equal(r, 0);
	return c;
}

/* Log in as user, sudo to root (password may be NULL). */
static struct sshconn *
login_become(const char *user, const char *password, const char *flags)
{
	struct sshconn_become b = { NULL, flags, NULL, password, NULL };
	struct sshconn *c = login(user);

	assert_int_equal(sshconn_set_become(c, &b), 0);
	return c;
}

static void
no_password_in(const char *msg)
{
	assert_null(strstr(msg, PASSWORD));
	assert_null(strstr(msg, "C0rrect"));
}

/* Run cmd; it must run, and print exactly out and err, exit status. */
static void
run_exact(struct sshconn *c, const char *cmd, const char *out,
    const char *err, int status)
{
	struct sshconn_result res;
	int r = sshconn_exec(c, cmd, 0, 0, &res);

	if (r != 0)
		fprintf(stderr, "%s: %s\n", cmd, sshconn_errmsg(c));
	assert_int_equal(r, 0);
	assert_string_equal(res.out, out);
	assert_int_equal(res.out_len, strlen(out));
	assert_string_equal(res.err, err);
	assert_int_equal(res.err_len, strlen(err));
	assert_int_equal(res.exit_status, status);
	assert_int_equal(res.truncated, 0);
	sshconn_result_clear(&res);
}

/* sudo refuses: ERR_BECOME, the message holding want, no password. */
static void
exec_refused(struct sshconn *c, const char *want)
{
	struct sshconn_result res;
	long long t0 = now_ms();

	assert_int_equal(sshconn_exec(c, "id -u", 0, 0, &res), ERR_BECOME);
	assert_true(now_ms() - t0 < TIMEOUT_MS);
	print_message("    %s\n", sshconn_errmsg(c));
	if (strstr(sshconn_errmsg(c), want) == NULL)
		fail_msg("'%s' not in '%s'", want, sshconn_errmsg(c));
	no_password_in(sshconn_errmsg(c));
	assert_string_equal(res.out, "");
	sshconn_result_clear(&res);
}

static void
check_refused(struct sshconn *c, const char *want)
{
	char *msg = NULL;

	assert_int_equal(sftp_become_check(c, &msg), ERR_BECOME);
	assert_non_null(msg);
	if (strstr(msg, want) == NULL)
		fail_msg("'%s' not in '%s'", want, msg);
	no_password_in(msg);
	free(msg);
}

static void
check_ok(struct sshconn *c)
{
	char *msg = NULL;
	int r = sftp_become_check(c, &msg);

	if (r != 0)
		fprintf(stderr, "become check: %s\n", msg);
	assert_int_equal(r, 0);
	assert_null(msg);
}

/* The file at path: its owner, mode and contents. */
static void
file_is(const char *path, long uid, mode_t mode, const char *text)
{
	struct stat st;
	size_t len;
	char *got;

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal((long)st.st_uid, uid);
	assert_int_equal(st.st_mode & 07777, mode);
	got = slurp(path, &len);
	assert_non_null(got);
	assert_string_equal(got, text);
	free(got);
}

/* ---- the tests ---- */

static void
test_exec_as_root(void **state)
{
	struct sshconn *c = login_become(env.ua, NULL, NULL);
	struct sshconn_result res;
	char *want;

	(void)state;
	check_ok(c);
	run_exact(c, "id -u", "0\n", "", 0);
	run_exact(c, "id -un", "root\n", "", 0);
	run_exact(c, "printf 'out\\n'; printf 'err\\n' >&2; printf x; exit 7",
	    "out\nx", "err\n", 7);
	run_exact(c, "printf '%s\\n' \"it's\" '$HOME' \"a  b\"",
	    "it's\n$HOME\na  b\n", "", 0);
	run_exact(c, "true", "", "", 0);
	/* the command's parent is sudo, as sshconn.h shows it */
	assert_int_equal(sshconn_exec(c, "ps -o args= -p $PPID", 0, 0, &res),
	    0);
	assert_memory_equal(res.out, "sudo -n -u root -- /bin/sh -c echo "
	    "BECOME-", 41);
	sshconn_result_clear(&res);
	/* more than one read, and more than the window, on both streams */
	assert_int_equal(sshconn_exec(c, "head -c 3000000 /dev/zero | "
	    "tr '\\0' y; head -c 70000 /dev/zero | tr '\\0' z >&2",
	    4000000, 0, &res), 0);
	assert_int_equal(res.out_len, 3000000);
	assert_int_equal(res.err_len, 70000);
	assert_int_equal(strspn(res.out, "y"), 3000000);
	assert_int_equal(strspn(res.err, "z"), 70000);
	assert_int_equal(res.truncated, 0);
	sshconn_result_clear(&res);
	/* the bound holds, the marker not counted */
	assert_int_equal(sshconn_exec(c, "echo 0123456789abcdef", 10, 0, &res),
	    0);
	assert_int_equal(res.out_len, 10);
	assert_string_equal(res.out, "0123456789");
	assert_int_equal(res.truncated, 1);
	sshconn_result_clear(&res);
	/* no become: the login user again, as before */
	assert_int_equal(sshconn_set_become(c, NULL), 0);
	want = xasprintf("%s\n", env.ua);
	run_exact(c, "id -un", want, "", 0);
	free(want);
	sshconn_close(c);
}

static void
test_exec_as_other_user(void **state)
{
	struct sshconn_become b = { "sudo", NULL, env.un, NULL, NULL };
	struct sshconn *c = login(env.ua);
	char *want = xasprintf("%s\n", env.un);

	(void)state;
	assert_int_equal(sshconn_set_become(c, &b), 0);
	check_ok(c);
	run_exact(c, "id -un", want, "", 0);
	free(want);
	sshconn_close(c);
}

/* What a command reads on stdin: never the password. */
static void
test_stdin_gets_no_password(void **state)
{
	struct sshconn *c;

	(void)state;
	/* sudo does not ask: the password is never sent */
	c = login_become(env.ua, PASSWORD, NULL);
	run_exact(c, "cat; echo end", "end\n", "", 0);
	run_exact(c, "read x; echo \"[$x]\"", "[]\n", "", 0);
	sshconn_close(c);
	/* sudo asks: sudo reads it, the command gets end of file */
	c = login_become(env.up, PASSWORD, NULL);
	run_exact(c, "cat; echo end", "end\n", "", 0);
	run_exact(c, "cat >&2; id -u", "0\n", "", 0);
	sshconn_close(c);
}

static void
test_sftp_as_root(void **state)
{
	struct sshconn *c = login_become(env.ua, NULL, NULL);
	char *tmp = xasprintf("%s/a.tmp", env.rootonly);
	char *dst = xasprintf("%s/a.pem", env.rootonly);
	char *tmp2 = xasprintf("%s/b.tmp", env.rootonly);
	const char *from = tmp2, *to = dst;
	struct sftp_stat st;
	char *buf = NULL;
	size_t len = 0;
	int rc = -1;

	(void)state;
	/* the default server: sftp-server found on the host, under sudo */
	assert_int_equal(sftp_stat(c, env.rootonly, &st), 0);
	assert_int_equal(st.uid, 0);
	assert_int_equal(sftp_write_new(c, tmp, "one\n", 4, 0600, -1, -1), 0);
	file_is(tmp, 0, 0600, "one\n");
	assert_int_equal(sftp_rename(c, tmp, dst), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	file_is(dst, 0, 0600, "one\n");
	/* replaced atomically (posix-rename) */
	assert_int_equal(sftp_write_new(c, tmp2, "two\n", 4, 0600, -1, -1), 0);
	assert_int_equal(sftp_replace_many(c, &from, &to, 1, &rc), 0);
	assert_int_equal(rc, 0);
	file_is(dst, 0, 0600, "two\n");
	assert_int_equal(sftp_read_file(c, dst, 100, 1, &buf, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "two\n", 4);
	secret_free(buf);
	/* without become the login user cannot even look */
	assert_int_equal(sshconn_set_become(c, NULL), 0);
	assert_int_equal(sftp_write_new(c, tmp, "x", 1, 0600, -1, -1),
	    ERR_PERM);
	assert_int_equal(access(tmp, F_OK), -1);
	sshconn_close(c);
	free(tmp);
	free(tmp2);
	free(dst);
}

/* sftp_as: a server as another user, started under sudo. */
static void
test_sftp_as_owner(void **state)
{
	struct sshconn *c = login_become(env.ua, NULL, NULL);
	char *cmd = xasprintf("exec setpriv --reuid=%ld --regid=%ld "
	    "--init-groups -- %s", env.un_uid, env.un_gid, SFTP_SERVER);
	char *path = xasprintf("%s/owner.pem", env.owned);
	char *rpath = xasprintf("%s/root.pem", env.rootonly);

	(void)state;
	assert_int_equal(sftp_as(c, cmd), 0);
	assert_int_equal(sftp_write_new(c, path, "o\n", 2, 0600, -1, -1), 0);
	file_is(path, env.un_uid, 0600, "o\n");
	/* as that user, root's directory stays closed */
	assert_int_equal(sftp_write_new(c, rpath, "x", 1, 0600, -1, -1),
	    ERR_PERM);
	assert_int_equal(sftp_as(c, NULL), 0);
	assert_int_equal(sftp_write_new(c, rpath, "r\n", 2, 0600, -1, -1), 0);
	file_is(rpath, 0, 0600, "r\n");
	sshconn_close(c);
	free(cmd);
	free(path);
	free(rpath);
}

static void
test_sftp_server_path(void **state)
{
	struct sshconn_become b = { NULL, NULL, NULL, NULL, SFTP_SERVER };
	struct sshconn *c = login(env.ua);
	struct sftp_stat st;

	(void)state;
	assert_int_equal(sshconn_set_become(c, &b), 0);
	assert_int_equal(sftp_stat(c, env.rootonly, &st), 0);
	b.sftp_server = "/nonexistent/sftp-server";
	assert_int_equal(sshconn_set_become(c, &b), 0);
	assert_int_equal(sftp_stat(c, env.rootonly, &st), ERR_SFTP);
	assert_non_null(strstr(sshconn_errmsg(c), "through sudo"));
	b.sftp_server = "sftp-server";
	assert_int_equal(sshconn_set_become(c, &b), ERR_INVAL);
	sshconn_close(c);
}

static void
test_may_not_sudo(void **state)
{
	struct sshconn *c = login_become(env.un, NULL, NULL);
	struct sftp_stat st;

	(void)state;
	exec_refused(c, "the login user may not use sudo");
	check_refused(c, "the login user may not use sudo");
	assert_int_equal(sftp_stat(c, "/", &st), ERR_BECOME);
	assert_non_null(strstr(sshconn_errmsg(c), "may not use sudo"));
	sshconn_close(c);
	/* with a password (this user has none that works) */
	c = login_become(env.un, PASSWORD, NULL);
	exec_refused(c, "password was refused");
	sshconn_close(c);
}

static void
test_password_needed(void **state)
{
	struct sshconn *c = login_become(env.up, NULL, NULL);
	struct sftp_stat st;

	(void)state;
	exec_refused(c, "sudo needs a password and none was given");
	check_refused(c, "sudo needs a password and none was given");
	assert_int_equal(sftp_stat(c, "/", &st), ERR_BECOME);
	sshconn_close(c);
}

static void
test_password_right(void **state)
{
	struct sshconn *c = login_become(env.up, PASSWORD, NULL);
	char *cmd = xasprintf("exec setpriv --reuid=%ld --regid=%ld "
	    "--init-groups -- %s", env.un_uid, env.un_gid, SFTP_SERVER);
	char *path = xasprintf("%s/pw.pem", env.rootonly);
	char *opath = xasprintf("%s/pw.pem", env.owned);

	(void)state;
	check_ok(c);
	run_exact(c, "id -u; echo e >&2", "0\n", "e\n", 0);
	assert_int_equal(sftp_write_new(c, path, "p\n", 2, 0600, -1, -1), 0);
	file_is(path, 0, 0600, "p\n");
	assert_int_equal(sftp_as(c, cmd), 0);
	assert_int_equal(sftp_write_new(c, opath, "q\n", 2, 0600, -1, -1), 0);
	file_is(opath, env.un_uid, 0600, "q\n");
	sshconn_close(c);
	free(cmd);
	free(path);
	free(opath);
}

static void
test_password_wrong(void **state)
{
	struct sshconn *c = login_become(env.up, "not " PASSWORD, NULL);
	struct sftp_stat st;

	(void)state;
	exec_refused(c, "the sudo password was refused");
	assert_null(strstr(sshconn_errmsg(c), "not C0rrect"));
	check_refused(c, "the sudo password was refused");
	assert_int_equal(sftp_stat(c, "/", &st), ERR_BECOME);
	assert_null(strstr(sshconn_errmsg(c), "not C0rrect"));
	/* the connection still works, the right way */
	assert_int_equal(sshconn_set_become(c, NULL), 0);
	run_exact(c, "echo ok", "ok\n", "", 0);
	sshconn_close(c);
}

static volatile sig_atomic_t stop_scan;

static void
on_term(int sig)
{
	(void)sig;
	stop_scan = 1;
}

/* Whether any process's command line holds the password, or our prompt. */
static void
scan_once(int *found, int *seen)
{
	char path[300], buf[8192];
	struct dirent *d;
	ssize_t n;
	DIR *p;
	int fd;

	if ((p = opendir("/proc")) == NULL)
		return;
	while ((d = readdir(p)) != NULL) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", d->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n <= 0)
			continue;
		if (memmem(buf, (size_t)n, "C0rrect", 7) != NULL)
			*found = 1;
		if (memmem(buf, (size_t)n, "pemrotate-sudo-", 15) != NULL)
			*seen = 1;
	}
	closedir(p);
}

/*
 * The child: scan until SIGTERM; exit 2 if the password was on a command
 * line, 3 if no sudo with our prompt was ever seen (the scan proved
 * nothing), else 0.
 */
static void
scan_cmdlines(void)
{
	int found = 0, seen = 0;

	signal(SIGTERM, on_term);
	while (!stop_scan && !found) {
		scan_once(&found, &seen);
		usleep(1000);
	}
	_exit(found ? 2 : seen ? 0 : 3);
}

static void
test_password_on_no_cmdline(void **state)
{
	struct sshconn *c;
	struct sftp_stat st;
	size_t len = 0;
	char *log;
	pid_t pid;
	int status;

	(void)state;
	if ((pid = fork()) == 0)
		scan_cmdlines();
	assert_true(pid > 0);
	c = login_become(env.up, PASSWORD, NULL);
	run_exact(c, "sleep 1; id -u", "0\n", "", 0);
	assert_int_equal(sftp_stat(c, env.rootonly, &st), 0);
	sshconn_close(c);
	c = login_become(env.up, "not " PASSWORD, NULL);
	exec_refused(c, "password was refused");
	sshconn_close(c);
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* nor in sshd's log */
	log = slurp(env.log, &len);
	assert_non_null(log);
	assert_null(strstr(log, "C0rrect"));
	free(log);
}

static void
test_flags(void **state)
{
	struct sshconn_become b = { NULL, "-H  -S\t-n", NULL, NULL, NULL };
	struct sshconn *c = login(env.ua);

	(void)state;
	/* Ansible's default flags; with a password -n is left out */
	assert_int_equal(sshconn_set_become(c, &b), 0);
	run_exact(c, "id -u", "0\n", "", 0);
	sshconn_close(c);
	c = login(env.up);
	b.password = PASSWORD;
	assert_int_equal(sshconn_set_become(c, &b), 0);
	run_exact(c, "id -u", "0\n", "", 0);
	check_ok(c);
	/* what would keep sudo from running the command is refused */
	b.flags = "-H --";
	assert_int_equal(sshconn_set_become(c, &b), ERR_INVAL);
	b.flags = "-l";
	assert_int_equal(sshconn_set_become(c, &b), ERR_INVAL);
	b.flags = NULL;
	b.user = "ro\not";
	assert_int_equal(sshconn_set_become(c, &b), ERR_INVAL);
	b.user = "-x";
	assert_int_equal(sshconn_set_become(c, &b), ERR_INVAL);
	b.user = NULL;
	b.exe = "sudo -n";
	assert_int_equal(sshconn_set_become(c, &b), ERR_INVAL);
	b.exe = NULL;
	b.password = PASSWORD "\nmore";
	assert_int_equal(sshconn_set_become(c, &b), ERR_INVAL);
	no_password_in(sshconn_errmsg(c));
	/* a refused setting leaves the one before */
	run_exact(c, "id -u", "0\n", "", 0);
	sshconn_close(c);
}

/* A sudo that is not there, and one that never answers. */
static void
test_broken_sudo(void **state)
{
	struct sshconn_become b = { "/nonexistent/sudo", NULL, NULL, NULL,
	    NULL };
	struct sshconn *c = login(env.ua);
	struct sshconn_result res;
	char *hang = xasprintf("%s/hang", env.dir);
	long long t0;

	(void)state;
	assert_int_equal(sshconn_set_become(c, &b), 0);
	exec_refused(c, "was not found");
	/* waits for input, which never comes; gone when the channel is */
	assert_int_equal(write_file(hang, "#!/bin/sh\nread x\n", 0755), 0);
	b.exe = hang;
	assert_int_equal(sshconn_set_become(c, &b), 0);
	t0 = now_ms();
	assert_int_equal(sshconn_exec(c, "id -u", 0, 1500, &res),
	    ERR_TIMEOUT);
	assert_true(now_ms() - t0 < 5000);
	assert_non_null(strstr(sshconn_errmsg(c), "waiting for sudo"));
	sshconn_result_clear(&res);
	sshconn_close(c);
	free(hang);
}

/*
 * The check is the SFTP server's start through sudo, which prints the
 * uids and finds sftp-server in its preamble: a check and the SFTP calls
 * after it are one sudo.  Counted by a sudo that logs each start.
 */
static void
test_check_is_one_sudo(void **state)
{
	char *exe = xasprintf("%s/countsudo", env.dir);
	char *log = xasprintf("%s/countsudo.log", env.dir);
	char *script = xasprintf("#!/bin/sh\necho x >> %s\n"
	    "exec sudo \"$@\"\n", log);
	struct sshconn_become b = { exe, NULL, NULL, NULL, NULL };
	struct sshconn *c = login(env.ua);
	struct sftp_stat st;
	size_t len = 0;
	char *got;

	(void)state;
	assert_int_equal(write_file(exe, script, 0755), 0);
	assert_int_equal(write_file(log, "", 0666), 0);
	assert_int_equal(chmod(log, 0666), 0);
	assert_int_equal(sshconn_set_become(c, &b), 0);
	check_ok(c);
	assert_int_equal(sftp_stat(c, env.rootonly, &st), 0);
	assert_int_equal(st.uid, 0);
	check_ok(c);
	got = slurp(log, &len);
	assert_non_null(got);
	assert_string_equal(got, "x\n");
	free(got);
	/* a command after it: a sudo of its own, no check in front */
	run_exact(c, "id -u", "0\n", "", 0);
	got = slurp(log, &len);
	assert_string_equal(got, "x\nx\n");
	free(got);
	sshconn_close(c);
	free(script);
	free(log);
	free(exe);
}

/*
 * A "sudo" that runs the command as the login user: the first sudo of a
 * connection finds the uid wrong, command or SFTP server alike.
 */
static void
test_wrong_uid(void **state)
{
	char *exe = xasprintf("%s/notsudo", env.dir);
	struct sshconn_become b = { exe, NULL, NULL, NULL, NULL };
	struct sshconn_result res;
	struct sshconn *c = login(env.ua);
	char *msg = NULL;

	(void)state;
	assert_int_equal(write_file(exe, "#!/bin/sh\n"
	    "while [ \"$1\" != -- ]; do shift; done; shift; exec \"$@\"\n",
	    0755), 0);
	assert_int_equal(sshconn_set_become(c, &b), 0);
	assert_int_equal(sftp_become_check(c, &msg), ERR_BECOME);
	assert_non_null(strstr(msg, "did not print the uid of root"));
	free(msg);
	assert_int_equal(sshconn_exec(c, "id -u", 0, 0, &res), ERR_BECOME);
	assert_non_null(strstr(sshconn_errmsg(c), "did not print the uid"));
	assert_string_equal(res.out, "");
	sshconn_result_clear(&res);
	sshconn_close(c);
	free(exe);
}

/* Without become, a root login works as it always did. */
static void
test_root_login_unchanged(void **state)
{
	struct sshconn *c = login("root");
	char *path = xasprintf("%s/rootlogin.pem", env.rootonly);
	char *msg = NULL;

	(void)state;
	run_exact(c, "id -u; echo e >&2; exit 3", "0\n", "e\n", 3);
	assert_int_equal(sftp_write_new(c, path, "r\n", 2, 0600, -1, -1), 0);
	file_is(path, 0, 0600, "r\n");
	assert_int_equal(sftp_become_check(c, &msg), ERR_INVAL);
	free(msg);
	sshconn_close(c);
	free(path);
}

static int
skip_reason(void)
{
	if (geteuid() != 0) {
		printf("skipped: needs root (users, sudoers, sshd)\n");
		return 1;
	}
	if (access(SSHD, X_OK) != 0 || access(SFTP_SERVER, X_OK) != 0) {
		printf("skipped: needs %s and %s\n", SSHD, SFTP_SERVER);
		return 1;
	}
	if (system("command -v sudo >/dev/null && command -v visudo "
	    ">/dev/null && command -v useradd >/dev/null") != 0) {
		printf("skipped: needs sudo, visudo and useradd\n");
		return 1;
	}
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_as_root),
		cmocka_unit_test(test_exec_as_other_user),
		cmocka_unit_test(test_stdin_gets_no_password),
		cmocka_unit_test(test_sftp_as_root),
		cmocka_unit_test(test_sftp_as_owner),
		cmocka_unit_test(test_sftp_server_path),
		cmocka_unit_test(test_may_not_sudo),
		cmocka_unit_test(test_password_needed),
		cmocka_unit_test(test_password_right),
		cmocka_unit_test(test_password_wrong),
		cmocka_unit_test(test_password_on_no_cmdline),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_broken_sudo),
		cmocka_unit_test(test_check_is_one_sudo),
		cmocka_unit_test(test_wrong_uid),
		cmocka_unit_test(test_root_login_unchanged),
	};
	int failed;

	if (skip_reason())
		return 77;
	signal(SIGPIPE, SIG_IGN);
	if (sshconn_global_init() != 0 || estate_up() != 0) {
		fprintf(stderr, "cannot set up the test estate\n");
		estate_down(1);
		return 1;
	}
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	estate_down(failed != 0);
	sshconn_global_cleanup();
	return failed;
}
