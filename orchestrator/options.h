/*
 * options.h: the command line.  Each option is described once, in the
 * table in options.c, from which --help and the man page are both made.
 */
#ifndef PEMROTATE_OPTIONS_H
#define PEMROTATE_OPTIONS_H

#include <stdio.h>

#include "crypto/pki.h"

struct opts;

/*
 * A command: its name, what its command line takes, the function that
 * runs it (returns the exit status).  The table is cmd_table (cmd.c).
 */
struct opts_cmd {
	const char *name;
	int flags;			/* OPTS_CMD_* */
	int (*exec)(const struct opts *o);
	const char *args;		/* after the name: "-i INVENTORY" */
	const char *help;		/* what it does, for --help and man */
};
#define OPTS_CMD_INVENTORY	0x1	/* -i/--inventory is required */
#define OPTS_CMD_RUN_ARG	0x2	/* an optional RUN argument */
#define OPTS_CMD_QUERY		0x4	/* takes --list or --host NAME */
#define OPTS_CMD_AGENT_ONE	0x8	/* exactly one --agent */
#define OPTS_CMD_AGENT_ANY	0x10	/* --agent (repeatable), and
					   --expiring-within */
#define OPTS_CMD_STATUS		0x20	/* takes --warn-days, --json, --format */

#define OPTS_MAX_INVENTORY	64	/* -i given at most this often */
#define OPTS_MAX_AGENTS		256	/* --agent given at most this often */

struct opts {
	const char *command;		/* "rotate", "resume", ... */
	const struct opts_cmd *cmd;	/* its entry in the table */
	const char *resume_run;		/* resume: the run id, or NULL */
	const char *inventory[OPTS_MAX_INVENTORY]; /* -i, in order */
	size_t ninventory;
	int list;			/* inventory --list */
	const char *host;		/* inventory --host NAME */
	const char *agents[OPTS_MAX_AGENTS];	/* --agent: name or id */
	size_t nagents;
	int expiring_within;		/* --expiring-within DAYS; -1: unset */
	int warn_days;			/* status: expiring within N days */
	int format;			/* status: OPTS_FMT_* */
	int status_opt;			/* one of those was given */
	const char *pem_db;
	int parallel;
	struct pki_keyspec keyspec;
	int days;
	const char *known_hosts;	/* NULL: the defaults */
	const char *ssh_key;
	const char *ssh_config;		/* NULL: the default; "none" */
	int ask_become_pass;		/* -K */
	const char *report;
	const char *ca_subject;		/* NULL: PEM's, made unique */
	int no_overlap;
	int yes;
	int dry_run;
	int plan;			/* plan: --dry-run, per host */
	int verbose;
	int quiet;
	int timeout_s;			/* connect and command timeout */
	int restart_timeout_s;		/* PostgreSQL restart and wait */
	int agent_timeout_s;		/* agent stop/start commands */
	const char *state_dir;		/* NULL: journal_default_dir() */
	int skip_unreachable;
	int retries;			/* connection tries after the first */
	int canary;			/* agents rotated and checked first */
	int max_failures;		/* -1: no limit */
	int max_failures_pct;		/* 1 if max_failures is a percentage */
	int accept_new_host_keys;
	int allow_shared_dirs;		/* --allow-shared-dirs */
	int allow_unverified_db;	/* a weak sslmode is not refused */
	int keygen_remote;		/* --keygen remote */
	int prune;			/* backups --prune */
	int keep;			/* backups --keep N; -1: not given */
	const char *backup;		/* rollback --backup RUN */
	int with_agents;		/* rollback --agents */
	int max_open;			/* SSH sessions kept between phases;
					   0: 600 + hosts/25 */
};

enum { OPTS_FMT_TEXT = 0, OPTS_FMT_JSON, OPTS_FMT_PROMETHEUS };

enum opts_result { OPTS_RUN = 0, OPTS_EXIT_OK = 1, OPTS_EXIT_USAGE = 2 };

/*
 * Parse argv into o (defaults first), the command one of cmds (ended by
 * a NULL name).  Prints --help, --version or a usage error itself and
 * says whether to run or exit.
 */
enum opts_result opts_parse(int argc, char **argv,
    const struct opts_cmd *cmds, struct opts *o);
void opts_usage(FILE *f, const struct opts_cmd *cmds);
/* The man page pemrotate(1), troff, from the same tables. */
void opts_man(FILE *f, const struct opts_cmd *cmds);
/* The bash completion script for pemrotate, from the same tables. */
void opts_bash(FILE *f, const struct opts_cmd *cmds);

#endif
