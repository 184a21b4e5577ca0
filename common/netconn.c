/*
 * netconn.c: non-blocking connect(2), each wait a poll(2) bounded by the
 * caller's deadline.
 */
#include "netconn.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/xmem.h"

int
netconn_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int n;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return ERR_TIMEOUT;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return ERR_NET;
	}
}

/*
 * One address: the connected socket, ERR_TIMEOUT, or ERR_NET with the
 * reason in *eno.
 */
static int
connect_one(const struct addrinfo *ai, long long deadline, int *eno)
{
	socklen_t sl = sizeof(*eno);
	int fd, r = ERR_NET, one = 1;

	*eno = 0;
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol)) == -1) {
		*eno = errno;
		return ERR_NET;
	}
	/* best effort: a socket without it still works, only slower */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*eno = errno;
		goto out;
	}
	if ((r = netconn_wait(fd, POLLOUT, deadline)) != 0) {
		*eno = errno;
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, eno, &sl) == -1)
		*eno = errno;
	r = *eno == 0 ? 0 : ERR_NET;
 out:
	if (r != 0) {
		close(fd);
		return r;
	}
	return fd;
}

int
netconn_connect(const char *host, const char *port, long long deadline,
    char **msg)
{
	struct addrinfo hints, *res = NULL, *ai;
	char why[128];
	int gai, eno = 0, fd = ERR_NET;

	*msg = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		*msg = xasprintf("resolve: %s", gai_strerror(gai));
		return ERR_NET;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if ((fd = connect_one(ai, deadline, &eno)) != ERR_NET)
			break;
	freeaddrinfo(res);
	if (fd >= 0)
		return fd;
	if (fd == ERR_TIMEOUT)
		snprintf(why, sizeof(why), "timed out");
	else if (eno == 0)
		snprintf(why, sizeof(why), "no usable address");
	else if (strerror_r(eno, why, sizeof(why)) != 0)
		snprintf(why, sizeof(why), "error %d", eno);
	*msg = xasprintf("connect: %s", why);
	return fd;
}
