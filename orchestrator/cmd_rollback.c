/*
 * cmd_rollback.c: "pemrotate rollback": without --backup the backup sets
 * with their dates and CAs; with --backup RUN that set's six server files
 * put back and applied (and, with --agents, the agents' files).
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>

#include "backups.h"
#include "common/xmem.h"
#include "common/strutil.h"
#include "run.h"

static int
rollback_act(struct run *r)
{
	const struct bk_set *s;
	struct bk_list l;

	if (backups_scan(r, &l) != 0) {
		r->result = RUN_PREFLIGHT_FAILED;
	} else if (r->o->backup == NULL) {
		backups_print(&l, stdout);
		r->result = RUN_OK;
	} else if ((s = backups_find(&l, r->o->backup)) == NULL) {
		r->error = xasprintf("no backup set %s on any host (\"pemrotate "
		    "rollback\" without --backup lists them); nothing was "
		    "changed", r->o->backup);
		r->result = RUN_PREFLIGHT_FAILED;
	} else {
		backups_rollback(r, s, r->o->with_agents);
	}
	backups_free(&l);
	return 0;
}

int
cmd_rollback(const struct opts *o)
{
	struct opts po = *o;

	if (o->prune || o->keep >= 0) {
		fprintf(stderr, "pemrotate: --prune and --keep are options of "
		    "\"pemrotate backups\"\n");
		return 2;
	}
	if (o->with_agents && o->backup == NULL) {
		fprintf(stderr, "pemrotate: --agents needs --backup RUN\n");
		return 2;
	}
	po.plan = 1;
	po.keygen_remote = 1;
	return run_main_act(&po, rollback_act);
}
