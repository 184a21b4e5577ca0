/*
 * runtypes.h: the data of a run: the hosts it works on, the server's
 * files, the run itself.  Types only; every orchestrator file may include
 * it.  A struct run is made by setup.c and freed by setup_free(); the
 * main thread owns it, except that a par_for worker owns the host it
 * works on (its SSH session included) for the duration of a step, and
 * r->mu guards the counters workers share.
 */
#ifndef PEMROTATE_RUNTYPES_H
#define PEMROTATE_RUNTYPES_H

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
struct access;
struct host_access;

enum host_status { HS_PENDING = 0, HS_OK, HS_FAILED, HS_SKIPPED };

struct pki_ed25519;

/* An SSH user key file, and its signer when it could be loaded. */
struct run_key {
	char *path;
	struct pki_ed25519 *key;	/* NULL: libssh2 reads the file */
	struct sshconn_signer signer;
};

/*
 * How a run ended: the name the report and the journal print, and the
 * exit status (options.c documents them: 0 done, 1 agents left for
 * resume, 2 nothing changed, 3 the server rotation failed).  The one
 * table; RUN_FAILED is where a run starts.
 */
#define RUN_RESULTS(X) \
	X(RUN_FAILED,		"failed",		3) \
	X(RUN_OK,		"ok",			0) \
	X(RUN_PARTIAL,		"partial",		1) \
	X(RUN_INTERRUPTED,	"interrupted",		1) \
	X(RUN_INTERRUPTED_EARLY, "interrupted",		2) \
	X(RUN_DRY_RUN,		"dry_run",		0) \
	X(RUN_CANCELLED,	"cancelled",		2) \
	X(RUN_PREFLIGHT_FAILED,	"preflight_failed",	2) \
	X(RUN_ROLLED_BACK,	"rolled_back",		3) \
	X(RUN_ROLLBACK_FAILED,	"rollback_failed",	3)

#define RUN_RESULT_ENUM(e, name, status)	e,
enum run_result { RUN_RESULTS(RUN_RESULT_ENUM) RUN_RESULT_COUNT };
#undef RUN_RESULT_ENUM

struct run_result_info {
	const char *name;
	int exit_status;
};

static inline const struct run_result_info *
run_result_info(enum run_result res)
{
#define RUN_RESULT_INFO(e, name, status)	[e] = { name, status },
	static const struct run_result_info info[] = {
		RUN_RESULTS(RUN_RESULT_INFO)
	};
#undef RUN_RESULT_INFO
	return &info[res < RUN_RESULT_COUNT ? res : RUN_FAILED];
}

/* Why no new host is started. */
enum { STOP_NONE = 0, STOP_SIGNAL = 1, STOP_FAILURES = 2 };

struct host {
	size_t inv_idx;
	const struct inv_host *inv;
	char *label;			/* "agent7 (127.0.0.7)", printable */
	struct sshconn_opts so;
	struct host_access *ax;		/* how it is reached (access.c) */
	const struct known_hosts *kh;	/* its known_hosts files, parsed */
	int is_server, is_agent;

	/* agent, from agent.cfg (or postgres-reg.ini) and the inventory */
	char *cfg_path;			/* the file read, once read */
	int cfg_kind;			/* enum agentcfg_kind: which it was */
	int cfg_inventory;		/* not read: the inventory said all */
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
	int read_only;			/* status: no key made, no file
					   written, not even a probe */
	long *active_ids;		/* read_only: pem.agent's active ids,
					   sorted, for the command to judge */
	size_t nactive;
	struct inventory *inv;
	struct host *hosts;
	size_t nhosts;
	struct host *server;		/* the [pem_server] host */
	char *conninfo;
	struct pemdb *db;		/* the connection, kept between uses */
	struct access *ax;		/* ssh config, jump hosts, sudo */
	size_t nlocal_keys;		/* keys the keygen pool makes */
	size_t max_open;		/* sessions kept between phases */
	struct run_key **keys;		/* SSH user keys loaded once */
	size_t nkeys;
	char *user;			/* local user: default ansible_user */
	struct pemdb_ssl ssl;
	char *pg_host, *pg_port;	/* where the server's TLS is probed */
	char *probe_host, *probe_port;	/* the tunnel's end, when there is
					   one: where the probe connects */
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
	enum run_result result;
	char *error;			/* run-level error, printable */
	atomic_int stop;		/* STOP_*: start no new host */
	struct journal *journal;
	struct journal_state *resume;	/* the run being resumed, or NULL */
	/*
	 * A day-two command (revoke, finalize, agents): no CA or server key
	 * is made, and an agent gets a new key only if agent_wanted says so
	 * (NULL: none does).
	 */
	int day_two;
	int (*agent_wanted)(const struct run *r, const struct inv_host *ih);
	int forward;			/* resume: server already rotated */
	char *state_dir;
	long *jobs;			/* PEM jobs disabled for the run */
	size_t njobs;
	int locked;			/* holds the server-side lock */
	/* a command other than rotate: what it does after the preflight
	 * (run_main_act), and its own data */
	int (*act)(struct run *r);
	void *act_data;
	int nfailed_push;
	pthread_mutex_t mu;		/* guards progress counters */
	size_t done, total;
	const char *progress_phase;
	int tty;
};

#endif
