/*
 * status.h: every certificate of the estate as it is now, and what is
 * wrong with it (pemrotate status).  Read only: after a read-only
 * preflight (r->read_only), nothing is written anywhere.
 */
#ifndef PEMROTATE_STATUS_H
#define PEMROTATE_STATUS_H

#include <time.h>

#include "runtypes.h"

enum status_role {
	SR_CA = 0,		/* ca_certificate.crt */
	SR_ROOT_CA,		/* a CA of root.crt */
	SR_SERVER_TLS,		/* the certificate PostgreSQL serves */
	SR_SERVER_FILE,		/* server.crt */
	SR_AGENT,		/* an agent's agent_ssl_crt */
	SR_COUNT
};

/* The kinds of finding, bits of status_cert.problems. */
enum status_problem {
	SP_EXPIRING = 0,	/* expires within --warn-days, or has */
	SP_UNCHAINED,		/* issued by no CA of root.crt */
	SP_REVOKED,		/* listed by its CA's CRL in root.crl */
	SP_KEY_MISMATCH,	/* the key file is not its key */
	SP_INACTIVE,		/* the agent is no active row of pem.agent */
	SP_ERROR,		/* could not be read */
	SP_COUNT
};

/* A check's answer: yes, no, or not made (not applicable, or failed). */
enum { ST_NA = -1, ST_NO = 0, ST_YES = 1 };

struct status_cert {
	enum status_role role;
	char *host;		/* the inventory host it is on */
	char *source;		/* the file, or host:port served */
	long agent_id;		/* SR_AGENT: its id, else 0 */
	int have;		/* the certificate was read */
	char subject[256];
	char serial[80];
	time_t not_after;
	long days_left;		/* whole days; negative once expired */
	int chains, revoked, key_matches, active;	/* ST_* */
	unsigned problems;	/* 1 << SP_* */
	char *error;		/* SP_ERROR: why, printable */
};

struct status {
	struct status_cert *c;
	size_t n;
	int warn_days;
	time_t now;
	size_t count[SP_COUNT];	/* certificates with each problem */
};

/* Role and problem names, as printed ("agent", "key_mismatch"). */
const char *status_role_name(enum status_role role);
const char *status_problem_name(enum status_problem p);
/*
 * After preflight_run with r->read_only: read and judge every
 * certificate into st (zeroed by the caller); hosts whose preflight
 * failed are rows with SP_ERROR.
 */
void status_collect(struct run *r, struct status *st);
void status_free(struct status *st);

#endif
