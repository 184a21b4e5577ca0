/*
 * host.c: per-host helpers shared by the phases: failures, connections,
 * remote commands, progress.
 */
#include "run.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "options.h"
#include "pool.h"

void
host_fail(struct host *h, const char *phase, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];
	unsigned char *p;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* parts of it came from the remote side: no control characters */
	for (p = (unsigned char *)buf; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	h->status = HS_FAILED;
	if (h->error == NULL) {
		h->phase = phase;
		h->error = xstrdup(buf);
	}
	log_error("%s: %s: %s", h->label, phase, buf);
}

/*
 * Connect, retrying a connection that failed or timed out (not a host key
 * or login refusal) --retries times, 1 s, 2 s, 4 s... apart.
 */
int
host_connect(struct run *r, struct host *h)
{
	int rc, attempt;

	if (h->conn != NULL)
		return 0;
	for (attempt = 0;; attempt++) {
		rc = sshconn_open(&h->so, &h->conn);
		if (rc == 0)
			return 0;
		free(h->conn_err);
		h->conn_err = xstrdup(sshconn_errmsg(h->conn));
		sshconn_close(h->conn);
		h->conn = NULL;
		if ((rc != ERR_NET && rc != ERR_TIMEOUT) ||
		    attempt >= r->o->retries ||
		    atomic_load(&r->stop) == STOP_SIGNAL)
			return rc;
		log_debug("%s: %s; retrying", h->label, h->conn_err);
		sleep(1u << (attempt < 5 ? attempt : 5));
	}
}

/*
 * At most --max-open sessions are kept between phases: the server host's
 * and those of the first agents; later hosts log in again when needed.
 */
void
session_release(struct run *r, struct host *h)
{
	if (!h->is_server && h->rank + 1 >= r->max_open)
		host_disconnect(h);
}

void
host_disconnect(struct host *h)
{
	sshconn_close(h->conn);
	h->conn = NULL;
}

/* "what: exit N: <stderr>" with remote text escaped. */
static char *
exec_msg(const char *what, const struct sshconn_result *res)
{
	const char *text = res->err_len > 0 ? res->err : res->out;
	char *safe, *msg;
	size_t n;

	n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	safe = str_printable(text, n < 300 ? n : 300);
	if (res->exit_status < 0)
		msg = xasprintf("%s: killed by a signal%s%s", what,
		    *safe ? ": " : "", safe);
	else
		msg = xasprintf("%s: exit status %d%s%s", what,
		    res->exit_status, *safe ? ": " : "", safe);
	free(safe);
	return msg;
}

int
host_exec(struct run *r, struct host *h, const char *what, const char *cmd,
    int timeout_s, char **msg)
{
	return host_exec_out(r, h, what, cmd, timeout_s, msg, NULL);
}

int
host_exec_out(struct run *r, struct host *h, const char *what,
    const char *cmd, int timeout_s, char **msg, char **out)
{
	struct sshconn_result res;
	int rc;

	*msg = NULL;
	if (out != NULL)
		*out = NULL;
	if ((rc = host_connect(r, h)) != 0) {
		*msg = xasprintf("%s: %s", what, h->conn_err);
		return rc;
	}
	log_debug("%s: %s", h->label, what);
	rc = sshconn_exec(h->conn, cmd, 0, timeout_s * 1000, &res);
	if (rc != 0) {
		*msg = xasprintf("%s: %s", what, sshconn_errmsg(h->conn));
		/* the session is in an unknown state: start afresh next time */
		host_disconnect(h);
	} else if (res.exit_status != 0) {
		*msg = exec_msg(what, &res);
		rc = ERR_REMOTE_CMD;
	}
	if (out != NULL) {
		*out = res.out;
		res.out = NULL;
	}
	sshconn_result_clear(&res);
	return rc;
}

void
par_for_hosts(struct run *r, void (*fn)(void *, size_t))
{
	par_for(r->nhosts, r->o->parallel, fn, r, &r->stop);
}

static int
sign_ed25519(void *ctx, const unsigned char *data, size_t len,
    unsigned char sig[64])
{
	return pki_ed25519_sign(ctx, data, len, sig);
}

const struct sshconn_signer *
run_signer(struct run *r, const char *path)
{
	unsigned char seed[32];
	struct run_key *k;
	size_t i;

	if (path == NULL)
		return NULL;
	for (i = 0; i < r->nkeys; i++)
		if (strcmp(r->keys[i].path, path) == 0)
			return r->keys[i].key ? &r->keys[i].signer : NULL;
	r->keys = xrealloc(r->keys, (r->nkeys + 1) * sizeof(*r->keys));
	k = &r->keys[r->nkeys++];
	memset(k, 0, sizeof(*k));
	k->path = xstrdup(path);
	if (sshconn_read_ed25519(path, seed, &k->signer.pubblob,
	    &k->signer.publen) == 0 && pki_ed25519_new(seed, &k->key) == 0) {
		k->signer.sign = sign_ed25519;
		k->signer.ctx = k->key;
	}
	wipe(seed, sizeof(seed));
	log_debug("SSH key %s: %s", path, k->key ? "loaded once" :
	    "read by libssh2 at each login");
	return k->key ? &k->signer : NULL;
}

void
run_keys_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nkeys; i++) {
		free(r->keys[i].path);
		free(r->keys[i].signer.pubblob);
		pki_ed25519_free(r->keys[i].key);
	}
	free(r->keys);
	r->keys = NULL;
	r->nkeys = 0;
}

struct pemdb *
run_db(struct run *r, char **msg)
{
	if (r->db != NULL && pemdb_ping(r->db) == 0)
		return r->db;
	pemdb_free(r->db);
	r->db = NULL;
	if (pemdb_connect(r->conninfo, &r->db_tls, r->o->timeout_s,
	    &r->db) == 0)
		return r->db;
	if (msg != NULL)
		*msg = xasprintf("PEM database: %s", pemdb_errmsg(r->db));
	pemdb_free(r->db);
	r->db = NULL;
	return NULL;
}

void
run_db_drop(struct run *r)
{
	pemdb_free(r->db);
	r->db = NULL;
}

/* ---- progress line ---- */

static void
progress_draw(struct run *r)
{
	char line[160];
	int n;

	if (!r->tty || r->progress_phase == NULL)
		return;
	n = snprintf(line, sizeof(line), "\r\033[K  %s: %zu/%zu hosts",
	    r->progress_phase, r->done, r->total);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		r->tty = 0;
}

/* Log hooks: erase the line before a message, draw it again after. */
static void
progress_erase(void *arg)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->mu);
	if (r->tty && r->progress_phase != NULL &&
	    write(STDERR_FILENO, "\r\033[K", 4) < 0)
		r->tty = 0;
	pthread_mutex_unlock(&r->mu);
}

static void
progress_redraw(void *arg)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->mu);
	progress_draw(r);
	pthread_mutex_unlock(&r->mu);
}

void
progress_init(struct run *r)
{
	r->tty = isatty(STDERR_FILENO) && !r->o->quiet;
	if (r->tty)
		log_set_hook(progress_erase, progress_redraw, r);
}

void
progress_begin(struct run *r, const char *phase, size_t n)
{
	pthread_mutex_lock(&r->mu);
	r->progress_phase = phase;
	r->done = 0;
	r->total = n;
	progress_draw(r);
	pthread_mutex_unlock(&r->mu);
}

void
progress_step(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	r->done++;
	progress_draw(r);
	pthread_mutex_unlock(&r->mu);
}

void
progress_end(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	if (r->tty && r->progress_phase != NULL &&
	    write(STDERR_FILENO, "\r\033[K", 4) < 0)
		r->tty = 0;
	r->progress_phase = NULL;
	pthread_mutex_unlock(&r->mu);
}
