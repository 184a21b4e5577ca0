/*
 * netconn.h: a TCP connection set up within a deadline, for the layers
 * that speak a protocol over a socket of their own (transport/sshconn.c,
 * crypto/tlsprobe.c).
 *
 * No state: safe from any thread.  The socket returned belongs to the
 * caller.
 */
#ifndef PEMROTATE_NETCONN_H
#define PEMROTATE_NETCONN_H

#include <stddef.h>

/*
 * Connect to host (a name or an address) and port (a number or a service
 * name), trying each address getaddrinfo(3) gives in turn, all before
 * deadline (a now_ms() value, common/clock.h).  Returns the connected
 * socket, non-blocking, close-on-exec and with TCP_NODELAY, or ERR_NET or ERR_TIMEOUT with
 * what failed in *msg (caller frees; NULL on success): "resolve:
 * <reason>", "connect: <strerror>", "connect: timed out" (the caller adds
 * which host).
 *
 * TCP_NODELAY: SSH and TLS write whole records, and with Nagle's
 * algorithm a second small record waits until the peer acknowledges the
 * first -- up to a delayed ACK (40 ms on Linux).  Through a bastion that
 * carries many hosts' channels on one connection that wait came on most
 * exchanges (docs/performance.md, run 13).
 */
int netconn_connect(const char *host, const char *port, long long deadline,
    char **msg);

/*
 * Wait until fd is ready for events (POLLIN, POLLOUT: poll(2)'s), polling
 * again after EINTR: 0, or ERR_TIMEOUT once deadline is past, or ERR_NET
 * with errno set.
 */
int netconn_wait(int fd, short events, long long deadline);

#endif
