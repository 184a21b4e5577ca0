/*
 * jump.c: jump hosts, the API: a jump started on a bastion's connection
 * and stopped, streams asked of its forwarder (transport/jumpfw.c) and
 * waited for, local listeners made and handed to it.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/jump_int.h"

/* ---- listeners ---- */

static void
listener_free(struct jlisten *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->path != NULL)
		unlink(l->path);
	if (l->dir != NULL)
		rmdir(l->dir);
	free(l->path);
	free(l->dir);
	free(l->host);
	free(l);
}

/*
 * A TCP listener on 127.0.0.1, an ephemeral port; or with same_port, on
 * port at an address of 127.0.0.0/8 chosen at random (Linux answers all
 * of it locally), tried again elsewhere while that one is taken.
 */
static int
listen_tcp(struct jlisten *l, int same_port, int port, char addr[16],
    int *lport)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	unsigned char rnd[3];
	int tries;

	for (tries = 0; tries < 16; tries++) {
		l->fd = socket(AF_INET,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (l->fd == -1)
			return -1;
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (same_port) {
			if (getentropy(rnd, sizeof(rnd)) != 0)
				return -1;
			/* 127.64.0.0 - 127.127.255.254, never .0 or .255 */
			snprintf(addr, 16, "127.%u.%u.%u", 64 + rnd[0] % 64,
			    (unsigned)rnd[1], 1 + rnd[2] % 254);
			inet_pton(AF_INET, addr, &sa.sin_addr);
			sa.sin_port = htons((uint16_t)port);
		} else {
			snprintf(addr, 16, "127.0.0.1");
		}
		if (bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		if (!same_port || errno != EADDRINUSE)
			return -1;
		close(l->fd);
		l->fd = -1;
	}
	if (l->fd == -1) {
		errno = EADDRINUSE;
		return -1;
	}
	if (listen(l->fd, 128) == -1 ||
	    getsockname(l->fd, (struct sockaddr *)&sa, &sl) == -1)
		return -1;
	*lport = ntohs(sa.sin_port);
	return 0;
}

/* A socket named as libpq looks for it, in a new 0700 directory. */
static int
listen_unix(struct jlisten *l)
{
	struct sockaddr_un sa;
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	l->dir = xasprintf("%s/pemrotate-jump.XXXXXX", tmp);
	if (mkdtemp(l->dir) == NULL) {
		free(l->dir);
		l->dir = NULL;
		return -1;
	}
	l->path = xasprintf("%s/.s.PGSQL.%d", l->dir, l->port);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(l->path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, l->path, strlen(l->path) + 1);
	l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd == -1 || bind(l->fd, (struct sockaddr *)&sa,
	    sizeof(sa)) == -1 || listen(l->fd, 128) == -1)
		return -1;
	return 0;
}

/* ---- the API ---- */

static void
wake(struct jump *j)
{
	ssize_t n;

	n = write(j->wake[1], "", 1);	/* full: a wake-up is pending */
	(void)n;
}

int
jump_start(struct sshconn *c, struct jump **out, char **msg)
{
	struct jump *j;
	char buf[128];

	*out = NULL;
	*msg = NULL;
	if (c == NULL || sshconn_session(c) == NULL || sshconn_socket(c) < 0) {
		*msg = xstrdup("jump: no open connection to a bastion");
		return ERR_INVAL;
	}
	j = xcalloc(1, sizeof(*j));
	j->c = c;
	j->s = sshconn_session(c);
	j->sock = sshconn_socket(c);
	j->label = xstrdup(sshconn_label(c));
	j->timeout_ms = sshconn_timeout(c);
	j->qtail = &j->qhead;
	if (pipe(j->wake) == -1) {
		*msg = xasprintf("bastion %s: pipe: %s", j->label,
		    jumpfw_errstr(errno, buf, sizeof(buf)));
		free(j->label);
		free(j);
		return ERR_IO;
	}
	jumpfw_nonblock(j->wake[0]);
	jumpfw_nonblock(j->wake[1]);
	pthread_mutex_init(&j->mu, NULL);
	jumpfw_takeover(j);
	if (pthread_create(&j->thread, NULL, jumpfw_main, j) != 0) {
		jumpfw_restore(j);
		*msg = xasprintf("bastion %s: cannot start a thread",
		    j->label);
		close(j->wake[0]);
		close(j->wake[1]);
		pthread_mutex_destroy(&j->mu);
		free(j->label);
		free(j);
		return ERR_INTERNAL;
	}
	*out = j;
	return 0;
}

static int
bad_target(struct jump *j, const char *host, int port, char **msg)
{
	if (host != NULL && *host != '\0' && strlen(host) < JUMP_HOSTLEN &&
	    !str_has_ctrl(host) && port > 0 && port < 65536)
		return 0;
	*msg = xasprintf("via bastion %s: no valid host and port to forward "
	    "to", j->label);
	return ERR_INVAL;
}

/* Queue q and wait for the forwarder's answer. */
static void
req_wait(struct jump *j, struct jreq *q)
{
	pthread_mutex_lock(&j->mu);
	if (j->stopping || j->dead) {
		q->r = j->stopping ? ERR_CANCELLED : j->err;
		q->msg = j->stopping ? xasprintf("via bastion %s: the jump "
		    "is stopping", j->label) : xstrdup(j->errmsg);
		pthread_mutex_unlock(&j->mu);
		return;
	}
	jumpfw_push(j, q);
	wake(j);
	while (!q->done)
		pthread_cond_wait(&q->cv, &j->mu);
	pthread_mutex_unlock(&j->mu);
}

static int
stream_open(struct jump *j, const char *host, int port, long long deadline,
    int *fd, char **msg)
{
	struct jreq q;
	char buf[128];
	int r, sv[2];

	*fd = -1;
	*msg = NULL;
	if ((r = bad_target(j, host, port, msg)) != 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == -1) {
		*msg = xasprintf("via bastion %s: socketpair: %s", j->label,
		    jumpfw_errstr(errno, buf, sizeof(buf)));
		return ERR_NET;
	}
	memset(&q, 0, sizeof(q));
	q.host = host;
	q.port = port;
	q.deadline = deadline;
	q.fd = sv[1];
	pthread_cond_init(&q.cv, NULL);
	req_wait(j, &q);
	pthread_cond_destroy(&q.cv);
	if (q.fd >= 0)		/* never handed over */
		close(q.fd);
	if (q.r != 0) {
		close(sv[0]);
		*msg = q.msg;
		return q.r;
	}
	*fd = sv[0];
	return 0;
}

int
jump_stream(struct jump *j, const char *host, int port, int *fd, char **msg)
{
	return stream_open(j, host, port, now_ms() + j->timeout_ms, fd, msg);
}

int
jump_connect(void *arg, const char *host, int port, long long deadline,
    char **msg)
{
	int fd, r;

	if ((r = stream_open(arg, host, port, deadline, &fd, msg)) != 0)
		return r;
	return fd;
}

int
jump_listen(struct jump *j, const char *host, int port, int kind,
    char **lhost, int *lport, char **msg)
{
	struct jlisten *l;
	char buf[128], addr[16];
	int r;

	*lhost = NULL;
	*lport = 0;
	*msg = NULL;
	if ((r = bad_target(j, host, port, msg)) != 0)
		return r;
	l = xcalloc(1, sizeof(*l));
	l->fd = -1;
	l->host = xstrdup(host);
	l->port = port;
	if ((kind == JUMP_LISTEN_UNIX ? listen_unix(l) :
	    listen_tcp(l, kind == JUMP_LISTEN_TCP_PORT, port, addr,
	    lport)) == -1) {
		*msg = xasprintf("via bastion %s: local forward to %s:%d: %s",
		    j->label, host, port,
		    jumpfw_errstr(errno, buf, sizeof(buf)));
		listener_free(l);
		return ERR_IO;
	}
	if (kind == JUMP_LISTEN_UNIX)
		*lport = port;
	*lhost = xstrdup(kind == JUMP_LISTEN_UNIX ? l->dir : addr);
	pthread_mutex_lock(&j->mu);
	l->next = j->listeners;
	j->listeners = l;
	wake(j);
	pthread_mutex_unlock(&j->mu);
	return 0;
}

int
jump_status(struct jump *j, char **msg)
{
	int r;

	pthread_mutex_lock(&j->mu);
	r = j->err;
	*msg = r != 0 ? xstrdup(j->errmsg) : NULL;
	pthread_mutex_unlock(&j->mu);
	return r;
}

void
jump_stop(struct jump *j)
{
	struct jlisten *l;

	if (j == NULL)
		return;
	pthread_mutex_lock(&j->mu);
	j->stopping = 1;
	wake(j);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thread, NULL);
	sshconn_close(j->c);
	while ((l = j->listeners) != NULL) {
		j->listeners = l->next;
		listener_free(l);
	}
	close(j->wake[0]);
	close(j->wake[1]);
	pthread_mutex_destroy(&j->mu);
	free(j->ch);
	free(j->pfd);
	free(j->oq);
	free(j->errmsg);
	free(j->label);
	free(j);
}
