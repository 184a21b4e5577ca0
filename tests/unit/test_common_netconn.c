/*
 * test_common_netconn.c: a connection within a deadline, on loopback: one
 * that is accepted, one refused, one that is never answered (the
 * listener's queue is full), a port that does not resolve; and the clock
 * it is measured on; a wait for a socket within a deadline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/netconn.h"

/* A loopback listener with a queue of backlog; its port in port. */
static int
listener(int backlog, char *port, size_t len)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(port, len, "%u", (unsigned)ntohs(sa.sin_port));
	return fd;
}

static void
test_clock(void **state)
{
	long long ms = now_ms();
	double s = now_s();

	(void)state;
	assert_true(ms >= 0);
	assert_true(s >= 0);
	assert_true(s * 1000 - (double)ms < 1000 && (double)ms - s * 1000 < 1);
	usleep(20000);
	assert_true(now_ms() - ms >= 20);
}

static void
test_connect_accepted(void **state)
{
	char port[16], *msg = (char *)"";
	int l, fd, nodelay = 0;
	socklen_t sl = sizeof(nodelay);

	(void)state;
	l = listener(4, port, sizeof(port));
	fd = netconn_connect("127.0.0.1", port, now_ms() + 5000, &msg);
	assert_true(fd >= 0);
	assert_null(msg);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* SSH and TLS records go out at once (netconn.h) */
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay,
	    &sl), 0);
	assert_int_equal(nodelay, 1);
	close(fd);
	close(l);
}

static void
test_connect_refused(void **state)
{
	char port[16], *msg;

	(void)state;
	close(listener(1, port, sizeof(port)));		/* nobody listens */
	assert_int_equal(netconn_connect("127.0.0.1", port, now_ms() + 5000,
	    &msg), ERR_NET);
	assert_string_equal(msg, "connect: Connection refused");
	free(msg);
}

/* A full accept queue drops the SYN: the connection is never answered. */
static void
test_connect_timeout(void **state)
{
	char port[16], *msg = NULL;
	int l, fd[8], i, r = 0;
	long long t0;

	(void)state;
	l = listener(0, port, sizeof(port));
	for (i = 0; i < 8; i++) {
		t0 = now_ms();
		r = fd[i] = netconn_connect("127.0.0.1", port, t0 + 300, &msg);
		if (r < 0)
			break;
	}
	assert_int_equal(r, ERR_TIMEOUT);
	assert_true(now_ms() - t0 < 1000);
	assert_string_equal(msg, "connect: timed out");
	free(msg);
	while (i-- > 0)
		close(fd[i]);
	close(l);
}

/* netconn_wait: nothing to read until the peer writes; the deadline holds. */
static void
test_wait(void **state)
{
	char port[16], *msg;
	int l, fd, peer;
	long long t0;

	(void)state;
	l = listener(4, port, sizeof(port));
	fd = netconn_connect("127.0.0.1", port, now_ms() + 5000, &msg);
	assert_true(fd >= 0);
	assert_null(msg);
	assert_true((peer = accept(l, NULL, NULL)) >= 0);
	assert_int_equal(netconn_wait(fd, POLLOUT, now_ms() + 5000), 0);
	t0 = now_ms();
	assert_int_equal(netconn_wait(fd, POLLIN, t0 + 100), ERR_TIMEOUT);
	assert_true(now_ms() - t0 >= 100 && now_ms() - t0 < 1000);
	assert_int_equal(write(peer, "x", 1), 1);
	assert_int_equal(netconn_wait(fd, POLLIN, now_ms() + 5000), 0);
	assert_int_equal(netconn_wait(fd, POLLIN, now_ms() - 1), ERR_TIMEOUT);
	close(peer);
	close(fd);
	close(l);
}

static void
test_resolve_fails(void **state)
{
	char *msg;

	(void)state;
	assert_int_equal(netconn_connect("127.0.0.1", "no-such-service-x",
	    now_ms() + 5000, &msg), ERR_NET);
	assert_memory_equal(msg, "resolve: ", 9);
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_connect_accepted),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_resolve_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
