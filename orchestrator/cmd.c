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
	{ "revoke", OPTS_CMD_INVENTORY | OPTS_CMD_AGENT_ONE, cmd_revoke,
	  "-i INVENTORY --agent ID",
	  "Revoke one agent's current certificate, as PEM does when an "
	  "agent is uninstalled: read it over SSH, add its serial to "
	  "root.crl (signed with the CA key, read from the server into "
	  "memory only; earlier revocations kept, one CRL per trusted CA, "
	  "the CRL number increasing), reload PostgreSQL, and show the "
	  "agent's login with it is refused (pem_agent_check_cmd). Exit 0 "
	  "revoked and refused, 2 nothing changed, 3 the CRL could not be "
	  "applied (the original put back) or is not enforced." },
	{ "agents", OPTS_CMD_INVENTORY | OPTS_CMD_AGENT_ANY, cmd_agents,
	  "-i INVENTORY [--agent ID ...] [--expiring-within DAYS]",
	  "Give agents new keys and certificates from the current CA without "
	  "touching the PEM server's files: the CA key is read from the "
	  "server into memory only and must match ca_certificate.crt. For "
	  "each chosen agent (every agent, or those named by --agent; with "
	  "--expiring-within only those whose certificate expires within "
	  "DAYS days or is missing, unreadable or not of the current CA): "
	  "stop it, put a new key and a certificate with CN agent<ID> in "
	  "place (the originals kept as backups, as a rotation does), start "
	  "it and check it runs and logs in (pem_agent_check_cmd), -j at a "
	  "time. An agent that fails gets its original files back and is "
	  "started on them. For new agents and lost certificates. Exit 0 "
	  "all renewed, 1 an agent failed, 2 nothing changed (an unknown "
	  "--agent, a preflight error)." },
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
	{ "finalize", OPTS_CMD_INVENTORY, cmd_finalize, "-i INVENTORY",
	  "End the overlap a rotation left (root.crt trusting the previous "
	  "CA and the new one, as after a rotation with failed agents): "
	  "once every agent's certificate, read over SSH, is of the new CA "
	  "(ca_certificate.crt), root.crt and root.crl keep the new CA alone "
	  "(its CRL with every revocation made since), PostgreSQL reloads "
	  "and is checked to ask for that one CA. Otherwise it refuses and "
	  "names each agent still on another CA. A lock the rotation kept "
	  "for \"resume\" is taken over when its journal is in the state "
	  "directory; the rotation's journal records the end, so resuming "
	  "it has nothing left to do. Exit 0 finalized or no overlap, 2 an "
	  "agent not on the new CA or a preflight error (nothing changed), "
	  "3 the new files could not be applied (the originals put back)." },
	{ NULL, 0, NULL, NULL, NULL },
};
