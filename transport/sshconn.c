/*
 * sshconn.c: one SSH connection -- TCP, the host key against known_hosts,
 * authentication, commands -- with libssh2 in non-blocking mode, every
 * wait bounded by a deadline, so that no host can hang the run.  Files
 * over SFTP are transport/sftp.c's, on the channels it attaches here.
 */
#include "sshconn_int.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libssh2.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/netconn.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/become.h"
#include "transport/knownhosts.h"

#define SSHCONN_DEFAULT_TIMEOUT	30000
#define SSHCONN_DEFAULT_MAX	(64 * 1024)

struct sshconn {
	int sock;
	LIBSSH2_SESSION *s;
	void *att;		/* sshconn_attach: the SFTP channels */
	void (*att_free)(struct sshconn *, void *);
	struct become *become;	/* sudo under everything; NULL: none */
	char *label;		/* "user@host:port" */
	int timeout_ms;
	int alive_ms;		/* ServerAliveInterval; 0: none */
	long long deadline;	/* ms, monotonic */
	char fp[64];
	char err[SSHCONN_ERRLEN];
	int recorded;		/* accept_new: the key was added */
	int rd_dry;		/* drained; poll has not said POLLIN */
	int tcp;		/* sock is TCP: acknowledge at once */
	unsigned short rb_off, rb_len;	/* small reads served from rb */
	unsigned char rb[256];
};

void
sshconn_set_deadline(struct sshconn *c, int timeout_ms)
{
	c->deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : c->timeout_ms);
}

void
sshconn_seterr(struct sshconn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* Append libssh2's last error to a message; returns code. */
int
sshconn_seterr_lib(struct sshconn *c, int code, const char *what)
{
	char *msg = NULL, *safe;
	int len = 0;

	if (c->s != NULL)
		libssh2_session_last_error(c->s, &msg, &len, 0);
	safe = str_printable(msg != NULL ? msg : "", 200);
	sshconn_seterr(c, "%s: %s%s%s", what, err_str(code),
	    *safe ? ": " : "", safe);
	free(safe);
	return code;
}

/* Wait until the socket is ready in the direction libssh2 wants. */
int
sshconn_wait(struct sshconn *c)
{
	struct pollfd pfd;
	int dir, left, r;

	left = (int)(c->deadline - now_ms());
	if (left <= 0)
		return ERR_TIMEOUT;
	pfd.fd = c->sock;
	pfd.events = 0;
	pfd.revents = 0;
	dir = c->s != NULL ? libssh2_session_block_directions(c->s) : 0;
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		pfd.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd.events |= POLLOUT;
	if (pfd.events == 0)
		pfd.events = POLLIN;
	if (c->rd_dry)
		pfd.events |= POLLIN;
	if (c->alive_ms > 0 && c->s != NULL && left > c->alive_ms)
		left = c->alive_ms;
	r = poll(&pfd, 1, left);
	if (r > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
		c->rd_dry = 0;
	if (r == 0 && c->alive_ms > 0 && now_ms() < c->deadline) {
		/* silence for alive_ms: ServerAliveInterval's keepalive */
		int next;

		libssh2_keepalive_send(c->s, &next);
		return 0;
	}
	if (r == 0)
		return ERR_TIMEOUT;
	if (r < 0 && errno != EINTR)
		return ERR_NET;
	return 0;
}

/*
 * libssh2's reads.  While a reply is on its way libssh2 tries to read
 * again and again, each try a recv() answering EAGAIN.  Once the socket
 * is known to be drained (recv said EAGAIN, or returned less than asked:
 * the kernel hands over everything queued) the next tries are answered
 * here, without a syscall, until poll() (sshconn_wait) says the socket is
 * readable; nothing is ever read late, at worst polled once more.
 *
 * libssh2 1.10 reads the server's banner one byte per recv(): small
 * reads are served from a 256-byte buffer filled by one recv(); a large
 * read gets what that buffer still holds first.  docs/performance.md has
 * the system calls this saves.
 *
 * On TCP every read that got something sets TCP_QUICKACK (the kernel
 * clears it again by itself): what we read is acknowledged at once, not
 * up to 40 ms later.  A server whose socket has Nagle's algorithm on (an
 * sshd before its first session, a bastion's sshd carrying only
 * forwarded channels) holds its next small packet until that
 * acknowledgement; through a bastion most exchanges waited for it
 * (docs/performance.md, run 13).
 */
static ssize_t
recv_sock(struct sshconn *c, libssh2_socket_t fd, void *buf, size_t len,
    int flags)
{
	ssize_t n;
	int one = 1;

	if (c->rd_dry)
		return -EAGAIN;
	if ((n = recv(fd, buf, len, flags)) > 0) {
		if ((size_t)n < len)
			c->rd_dry = 1;
		if (c->tcp)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one,
			    sizeof(one));
		return n;
	}
	if (n == 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		c->rd_dry = 1;
		return -EAGAIN;
	}
	return -errno;
}

static ssize_t
recv_cb(libssh2_socket_t fd, void *buf, size_t len, int flags,
    void **abstract)
{
	struct sshconn *c = *abstract;
	ssize_t n;

	if (c->rb_off == c->rb_len && len < sizeof(c->rb) / 4) {
		if ((n = recv_sock(c, fd, c->rb, sizeof(c->rb), flags)) <= 0)
			return n;
		c->rb_off = 0;
		c->rb_len = (unsigned short)n;
	}
	if (c->rb_off < c->rb_len) {
		n = c->rb_len - c->rb_off;
		if ((size_t)n > len)
			n = (ssize_t)len;
		memcpy(buf, c->rb + c->rb_off, (size_t)n);
		c->rb_off = (unsigned short)(c->rb_off + n);
		return n;
	}
	return recv_sock(c, fd, buf, len, flags);
}

int
sshconn_lib_err(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_TIMEOUT:
		return ERR_TIMEOUT;
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
		return ERR_NET;
	case LIBSSH2_ERROR_ALLOC:
		return ERR_NOMEM;
	case LIBSSH2_ERROR_AUTHENTICATION_FAILED:
	case LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED:
		return ERR_AUTH;
	case LIBSSH2_ERROR_SFTP_PROTOCOL:
		return ERR_SFTP;
	}
	return ERR_SSH;
}

int
sshconn_global_init(void)
{
	return libssh2_init(0) == 0 ? 0 : ERR_SSH;
}

void
sshconn_global_cleanup(void)
{
	libssh2_exit();
}

const char *
sshconn_errmsg(const struct sshconn *c)
{
	return c != NULL ? c->err : "out of memory";
}

const char *
sshconn_hostkey_fp(const struct sshconn *c)
{
	return c->fp;
}

int
sshconn_recorded_new_key(const struct sshconn *c)
{
	return c->recorded;
}

LIBSSH2_SESSION *
sshconn_session(struct sshconn *c)
{
	return c->s;
}

const char *
sshconn_label(const struct sshconn *c)
{
	return c->label;
}

int
sshconn_socket(const struct sshconn *c)
{
	return c->sock;
}

int
sshconn_timeout(const struct sshconn *c)
{
	return c->timeout_ms;
}

void
sshconn_readable(struct sshconn *c)
{
	c->rd_dry = 0;
}

LIBSSH2_CHANNEL *
sshconn_channel_open(struct sshconn *c, const char *what)
{
	LIBSSH2_CHANNEL *ch;

	while ((ch = libssh2_channel_open_session(c->s)) == NULL &&
	    libssh2_session_last_errno(c->s) == LIBSSH2_ERROR_EAGAIN) {
		if (sshconn_wait(c) != 0)
			break;
	}
	if (ch == NULL)
		sshconn_seterr_lib(c, ERR_SSH, what);
	return ch;
}

void
sshconn_attach(struct sshconn *c, void *p,
    void (*free_fn)(struct sshconn *, void *))
{
	c->att = p;
	c->att_free = free_fn;
}

void *
sshconn_attached(struct sshconn *c)
{
	return c->att;
}

void
sshconn_detach(struct sshconn *c)
{
	if (c->att_free != NULL)
		c->att_free(c, c->att);
	c->att = NULL;
	c->att_free = NULL;
}

struct become **
sshconn_becomep(struct sshconn *c)
{
	return &c->become;
}

/* ---- connecting ---- */

/* The caller's stream instead (sshconn_opts.stream). */
static int
stream_connect(struct sshconn *c, const struct sshconn_opts *o)
{
	char *msg = NULL;
	int fd;

	fd = o->stream(o->stream_arg, o->host, o->port, c->deadline, &msg);
	if (fd < 0)
		sshconn_seterr(c, "%s: %s", c->label,
		    msg != NULL ? msg : err_str(fd));
	else
		c->sock = fd;
	free(msg);
	return fd < 0 ? fd : 0;
}

static int
tcp_connect(struct sshconn *c, const struct sshconn_opts *o)
{
	char portstr[16], *msg;
	int fd;

	if (o->stream != NULL)
		return stream_connect(c, o);
	snprintf(portstr, sizeof(portstr), "%d", o->port);
	fd = netconn_connect(o->host, portstr, c->deadline, &msg);
	if (fd < 0) {
		sshconn_seterr(c, "%s: %s", c->label, msg);
		free(msg);
		return fd;
	}
	c->sock = fd;
	c->tcp = 1;
	return 0;
}

/*
 * Key exchange, best first: ECDH on P-256 (FIPS-approved; libssh2 does it
 * with OpenSSL's P-256 code, cheaper than its X25519 path: see
 * docs/performance.md), then what libssh2 offers by default.  Names this
 * libssh2 does not know are skipped by libssh2_session_method_pref().
 */
#define KEX_METHODS "ecdh-sha2-nistp256,curve25519-sha256," \
	"curve25519-sha256@libssh.org,ecdh-sha2-nistp384,ecdh-sha2-nistp521," \
	"diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512," \
	"diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"

/*
 * Host key types libssh2 can check, best first among those known_hosts
 * holds for the host: ECDSA P-256 before Ed25519, the cheaper of the two
 * for OpenSSL 3.0 to verify (one verification per login; the measurement
 * is in docs/performance.md).
 */
static const struct {
	int kh_type;		/* LIBSSH2_KNOWNHOST_KEY_* */
	int hk_type;		/* LIBSSH2_HOSTKEY_TYPE_* */
	const char *method;
	const char *name;
} hk_types[] = {
	{ LIBSSH2_KNOWNHOST_KEY_ECDSA_256, LIBSSH2_HOSTKEY_TYPE_ECDSA_256,
	    "ecdsa-sha2-nistp256", "ECDSA-256" },
	{ LIBSSH2_KNOWNHOST_KEY_ED25519, LIBSSH2_HOSTKEY_TYPE_ED25519,
	    "ssh-ed25519", "ED25519" },
	{ LIBSSH2_KNOWNHOST_KEY_ECDSA_384, LIBSSH2_HOSTKEY_TYPE_ECDSA_384,
	    "ecdsa-sha2-nistp384", "ECDSA-384" },
	{ LIBSSH2_KNOWNHOST_KEY_ECDSA_521, LIBSSH2_HOSTKEY_TYPE_ECDSA_521,
	    "ecdsa-sha2-nistp521", "ECDSA-521" },
	{ LIBSSH2_KNOWNHOST_KEY_SSHRSA, LIBSSH2_HOSTKEY_TYPE_RSA,
	    "ssh-rsa", "RSA" },
};
#define N_HK_TYPES (sizeof(hk_types) / sizeof(hk_types[0]))

static int
kh_lookup(LIBSSH2_KNOWNHOSTS *kh, const char *host, int port,
    const char *key, size_t keylen, int typemask)
{
	return libssh2_knownhost_checkp(kh, host, port, key, keylen,
	    typemask | LIBSSH2_KNOWNHOST_TYPE_PLAIN, NULL);
}

/*
 * Which key types known_hosts holds for host: a probe with a dummy key of
 * each type answers MISMATCH exactly when an entry of that type exists.
 */
static void
kh_methods(LIBSSH2_KNOWNHOSTS *kh, const char *host, int port,
    struct strbuf *methods)
{
	size_t i;
	int r;

	for (i = 0; i < N_HK_TYPES; i++) {
		r = kh_lookup(kh, host, port, "AAAA", 4,
		    hk_types[i].kh_type | LIBSSH2_KNOWNHOST_KEYENC_BASE64);
		if (r != LIBSSH2_KNOWNHOST_CHECK_MISMATCH &&
		    r != LIBSSH2_KNOWNHOST_CHECK_MATCH)
			continue;
		if (methods->len > 0)
			strbuf_adds(methods, ",");
		strbuf_adds(methods, hk_types[i].method);
	}
}

/* Add one known_hosts file; a missing optional file is no error. */
static int
read_known_hosts(struct sshconn *c, LIBSSH2_KNOWNHOSTS *kh, const char *path,
    int optional)
{
	if (path == NULL || (optional && access(path, F_OK) != 0))
		return 0;
	if (access(path, R_OK) != 0) {
		sshconn_seterr(c, "known_hosts %s: %s", path, strerror(errno));
		return ERR_HOSTKEY_UNKNOWN;
	}
	if (libssh2_knownhost_readfile(kh, path,
	    LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0)
		return sshconn_seterr_lib(c, ERR_PARSE, path);
	return 0;
}

/*
 * This host's entries, handed over as plain lines; the marker lines
 * (knownhosts.h) are left to check_host_key.
 */
static int
read_known_lines(struct sshconn *c, LIBSSH2_KNOWNHOSTS *kh, const char *s)
{
	const char *nl;

	for (; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s) - 1;
		if (*s == '@')
			continue;
		if (libssh2_knownhost_readline(kh, s, (size_t)(nl - s + 1),
		    LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0)
			return sshconn_seterr_lib(c, ERR_PARSE,
			    "known_hosts entry");
	}
	return 0;
}

static int
load_known_hosts(struct sshconn *c, const struct sshconn_opts *o,
    LIBSSH2_KNOWNHOSTS **out)
{
	LIBSSH2_KNOWNHOSTS *kh;
	int r;

	if ((kh = libssh2_knownhost_init(c->s)) == NULL)
		return sshconn_seterr_lib(c, ERR_NOMEM, "known_hosts");
	if (o->known_lines != NULL) {
		r = read_known_lines(c, kh, o->known_lines);
	} else if ((r = read_known_hosts(c, kh, o->known_hosts, 0)) == 0) {
		r = read_known_hosts(c, kh, o->known_hosts2, 1);
	}
	if (r != 0) {
		libssh2_knownhost_free(kh);
		return r;
	}
	*out = kh;
	return 0;
}

static void
fp_base64(struct sshconn *c, const unsigned char *h, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 7;
	unsigned long v;

	memcpy(c->fp, "SHA256:", 7);
	for (i = 0; i < n && o + 4 < sizeof(c->fp); i += 3) {
		v = (unsigned long)h[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)h[i + 1] << 8;
		if (i + 2 < n)
			v |= h[i + 2];
		c->fp[o++] = b64[(v >> 18) & 63];
		c->fp[o++] = b64[(v >> 12) & 63];
		if (i + 1 < n)
			c->fp[o++] = b64[(v >> 6) & 63];
		if (i + 2 < n)
			c->fp[o++] = b64[v & 63];
	}
	c->fp[o] = '\0';
}

static const char *
hk_name(int hk_type)
{
	size_t i;

	for (i = 0; i < N_HK_TYPES; i++)
		if (hk_types[i].hk_type == hk_type)
			return hk_types[i].name;
	return "unsupported";
}

/*
 * Trust on first use, asked for by the operator: append the key to the
 * known_hosts file as OpenSSH writes it (one write, O_APPEND, so lines of
 * concurrent connections do not mix).
 */
static int
record_host_key(struct sshconn *c, LIBSSH2_KNOWNHOSTS *kh,
    const struct sshconn_opts *o, const char *key, size_t keylen, int mask)
{
	struct libssh2_knownhost *entry = NULL;
	char name[300], line[4096];
	size_t len = 0;
	int fd, ok;

	if (o->port == 22)
		snprintf(name, sizeof(name), "%s", o->host);
	else
		snprintf(name, sizeof(name), "[%s]:%d", o->host, o->port);
	ok = libssh2_knownhost_addc(kh, name, NULL, key, keylen, NULL, 0,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | mask,
	    &entry) == 0 && libssh2_knownhost_writeline(kh, entry, line,
	    sizeof(line), &len, LIBSSH2_KNOWNHOST_FILE_OPENSSH) == 0;
	fd = ok ? open(o->known_hosts, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC, 0600) : -1;
	if (fd < 0 || write(fd, line, len) != (ssize_t)len) {
		sshconn_seterr(c, "%s: cannot record its host key in %s",
		    c->label, o->known_hosts);
		if (fd >= 0)
			close(fd);
		return ERR_HOSTKEY_UNKNOWN;
	}
	close(fd);
	c->recorded = 1;
	return 0;
}

/* A key marked @revoked is refused whatever else known_hosts says. */
static int
check_revoked(struct sshconn *c, const struct sshconn_opts *o,
    const char *key, size_t keylen, int type)
{
	char where[512];

	if (o->known_lines == NULL || !known_hosts_revoked(o->known_lines,
	    (const unsigned char *)key, keylen, where, sizeof(where)))
		return 0;
	sshconn_seterr(c, "%s: host key %s %s is marked @revoked in %s; "
	    "refusing to connect", c->label, hk_name(type), c->fp, where);
	return ERR_HOSTKEY_REVOKED;
}

/*
 * A host known only through @cert-authority is refused, never trusted on
 * first use: libssh2 cannot verify host certificates.
 */
static int
check_cert_authority(struct sshconn *c, const struct sshconn_opts *o)
{
	char where[512];

	if (o->known_lines == NULL || !known_hosts_cert_authority(
	    o->known_lines, where, sizeof(where)))
		return 0;
	sshconn_seterr(c, "%s: %s is trusted through @cert-authority in %s, "
	    "which pemrotate cannot verify; add its host key to known_hosts "
	    "(ssh-keyscan -p %d %s)", c->label, o->host, where, o->port,
	    o->host);
	return ERR_HOSTKEY_UNKNOWN;
}

/* After the handshake: the server's key must match known_hosts. */
static int
check_host_key(struct sshconn *c, LIBSSH2_KNOWNHOSTS *kh,
    const struct sshconn_opts *o)
{
	const char *key, *hash;
	size_t keylen, i;
	int type, r, mask = 0;

	key = libssh2_session_hostkey(c->s, &keylen, &type);
	if (key == NULL)
		return sshconn_seterr_lib(c, ERR_SSH, "host key");
	hash = libssh2_hostkey_hash(c->s, LIBSSH2_HOSTKEY_HASH_SHA256);
	if (hash != NULL)
		fp_base64(c, (const unsigned char *)hash, 32);
	if ((r = check_revoked(c, o, key, keylen, type)) != 0)
		return r;
	for (i = 0; i < N_HK_TYPES; i++)
		if (hk_types[i].hk_type == type)
			mask = hk_types[i].kh_type;
	if (mask == 0) {
		sshconn_seterr(c, "%s: host key type %d not supported",
		    c->label, type);
		return ERR_HOSTKEY_UNKNOWN;
	}
	r = kh_lookup(kh, o->host, o->port, key, keylen,
	    mask | LIBSSH2_KNOWNHOST_KEYENC_RAW);
	if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return 0;
	if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		sshconn_seterr(c, "%s: HOST KEY CHANGED: %s key %s does not "
		    "match %s; refusing to connect", c->label, hk_name(type),
		    c->fp, o->known_hosts);
		return ERR_HOSTKEY_CHANGED;
	}
	if ((r = check_cert_authority(c, o)) != 0)
		return r;
	if (o->accept_new)
		return record_host_key(c, kh, o, key, keylen, mask);
	sshconn_seterr(c, "%s: host key unknown: %s key %s is not in %s",
	    c->label, hk_name(type), c->fp, o->known_hosts);
	return ERR_HOSTKEY_UNKNOWN;
}

static int
handshake(struct sshconn *c, const struct sshconn_opts *o)
{
	LIBSSH2_KNOWNHOSTS *kh = NULL;
	struct strbuf m;
	int r;

	strbuf_init(&m);
	if ((r = load_known_hosts(c, o, &kh)) != 0)
		goto out;
	if (libssh2_session_method_pref(c->s, LIBSSH2_METHOD_KEX,
	    KEX_METHODS) != 0) {
		r = sshconn_seterr_lib(c, ERR_SSH, "key exchange methods");
		goto out;
	}
	kh_methods(kh, o->host, o->port, &m);
	if (m.len > 0 && libssh2_session_method_pref(c->s,
	    LIBSSH2_METHOD_HOSTKEY, m.s) != 0) {
		r = sshconn_seterr_lib(c, ERR_SSH, "host key algorithms");
		goto out;
	}
	SSHCONN_CALL(c, r, libssh2_session_handshake(c->s, c->sock));
	if (r != 0) {
		r = sshconn_seterr_lib(c, sshconn_lib_err(r), c->label);
		goto out;
	}
	r = check_host_key(c, kh, o);
 out:
	if (kh != NULL)
		libssh2_knownhost_free(kh);
	strbuf_free(&m);
	return r;
}

static int
auth_agent(struct sshconn *c, const char *user)
{
	LIBSSH2_AGENT *a;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int r, ok = 0;

	if ((a = libssh2_agent_init(c->s)) == NULL)
		return ERR_AUTH;
	SSHCONN_CALL(c, r, libssh2_agent_connect(a));
	if (r != 0)
		goto out;
	SSHCONN_CALL(c, r, libssh2_agent_list_identities(a));
	if (r != 0)
		goto out;
	while (!ok && libssh2_agent_get_identity(a, &id, prev) == 0) {
		SSHCONN_CALL(c, r, libssh2_agent_userauth(a, user, id));
		ok = (r == 0);
		prev = id;
	}
	SSHCONN_CALL(c, r, libssh2_agent_disconnect(a));
 out:
	libssh2_agent_free(a);
	return ok ? 0 : ERR_AUTH;
}

/* libssh2's signing callback: the caller's signer, in memory. */
static int
sign_cb(LIBSSH2_SESSION *session, unsigned char **sig, size_t *sig_len,
    const unsigned char *data, size_t data_len, void **abstract)
{
	const struct sshconn_signer *s = *abstract;
	unsigned char *out = malloc(64);	/* freed by libssh2 */

	if (out == NULL || s->sign(s->ctx, data, data_len, out) != 0) {
		free(out);
		return -1;
	}
	*sig = out;
	*sig_len = 64;
	return 0;
}

static int
auth_signer(struct sshconn *c, const char *user,
    const struct sshconn_signer *sg)
{
	void *abstract = (void *)sg;
	int r;

	SSHCONN_CALL(c, r, libssh2_userauth_publickey(c->s, user,
	    sg->pubblob, sg->publen, sign_cb, &abstract));
	if (r == 0)
		return 0;
	sshconn_seterr_lib(c, sshconn_lib_err(r), c->label);
	return r == LIBSSH2_ERROR_TIMEOUT ? ERR_TIMEOUT : ERR_AUTH;
}

static int
auth_key(struct sshconn *c, const char *user, const struct sshconn_key *k)
{
	int r;

	if (k->signer != NULL)
		return auth_signer(c, user, k->signer);
	SSHCONN_CALL(c, r, libssh2_userauth_publickey_fromfile_ex(c->s, user,
	    (unsigned int)strlen(user), NULL, k->file, NULL));
	if (r == 0)
		return 0;
	sshconn_seterr_lib(c, sshconn_lib_err(r), c->label);
	if (r == LIBSSH2_ERROR_FILE || r == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
		sshconn_seterr(c, "%s: authentication with %s failed "
		    "(unreadable, encrypted or unsupported key, or not "
		    "authorized)", c->label, k->file);
	return r == LIBSSH2_ERROR_TIMEOUT ? ERR_TIMEOUT : ERR_AUTH;
}

/*
 * ssh-agent first (when allowed), then each key in turn, as ssh tries its
 * identities; the server may end the session after too many (sshd's
 * MaxAuthTries): then the last refusal is the answer.
 */
static int
authenticate(struct sshconn *c, const struct sshconn_opts *o)
{
	struct sshconn_key one = { o->key_file, o->signer };
	const struct sshconn_key *keys = o->nkeys > 0 ? o->keys : &one;
	size_t i, n = o->nkeys > 0 ? o->nkeys : (o->key_file != NULL ||
	    o->signer != NULL);
	int r = ERR_AUTH;

	if (o->use_agent && getenv("SSH_AUTH_SOCK") != NULL &&
	    auth_agent(c, o->user) == 0)
		return 0;
	if (n == 0) {
		sshconn_seterr(c, "%s: authentication failed: no usable key in "
		    "ssh-agent and no key file given", c->label);
		return ERR_AUTH;
	}
	for (i = 0; i < n; i++) {
		r = auth_key(c, o->user, &keys[i]);
		if (r == 0 || r == ERR_TIMEOUT ||
		    libssh2_session_last_errno(c->s) ==
		    LIBSSH2_ERROR_SOCKET_DISCONNECT)
			return r;
	}
	if (n > 1)
		sshconn_seterr(c, "%s: authentication failed with each of "
		    "its %zu keys (the last: %s)", c->label, n,
		    keys[n - 1].file);
	return r;
}

int
sshconn_open(const struct sshconn_opts *o, struct sshconn **out)
{
	struct sshconn *c;
	int r;

	c = xcalloc(1, sizeof(*c));
	c->sock = -1;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms :
	    SSHCONN_DEFAULT_TIMEOUT;
	c->label = xasprintf("%s@%s:%d", o->user, o->host, o->port);
	*out = c;
	sshconn_set_deadline(c, o->connect_timeout_ms);
	if ((r = tcp_connect(c, o)) != 0)
		return r;
	if ((c->s = libssh2_session_init_ex(NULL, NULL, NULL, c)) == NULL) {
		sshconn_seterr(c, "%s: cannot create SSH session", c->label);
		return ERR_NOMEM;
	}
	libssh2_session_callback_set(c->s, LIBSSH2_CALLBACK_RECV,
	    (void *)recv_cb);
	libssh2_session_set_blocking(c->s, 0);
	if ((r = handshake(c, o)) != 0)
		return r;
	sshconn_set_deadline(c, 0);
	if (o->alive_interval_s > 0) {
		c->alive_ms = o->alive_interval_s * 1000;
		libssh2_keepalive_config(c->s, 1, (unsigned)o->alive_interval_s);
	}
	return authenticate(c, o);
}

void
sshconn_close(struct sshconn *c)
{
	int r;

	if (c == NULL)
		return;
	sshconn_set_deadline(c, 2000);
	/*
	 * SSH_MSG_DISCONNECT first, then our side of the socket shut: the
	 * server ends the session (and its SFTP server) on the message, and
	 * libssh2 frees the SFTP channel and the session without a channel
	 * close round trip of its own (its sends now fail at once, without
	 * SIGPIPE: libssh2 sends with MSG_NOSIGNAL).
	 */
	if (c->s != NULL)
		SSHCONN_CALL(c, r, libssh2_session_disconnect(c->s, "done"));
	if (c->sock >= 0)
		shutdown(c->sock, SHUT_RDWR);
	if (c->att_free != NULL)
		c->att_free(c, c->att);
	if (c->s != NULL)
		SSHCONN_CALL(c, r, libssh2_session_free(c->s));
	if (c->sock >= 0)
		close(c->sock);
	become_free(c->become);
	free(c->label);
	free(c);
}

/* ---- commands ---- */

void
sshconn_result_clear(struct sshconn_result *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

/* Append up to the bound; count what was dropped. */
static void
keep(struct strbuf *b, const char *p, size_t n, size_t max, int *trunc)
{
	if (b->len + n > max) {
		*trunc = 1;
		n = max > b->len ? max - b->len : 0;
	}
	strbuf_add(b, p, n);
}

/* Read stdout and stderr until EOF on both, within the deadline. */
static int
drain(struct sshconn *c, LIBSSH2_CHANNEL *ch, size_t max,
    struct strbuf *o, struct strbuf *e, int *trunc)
{
	char buf[16384];
	ssize_t n, m;

	for (;;) {
		n = libssh2_channel_read(ch, buf, sizeof(buf));
		if (n > 0)
			keep(o, buf, (size_t)n, max, trunc);
		m = libssh2_channel_read_stderr(ch, buf, sizeof(buf));
		if (m > 0)
			keep(e, buf, (size_t)m, max, trunc);
		if (n > 0 || m > 0)
			continue;
		if ((n < 0 && n != LIBSSH2_ERROR_EAGAIN) ||
		    (m < 0 && m != LIBSSH2_ERROR_EAGAIN))
			return sshconn_lib_err((int)(n < 0 ? n : m));
		if (libssh2_channel_eof(ch))
			return 0;
		if (sshconn_wait(c) != 0)
			return ERR_TIMEOUT;
	}
}

/*
 * Start cmd on ch, as the login user or through sudo (transport/become.c):
 * then what followed sudo's markers goes to o and e, and stdin is closed.
 */
static int
start_cmd(struct sshconn *c, LIBSSH2_CHANNEL *ch, const char *cmd,
    int become, size_t max, struct strbuf *o, struct strbuf *e, int *trunc)
{
	struct become_run br;
	int r;

	if (!become || c->become == NULL) {
		SSHCONN_CALL(c, r, libssh2_channel_exec(ch, cmd));
		return r != 0 ? sshconn_seterr_lib(c, sshconn_lib_err(r),
		    "exec") : 0;
	}
	if ((r = become_exec(c, ch, cmd, 1, &br)) == 0) {
		keep(o, br.o.s, br.o.len, max, trunc);
		keep(e, br.e.s, br.e.len, max, trunc);
	}
	become_run_clear(&br);
	return r;
}

static int
run_channel(struct sshconn *c, LIBSSH2_CHANNEL *ch, const char *cmd,
    int become, size_t max, struct sshconn_result *res)
{
	struct strbuf o, e;
	char *sig = NULL;
	int r;

	strbuf_init(&o);
	strbuf_init(&e);
	if ((r = start_cmd(c, ch, cmd, become, max, &o, &e,
	    &res->truncated)) != 0)
		goto out;
	if ((r = drain(c, ch, max, &o, &e, &res->truncated)) != 0) {
		sshconn_seterr(c, "%s: reading command output: %s", c->label,
		    err_str(r));
		goto out;
	}
	SSHCONN_CALL(c, r, libssh2_channel_close(ch));
	SSHCONN_CALL(c, r, libssh2_channel_wait_closed(ch));
	res->exit_status = libssh2_channel_get_exit_status(ch);
	libssh2_channel_get_exit_signal(ch, &sig, NULL, NULL, NULL, NULL,
	    NULL);
	if (sig != NULL) {
		res->exit_status = -1;
		libssh2_free(c->s, sig);
	}
	r = 0;
 out:
	res->out_len = o.len;
	res->out = strbuf_steal(&o);
	res->err_len = e.len;
	res->err = strbuf_steal(&e);
	return r;
}

int
sshconn_run(struct sshconn *c, const char *cmd, int become, size_t max,
    struct sshconn_result *res)
{
	LIBSSH2_CHANNEL *ch;
	int r, r2;

	memset(res, 0, sizeof(*res));
	res->exit_status = -1;
	if (max == 0)
		max = SSHCONN_DEFAULT_MAX;
	if ((ch = sshconn_channel_open(c, "open channel")) == NULL)
		return ERR_SSH;
	r = run_channel(c, ch, cmd, become, max, res);
	SSHCONN_CALL(c, r2, libssh2_channel_free(ch));
	return r;
}

int
sshconn_exec(struct sshconn *c, const char *cmd, size_t max,
    int timeout_ms, struct sshconn_result *res)
{
	sshconn_set_deadline(c, timeout_ms);
	return sshconn_run(c, cmd, 1, max, res);
}
