/*
 * sftpch.h: the engine under transport/sftp.c -- SFTP version 3 servers
 * on channels of a connection, and the requests sent to them in batches.
 * Internal to transport/.
 *
 * A connection carries up to SFTPCH_SLOTS servers (kept with it through
 * sshconn_attach and freed by sshconn_close): the session's "sftp"
 * subsystem, as the login user, and servers a command starts, e.g. as
 * another user.  Requests go to the one sftpch_use() chose last, started
 * on first use.  A batch's requests are sent together and its replies
 * collected as they come, matched by id: a server answers in the order
 * it received.  The connection's rules hold (one thread at a time, every
 * wait within its deadline, one message slot).
 */
#ifndef PEMROTATE_SFTPCH_H
#define PEMROTATE_SFTPCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/strutil.h"

struct sshconn;

#define SFTPCH_SLOTS	3		/* servers kept per connection */
#define SFTPCH_CHUNK	32768		/* bytes per READ and WRITE */

/* One reply: its type and what follows the type (the id, then more). */
struct sftpch_reply {
	uint32_t id;
	int type;		/* -1 until it came */
	unsigned char *data;
	size_t len;
};

/* Requests sent together, and their replies (rep[i] answers the i-th). */
struct sftpch_batch {
	struct strbuf out;	/* the requests, encoded */
	uint32_t *id;
	const char **what;	/* each request's name in messages */
	struct sftpch_reply *rep;
	size_t n, cap, got;
	int secret;		/* wipe what was sent and received */
};

/*
 * The server later requests go to: cmd NULL is the "sftp" subsystem,
 * else a command line (the caller quotes it) that runs a server on its
 * stdin and stdout.  Only chosen here; started by sftpch_begin.
 */
void sftpch_use(struct sshconn *c, const char *cmd);

/*
 * Start an operation: a fresh deadline, and the chosen server, started
 * (INIT, VERSION) if it is not yet.  A server that failed to start, or
 * whose batch broke off, stays failed for the connection's life.  Every
 * function below needs one sftpch_begin first.
 */
int sftpch_begin(struct sshconn *c);

/* The SFTPW_EXT_* extensions the current server offers. */
unsigned sftpch_ext(struct sshconn *c);

/* An empty batch; secret: its buffers are wiped when cleared. */
void sftpch_batch_init(struct sftpch_batch *b, int secret);
/*
 * Room for bytes of requests, reserved before the first: a batch that
 * carries a secret must never grow (a grown buffer leaves a copy behind).
 */
void sftpch_batch_reserve(struct sftpch_batch *b, size_t bytes);
/* Free (and wipe if secret) what b holds; b may be initialised again. */
void sftpch_batch_clear(struct sftpch_batch *b);

/*
 * Start a request of type in b (its length, id and type written) and
 * return its index; its fields follow (sftpch_put_*), then
 * sftpch_req_end(b, start) with start = b->out.len before the call.
 */
size_t sftpch_req_begin(struct sshconn *c, struct sftpch_batch *b,
    int type);
void sftpch_req_end(struct sftpch_batch *b, size_t start);
void sftpch_put_u32(struct sftpch_batch *b, uint32_t v);
void sftpch_put_u64(struct sftpch_batch *b, uint64_t v);
void sftpch_put_str(struct sftpch_batch *b, const void *p, size_t n);
/* The handle of h, a HANDLE reply checked with sftpch_check. */
void sftpch_put_handle(struct sftpch_batch *b, const struct sftpch_reply *h);

/* Whole requests: one naming path; one naming h's handle; an OPEN with
 * pflags (FXF_*) and, when creating, permissions mode.  Each its index. */
size_t sftpch_req_path(struct sshconn *c, struct sftpch_batch *b, int type,
    const char *path);
size_t sftpch_req_handle(struct sshconn *c, struct sftpch_batch *b,
    int type, const struct sftpch_reply *h);
size_t sftpch_req_open(struct sshconn *c, struct sftpch_batch *b,
    const char *path, uint32_t pflags, unsigned long mode);

/*
 * Send b, then collect a reply for each of its requests.  A batch that
 * breaks off (I/O, timeout, a malformed or unasked-for reply) leaves the
 * server unusable: replies may still be on their way.
 */
int sftpch_run(struct sshconn *c, struct sftpch_batch *b);

/* The status code of a STATUS reply (FX_FAILURE if cut short), else -1. */
long sftpch_status(const struct sftpch_reply *rp);

/*
 * 0 if rp is an OK status, or with want a reply of that type (a HANDLE
 * also well formed); else the message "what path: ... (SFTP status N)"
 * and ERR_NOTFOUND, ERR_PERM, ERR_IO or ERR_SFTP.
 */
int sftpch_check(struct sshconn *c, const struct sftpch_reply *rp, int want,
    const char *what, const char *path);

/* A reply of the right type whose contents do not hold together: the
 * message "what path: SFTP: malformed reply", and ERR_SFTP. */
int sftpch_bad_reply(struct sshconn *c, const char *what, const char *path);

#endif
