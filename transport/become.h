/*
 * become.h: sudo under a connection's commands and SFTP servers (what
 * sshconn_set_become in sshconn.h sets up).  Internal to transport/: it
 * includes libssh2.
 *
 * The become belongs to its connection and follows its rules: one thread
 * at a time, every wait within the connection's current deadline, one
 * message slot (sshconn_errmsg).  A struct become_run is one start of a
 * command through sudo, on the caller's stack: become_exec fills it,
 * become_run_clear frees it.
 */
#ifndef PEMROTATE_BECOME_H
#define PEMROTATE_BECOME_H

#include <libssh2.h>

#include "common/strutil.h"

struct sshconn;
struct become;

#define BECOME_TOKEN	48	/* a marker or a prompt, its NUL included */

struct become_run {
	char marker[BECOME_TOKEN];	/* a line on stdout and on stderr
					   once sudo ran the command */
	char prompt[BECOME_TOKEN];	/* sudo's password prompt */
	struct strbuf o, e;	/* sudo's stdout and stderr; once it ran
				   the command, what followed the markers */
	size_t seen;		/* e was searched for prompts up to here */
	int answered;		/* the password was sent */
	int again;		/* sudo asked again: the password was wrong */
	int verify;		/* the preamble prints the uids (become.c) */
	int find;		/* ... and looks for sftp-server */
};

/* 1 if c has a become set. */
int become_on(struct sshconn *c);

/*
 * On ch, a session channel just opened: exec cmd (a shell command line, as
 * sshconn_exec takes) through sudo, or with cmd NULL the SFTP server (its
 * path looked for in the same sudo if the become has none); answer sudo's
 * prompt once with the password; wait for both markers; with eof, close
 * the command's stdin.  The first sudo of a connection checks that it runs
 * as the target user.  0 when sudo ran the command: br->o and br->e hold
 * what came after the markers.  ERR_BECOME when sudo refused (the message
 * says why, with what sudo said, escaped) or ran as another uid,
 * ERR_NOTFOUND when no sftp-server was found,
 * ERR_TIMEOUT, ERR_NET or ERR_SSH otherwise.  br is initialised here, and
 * cleared by the caller either way.
 */
int become_exec(struct sshconn *c, LIBSSH2_CHANNEL *ch, const char *cmd,
    int eof, struct become_run *br);

/* Free what br holds; br may be all zeroes. */
void become_run_clear(struct become_run *br);

/* Free a become, its password wiped; accepts NULL. */
void become_free(struct become *b);

#endif
