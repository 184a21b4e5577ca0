/*
 * jumptest.h: what test_transport_jump.c uses besides jump.h and
 * sshconn.h: an echo server of its own (behind the bastion, as the
 * targets are), streams driven from poll loops, the sshd logs' logins,
 * local connections.  The stream helpers fail the current cmocka test
 * on any error.
 */
#ifndef PEMROTATE_JUMPTEST_H
#define PEMROTATE_JUMPTEST_H

#include <sys/socket.h>
#include <stddef.h>

struct jump;

#define ECHO_ADDR	"127.0.70.1"
#define ECHO_PORT	2070

/* Start the echo server on ECHO_ADDR:ECHO_PORT, a thread per client. */
int jumptest_echo_start(void);

/* Send n bytes of out on fd (non-blocking) and read n back into in. */
void jumptest_echo_through(int fd, const unsigned char *out,
    unsigned char *in, size_t n);

/*
 * n streams through j to the echo server at once, len bytes each way on
 * each, all driven from one poll loop, every byte checked: the seconds
 * it took.
 */
double jumptest_echo_many(struct jump *j, int n, size_t len);

/* Read fd until EOF (or a reset), within 10 s: the bytes that came. */
size_t jumptest_read_to_eof(int fd);

/* The "Accepted publickey for USER" lines in DIR/NAME.log. */
int jumptest_logins(const char *dir, const char *name, const char *user);

/* The process's CPU time so far, in ms. */
double jumptest_cpu_ms(void);

/* The CPU time so far of the live forwarder threads ("pr-jump"), in ms. */
double jumptest_forwarder_cpu_ms(void);

/* A blocking socket connected to sa. */
int jumptest_connect(const struct sockaddr *sa, socklen_t len);

/* Read fd's first bytes: sshd's banner; close fd. */
void jumptest_banner(int fd);

#endif
