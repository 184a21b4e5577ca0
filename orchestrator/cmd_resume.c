/*
 * cmd_resume.c: "pemrotate resume [RUN]": finish an interrupted or
 * partial run, with the options it was started with (its journal).
 */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "journal.h"
#include "run.h"
#include "runtypes.h"

static const char *
jget(const struct journal_state *st, const char *key)
{
	const char *v = journal_get(st, key);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* Every inventory source the run recorded, in order. */
static void
resume_inventory(struct opts *ro, const struct journal_state *st)
{
	size_t i;

	for (i = 0; i < st->n && ro->ninventory < OPTS_MAX_INVENTORY; i++) {
		if (strcmp(st->keys[i], JK_INVENTORY) == 0 &&
		    *st->values[i] != '\0')
			ro->inventory[ro->ninventory++] = st->values[i];
	}
}

/*
 * What the earlier run was: its inventory, database, keys and validity;
 * the command line may name another inventory path, database or SSH
 * settings (the same estate seen from here), and sets how to work.
 */
static int
resume_opts(struct run *r, struct opts *ro, struct journal_state *st)
{
	char *msg = NULL, *path, *dir;
	const char *v;

	dir = r->state_dir;
	if ((path = journal_find(dir, ro->resume_run)) == NULL ||
	    journal_load(path, st, &msg) != 0) {
		r->error = path == NULL ? xasprintf("no %s run to resume in "
		    "%s", ro->resume_run ? ro->resume_run : "unfinished", dir) :
		    msg;
		free(path);
		return ERR_NOTFOUND;
	}
	free(path);
	if ((v = jget(st, JK_COMMAND)) != NULL) {
		log_info("run %s was \"pemrotate %s\", not a rotation: "
		    "nothing to resume", st->run_id, v);
		return 1;
	}
	if ((v = jget(st, JK_EXIT)) != NULL && strcmp(v, "1") != 0) {
		log_info("run %s ended with \"%s\" (exit %s): nothing to "
		    "resume", st->run_id, jget(st, JK_RESULT) ?
		    jget(st, JK_RESULT) : "?", v);
		return 1;
	}
	if (ro->ninventory == 0)
		resume_inventory(ro, st);
	if (ro->pem_db == NULL)
		ro->pem_db = jget(st, JK_PEM_DB);
	if (ro->known_hosts == NULL)
		ro->known_hosts = jget(st, JK_KNOWN_HOSTS);
	if (ro->ssh_key == NULL)
		ro->ssh_key = jget(st, JK_SSH_KEY);
	if (ro->ssh_config == NULL)
		ro->ssh_config = jget(st, JK_SSH_CONFIG);
	if ((v = jget(st, JK_KEY_TYPE)) != NULL)
		pki_keyspec_parse(v, &ro->keyspec);
	if ((v = jget(st, JK_DAYS)) != NULL)
		ro->days = atoi(v);
	ro->no_overlap = (v = jget(st, JK_NO_OVERLAP)) && strcmp(v, "1") == 0;
	ro->keygen_remote = (v = jget(st, JK_KEYGEN_REMOTE)) &&
	    strcmp(v, "1") == 0;
	ro->ca_subject = jget(st, JK_CA_SUBJECT);
	r->resume = st;
	log_info("resuming run %s (%s)", st->run_id, st->path);
	return ro->ninventory > 0 ? 0 : ERR_PARSE;
}

/* Before set-up: the journal (the run owns it) and the options it holds. */
static int
resume_load(struct run *r, struct opts *ro)
{
	struct journal_state *st = xcalloc(1, sizeof(*st));
	int rc;

	if ((rc = resume_opts(r, ro, st)) != 0 && r->resume != st) {
		journal_state_clear(st);
		free(st);
	}
	return rc;
}

int
cmd_resume(const struct opts *o)
{
	return run_main(o, resume_load);
}
