/*
 * journal.h: what a run has done, on the local disk, so that an
 * interrupted or partial run can be finished by "pemrotate resume".
 *
 * One text file per run, <state dir>/<run id>.journal, one record a line:
 * "KEY<TAB>VALUE".  Appended with write(2) (a SIGKILL loses nothing
 * written), synced at phase boundaries and after each "pushed" record (a
 * crash of the machine loses no agent's push); its directory is synced
 * when it is created.  It holds no secret: options (the connection string
 * without its password), host names, fingerprints of public certificates,
 * phases reached.
 */
#ifndef PEMROTATE_JOURNAL_H
#define PEMROTATE_JOURNAL_H

#include <stddef.h>

/*
 * The records' keys: the journal's format, read back by resume and by
 * journal_find, so never renamed.  In the order a run writes them.
 */
#define JK_RUN		"run"
#define JK_NAMES	"names"
#define JK_COMMAND	"command"	/* a day-two command's name; none:
					   a rotation */
#define JK_INVENTORY	"inventory"	/* once per -i source, in order */
#define JK_PEM_DB	"pem_db"
#define JK_KNOWN_HOSTS	"known_hosts"
#define JK_SSH_KEY	"ssh_key"
#define JK_SSH_CONFIG	"ssh_config"
#define JK_KEY_TYPE	"key_type"
#define JK_DAYS		"days"
#define JK_NO_OVERLAP	"no_overlap"
#define JK_KEYGEN_REMOTE	"keygen_remote"
#define JK_CA_SUBJECT	"ca_subject"
#define JK_OLD_CA	"old_ca"
#define JK_NEW_CA	"new_ca"
#define JK_SERVER	"server"
#define JK_STOPPED	"stopped"
#define JK_STARTED	"started"
#define JK_PUSHED	"pushed"
#define JK_JOB_DISABLED	"job_disabled"
#define JK_JOB_ENABLED	"job_enabled"
#define JK_RESUMED	"resumed"
#define JK_FINALIZED	"finalized"
#define JK_RESULT	"result"
#define JK_EXIT		"exit"

/* Values of "server" records: how far the server's rotation got. */
#define JV_SERVER_INSTALLING	"installing"
#define JV_SERVER_INSTALLED	"installed"
#define JV_SERVER_DONE		"done"
#define JV_SERVER_ROLLED_BACK	"rolled back"
#define JV_SERVER_ROLLBACK_FAILED "rollback failed"

struct journal;

/*
 * Make dir and its parents (0700), each synced into its parent: the state
 * directory.  0 or -1 with errno.
 */
int journal_mkdirs(const char *dir);

/*
 * Create DIR (0700, parents too) and DIR/RUN_ID.journal (0600, new).
 * ERR_IO with the reason in *msg (caller frees; NULL on success).
 */
int journal_create(const char *dir, const char *run_id,
    struct journal **out, char **msg);
/* Open an existing journal to append to it (resume); likewise. */
int journal_reopen(const char *path, struct journal **out, char **msg);
/* Append "key\tvalue\n"; a value with a control character is cut there. */
void journal_add(struct journal *j, const char *key, const char *value);
void journal_addf(struct journal *j, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void journal_sync(struct journal *j);
const char *journal_path(const struct journal *j);
void journal_close(struct journal *j);

/* A journal read back. */
struct journal_state {
	char *path;
	char *run_id;
	char **keys, **values;		/* every record, in order */
	size_t n;
};

/* ERR_IO or ERR_PARSE with the reason in *msg (caller frees). */
int journal_load(const char *path, struct journal_state *st, char **msg);
/* The last value of key, or NULL. */
const char *journal_get(const struct journal_state *st, const char *key);
/* 1 if a record key\tvalue exists. */
int journal_has(const struct journal_state *st, const char *key,
    const char *value);
void journal_state_clear(struct journal_state *st);

/*
 * The path of run RUN_ID's journal in dir, or (run_id NULL) of the newest
 * journal whose run did not end with a final result.  NULL if none.
 */
char *journal_find(const char *dir, const char *run_id);

/* The default state directory: $XDG_STATE_HOME/pemrotate or
 * ~/.local/state/pemrotate.  Caller frees. */
char *journal_default_dir(void);

#endif
