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
	{ "plan", OPTS_CMD_INVENTORY, cmd_plan, "-i INVENTORY",
	  "The whole preflight of \"rotate\" (inventory, database, every "
	  "host) and what it would do, per host: each file it would replace "
	  "and where the original would be kept, each command it would run "
	  "(agent stop, start and status; PostgreSQL's reload and restart), "
	  "key type and validity. Changes nothing: no file, no agent, no "
	  "database row; it creates no lock and no journal. Exit 0 when "
	  "rotate could run, 2 when its preflight would stop it." },
	{ "backups", OPTS_CMD_INVENTORY, cmd_backups,
	  "-i INVENTORY [--prune --keep N]",
	  "List the backup sets rotations left on every host (each replaced "
	  "file kept as <file>.pemrotate-<run>-<token> next to it): per set "
	  "its run, its date (from the run's journal in the state "
	  "directory, else the files' times), its files per host and the CA "
	  "its ca_certificate.crt holds (subject, serial, SHA-256). With "
	  "--prune --keep N, remove all but the newest N sets on each host, "
	  "never the last; backups of private keys are overwritten with "
	  "zeros before they are removed. Exit 0, 1 when a file could not "
	  "be removed, 2 on a preflight or usage error (nothing removed)." },
	{ "rollback", OPTS_CMD_INVENTORY, cmd_rollback,
	  "-i INVENTORY [--backup RUN [--agents]]",
	  "Without --backup, list the backup sets with their dates and CAs. "
	  "With --backup RUN, put back the six PEM server files that run "
	  "kept (the files as they were before it), restart PostgreSQL and "
	  "check over TLS that it serves the restored certificate; with "
	  "--agents, also put back each agent's key and certificate of the "
	  "set, stopping and starting the agent (an agent with no files in "
	  "the set is left alone). Agents whose certificates the restored "
	  "root.crt does not trust cannot log in until rolled back or "
	  "rotated. Exit 0, 1 when an agent failed, 2 when the set does not "
	  "exist or the preflight fails (nothing changed), 3 when the "
	  "server files could not be applied." },
	{ NULL, 0, NULL, NULL, NULL },
};
