/*
 * jumptest.c: helpers of test_transport_jump.c (jumptest.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/xmem.h"
#include "transport/jump.h"
#include "tests/integration/jumptest.h"

int
jumptest_logins(const char *dir, const char *name, const char *user)
{
	char path[600], line[1024], what[128];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s.log", dir, name);
	snprintf(what, sizeof(what), "Accepted publickey for %s ", user);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, what) != NULL)
			n++;
	fclose(f);
	return n;
}

void
jumptest_echo_through(int fd, const unsigned char *out, unsigned char *in,
    size_t n)
{
	size_t sent = 0, got = 0;
	struct pollfd p;
	ssize_t r;

	while (got < n) {
		p.fd = fd;
		p.events = POLLIN | (sent < n ? POLLOUT : 0);
		assert_true(poll(&p, 1, 20000) > 0);
		if (sent < n && (p.revents & POLLOUT)) {
			r = send(fd, out + sent, n - sent > 65536 ? 65536 :
			    n - sent, MSG_NOSIGNAL);
			if (r > 0)
				sent += (size_t)r;
			else
				assert_int_equal(errno, EAGAIN);
		}
		if (p.revents & (POLLIN | POLLHUP)) {
			r = read(fd, in + got, n - got);
			assert_int_not_equal(r, 0);
			if (r > 0)
				got += (size_t)r;
			else
				assert_int_equal(errno, EAGAIN);
		}
	}
}

size_t
jumptest_read_to_eof(int fd)
{
	char buf[4096];
	struct pollfd p;
	size_t total = 0;
	ssize_t r;

	for (;;) {
		p.fd = fd;
		p.events = POLLIN;
		assert_true(poll(&p, 1, 10000) > 0);
		r = read(fd, buf, sizeof(buf));
		if (r == 0)
			return total;
		if (r < 0) {
			assert_true(errno == EAGAIN || errno == ECONNRESET);
			if (errno == ECONNRESET)
				return total;
			continue;
		}
		total += (size_t)r;
	}
}

static void *
echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
			break;
	shutdown(fd, SHUT_WR);
	close(fd);
	return NULL;
}

static void *
echo_server(void *arg)
{
	int l = (int)(intptr_t)arg, fd;
	pthread_t t;

	while ((fd = accept(l, NULL, NULL)) >= 0) {
		if (pthread_create(&t, NULL, echo_conn,
		    (void *)(intptr_t)fd) == 0)
			pthread_detach(t);
		else
			close(fd);
	}
	return NULL;
}

int
jumptest_echo_start(void)
{
	struct sockaddr_in sa;
	pthread_t t;
	int l, one = 1;

	if ((l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(ECHO_PORT);
	inet_pton(AF_INET, ECHO_ADDR, &sa.sin_addr);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(l, 64) == -1 ||
	    pthread_create(&t, NULL, echo_server, (void *)(intptr_t)l) != 0)
		return -1;
	pthread_detach(t);
	return 0;
}

double
jumptest_echo_many(struct jump *j, int n, size_t len)
{
	unsigned char *out, buf[65536];
	size_t *sent, *got, done = 0, i;
	struct pollfd *p;
	char *msg = NULL;
	double t0;
	ssize_t r;

	out = xmalloc(len);
	for (i = 0; i < len; i++)
		out[i] = (unsigned char)(i * 13 + (i >> 11));
	p = xcalloc((size_t)n, sizeof(*p));
	sent = xcalloc((size_t)n, sizeof(*sent));
	got = xcalloc((size_t)n, sizeof(*got));
	t0 = now_s();
	for (i = 0; i < (size_t)n; i++)
		if (jump_stream(j, ECHO_ADDR, ECHO_PORT, &p[i].fd, &msg) != 0)
			fail_msg("jump_stream %zu: %s", i, msg);
	while (done < (size_t)n) {
		for (i = 0; i < (size_t)n; i++)
			p[i].events = got[i] < len ? POLLIN |
			    (sent[i] < len ? POLLOUT : 0) : 0;
		assert_true(poll(p, (nfds_t)n, 20000) > 0);
		for (i = 0; i < (size_t)n; i++) {
			if (p[i].revents & POLLOUT) {
				r = send(p[i].fd, out + sent[i], len - sent[i],
				    MSG_NOSIGNAL);
				if (r > 0)
					sent[i] += (size_t)r;
			}
			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(p[i].fd, buf, sizeof(buf));
			assert_int_not_equal(r, 0);
			if (r < 0)
				continue;
			assert_true(got[i] + (size_t)r <= len);
			assert_memory_equal(buf, out + got[i], (size_t)r);
			if ((got[i] += (size_t)r) == len)
				done++;
		}
	}
	t0 = now_s() - t0;
	for (i = 0; i < (size_t)n; i++)
		close(p[i].fd);
	free(p);
	free(sent);
	free(got);
	free(out);
	return t0;
}

double
jumptest_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

int
jumptest_connect(const struct sockaddr *sa, socklen_t len)
{
	int fd;

	assert_true((fd = socket(sa->sa_family, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, sa, len), 0);
	return fd;
}

void
jumptest_banner(int fd)
{
	char buf[256];
	ssize_t n;

	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_memory_equal(buf, "SSH-2.0-OpenSSH", 15);
	close(fd);
}

/* utime + stime of /proc/self/task/TID if its name is "pr-jump"; ticks. */
static long
task_ticks(const char *tid)
{
	char path[300], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/self/task/%s/comm", tid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	ok = fgets(buf, sizeof(buf), f) != NULL &&
	    strcmp(buf, "pr-jump\n") == 0;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/self/task/%s/stat", tid);
	if (!ok || (f = fopen(path, "r")) == NULL)
		return 0;
	ok = fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) == 2;
	fclose(f);
	return ok ? (long)(ut + st) : 0;
}

double
jumptest_forwarder_cpu_ms(void)
{
	struct dirent *e;
	long ticks = 0;
	DIR *d;

	if ((d = opendir("/proc/self/task")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			ticks += task_ticks(e->d_name);
	closedir(d);
	return ticks * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}
