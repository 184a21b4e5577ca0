/*
 * tlsprobe.c: PostgreSQL's SSLRequest and a TLS handshake, to see the
 * certificate a server presents and the client CAs it asks for.
 *
 * The socket is non-blocking from the start; every wait is a poll()
 * bounded by one deadline.  Nothing the server sends is trusted: the
 * caller verifies the returned certificate itself.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/strutil.h"
#include "common/netconn.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "crypto/pki_internal.h"
#include "crypto/tlsprobe.h"

#define PG_SSLREQUEST_CODE	80877103	/* 1234 << 16 | 5679 */

struct probe {
	const char *host;
	const char *port;
	long long deadline;	/* CLOCK_MONOTONIC, milliseconds */
	int fd;
	char **msg;		/* the caller's */
};

/* Leave "host:port: what: detail" in the caller's *msg; return r. */
static int
fail(struct probe *p, int r, const char *what, const char *detail)
{
	free(*p->msg);
	if (detail != NULL)
		*p->msg = xasprintf("%s:%s: %s: %s", p->host, p->port, what,
		    detail);
	else
		*p->msg = xasprintf("%s:%s: %s", p->host, p->port, what);
	return r;
}

static int
fail_errno(struct probe *p, int r, const char *what, int eno)
{
	char buf[128];

	if (strerror_r(eno, buf, sizeof(buf)) != 0)
		snprintf(buf, sizeof(buf), "error %d", eno);
	return fail(p, r, what, buf);
}

/* Until fd is ready for events, or the probe's deadline. */
static int
wait_fd(struct probe *p, short events)
{
	return netconn_wait(p->fd, events, p->deadline);
}

static int
tcp_connect(struct probe *p)
{
	char *why;
	int fd;

	if ((fd = netconn_connect(p->host, p->port, p->deadline, &why)) < 0) {
		fail(p, fd, why, NULL);
		free(why);
		return fd;
	}
	p->fd = fd;
	return 0;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static int
send_sslrequest(struct probe *p)
{
	unsigned char req[8];
	size_t off = 0;
	ssize_t n;
	int r;

	put32(req, sizeof(req));
	put32(req + 4, PG_SSLREQUEST_CODE);
	while (off < sizeof(req)) {
		if ((r = wait_fd(p, POLLOUT)) != 0)
			return fail(p, r, "send SSLRequest", err_str(r));
		n = send(p->fd, req + off, sizeof(req) - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return fail_errno(p, ERR_NET, "send SSLRequest", errno);
	}
	return 0;
}

/* Read exactly the one-byte answer; no more, so TLS starts clean. */
static int
read_answer(struct probe *p, unsigned char *c)
{
	ssize_t n;
	int r;

	for (;;) {
		if ((r = wait_fd(p, POLLIN)) != 0)
			return fail(p, r, "answer to SSLRequest", err_str(r));
		if ((n = recv(p->fd, c, 1, 0)) == 1)
			return 0;
		if (n == 0)
			return fail(p, ERR_NET, "answer to SSLRequest",
			    "connection closed");
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return fail_errno(p, ERR_NET, "answer to SSLRequest",
			    errno);
	}
}

static int
sslrequest(struct probe *p)
{
	unsigned char c;
	int r;

	if ((r = send_sslrequest(p)) != 0 || (r = read_answer(p, &c)) != 0)
		return r;
	if (c == 'S')
		return 0;
	if (c == 'N')
		return fail(p, ERR_VERIFY, "server does not accept SSL", NULL);
	return fail(p, ERR_VERIFY, "SSLRequest",
	    "unexpected answer (not a PostgreSQL server?)");
}

static int
tls_fail(struct probe *p, int sslerr)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256];

	if (sslerr == SSL_ERROR_SYSCALL && e == 0)
		return errno != 0 ? fail_errno(p, ERR_NET, "TLS handshake",
		    errno) : fail(p, ERR_NET, "TLS handshake",
		    "connection closed");
	if (e == 0)
		return fail(p, ERR_CRYPTO, "TLS handshake", "failed");
	ERR_error_string_n(e, buf, sizeof(buf));
	return fail(p, ERR_CRYPTO, "TLS handshake", buf);
}

static int
tls_handshake(struct probe *p, SSL *ssl)
{
	int rc, e, r;

	for (;;) {
		errno = 0;
		if ((rc = SSL_connect(ssl)) == 1)
			return 0;
		e = SSL_get_error(ssl, rc);
		if (e == SSL_ERROR_WANT_READ)
			r = wait_fd(p, POLLIN);
		else if (e == SSL_ERROR_WANT_WRITE)
			r = wait_fd(p, POLLOUT);
		else
			return tls_fail(p, e);
		if (r != 0)
			return fail(p, r, "TLS handshake", err_str(r));
	}
}

static int
collect(struct probe *p, SSL *ssl, struct tlsprobe_result *res)
{
	STACK_OF(X509_NAME) *names;
	X509 *peer;
	char *s;
	int i, n;

	if ((peer = SSL_get1_peer_certificate(ssl)) == NULL)
		return fail(p, ERR_CRYPTO, "TLS handshake",
		    "server sent no certificate");
	res->server_cert = pki_cert_wrap(peer);
	names = SSL_get_client_CA_list(ssl);
	if ((n = sk_X509_NAME_num(names)) <= 0)
		return 0;
	res->ca_names = xcalloc((size_t)n, sizeof(*res->ca_names));
	for (i = 0; i < n; i++) {
		s = X509_NAME_oneline(sk_X509_NAME_value(names, i), NULL, 0);
		if (s == NULL)
			return fail(p, ERR_CRYPTO, "client CA list",
			    "cannot format a name");
		res->ca_names[res->n_ca_names++] = xstrdup(s);
		OPENSSL_free(s);
	}
	return 0;
}

/*
 * One client context for every probe of the process, made at the first:
 * SSL_CTX_new costs ~2 M instructions in OpenSSL 3.0 (it fetches every
 * cipher, digest and group), and contexts are safe to share between
 * threads.  Written once under pthread_once, never changed afterwards.
 */
static SSL_CTX *probe_ctx;
static pthread_once_t probe_ctx_once = PTHREAD_ONCE_INIT;

static void
probe_ctx_init(void)
{
	probe_ctx = SSL_CTX_new(TLS_client_method());
}

static int
tls_probe(struct probe *p, struct tlsprobe_result *res)
{
	SSL_CTX *ctx;
	SSL *ssl = NULL;
	int r;

	pthread_once(&probe_ctx_once, probe_ctx_init);
	if ((ctx = probe_ctx) == NULL ||
	    (ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, p->fd)) {
		r = tls_fail(p, SSL_ERROR_SSL);
		goto out;
	}
	/* We verify the certificate ourselves, with our own CA. */
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (!str_is_ip_address(p->host))
		(void)SSL_set_tlsext_host_name(ssl, p->host);
	if ((r = tls_handshake(p, ssl)) == 0 && (r = collect(p, ssl,
	    res)) == 0)
		(void)SSL_shutdown(ssl);	/* one close_notify, no wait */
 out:
	SSL_free(ssl);
	ERR_clear_error();
	return r;
}

/*
 * A peer that resets the connection would raise SIGPIPE in OpenSSL's
 * write(); block it in this thread for the probe (as libpq does) and
 * swallow any that the probe caused.
 */
static void
sigpipe_block(sigset_t *saved, int *was_pending)
{
	sigset_t set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	*was_pending = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, saved);
}

static void
sigpipe_restore(const sigset_t *saved, int was_pending)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t set, pend;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!was_pending && sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGPIPE))
		(void)sigtimedwait(&set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

int
tlsprobe_pg(const char *host, const char *port, int timeout_ms,
    struct tlsprobe_result *res, char **msg)
{
	struct probe p;
	sigset_t saved;
	int r, pending;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	p.host = host != NULL ? host : "(null)";
	p.port = port != NULL ? port : "(null)";
	p.fd = -1;
	p.msg = msg;
	*msg = NULL;
	if (host == NULL || port == NULL || timeout_ms <= 0)
		return fail(&p, ERR_INVAL, "bad probe arguments", NULL);
	p.deadline = now_ms() + timeout_ms;
	sigpipe_block(&saved, &pending);
	if ((r = tcp_connect(&p)) == 0 && (r = sslrequest(&p)) == 0)
		r = tls_probe(&p, res);
	if (p.fd != -1)
		close(p.fd);
	sigpipe_restore(&saved, pending);
	if (r != 0)
		tlsprobe_result_clear(res);
	return r;
}

int
tlsprobe_session(void *tls, struct tlsprobe_result *res, char **msg)
{
	struct probe p;
	int r;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	p.host = "(database connection)";
	p.port = "-";
	p.fd = -1;
	p.msg = msg;
	*msg = NULL;
	if (tls == NULL)
		return fail(&p, ERR_INVAL, "no TLS session", NULL);
	if ((r = collect(&p, tls, res)) != 0)
		tlsprobe_result_clear(res);
	return r;
}

void
tlsprobe_result_clear(struct tlsprobe_result *res)
{
	size_t i;

	if (res == NULL)
		return;
	pki_cert_free(res->server_cert);
	for (i = 0; i < res->n_ca_names; i++)
		free(res->ca_names[i]);
	free(res->ca_names);
	memset(res, 0, sizeof(*res));
}
