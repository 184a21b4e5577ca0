/*
 * dbtrust.h: why pemrotate may believe the PEM database.
 *
 * The database names the files root overwrites (data_directory,
 * ssl_*_file) and the agents.  So before it is asked, the PEM server host
 * is looked at over its verified SSH session: the postmaster listening on
 * the PEM port (postmaster.h) gives the data directory, whose
 * ca_certificate.crt becomes the sslrootcert every database connection
 * verifies the server with (sslmode=verify-ca unless the operator asks
 * for verify-full).  The database's answer must then agree with the
 * kernel and the inventory.  All of it runs in the main thread during the
 * preflight, except dbtrust_follow_ca (the server phase).
 */
#ifndef PEMROTATE_DBTRUST_H
#define PEMROTATE_DBTRUST_H

struct run;

/*
 * What the conninfo asks of TLS (PG* variables included): a TCP
 * connection that would not verify the server's certificate is refused
 * (r->error) unless --allow-unverified-db.  Sets the port looked at.
 */
int dbtrust_conninfo(struct run *r);

/*
 * Connect to the server host, find its postmaster and data directory
 * (pem_data_dir wins), and when verifying read the PEM CA there into the
 * run's sslrootcert file.  What fails on the server host is recorded on
 * it (phase "preflight"); what fails with the local file, in r->error.
 */
int dbtrust_look(struct run *r);

/*
 * The database's data_directory must be the postmaster's (or
 * pem_data_dir), and each ssl_*_file inside it or named by the inventory
 * (pem_ssl_cert_file, ...).  r->error when not.
 */
int dbtrust_check_answer(struct run *r);

/*
 * The new CA exists: from now on connections verify against the CAs
 * trusted so far and ca_pem, which the server will serve after its
 * reload.  *msg on failure (caller frees).
 */
int dbtrust_follow_ca(struct run *r, const char *ca_pem, char **msg);

/* A phrase for error messages: what the certificate was checked with. */
const char *dbtrust_what(const struct run *r);

/* Free what the run holds for this (and remove the sslrootcert file). */
void dbtrust_free(struct run *r);

#endif
