/*
 * sftp.h: files on the host of an SSH connection, over SFTP version 3.
 *
 * The handle is the struct sshconn itself: the connection owns its SFTP
 * servers (they run on channels of its session, are started on first use
 * and end with sshconn_close), so a caller holds one object per host, and
 * a failure leaves its one-line message in sshconn_errmsg(), as every
 * sshconn call does.  The rules of sshconn.h hold: one thread at a time
 * per connection; each call gets the connection's whole timeout and
 * returns 0 or a negative err_code; text from the host is escaped in the
 * message.  The requests of a call that do not wait on an answer are sent
 * together (transport/sftpch.h).
 */
#ifndef PEMROTATE_SFTP_H
#define PEMROTATE_SFTP_H

#include <stddef.h>

#include "transport/sftpwire.h"		/* struct sftp_stat, SFTPW_EXT_* */

struct sshconn;

/*
 * The SFTP server the file functions below use from now on: cmd NULL is
 * the session's "sftp" subsystem (the login user); otherwise cmd is a
 * command line (the caller quotes it) that starts an SFTP server on its
 * stdin and stdout, e.g. as another user.  Each is started on first use
 * and kept (a few at a time) for the connection's life.
 */
int sftp_as(struct sshconn *c, const char *cmd);

/*
 * The preflight of a become (sshconn_set_become): the SFTP server chosen
 * is started through sudo, if it is not running yet, and that first sudo
 * must print the target user's uid (0 for root) -- one sudo, the one the
 * file functions need anyway.  Returns 0, or ERR_BECOME (sudo refused and
 * why: the login user may not use sudo, sudo needs a password and none
 * was given, the password is wrong, ...; or it ran as another uid),
 * ERR_NOTFOUND (no sftp-server found on the host), ERR_INVAL when no
 * become is set, or what starting a server returns.  On failure *msg is a
 * copy of the message (the caller frees it), else NULL.
 */
int sftp_become_check(struct sshconn *c, char **msg);

/* stat over SFTP (follows links).  ERR_NOTFOUND if it does not exist. */
int sftp_stat(struct sshconn *c, const char *path, struct sftp_stat *st);
/*
 * stat of paths[0..n) in one round trip: 0 when the server answered, each
 * path's result in rcs[i] (0, ERR_NOTFOUND, ...) and st[i]; the message of
 * the first failing path in sshconn_errmsg().
 */
int sftp_stat_many(struct sshconn *c, const char *const *paths, size_t n,
    struct sftp_stat *st, int *rcs);

/* lstat over SFTP (a symbolic link is not followed), one and many. */
int sftp_lstat(struct sshconn *c, const char *path, struct sftp_stat *st);
int sftp_lstat_many(struct sshconn *c, const char *const *paths, size_t n,
    struct sftp_stat *st, int *rcs);
/* The target of a symbolic link, as stored (caller frees). */
int sftp_readlink(struct sshconn *c, const char *path, char **target);
/* Make a directory (must not exist) with mode; remove an empty one. */
int sftp_mkdir(struct sshconn *c, const char *path, unsigned long mode);
int sftp_rmdir(struct sshconn *c, const char *path);
/*
 * Set the owner of an existing file on an open handle (OPEN for reading,
 * FSETSTAT, CLOSE), never through its name.
 */
int sftp_chown_handle(struct sshconn *c, const char *path, long uid,
    long gid);
/*
 * The SFTPW_EXT_* extensions (transport/sftpwire.h) of the current SFTP
 * server in *ext, starting it if needed.
 */
int sftp_ext(struct sshconn *c, unsigned *ext);

/*
 * Read a whole regular file of at most max bytes over SFTP into a new
 * NUL-terminated buffer.  ERR_TOOBIG if larger.  If secret is non-zero the
 * buffer is secret_alloc(max + 1) (never grown, so never copied), which
 * the caller releases with secret_free(*buf); the transport wipes its own
 * intermediate buffers either way.
 */
int sftp_read_file(struct sshconn *c, const char *path, size_t max,
    int secret, char **buf, size_t *len);

/*
 * Create path, which must not exist, with mode (e.g. 0600) from the first
 * byte (O_CREAT|O_EXCL), set its owner to uid/gid if uid != (uid_t)-1,
 * write buf, fsync if the server supports it, close.  On any failure the
 * partial file is removed.  ERR_EXISTS if path exists.
 */
int sftp_write_new(struct sshconn *c, const char *path, const void *buf,
    size_t len, unsigned long mode, long uid, long gid);

struct sftp_newfile {
	const char *path;
	const void *buf;
	size_t len;
	unsigned long mode;
	long uid, gid;		/* uid < 0: the owner is not set */
	int replace;		/* one already there (an earlier, killed
				 * try's) is removed and made anew */
};
/*
 * sftp_write_new for files[0..n) in two round trips for all; if one
 * fails, none is left (every file created here is removed again).
 */
int sftp_write_new_many(struct sshconn *c, const struct sftp_newfile *f,
    size_t n);

/*
 * Create path (must not exist, 0600) and remove it again: the directory
 * takes a new file.  Two round trips.
 */
int sftp_try_create(struct sshconn *c, const char *path);

/*
 * Read at most len (<= 32 KiB) bytes from the start of path into buf; *got
 * says how many (one READ: fewer than a file holds only at its end).  The
 * transport wipes its copies (buf may hold a secret's first bytes).
 */
int sftp_read_head(struct sshconn *c, const char *path, char *buf,
    size_t len, size_t *got);

/* 0 if path can be opened for reading (nothing is read). */
int sftp_check_readable(struct sshconn *c, const char *path);

/* One entry of a directory: its name and what READDIR said of it. */
struct sftp_dirent {
	char *name;
	struct sftp_stat st;	/* lstat-like; mtime when given */
	long nlink;		/* from the long form; -1 unknown */
};
/*
 * The entries of the directory path (OPENDIR, READDIR until the end,
 * CLOSE), "." and ".." left out, names with a NUL or '/' refused as a
 * malformed reply; at most max entries (ERR_TOOBIG beyond).  *ents is
 * freed with sftp_dirents_free.
 */
int sftp_readdir(struct sshconn *c, const char *path, size_t max,
    struct sftp_dirent **ents, size_t *n);
void sftp_dirents_free(struct sftp_dirent *ents, size_t n);

/*
 * Overwrite the existing regular file path with zeros over its whole
 * length (OPEN for writing without creating or truncating, FSTAT,
 * WRITEs, fsync if the server supports it, CLOSE).  ERR_INVAL if it is
 * not a regular file or is larger than max bytes.  It is not removed.
 */
int sftp_zero_file(struct sshconn *c, const char *path, size_t max);

/* Remove a file over SFTP; ERR_NOTFOUND if absent. */
int sftp_unlink(struct sshconn *c, const char *path);

/*
 * Rename from to to over SFTP, which must not exist: version 3 renames
 * never replace (OpenSSH's server links, then unlinks), so a name that
 * exists fails, and no file is ever lost or half-replaced.
 */
int sftp_rename(struct sshconn *c, const char *from, const char *to);
/*
 * from[i] to to[i] for i in [0, n), sent together and done by the server
 * in order, each whether or not the one before worked: 0 when the server
 * answered, each result in rcs[i]; the first failure's message kept.
 */
int sftp_rename_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs);
/*
 * Like sftp_rename_many with posix-rename@openssh.com: rename(2), which
 * replaces to[i] atomically and follows no symbolic link at either name.
 */
int sftp_replace_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs);
/*
 * Hard link to[i] to the file from[i] (hardlink@openssh.com: link(2),
 * which follows no symbolic link and fails when to[i] exists).
 */
int sftp_link_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs);

#endif
