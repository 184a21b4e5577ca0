/*
 * host.c: per-host helpers shared by the phases: failures, connections,
 * remote commands, inventory variables, target files; the host set.
 */
#include "host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "access.h"
#include "inventory/inventory.h"
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
 * or login refusal) --retries times, 1 s, 2 s, 4 s... apart.  What failed
 * is read from the connection before it is closed.
 */
int
host_connect(struct run *r, struct host *h, char **msg)
{
	int rc, attempt;

	*msg = NULL;
	if (h->conn != NULL)
		return 0;
	for (attempt = 0;; attempt++) {
		rc = access_open(r, h, &h->conn, msg);
		if (rc == 0)
			return 0;
		if (*msg == NULL)
			*msg = xstrdup(sshconn_errmsg(h->conn));
		host_disconnect(h);
		if ((rc != ERR_NET && rc != ERR_TIMEOUT) ||
		    attempt >= r->o->retries ||
		    atomic_load(&r->stop) == STOP_SIGNAL)
			return rc;
		log_debug("%s: %s; retrying", h->label, *msg);
		free(*msg);
		*msg = NULL;
		sleep(1u << (attempt < 5 ? attempt : 5));
	}
}

/*
 * At most --max-open sessions are kept between phases: the server host's
 * and those of the first agents; later hosts log in again when needed.
 */
void
host_release(struct run *r, struct host *h)
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
	char *why;
	int rc;

	*msg = NULL;
	if (out != NULL)
		*out = NULL;
	if ((rc = host_connect(r, h, &why)) != 0) {
		*msg = xasprintf("%s: %s", what, why);
		free(why);
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
host_par_for(struct run *r, void (*fn)(void *, size_t))
{
	par_for(r->nhosts, r->o->parallel, fn, r, &r->stop);
}

/* ---- inventory variables ---- */

const char *
host_var(const struct run *r, const struct host *h, const char *name)
{
	return inventory_var(r->inv, h->inv_idx, name);
}

const char *
host_var_nonempty(const struct run *r, const struct host *h,
    const char *name)
{
	const char *v = host_var(r, h, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

char *
host_dupvar(const struct run *r, const struct host *h, const char *name,
    const char *def)
{
	const char *v = host_var_nonempty(r, h, name);

	if (v == NULL)
		v = def;
	return v != NULL ? xstrdup(v) : NULL;
}

/* ---- target files ---- */

/*
 * Resolve a target file (rfile.h): who acts on it, its unpredictable
 * names.  A directory others can write is named and refused here.
 */
int
host_resolve_target(struct run *r, struct host *h, const char *what,
    const char *path, long def_uid, long def_gid, struct rfile *f,
    char **msg)
{
	char *why = NULL;
	int rc;

	*msg = NULL;
	rfile_clear(f);
	rc = rfile_resolve(h->conn, &r->rx, path, def_uid, def_gid,
	    host_var(r, h, "pem_sftp_server"), f, &why);
	if (rc != 0) {
		*msg = xasprintf("%s: %s", what, why ? why : err_str(rc));
		free(why);
		return rc;
	}
	if (f->shared != NULL)
		log_warn("%s: %s: %s; --allow-shared-dirs: acting as uid %ld",
		    h->label, what, f->shared, f->act_uid);
	return 0;
}

/*
 * The directory of each file accepts a new file: one is created (empty,
 * 0600, a name nobody can predict) and removed, as the rotation will do,
 * by whoever will.  A read-only mount, a full disk or missing permission
 * shows here, before anything is changed.  Directories differ: each once.
 */
int
host_probe_dirs(struct run *r, struct host *h, struct rfile *const *f,
    size_t n, char **msg)
{
	size_t i, j, la, lb;
	int rc;

	*msg = NULL;
	for (i = 0; i < n; i++) {
		la = (size_t)(strrchr(f[i]->path, '/') - f[i]->path);
		for (j = 0; j < i; j++) {
			lb = (size_t)(strrchr(f[j]->path, '/') - f[j]->path);
			if (la == lb && f[i]->act_uid == f[j]->act_uid &&
			    strncmp(f[i]->path, f[j]->path, la) == 0)
				break;
		}
		if (j < i)
			continue;
		/*
		 * plan changes nothing, not even a directory's mtime: it
		 * judges from owner and mode; rotate (--dry-run too) writes
		 * and removes a probe, which also finds a read-only mount
		 */
		rc = r->o->plan ? rfile_check_dir(h->conn, f[i], msg) :
		    rfile_probe(h->conn, &r->rx, f[i], msg);
		if (rc != 0) {
			sftp_as(h->conn, NULL);
			return rc;
		}
	}
	sftp_as(h->conn, NULL);
	return 0;
}

/* Give every host still pending the status st. */
void
host_mark_pending(struct run *r, enum host_status st)
{
	size_t i;

	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i].status == HS_PENDING)
			r->hosts[i].status = st;
}

int
host_count(const struct run *r, enum host_status st)
{
	size_t i;
	int n = 0;

	for (i = 0; i < r->nhosts; i++)
		n += r->hosts[i].status == st;
	return n;
}
