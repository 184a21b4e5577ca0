/*
 * postmaster.h: the PostgreSQL server of a host, as that host's kernel
 * sees it.
 *
 * The postmaster is the process that owns the socket listening on the
 * PEM port (/proc/net/tcp and tcp6, then /proc/PID/fd); its working
 * directory is the data directory, its executable's directory holds
 * pg_ctl, its cgroup names the systemd unit that runs it, if any.  Nothing
 * here reads a file the database's owner can write (postmaster.pid and
 * the like): what root does with these facts cannot be steered by the
 * postgres user.  Everything read is remote input and parsed as such.
 */
#ifndef PEMROTATE_POSTMASTER_H
#define PEMROTATE_POSTMASTER_H

#include <stddef.h>

struct sshconn;

struct postmaster {
	long pid;
	long uid, gid;		/* real ids, from /proc/PID/status */
	char *exe;		/* its binary ("(deleted)" cut off) */
	char *data_dir;		/* its working directory */
	char *log;		/* the file its stderr goes to, or NULL */
	char *unit;		/* "x.service" from its cgroup, or NULL */
};

/*
 * Find the postmaster listening on TCP port on the host of c (logged in
 * as root) and fill *pm (cleared with postmaster_clear).  On failure an
 * err_code and a message in *msg (caller frees; NULL on success; without
 * the host's name: the caller adds it).
 */
int postmaster_find(struct sshconn *c, int port, struct postmaster *pm,
    char **msg);

/*
 * How to restart it, into *cmd (caller frees): "systemctl restart UNIT"
 * when a PostgreSQL-like systemd unit runs it as its MainPID (asked of
 * systemctl over c), else pg_ctl from its binary's directory run as its
 * uid with -D its data directory.  ERR_UNSAFE with a message in *msg
 * (caller frees; NULL on success) when it runs in a unit that is not a
 * PostgreSQL service, or in one whose MainPID is another process.
 */
int postmaster_restart_cmd(struct sshconn *c, const struct postmaster *pm,
    int timeout_s, char **cmd, char **msg);

void postmaster_clear(struct postmaster *pm);

/* ---- the parsers, for the tests ---- */

/*
 * The inodes of the sockets in LISTEN state on port in the text of
 * /proc/net/tcp or tcp6 (header line first), appended to ino[*n..max).
 * ERR_PARSE naming the line when a line is not what the kernel writes.
 */
int postmaster_listen_inodes(const char *text, int port, unsigned long *ino,
    size_t max, size_t *n);
/*
 * The pids in find's "/proc/PID/fd/N" lines, each once, into pids[0..max).
 * ERR_PARSE when a line is anything else.
 */
int postmaster_fd_pids(const char *text, long *pids, size_t max,
    size_t *n);
/* PPid, and the real Uid and Gid, of the text of /proc/PID/status. */
int postmaster_status_ids(const char *text, long *ppid, long *uid,
    long *gid);
/*
 * The systemd service named by the text of /proc/PID/cgroup (the
 * name=systemd hierarchy of cgroup v1, else the unified one): a
 * "NAME.service" directly under /system.slice or under slices within it.
 * 0 and *unit NULL when there is none; ERR_PARSE for a malformed line or
 * a unit name systemd would not make.  *unit caller-freed.
 */
int postmaster_cgroup_unit(const char *text, char **unit);
/* 1 if unit's name is one PostgreSQL services are given. */
int postmaster_unit_is_pg(const char *unit);
/* The pg_ctl restart command for pm (NULL if a value cannot be quoted). */
char *postmaster_pgctl_cmd(const struct postmaster *pm, int timeout_s);

#endif
