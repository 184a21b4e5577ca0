/*
 * sshconn.h: one SSH connection to one host, over libssh2.
 *
 * A struct sshconn belongs to one thread at a time.  Every call is bounded
 * by the connection's timeout (each call gets the whole timeout).  On
 * failure a call returns a negative err_code and leaves a one-line
 * description in sshconn_errmsg(); text that came from the remote host is
 * escaped there.  Only transport/ includes libssh2.
 */
#ifndef PEMROTATE_SSHCONN_H
#define PEMROTATE_SSHCONN_H

#include <stddef.h>
#include <sys/types.h>

struct sshconn;

/*
 * A user key loaded once for the whole run: its public key blob and a
 * signing function (supplied by the caller, who holds the private half).
 * Each login then signs in memory instead of libssh2 reading and decoding
 * the key file again for every host.
 */
typedef int sshconn_sign_fn(void *ctx, const unsigned char *data,
    size_t len, unsigned char sig[64]);

struct sshconn_signer {
	unsigned char *pubblob;		/* "ssh-ed25519" public key blob */
	size_t publen;
	sshconn_sign_fn *sign;		/* raw 64-byte Ed25519 signature */
	void *ctx;
};

/*
 * Read an unencrypted OpenSSH ("openssh-key-v1") Ed25519 private key file:
 * the 32-byte seed into seed (the caller wipes it) and the public key blob
 * into *pubblob (caller frees).  ERR_INVAL for another type or an
 * encrypted key, ERR_PARSE if malformed, ERR_IO if unreadable.
 */
int sshconn_read_ed25519(const char *path, unsigned char seed[32],
    unsigned char **pubblob, size_t *publen);

struct sshconn_opts {
	const char *host;		/* address or name to connect to */
	int port;			/* 22 */
	const char *user;		/* login name */
	const char *key_file;		/* private key; NULL: agent only */
	const struct sshconn_signer *signer; /* key_file loaded, or NULL */
	const char *known_hosts;	/* known_hosts file, required */
	const char *known_hosts2;	/* a second one (system), or NULL */
	const char *known_lines;	/* this host's entries (plain lines,
					   from knownhosts.h), used instead
					   of reading the files; may be "" */
	int use_agent;			/* try ssh-agent (SSH_AUTH_SOCK) first */
	int accept_new;			/* unknown host: trust and record key */
	int timeout_ms;			/* per call; 0 means 30000 */
};

/* Call once from main before any thread opens a connection. */
int sshconn_global_init(void);
void sshconn_global_cleanup(void);

/*
 * Connect, verify the host key against known_hosts (host key algorithms
 * are offered in the order of what known_hosts holds for this host, so a
 * host is never asked for a key type we cannot check), authenticate.
 * Returns 0, or ERR_NET, ERR_TIMEOUT, ERR_HOSTKEY_UNKNOWN,
 * ERR_HOSTKEY_CHANGED, ERR_AUTH, ERR_SSH.  *out is set whenever memory
 * allows, also on failure, so the caller can read sshconn_errmsg(); the
 * caller frees it with sshconn_close().
 */
int sshconn_open(const struct sshconn_opts *opts, struct sshconn **out);

/* One line describing the last failure ("" if none). */
const char *sshconn_errmsg(const struct sshconn *c);
/* "SHA256:base64" of the server's host key, "" before the handshake. */
const char *sshconn_hostkey_fp(const struct sshconn *c);
/* 1 if this connection recorded a new host key in known_hosts. */
int sshconn_recorded_new_key(const struct sshconn *c);

struct sshconn_result {
	int exit_status;	/* -1 if the command died by a signal */
	char *out;		/* stdout, NUL-terminated, at most max bytes */
	char *err;		/* stderr, likewise */
	size_t out_len, err_len;
	int truncated;		/* output was longer than max */
};

/*
 * Run cmd (a shell command line: the caller quotes every value in it)
 * and collect its output, at most max bytes of each stream (0: 64 KiB).
 * timeout_ms overrides the connection's timeout when > 0.  Returns 0 when
 * the command ran (whatever its exit status), else an err_code.
 */
int sshconn_exec(struct sshconn *c, const char *cmd, size_t max,
    int timeout_ms, struct sshconn_result *res);
void sshconn_result_clear(struct sshconn_result *res);

/*
 * The SFTP server the file functions below use from now on: cmd NULL is
 * the session's "sftp" subsystem (the login user); otherwise cmd is a
 * command line (the caller quotes it) that starts an SFTP server on its
 * stdin and stdout, e.g. as another user.  Each is started on first use
 * and kept (a few at a time) for the connection's life.
 */
int sshconn_sftp_as(struct sshconn *c, const char *cmd);

struct sshconn_stat {
	unsigned long uid, gid;
	unsigned long mode;	/* permission bits and file type */
	unsigned long long size;
	int is_dir, is_reg, is_lnk;
	int owner_known;	/* uid, gid and mode were all given */
};

/* stat over SFTP (follows links).  ERR_NOTFOUND if it does not exist. */
int sshconn_stat(struct sshconn *c, const char *path, struct sshconn_stat *st);
/*
 * stat of paths[0..n) in one round trip: 0 when the server answered, each
 * path's result in rcs[i] (0, ERR_NOTFOUND, ...) and st[i]; the message of
 * the first failing path in sshconn_errmsg().
 */
int sshconn_stat_many(struct sshconn *c, const char *const *paths, size_t n,
    struct sshconn_stat *st, int *rcs);

/* lstat over SFTP (a symbolic link is not followed), one and many. */
int sshconn_lstat(struct sshconn *c, const char *path,
    struct sshconn_stat *st);
int sshconn_lstat_many(struct sshconn *c, const char *const *paths, size_t n,
    struct sshconn_stat *st, int *rcs);
/* The target of a symbolic link, as stored (caller frees). */
int sshconn_readlink(struct sshconn *c, const char *path, char **target);
/* Make a directory (must not exist) with mode; remove an empty one. */
int sshconn_mkdir(struct sshconn *c, const char *path, unsigned long mode);
int sshconn_rmdir(struct sshconn *c, const char *path);
/*
 * Set the owner of an existing file on an open handle (OPEN for reading,
 * FSETSTAT, CLOSE), never through its name.
 */
int sshconn_chown_handle(struct sshconn *c, const char *path, long uid,
    long gid);
/*
 * The SFTPW_EXT_* extensions (transport/sftpwire.h) of the current SFTP
 * server in *ext, starting it if needed.
 */
int sshconn_sftp_ext(struct sshconn *c, unsigned *ext);

/*
 * Read a whole regular file of at most max bytes over SFTP into a new
 * NUL-terminated buffer.  ERR_TOOBIG if larger.  If secret is non-zero the
 * buffer is secret_alloc(max + 1) (never grown, so never copied), which
 * the caller releases with secret_free(*buf); the transport wipes its own
 * intermediate buffers either way.
 */
int sshconn_read_file(struct sshconn *c, const char *path, size_t max,
    int secret, char **buf, size_t *len);

/*
 * Create path, which must not exist, with mode (e.g. 0600) from the first
 * byte (O_CREAT|O_EXCL), set its owner to uid/gid if uid != (uid_t)-1,
 * write buf, fsync if the server supports it, close.  On any failure the
 * partial file is removed.  ERR_EXISTS if path exists.
 */
int sshconn_write_new(struct sshconn *c, const char *path, const void *buf,
    size_t len, unsigned long mode, long uid, long gid);

struct sshconn_newfile {
	const char *path;
	const void *buf;
	size_t len;
	unsigned long mode;
	long uid, gid;		/* uid < 0: the owner is not set */
	int replace;		/* one already there (an earlier, killed
				 * try's) is removed and made anew */
};
/*
 * sshconn_write_new for files[0..n) in two round trips for all; if one
 * fails, none is left (every file created here is removed again).
 */
int sshconn_write_new_many(struct sshconn *c, const struct sshconn_newfile *f,
    size_t n);

/*
 * Create path (must not exist, 0600) and remove it again: the directory
 * takes a new file.  Two round trips.
 */
int sshconn_try_create(struct sshconn *c, const char *path);

/*
 * Read at most len (<= 32 KiB) bytes from the start of path into buf; *got
 * says how many (one READ: fewer than a file holds only at its end).  The
 * transport wipes its copies (buf may hold a secret's first bytes).
 */
int sshconn_read_head(struct sshconn *c, const char *path, char *buf,
    size_t len, size_t *got);

/* 0 if path can be opened for reading (nothing is read). */
int sshconn_check_readable(struct sshconn *c, const char *path);

/* Remove a file over SFTP; ERR_NOTFOUND if absent. */
int sshconn_unlink(struct sshconn *c, const char *path);

/*
 * Rename from to to over SFTP, which must not exist: version 3 renames
 * never replace (OpenSSH's server links, then unlinks), so a name that
 * exists fails, and no file is ever lost or half-replaced.
 */
int sshconn_rename(struct sshconn *c, const char *from, const char *to);
/*
 * from[i] to to[i] for i in [0, n), sent together and done by the server
 * in order, each whether or not the one before worked: 0 when the server
 * answered, each result in rcs[i]; the first failure's message kept.
 */
int sshconn_rename_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs);
/*
 * Like sshconn_rename_many with posix-rename@openssh.com: rename(2), which
 * replaces to[i] atomically and follows no symbolic link at either name.
 */
int sshconn_replace_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs);
/*
 * Hard link to[i] to the file from[i] (hardlink@openssh.com: link(2),
 * which follows no symbolic link and fails when to[i] exists).
 */
int sshconn_link_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs);

/* Close and free; accepts NULL. */
void sshconn_close(struct sshconn *c);

#endif
