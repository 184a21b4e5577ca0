/*
 * err.h: the one error enum shared by every layer.
 *
 * Functions return 0 on success or one of these negative codes.  Library
 * detail (libssh2's last error, PQerrorMessage, OpenSSL's error queue) stays
 * on the object that failed and is read by the layer that knows the host.
 */
#ifndef PEMROTATE_ERR_H
#define PEMROTATE_ERR_H

enum err_code {
	ERR_OK = 0,
	ERR_INTERNAL = -1,		/* a bug: should not happen */
	ERR_NOMEM = -2,
	ERR_INVAL = -3,			/* bad argument or bad input value */
	ERR_PARSE = -4,			/* malformed file or reply */
	ERR_IO = -5,			/* local or remote file I/O */
	ERR_NET = -6,			/* cannot connect / connection lost */
	ERR_TIMEOUT = -7,
	ERR_HOSTKEY_UNKNOWN = -8,	/* host not in known_hosts */
	ERR_HOSTKEY_CHANGED = -9,	/* host key differs from known_hosts */
	ERR_AUTH = -10,			/* SSH user authentication failed */
	ERR_SSH = -11,			/* other SSH protocol failure */
	ERR_SFTP = -12,			/* SFTP request failed */
	ERR_REMOTE_CMD = -13,		/* remote command exited non-zero */
	ERR_TOOBIG = -14,		/* input over its size bound */
	ERR_CRYPTO = -15,		/* OpenSSL failure */
	ERR_DB = -16,			/* PostgreSQL failure */
	ERR_NOTFOUND = -17,
	ERR_EXISTS = -18,
	ERR_PERM = -19,			/* permission denied */
	ERR_VERIFY = -20,		/* a certificate or a check failed */
	ERR_CANCELLED = -21,		/* stopped by the operator */
	ERR_MISMATCH = -22,		/* two sources of truth disagree */
	ERR_UNSAFE = -24,		/* others could steer what root does */
	ERR_HOSTKEY_REVOKED = -25,	/* host key marked @revoked */
	ERR_BECOME = -26,		/* sudo did not run the command */
};

/* Static, human-readable text for an err_code; never NULL. */
const char *err_str(int code);

#endif
