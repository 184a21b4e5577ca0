/*
 * run.h: one rotation run, the hosts it works on, and its phases.
 *
 * Only the orchestrator knows every layer.  A struct run is built by
 * run_new(), filled by the preflight, then driven phase by phase; hosts
 * are worked on by par_for workers, each worker owning the host it works
 * on (its SSH connection included) for the duration of a step.
 */
#ifndef PEMROTATE_RUN_H
#define PEMROTATE_RUN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stddef.h>
#include <time.h>

#include "common/clock.h"
#include "inventory/pemdb.h"
#include "rfile.h"
#include "transport/sftp.h"
#include "transport/sshconn.h"

struct opts;
struct inventory;
struct inv_host;
struct keygen;
struct journal;
struct journal_state;
struct known_hosts;
struct pki_key;
struct pki_cert;
struct postmaster;

enum host_status { HS_PENDING = 0, HS_OK, HS_FAILED, HS_SKIPPED };

struct pki_ed25519;

/* An SSH user key file, and its signer when it could be loaded. */
struct run_key {
	char *path;
	struct pki_ed25519 *key;	/* NULL: libssh2 reads the file */
	struct sshconn_signer signer;
};

/* Why no new host is started. */
enum { STOP_NONE = 0, STOP_SIGNAL = 1, STOP_FAILURES = 2 };

struct host {
	size_t inv_idx;
	const struct inv_host *inv;
	char *label;			/* "agent7 (127.0.0.7)", printable */
	struct sshconn_opts so;
	int is_server, is_agent;

	/* agent, from agent.cfg and the inventory */
	char *cfg_path;
	long agent_id;
	char *key_path, *crt_path;
	long key_uid, key_gid, crt_uid, crt_gid;
	int key_exists, crt_exists;
	struct rfile kf, cf;		/* the key and certificate files */
	long login_uid;			/* whom the SSH login is */
	char *stop_cmd, *start_cmd;	/* operator's shell text */
	char *run_cmd;			/* start, then check it runs */
	char *pem_host;			/* agent.cfg pem_host */
	size_t key_slot;

	/* state while running */
	struct sshconn *conn;
	char *conn_err;			/* why the last connect failed */
	char *known_lines;		/* its known_hosts entries */
	int stopped;			/* stopped by us, not started again */
	int pushed;			/* new files in place, agent started */
	int unreachable;		/* --skip-unreachable left it alone */
	size_t rank;			/* order among the agent-only hosts */
	int done_before;		/* pushed by the run being resumed */
	enum host_status status;
	const char *phase;
	char *error;			/* printable, no secrets */
	double t0, seconds;
};

/* The six server files, in the order they are written. */
enum sfile {
	SF_CA_KEY = 0, SF_CA_CRT, SF_ROOT_CRT, SF_ROOT_CRL, SF_SERVER_KEY,
	SF_SERVER_CRT, SF_COUNT
};

struct server_files {
	char *data_dir;
	long data_uid, data_gid;
	char *path[SF_COUNT];
	int exists[SF_COUNT];
	long uid[SF_COUNT], gid[SF_COUNT];
	struct rfile f[SF_COUNT];	/* path[i] is f[i].path */
	char *old_root_crt, *old_root_crl;	/* public, as found */
	size_t old_root_crt_len, old_root_crl_len;
	struct pki_cert *old_ca;
	struct pki_cert *old_server_cert;
	char *restart_cmd;
	int replaced;			/* renames done: restore on failure */
	int restarted;			/* PostgreSQL restarted on new files */
};

struct run {
	const struct opts *o;
	struct inventory *inv;
	struct host *hosts;
	size_t nhosts;
	struct host *server;		/* the [pem_server] host */
	char *conninfo;
	struct pemdb *db;		/* the connection, kept between uses */
	char *known_hosts, *known_hosts2;
	struct known_hosts *kh;		/* both files, parsed once */
	size_t nlocal_keys;		/* keys the keygen pool makes */
	size_t max_open;		/* sessions kept between phases */
	char *default_key;
	struct run_key *keys;		/* SSH user keys loaded once */
	size_t nkeys;
	char *user;			/* local user: default ansible_user */
	struct pemdb_ssl ssl;
	char *pg_host, *pg_port;	/* where the server's TLS is probed */
	/* how far the database is believed (dbtrust.c) */
	int db_port;			/* the PEM port, from the conninfo */
	struct postmaster *pm;		/* the server's, from its kernel */
	struct pemdb_tls db_tls;	/* given to every connection */
	int db_verify;			/* it verifies the server's cert */
	char *op_rootcert;		/* the operator's sslrootcert */
	char *rootcert;			/* our sslrootcert file, or NULL */
	char *rootcert_pem;		/* the CAs trusted, PEM */
	char *ca_origin;		/* "host:path" of the PEM CA read */
	struct server_files sf;
	struct keygen *kg;		/* CA, server, then agents' keys */
	long ca_slot, server_slot;	/* -1 when not made (resume) */
	struct pki_key *ca_key, *server_key;
	struct pki_cert *ca_cert, *server_cert;
	struct pki_leafmaker *leafmaker;	/* agents' certificates */
	char *ca_pem, *crl_pem;		/* the new CA and its CRL, public */
	char *ca_subject;
	char old_ca_fp[65], new_ca_fp[65];
	char run_id[32];		/* 20261127T071326Z */
	char *suffix;			/* ".pemrotate-<run_id>-<token>" */
	struct rfile_ctx rx;		/* names of the run's files */
	char names_hex[33];		/* rx.secret, for the journal */
	time_t started, finished;
	int exit_code;
	const char *result;		/* "ok", "partial", "rolled_back", ... */
	char *error;			/* run-level error, printable */
	atomic_int stop;		/* STOP_*: start no new host */
	struct journal *journal;
	struct journal_state *resume;	/* the run being resumed, or NULL */
	int forward;			/* resume: server already rotated */
	char *state_dir;
	long *jobs;			/* PEM jobs disabled for the run */
	size_t njobs;
	int locked;			/* holds the server-side lock */
	int nfailed_push;
	pthread_mutex_t mu;		/* guards progress counters */
	size_t done, total;
	const char *progress_phase;
	int tty;
};

/* Run the "rotate" or "resume" command; returns the exit status. */
int run_main(const struct opts *o);
/* With -v, log the process's CPU time so far, after "phase" (profiling). */
void run_cpu_mark(const char *phase);

/* ---- shared by the phase files ---- */

/*
 * The in-memory signer for SSH key file path (loaded at the first call;
 * main thread only), or NULL when libssh2 must read the file itself (not
 * an unencrypted Ed25519 key in OpenSSH's format).
 */
const struct sshconn_signer *run_signer(struct run *r, const char *path);
void run_keys_free(struct run *r);

/* Record a failure on h (printf-like); first error wins. */
void host_fail(struct host *h, const char *phase, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Make sure h has a live connection; 0 or err_code (recorded on h). */
int host_connect(struct run *r, struct host *h);
void host_disconnect(struct host *h);
/* Close h's session if it is beyond --max-open (done with it for now). */
void session_release(struct run *r, struct host *h);
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

/*
 * The PEM database connection, opened when needed and kept: a login costs
 * a SCRAM exchange (thousands of HMACs).  NULL with the reason in *msg
 * (caller frees) if it cannot be had.  run_db_drop closes it (before
 * PostgreSQL restarts).
 */
struct pemdb *run_db(struct run *r, char **msg);
void run_db_drop(struct run *r);

/* setup.c: the run from the options; its first journal records; freeing. */
int setup_run(struct run *r);
int journal_begin(struct run *r);
void free_run(struct run *r);
/* signals.c: SIGINT, SIGTERM, SIGHUP set r->stop (a thread waits). */
int signals_start(struct run *r, pthread_t *t);
void signals_stop(pthread_t t, int started);
/* plan.c: what the run will do; 1 if the operator agrees (or -y). */
void print_plan(const struct run *r, FILE *f);
int confirm(struct run *r);
/* host.c: pending hosts get st; how many hosts have st. */
void mark_all(struct run *r, enum host_status st);
int count_status(const struct run *r, enum host_status st);
/* host.c: an inventory variable of h (NULL or def when unset). */
const char *var(const struct run *r, const struct host *h, const char *name);
char *dupvar(const struct run *r, const struct host *h, const char *name,
    const char *def);
/* host.c: resolve a target file on h (rfile.h); probe its directories. */
int resolve_target(struct run *r, struct host *h, const char *what,
    const char *path, long def_uid, long def_gid, struct rfile *f);
int probe_dirs(struct run *r, struct host *h, struct rfile *const *f,
    size_t n);
/* serverfiles.c: the six paths (from the database's settings); the
 * server host's part of the preflight. */
void server_paths(struct run *r);
int preflight_server(struct run *r, struct host *h);
/* db.c: connect, retrying --retries times. */
int db_connect(struct run *r, struct pemdb **db);
/* stop.c: an agent this run still has to rotate; start h again. */
int needs_push(const struct host *h);
int start_agent(struct run *r, struct host *h);
/* resume.c: the options of the run being resumed, from its journal. */
int resume_opts(struct run *r, struct opts *ro, struct journal_state *st);
/* progress.c: what the run cost (key generation, CPU, memory). */
void progress_cost(struct run *r);

/* Progress (stderr, on a terminal): set up once; a phase of n steps
 * begins; one step is done; the phase ends. */
void progress_init(struct run *r);
void progress_begin(struct run *r, const char *phase, size_t n);
void progress_step(struct run *r);
void progress_end(struct run *r);

/* Run fn(r, i) for every host index, -j at a time, until r->stop. */
void par_for_hosts(struct run *r, void (*fn)(void *, size_t));
/* File name of a server file ("root.crt"). */
const char *sfile_label(enum sfile f);

/* Phases (preflight.c, server.c, agents.c). */
int preflight(struct run *r);
int phase_stop_agents(struct run *r);
int phase_server(struct run *r);
int phase_push_agents(struct run *r);
int phase_finalize(struct run *r);
void restart_stopped_agents(struct run *r);
/* resume.c: decide from the journal and the server how to go on. */
int resume_prepare(struct run *r);
/* server.c, for resume: bring the server back to its original files;
 * make sure it serves the new certificate (restarting it if not). */
int server_restore(struct run *r, int restart);
int server_ensure_serving(struct run *r);
/* preflight.c: read the server's public files again. */
int server_reread(struct run *r);
/* lock.c: the server-side lock; jobs.c: PEM's CA renewal job. */
int lock_acquire(struct run *r);
void lock_release(struct run *r);
void jobs_disable(struct run *r);
void jobs_restore(struct run *r);

/* report.c: the table and summary on stdout, the JSON file. */
void report_table(const struct run *r, FILE *f);
void report_summary(const struct run *r, FILE *f);
int report_json(const struct run *r, const char *path, char *err,
    size_t errlen);
char *report_json_text(const struct run *r);
/* The table or summary, the JSON file (--report), the run's last word. */
void report_end(struct run *r);

#endif
