/*
 * pemdb.h: the PEM database, over libpq.
 *
 * One struct pemdb is one connection; it must be used by one thread at a
 * time.  Only inventory/ includes libpq.
 */
#ifndef PEMROTATE_PEMDB_H
#define PEMROTATE_PEMDB_H

#include <stddef.h>

struct pemdb;

/*
 * TLS settings given with a connection, after the conninfo string, so
 * they win over it (NULL: the conninfo's, PG* variables', libpq's).
 */
struct pemdb_tls {
	const char *sslmode;
	const char *sslrootcert;
};

/*
 * Connect with a libpq conninfo string (libpq defaults and PG* variables
 * apply) and tls (may be NULL).  connect_timeout_s bounds the attempt (0:
 * libpq default).  Always sets *out (so pemdb_errmsg can be read) unless
 * out of memory; returns 0 or ERR_DB.
 */
int pemdb_connect(const char *conninfo, const struct pemdb_tls *tls,
    int connect_timeout_s, struct pemdb **out);

/*
 * Where a conninfo string leads and what it asks of TLS, as libpq will
 * see it: the string, then the PG* variables, then libpq's defaults
 * (service files are not read).
 */
struct pemdb_target {
	char *host;		/* the first hostaddr, else host; NULL:
				   none given (a socket by default) */
	int nhosts;		/* how many hosts the string lists */
	char *port;		/* the first port, "5432" by default */
	int socket;		/* every host a Unix socket, no hostaddr */
	char *sslmode;		/* the string's or PGSSLMODE; NULL: neither */
	char *sslrootcert;	/* from the string or PGSSLROOTCERT, likewise */
};

/*
 * Fill *t (cleared with pemdb_target_clear).  ERR_PARSE with the reason in
 * *msg (caller frees; NULL on success) when the string does not parse or
 * its port is not a port number.
 */
int pemdb_target(const char *conninfo, struct pemdb_target *t, char **msg);
void pemdb_target_clear(struct pemdb_target *t);
/* 1 if libpq's sslmode verifies the server's certificate (verify-ca,
 * verify-full), else 0. */
int pemdb_sslmode_verifies(const char *sslmode);
/* Last error text for this connection (never holds a password). */
const char *pemdb_errmsg(const struct pemdb *db);
/*
 * The connection's TLS session as libpq's OpenSSL SSL *, opaque here (for
 * crypto/'s tlsprobe_session), or NULL when it does not use TLS.  Owned by
 * the connection.
 */
void *pemdb_tls(struct pemdb *db);
/* Host and port libpq actually connected to (owned by db). */
const char *pemdb_host(const struct pemdb *db);
const char *pemdb_port(const struct pemdb *db);
/* server_version_num, e.g. 150004. */
int pemdb_server_version(const struct pemdb *db);

/*
 * The ids of the active rows of pem.agent (all rows if the table has no
 * "active" column), ascending.  Each must be a positive integer that fits
 * an int, else ERR_PARSE naming the row.  *ids owned by caller (free).
 */
int pemdb_active_agents(struct pemdb *db, long **ids, size_t *n);

struct pemdb_ssl {
	int ssl_on;		/* SHOW ssl */
	char *data_directory;	/* absolute */
	char *cert_file;	/* ssl_cert_file resolved against data dir */
	char *key_file;		/* ssl_key_file, resolved */
	char *ca_file;		/* ssl_ca_file, resolved; NULL if unset */
	char *crl_file;		/* ssl_crl_file, resolved; NULL if unset */
};

/* Read the settings above (needs superuser or pg_read_all_settings). */
int pemdb_ssl_settings(struct pemdb *db, struct pemdb_ssl *out);
void pemdb_ssl_clear(struct pemdb_ssl *s);

/* SELECT pg_reload_conf(). */
int pemdb_reload(struct pemdb *db);
/*
 * Disable PEM's enabled jobs named jobname (pem.job.jobenabled = false)
 * and hand back their ids, so the caller can enable exactly those again.
 * No pem.job table, or no such job: 0 with *n = 0.  *ids caller-freed.
 */
int pemdb_job_disable(struct pemdb *db, const char *jobname, long **ids,
    size_t *n);
/* Enable the jobs with these ids again. */
int pemdb_job_enable(struct pemdb *db, const long *ids, size_t n);

/*
 * A copy of conninfo without its password, fit for a journal; NULL if
 * conninfo does not parse.  Caller frees.
 */
char *pemdb_conninfo_redact(const char *conninfo);

/*
 * Whether the server of conninfo accepts connections, without logging in
 * (PQping): 0 if it does, ERR_NET if not (yet).
 */
int pemdb_ready(const char *conninfo);

/* Run "SELECT 1"; 0 if the connection works. */
int pemdb_ping(struct pemdb *db);
void pemdb_free(struct pemdb *db);

#endif
