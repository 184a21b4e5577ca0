/*
 * run.h: the driver of a run: set-up, the phases in their required
 * order, the outcome, the end.  Only the orchestrator knows every layer;
 * its data types are in runtypes.h.
 *
 * Layers, top first.  A file calls (and includes the headers of) only
 * files of lower layers, or its own; nothing calls upwards (cmd.h is the
 * header of cmd.c and of every cmd_*.c):
 *
 *   main.c
 *   cmd.c                       the table of commands; then one file
 *                               per command:
 *   cmd_rotate.c cmd_resume.c cmd_inventory.c cmd_plan.c cmd_revoke.c
 *   cmd_status.c cmd_backups.c cmd_rollback.c cmd_agents.c
 *   cmd_finalize.c
 *   run.c dayrun.c              the drivers (rotation, day-two commands)
 *   setup.c plan.c report.c signals.c status.c
 *   backups.c
 *   preflight.c resume.c push.c
 *   server.c stop.c lock.c jobs.c
 *   serverfiles.c dbtrust.c
 *   db.c host.c progress.c
 *   access.c
 *   rfile.c postmaster.c journal.c pool.c options.c keys.c
 *   version.c jsonout.c
 *   runtypes.h (types only)
 *
 * Errors.  A function returns 0 or a negative ERR_* code (common/err.h).
 * A message travels up in a char **msg out-parameter (heap, caller frees,
 * NULL when there is none), without the host's name; the layer that knows
 * the host and the phase records it once with host_fail(h, phase, ...),
 * which names the host.  A failure of the run as a whole (no one host's)
 * goes to r->error, the run's last word.
 *
 * The connection handles are the one exception, as curl keeps its error
 * buffer on an easy handle: an SSH connection keeps its last failure on
 * the handle (sshconn_errmsg, SFTP's included), and so does a database
 * connection (pemdb_errmsg, libpq's).  They are the only messages the
 * orchestrator reads from a handle: the orchestrator file that made the
 * failing call reads it at once, before the next call on that handle,
 * and turns it into its msg, its host_fail or r->error.
 */
#ifndef PEMROTATE_RUN_H
#define PEMROTATE_RUN_H

struct opts;
struct run;

/*
 * Before set-up, a command may read what it needs into the run and its
 * options (resume: the journal); 0 to go on, > 0 nothing to do, < 0 a
 * failure (r->error).
 */
typedef int run_load_fn(struct run *r, struct opts *ro);

/* A run from start to end, load first if not NULL; the exit status. */
int run_main(const struct opts *o, run_load_fn *load);

/*
 * A command that is not a rotation: the run's set-up and preflight, then
 * act instead of the phases (it sets r->result, and the hosts' status;
 * hosts left pending are reported ok); the report and the exit status as
 * for a rotation.
 */
typedef int run_act_fn(struct run *r);
int run_main_act(const struct opts *o, run_act_fn *act);

#endif
