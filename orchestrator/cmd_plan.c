/*
 * cmd_plan.c: "pemrotate plan": rotate's preflight and what it would do
 * to each host, changing nothing (rotate --dry-run, per host).
 */
#include "cmd.h"

#include <stddef.h>

#include "run.h"

int
cmd_plan(const struct opts *o)
{
	struct opts po = *o;

	po.dry_run = 1;
	po.plan = 1;
	return run_main(&po, NULL);
}
