/*
 * pemdb.c: the PEM database over libpq (see pemdb.h).
 *
 * The only file that includes libpq.  Error text is PQerrorMessage (which
 * never holds a password) or our own, flattened to one line with control
 * characters replaced, kept on the object for the caller to report.
 * Replies are treated as untrusted: ids must be positive ints, paths free
 * of control characters.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/pemdb.h"

struct pemdb {
	PGconn *conn;
	char *errmsg;
};

static const char sql_has_active[] =
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute"
    " WHERE attrelid = pg_catalog.to_regclass('pem.agent')"
    " AND attname = 'active' AND attnum > 0 AND NOT attisdropped)";
static const char sql_agents_active[] =
    "SELECT id FROM pem.agent WHERE active ORDER BY id";
static const char sql_agents_all[] =
    "SELECT id FROM pem.agent ORDER BY id";
static const char sql_ssl[] =
    "SELECT pg_catalog.current_setting('data_directory'),"
    " pg_catalog.current_setting('ssl'),"
    " pg_catalog.current_setting('ssl_cert_file'),"
    " pg_catalog.current_setting('ssl_key_file'),"
    " pg_catalog.current_setting('ssl_ca_file'),"
    " pg_catalog.current_setting('ssl_crl_file')";

/* Keep s as the error text: one line, blanks squeezed, no controls. */
static void
set_err(struct pemdb *db, const char *s)
{
	char *o;
	int blank = 1;

	free(db->errmsg);
	if (s == NULL)
		s = "unknown error";
	db->errmsg = o = xmalloc(strlen(s) + 1);
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= 0x20 || *s == 0x7f) {
			if (!blank)
				*o++ = ' ';
			blank = 1;
		} else {
			*o++ = *s;
			blank = 0;
		}
	}
	if (o > db->errmsg && blank)
		o--;
	*o = '\0';
}

/* A failed result's severity and primary message, without context. */
static void
set_result_err(struct pemdb *db, const PGresult *res)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char *s;

	if (msg == NULL) {
		set_err(db, PQresultErrorMessage(res));
		return;
	}
	s = xasprintf("%s: %s", sev != NULL ? sev : "ERROR", msg);
	set_err(db, s);
	free(s);
}

static void set_errf(struct pemdb *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_errf(struct pemdb *db, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	set_err(db, buf);
}

int
pemdb_connect(const char *conninfo, const struct pemdb_tls *tls,
    int connect_timeout_s, struct pemdb **out)
{
	const char *keys[6], *vals[6];
	char timeout[16];
	struct pemdb *db;
	int n = 0;

	*out = NULL;
	/* Before dbname, so that the conninfo string can override it. */
	keys[n] = "application_name";
	vals[n++] = "pemrotate";
	keys[n] = "dbname";
	vals[n++] = conninfo != NULL ? conninfo : "";
	if (connect_timeout_s > 0) {
		snprintf(timeout, sizeof(timeout), "%d", connect_timeout_s);
		keys[n] = "connect_timeout";
		vals[n++] = timeout;
	}
	/* After dbname: these win over the conninfo string. */
	if (tls != NULL && tls->sslmode != NULL) {
		keys[n] = "sslmode";
		vals[n++] = tls->sslmode;
	}
	if (tls != NULL && tls->sslrootcert != NULL) {
		keys[n] = "sslrootcert";
		vals[n++] = tls->sslrootcert;
	}
	keys[n] = vals[n] = NULL;
	db = xcalloc(1, sizeof(*db));
	if ((db->conn = PQconnectdbParams(keys, vals, 1)) == NULL) {
		free(db);
		return ERR_NOMEM;
	}
	*out = db;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		set_err(db, PQerrorMessage(db->conn));
		return ERR_DB;
	}
	return 0;
}

const char *
pemdb_errmsg(const struct pemdb *db)
{
	if (db == NULL)
		return "out of memory";
	return db->errmsg != NULL ? db->errmsg : "";
}

const char *
pemdb_host(const struct pemdb *db)
{
	const char *h = db->conn != NULL ? PQhost(db->conn) : NULL;

	return h != NULL ? h : "";
}

const char *
pemdb_port(const struct pemdb *db)
{
	const char *p = db->conn != NULL ? PQport(db->conn) : NULL;

	return p != NULL ? p : "";
}

int
pemdb_server_version(const struct pemdb *db)
{
	return PQserverVersion(db->conn);
}

/*
 * Run sql, which must return tuples with ncols columns.  Returns the
 * result, or NULL with the error kept on db.
 */
static PGresult *
query(struct pemdb *db, const char *sql, int ncols)
{
	PGresult *res;

	if ((res = PQexec(db->conn, sql)) == NULL) {
		set_err(db, PQerrorMessage(db->conn));
		return NULL;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_result_err(db, res);
		PQclear(res);
		return NULL;
	}
	if (PQnfields(res) != ncols) {
		set_errf(db, "expected %d columns, got %d", ncols,
		    PQnfields(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

/* 1 if pem.agent has a column "active", 0 if not, ERR_DB on error. */
static int
has_active(struct pemdb *db)
{
	PGresult *res;
	int r;

	if ((res = query(db, sql_has_active, 1)) == NULL)
		return ERR_DB;
	r = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return r;
}

/* Row i's id as a positive int, or ERR_PARSE naming the row and value. */
static int
agent_id(struct pemdb *db, PGresult *res, int i, long *id)
{
	char *shown;

	if (PQgetisnull(res, i, 0)) {
		set_errf(db, "pem.agent row %d: id is NULL", i + 1);
		return ERR_PARSE;
	}
	if (str_to_posint(PQgetvalue(res, i, 0), INT_MAX, id))
		return 0;
	shown = str_printable(PQgetvalue(res, i, 0), 64);
	set_errf(db, "pem.agent row %d: id \"%s\" is not a positive integer",
	    i + 1, shown);
	free(shown);
	return ERR_PARSE;
}

int
pemdb_active_agents(struct pemdb *db, long **ids, size_t *n)
{
	PGresult *res = NULL;
	long *v = NULL;
	int i, r;

	*ids = NULL;
	*n = 0;
	if ((r = has_active(db)) < 0)
		goto out;
	res = query(db, r ? sql_agents_active : sql_agents_all, 1);
	if (res == NULL) {
		r = ERR_DB;
		goto out;
	}
	v = xcalloc((size_t)PQntuples(res), sizeof(*v));
	for (i = 0; i < PQntuples(res); i++) {
		if ((r = agent_id(db, res, i, &v[i])) != 0)
			goto out;
	}
	*ids = v;
	*n = (size_t)PQntuples(res);
	v = NULL;
	r = 0;
 out:
	free(v);
	PQclear(res);
	return r;
}

/*
 * The path in column col of sql_ssl's row, resolved against dir; NULL in
 * *out if empty and optional.
 */
static int
ssl_path(struct pemdb *db, PGresult *res, int col, const char *dir,
    int optional, char **out)
{
	static const char *const names[] = { "data_directory", "ssl",
	    "ssl_cert_file", "ssl_key_file", "ssl_ca_file", "ssl_crl_file" };
	const char *v = PQgetvalue(res, 0, col);

	*out = NULL;
	if (*v == '\0' && optional)
		return 0;
	if (*v == '\0' || str_has_ctrl(v)) {
		set_errf(db, "setting %s is empty or holds a control character",
		    names[col]);
		return ERR_PARSE;
	}
	if (v[0] == '/')
		*out = xstrdup(v);
	else
		*out = xasprintf("%s/%s", dir, v);
	return 0;
}

static int
ssl_fill(struct pemdb *db, PGresult *res, struct pemdb_ssl *s)
{
	const char *dir = PQgetvalue(res, 0, 0);
	int r;

	if (dir[0] != '/' || str_has_ctrl(dir)) {
		set_err(db, "data_directory is not an absolute path");
		return ERR_PARSE;
	}
	s->data_directory = xstrdup(dir);
	s->ssl_on = strcmp(PQgetvalue(res, 0, 1), "on") == 0;
	if ((r = ssl_path(db, res, 2, dir, 0, &s->cert_file)) != 0 ||
	    (r = ssl_path(db, res, 3, dir, 0, &s->key_file)) != 0 ||
	    (r = ssl_path(db, res, 4, dir, 1, &s->ca_file)) != 0 ||
	    (r = ssl_path(db, res, 5, dir, 1, &s->crl_file)) != 0)
		return r;
	return 0;
}

int
pemdb_ssl_settings(struct pemdb *db, struct pemdb_ssl *out)
{
	struct pemdb_ssl s;
	PGresult *res;
	int r = ERR_DB;

	memset(&s, 0, sizeof(s));
	memset(out, 0, sizeof(*out));
	if ((res = query(db, sql_ssl, 6)) == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		set_errf(db, "settings query returned %d rows",
		    PQntuples(res));
		r = ERR_PARSE;
		goto out;
	}
	if ((r = ssl_fill(db, res, &s)) != 0)
		goto out;
	*out = s;
	memset(&s, 0, sizeof(s));
 out:
	pemdb_ssl_clear(&s);
	PQclear(res);
	return r;
}

void
pemdb_ssl_clear(struct pemdb_ssl *s)
{
	if (s == NULL)
		return;
	free(s->data_directory);
	free(s->cert_file);
	free(s->key_file);
	free(s->ca_file);
	free(s->crl_file);
	memset(s, 0, sizeof(*s));
}

int
pemdb_reload(struct pemdb *db)
{
	PGresult *res;
	int r = 0;

	if ((res = query(db, "SELECT pg_catalog.pg_reload_conf()", 1)) == NULL)
		return ERR_DB;
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		set_err(db, "pg_reload_conf() did not return true");
		r = ERR_DB;
	}
	PQclear(res);
	return r;
}

int
pemdb_ping(struct pemdb *db)
{
	PGresult *res;

	if ((res = query(db, "SELECT 1", 1)) == NULL)
		return ERR_DB;
	PQclear(res);
	return 0;
}

void
pemdb_free(struct pemdb *db)
{
	if (db == NULL)
		return;
	PQfinish(db->conn);
	free(db->errmsg);
	free(db);
}

/* The error of a failed command, or of the connection if none came. */
static void
set_any_err(struct pemdb *db, const PGresult *res)
{
	if (res == NULL)
		set_err(db, PQerrorMessage(db->conn));
	else
		set_result_err(db, res);
}

/* A conninfo value in single quotes, ' and \\ escaped. */
static char *
conninfo_quote(const char *v)
{
	struct strbuf b;

	strbuf_init(&b);
	strbuf_add(&b, "'", 1);
	for (; *v != '\0'; v++) {
		if (*v == '\'' || *v == '\\')
			strbuf_add(&b, "\\", 1);
		strbuf_add(&b, v, 1);
	}
	strbuf_add(&b, "'", 1);
	return strbuf_steal(&b);
}

/* ---- PEM's jobs ---- */

int
pemdb_job_disable(struct pemdb *db, const char *jobname, long **ids,
    size_t *n)
{
	const char *params[1] = { jobname };
	PGresult *res;
	long v;
	int i, r = 0;

	*ids = NULL;
	*n = 0;
	res = PQexecParams(db->conn, "UPDATE pem.job SET jobenabled = false "
	    "WHERE to_regclass('pem.job') IS NOT NULL AND jobname = $1 AND "
	    "jobenabled RETURNING jobid", 1, NULL, params, NULL, NULL, 0);
	if (res != NULL && PQresultStatus(res) != PGRES_TUPLES_OK &&
	    strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE) ?
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) : "", "42P01") == 0) {
		PQclear(res);		/* no pem.job: nothing to disable */
		return 0;
	}
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_any_err(db, res);
		PQclear(res);
		return ERR_DB;
	}
	*ids = xcalloc((size_t)PQntuples(res) + 1, sizeof(**ids));
	for (i = 0; i < PQntuples(res); i++) {
		if (!str_to_posint(PQgetvalue(res, i, 0), 2147483647L, &v)) {
			r = ERR_PARSE;
			set_err(db, "pem.job: a jobid is not a positive "
			    "integer");
			continue;
		}
		(*ids)[(*n)++] = v;
	}
	PQclear(res);
	return r;
}

int
pemdb_job_enable(struct pemdb *db, const long *ids, size_t n)
{
	char buf[32];
	const char *params[1] = { buf };
	PGresult *res;
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		snprintf(buf, sizeof(buf), "%ld", ids[i]);
		res = PQexecParams(db->conn, "UPDATE pem.job SET jobenabled = "
		    "true WHERE jobid = $1::int", 1, NULL, params, NULL, NULL,
		    0);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
			set_any_err(db, res);
			r = ERR_DB;
		}
		PQclear(res);
	}
	return r;
}

char *
pemdb_conninfo_redact(const char *conninfo)
{
	PQconninfoOption *opts, *o;
	struct strbuf b;
	char *err = NULL, *q;

	if ((opts = PQconninfoParse(conninfo, &err)) == NULL) {
		PQfreemem(err);
		return NULL;
	}
	strbuf_init(&b);
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || strcmp(o->keyword, "password") == 0)
			continue;
		q = conninfo_quote(o->val);
		strbuf_addf(&b, "%s%s=%s", b.len ? " " : "", o->keyword, q);
		free(q);
	}
	PQconninfoFree(opts);
	return strbuf_steal(&b);
}

void *
pemdb_tls(struct pemdb *db)
{
	if (db == NULL || db->conn == NULL || !PQsslInUse(db->conn))
		return NULL;
	return PQsslStruct(db->conn, "OpenSSL");
}

int
pemdb_ready(const char *conninfo)
{
	/*
	 * Any answer but "starting up" says the server is up, a refusal too:
	 * no TLS, and no password, so libpq stops at the server's first
	 * authentication request instead of computing a SCRAM proof (4096
	 * HMAC rounds per ping).  /nonexistent never exists on Debian; a
	 * missing passfile is skipped without a word (unlike /dev/null).
	 */
	const char *keys[] = { "dbname", "connect_timeout", "sslmode",
	    "gssencmode", "passfile", NULL };
	const char *vals[] = { NULL, "5", "disable", "disable",
	    "/nonexistent/.pgpass", NULL };
	char *bare;
	int rc;

	if ((bare = pemdb_conninfo_redact(conninfo)) == NULL)
		return ERR_NOMEM;
	vals[0] = bare;
	rc = PQpingParams(keys, vals, 1) == PQPING_OK ? 0 : ERR_NET;
	free(bare);
	return rc;
}

/* ---- what a conninfo asks for ---- */

static const PQconninfoOption *
opt_find(const PQconninfoOption *o, const char *keyword)
{
	for (; o != NULL && o->keyword != NULL; o++)
		if (strcmp(o->keyword, keyword) == 0)
			return o;
	return NULL;
}

/* The string's value, else libpq's default (its PG* variable first). */
static const char *
opt_value(const PQconninfoOption *opts, const PQconninfoOption *defs,
    const char *keyword)
{
	const PQconninfoOption *o = opt_find(opts, keyword);

	if (o != NULL && o->val != NULL && *o->val != '\0')
		return o->val;
	o = opt_find(defs, keyword);
	return o != NULL && o->val != NULL && *o->val != '\0' ? o->val : NULL;
}

/* The string's value, else its PG* variable's; NULL if neither. */
static char *
opt_explicit(const PQconninfoOption *opts, const PQconninfoOption *defs,
    const char *keyword)
{
	const PQconninfoOption *o = opt_find(opts, keyword);
	const char *v;

	if (o != NULL && o->val != NULL && *o->val != '\0')
		return xstrdup(o->val);
	o = opt_find(defs, keyword);
	if (o == NULL || o->envvar == NULL ||
	    (v = getenv(o->envvar)) == NULL || *v == '\0')
		return NULL;
	return xstrdup(v);
}

/* Every comma-separated host a socket directory (or libpq's default). */
static int
all_sockets(const char *hosts)
{
	const char *h = hosts;

	if (h == NULL)
		return 1;
	for (;;) {
		if (*h != '/' && *h != '@' && *h != ',' && *h != '\0')
			return 0;
		if ((h = strchr(h, ',')) == NULL)
			return 1;
		h++;
	}
}

/* The first of a comma-separated port list, checked to be a port. */
static int
first_port(const char *ports, char **out)
{
	size_t n = ports != NULL ? strcspn(ports, ",") : 0;
	char *p;
	long v;

	p = n > 0 ? xstrndup(ports, n) : xstrdup("5432");
	if (!str_to_posint(p, 65535, &v)) {
		free(p);
		return ERR_PARSE;
	}
	*out = p;
	return 0;
}

/* The first of a comma-separated host list, and how many there are. */
static void
first_host(const char *hosts, struct pemdb_target *t)
{
	const char *p;

	if (hosts == NULL || *hosts == '\0')
		return;
	t->nhosts = 1;
	for (p = hosts; *p != '\0'; p++)
		t->nhosts += *p == ',';
	t->host = xstrndup(hosts, strcspn(hosts, ","));
}

int
pemdb_target(const char *conninfo, struct pemdb_target *t, char **msg)
{
	PQconninfoOption *opts, *defs;
	const char *addr;
	char *perr = NULL;
	int r = 0;

	memset(t, 0, sizeof(*t));
	*msg = NULL;
	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		*msg = xstrdup(perr != NULL ? perr : "out of memory");
		(*msg)[strcspn(*msg, "\n")] = '\0';
		PQfreemem(perr);
		return ERR_PARSE;
	}
	if ((defs = PQconndefaults()) == NULL)
		fatal_nomem();
	addr = opt_value(opts, defs, "hostaddr");
	t->socket = addr == NULL && all_sockets(opt_value(opts, defs, "host"));
	first_host(addr != NULL ? addr : opt_value(opts, defs, "host"), t);
	if (first_port(opt_value(opts, defs, "port"), &t->port) != 0) {
		*msg = xasprintf("port \"%s\" is not a port number",
		    opt_value(opts, defs, "port"));
		r = ERR_PARSE;
	}
	t->sslmode = opt_explicit(opts, defs, "sslmode");
	t->sslrootcert = opt_explicit(opts, defs, "sslrootcert");
	PQconninfoFree(opts);
	PQconninfoFree(defs);
	if (r != 0)
		pemdb_target_clear(t);
	return r;
}

void
pemdb_target_clear(struct pemdb_target *t)
{
	if (t == NULL)
		return;
	free(t->host);
	free(t->port);
	free(t->sslmode);
	free(t->sslrootcert);
	memset(t, 0, sizeof(*t));
}

int
pemdb_sslmode_verifies(const char *sslmode)
{
	return sslmode != NULL && (strcmp(sslmode, "verify-ca") == 0 ||
	    strcmp(sslmode, "verify-full") == 0);
}
