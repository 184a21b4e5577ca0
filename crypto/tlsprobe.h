/*
 * tlsprobe.h: what a PostgreSQL server presents on TLS.
 *
 * Connects to host:port, sends PostgreSQL's SSLRequest, completes a TLS
 * handshake without a client certificate and reports the server's leaf
 * certificate and the client CA names the server asked for (the subjects
 * of the certificates in its ssl_ca_file).  Nothing is authenticated and
 * no SQL is sent; the connection is closed at once.
 */
#ifndef PEMROTATE_TLSPROBE_H
#define PEMROTATE_TLSPROBE_H

#include <stddef.h>

struct pki_cert;

struct tlsprobe_result {
	struct pki_cert *server_cert;	/* owned; the leaf the server sent */
	char **ca_names;		/* owned; one-line subjects, "/C=.." */
	size_t n_ca_names;
};

/*
 * 0, ERR_NET (cannot connect), ERR_TIMEOUT, ERR_VERIFY (server refused
 * SSL) or ERR_CRYPTO; the reason, "host:port: what", in *msg (caller
 * frees; NULL on success).  timeout_ms bounds the whole exchange.
 */
int tlsprobe_pg(const char *host, const char *port, int timeout_ms,
    struct tlsprobe_result *res, char **msg);
/*
 * The same, read from a TLS session already made: tls is an OpenSSL SSL *
 * (a database connection's, pemdb_tls), handled here only.  0, ERR_INVAL
 * or ERR_CRYPTO, with *msg likewise.
 */
int tlsprobe_session(void *tls, struct tlsprobe_result *res, char **msg);

/* Frees what res holds and zeroes it; accepts a zeroed res. */
void tlsprobe_result_clear(struct tlsprobe_result *res);

#endif
