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
	{ "inventory", OPTS_CMD_INVENTORY | OPTS_CMD_QUERY, cmd_inventory,
	  "-i INVENTORY [--list | --host NAME]",
	  "Print the PEM hosts pemrotate reads from the inventory (the "
	  "server first, then the agents) with their pem_server and "
	  "pem_agents membership and every variable pemrotate uses, as "
	  "JSON close to \"ansible-inventory --list\", to compare the two; "
	  "connects to nothing." },
	{ "status", OPTS_CMD_INVENTORY | OPTS_CMD_STATUS, cmd_status,
	  "-i INVENTORY [--warn-days N] [--json | --format prometheus]",
	  "Show every certificate of the estate as it is now: the PEM CA, "
	  "root.crt's CAs, the server's certificate as served over TLS and "
	  "as on disk, each agent's: subject, serial, expiry, days left, "
	  "whether it chains to a CA of root.crt, is revoked in root.crl, "
	  "matches its key, belongs to an active agent of pem.agent. "
	  "Changes nothing. Exit 0 all well, 1 a finding (expires within "
	  "--warn-days, does not chain, revoked, key mismatch, inactive "
	  "agent), 2 an error. For cron, Nagios-style checks and "
	  "node_exporter's textfile collector (--format prometheus)." },
	{ NULL, 0, NULL, NULL, NULL },
};
