/*
 * cmd.h: the commands, one file each (cmd_<name>.c), listed once in
 * cmd_table.  A new command is a new file and an entry in the table.
 */
#ifndef PEMROTATE_CMD_H
#define PEMROTATE_CMD_H

#include "options.h"

/* Every command, ended by a NULL name. */
extern const struct opts_cmd cmd_table[];

/* Each runs its command from the parsed options; the exit status. */
int cmd_rotate(const struct opts *o);
int cmd_resume(const struct opts *o);
int cmd_inventory(const struct opts *o);
int cmd_plan(const struct opts *o);
int cmd_revoke(const struct opts *o);
int cmd_status(const struct opts *o);
int cmd_backups(const struct opts *o);
int cmd_rollback(const struct opts *o);
int cmd_agents(const struct opts *o);
int cmd_finalize(const struct opts *o);

#endif
