/*
 * invexec.c: inventories that are not INI files (see inventory_int.h):
 * "-" (JSON on stdin), a file ending in ".json", and an executable
 * regular file, a dynamic inventory run as Ansible runs one: "PATH
 * --list" (no shell, stdin /dev/null, pemrotate's environment), then
 * "PATH --host NAME" for each host when its output has no "_meta".
 * Each run is bounded: INVEXEC_MAX bytes of output and
 * PEMROTATE_INVENTORY_TIMEOUT seconds (default 60), after which its
 * process group is killed.  A failure's message holds the program's
 * stderr (its last INVEXEC_ERRMAX bytes, control characters escaped).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/inventory_int.h"

#define INVEXEC_MAX		(16 * 1024 * 1024)	/* as a file */
#define INVEXEC_ERRMAX		2048
#define INVEXEC_TIMEOUT_S	60
#define INVEXEC_TIMEOUT_ENV	"PEMROTATE_INVENTORY_TIMEOUT"

/* What one run collects. */
struct xrun {
	int fd[2];		/* stdout, stderr; -1 once at EOF */
	struct strbuf out;
	struct strbuf err;
	size_t max;
	pid_t pid;
	int status;
};

int
invexec_source(const char *path)
{
	struct stat st;
	size_t n = strlen(path);

	if (strcmp(path, "-") == 0)
		return 1;
	if (n > 5 && strcmp(path + n - 5, ".json") == 0)
		return 1;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

/* --- running a program --- */

/* In the child: only async-signal-safe calls. */
static void
child(const char *path, char *const *argv, int out, int err)
{
	int null;

	setpgid(0, 0);
	if ((null = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(null, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1)
		_exit(126);
	execv(path, argv);
	if (write(2, "cannot execute: ", 16) < 0 ||
	    write(2, strerror(errno), strlen(strerror(errno))) < 0)
		_exit(127);
	_exit(127);
}

static int
cloexec_pipe(int fd[2])
{
	if (pipe(fd) == -1)
		return -1;
	if (fcntl(fd[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fd[1], F_SETFD, FD_CLOEXEC) == -1) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	return 0;
}

static int
spawn(struct xrun *x, const char *path, const char *const *args, char **msg)
{
	const char *argv[8];
	int po[2], pe[2], e;
	size_t n = 0;

	argv[n++] = path;
	while (args[n - 1] != NULL && n < 7) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	if (cloexec_pipe(po) == -1)
		goto fail;
	if (cloexec_pipe(pe) == -1) {
		close(po[0]);
		close(po[1]);
		goto fail;
	}
	if ((x->pid = fork()) == 0)
		child(path, (char *const *)argv, po[1], pe[1]);
	e = errno;
	/*
	 * Its own process group, from this side too: a timeout's kill of
	 * the group may come before the child ran setpgid (EACCES once it
	 * has exec'd: it did it then)
	 */
	if (x->pid > 0)
		(void)setpgid(x->pid, x->pid);
	close(po[1]);
	close(pe[1]);
	x->fd[0] = po[0];
	x->fd[1] = pe[0];
	if (x->pid != -1)
		return 0;
	errno = e;
 fail:
	*msg = xasprintf("%s: cannot run: %s", path, strerror(errno));
	return ERR_IO;
}

/* Read what is there on fd i; -1 on EOF. */
static void
drain(struct xrun *x, int i)
{
	char buf[65536];
	ssize_t n;
	struct strbuf *b = i == 0 ? &x->out : &x->err;

	if ((n = read(x->fd[i], buf, sizeof(buf))) < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		close(x->fd[i]);
		x->fd[i] = -1;
		return;
	}
	strbuf_add(b, buf, (size_t)n);
	if (i == 1 && b->len > 4 * INVEXEC_ERRMAX) {	/* keep the tail */
		memmove(b->s, b->s + b->len - INVEXEC_ERRMAX, INVEXEC_ERRMAX);
		b->len = INVEXEC_ERRMAX;
		b->s[b->len] = '\0';
	}
}

/* Collect stdout and stderr until both end, or the deadline. */
static int
collect(struct xrun *x, long long deadline)
{
	struct pollfd pfd[2];
	long left;
	int i, n;

	while (x->fd[0] != -1 || x->fd[1] != -1) {
		if ((left = deadline - now_ms()) <= 0)
			return ERR_TIMEOUT;
		for (i = 0; i < 2; i++) {
			pfd[i].fd = x->fd[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if ((n = poll(pfd, 2, (int)left)) < 0 && errno != EINTR)
			return ERR_IO;
		for (i = 0; i < 2 && n > 0; i++) {
			if (pfd[i].revents != 0)
				drain(x, i);
		}
		if (x->out.len > x->max)
			return ERR_TOOBIG;
	}
	return 0;
}

/* Wait for the program to exit, until the deadline. */
static int
reap(struct xrun *x, long long deadline)
{
	pid_t w;

	while ((w = waitpid(x->pid, &x->status, WNOHANG)) == 0) {
		if (now_ms() >= deadline)
			return ERR_TIMEOUT;
		usleep(10000);
	}
	if (w == -1 && errno == EINTR)
		return reap(x, deadline);
	x->pid = -1;
	return w == -1 ? ERR_IO : 0;
}

/* The tail of stderr, trailing blanks cut, escaped; NULL if empty. */
static char *
err_tail(struct xrun *x)
{
	size_t skip = 0;

	while (x->err.len > 0 && strchr(" \t\r\n", x->err.s[x->err.len - 1]))
		x->err.s[--x->err.len] = '\0';
	if (x->err.len == 0)
		return NULL;
	if (x->err.len > INVEXEC_ERRMAX)
		skip = x->err.len - INVEXEC_ERRMAX;
	return str_printable(x->err.s + skip, INVEXEC_ERRMAX);
}

/* "PATH ARG...: what (stderr: ...)". */
static char *
run_msg(const char *path, const char *const *args, const char *what,
    const char *err)
{
	struct strbuf b;
	size_t i;

	strbuf_init(&b);
	strbuf_adds(&b, path);
	for (i = 0; args[i] != NULL; i++)
		strbuf_addf(&b, " %s", args[i]);
	strbuf_addf(&b, ": %s", what);
	if (err != NULL)
		strbuf_addf(&b, " (stderr: %s)", err);
	return strbuf_steal(&b);
}

static char *
status_text(int status)
{
	if (WIFEXITED(status))
		return xasprintf("exited with status %d", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return xasprintf("killed by signal %d", WTERMSIG(status));
	return xasprintf("stopped (status 0x%x)", status);
}

static void
xrun_end(struct xrun *x)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (x->fd[i] != -1)
			close(x->fd[i]);
	}
	if (x->pid > 0) {
		kill(-x->pid, SIGKILL);
		kill(x->pid, SIGKILL);
		while (waitpid(x->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	strbuf_free(&x->out);
	strbuf_free(&x->err);
}

/* Why run x failed (r), or NULL if it did not. */
static char *
run_failure(struct xrun *x, int *r, int timeout_ms)
{
	if (*r == ERR_TIMEOUT)
		return xasprintf("no answer within %d s; killed",
		    (timeout_ms + 999) / 1000);
	if (*r == ERR_TOOBIG)
		return xasprintf("printed more than %zu bytes; killed",
		    x->max);
	if (*r != 0)
		return xasprintf("%s", strerror(errno));
	if (x->status == 0)
		return NULL;
	*r = ERR_IO;
	return status_text(x->status);
}

int
invexec_run(const char *path, const char *const *args, int timeout_ms,
    size_t max, char **out, size_t *len, char **err, char **msg)
{
	struct xrun x = { { -1, -1 }, { 0 }, { 0 }, max, -1, 0 };
	long long deadline = now_ms() + timeout_ms;
	char *what = NULL;
	int r;

	*out = *err = *msg = NULL;
	*len = 0;
	strbuf_init(&x.out);
	strbuf_init(&x.err);
	if ((r = spawn(&x, path, args, msg)) != 0)
		goto out;
	if ((r = collect(&x, deadline)) == 0)
		r = reap(&x, deadline);
	what = run_failure(&x, &r, timeout_ms);
	*err = err_tail(&x);
	if (r != 0) {
		*msg = run_msg(path, args, what, *err);
		free(*err);
		*err = NULL;
		goto out;
	}
	*len = x.out.len;
	*out = strbuf_steal(&x.out);
 out:
	free(what);
	xrun_end(&x);
	return r;
}

/* --- the sources --- */

/* The run's bound: PEMROTATE_INVENTORY_TIMEOUT seconds, else 60. */
static int
timeout_ms(void)
{
	const char *v = getenv(INVEXEC_TIMEOUT_ENV);
	long s;

	if (v == NULL || !str_to_posint(v, 3600, &s))
		s = INVEXEC_TIMEOUT_S;
	return (int)s * 1000;
}

/* All of fd (at most INVEXEC_MAX bytes), NUL-terminated. */
static int
read_fd(int fd, const char *name, char **buf, size_t *len, char **msg)
{
	struct strbuf b;
	char chunk[65536];
	ssize_t n;
	int r = 0;

	strbuf_init(&b);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*msg = xasprintf("%s: %s", name, strerror(errno));
			r = ERR_IO;
			break;
		}
		strbuf_add(&b, chunk, (size_t)n);
		if (b.len > INVEXEC_MAX) {
			*msg = xasprintf("%s: larger than %d bytes", name,
			    INVEXEC_MAX);
			r = ERR_TOOBIG;
			break;
		}
	}
	*len = b.len;
	*buf = strbuf_steal(&b);
	return r;
}

/* Hand msg (taken over) to the parser as its error; returns r. */
static int
pass_err(struct inv_parser *p, int r, char *msg)
{
	free(*p->msg);
	*p->msg = msg;
	return r;
}

static int
pass_file(struct inv_parser *p, const char *path)
{
	char *buf = NULL, *msg = NULL;
	size_t len = 0;
	int fd, r;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return pass_err(p, ERR_IO, xasprintf("%s: %s", path,
		    strerror(errno)));
	r = read_fd(fd, strcmp(path, "-") == 0 ? "stdin" : path, &buf, &len,
	    &msg);
	if (fd != STDIN_FILENO)
		close(fd);
	if (r != 0)
		r = pass_err(p, r, msg);
	else if (strncmp(buf, "$ANSIBLE_VAULT;", 15) == 0)
		r = pass_err(p, ERR_PARSE, xasprintf("%s: encrypted with "
		    "Ansible Vault: pemrotate does not decrypt vault files",
		    path));
	else {
		inv_file_begin(p, path);
		r = invjson_pass(p, buf, len, NULL, NULL);
	}
	free(buf);
	return r;
}

/* invjson_hostvars_fn: "PATH --host NAME". */
static int
run_host(void *ctx, const char *host, char **text, size_t *len, char **msg)
{
	const char *args[] = { "--host", host, NULL };
	char *err = NULL;
	int r;

	r = invexec_run(ctx, args, timeout_ms(), INVEXEC_MAX, text, len,
	    &err, msg);
	free(err);
	return r;
}

static int
pass_exec(struct inv_parser *p, const char *path)
{
	const char *args[] = { "--list", NULL };
	char *text = NULL, *err = NULL, *msg = NULL;
	size_t len;
	int r;

	if ((r = invexec_run(path, args, timeout_ms(), INVEXEC_MAX, &text,
	    &len, &err, &msg)) != 0)
		return pass_err(p, r, msg);
	inv_file_begin(p, path);
	r = invjson_pass(p, text, len, run_host, (void *)path);
	if (r != 0 && err != NULL && *p->msg != NULL)
		pass_err(p, r, xasprintf("%s (stderr of %s --list: %s)",
		    *p->msg, path, err));
	free(text);
	free(err);
	return r;
}

int
invexec_pass(struct inv_parser *p, const char *path)
{
	size_t n = strlen(path);

	if (strcmp(path, "-") == 0 ||
	    (n > 5 && strcmp(path + n - 5, ".json") == 0))
		return pass_file(p, path);
	return pass_exec(p, path);
}
