/*
 * rfile.h: the one way pemrotate touches a file on a host.
 *
 * Every remote file operation on a target -- reading what is there,
 * writing a new file, keeping the original, putting it back, making a key
 * on the host -- goes through here, over SFTP, never through cp, ln, mv or
 * chown in a shell.  Two rules keep a host's lesser users from steering
 * what root does:
 *
 *  - Who acts.  At the preflight every directory on the way to the file
 *    is looked at (symbolic links followed by hand, each link's directory
 *    looked at too).  When no one but root can write any of them, root
 *    acts.  When one other user can (the PEM server's data directory
 *    belongs to postgres, an agent's certificate directory may belong to
 *    the agent's user) and that user owns the file, the operations run as
 *    that user, through an SFTP server started under setpriv: whatever
 *    that user redirects, it can only redirect to what it could write
 *    itself.  Anything else (a directory another user or a group can
 *    write, a file owned by someone else) is refused, unless the operator
 *    allows shared directories.
 *  - How.  New names are unpredictable (derived from a secret of the run
 *    that only the controller's journal holds) and created O_EXCL; the
 *    original is kept by link(2) and the new file put in place by
 *    rename(2), neither of which follows a symbolic link; owners are set
 *    on open handles, never through a name.
 */
#ifndef PEMROTATE_RFILE_H
#define PEMROTATE_RFILE_H

#include <stddef.h>

struct sshconn;

/* What every file of a run shares. */
struct rfile_ctx {
	unsigned char secret[16];	/* the names nobody can predict */
	const char *run_id;
	int allow_shared;		/* --allow-shared-dirs */
};

/* One target file, as the preflight found it. */
struct rfile {
	char *path;		/* resolved: no symbolic link on the way */
	char *tmp;		/* DIR/.BASE.pemrotate-TOKEN: the new file */
	char *bak;		/* PATH.pemrotate-RUN-TOKEN: the original */
	char *rtmp;		/* DIR/.BASE.pemrotate-TOKEN: restore's link */
	char *keydir;		/* DIR/.pemrotate-TOKEN: --keygen remote */
	int exists;		/* a regular file was there */
	long uid, gid;		/* its owner, or the owner a new one gets */
	unsigned long mode;	/* its mode (0 if it does not exist) */
	long act_uid;		/* whom its operations run as (0: root) */
	char *via;		/* command starting an SFTP server as act_uid;
				   NULL: the login user's (root's) */
	char *shared;		/* why it is unsafe, when allowed anyway */
};

/*
 * Resolve path on c's host (metadata only, as the login user) and decide
 * who acts on it (see above).  def_uid/def_gid: the owner of a file that
 * does not exist yet (-1: its directory's owner).  sftp_server: the path
 * of OpenSSH's sftp-server there (NULL: the usual places).  0, or
 * ERR_UNSAFE (or another ERR_*) with the reason in *why (caller frees).
 */
int rfile_resolve(struct sshconn *c, const struct rfile_ctx *x,
    const char *path, long def_uid, long def_gid, const char *sftp_server,
    struct rfile *f, char **why);
void rfile_clear(struct rfile *f);

/* Send c's next SFTP operations to f's user. */
void rfile_use(struct sshconn *c, const struct rfile *f);

/* The command line that runs the shell script as f's user (caller frees). */
char *rfile_sh(const struct rfile *f, const char *script);

/*
 * A directory's file of the run that nobody can predict:
 * DIR/.pemrotate-<what>-TOKEN (caller frees).
 */
char *rfile_dir_name(const struct rfile_ctx *x, const char *dir,
    const char *what);

/*
 * The backup name of the file at path (resolved: no symbolic link on the
 * way), as rfile_resolve gives it in f->bak (caller frees).
 */
char *rfile_bak_name(const struct rfile_ctx *x, const char *path);

struct rfile_new {
	struct rfile *f;
	const void *buf;	/* the new content (written to f->tmp), */
	size_t len;
	const char *from;	/* or a file already made on the host */
};

/*
 * Put n new files in place on c's host: each written to its tmp (0600 from
 * creation, O_EXCL, owner set on the handle) unless it is from a file
 * already there, the original kept as its bak by link(2) (a bak already
 * there, from an earlier try of this run, is kept), then renamed over its
 * path with rename(2).  Files are grouped by who acts on them.  On failure
 * the temporary files are removed; files already renamed stay (undo them
 * with rfile_restore).  0 or an ERR_* with *why (caller frees).
 */
int rfile_put(struct sshconn *c, const struct rfile_new *nf, size_t n,
    char **why);

/*
 * Put the originals back: each bak linked to rtmp and renamed over path
 * (the backup stays); a file that did not exist before is removed; a file
 * with no backup was never replaced and stays.  Temporary files of the run
 * are removed.  0 or an ERR_* with *why.
 */
int rfile_restore(struct sshconn *c, struct rfile *const *f, size_t n,
    char **why);

/* Remove f's temporary files, whatever is there under those names. */
void rfile_drop_tmps(struct sshconn *c, struct rfile *const *f, size_t n);

/*
 * A file of the run nobody can predict (DIR/.pemrotate-probe-TOKEN) is
 * created in f's directory and removed, as f's user: the directory takes a
 * new file.  0 or an ERR_* with *why.
 */
int rfile_probe(struct sshconn *c, const struct rfile_ctx *x,
    const struct rfile *f, char **why);

/*
 * The same from metadata only, creating nothing (a run that changes
 * nothing): f's directory, as f's user sees it, takes a new file.
 */
int rfile_check_dir(struct sshconn *c, const struct rfile *f, char **why);

/*
 * Read a whole file of at most max bytes as f's user (sftp_read_file:
 * with secret set the caller releases *buf with secret_free).
 */
int rfile_read(struct sshconn *c, const struct rfile *f, size_t max,
    int secret, char **buf, size_t *len);

/*
 * Read the first len bytes of f (fewer if it is shorter) as f's user,
 * into buf; *got says how many.  For a look at what a file is.
 */
int rfile_read_head(struct sshconn *c, const struct rfile *f, char *buf,
    size_t len, size_t *got);

/*
 * The entries of f's directory, listed as f's user (sftp_readdir; free
 * with sftp_dirents_free).
 */
struct sftp_dirent;
int rfile_list_dir(struct sshconn *c, const struct rfile *f,
    struct sftp_dirent **ents, size_t *n);

/*
 * Remove path, a file of f's directory (a backup of f), as f's user;
 * with zero set its content is first overwritten with zeros over its
 * length and synced (an old private key: only ever when path is its
 * content's one link, else the live file would go too).  Never through a
 * shell.  0 or an ERR_* with *why (caller frees).
 */
int rfile_wipe(struct sshconn *c, const struct rfile *f, const char *path,
    int zero, char **why);

/*
 * Read a whole file of at most max bytes at path, in f's directory (a
 * backup of f), as f's user (rfile_read's rules).
 */
int rfile_read_at(struct sshconn *c, const struct rfile *f, const char *path,
    size_t max, int secret, char **buf, size_t *len);

#endif
