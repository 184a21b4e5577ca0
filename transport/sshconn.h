/*
 * sshconn.h: one SSH connection to one host, over libssh2.
 *
 * A struct sshconn belongs to one thread at a time.  Every call is bounded
 * by the connection's timeout (each call gets the whole timeout).  On
 * failure a call returns a negative err_code and leaves a one-line
 * description in sshconn_errmsg(); text that came from the remote host is
 * escaped there.  Only transport/ includes libssh2.  Files on the host, over
 * SFTP on the same connection: transport/sftp.h.
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

/*
 * A connected stream to host:port made another way than a TCP connection
 * of our own (a channel through a jump host: jump_connect in
 * transport/jump.h), within deadline (a now_ms() value): the socket,
 * non-blocking and close-on-exec, which the connection then owns, or a
 * negative err_code with a message in *msg (heap, the caller frees it).
 * Called once per sshconn_open, so a retry gets a new stream.
 */
typedef int sshconn_stream_fn(void *arg, const char *host, int port,
    long long deadline, char **msg);

/* A user key to log in with: a file, and its signer when it is loaded. */
struct sshconn_key {
	const char *file;
	const struct sshconn_signer *signer;	/* or NULL: libssh2 reads
						   the file */
};

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
	int use_agent;			/* ssh-agent (SSH_AUTH_SOCK) first */
	const struct sshconn_key *keys;	/* tried in order after ssh-agent,
					   instead of key_file and signer */
	size_t nkeys;
	int accept_new;			/* unknown host: trust and record key */
	int timeout_ms;			/* per call; 0 means 30000 */
	int connect_timeout_ms;		/* connect and key exchange
					   (ConnectTimeout); 0: timeout_ms */
	int alive_interval_s;		/* a keepalive after this many
					   seconds of silence while waiting
					   (ServerAliveInterval); 0: none */
	sshconn_stream_fn *stream;	/* NULL: TCP to host:port; else the
					   stream it makes, host and port
					   still the names for known_hosts
					   (as OpenSSH's ProxyJump) */
	void *stream_arg;		/* stream's first argument */
};

/* Call once from main before any thread opens a connection. */
int sshconn_global_init(void);
void sshconn_global_cleanup(void);

/*
 * Connect, verify the host key against known_hosts (host key algorithms
 * are offered in the order of what known_hosts holds for this host, so a
 * host is never asked for a key type we cannot check), authenticate.
 * Returns 0, or ERR_NET, ERR_TIMEOUT, ERR_HOSTKEY_UNKNOWN (also for a
 * host known only through @cert-authority), ERR_HOSTKEY_CHANGED,
 * ERR_HOSTKEY_REVOKED, ERR_AUTH, ERR_SSH.  *out is set whenever memory
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
 * the command ran (whatever its exit status), else an err_code.  With a
 * become set (below), cmd runs through sudo: ERR_BECOME when sudo did not
 * run it (the message says why), and its stdin is at end of file.
 */
int sshconn_exec(struct sshconn *c, const char *cmd, size_t max,
    int timeout_ms, struct sshconn_result *res);
void sshconn_result_clear(struct sshconn_result *res);

/*
 * Privilege escalation with sudo, as Ansible's become: once set, every
 * sshconn_exec and every SFTP server of the connection (the default one
 * and those sftp_as() names) runs through
 *
 *	EXE FLAGS -n -u USER -- /bin/sh -c 'echo M; echo M >&2; exec ...'
 *
 * every word quoted, M random for each call; with a password, -S -p P
 * instead of -n, P random, and the password goes to sudo's stdin only once
 * P came on its stderr (a second P means it was refused).  What came before
 * M on either stream is sudo's; what follows is the command's.  The default
 * SFTP server is then sftp_server started by sudo on an exec channel, not
 * the "sftp" subsystem; its INIT is sent once M came.  Only the method sudo.
 */
struct sshconn_become {
	const char *exe;	/* "sudo" (NULL: "sudo"); one word */
	const char *flags;	/* ansible_become_flags, split on blanks,
				   each word quoted; NULL: none */
	const char *user;	/* the target user (NULL: "root") */
	const char *password;	/* NULL: sudo -n, which never asks */
	const char *sftp_server; /* its path on the host; NULL: found once,
				   by a command through sudo */
};

/*
 * Set c's become to a copy of b (the password in a secret_alloc buffer,
 * wiped when replaced and on close; it never goes into a message, a log or
 * a command line), or with b NULL, end it.  SFTP servers already started
 * are stopped: the next SFTP call starts its server the new way.
 * ERR_INVAL (with the message) for an empty word or a control character,
 * a password with a line break, or flags that keep sudo from running the
 * command here (--, -b, -e, -l, -v, -K, -V, -h and their long forms); with
 * a password, -n and --non-interactive are left out of flags.
 */
int sshconn_set_become(struct sshconn *c, const struct sshconn_become *b);

/* Close and free (the become's password wiped); accepts NULL. */
void sshconn_close(struct sshconn *c);

#endif
