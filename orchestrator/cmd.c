/*
 * cmd.c: the table of commands.
 */
#include "cmd.h"

#include <stddef.h>

const struct opts_cmd cmd_table[] = {
	{ "rotate",	OPTS_CMD_INVENTORY,	cmd_rotate },
	{ "resume",	OPTS_CMD_RUN_ARG,	cmd_resume },
	{ NULL,		0,			NULL },
};
