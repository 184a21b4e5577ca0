/*
 * db.c: the PEM database connection the run keeps between uses.
 */
#include "db.h"

#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xmem.h"
#include "inventory/pemdb.h"
#include "options.h"

struct pemdb *
db_get(struct run *r, char **msg)
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
db_drop(struct run *r)
{
	pemdb_free(r->db);
	r->db = NULL;
}

/* Connect, retrying --retries times (a server still restarting, say). */
int
db_connect(struct run *r, struct pemdb **db)
{
	int rc, attempt;

	for (attempt = 0;; attempt++) {
		rc = pemdb_connect(r->conninfo, &r->db_tls, r->o->timeout_s,
		    db);
		if (rc == 0 || attempt >= r->o->retries ||
		    atomic_load(&r->stop) != STOP_NONE)
			return rc;
		log_debug("PEM database: %s; retrying", pemdb_errmsg(*db));
		pemdb_free(*db);
		*db = NULL;
		sleep(1u << (attempt < 5 ? attempt : 5));
	}
}
