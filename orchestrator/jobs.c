/*
 * jobs.c: PEM's own CA renewal job, disabled for the run so that it does
 * not rotate underneath us, and enabled again at its end.
 */
#include "jobs.h"

#include <stdlib.h>

#include "common/log.h"
#include "db.h"
#include "inventory/pemdb.h"
#include "journal.h"

#define RENEWAL_JOB	"Check CA certificate expiry"

void
jobs_disable(struct run *r)
{
	struct pemdb *db;
	char *msg = NULL;
	size_t i;

	if ((db = db_get(r, &msg)) != NULL &&
	    pemdb_job_disable(db, RENEWAL_JOB, &r->jobs, &r->njobs) == 0) {
		for (i = 0; i < r->njobs; i++) {
			journal_addf(r->journal, JK_JOB_DISABLED, "%ld",
			    r->jobs[i]);
			log_info("PEM's job \"%s\" (id %ld) is disabled for "
			    "the run", RENEWAL_JOB, r->jobs[i]);
		}
	} else {
		log_error("could not disable PEM's job \"%s\": %s",
		    RENEWAL_JOB, db ? pemdb_errmsg(db) : msg);
	}
	journal_sync(r->journal);
	free(msg);
}

void
jobs_restore(struct run *r)
{
	struct pemdb *db;
	char *msg = NULL;
	size_t i;

	if (r->njobs == 0)
		return;
	if ((db = db_get(r, &msg)) == NULL ||
	    pemdb_job_enable(db, r->jobs, r->njobs) != 0) {
		log_error("could not enable PEM's job \"%s\" again (ids "
		    "%ld...): %s; enable it by hand", RENEWAL_JOB, r->jobs[0],
		    db ? pemdb_errmsg(db) : msg);
	} else {
		for (i = 0; i < r->njobs; i++)
			journal_addf(r->journal, JK_JOB_ENABLED, "%ld",
			    r->jobs[i]);
		log_info("PEM's job \"%s\" is enabled again", RENEWAL_JOB);
		r->njobs = 0;
	}
	free(msg);
}
