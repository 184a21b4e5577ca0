/*
 * jump.h: SSH jump hosts (OpenSSH's ProxyJump), over direct-tcpip
 * channels of one session to the bastion.
 *
 * Ownership: jump_start takes an open, authenticated sshconn to the
 * bastion, and from then on the jump owns it; one thread of the jump's
 * own, the forwarder, is the only one that touches its libssh2 session
 * (sessions are not thread-safe).  jump_stop ends that thread and closes
 * the connection.
 *
 * A stream (jump_stream, jump_connect) is one direct-tcpip channel from
 * the bastion to host:port, handed over as one end of a socketpair(2):
 * the caller owns that socket, the forwarder moves bytes between the
 * other end and the channel, in both directions, EOF included.  An SSH
 * connection to a host behind the bastion runs over such a stream
 * (sshconn_opts.stream = jump_connect, stream_arg = the jump) and checks
 * that host's key against known_hosts under the host's own name, as
 * ProxyJump does.  A chain (ProxyJump a,b): the sshconn to b opened
 * through the jump of a, then given to a jump of its own; stop them in
 * the reverse order.
 *
 * Thread-safety: jump_stream, jump_connect, jump_listen and jump_status
 * may be called from any number of threads at once; jump_start and
 * jump_stop from one thread, and nothing may race jump_stop.
 *
 * Errors: 0 (or a socket) or a negative err_code, and then a one-line
 * message naming the bastion in *msg (heap, the caller frees it).  Text
 * from the bastion is escaped there.
 */
#ifndef PEMROTATE_JUMP_H
#define PEMROTATE_JUMP_H

struct jump;
struct sshconn;

/*
 * Take over bastion (open, its host key checked, authenticated) and start
 * the forwarder.  On success the jump owns bastion; on failure the
 * caller keeps it.
 */
int jump_start(struct sshconn *bastion, struct jump **out, char **msg);

/*
 * A stream to host:port through the bastion, within the bastion
 * connection's timeout: *fd is the caller's socket (non-blocking,
 * close-on-exec).  ERR_NET when the bastion cannot reach host:port or its
 * session is lost, ERR_PERM when it refuses to forward ("administratively
 * prohibited"), ERR_TIMEOUT, ERR_CANCELLED once jump_stop has begun,
 * ERR_INVAL for no host or port.  Opens wait their turn: libssh2 opens
 * one channel at a time on a session.
 */
int jump_stream(struct jump *j, const char *host, int port, int *fd,
    char **msg);

/*
 * jump_stream as an sshconn_stream_fn (transport/sshconn.h): arg is the
 * jump; the stream must be open by deadline (a now_ms() value).  Returns
 * the socket or a negative err_code.
 */
int jump_connect(void *arg, const char *host, int port, long long deadline,
    char **msg);

enum jump_listen_kind {
	JUMP_LISTEN_TCP,	/* 127.0.0.1, an ephemeral port */
	JUMP_LISTEN_TCP_PORT,	/* port itself, at an address of
				   127.0.0.0/8 chosen at random: libpq then
				   matches the password file's line for
				   that port */
	JUMP_LISTEN_UNIX,	/* a socket in a new directory, mode 0700 */
};

/*
 * A local forward (for libpq, whose client cannot take a socket): every
 * connection accepted on a new listening socket becomes a stream to
 * host:port.  *lhost (heap, caller frees) and *lport are what to give
 * libpq as host and port: "127.0.0.1" and the ephemeral port, or for
 * JUMP_LISTEN_TCP_PORT the address chosen and port; or, for
 * JUMP_LISTEN_UNIX, the private directory and port, the socket being
 * named as libpq looks for it (<dir>/.s.PGSQL.<port>).  Any local user
 * can connect to a TCP listener; only this user (and root) to the
 * other.  A connection whose channel cannot be opened is closed, the
 * reason kept for jump_status.  The listener lives until jump_stop,
 * which removes its socket and directory.
 */
int jump_listen(struct jump *j, const char *host, int port, int kind,
    char **lhost, int *lport, char **msg);

/*
 * 0 while the bastion session is alive and no listener's connection
 * failed; else the error of the session's end, or of the last listener
 * connection that failed, with its message in *msg.
 */
int jump_status(struct jump *j, char **msg);

/*
 * Close every channel (callers' sockets read EOF), stop the forwarder,
 * close the bastion connection and free.  Accepts NULL.
 */
void jump_stop(struct jump *j);

#endif
