/*
 * jumpfw.c: the forwarder, the one thread of a jump that owns the
 * bastion's libssh2 session: it opens the direct-tcpip channels asked
 * for (callers' requests, connections to listeners) and runs them all in
 * one poll(2) loop; one channel's pump is transport/jumpchan.c, the API
 * transport/jump.c.
 *
 * How the session is driven, without blocking and without busy loops:
 *
 * - Sends go through our callback: what the kernel does not take at once
 *   is queued here (oq) and written on POLLOUT, so libssh2 never sees a
 *   send that would block.  In libssh2 1.10 such a send leaves a packet
 *   half sent that only the same call may resume; any other channel's
 *   send in between fails with LIBSSH2_ERROR_BAD_USE.  With many channels
 *   on one session that order cannot be kept; with the queue it never
 *   arises.  Channel writes pause while the queue is over JUMP_OUTQ_HIGH.
 * - Receives go through sshconn's callback (its read-ahead, and its
 *   "drained" mark, cleared here when poll says readable) and are counted
 *   in j->rx: a libssh2 call that found nothing to do is repeated only
 *   after rx has moved.
 * - libssh2 1.10 keeps the state of a channel being opened in the session
 *   itself (libssh2_channel_direct_tcpip_ex returns NULL with
 *   LIBSSH2_ERROR_EAGAIN until the bastion answers): one open is under way
 *   at a time, the others wait in a FIFO, each with its deadline.
 * - A pass that moved anything is followed by another without sleeping;
 *   a pass that moved nothing (rx did not move either) leaves nothing to
 *   do until poll reports something.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/netconn.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/jump_int.h"

#define JUMP_ACCEPTS	16	/* connections accepted per listener a pass */
#define JUMP_PAUSE_MS	100	/* a listener rests after accept failed */
#define JUMP_FLUSH_MS	1000	/* to send what is queued, at the end */

const char *
jumpfw_errstr(int e, char *buf, size_t len)
{
	if (strerror_r(e, buf, len) != 0)
		snprintf(buf, len, "error %d", e);
	return buf;
}

int
jumpfw_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

int
jumpfw_session_error(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_CHANNEL_OUTOFORDER:
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED:
	case LIBSSH2_ERROR_CHANNEL_UNKNOWN:
	case LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
	case LIBSSH2_ERROR_CHANNEL_WINDOW_FULL:
		return 0;
	}
	return 1;
}

/* libssh2's last error, escaped; caller frees. */
static char *
lib_msg(struct jump *j)
{
	char *m = NULL;
	int len = 0;

	libssh2_session_last_error(j->s, &m, &len, 0);
	return str_printable(m != NULL ? m : "", 200);
}

/* ---- the session's socket ---- */

static void
outq_add(struct jump *j, const char *p, size_t n)
{
	size_t cap;

	if (n == 0)
		return;
	if (j->oq_off + j->oq_len + n > j->oq_cap && j->oq_off > 0) {
		memmove(j->oq, j->oq + j->oq_off, j->oq_len);
		j->oq_off = 0;
	}
	if (j->oq_len + n > j->oq_cap) {
		cap = j->oq_cap > 0 ? j->oq_cap * 2 : 64 * 1024;
		while (cap < j->oq_len + n)
			cap *= 2;
		j->oq = xrealloc(j->oq, cap);
		j->oq_cap = cap;
	}
	memcpy(j->oq + j->oq_off + j->oq_len, p, n);
	j->oq_len += n;
}

static void
outq_flush(struct jump *j)
{
	ssize_t n;

	while (j->oq_len > 0) {
		n = send(j->sock, j->oq + j->oq_off, j->oq_len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				j->lost = 1;
				j->lost_errno = errno;
			}
			return;
		}
		j->oq_off += (size_t)n;
		j->oq_len -= (size_t)n;
		j->progress = 1;
	}
	j->oq_off = 0;
}

/* libssh2's send: what the kernel does not take now waits in oq. */
static ssize_t
fw_send(libssh2_socket_t fd, const void *buf, size_t len, int flags,
    void **abstract)
{
	struct jump *j = *abstract;
	ssize_t n = 0;

	if (j->lost)
		return -EPIPE;
	if (j->oq_len == 0) {
		n = send(fd, buf, len, flags | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			j->lost = 1;
			j->lost_errno = errno;
			return -errno;
		}
		if (n < 0)
			n = 0;
	}
	outq_add(j, (const char *)buf + n, len - (size_t)n);
	return (ssize_t)len;
}

/* libssh2's receive: sshconn's, counted. */
static ssize_t
fw_recv(libssh2_socket_t fd, void *buf, size_t len, int flags,
    void **abstract)
{
	struct jump *j = *abstract;
	void *conn = j->c;
	ssize_t n;

	n = j->orig_recv(fd, buf, len, flags, &conn);
	if (n > 0) {
		j->rx += (unsigned long long)n;
	} else if (n != -EAGAIN && n != -EWOULDBLOCK) {
		j->lost = 1;
		j->lost_errno = (int)-n;
	}
	return n;
}

/* Hand the session to the forwarder: our send and receive callbacks. */
void
jumpfw_takeover(struct jump *j)
{
	void **ab = libssh2_session_abstract(j->s);

	libssh2_session_set_blocking(j->s, 0);
	j->orig_abstract = *ab;
	*ab = j;
	j->orig_recv = (jump_recv_fn *)libssh2_session_callback_set(j->s,
	    LIBSSH2_CALLBACK_RECV, (void *)fw_recv);
	j->orig_send = (jump_send_fn *)libssh2_session_callback_set(j->s,
	    LIBSSH2_CALLBACK_SEND, (void *)fw_send);
}

/* And back to sshconn's, for sshconn_close. */
void
jumpfw_restore(struct jump *j)
{
	*libssh2_session_abstract(j->s) = j->orig_abstract;
	libssh2_session_callback_set(j->s, LIBSSH2_CALLBACK_RECV,
	    (void *)j->orig_recv);
	libssh2_session_callback_set(j->s, LIBSSH2_CALLBACK_SEND,
	    (void *)j->orig_send);
}

/*
 * Poll said the socket is readable: have libssh2 read it (a read of no
 * bytes on any channel reads every packet that came).  With no channel
 * to read through, the bytes wait (a keepalive, say) and the socket is
 * not polled for reading again until there is one; only its end is
 * noticed now.
 */
static void
sock_readable(struct jump *j)
{
	char c;
	ssize_t n;
	size_t i;

	sshconn_readable(j->c);
	for (i = 0; i < j->nch; i++) {
		if (j->ch[i]->closing)
			continue;
		n = libssh2_channel_read(j->ch[i]->ch, &c, 0);
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN &&
		    jumpfw_session_error((int)n))
			j->lib_lost = (int)n;
		return;
	}
	if (j->open_busy || j->nch > 0) {
		j->open_tried = 0;
		for (i = 0; i < j->nch; i++)
			j->ch[i]->cl_idle = 0;
		return;
	}
	n = recv(j->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0) {
		j->rx_stall = 1;
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR)) {
		j->lost = 1;
		j->lost_errno = n == 0 ? 0 : errno;
	}
}

/* ---- requests ---- */

static char *
req_msg(struct jump *j, const struct jreq *q, const char *why)
{
	return xasprintf("via bastion %s: direct-tcpip to %s:%d: %s",
	    j->label, q->host, q->port, why);
}

void
jumpfw_push(struct jump *j, struct jreq *q)
{
	q->next = NULL;
	*j->qtail = q;
	j->qtail = &q->next;
	if (j->qmin == 0 || q->deadline < j->qmin)
		j->qmin = q->deadline;
}

static struct jreq *
q_pop(struct jump *j)
{
	struct jreq *q;

	pthread_mutex_lock(&j->mu);
	if ((q = j->qhead) != NULL) {
		j->qhead = q->next;
		if (j->qhead == NULL)
			j->qtail = &j->qhead;
	}
	pthread_mutex_unlock(&j->mu);
	return q;
}

/* Every queued request, taken off the queue. */
static struct jreq *
q_take_all(struct jump *j)
{
	struct jreq *all;

	pthread_mutex_lock(&j->mu);
	all = j->qhead;
	j->qhead = NULL;
	j->qtail = &j->qhead;
	j->qmin = 0;
	pthread_mutex_unlock(&j->mu);
	return all;
}

/* The session's end, or a listener's connection that failed. */
static void
set_status(struct jump *j, int r, const char *msg)
{
	pthread_mutex_lock(&j->mu);
	if (!j->dead) {
		j->err = r;
		free(j->errmsg);
		j->errmsg = xstrdup(msg);
	}
	pthread_mutex_unlock(&j->mu);
}

/*
 * The answer to q (msg: heap, taken over): its waiting caller is woken
 * (and owns q again), or, for a listener's, q is freed here.
 */
static void
req_done(struct jump *j, struct jreq *q, int r, char *msg)
{
	/* a listener's failure is told before its connection sees EOF */
	if (r != 0 && q->listener)
		set_status(j, r, msg);
	if (r != 0 && q->fd >= 0) {
		close(q->fd);
		q->fd = -1;
	}
	if (q->listener) {
		free(msg);
		free(q);
		return;
	}
	pthread_mutex_lock(&j->mu);
	q->r = r;
	q->msg = msg;
	q->done = 1;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&j->mu);
}

static void
fail_list(struct jump *j, struct jreq *q, int r, const char *why)
{
	struct jreq *next;

	for (; q != NULL; q = next) {
		next = q->next;
		req_done(j, q, r, req_msg(j, q, why));
	}
}

/*
 * Fail what waited past its deadline; returns the earliest deadline
 * left (0: none).  An open under way goes on without its caller: the
 * channel it brings is closed at once.
 */
static long long
expire(struct jump *j, long long now)
{
	struct jreq *q, **pp, *late = NULL;
	long long next = 0;

	if (j->opening != NULL && now >= j->opening->deadline) {
		q = j->opening;
		j->opening = NULL;
		req_done(j, q, ERR_TIMEOUT, req_msg(j, q, "timed out"));
	}
	if (j->opening != NULL)
		next = j->opening->deadline;
	pthread_mutex_lock(&j->mu);
	if (j->qmin != 0 && now >= j->qmin) {
		j->qmin = 0;
		for (pp = &j->qhead; (q = *pp) != NULL;) {
			if (now >= q->deadline) {
				*pp = q->next;
				q->next = late;
				late = q;
				continue;
			}
			if (j->qmin == 0 || q->deadline < j->qmin)
				j->qmin = q->deadline;
			pp = &q->next;
		}
		j->qtail = pp;
	}
	if (j->qmin != 0 && (next == 0 || j->qmin < next))
		next = j->qmin;
	pthread_mutex_unlock(&j->mu);
	fail_list(j, late, ERR_TIMEOUT, "timed out waiting for its turn");
	return next;
}

/* ---- opening channels ---- */

static void
open_failed(struct jump *j, struct jreq *q)
{
	int rc = libssh2_session_last_errno(j->s);
	char *why = lib_msg(j);

	if (jumpfw_session_error(rc))
		j->lib_lost = rc;
	if (q != NULL)
		req_done(j, q, strstr(why, "prohibited") != NULL ? ERR_PERM :
		    ERR_NET, req_msg(j, q, why));
	free(why);
}

/* Start the next open, or go on with the one under way. */
static void
open_step(struct jump *j)
{
	LIBSSH2_CHANNEL *ch;
	struct jreq *q;

	if (!j->open_busy) {
		if ((q = q_pop(j)) == NULL)
			return;
		j->opening = q;
		j->open_busy = 1;
		j->open_tried = 0;
		snprintf(j->open_host, sizeof(j->open_host), "%s", q->host);
		j->open_port = q->port;
	} else if (j->open_tried && j->open_rx == j->rx) {
		return;		/* nothing new from the bastion */
	}
	ch = libssh2_channel_direct_tcpip_ex(j->s, j->open_host, j->open_port,
	    "127.0.0.1", 0);
	j->open_tried = 1;
	if (ch == NULL &&
	    libssh2_session_last_errno(j->s) == LIBSSH2_ERROR_EAGAIN) {
		j->open_rx = j->rx;
		return;
	}
	j->progress = 1;
	j->open_busy = 0;
	q = j->opening;
	j->opening = NULL;
	if (ch == NULL) {
		open_failed(j, q);
	} else if (q == NULL) {
		jumpchan_add(j, ch, -1);	/* its caller gave up */
	} else {
		jumpchan_add(j, ch, q->fd);
		q->fd = -1;
		req_done(j, q, 0, NULL);
	}
}

/*
 * The session is lost: every request and channel fails (the libssh2
 * channels go with the session); from now on only the wake pipe and the
 * listeners are polled.
 */
static void
lose(struct jump *j)
{
	char buf[128], *lib, *why;
	struct jreq *q;
	size_t i;

	lib = j->lost ? NULL : lib_msg(j);
	why = xasprintf("connection lost: %s", lib != NULL ? lib :
	    j->lost_errno == 0 ? "closed by the bastion" :
	    jumpfw_errstr(j->lost_errno, buf, sizeof(buf)));
	pthread_mutex_lock(&j->mu);
	j->dead = 1;
	j->err = ERR_NET;
	free(j->errmsg);
	j->errmsg = xasprintf("bastion %s: %s", j->label, why);
	pthread_mutex_unlock(&j->mu);
	fail_list(j, q_take_all(j), ERR_NET, why);
	if ((q = j->opening) != NULL) {
		j->opening = NULL;
		req_done(j, q, ERR_NET, req_msg(j, q, why));
	}
	j->open_busy = 0;
	for (i = 0; i < j->nch; i++) {
		jumpchan_drop(j->ch[i]);
		free(j->ch[i]);
	}
	j->nch = 0;
	j->oq_len = j->oq_off = 0;
	free(lib);
	free(why);
}

/* ---- listeners ---- */

static void
accept_step(struct jump *j, struct jlisten *l)
{
	char buf[128], *m;
	struct jreq *q;
	int i, fd, one = 1;

	for (i = 0; i < JUMP_ACCEPTS; i++) {
		if ((fd = accept(l->fd, NULL, NULL)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ECONNABORTED)
				return;
			/* EMFILE, say: the connection waits; no busy loop */
			m = xasprintf("via bastion %s: local forward to "
			    "%s:%d: accept: %s", j->label, l->host, l->port,
			    jumpfw_errstr(errno, buf, sizeof(buf)));
			set_status(j, ERR_NET, m);
			free(m);
			l->paused = now_ms() + JUMP_PAUSE_MS;
			return;
		}
		if (j->dead || jumpfw_nonblock(fd) == -1) {
			close(fd);
			continue;
		}
		if (l->path == NULL)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
		q = xcalloc(1, sizeof(*q));
		q->listener = 1;
		q->host = l->host;
		q->port = l->port;
		q->fd = fd;
		q->deadline = now_ms() + j->timeout_ms;
		pthread_mutex_lock(&j->mu);
		jumpfw_push(j, q);
		pthread_mutex_unlock(&j->mu);
	}
	j->progress = 1;	/* more may be waiting */
}

/* ---- the loop ---- */

/* The poll set: wake pipe, session socket, listeners, channels. */
static nfds_t
poll_set(struct jump *j, struct jlisten *ls)
{
	struct jlisten *l;
	struct jumpchan *k;
	size_t n = 2, need = 2 + j->nch;
	short ev;
	size_t i;

	for (l = ls; l != NULL; l = l->next)
		need++;
	if (need > j->pcap) {
		j->pcap = need * 2;
		j->pfd = xrealloc(j->pfd, j->pcap * sizeof(*j->pfd));
	}
	j->pfd[0].fd = j->wake[0];
	j->pfd[0].events = POLLIN;
	j->pfd[1].fd = j->dead ? -1 : j->sock;
	j->pfd[1].events = (j->rx_stall ? 0 : POLLIN) |
	    (j->oq_len > 0 ? POLLOUT : 0);
	for (l = ls; l != NULL; l = l->next) {
		l->pidx = -1;
		if (l->paused != 0 && now_ms() < l->paused)
			continue;
		l->paused = 0;
		l->pidx = (int)n;
		j->pfd[n].fd = l->fd;
		j->pfd[n++].events = POLLIN;
	}
	for (i = 0; i < j->nch; i++) {
		k = j->ch[i];
		k->pidx = -1;
		if ((ev = jumpchan_events(k)) < 0)
			continue;
		k->pidx = (int)n;
		j->pfd[n].fd = k->fd;
		j->pfd[n++].events = ev;
	}
	for (i = 0; i < n; i++)
		j->pfd[i].revents = 0;
	return (nfds_t)n;
}

/* Everything poll reported, and whatever that lets move. */
static void
fw_pass(struct jump *j, struct jlisten *ls)
{
	unsigned long long rx0 = j->rx;
	struct jlisten *l;
	char buf[64];
	size_t i;

	if (j->pfd[0].revents != 0)
		while (read(j->wake[0], buf, sizeof(buf)) > 0)
			continue;
	if (j->pfd[1].revents & POLLOUT)
		outq_flush(j);
	if (j->pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
		sock_readable(j);
	for (l = ls; l != NULL; l = l->next)
		if (l->pidx >= 0 && j->pfd[l->pidx].revents != 0)
			accept_step(j, l);
	if (j->dead)
		return;
	for (i = 0; i < j->nch; i++)
		if (j->ch[i]->pidx >= 0)
			j->ch[i]->revents = j->pfd[j->ch[i]->pidx].revents;
	if (!j->lost && !j->lib_lost)
		open_step(j);
	for (i = 0; i < j->nch && !j->lost && !j->lib_lost; i++)
		jumpchan_step(j, j->ch[i]);
	jumpchan_sweep(j);
	if (j->lost || j->lib_lost)
		lose(j);
	if (j->rx != rx0)
		j->progress = 1;
}

/*
 * How long poll may sleep: not past a deadline or a listener's pause;
 * not at all after work.
 */
static int
poll_timeout(struct jump *j, struct jlisten *ls)
{
	long long now = now_ms(), next = expire(j, now);

	for (; ls != NULL; ls = ls->next)
		if (ls->paused != 0 && (next == 0 || ls->paused < next))
			next = ls->paused;
	if (j->progress)
		return 0;
	if (next == 0)
		return -1;
	if (next <= now)
		return 0;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

/*
 * The end: requests and channels fail, what libssh2 queued is sent (for
 * at most JUMP_FLUSH_MS), and the session's own callbacks are back for
 * sshconn_close.
 */
static void
fw_shutdown(struct jump *j)
{
	long long end = now_ms() + JUMP_FLUSH_MS;
	struct jreq *q;
	size_t i;

	fail_list(j, q_take_all(j), ERR_CANCELLED, "the jump is stopping");
	if ((q = j->opening) != NULL) {
		j->opening = NULL;
		req_done(j, q, ERR_CANCELLED,
		    req_msg(j, q, "the jump is stopping"));
	}
	for (i = 0; i < j->nch; i++) {
		jumpchan_drop(j->ch[i]);
		free(j->ch[i]);
	}
	j->nch = 0;
	while (!j->dead && !j->lost && j->oq_len > 0 &&
	    netconn_wait(j->sock, POLLOUT, end) == 0)
		outq_flush(j);
	jumpfw_restore(j);
}

void *
jumpfw_main(void *arg)
{
	struct jump *j = arg;
	struct jlisten *ls;
	int stop, timeout;
	nfds_t n;

	(void)prctl(PR_SET_NAME, "pr-jump", 0, 0, 0);	/* top -H, ps -L */
	for (;;) {
		pthread_mutex_lock(&j->mu);
		stop = j->stopping;
		ls = j->listeners;
		pthread_mutex_unlock(&j->mu);
		if (stop)
			break;
		if (j->rx_stall && (j->nch > 0 || j->open_busy))
			j->rx_stall = 0;
		timeout = poll_timeout(j, ls);
		j->progress = 0;
		n = poll_set(j, ls);	/* may move j->pfd */
		if (poll(j->pfd, n, timeout) == -1 && errno != EINTR &&
		    !j->dead) {
			j->lost = 1;
			j->lost_errno = errno;
			lose(j);
			continue;
		}
		fw_pass(j, ls);
	}
	fw_shutdown(j);
	return NULL;
}
