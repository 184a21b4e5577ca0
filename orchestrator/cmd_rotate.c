/*
 * cmd_rotate.c: "pemrotate rotate": a new run over the inventory.
 */
#include "cmd.h"

#include <stddef.h>

#include "run.h"

int
cmd_rotate(const struct opts *o)
{
	return run_main(o, NULL);
}
