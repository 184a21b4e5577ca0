/*
 * cmd_backups.c: "pemrotate backups": the backup sets rotations left on
 * every host, listed, and with --prune --keep N all but the newest N
 * removed (old private keys overwritten first).
 */
#include "cmd.h"

#include <stdio.h>

#include "backups.h"
#include "run.h"

static int
backups_act(struct run *r)
{
	struct bk_list l;

	if (backups_scan(r, &l) != 0) {
		r->result = RUN_PREFLIGHT_FAILED;
	} else {
		backups_print(&l, stdout);
		fflush(stdout);
		if (r->o->prune)
			backups_prune(r, &l, r->o->keep);
		else
			r->result = RUN_OK;
	}
	backups_free(&l);
	return 0;
}

int
cmd_backups(const struct opts *o)
{
	struct opts po = *o;

	if (o->backup != NULL || o->with_agents) {
		fprintf(stderr, "pemrotate: --backup and --agents are options "
		    "of \"pemrotate rollback\"\n");
		return 2;
	}
	if (o->prune != (o->keep >= 0)) {
		fprintf(stderr, "pemrotate: --prune and --keep N go "
		    "together\n");
		return 2;
	}
	/* the preflight looks, and creates no probe file */
	po.plan = 1;
	po.keygen_remote = 1;
	return run_main_act(&po, backups_act);
}
