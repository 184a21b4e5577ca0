/*
 * lock.c: one run at a time per estate.
 *
 * The lock is a file in the PEM server's data directory, created with
 * O_EXCL over SFTP: it lives where the estate lives (two operators on two
 * machines see the same lock), survives the PostgreSQL restart, and names
 * the run holding it so "pemrotate resume" of that run may take it over.
 */
#include "lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "host.h"

#define LOCK_NAME	"pemrotate.lock"

static char *
lock_path(const struct run *r)
{
	return xasprintf("%s/%s", r->sf.data_dir, LOCK_NAME);
}

/* The run id in an existing lock ("run <id> ..."), or NULL. */
static char *
lock_holder(struct run *r, const char *path, char **text)
{
	char *buf = NULL, id[64], *p;
	size_t len;

	*text = NULL;
	if (sftp_read_file(r->server->conn, path, 4096, 0, &buf, &len))
		return NULL;
	for (p = buf; *p != '\0'; p++)
		if (*p == '\n' && p[1] != '\0')
			*p = ',';
	buf[strcspn(buf, "\n")] = '\0';
	*text = str_printable(buf, 300);
	if (sscanf(buf, "run %63[^,]", id) != 1)
		id[0] = '\0';
	free(buf);
	return xstrdup(id);
}

char *
lock_owner(struct run *r)
{
	char *path, *holder, *text = NULL, *msg = NULL;

	if (host_connect(r, r->server, &msg) != 0) {
		free(msg);
		return NULL;
	}
	path = lock_path(r);
	rfile_use(r->server->conn, &r->sf.f[SF_CA_CRT]);
	holder = lock_holder(r, path, &text);
	sftp_as(r->server->conn, NULL);
	if (holder != NULL && *holder == '\0') {
		free(holder);
		holder = NULL;
	}
	free(text);
	free(path);
	return holder;
}

int
lock_acquire(struct run *r)
{
	return lock_acquire_for(r, r->run_id);
}

int
lock_acquire_for(struct run *r, const char *may_hold)
{
	char host[256] = "?", *path, *body, *holder, *text, *msg;
	struct sftp_stat st;
	int rc;

	if ((rc = host_connect(r, r->server, &msg)) != 0) {
		r->error = msg;
		return rc;
	}
	gethostname(host, sizeof(host) - 1);
	path = lock_path(r);
	/* as whoever acts on the data directory's files */
	rfile_use(r->server->conn, &r->sf.f[SF_CA_CRT]);
	body = xasprintf("run %s\nhost %s\npid %ld\n", r->run_id, host,
	    (long)getpid());
	rc = sftp_write_new(r->server->conn, path, body, strlen(body), 0600,
	    -1, -1);
	if (rc != 0)
		msg = xstrdup(sshconn_errmsg(r->server->conn));
	/* SFTP v3 servers answer a plain failure when the file exists */
	if (rc != 0 && sftp_stat(r->server->conn, path, &st) == 0)
		rc = ERR_EXISTS;
	if (rc == ERR_EXISTS) {
		holder = lock_holder(r, path, &text);
		if (holder != NULL && strcmp(holder, may_hold) == 0) {
			rc = 0;		/* our own run, being resumed */
		} else {
			r->error = xasprintf("another pemrotate run holds %s "
			    "on %s (%s); if it is no longer running, finish "
			    "it with \"pemrotate resume %s\" or remove the "
			    "file", path, r->server->label,
			    text ? text : "unreadable", holder ? holder : "");
		}
		free(holder);
		free(text);
	} else if (rc != 0) {
		r->error = xasprintf("cannot create %s: %s", path, msg);
	}
	sftp_as(r->server->conn, NULL);
	r->locked = (rc == 0);
	free(msg);
	free(body);
	free(path);
	return rc;
}

void
lock_release(struct run *r)
{
	char *path, *msg;

	if (!r->locked)
		return;
	path = lock_path(r);
	if (host_connect(r, r->server, &msg) != 0) {
		log_error("could not remove %s: %s", path, msg);
		free(msg);
		free(path);
		return;
	}
	rfile_use(r->server->conn, &r->sf.f[SF_CA_CRT]);
	if (sftp_unlink(r->server->conn, path) != 0)
		log_error("could not remove %s: %s", path,
		    sshconn_errmsg(r->server->conn));
	sftp_as(r->server->conn, NULL);
	r->locked = 0;
	free(path);
}
