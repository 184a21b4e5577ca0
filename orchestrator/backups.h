/*
 * backups.h: the backup sets rotations leave on the hosts -- each
 * replaced file kept as <file>.pemrotate-<run id>-<token> next to it --
 * found by listing the targets' directories, shown, pruned (old keys
 * overwritten before removal), or put back (rollback).  Main thread,
 * after the preflight.
 */
#ifndef PEMROTATE_BACKUPS_H
#define PEMROTATE_BACKUPS_H

#include "runtypes.h"

/* One backup file on one host. */
struct bk_file {
	struct host *h;
	struct rfile *f;	/* the target it backs up */
	int is_key;		/* it holds a private key */
	char *path;
	unsigned long long mtime;
	long nlink;		/* -1: not known */
};

/* The files one run kept, on every host. */
struct bk_set {
	char *run_id;
	time_t when;
	int from_journal;	/* when: the run's journal, else the files */
	struct bk_file *files;
	size_t nfiles;
	int ca_known;		/* the server's ca_certificate.crt, read */
	char ca_subject[256], ca_serial[80], ca_fp[65];
};

struct bk_list {
	struct bk_set *sets;	/* oldest first (run ids sort by time) */
	size_t n;
};

/*
 * Every host's backup sets (a host that cannot be listed is failed);
 * the CA of each set's server files read.  0, or -1 when a host failed.
 */
int backups_scan(struct run *r, struct bk_list *l);
void backups_print(const struct bk_list *l, FILE *f);
/* The set of run_id, or NULL. */
const struct bk_set *backups_find(const struct bk_list *l,
    const char *run_id);
/*
 * Remove all but the newest keep (>= 1) sets on each host, key files
 * overwritten first; r->result says how it went.
 */
void backups_prune(struct run *r, const struct bk_list *l, int keep);
/*
 * Put set s's server files back and apply them (server_restore), and
 * with agents each agent's files of s (stopped, put back, started);
 * r->result says how it went.
 */
void backups_rollback(struct run *r, const struct bk_set *s, int agents);
void backups_free(struct bk_list *l);

#endif
