/*
 * remote.h: the shell text pemrotate sends to hosts.  No file is made,
 * moved or removed by a shell: that is rfile.h's.
 *
 * Every value that came from outside (paths from agent.cfg or the
 * database, names from the inventory) is quoted with shquote(); a value
 * holding a control character (newline included) is refused, and the
 * builder returns NULL.  Operator commands from the inventory
 * (pem_agent_start_cmd and the like) are the operator's own shell text and
 * are inserted as they are.  Results are caller-freed.
 */
#ifndef PEMROTATE_REMOTE_H
#define PEMROTATE_REMOTE_H

#include <stddef.h>

/*
 * Print how to restart the PostgreSQL whose data directory is data_dir,
 * one field a line: "systemd", UNIT when a systemd service owns the
 * postmaster; else "pg_ctl", the data directory's owner, the postmaster's
 * bin directory, and the file its stderr goes to ("-" if none).  Exit 3 if
 * there is no postmaster.pid.
 */
char *remote_detect_restart_script(const char *data_dir);

/* Build the restart command from the detection's output line. */
char *remote_restart_cmd(const char *detected, const char *data_dir,
    int timeout_s);

#endif
