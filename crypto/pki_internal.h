/*
 * pki_internal.h: what crypto/ files share beyond pki.h.  Includes OpenSSL,
 * so never include it outside crypto/.
 */
#ifndef PEMROTATE_PKI_INTERNAL_H
#define PEMROTATE_PKI_INTERNAL_H

#include <openssl/x509.h>

struct pki_cert;

/* Wrap x, taking over the caller's reference.  NULL if x is NULL. */
struct pki_cert *pki_cert_wrap(X509 *x);

/* 1 if s is an IPv4 or IPv6 address literal, else 0. */
int pki_is_ip_literal(const char *s);

#endif
