/*
 * test_transport_jump.c: jump hosts (transport/jump.c) against real sshds,
 * run by tests/integration/jump.sh, which starts them and sets JT_DIR
 * (the addresses are that script's):
 *
 *   bastion 127.0.50.1:2022 (forwards), 127.0.50.2:2022 (refuses to),
 *           127.0.50.3:2022 (sends keepalives every second)
 *   targets 127.0.60.1:2022, .2 (known_hosts holds a wrong key), .3
 *   an echo server of this program's own on 127.0.70.1:2070
 *
 * Streams carry data both ways intact, with EOF in each direction, 100
 * at once through one forwarder; an SSH session through the bastion
 * runs commands and moves 2 MiB each way; 64 sessions from 8 threads at
 * once go through one bastion login; a target's wrong host key, a
 * refused port, a bastion that does not forward and a lost bastion give
 * clean errors; a two-hop chain works; the local listeners (TCP, unix
 * socket) forward; an idle jump uses no CPU.  With JT_BENCH=N, the same
 * work direct and through the jump; JT_ONLY=GLOB runs some tests only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/netconn.h"
#include "common/xmem.h"
#include "transport/jump.h"
#include "transport/sftp.h"
#include "transport/sshconn.h"
#include "tests/integration/jumptest.h"

#define BASTION		"127.0.50.1"
#define BASTION_NOFWD	"127.0.50.2"
#define BASTION_KEEPALIVE "127.0.50.3"
#define TARGET		"127.0.60.1"
#define TARGET_BADKEY	"127.0.60.2"
#define HOP2		"127.0.60.3"
#define SSH_PORT	2022
#define CLOSED_PORT	2023
#define USER		"pemrt"
#define BLOB_LEN	(2 * 1024 * 1024)
#define NTHREADS	8
#define PER_THREAD	8

static const char *dir;
static char keyfile[512], khfile[512], blobfile[512];
static unsigned char *blob;

/* ---- helpers ---- */

static void
opts_for(struct sshconn_opts *o, const char *host, int port, struct jump *j)
{
	memset(o, 0, sizeof(*o));
	o->host = host;
	o->port = port;
	o->user = USER;
	o->key_file = keyfile;
	o->known_hosts = khfile;
	o->timeout_ms = 20000;
	if (j != NULL) {
		o->stream = jump_connect;
		o->stream_arg = j;
	}
}

/* An SSH connection to host, through j if not NULL; rc returned. */
static int
ssh_open(const char *host, int port, struct jump *j, struct sshconn **c)
{
	struct sshconn_opts o;
	int r;

	opts_for(&o, host, port, j);
	r = sshconn_open(&o, c);
	if (r != 0)
		print_message("    %s: %s\n", host, sshconn_errmsg(*c));
	return r;
}

static struct jump *
jump_to(const char *host)
{
	struct sshconn *c = NULL;
	struct jump *j = NULL;
	char *msg = NULL;

	assert_int_equal(ssh_open(host, SSH_PORT, NULL, &c), 0);
	if (jump_start(c, &j, &msg) != 0)
		fail_msg("jump_start: %s", msg);
	return j;
}

static void
exec_ok(struct sshconn *c, const char *cmd, const char *want)
{
	struct sshconn_result res;

	assert_int_equal(sshconn_exec(c, cmd, 0, 0, &res), 0);
	assert_int_equal(res.exit_status, 0);
	assert_string_equal(res.out, want);
	sshconn_result_clear(&res);
}

/* Download the 2 MiB blob with cat, upload it over SFTP: both intact. */
static void
bulk_both_ways(struct sshconn *c, const char *tag)
{
	struct sshconn_result res;
	char cmd[700], path[600];
	unsigned char *back;
	double t0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "cat %s", blobfile);
	t0 = now_s();
	assert_int_equal(sshconn_exec(c, cmd, 2 * BLOB_LEN, 0, &res), 0);
	assert_int_equal(res.out_len, BLOB_LEN);
	assert_memory_equal(res.out, blob, BLOB_LEN);
	print_message("    %s: 2 MiB down in %.0f ms\n", tag,
	    (now_s() - t0) * 1000);
	sshconn_result_clear(&res);

	snprintf(path, sizeof(path), "%s/up-%s", dir, tag);
	unlink(path);
	t0 = now_s();
	assert_int_equal(sftp_write_new(c, path, blob, BLOB_LEN, 0600, -1, -1),
	    0);
	print_message("    %s: 2 MiB up in %.0f ms\n", tag,
	    (now_s() - t0) * 1000);
	back = xmalloc(BLOB_LEN + 1);
	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fread(back, 1, BLOB_LEN + 1, f), BLOB_LEN);
	fclose(f);
	assert_memory_equal(back, blob, BLOB_LEN);
	free(back);
	unlink(path);
}

/* ---- streams ---- */

/* 8 MiB out and back through one stream; EOF passed on both ways. */
static void
test_stream_echo(void **state)
{
	size_t n = 8 * 1024 * 1024, i;
	unsigned char *out, *in;
	struct jump *j;
	char *msg = NULL;
	double t0, dt;
	int fd;

	(void)state;
	j = jump_to(BASTION);
	out = xmalloc(n);
	in = xmalloc(n);
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)(i * 7 + (i >> 13));
	if (jump_stream(j, ECHO_ADDR, ECHO_PORT, &fd, &msg) != 0)
		fail_msg("jump_stream: %s", msg);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	t0 = now_s();
	jumptest_echo_through(fd, out, in, n);
	dt = now_s() - t0;
	assert_memory_equal(in, out, n);
	print_message("    echo: 8 MiB each way in %.0f ms (%.1f MiB/s each "
	    "way)\n", dt * 1000, 8 / dt);
	/* our EOF reaches the echo server, which then closes: EOF here */
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_int_equal(jumptest_read_to_eof(fd), 0);
	close(fd);
	assert_int_equal(jump_status(j, &msg), 0);
	jump_stop(j);
	free(out);
	free(in);
}

/* 100 streams at once, 256 KiB each way on each. */
static void
test_many_streams(void **state)
{
	struct jump *j;
	char *msg = NULL;
	double dt;

	(void)state;
	j = jump_to(BASTION);
	dt = jumptest_echo_many(j, 100, 256 * 1024);
	print_message("    100 streams x 256 KiB each way: %.0f ms "
	    "(%.1f MiB/s each way in all)\n", dt * 1000, 25 / dt);
	assert_int_equal(jump_status(j, &msg), 0);
	jump_stop(j);
}

/* Open streams read EOF when the jump stops; new ones are refused. */
static void
test_stop_with_streams(void **state)
{
	struct jump *j;
	char *msg = NULL;
	int fd[3], i;

	(void)state;
	j = jump_to(BASTION);
	for (i = 0; i < 3; i++)
		if (jump_stream(j, ECHO_ADDR, ECHO_PORT, &fd[i], &msg) != 0)
			fail_msg("jump_stream: %s", msg);
	jump_stop(j);
	for (i = 0; i < 3; i++) {
		assert_int_equal(jumptest_read_to_eof(fd[i]), 0);
		close(fd[i]);
	}
}

/* ---- SSH through the bastion ---- */

static void
test_inner_session(void **state)
{
	struct sshconn *c = NULL;
	struct jump *j;

	(void)state;
	j = jump_to(BASTION);
	assert_int_equal(ssh_open(TARGET, SSH_PORT, j, &c), 0);
	exec_ok(c, "echo inner; exit 0", "inner\n");
	bulk_both_ways(c, "inner");
	sshconn_close(c);
	jump_stop(j);
}

struct worker {
	pthread_t t;
	int id, n;
	struct jump *j;
	pthread_barrier_t *all_open;
	int fails;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct sshconn **c;
	struct sshconn_result res;
	char cmd[700], want[64];
	int i, n = 0;

	c = xcalloc((size_t)w->n, sizeof(*c));
	for (i = 0; i < w->n; i++)
		if (ssh_open(TARGET, SSH_PORT, w->j, &c[i]) == 0)
			n++;
	pthread_barrier_wait(w->all_open);	/* all sessions open now */
	for (i = 0; i < w->n; i++) {
		snprintf(cmd, sizeof(cmd), "echo %d.%d; head -c 262144 %s",
		    w->id, i, blobfile);
		snprintf(want, sizeof(want), "%d.%d\n", w->id, i);
		if (sshconn_exec(c[i], cmd, 1 << 20, 0, &res) != 0 ||
		    res.exit_status != 0 ||
		    res.out_len != strlen(want) + 262144 ||
		    memcmp(res.out, want, strlen(want)) != 0 ||
		    memcmp(res.out + strlen(want), blob, 262144) != 0)
			w->fails++;
		sshconn_result_clear(&res);
	}
	for (i = 0; i < w->n; i++)
		sshconn_close(c[i]);
	free(c);
	w->fails += w->n - n;
	return NULL;
}

/* NTHREADS x per sessions through j (NULL: direct); failures. */
static int
run_workers(struct jump *j, int per, const char *what)
{
	struct worker w[NTHREADS];
	pthread_barrier_t all_open;
	int i, fails = 0;
	double s0, c0, f0;

	pthread_barrier_init(&all_open, NULL, NTHREADS);
	s0 = now_s();
	c0 = jumptest_cpu_ms();
	f0 = jumptest_forwarder_cpu_ms();
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		w[i].n = per;
		w[i].j = j;
		w[i].all_open = &all_open;
		assert_int_equal(pthread_create(&w[i].t, NULL, worker_main,
		    &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(w[i].t, NULL);
		fails += w[i].fails;
	}
	print_message("    %s: %d sessions from %d threads opened, used and "
	    "closed in %.0f ms; CPU: %.0f ms here, %.0f ms the forwarder's\n",
	    what, NTHREADS * per, NTHREADS, (now_s() - s0) * 1000,
	    jumptest_cpu_ms() - c0, jumptest_forwarder_cpu_ms() - f0);
	pthread_barrier_destroy(&all_open);
	return fails;
}

/*
 * 64 sessions (8 threads x 8) through one jump, all open at once, each
 * running a command: one login on the bastion, 64 on the target.
 */
static void
test_concurrent_one_login(void **state)
{
	struct jump *j;
	int b0, t0;

	(void)state;
	b0 = jumptest_logins(dir, "bastion", USER);
	t0 = jumptest_logins(dir, "target", USER);
	j = jump_to(BASTION);
	assert_int_equal(run_workers(j, PER_THREAD, "via the jump"), 0);
	jump_stop(j);
	assert_int_equal(jumptest_logins(dir, "bastion", USER) - b0, 1);
	assert_int_equal(jumptest_logins(dir, "target", USER) - t0,
	    NTHREADS * PER_THREAD);
}

/*
 * An idle jump costs no CPU (no busy loop), with channels open and with
 * none while the bastion sends keepalives every second; then it works.
 */
static void
test_idle(void **state)
{
	unsigned char out[65536], in[65536];
	struct sshconn *c = NULL;
	struct jump *j;
	char *msg = NULL;
	double c0, used;
	int fd;

	(void)state;
	memset(out, 'k', sizeof(out));
	j = jump_to(BASTION_KEEPALIVE);
	assert_int_equal(ssh_open(TARGET, SSH_PORT, j, &c), 0);
	if (jump_stream(j, ECHO_ADDR, ECHO_PORT, &fd, &msg) != 0)
		fail_msg("jump_stream: %s", msg);
	c0 = jumptest_cpu_ms();
	usleep(2500 * 1000);
	used = jumptest_cpu_ms() - c0;
	print_message("    idle 2.5 s with 2 channels: %.1f ms CPU\n", used);
	assert_true(used < 100);
	exec_ok(c, "echo awake", "awake\n");	/* keepalives were answered */
	sshconn_close(c);
	close(fd);
	usleep(200 * 1000);
	c0 = jumptest_cpu_ms();
	usleep(2500 * 1000);
	used = jumptest_cpu_ms() - c0;
	print_message("    idle 2.5 s with no channel: %.1f ms CPU\n", used);
	assert_true(used < 100);
	if (jump_stream(j, ECHO_ADDR, ECHO_PORT, &fd, &msg) != 0)
		fail_msg("jump_stream: %s", msg);
	jumptest_echo_through(fd, out, in, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	close(fd);
	assert_int_equal(jump_status(j, &msg), 0);
	jump_stop(j);
}

/* One after another: a stream's open, a session's open and a command. */
static void
latencies(struct jump *j)
{
	struct sshconn *c = NULL;
	char *msg = NULL;
	double t0, tl[3][2];
	int i, k, fd;

	t0 = now_s();
	for (i = 0; i < 50; i++) {
		if (jump_stream(j, ECHO_ADDR, ECHO_PORT, &fd, &msg) != 0)
			fail_msg("jump_stream: %s", msg);
		close(fd);
	}
	print_message("    a stream opened in %.2f ms (mean of 50)\n",
	    (now_s() - t0) * 1000 / 50);
	for (k = 0; k < 2; k++) {
		tl[0][k] = tl[1][k] = tl[2][k] = 0;
		for (i = 0; i < 10; i++) {
			t0 = now_s();
			assert_int_equal(ssh_open(TARGET, SSH_PORT,
			    k ? j : NULL, &c), 0);
			tl[0][k] += now_s() - t0;
			t0 = now_s();
			exec_ok(c, "exit 0", "");
			tl[1][k] += now_s() - t0;
			t0 = now_s();
			sshconn_close(c);
			tl[2][k] += now_s() - t0;
		}
	}
	print_message("    means of 10, direct/jump: login %.1f/%.1f ms, "
	    "command %.1f/%.1f ms, close %.1f/%.1f ms\n", tl[0][0] * 100,
	    tl[0][1] * 100, tl[1][0] * 100, tl[1][1] * 100, tl[2][0] * 100,
	    tl[2][1] * 100);
}

/*
 * JT_BENCH=N: the same work direct and through the jump, 8 x N sessions
 * and streams, for the figures in docs/performance.md.
 */
static void
bench_direct_vs_jump(void **state)
{
	struct sshconn *c = NULL;
	struct jump *j;

	const char *b = getenv("JT_BENCH");
	int per = b != NULL ? atoi(b) : 0;
	double dt, c0, f0;

	(void)state;
	if (per <= 0)
		skip();
	assert_int_equal(run_workers(NULL, per, "direct"), 0);
	j = jump_to(BASTION);
	assert_int_equal(run_workers(j, per, "via the jump"), 0);
	c0 = jumptest_cpu_ms();
	f0 = jumptest_forwarder_cpu_ms();
	dt = jumptest_echo_many(j, NTHREADS * per, 1 << 20);
	print_message("    %d streams x 1 MiB each way: %.0f ms (%.1f MiB/s "
	    "each way in all); CPU: %.0f ms here, %.0f ms the forwarder's\n",
	    NTHREADS * per, dt * 1000, NTHREADS * per / dt,
	    jumptest_cpu_ms() - c0, jumptest_forwarder_cpu_ms() - f0);
	latencies(j);
	assert_int_equal(ssh_open(TARGET, SSH_PORT, NULL, &c), 0);
	bulk_both_ways(c, "direct");
	sshconn_close(c);
	c = NULL;
	assert_int_equal(ssh_open(TARGET, SSH_PORT, j, &c), 0);
	bulk_both_ways(c, "jump");
	sshconn_close(c);
	jump_stop(j);
}

/* The inner host's key is checked under its own name. */
static void
test_inner_hostkey_changed(void **state)
{
	struct sshconn *c = NULL;
	struct jump *j;

	(void)state;
	j = jump_to(BASTION);
	assert_int_equal(ssh_open(TARGET_BADKEY, SSH_PORT, j, &c),
	    ERR_HOSTKEY_CHANGED);
	assert_non_null(strstr(sshconn_errmsg(c), "HOST KEY CHANGED"));
	sshconn_close(c);
	c = NULL;
	assert_int_equal(ssh_open(TARGET, SSH_PORT, j, &c), 0);
	exec_ok(c, "echo still", "still\n");
	sshconn_close(c);
	jump_stop(j);
}

static void
test_target_refused(void **state)
{
	struct sshconn *c = NULL;
	struct jump *j;
	char *msg = NULL;
	int fd;

	(void)state;
	j = jump_to(BASTION);
	assert_int_equal(jump_stream(j, TARGET, CLOSED_PORT, &fd, &msg),
	    ERR_NET);
	print_message("    %s\n", msg);
	assert_non_null(strstr(msg, "connect failed"));
	assert_non_null(strstr(msg, BASTION));
	assert_int_equal(fd, -1);
	free(msg);
	assert_int_equal(ssh_open(TARGET, CLOSED_PORT, j, &c), ERR_NET);
	assert_non_null(strstr(sshconn_errmsg(c), "connect failed"));
	sshconn_close(c);
	c = NULL;
	assert_int_equal(ssh_open(TARGET, SSH_PORT, j, &c), 0);
	sshconn_close(c);
	jump_stop(j);
}

static void
test_forwarding_prohibited(void **state)
{
	struct jump *j;
	char *msg = NULL;
	int fd;

	(void)state;
	j = jump_to(BASTION_NOFWD);
	assert_int_equal(jump_stream(j, TARGET, SSH_PORT, &fd, &msg),
	    ERR_PERM);
	print_message("    %s\n", msg);
	assert_non_null(strstr(msg, "administratively prohibited"));
	free(msg);
	jump_stop(j);
}

/* ProxyJump bastion,hop2: the second session runs over the first jump. */
static void
test_chain(void **state)
{
	struct sshconn *hop = NULL, *c = NULL;
	struct jump *j1, *j2 = NULL;
	char *msg = NULL;

	(void)state;
	j1 = jump_to(BASTION);
	assert_int_equal(ssh_open(HOP2, SSH_PORT, j1, &hop), 0);
	if (jump_start(hop, &j2, &msg) != 0)
		fail_msg("jump_start: %s", msg);
	assert_int_equal(ssh_open(TARGET, SSH_PORT, j2, &c), 0);
	exec_ok(c, "echo two hops", "two hops\n");
	bulk_both_ways(c, "chain");
	sshconn_close(c);
	jump_stop(j2);
	jump_stop(j1);
}

/* A bastion whose connection drops: clean errors, streams at EOF. */
static int cut_fd = -1;

static int
tcp_stream(void *arg, const char *host, int port, long long deadline,
    char **msg)
{
	char p[16];
	int fd;

	(void)arg;
	snprintf(p, sizeof(p), "%d", port);
	fd = netconn_connect(host, p, deadline, msg);
	cut_fd = fd;
	return fd;
}

static void
test_bastion_lost(void **state)
{
	struct sshconn_opts o;
	struct sshconn *c = NULL;
	struct jump *j = NULL;
	char *msg = NULL;
	int fd, fd2;

	(void)state;
	opts_for(&o, BASTION, SSH_PORT, NULL);
	o.stream = tcp_stream;
	assert_int_equal(sshconn_open(&o, &c), 0);
	if (jump_start(c, &j, &msg) != 0)
		fail_msg("jump_start: %s", msg);
	if (jump_stream(j, ECHO_ADDR, ECHO_PORT, &fd, &msg) != 0)
		fail_msg("jump_stream: %s", msg);
	shutdown(cut_fd, SHUT_RDWR);		/* the network fails */
	assert_int_equal(jumptest_read_to_eof(fd), 0);
	close(fd);
	assert_int_equal(jump_stream(j, ECHO_ADDR, ECHO_PORT, &fd2, &msg),
	    ERR_NET);
	print_message("    %s\n", msg);
	assert_non_null(strstr(msg, "connection lost"));
	free(msg);
	assert_int_equal(jump_status(j, &msg), ERR_NET);
	free(msg);
	jump_stop(j);
}

/* ---- local forwards ---- */

static void
test_listen_tcp(void **state)
{
	struct sockaddr_in sa;
	struct jump *j;
	char *host = NULL, *msg = NULL;
	int port, fd[3], i;

	(void)state;
	j = jump_to(BASTION);
	if (jump_listen(j, TARGET, SSH_PORT, JUMP_LISTEN_TCP, &host, &port,
	    &msg) != 0)
		fail_msg("jump_listen: %s", msg);
	assert_string_equal(host, "127.0.0.1");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	for (i = 0; i < 3; i++)
		fd[i] = jumptest_connect((struct sockaddr *)&sa, sizeof(sa));
	for (i = 0; i < 3; i++)
		jumptest_banner(fd[i]);
	assert_int_equal(jump_status(j, &msg), 0);
	free(host);
	jump_stop(j);
}

static void
test_listen_unix(void **state)
{
	struct sockaddr_un sa;
	struct stat st;
	struct jump *j;
	char *host = NULL, *msg = NULL;
	int port;

	(void)state;
	j = jump_to(BASTION);
	if (jump_listen(j, TARGET, SSH_PORT, JUMP_LISTEN_UNIX, &host, &port,
	    &msg) != 0)
		fail_msg("jump_listen: %s", msg);
	assert_int_equal(port, SSH_PORT);
	assert_int_equal(stat(host, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/.s.PGSQL.%d", host,
	    port);
	jumptest_banner(jumptest_connect((struct sockaddr *)&sa, sizeof(sa)));
	jump_stop(j);
	assert_int_equal(stat(host, &st), -1);	/* removed */
	free(host);
}

/* A listener's connection whose channel fails is closed, and reported. */
static void
test_listen_refused(void **state)
{
	struct sockaddr_in sa;
	struct jump *j;
	char *host = NULL, *msg = NULL;
	int port;

	(void)state;
	j = jump_to(BASTION);
	if (jump_listen(j, TARGET, CLOSED_PORT, JUMP_LISTEN_TCP, &host, &port,
	    &msg) != 0)
		fail_msg("jump_listen: %s", msg);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	assert_int_equal(jumptest_read_to_eof(jumptest_connect(
	    (struct sockaddr *)&sa, sizeof(sa))), 0);
	assert_int_equal(jump_status(j, &msg), ERR_NET);
	assert_non_null(strstr(msg, "connect failed"));
	free(msg);
	free(host);
	jump_stop(j);
}

/*
 * No file descriptor left for the forwarder's accept (EMFILE): no busy
 * loop, the failure reported; with descriptors back the connection that
 * waited goes through.
 */
static void
test_listen_emfile(void **state)
{
	struct sockaddr_in sa;
	struct rlimit rl, low;
	struct jump *j;
	char *host = NULL, *msg = NULL;
	int port, fd, *spare, n = 0, i;
	double c0, used;

	(void)state;
	j = jump_to(BASTION);
	if (jump_listen(j, TARGET, SSH_PORT, JUMP_LISTEN_TCP, &host, &port,
	    &msg) != 0)
		fail_msg("jump_listen: %s", msg);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &sa.sin_addr);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	spare = xcalloc(4096, sizeof(*spare));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	low = rl;
	low.rlim_cur = (rlim_t)fd + 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < 4096 && (spare[n] = dup(0)) >= 0)
		n++;
	assert_int_equal(errno, EMFILE);
	c0 = jumptest_cpu_ms();
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	usleep(500 * 1000);
	used = jumptest_cpu_ms() - c0;
	for (i = 0; i < n; i++)
		close(spare[i]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	print_message("    accept failing 0.5 s: %.1f ms CPU\n", used);
	assert_true(used < 100);
	assert_int_equal(jump_status(j, &msg), ERR_NET);
	assert_non_null(strstr(msg, "accept: Too many open files"));
	free(msg);
	jumptest_banner(fd);
	free(spare);
	free(host);
	jump_stop(j);
}

static unsigned char *
read_blob(void)
{
	unsigned char *b = xmalloc(BLOB_LEN);
	FILE *f = fopen(blobfile, "rb");

	if (f == NULL || fread(b, 1, BLOB_LEN, f) != BLOB_LEN)
		return NULL;
	fclose(f);
	return b;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_echo),
		cmocka_unit_test(test_many_streams),
		cmocka_unit_test(test_stop_with_streams),
		cmocka_unit_test(test_inner_session),
		cmocka_unit_test(test_concurrent_one_login),
		cmocka_unit_test(test_inner_hostkey_changed),
		cmocka_unit_test(test_target_refused),
		cmocka_unit_test(test_forwarding_prohibited),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_bastion_lost),
		cmocka_unit_test(test_listen_tcp),
		cmocka_unit_test(test_listen_unix),
		cmocka_unit_test(test_listen_refused),
		cmocka_unit_test(test_listen_emfile),
		cmocka_unit_test(test_idle),
		cmocka_unit_test(bench_direct_vs_jump),
	};
	int r;

	if ((dir = getenv("JT_DIR")) == NULL) {
		fprintf(stderr, "JT_DIR not set: run tests/integration/"
		    "jump.sh\n");
		return 77;
	}
	snprintf(keyfile, sizeof(keyfile), "%s/id_ed25519", dir);
	snprintf(khfile, sizeof(khfile), "%s/known_hosts", dir);
	snprintf(blobfile, sizeof(blobfile), "%s/blob", dir);
	signal(SIGPIPE, SIG_IGN);
	if (getenv("JT_ONLY") != NULL)		/* a glob: "test_chain" */
		cmocka_set_test_filter(getenv("JT_ONLY"));
	if ((blob = read_blob()) == NULL || jumptest_echo_start() != 0 ||
	    sshconn_global_init() != 0) {
		fprintf(stderr, "test setup failed\n");
		return 1;
	}
	r = cmocka_run_group_tests(tests, NULL, NULL);
	sshconn_global_cleanup();
	free(blob);
	return r;
}
