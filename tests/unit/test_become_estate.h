/*
 * test_become_estate.h: the estate of test_transport_become.c -- a real
 * sshd on 127.0.0.1 (a free port, its own configuration, host key and
 * authorized keys) and users made for the run, deleted at its end: one who
 * may use sudo without a password, one who may not use sudo, one whose
 * sudo asks for PASSWORD (a real hash, checked by PAM), each logging in
 * with one Ed25519 key; a directory only root may enter and one only the
 * no-sudo user may.  Needs root.
 */
#ifndef PEMROTATE_TEST_BECOME_ESTATE_H
#define PEMROTATE_TEST_BECOME_ESTATE_H

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/xmem.h"

#define SSHD		"/usr/sbin/sshd"
#define SFTP_SERVER	"/usr/lib/openssh/sftp-server"
/* quotes, blanks and a dollar: nothing may read it as shell text */
#define PASSWORD	"C0rrect h0rse 'battery' $staple"

static struct {
	char dir[64];		/* /tmp/pemrt-become-XXXXXX */
	char ua[32];		/* sudo without a password */
	char un[32];		/* may not use sudo */
	char up[32];		/* sudo asks for PASSWORD */
	char sudoers[64];
	int users, made_sudoers;
	int port;
	pid_t sshd;
	char *kh, *key, *log;
	char *rootonly;		/* root's, 0700 */
	char *owned;		/* un's, 0700 */
	long un_uid, un_gid;
} env;

/* Run a shell command line made by printf; its status, said if not 0. */
static inline int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline int
sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int st, n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	cmd = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(cmd, (size_t)n + 1, fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st != 0)
		fprintf(stderr, "command failed (%d): %s\n", st, cmd);
	free(cmd);
	return st;
}

static inline char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static inline int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0)
		return -1;
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static inline int
port_open(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((unsigned short)port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static inline int
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n) {
		perror(path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return close(fd);
}

static inline int
make_users(void)
{
	char *pwfile = xasprintf("%s/pw", env.dir);
	int r = -1;

	if (sh("useradd -M -d / -s /bin/sh %s && usermod -p '*' %s",
	    env.ua, env.ua) != 0)
		goto out;
	env.users = 1;
	if (sh("useradd -M -d / -s /bin/sh %s && usermod -p '*' %s",
	    env.un, env.un) != 0)
		goto out;
	env.users = 2;
	if (sh("useradd -M -d / -s /bin/sh %s", env.up) != 0)
		goto out;
	env.users = 3;
	/* the password goes through a file, never a command line */
	if (write_file(pwfile, PASSWORD "\n", 0600) != 0 ||
	    sh("usermod -p \"$(openssl passwd -6 -in %s)\" %s", pwfile,
	    env.up) != 0)
		goto out;
	r = 0;
 out:
	unlink(pwfile);
	free(pwfile);
	return r;
}

static inline int
make_sudoers(void)
{
	char *tmp = xasprintf("%s/sudoers", env.dir), *text;
	int r;

	text = xasprintf("%s ALL=(ALL:ALL) NOPASSWD: ALL\n"
	    "%s ALL=(ALL:ALL) ALL\n"
	    "Defaults:%s timestamp_timeout=0\n", env.ua, env.up, env.up);
	r = write_file(tmp, text, 0440);
	if (r == 0)
		r = sh("visudo -qcf %s && cp %s %s", tmp, tmp, env.sudoers);
	if (r == 0) {
		env.made_sudoers = 1;
		r = chmod(env.sudoers, 0440);
	}
	free(text);
	free(tmp);
	return r;
}

static inline int
make_keys(void)
{
	const char *users[] = { env.ua, env.un, env.up, "root" };
	size_t i, len;
	char *pub, *path, *line;
	int r = 0;

	if (sh("mkdir -m 0755 %s/keys && ssh-keygen -q -t ed25519 -N '' "
	    "-C host -f %s/hostkey && ssh-keygen -q -t ed25519 -N '' -C user "
	    "-f %s/id", env.dir, env.dir, env.dir) != 0)
		return -1;
	env.key = xasprintf("%s/id", env.dir);
	path = xasprintf("%s/id.pub", env.dir);
	pub = slurp(path, &len);
	free(path);
	for (i = 0; i < 4 && pub != NULL && r == 0; i++) {
		path = xasprintf("%s/keys/%s", env.dir, users[i]);
		r = write_file(path, pub, 0644);
		free(path);
	}
	free(pub);
	path = xasprintf("%s/hostkey.pub", env.dir);
	pub = slurp(path, &len);
	free(path);
	if (pub == NULL)
		return -1;
	env.kh = xasprintf("%s/known_hosts", env.dir);
	line = xasprintf("[127.0.0.1]:%d %s", env.port, pub);
	r = r == 0 ? write_file(env.kh, line, 0644) : r;
	free(line);
	free(pub);
	return r;
}

static inline int
start_sshd(void)
{
	char *cfg = xasprintf("%s/sshd_config", env.dir), *text, *pidf;
	size_t len;
	long long until;
	int r;

	pidf = xasprintf("%s/sshd.pid", env.dir);
	env.log = xasprintf("%s/sshd.log", env.dir);
	text = xasprintf("ListenAddress 127.0.0.1:%d\n"
	    "HostKey %s/hostkey\nPidFile %s\n"
	    "AuthorizedKeysFile %s/keys/%%u\n"
	    "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\nPermitRootLogin "
	    "prohibit-password\nSubsystem sftp internal-sftp\n"
	    "LogLevel VERBOSE\nMaxStartups 50\nMaxSessions 50\n",
	    env.port, env.dir, pidf, env.dir);
	r = write_file(cfg, text, 0644);
	if (r == 0)
		r = sh("mkdir -p /run/sshd && %s -f %s -E %s", SSHD, cfg,
		    env.log);
	/* sshd writes its pid file a moment after it listens */
	until = now_ms() + 10000;
	free(text);
	text = NULL;
	while (r == 0 && now_ms() < until) {
		free(text);
		text = slurp(pidf, &len);
		env.sshd = text != NULL ? (pid_t)atol(text) : 0;
		if (env.sshd > 0 && port_open(env.port))
			break;
		usleep(20000);
	}
	if (r == 0)
		r = env.sshd > 0 && port_open(env.port) ? 0 : -1;
	free(text);
	free(cfg);
	free(pidf);
	return r;
}

static inline int
make_dirs(void)
{
	struct passwd *pw = getpwnam(env.un);

	if (pw == NULL)
		return -1;
	env.un_uid = (long)pw->pw_uid;
	env.un_gid = (long)pw->pw_gid;
	env.rootonly = xasprintf("%s/rootonly", env.dir);
	env.owned = xasprintf("%s/owned", env.dir);
	if (mkdir(env.rootonly, 0700) != 0 || mkdir(env.owned, 0700) != 0 ||
	    chown(env.owned, pw->pw_uid, pw->pw_gid) != 0)
		return -1;
	return 0;
}

static inline int
estate_up(void)
{
	int id = (int)(getpid() % 100000);

	snprintf(env.dir, sizeof(env.dir), "/tmp/pemrt-become-XXXXXX");
	if (mkdtemp(env.dir) == NULL || chmod(env.dir, 0755) != 0)
		return -1;
	snprintf(env.ua, sizeof(env.ua), "prbc%da", id);
	snprintf(env.un, sizeof(env.un), "prbc%dn", id);
	snprintf(env.up, sizeof(env.up), "prbc%dp", id);
	snprintf(env.sudoers, sizeof(env.sudoers), "/etc/sudoers.d/prbc%d",
	    id);
	env.port = free_port();
	if (env.port <= 0 || make_users() != 0 || make_sudoers() != 0 ||
	    make_keys() != 0 || make_dirs() != 0 || start_sshd() != 0)
		return -1;
	return 0;
}

static inline void
estate_down(int show_log)
{
	const char *users[] = { env.ua, env.un, env.up };
	int i;

	if (show_log && env.log != NULL) {
		fprintf(stderr, "--- the tail of %s\n", env.log);
		sh("tail -n 40 %s >&2", env.log);
	}
	if (env.sshd > 0 && kill(env.sshd, SIGTERM) == 0)
		usleep(100000);
	/* their sessions end a moment after their connections */
	for (i = env.users - 1; i >= 0; i--)
		sh("for i in $(seq 50); do userdel %s 2>/dev/null && break; "
		    "sleep 0.1; done; id %s >/dev/null 2>&1 && exit 1; "
		    "rm -f /run/sudo/ts/%s", users[i], users[i], users[i]);
	if (env.made_sudoers)
		unlink(env.sudoers);
	if (env.dir[0] != '\0')
		sh("rm -rf %s", env.dir);
	free(env.kh);
	free(env.key);
	free(env.log);
	free(env.rootonly);
	free(env.owned);
}

#endif
