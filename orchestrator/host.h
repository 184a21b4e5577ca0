/*
 * host.h: what the phases do to one host: record its failure, connect,
 * run a command, read its inventory variables, resolve its target files;
 * and the host set as a whole.  A function taking h is called by the
 * thread that owns h.
 */
#ifndef PEMROTATE_HOST_H
#define PEMROTATE_HOST_H

#include "runtypes.h"

/* Record a failure on h (printf-like, escaped); the first error wins. */
void host_fail(struct host *h, const char *phase, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Make sure h has a live connection, retrying --retries times; 0, or the
 * negative code with the connection's message in *msg (caller frees;
 * NULL on success).
 */
int host_connect(struct run *r, struct host *h, char **msg);
void host_disconnect(struct host *h);
/* Close h's session if it is beyond --max-open (done with it for now). */
void host_release(struct run *r, struct host *h);
/*
 * Run a remote command on h; 0 if it ran and exited 0.  On failure the
 * message (with what, and the command's stderr, escaped) goes to *msg
 * (caller frees).
 */
int host_exec(struct run *r, struct host *h, const char *what,
    const char *cmd, int timeout_s, char **msg);
/* The same, handing the command's stdout to *out (caller frees). */
int host_exec_out(struct run *r, struct host *h, const char *what,
    const char *cmd, int timeout_s, char **msg, char **out);
/* An inventory variable of h, as set: NULL when unset. */
const char *host_var(const struct run *r, const struct host *h,
    const char *name);
/* The same, NULL also when set to "". */
const char *host_var_nonempty(const struct run *r, const struct host *h,
    const char *name);
/* A copy of it, or of def, when unset or empty (NULL if def is). */
char *host_dupvar(const struct run *r, const struct host *h,
    const char *name, const char *def);
/*
 * Resolve a target file on h (rfile.h; a shared directory is refused);
 * check the directories of f[0..n) accept a new file.  0, or the code
 * with the reason in *msg (caller frees).
 */
int host_resolve_target(struct run *r, struct host *h, const char *what,
    const char *path, long def_uid, long def_gid, struct rfile *f,
    char **msg);
int host_probe_dirs(struct run *r, struct host *h, struct rfile *const *f,
    size_t n, char **msg);
/* Run fn(r, i) for every host index, -j at a time, until r->stop. */
void host_par_for(struct run *r, void (*fn)(void *, size_t));
/* Give every pending host st; count the hosts with st. */
void host_mark_pending(struct run *r, enum host_status st);
int host_count(const struct run *r, enum host_status st);

#endif
