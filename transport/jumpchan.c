/*
 * jumpchan.c: the forwarder's pump for one direct-tcpip channel: bytes
 * from the channel to the local socket (down) and back (up), each way
 * through a ring of JUMP_BUFLEN bytes, EOF passed on in each direction,
 * then the channel closed.  Runs in the forwarder thread only
 * (jump_int.h).
 *
 * Back-pressure: a full ring stops the reads that fill it -- the
 * channel's (libssh2 then grants the bastion no more window than was
 * consumed) or the socket's (the writer's socket buffer fills); channel
 * writes also stop while the session's send queue is over JUMP_OUTQ_HIGH.
 *
 * A libssh2 call that found nothing to do is not repeated until bytes
 * have come from the bastion since (j->rx moved): only those can bring
 * the channel data, window or EOF, so an idle channel costs no call.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmem.h"
#include "transport/jump_int.h"

/* ---- rings ---- */

/* The bytes held, as one or two pieces; returns how many. */
static size_t
ring_data(const struct jbuf *b, struct iovec iov[2], int *n)
{
	size_t first = b->len;

	if (b->off + first > JUMP_BUFLEN)
		first = JUMP_BUFLEN - b->off;
	iov[0].iov_base = b->p + b->off;
	iov[0].iov_len = first;
	iov[1].iov_base = b->p;
	iov[1].iov_len = b->len - first;
	*n = iov[1].iov_len > 0 ? 2 : 1;
	return b->len;
}

/* The free room, as one or two pieces; returns how much. */
static size_t
ring_room(const struct jbuf *b, struct iovec iov[2], int *n)
{
	size_t tail = (b->off + b->len) % JUMP_BUFLEN;
	size_t room = JUMP_BUFLEN - b->len, first = room;

	if (tail + first > JUMP_BUFLEN)
		first = JUMP_BUFLEN - tail;
	iov[0].iov_base = b->p + tail;
	iov[0].iov_len = first;
	iov[1].iov_base = b->p;
	iov[1].iov_len = room - first;
	*n = iov[1].iov_len > 0 ? 2 : 1;
	return room;
}

static void
ring_take(struct jbuf *b, size_t n)
{
	b->off = (b->off + n) % JUMP_BUFLEN;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}

/* ---- one channel ---- */

void
jumpchan_add(struct jump *j, LIBSSH2_CHANNEL *ch, int fd)
{
	struct jumpchan *k;

	k = xcalloc(1, sizeof(*k));
	k->ch = ch;
	k->fd = fd;
	k->pidx = -1;
	if (fd < 0) {
		k->closing = 1;
	} else {
		k->down.p = xmalloc(2 * JUMP_BUFLEN);
		k->up.p = k->down.p + JUMP_BUFLEN;
	}
	if (j->nch == j->chcap) {
		j->chcap = j->chcap ? j->chcap * 2 : 16;
		j->ch = xrealloc(j->ch, j->chcap * sizeof(*j->ch));
	}
	j->ch[j->nch++] = k;
	j->progress = 1;
}

short
jumpchan_events(const struct jumpchan *k)
{
	short ev = 0;

	if (k->fd < 0 || (k->gone && k->eof_in))
		return -1;
	if (!k->eof_in && k->up.len < JUMP_BUFLEN)
		ev |= POLLIN;
	if (k->down.len > 0 && k->fd_full && !k->gone)
		ev |= POLLOUT;
	return ev;	/* 0 still hears POLLHUP: the other end closed */
}

void
jumpchan_drop(struct jumpchan *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	free(k->down.p);
	k->down.p = k->up.p = NULL;
	k->down.len = k->up.len = 0;
}

/* A libssh2 error on k: -1; the session's end is the forwarder's. */
static int
chan_error(struct jump *j, int rc)
{
	if (jumpfw_session_error(rc))
		j->lib_lost = rc;
	return -1;
}

/* From the socket into the up ring, if poll said there is something. */
static void
fd_read(struct jump *j, struct jumpchan *k)
{
	struct iovec iov[2];
	ssize_t n;
	int cnt;

	if (k->eof_in || !(k->revents & (POLLIN | POLLHUP | POLLERR)) ||
	    ring_room(&k->up, iov, &cnt) == 0)
		return;
	if ((n = readv(k->fd, iov, cnt)) > 0) {
		k->up.len += (size_t)n;
		j->progress = 1;
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	k->eof_in = 1;		/* EOF, or the connection reset */
	if (n < 0)
		k->gone = 1;
	j->progress = 1;
}

/* From the up ring into the channel, then EOF once the socket said so. */
static int
chan_write(struct jump *j, struct jumpchan *k)
{
	struct iovec iov[2];
	ssize_t n;
	int cnt;

	while (k->up.len > 0 && j->oq_len < JUMP_OUTQ_HIGH &&
	    !(k->wr_idle && k->wr_rx == j->rx)) {
		ring_data(&k->up, iov, &cnt);
		n = libssh2_channel_write(k->ch, iov[0].iov_base,
		    iov[0].iov_len);
		if (n > 0) {
			ring_take(&k->up, (size_t)n);
			k->wr_idle = 0;
			j->progress = 1;
		} else if (n == 0 || n == LIBSSH2_ERROR_EAGAIN) {
			k->wr_idle = 1;		/* the window is used up */
			k->wr_rx = j->rx;
		} else {
			return chan_error(j, (int)n);
		}
	}
	if (k->eof_in && k->up.len == 0 && !k->eof_sent) {
		n = libssh2_channel_send_eof(k->ch);
		if (n == 0) {
			k->eof_sent = 1;
			j->progress = 1;
		} else if (n != LIBSSH2_ERROR_EAGAIN) {
			return chan_error(j, (int)n);
		}
	}
	return 0;
}

/* From the channel into the down ring, until it is full or dry. */
static int
chan_read(struct jump *j, struct jumpchan *k)
{
	struct iovec iov[2];
	ssize_t n;
	int cnt;

	while (!k->eof_out && !k->gone && !(k->rd_idle && k->rd_rx == j->rx) &&
	    ring_room(&k->down, iov, &cnt) > 0) {
		n = libssh2_channel_read(k->ch, iov[0].iov_base,
		    iov[0].iov_len);
		if (n > 0) {
			k->down.len += (size_t)n;
			k->rd_idle = 0;
			j->progress = 1;
		} else if (n == LIBSSH2_ERROR_EAGAIN ||
		    (n == 0 && !libssh2_channel_eof(k->ch))) {
			k->rd_idle = 1;
			k->rd_rx = j->rx;
		} else if (n == 0) {
			k->eof_out = 1;
			j->progress = 1;
		} else {
			return chan_error(j, (int)n);
		}
	}
	return 0;
}

/*
 * From the down ring into the socket, and its EOF after the last byte.
 * A socket nobody reads any more (EPIPE) is "gone": what is left for it
 * is dropped.
 */
static void
fd_write(struct jump *j, struct jumpchan *k)
{
	struct iovec iov[2];
	struct msghdr mh;
	ssize_t n;
	int cnt;

	if (k->down.len > 0 && !k->gone && (!k->fd_full ||
	    (k->revents & (POLLOUT | POLLHUP | POLLERR)))) {
		memset(&mh, 0, sizeof(mh));
		ring_data(&k->down, iov, &cnt);
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)cnt;
		n = sendmsg(k->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			k->fd_full = (size_t)n < k->down.len;
			ring_take(&k->down, (size_t)n);
			j->progress = 1;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR) {
			k->fd_full = 1;
		} else {
			k->gone = 1;
			ring_take(&k->down, k->down.len);
			j->progress = 1;
		}
	}
	if (k->eof_out && k->down.len == 0 && !k->fd_shut && !k->gone) {
		shutdown(k->fd, SHUT_WR);
		k->fd_shut = 1;
		j->progress = 1;
	}
}

/* Begin closing: the socket now, the channel in chan_free. */
static void
chan_close(struct jump *j, struct jumpchan *k)
{
	jumpchan_drop(k);
	k->closing = 1;
	k->cl_idle = 0;
	j->progress = 1;
}

/* libssh2 closes the channel (its CLOSE answered) and frees it. */
static void
chan_free(struct jump *j, struct jumpchan *k)
{
	if (k->cl_idle && k->cl_rx == j->rx)
		return;
	if (libssh2_channel_free(k->ch) == LIBSSH2_ERROR_EAGAIN) {
		k->cl_idle = 1;
		k->cl_rx = j->rx;
		return;
	}
	k->ch = NULL;		/* freed, whatever else it said */
	j->progress = 1;
}

void
jumpchan_step(struct jump *j, struct jumpchan *k)
{
	if (k->closing) {
		chan_free(j, k);
		return;
	}
	fd_read(j, k);
	if (k->eof_in && (k->revents & POLLHUP))
		k->gone = 1;	/* closed, not just shut for writing */
	if (chan_write(j, k) != 0 || chan_read(j, k) != 0) {
		if (!j->lost && !j->lib_lost)
			chan_close(j, k);
		return;
	}
	fd_write(j, k);
	k->revents = 0;
	if (k->eof_sent && (k->fd_shut || k->gone))
		chan_close(j, k);
}

void
jumpchan_sweep(struct jump *j)
{
	size_t i, n = 0;

	for (i = 0; i < j->nch; i++) {
		if (j->ch[i]->ch != NULL) {
			j->ch[n++] = j->ch[i];
			continue;
		}
		jumpchan_drop(j->ch[i]);
		free(j->ch[i]);
	}
	j->nch = n;
}
