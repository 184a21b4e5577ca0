/*
 * cmd.c: the table of commands.
 */
#include "cmd.h"

#include <stddef.h>

const struct opts_cmd cmd_table[] = {
	{ "rotate", OPTS_CMD_INVENTORY, cmd_rotate, "-i INVENTORY",
	  "Replace every SSL certificate of a PEM estate: stop the agents, "
	  "rotate the PEM server's CA, server and CRL files, restart it, "
	  "push each agent a new key and certificate, and report per "
	  "host." },
	{ "resume", OPTS_CMD_RUN_ARG, cmd_resume, "[RUN]",
	  "Finish an interrupted or partial run (the newest unfinished one, "
	  "or RUN) from its journal." },
	{ NULL, 0, NULL, NULL, NULL },
};
