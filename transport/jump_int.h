/*
 * jump_int.h: what the API (transport/jump.c), the forwarder
 * (transport/jumpfw.c) and its channel pump (transport/jumpchan.c)
 * share.  Internal to transport/.
 *
 * Every field below the mutex's is the forwarder thread's alone: only
 * that thread reads or writes it, and only it calls libssh2 on the
 * session once jump_start has handed the session over.
 */
#ifndef PEMROTATE_JUMP_INT_H
#define PEMROTATE_JUMP_INT_H

#include <sys/types.h>

#include <poll.h>
#include <pthread.h>

#include <libssh2.h>

#include "transport/jump.h"
#include "transport/sshconn_int.h"

#define JUMP_BUFLEN	(32 * 1024)	/* each direction of each channel */
#define JUMP_OUTQ_HIGH	(256 * 1024)	/* channel writes pause above */
#define JUMP_HOSTLEN	256

typedef ssize_t jump_recv_fn(libssh2_socket_t, void *, size_t, int,
    void **);
typedef ssize_t jump_send_fn(libssh2_socket_t, const void *, size_t, int,
    void **);

struct jbuf {			/* a ring of JUMP_BUFLEN bytes */
	char *p;
	size_t off, len;
};

/* One direct-tcpip channel and the local socket it is joined to. */
struct jumpchan {
	LIBSSH2_CHANNEL *ch;	/* NULL once freed: swept */
	int fd;			/* our end; -1 once closed */
	int pidx;		/* its pollfd this pass, or -1 */
	short revents;		/* poll's answer for fd, this pass */
	struct jbuf down;	/* channel -> fd */
	struct jbuf up;		/* fd -> channel */
	/* j->rx when a read, write or free last found nothing to do */
	unsigned long long rd_rx, wr_rx, cl_rx;
	int rd_idle, wr_idle, cl_idle;
	int fd_full;		/* the fd took less than offered */
	int eof_in;		/* the fd said EOF ... */
	int eof_sent;		/* ... and the channel was told */
	int eof_out;		/* the channel said EOF ... */
	int fd_shut;		/* ... and the fd was told */
	int gone;		/* nobody reads the fd's other end */
	int closing;		/* libssh2_channel_free under way */
};

/* A request for a channel: a caller's (it waits on cv) or a listener's. */
struct jreq {
	struct jreq *next;
	const char *host;
	int port;
	long long deadline;
	int fd;			/* the end the forwarder gets (owns) */
	int listener;		/* from a listener: nobody waits */
	int done, r;		/* under the mutex */
	char *msg;
	pthread_cond_t cv;
};

struct jlisten {
	struct jlisten *next;	/* set before it is published */
	int fd;
	int pidx;		/* its pollfd this pass, or -1 */
	long long paused;	/* accept failed: not polled until then */
	char *host;		/* where its connections go */
	int port;
	char *dir, *path;	/* JUMP_LISTEN_UNIX */
};

struct jump {
	struct sshconn *c;
	LIBSSH2_SESSION *s;
	int sock;
	char *label;		/* the bastion's "user@host:port" */
	int timeout_ms;
	pthread_t thread;
	int wake[2];		/* a pipe: requests are waiting */
	jump_recv_fn *orig_recv;
	jump_send_fn *orig_send;
	void *orig_abstract;

	pthread_mutex_t mu;	/* guards what follows, up to the forwarder's */
	struct jreq *qhead, **qtail;
	long long qmin;		/* earliest deadline in the queue */
	struct jlisten *listeners;
	int stopping;
	int dead;		/* the session is lost */
	int err;		/* jump_status */
	char *errmsg;

	/* the forwarder's alone */
	struct jumpchan **ch;
	size_t nch, chcap;
	struct pollfd *pfd;
	size_t pcap;
	struct jreq *opening;	/* the caller of the open under way */
	int open_busy;		/* libssh2 has an open under way */
	int open_tried;
	unsigned long long open_rx;
	char open_host[JUMP_HOSTLEN];
	int open_port;
	char *oq;		/* bytes libssh2 sent, the kernel not yet */
	size_t oq_off, oq_len, oq_cap;
	unsigned long long rx;	/* bytes received from the bastion */
	int rx_stall;		/* readable, and nothing to read it with */
	int lost;		/* the socket failed (lost_errno; 0: EOF) */
	int lost_errno;
	int lib_lost;		/* a libssh2 call failed the session */
	int progress;		/* this pass moved something */
};

/* ---- jumpchan.c: one channel ---- */

/* A channel joined to fd (-1: an orphan, freed at once). */
void jumpchan_add(struct jump *j, LIBSSH2_CHANNEL *ch, int fd);

/* The events to poll fd for (0 hears POLLHUP alone; -1: do not poll). */
short jumpchan_events(const struct jumpchan *k);

/* Move what can move now; begin closing when both sides are done. */
void jumpchan_step(struct jump *j, struct jumpchan *k);

/* Close fd and free the buffers; the libssh2 channel is left alone. */
void jumpchan_drop(struct jumpchan *k);

/* Free the channels that are done (ch == NULL). */
void jumpchan_sweep(struct jump *j);

/* ---- jumpfw.c: the forwarder ---- */

/* The thread's function; arg is the jump. */
void *jumpfw_main(void *arg);

/* Our send and receive callbacks on the session; sshconn's back. */
void jumpfw_takeover(struct jump *j);
void jumpfw_restore(struct jump *j);

/* Queue q for the forwarder; under j->mu. */
void jumpfw_push(struct jump *j, struct jreq *q);

/* 1 if rc (LIBSSH2_ERROR_*) ends the whole session, not one channel. */
int jumpfw_session_error(int rc);

/* fd non-blocking and close-on-exec: 0, or -1 with errno set. */
int jumpfw_nonblock(int fd);

/* strerror_r's text for e, in buf. */
const char *jumpfw_errstr(int e, char *buf, size_t len);

#endif
