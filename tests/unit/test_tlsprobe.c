/*
 * test_tlsprobe.c: probe a toy PostgreSQL-like TLS server on loopback.
 *
 * The server thread accepts one connection, checks the SSLRequest, answers
 * with a chosen byte and, after 'S', completes a TLS handshake that asks
 * for (but does not require) a client certificate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/clock.h"
#include "common/err.h"
#include "crypto/pki.h"

#include "test_pkiconv.h"
#include "crypto/tlsprobe.h"

#define CA2_SUBJECT	"/O=Other/CN=Second CA"

struct fix {
	struct pki_key *ca_key, *srv_key;
	struct pki_cert *ca, *ca2, *srv;
	SSL_CTX *ctx;
};

struct server {
	SSL_CTX *ctx;
	int lfd;
	char port[16];
	char answer;		/* 'S', 'N', any byte; 0: never answer */
	int bad_request;
	int accepted;		/* SSL_accept's return */
	pthread_t thread;
};

static const unsigned char sslrequest[8] = {
	0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f,
};

static int
read_full(int fd, unsigned char *buf, size_t n)
{
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		if ((r = read(fd, buf + off, n - off)) <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

static void *
serve(void *arg)
{
	struct server *s = arg;
	unsigned char req[8], c;
	SSL *ssl;
	int fd;

	if ((fd = accept(s->lfd, NULL, NULL)) == -1)
		return NULL;
	if (read_full(fd, req, sizeof(req)) != 0 ||
	    memcmp(req, sslrequest, sizeof(req)) != 0) {
		s->bad_request = 1;
		goto out;
	}
	if (s->answer == 0) {
		(void)read(fd, &c, 1);	/* until the client gives up */
		goto out;
	}
	if (write(fd, &s->answer, 1) != 1 || s->answer != 'S' ||
	    s->ctx == NULL)
		goto out;
	if ((ssl = SSL_new(s->ctx)) != NULL && SSL_set_fd(ssl, fd))
		s->accepted = SSL_accept(ssl);
	SSL_free(ssl);
 out:
	close(fd);
	return NULL;
}

/* A listening socket on 127.0.0.1, port chosen by the kernel. */
static int
listen_any(char port[16], int do_listen)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(port, 16, "%u", (unsigned)ntohs(sin.sin_port));
	return fd;
}

static void
server_start(struct server *s, SSL_CTX *ctx, char answer)
{
	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->answer = answer;
	s->lfd = listen_any(s->port, 1);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void
server_stop(struct server *s)
{
	assert_int_equal(pthread_join(s->thread, NULL), 0);
	close(s->lfd);
	assert_int_equal(s->bad_request, 0);
}

/* Server context: our leaf and key, asking for certs from ca and ca2. */
static SSL_CTX *
server_ctx(const struct fix *f)
{
	SSL_CTX *ctx;
	X509 *x = x509_of(f->srv), *c1 = x509_of(f->ca), *c2 = x509_of(f->ca2);
	EVP_PKEY *pk = pkey_of(f->srv_key);

	assert_non_null(ctx = SSL_CTX_new(TLS_server_method()));
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, pk), 1);
	assert_int_equal(SSL_CTX_add_client_CA(ctx, c1), 1);
	assert_int_equal(SSL_CTX_add_client_CA(ctx, c2), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	assert_int_equal(SSL_CTX_set_num_tickets(ctx, 0), 1);
	X509_free(x);
	X509_free(c1);
	X509_free(c2);
	EVP_PKEY_free(pk);
	return ctx;
}

static struct pki_key *
gen(void)
{
	struct pki_keyspec ks;
	struct pki_key *k = NULL;

	assert_int_equal(pki_keyspec_parse("ec:P-256", &ks), 0);
	assert_int_equal(pki_key_generate(&ks, &k), 0);
	return k;
}

static int
group_setup(void **state)
{
	static const char *const san[] = { "127.0.0.1", "localhost" };
	struct fix *f = calloc(1, sizeof(*f));

	if (f == NULL || pki_init() != 0)
		return -1;
	/* The toy server must not die of a reset connection. */
	signal(SIGPIPE, SIG_IGN);
	f->ca_key = gen();
	f->srv_key = gen();
	if (pki_cert_make_ca(f->ca_key, pki_default_ca_subject(), 30,
	    &f->ca) != 0 ||
	    pki_cert_make_ca(f->ca_key, CA2_SUBJECT, 30, &f->ca2) != 0 ||
	    pki_cert_make_leaf(f->ca, f->ca_key, f->srv_key, PKI_LEAF_SERVER,
	    "/CN=pem-server", san, 2, 30, &f->srv) != 0)
		return -1;
	f->ctx = server_ctx(f);
	*state = f;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fix *f = *state;

	SSL_CTX_free(f->ctx);
	pki_cert_free(f->srv);
	pki_cert_free(f->ca);
	pki_cert_free(f->ca2);
	pki_key_free(f->srv_key);
	pki_key_free(f->ca_key);
	free(f);
	return 0;
}

static void
probe_ok(const struct fix *f, SSL_CTX *ctx)
{
	struct tlsprobe_result res;
	struct server s;
	char *msg, *why;

	server_start(&s, ctx, 'S');
	assert_int_equal(tlsprobe_pg("127.0.0.1", s.port, 5000, &res, &msg),
	    0);
	server_stop(&s);
	assert_int_equal(s.accepted, 1);
	assert_null(msg);
	assert_non_null(res.server_cert);
	assert_true(pki_cert_equal(res.server_cert, f->srv));
	assert_int_equal(pki_cert_verify(res.server_cert, f->ca, NULL, 0,
	    "127.0.0.1", &why), 0);
	assert_null(why);
	assert_int_equal(res.n_ca_names, 2);
	assert_string_equal(res.ca_names[0], pki_default_ca_subject());
	assert_string_equal(res.ca_names[1], CA2_SUBJECT);
	tlsprobe_result_clear(&res);
	assert_null(res.server_cert);
	assert_null(res.ca_names);
	assert_int_equal(res.n_ca_names, 0);
	tlsprobe_result_clear(&res);
}

static void
test_probe_ok(void **state)
{
	struct fix *f = *state;

	probe_ok(f, f->ctx);
}

/* In TLS 1.2 the CA names travel in a different message. */
static void
test_probe_ok_tls12(void **state)
{
	struct fix *f = *state;
	SSL_CTX *ctx = server_ctx(f);

	assert_int_equal(SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION),
	    1);
	probe_ok(f, ctx);
	SSL_CTX_free(ctx);
}

static void
test_probe_refused_ssl(void **state)
{
	struct tlsprobe_result res;
	struct server s;
	char *msg;

	server_start(&s, NULL, 'N');
	assert_int_equal(tlsprobe_pg("127.0.0.1", s.port, 5000, &res, &msg),
	    ERR_VERIFY);
	server_stop(&s);
	assert_non_null(strstr(msg, "server does not accept SSL"));
	free(msg);
	assert_null(res.server_cert);
	assert_int_equal(res.n_ca_names, 0);
}

static void
test_probe_not_postgres(void **state)
{
	struct tlsprobe_result res;
	struct server s;
	char *msg;

	server_start(&s, NULL, 'E');
	assert_int_equal(tlsprobe_pg("127.0.0.1", s.port, 5000, &res, &msg),
	    ERR_VERIFY);
	server_stop(&s);
	assert_non_null(strstr(msg, "unexpected answer"));
	free(msg);
}

static void
test_probe_tls_dropped(void **state)
{
	struct tlsprobe_result res;
	struct server s;
	char *msg;
	int r;

	/* 'S', then the server hangs up instead of speaking TLS. */
	server_start(&s, NULL, 'S');
	r = tlsprobe_pg("127.0.0.1", s.port, 5000, &res, &msg);
	server_stop(&s);
	assert_true(r == ERR_NET || r == ERR_CRYPTO);
	assert_non_null(strstr(msg, "TLS handshake"));
	free(msg);
	assert_null(res.server_cert);
}

static void
test_probe_closed_port(void **state)
{
	struct tlsprobe_result res;
	char port[16], *msg;
	long long t0;
	int fd;

	fd = listen_any(port, 0);
	close(fd);
	t0 = now_ms();
	assert_int_equal(tlsprobe_pg("127.0.0.1", port, 5000, &res, &msg),
	    ERR_NET);
	assert_true(now_ms() - t0 < 1000);
	assert_non_null(strstr(msg, "connect"));
	assert_non_null(strstr(msg, port));
	free(msg);
	assert_null(res.server_cert);
}

static void
test_probe_timeout(void **state)
{
	struct tlsprobe_result res;
	struct server s;
	char *msg;
	long long t0, dt;

	server_start(&s, NULL, 0);
	t0 = now_ms();
	assert_int_equal(tlsprobe_pg("127.0.0.1", s.port, 300, &res, &msg),
	    ERR_TIMEOUT);
	dt = now_ms() - t0;
	server_stop(&s);
	assert_true(dt >= 290 && dt < 2000);
	assert_non_null(strstr(msg, "SSLRequest"));
	free(msg);
}

static void
test_probe_bad_args(void **state)
{
	struct tlsprobe_result res;
	char *msg;

	assert_int_equal(tlsprobe_pg(NULL, "5432", 100, &res, &msg),
	    ERR_INVAL);
	assert_string_equal(msg, "(null):5432: bad probe arguments");
	free(msg);
	assert_int_equal(tlsprobe_pg("127.0.0.1", "5432", 0, &res, &msg),
	    ERR_INVAL);
	assert_non_null(strstr(msg, "bad probe arguments"));
	free(msg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_ok),
		cmocka_unit_test(test_probe_ok_tls12),
		cmocka_unit_test(test_probe_refused_ssl),
		cmocka_unit_test(test_probe_not_postgres),
		cmocka_unit_test(test_probe_tls_dropped),
		cmocka_unit_test(test_probe_closed_port),
		cmocka_unit_test(test_probe_timeout),
		cmocka_unit_test(test_probe_bad_args),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
