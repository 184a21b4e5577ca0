/*
 * sshconn_int.h: what the rest of transport/ builds on a connection with
 * (the SFTP client, transport/sftpch.c), beyond sshconn.h.  Internal to
 * transport/: it includes libssh2.
 *
 * The rules of sshconn.h hold: a connection belongs to one thread at a
 * time, every wait is bounded by its current deadline, and a failure
 * leaves one line in its message slot (sshconn_errmsg), which the
 * functions here write.
 */
#ifndef PEMROTATE_SSHCONN_INT_H
#define PEMROTATE_SSHCONN_INT_H

#include <libssh2.h>

#include "transport/sshconn.h"

#define SSHCONN_ERRLEN	512	/* the message slot, its NUL included */

/* The session (after sshconn_open succeeded); owned by the connection. */
LIBSSH2_SESSION *sshconn_session(struct sshconn *c);

/* "user@host:port", for messages; lives as long as the connection. */
const char *sshconn_label(const struct sshconn *c);

/* The socket the session runs on. */
int sshconn_socket(const struct sshconn *c);

/* The timeout of each call, in ms (sshconn_opts.timeout_ms or 30000). */
int sshconn_timeout(const struct sshconn *c);

/*
 * For a caller that polls the socket itself (transport/jump.c): poll(2)
 * said it is readable, so the next receive asks the kernel again (after a
 * receive found it drained, libssh2's next tries are answered "would
 * block" without a system call until sshconn_wait or this says so).
 */
void sshconn_readable(struct sshconn *c);

/* The deadline: timeout_ms from now (<= 0: the connection's timeout). */
void sshconn_set_deadline(struct sshconn *c, int timeout_ms);

/*
 * Wait until the socket is ready in the direction libssh2 is blocked on:
 * 0, or ERR_TIMEOUT once the deadline is past, or ERR_NET.
 */
int sshconn_wait(struct sshconn *c);

/* Repeat an int-returning libssh2 call while it would block. */
#define SSHCONN_CALL(c, rc, expr) do {					\
	while (((rc) = (expr)) == LIBSSH2_ERROR_EAGAIN) {		\
		if (sshconn_wait(c) != 0) {				\
			(rc) = LIBSSH2_ERROR_TIMEOUT;			\
			break;						\
		}							\
	}								\
} while (0)

/* The err_code for a LIBSSH2_ERROR_* value. */
int sshconn_lib_err(int rc);

/* Set the message (printf format; the caller escapes text from the host). */
void sshconn_seterr(struct sshconn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Set "what: <err_str(code)>: <libssh2's last error>"; returns code. */
int sshconn_seterr_lib(struct sshconn *c, int code, const char *what);

/*
 * Open a session channel within the deadline; NULL with the message set
 * ("what: ...").  The caller frees it with libssh2_channel_free.
 */
LIBSSH2_CHANNEL *sshconn_channel_open(struct sshconn *c, const char *what);

/*
 * One object a layer above keeps with the connection (the SFTP channels):
 * attached once, returned by sshconn_attached (NULL before), and freed by
 * sshconn_close with free_fn(c, p) after the disconnect and before the
 * session is freed (libssh2 channels must go first).
 */
void sshconn_attach(struct sshconn *c, void *p,
    void (*free_fn)(struct sshconn *, void *));
void *sshconn_attached(struct sshconn *c);
/* Free the attached object now (free_fn) and forget it. */
void sshconn_detach(struct sshconn *c);

/*
 * Run cmd like sshconn_exec, within the current deadline: through sudo if
 * become is non-zero and a become is set, else as the login user.
 */
int sshconn_run(struct sshconn *c, const char *cmd, int become, size_t max,
    struct sshconn_result *res);

/* The connection's become (transport/become.h), NULL when none is set. */
struct become;
struct become **sshconn_becomep(struct sshconn *c);

#endif
