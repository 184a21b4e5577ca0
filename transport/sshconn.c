/*
 * sshconn.c: libssh2 in non-blocking mode, every wait bounded by a
 * deadline, so that no host can hang the run.
 */
#include "sshconn.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/sftpwire.h"

#define SSHCONN_DEFAULT_TIMEOUT	30000
#define SSHCONN_DEFAULT_MAX	(64 * 1024)

/*
 * One SFTP server on a channel of the session: the "sftp" subsystem (as
 * the login user), or a command that starts one as another user.
 */
struct sftpch {
	LIBSSH2_CHANNEL *ch;	/* NULL until started */
	char *cmd;		/* exec'd to start it; NULL: the subsystem */
	uint32_t id;		/* the next request id */
	unsigned ext;		/* SFTPW_EXT_*: what the server offers */
	int dead;		/* a batch broke off: replies may be due */
	struct strbuf in;	/* reply bytes read, not yet parsed */
};
#define SSHCONN_SFTP_SLOTS	3

struct sshconn {
	int sock;
	LIBSSH2_SESSION *s;
	struct sftpch sftp[SSHCONN_SFTP_SLOTS];
	struct sftpch *sf;	/* the one file operations go to */
	char *sf_want;		/* the command sshconn_sftp_as chose */
	char *label;		/* "user@host:port" */
	int timeout_ms;
	long long deadline;	/* ms, monotonic */
	char fp[64];
	char err[512];
	int recorded;		/* accept_new: the key was added */
	int rd_dry;		/* the socket is drained; poll has not said POLLIN */
	unsigned short rb_off, rb_len;	/* small reads served from rb */
	unsigned char rb[256];
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
set_deadline(struct sshconn *c, int timeout_ms)
{
	c->deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : c->timeout_ms);
}

static void __attribute__((format(printf, 2, 3)))
seterr(struct sshconn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* Append libssh2's last error to a message; returns code. */
static int
seterr_lib(struct sshconn *c, int code, const char *what)
{
	char *msg = NULL, *safe;
	int len = 0;

	if (c->s != NULL)
		libssh2_session_last_error(c->s, &msg, &len, 0);
	safe = str_printable(msg != NULL ? msg : "", 200);
	seterr(c, "%s: %s%s%s", what, err_str(code),
	    *safe ? ": " : "", safe);
	free(safe);
	return code;
}

/* Wait until the socket is ready in the direction libssh2 wants. */
static int
wait_socket(struct sshconn *c)
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
	r = poll(&pfd, 1, left);
	if (r > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
		c->rd_dry = 0;
	if (r == 0)
		return ERR_TIMEOUT;
	if (r < 0 && errno != EINTR)
		return ERR_NET;
	return 0;
}

/*
 * libssh2's reads.  While a reply is on its way libssh2 tries to read
 * again and again, each try a recv() answering EAGAIN (~120 per agent, a
 * third of pemrotate's syscalls).  Once the socket is known to be drained
 * (recv said EAGAIN, or returned less than asked: the kernel hands over
 * everything queued) the next tries are answered here, without a
 * syscall, until poll() (wait_socket) says the socket is readable;
 * nothing is ever read late, at worst polled once more.
 *
 * libssh2 1.10 reads the server's banner one byte per recv() (~40 calls
 * per login): small reads are served from a 256-byte buffer filled by one
 * recv(); a large read gets what that buffer still holds first.
 */
static ssize_t
recv_sock(struct sshconn *c, libssh2_socket_t fd, void *buf, size_t len,
    int flags)
{
	ssize_t n;

	if (c->rd_dry)
		return -EAGAIN;
	if ((n = recv(fd, buf, len, flags)) > 0) {
		if ((size_t)n < len)
			c->rd_dry = 1;
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

/* Repeat an int-returning libssh2 call while it would block. */
#define CALL(c, rc, expr) do {						\
	while (((rc) = (expr)) == LIBSSH2_ERROR_EAGAIN) {		\
		if (wait_socket(c) != 0) {				\
			(rc) = LIBSSH2_ERROR_TIMEOUT;			\
			break;						\
		}							\
	}								\
} while (0)

/* Repeat a pointer-returning libssh2 call while it would block. */
#define CALLP(c, p, expr) do {						\
	while (((p) = (expr)) == NULL &&				\
	    libssh2_session_last_errno((c)->s) == LIBSSH2_ERROR_EAGAIN) { \
		if (wait_socket(c) != 0)				\
			break;						\
	}								\
} while (0)

static int
lib_to_err(int rc)
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

/* ---- connecting ---- */

static int
connect_one(struct sshconn *c, const struct addrinfo *ai)
{
	struct pollfd pfd;
	int fd, left, soerr = 0;
	socklen_t sl = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto ok;
	if (errno != EINPROGRESS)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	left = (int)(c->deadline - now_ms());
	if (left <= 0 || poll(&pfd, 1, left) <= 0) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
	    soerr != 0) {
		errno = soerr ? soerr : EIO;
		goto fail;
	}
 ok:
	c->sock = fd;
	return 0;
 fail:
	soerr = errno;
	close(fd);
	return -soerr;
}

static int
tcp_connect(struct sshconn *c, const char *host, int port)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int r, e = ECONNREFUSED;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((r = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		seterr(c, "resolve %s: %s", c->label, gai_strerror(r));
		return ERR_NET;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((r = connect_one(c, ai)) == 0)
			break;
		e = -r;
	}
	freeaddrinfo(res);
	if (ai != NULL)
		return 0;
	seterr(c, "connect to %s: %s", c->label, strerror(e));
	return e == ETIMEDOUT ? ERR_TIMEOUT : ERR_NET;
}

/*
 * Key exchange, best first: ECDH on P-256 (FIPS-approved; libssh2 does it
 * with OpenSSL's P-256 code, about half the instructions of its X25519 path
 * per login), then what libssh2 offers by default.  Names this libssh2 does
 * not know are skipped by libssh2_session_method_pref().
 */
#define KEX_METHODS "ecdh-sha2-nistp256,curve25519-sha256," \
	"curve25519-sha256@libssh.org,ecdh-sha2-nistp384,ecdh-sha2-nistp521," \
	"diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512," \
	"diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"

/*
 * Host key types libssh2 can check, best first among those known_hosts
 * holds for the host: ECDSA P-256 before Ed25519 because OpenSSL 3.0
 * verifies it with about a fifth of the instructions (one verification per
 * login).
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
		seterr(c, "known_hosts %s: %s", path, strerror(errno));
		return ERR_HOSTKEY_UNKNOWN;
	}
	if (libssh2_knownhost_readfile(kh, path,
	    LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0)
		return seterr_lib(c, ERR_PARSE, path);
	return 0;
}

/* This host's entries, handed over as plain lines. */
static int
read_known_lines(struct sshconn *c, LIBSSH2_KNOWNHOSTS *kh, const char *s)
{
	const char *nl;

	for (; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s) - 1;
		if (libssh2_knownhost_readline(kh, s, (size_t)(nl - s + 1),
		    LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0)
			return seterr_lib(c, ERR_PARSE, "known_hosts entry");
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
		return seterr_lib(c, ERR_NOMEM, "known_hosts");
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
		seterr(c, "%s: cannot record its host key in %s", c->label,
		    o->known_hosts);
		if (fd >= 0)
			close(fd);
		return ERR_HOSTKEY_UNKNOWN;
	}
	close(fd);
	c->recorded = 1;
	return 0;
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
		return seterr_lib(c, ERR_SSH, "host key");
	hash = libssh2_hostkey_hash(c->s, LIBSSH2_HOSTKEY_HASH_SHA256);
	if (hash != NULL)
		fp_base64(c, (const unsigned char *)hash, 32);
	for (i = 0; i < N_HK_TYPES; i++)
		if (hk_types[i].hk_type == type)
			mask = hk_types[i].kh_type;
	if (mask == 0) {
		seterr(c, "%s: host key type %d not supported", c->label, type);
		return ERR_HOSTKEY_UNKNOWN;
	}
	r = kh_lookup(kh, o->host, o->port, key, keylen,
	    mask | LIBSSH2_KNOWNHOST_KEYENC_RAW);
	if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return 0;
	if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		seterr(c, "%s: HOST KEY CHANGED: %s key %s does not match "
		    "%s; refusing to connect", c->label, hk_name(type), c->fp,
		    o->known_hosts);
		return ERR_HOSTKEY_CHANGED;
	}
	if (o->accept_new)
		return record_host_key(c, kh, o, key, keylen, mask);
	seterr(c, "%s: host key unknown: %s key %s is not in %s", c->label,
	    hk_name(type), c->fp, o->known_hosts);
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
		r = seterr_lib(c, ERR_SSH, "key exchange methods");
		goto out;
	}
	kh_methods(kh, o->host, o->port, &m);
	if (m.len > 0 && libssh2_session_method_pref(c->s,
	    LIBSSH2_METHOD_HOSTKEY, m.s) != 0) {
		r = seterr_lib(c, ERR_SSH, "host key algorithms");
		goto out;
	}
	CALL(c, r, libssh2_session_handshake(c->s, c->sock));
	if (r != 0) {
		r = seterr_lib(c, lib_to_err(r), c->label);
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
	CALL(c, r, libssh2_agent_connect(a));
	if (r != 0)
		goto out;
	CALL(c, r, libssh2_agent_list_identities(a));
	if (r != 0)
		goto out;
	while (!ok && libssh2_agent_get_identity(a, &id, prev) == 0) {
		CALL(c, r, libssh2_agent_userauth(a, user, id));
		ok = (r == 0);
		prev = id;
	}
	CALL(c, r, libssh2_agent_disconnect(a));
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
auth_signer(struct sshconn *c, const struct sshconn_opts *o)
{
	void *abstract = (void *)o->signer;
	int r;

	CALL(c, r, libssh2_userauth_publickey(c->s, o->user,
	    o->signer->pubblob, o->signer->publen, sign_cb, &abstract));
	if (r == 0)
		return 0;
	seterr_lib(c, lib_to_err(r), c->label);
	return r == LIBSSH2_ERROR_TIMEOUT ? ERR_TIMEOUT : ERR_AUTH;
}

static int
authenticate(struct sshconn *c, const struct sshconn_opts *o)
{
	int r;

	if (o->use_agent && getenv("SSH_AUTH_SOCK") != NULL &&
	    auth_agent(c, o->user) == 0)
		return 0;
	if (o->signer != NULL)
		return auth_signer(c, o);
	if (o->key_file == NULL) {
		seterr(c, "%s: authentication failed: no usable key in "
		    "ssh-agent and no key file given", c->label);
		return ERR_AUTH;
	}
	CALL(c, r, libssh2_userauth_publickey_fromfile_ex(c->s, o->user,
	    (unsigned int)strlen(o->user), NULL, o->key_file, NULL));
	if (r == 0)
		return 0;
	seterr_lib(c, lib_to_err(r), c->label);
	if (r == LIBSSH2_ERROR_FILE || r == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
		seterr(c, "%s: authentication with %s failed (unreadable, "
		    "encrypted or unsupported key, or not authorized)",
		    c->label, o->key_file);
	return r == LIBSSH2_ERROR_TIMEOUT ? ERR_TIMEOUT : ERR_AUTH;
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
	c->sf = &c->sftp[0];
	*out = c;
	set_deadline(c, 0);
	if ((r = tcp_connect(c, o->host, o->port)) != 0)
		return r;
	if ((c->s = libssh2_session_init_ex(NULL, NULL, NULL, c)) == NULL) {
		seterr(c, "%s: cannot create SSH session", c->label);
		return ERR_NOMEM;
	}
	libssh2_session_callback_set(c->s, LIBSSH2_CALLBACK_RECV,
	    (void *)recv_cb);
	libssh2_session_set_blocking(c->s, 0);
	if ((r = handshake(c, o)) != 0)
		return r;
	return authenticate(c, o);
}

/* Free one SFTP channel's state (the session may be gone already). */
static void
sftpch_free(struct sshconn *c, struct sftpch *f)
{
	int r;

	if (f->ch != NULL)
		CALL(c, r, libssh2_channel_free(f->ch));
	freezero(f->in.s, f->in.cap);
	free(f->cmd);
	memset(f, 0, sizeof(*f));
}

void
sshconn_close(struct sshconn *c)
{
	size_t i;
	int r;

	if (c == NULL)
		return;
	set_deadline(c, 2000);
	/*
	 * SSH_MSG_DISCONNECT first, then our side of the socket shut: the
	 * server ends the session (and its SFTP server) on the message, and
	 * libssh2 frees the SFTP channel and the session without a channel
	 * close round trip of its own (its sends now fail at once, without
	 * SIGPIPE: libssh2 sends with MSG_NOSIGNAL).
	 */
	if (c->s != NULL)
		CALL(c, r, libssh2_session_disconnect(c->s, "done"));
	if (c->sock >= 0)
		shutdown(c->sock, SHUT_RDWR);
	for (i = 0; i < SSHCONN_SFTP_SLOTS; i++)
		sftpch_free(c, &c->sftp[i]);
	if (c->s != NULL)
		CALL(c, r, libssh2_session_free(c->s));
	if (c->sock >= 0)
		close(c->sock);
	free(c->sf_want);
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
			return lib_to_err((int)(n < 0 ? n : m));
		if (libssh2_channel_eof(ch))
			return 0;
		if (wait_socket(c) != 0)
			return ERR_TIMEOUT;
	}
}

static int
run_channel(struct sshconn *c, LIBSSH2_CHANNEL *ch, const char *cmd,
    size_t max, struct sshconn_result *res)
{
	struct strbuf o, e;
	char *sig = NULL;
	int r;

	strbuf_init(&o);
	strbuf_init(&e);
	CALL(c, r, libssh2_channel_exec(ch, cmd));
	if (r != 0) {
		r = seterr_lib(c, lib_to_err(r), "exec");
		goto out;
	}
	if ((r = drain(c, ch, max, &o, &e, &res->truncated)) != 0) {
		seterr(c, "%s: reading command output: %s", c->label,
		    err_str(r));
		goto out;
	}
	CALL(c, r, libssh2_channel_close(ch));
	CALL(c, r, libssh2_channel_wait_closed(ch));
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
sshconn_exec(struct sshconn *c, const char *cmd, size_t max,
    int timeout_ms, struct sshconn_result *res)
{
	LIBSSH2_CHANNEL *ch;
	int r, r2;

	memset(res, 0, sizeof(*res));
	res->exit_status = -1;
	set_deadline(c, timeout_ms);
	if (max == 0)
		max = SSHCONN_DEFAULT_MAX;
	CALLP(c, ch, libssh2_channel_open_session(c->s));
	if (ch == NULL)
		return seterr_lib(c, ERR_SSH, "open channel");
	r = run_channel(c, ch, cmd, max, res);
	CALL(c, r2, libssh2_channel_free(ch));
	return r;
}

/* ---- files: SFTP version 3, requests pipelined ---- */

/*
 * libssh2's SFTP functions wait for each reply before the next request:
 * a file written with them took five round trips (open, chown, write,
 * fsync, close).  This speaks the protocol (draft-ietf-secsh-filexfer-02,
 * what OpenSSH's sftp-server implements) on a channel of the session and
 * sends the requests that do not depend on an answer together: a file is
 * written in two round trips (open; chown, write, fsync and close), any
 * number of files in two, a file read in two, stats in one.  A server
 * processes requests in the order received; replies are matched by id.
 */
#define SFTP_CHUNK	32768		/* per READ and WRITE */
#define SFTP_BATCH	32		/* READ requests in flight at once */

/* One reply: its type and what follows the request id. */
struct sftp_reply {
	uint32_t id;
	int type;
	unsigned char *data;
	size_t len;
};

/* Requests sent together, and their replies as they come. */
struct batch {
	struct strbuf out;
	uint32_t *id;
	const char **what;	/* each request's name in messages */
	struct sftp_reply *rep;
	size_t n, cap, got;
	int secret;		/* wipe what was sent and received */
};

static void
put_u32(struct strbuf *b, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)(v >> 24),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 8),
	    (unsigned char)v };

	strbuf_add(b, p, 4);
}

static void
put_u64(struct strbuf *b, uint64_t v)
{
	put_u32(b, (uint32_t)(v >> 32));
	put_u32(b, (uint32_t)v);
}

static void
put_str(struct strbuf *b, const void *p, size_t n)
{
	put_u32(b, (uint32_t)n);
	strbuf_add(b, p, n);
}

static void
batch_init(struct batch *b, int secret)
{
	memset(b, 0, sizeof(*b));
	strbuf_init(&b->out);
	b->secret = secret;
}

/*
 * Room for bytes of requests from the start: a batch carrying a key never
 * grows (a grown buffer would leave copies behind in freed memory).
 */
static void
batch_reserve(struct batch *b, size_t bytes)
{
	if (b->out.len == 0 && bytes + 1 > b->out.cap) {
		free(b->out.s);
		b->out.s = xmalloc(bytes + 1);
		b->out.cap = bytes + 1;
		b->out.s[0] = '\0';
	}
}

static void
batch_clear(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		if (b->secret && b->rep[i].data != NULL)
			wipe(b->rep[i].data, b->rep[i].len);
		free(b->rep[i].data);
	}
	if (b->secret && b->out.s != NULL)
		wipe(b->out.s, b->out.cap);
	strbuf_free(&b->out);
	free(b->id);
	free(b->what);
	free(b->rep);
	memset(b, 0, sizeof(*b));
}

/*
 * Start a request of type in b: its length is filled in by req_end.
 * Returns its index in the batch.
 */
static size_t
req_begin(struct sshconn *c, struct batch *b, int type)
{
	size_t i = b->n++;

	if (b->n > b->cap) {
		b->cap = b->cap ? 2 * b->cap : 8;
		b->id = xrealloc(b->id, b->cap * sizeof(*b->id));
		b->what = xrealloc(b->what, b->cap * sizeof(*b->what));
		b->rep = xrealloc(b->rep, b->cap * sizeof(*b->rep));
	}
	b->id[i] = c->sf->id++;
	b->what[i] = "";
	memset(&b->rep[i], 0, sizeof(b->rep[i]));
	b->rep[i].type = -1;
	put_u32(&b->out, 0);
	strbuf_add(&b->out, &(unsigned char){ (unsigned char)type }, 1);
	put_u32(&b->out, b->id[i]);
	return i;
}

/* Fill in the length of the request that started at offset start. */
static void
req_end(struct batch *b, size_t start)
{
	uint32_t l = (uint32_t)(b->out.len - start - 4);
	unsigned char *p = (unsigned char *)b->out.s + start;

	p[0] = (unsigned char)(l >> 24);
	p[1] = (unsigned char)(l >> 16);
	p[2] = (unsigned char)(l >> 8);
	p[3] = (unsigned char)l;
}

/* A request naming one path (STAT, REMOVE, OPEN's start...). */
static size_t
req_path(struct sshconn *c, struct batch *b, int type, const char *path)
{
	size_t start = b->out.len, i = req_begin(c, b, type);

	put_str(&b->out, path, strlen(path));
	req_end(b, start);
	return i;
}

static size_t
req_handle(struct sshconn *c, struct batch *b, int type,
    const struct sftp_reply *h)
{
	size_t start = b->out.len, i = req_begin(c, b, type);

	put_str(&b->out, h->data + 8, h->len - 8);
	req_end(b, start);
	return i;
}

/* Write all of buf to the SFTP channel. */
static int
chan_write(struct sshconn *c, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		CALL(c, n, libssh2_channel_write(c->sf->ch, buf, len));
		if (n < 0)
			return seterr_lib(c, lib_to_err((int)n), "SFTP");
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read from the SFTP channel until the input holds one whole packet. */
static int
chan_packet(struct sshconn *c, size_t *plen)
{
	ssize_t n;
	int k;

	for (;;) {
		k = sftpw_packet((unsigned char *)c->sf->in.s, c->sf->in.len,
		    plen);
		if (k > 0)
			return 0;
		if (k < 0) {
			seterr(c, "%s: SFTP: malformed reply (%lu bytes)",
			    c->label, (unsigned long)sftpw_u32(
			    (unsigned char *)c->sf->in.s));
			return ERR_SFTP;
		}
		if (c->sf->in.cap - c->sf->in.len < SFTP_CHUNK + 64) {
			/* moved by hand: the old block is wiped, not freed
			 * with a secret in it */
			char *nb = xmalloc(c->sf->in.cap + SFTP_CHUNK + 64);

			if (c->sf->in.len > 0)
				memcpy(nb, c->sf->in.s, c->sf->in.len);
			freezero(c->sf->in.s, c->sf->in.cap);
			c->sf->in.s = nb;
			c->sf->in.cap += SFTP_CHUNK + 64;
		}
		CALL(c, n, libssh2_channel_read(c->sf->ch, c->sf->in.s +
		    c->sf->in.len, c->sf->in.cap - c->sf->in.len - 1));
		if (n == 0 && libssh2_channel_eof(c->sf->ch)) {
			seterr(c, "%s: SFTP: the server closed the channel",
			    c->label);
			return ERR_SFTP;
		}
		if (n < 0)
			return seterr_lib(c, lib_to_err((int)n), "SFTP");
		c->sf->in.len += (size_t)n;
	}
}

/*
 * Nothing left over (the server answers only what was asked): the input
 * buffer goes, so a session kept between phases holds none (1000 sessions
 * would hold 32 MB).
 */
static void
in_release(struct sshconn *c, int secret)
{
	if (c->sf->in.len > 0 || c->sf->in.s == NULL)
		return;
	if (secret)
		wipe(c->sf->in.s, c->sf->in.cap);
	free(c->sf->in.s);
	c->sf->in.s = NULL;
	c->sf->in.cap = 0;
}

/*
 * Send what b holds, then collect a reply for every request of b.  A batch
 * that breaks off leaves the channel unusable (replies may still come).
 */
static int
batch_run(struct sshconn *c, struct batch *b)
{
	size_t plen, i;
	uint32_t id;
	int r;

	if ((r = chan_write(c, b->out.s, b->out.len)) != 0)
		goto dead;
	while (b->got < b->n) {
		if ((r = chan_packet(c, &plen)) != 0)
			goto dead;
		r = ERR_SFTP;
		if (plen < 5) {
			seterr(c, "%s: SFTP: malformed reply", c->label);
			goto dead;
		}
		id = sftpw_u32((unsigned char *)c->sf->in.s + 5);
		for (i = 0; i < b->n; i++)
			if (b->id[i] == id && b->rep[i].type < 0)
				break;
		if (i == b->n) {
			seterr(c, "%s: SFTP: reply to no request (id %lu)",
			    c->label, (unsigned long)id);
			goto dead;
		}
		b->rep[i].type = (unsigned char)c->sf->in.s[4];
		b->rep[i].len = plen - 1;	/* id and what follows */
		b->rep[i].data = xmalloc(plen);
		memcpy(b->rep[i].data, c->sf->in.s + 5, plen - 1);
		b->got++;
		if (b->secret)
			wipe(c->sf->in.s, 4 + plen);
		memmove(c->sf->in.s, c->sf->in.s + 4 + plen,
		    c->sf->in.len - 4 - plen);
		c->sf->in.len -= 4 + plen;
	}
	in_release(c, b->secret);
	return 0;
 dead:
	c->sf->dead = 1;
	return r;
}

/* The status code of a STATUS reply (FX_FAILURE if cut short), else -1. */
static long
rep_status(const struct sftp_reply *rp)
{
	return sftpw_status(rp->type, rp->data, rp->len);
}

/*
 * 0 if rp is an OK status (or, with want, a reply of that type), else the
 * error set as "what path: ... (SFTP status N)".
 */
static int
rep_check(struct sshconn *c, const struct sftp_reply *rp, int want,
    const char *what, const char *path)
{
	const unsigned char *h;
	size_t hl;
	long st;
	int code;
	char *safe;

	/* a HANDLE is an id and one string, nothing else */
	if (want != 0 && rp->type == want && rp->len >= 4 &&
	    (want != FXP_HANDLE || sftpw_handle(rp->type, rp->data, rp->len,
	    &h, &hl) == 0))
		return 0;
	st = rep_status(rp);
	if (want == 0 && st == FX_OK)
		return 0;
	safe = str_printable(path, 300);
	if (st < 0) {
		seterr(c, "%s %s: SFTP: unexpected reply (type %d)", what,
		    safe, rp->type);
		free(safe);
		return ERR_SFTP;
	}
	if (st == FX_NO_SUCH_FILE)
		code = ERR_NOTFOUND;
	else if (st == FX_PERMISSION_DENIED)
		code = ERR_PERM;
	else if (st == FX_FAILURE || st == FX_OK || st == FX_EOF)
		code = ERR_IO;
	else
		code = ERR_SFTP;
	seterr(c, "%s %s: %s (SFTP status %ld)", what, safe, err_str(code),
	    st);
	free(safe);
	return code;
}

/* A reply of the right type whose contents do not hold together. */
static int
bad_reply(struct sshconn *c, const char *what, const char *path)
{
	char *safe = str_printable(path, 300);

	seterr(c, "%s %s: SFTP: malformed reply", what, safe);
	free(safe);
	return ERR_SFTP;
}

static int
same_cmd(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* Start the channel's SFTP server: INIT, VERSION, extensions. */
static int
sftpch_start(struct sshconn *c)
{
	struct batch b;
	uint32_t version;
	size_t plen;
	int r;

	CALLP(c, c->sf->ch, libssh2_channel_open_session(c->s));
	if (c->sf->ch == NULL)
		return seterr_lib(c, ERR_SFTP, "start SFTP");
	libssh2_channel_handle_extended_data2(c->sf->ch,
	    LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE);
	if (c->sf->cmd != NULL)
		CALL(c, r, libssh2_channel_exec(c->sf->ch, c->sf->cmd));
	else
		CALL(c, r, libssh2_channel_subsystem(c->sf->ch, "sftp"));
	if (r != 0)
		return seterr_lib(c, ERR_SFTP, "start SFTP");
	batch_init(&b, 0);
	put_u32(&b.out, 5);
	strbuf_add(&b.out, &(unsigned char){ FXP_INIT }, 1);
	put_u32(&b.out, 3);
	r = chan_write(c, b.out.s, b.out.len);
	batch_clear(&b);
	if (r != 0 || (r = chan_packet(c, &plen)) != 0) {
		if (c->sf->cmd != NULL)
			seterr(c, "%s: SFTP: no SFTP server started as the "
			    "file's owner (needs setpriv and OpenSSH's "
			    "sftp-server on the host)", c->label);
		return r != 0 ? r : ERR_SFTP;
	}
	if (sftpw_version((unsigned char *)c->sf->in.s + 4, plen, &version,
	    &c->sf->ext) != 0 || version < 3) {
		seterr(c, "%s: SFTP: the server does not speak version 3",
		    c->label);
		return ERR_SFTP;
	}
	memmove(c->sf->in.s, c->sf->in.s + 4 + plen,
	    c->sf->in.len - 4 - plen);
	c->sf->in.len -= 4 + plen;
	in_release(c, 0);
	return 0;
}

/*
 * The SFTP channel sshconn_sftp_as chose, started on first use.  Up to
 * SSHCONN_SFTP_SLOTS are kept; a new one beyond that replaces the oldest.
 */
static int
sftp_ready(struct sshconn *c)
{
	struct sftpch *f = NULL;
	size_t i;
	int r;

	for (i = 0; i < SSHCONN_SFTP_SLOTS && f == NULL; i++)
		if ((c->sftp[i].ch != NULL || c->sftp[i].dead) &&
		    same_cmd(c->sftp[i].cmd, c->sf_want))
			f = &c->sftp[i];
	for (i = 0; i < SSHCONN_SFTP_SLOTS && f == NULL; i++)
		if (c->sftp[i].ch == NULL && !c->sftp[i].dead)
			f = &c->sftp[i];
	if (f == NULL) {
		f = &c->sftp[0];
		sftpch_free(c, f);
		memmove(&c->sftp[0], &c->sftp[1], (SSHCONN_SFTP_SLOTS - 1) *
		    sizeof(c->sftp[0]));
		f = &c->sftp[SSHCONN_SFTP_SLOTS - 1];
		memset(f, 0, sizeof(*f));
	}
	c->sf = f;
	if (f->dead) {
		seterr(c, "%s: SFTP: the channel broke off earlier", c->label);
		return ERR_SFTP;
	}
	if (f->ch != NULL)
		return 0;
	f->cmd = c->sf_want != NULL ? xstrdup(c->sf_want) : NULL;
	if ((r = sftpch_start(c)) != 0) {
		sftpch_free(c, f);
		f->dead = 1;	/* not tried again on this connection */
		f->cmd = c->sf_want != NULL ? xstrdup(c->sf_want) : NULL;
	}
	return r;
}

int
sshconn_sftp_as(struct sshconn *c, const char *cmd)
{
	free(c->sf_want);
	c->sf_want = cmd != NULL ? xstrdup(cmd) : NULL;
	return 0;
}

/* Start an operation: a fresh deadline and the SFTP channel. */
static int
sftp_begin(struct sshconn *c)
{
	set_deadline(c, 0);
	return sftp_ready(c);
}

/* OPEN with pflags and (when creating) permissions; index in b. */
static size_t
req_open(struct sshconn *c, struct batch *b, const char *path,
    uint32_t pflags, unsigned long mode)
{
	size_t start = b->out.len, i = req_begin(c, b, FXP_OPEN);

	put_str(&b->out, path, strlen(path));
	put_u32(&b->out, pflags);
	if (pflags & FXF_CREAT) {
		put_u32(&b->out, ATTR_PERMISSIONS);
		put_u32(&b->out, (uint32_t)(mode & 07777));
	} else {
		put_u32(&b->out, 0);
	}
	req_end(b, start);
	return i;
}

static int
attrs_many(struct sshconn *c, int type, const char *const *paths, size_t n,
    struct sshconn_stat *st, int *rcs)
{
	const char *what = type == FXP_LSTAT ? "lstat" : "stat";
	struct batch b;
	size_t i, k, m;
	int r = 0;

	if ((r = sftp_begin(c)) != 0)
		return r;
	for (k = 0; k < n && r == 0; k += m) {
		m = n - k < SFTP_BATCH ? n - k : SFTP_BATCH;
		batch_init(&b, 0);
		for (i = 0; i < m; i++)
			req_path(c, &b, type, paths[k + i]);
		/* backwards: the first failure's message is the one left */
		if ((r = batch_run(c, &b)) == 0) {
			for (i = m; i-- > 0;) {
				rcs[k + i] = rep_check(c, &b.rep[i], FXP_ATTRS,
				    what, paths[k + i]);
				if (rcs[k + i] == 0 && sftpw_attrs(b.rep[i].type,
				    b.rep[i].data, b.rep[i].len, &st[k + i]))
					rcs[k + i] = bad_reply(c, what,
					    paths[k + i]);
			}
		}
		batch_clear(&b);
	}
	return r;
}

int
sshconn_stat_many(struct sshconn *c, const char *const *paths, size_t n,
    struct sshconn_stat *st, int *rcs)
{
	return attrs_many(c, FXP_STAT, paths, n, st, rcs);
}

int
sshconn_lstat_many(struct sshconn *c, const char *const *paths, size_t n,
    struct sshconn_stat *st, int *rcs)
{
	return attrs_many(c, FXP_LSTAT, paths, n, st, rcs);
}

int
sshconn_stat(struct sshconn *c, const char *path, struct sshconn_stat *st)
{
	int r, rc = 0;

	if ((r = sshconn_stat_many(c, &path, 1, st, &rc)) != 0)
		return r;
	return rc;
}

int
sshconn_lstat(struct sshconn *c, const char *path, struct sshconn_stat *st)
{
	int r, rc = 0;

	if ((r = sshconn_lstat_many(c, &path, 1, st, &rc)) != 0)
		return r;
	return rc;
}

int
sshconn_sftp_ext(struct sshconn *c, unsigned *ext)
{
	int r;

	if ((r = sftp_begin(c)) != 0)
		return r;
	*ext = c->sf->ext;
	return 0;
}

int
sshconn_readlink(struct sshconn *c, const char *path, char **target)
{
	const unsigned char *name;
	struct batch b;
	size_t nl;
	int r;

	*target = NULL;
	if ((r = sftp_begin(c)) != 0)
		return r;
	batch_init(&b, 0);
	req_path(c, &b, FXP_READLINK, path);
	if ((r = batch_run(c, &b)) == 0 &&
	    (r = rep_check(c, &b.rep[0], FXP_NAME, "readlink", path)) == 0) {
		if (sftpw_name1(b.rep[0].type, b.rep[0].data, b.rep[0].len,
		    &name, &nl) != 0 || nl == 0 || memchr(name, 0, nl))
			r = bad_reply(c, "readlink", path);
		else
			*target = xstrndup((const char *)name, nl);
	}
	batch_clear(&b);
	return r;
}

int
sshconn_mkdir(struct sshconn *c, const char *path, unsigned long mode)
{
	struct batch b;
	size_t start;
	int r;

	if ((r = sftp_begin(c)) != 0)
		return r;
	batch_init(&b, 0);
	start = b.out.len;
	req_begin(c, &b, FXP_MKDIR);
	put_str(&b.out, path, strlen(path));
	put_u32(&b.out, ATTR_PERMISSIONS);
	put_u32(&b.out, (uint32_t)(mode & 07777));
	req_end(&b, start);
	if ((r = batch_run(c, &b)) == 0)
		r = rep_check(c, &b.rep[0], 0, "mkdir", path);
	batch_clear(&b);
	return r;
}

int
sshconn_rmdir(struct sshconn *c, const char *path)
{
	struct batch b;
	int r;

	if ((r = sftp_begin(c)) != 0)
		return r;
	batch_init(&b, 0);
	req_path(c, &b, FXP_RMDIR, path);
	if ((r = batch_run(c, &b)) == 0)
		r = rep_check(c, &b.rep[0], 0, "rmdir", path);
	batch_clear(&b);
	return r;
}

/* OPEN an existing file (read only), FSETSTAT owner, CLOSE. */
int
sshconn_chown_handle(struct sshconn *c, const char *path, long uid, long gid)
{
	struct batch ob, b;
	size_t start;
	int r;

	if ((r = sftp_begin(c)) != 0)
		return r;
	batch_init(&ob, 0);
	req_open(c, &ob, path, FXF_READ, 0);
	if ((r = batch_run(c, &ob)) == 0)
		r = rep_check(c, &ob.rep[0], FXP_HANDLE, "open", path);
	if (r != 0) {
		batch_clear(&ob);
		return r;
	}
	batch_init(&b, 0);
	start = b.out.len;
	req_begin(c, &b, FXP_FSETSTAT);
	put_str(&b.out, ob.rep[0].data + 8, ob.rep[0].len - 8);
	put_u32(&b.out, ATTR_UIDGID);
	put_u32(&b.out, (uint32_t)uid);
	put_u32(&b.out, (uint32_t)gid);
	req_end(&b, start);
	req_handle(c, &b, FXP_CLOSE, &ob.rep[0]);
	if ((r = batch_run(c, &b)) == 0 &&
	    (r = rep_check(c, &b.rep[1], 0, "close", path)) == 0)
		r = rep_check(c, &b.rep[0], 0, "chown", path);
	batch_clear(&b);
	batch_clear(&ob);
	return r;
}

/* Close a handle from an OPEN reply (its own round trip). */
static void
close_handle(struct sshconn *c, const struct sftp_reply *h)
{
	struct batch b;

	batch_init(&b, 0);
	req_handle(c, &b, FXP_CLOSE, h);
	batch_run(c, &b);
	batch_clear(&b);
}

int
sshconn_read_file(struct sshconn *c, const char *path, size_t max,
    int secret, char **buf, size_t *len)
{
	struct batch ob, b;
	struct strbuf out;
	const unsigned char *d;
	size_t i, dl, nreq, off = 0, ask;
	int r, done = 0, closed = 0;
	uint64_t at;

	if ((r = sftp_begin(c)) != 0)
		return r;
	batch_init(&ob, 0);
	req_open(c, &ob, path, FXF_READ, 0);
	if ((r = batch_run(c, &ob)) == 0)
		r = rep_check(c, &ob.rep[0], FXP_HANDLE, "open", path);
	if (r != 0) {
		batch_clear(&ob);
		return r;
	}
	strbuf_init(&out);
	/* a secret: one buffer of max + 1 bytes, never moved (no copies) */
	if (secret) {
		free(out.s);
		out.s = secret_alloc(max + 1);
		out.cap = max + 1;
	}
	/*
	 * READs for max + 1 bytes (one more tells a file too large) in
	 * batches; the batch that covers them all also closes the handle.
	 */
	while (r == 0 && !done) {
		batch_init(&b, secret);
		for (nreq = 0, at = off; nreq < SFTP_BATCH - 1 &&
		    at < (uint64_t)max + 1; nreq++, at += ask) {
			size_t start = b.out.len;

			ask = (size_t)((uint64_t)max + 1 - at < SFTP_CHUNK ?
			    (uint64_t)max + 1 - at : SFTP_CHUNK);
			req_begin(c, &b, FXP_READ);
			put_str(&b.out, ob.rep[0].data + 8,
			    ob.rep[0].len - 8);
			put_u64(&b.out, at);
			put_u32(&b.out, (uint32_t)ask);
			req_end(&b, start);
		}
		if (at >= (uint64_t)max + 1) {
			req_handle(c, &b, FXP_CLOSE, &ob.rep[0]);
			closed = 1;
		}
		if ((r = batch_run(c, &b)) != 0) {
			batch_clear(&b);
			break;
		}
		for (i = 0; i < nreq && r == 0; i++) {
			ask = (size_t)((uint64_t)max + 1 - off < SFTP_CHUNK ?
			    (uint64_t)max + 1 - off : SFTP_CHUNK);
			if (done) {
				/* after the end, only more ends */
				if (b.rep[i].type != FXP_STATUS ||
				    rep_status(&b.rep[i]) != FX_EOF) {
					seterr(c, "read %s: the server "
					    "answered a short read", path);
					r = ERR_SFTP;
				}
				continue;
			}
			if (b.rep[i].type == FXP_STATUS &&
			    rep_status(&b.rep[i]) == FX_EOF) {
				done = 1;
				continue;
			}
			if ((r = rep_check(c, &b.rep[i], FXP_DATA, "read",
			    path)) != 0)
				break;
			if (sftpw_data(b.rep[i].type, b.rep[i].data,
			    b.rep[i].len, ask, &d, &dl) != 0) {
				r = bad_reply(c, "read", path);
				break;
			}
			if (out.len + dl > max) {
				r = ERR_TOOBIG;
				break;
			}
			strbuf_add(&out, d, dl);
			off += dl;
			if (dl < ask)
				done = 1;
		}
		if (r == 0 && !done && closed)
			r = ERR_TOOBIG;
		batch_clear(&b);
	}
	if (!closed)
		close_handle(c, &ob.rep[0]);
	batch_clear(&ob);
	if (r == ERR_TOOBIG)
		seterr(c, "%s: larger than %zu bytes", path, max);
	if (r != 0) {
		if (secret)
			secret_free(out.s);
		else
			freezero(out.s, out.cap);
		return r;
	}
	*len = out.len;
	*buf = strbuf_steal(&out);
	return 0;
}

/*
 * Create files[0..n) (O_CREAT|O_EXCL, with their mode from the first
 * byte), then for each: its owner, its bytes, fsync, close.  Two round
 * trips for all.  A file with replace set whose creation fails is removed
 * and created once more (a leftover of an earlier, killed try).  If any
 * file fails, every file created here is removed again.  Returns the first
 * failure.
 */
int
sshconn_write_new_many(struct sshconn *c, const struct sshconn_newfile *f,
    size_t n)
{
	struct batch ob, b, rb;
	size_t i, k, off, m, *first, *cnt;
	int r, rc = 0, *frc;

	if ((r = sftp_begin(c)) != 0)
		return r;
	batch_init(&ob, 0);
	for (i = 0; i < n; i++)
		req_open(c, &ob, f[i].path, FXF_WRITE | FXF_CREAT | FXF_EXCL,
		    f[i].mode);
	if ((r = batch_run(c, &ob)) != 0) {
		batch_clear(&ob);
		return r;
	}
	first = xcalloc(n + 1, sizeof(*first));
	cnt = xcalloc(n + 1, sizeof(*cnt));
	frc = xcalloc(n + 1, sizeof(*frc));
	for (i = 0; i < n; i++) {
		if ((frc[i] = rep_check(c, &ob.rep[i], FXP_HANDLE, "create",
		    f[i].path)) == 0 || !f[i].replace)
			continue;
		/* a leftover of an earlier try: removed, created once more */
		batch_init(&rb, 0);
		req_path(c, &rb, FXP_REMOVE, f[i].path);
		req_open(c, &rb, f[i].path, FXF_WRITE | FXF_CREAT | FXF_EXCL,
		    f[i].mode);
		if (batch_run(c, &rb) == 0 && rep_check(c, &rb.rep[1],
		    FXP_HANDLE, "create", f[i].path) == 0) {
			free(ob.rep[i].data);
			ob.rep[i] = rb.rep[1];
			rb.rep[1].data = NULL;
			frc[i] = 0;
		} else {
			/* the first answer is the one to tell */
			rep_check(c, &ob.rep[i], FXP_HANDLE, "create",
			    f[i].path);
		}
		batch_clear(&rb);
	}
	batch_init(&b, 1);
	for (i = 0, off = 0; i < n; i++)
		off += f[i].len + 192 + 4 * ob.rep[i].len +
		    (f[i].len / SFTP_CHUNK + 1) * (ob.rep[i].len + 32);
	batch_reserve(&b, off);
	for (i = 0; i < n; i++) {
		first[i] = b.n;
		if (frc[i] != 0)
			continue;
		if (f[i].uid >= 0) {
			size_t start = b.out.len;

			k = req_begin(c, &b, FXP_FSETSTAT);
			b.what[k] = "chown";
			put_str(&b.out, ob.rep[i].data + 8,
			    ob.rep[i].len - 8);
			put_u32(&b.out, ATTR_UIDGID);
			put_u32(&b.out, (uint32_t)f[i].uid);
			put_u32(&b.out, (uint32_t)(f[i].gid >= 0 ?
			    f[i].gid : 0));
			req_end(&b, start);
		}
		for (off = 0; off < f[i].len; off += m) {
			size_t start = b.out.len;

			m = f[i].len - off < SFTP_CHUNK ? f[i].len - off :
			    SFTP_CHUNK;
			k = req_begin(c, &b, FXP_WRITE);
			b.what[k] = "write";
			put_str(&b.out, ob.rep[i].data + 8,
			    ob.rep[i].len - 8);
			put_u64(&b.out, off);
			put_str(&b.out, (const char *)f[i].buf + off, m);
			req_end(&b, start);
		}
		/* fsync@openssh.com; servers without it keep data cached */
		if (f[i].len > 0 && (c->sf->ext & SFTPW_EXT_FSYNC)) {
			size_t start = b.out.len;

			k = req_begin(c, &b, FXP_EXTENDED);
			b.what[k] = "fsync";
			put_str(&b.out, "fsync@openssh.com", 17);
			put_str(&b.out, ob.rep[i].data + 8,
			    ob.rep[i].len - 8);
			req_end(&b, start);
		}
		k = req_handle(c, &b, FXP_CLOSE, &ob.rep[i]);
		b.what[k] = "close";
		cnt[i] = b.n - first[i];
	}
	if ((r = batch_run(c, &b)) != 0) {
		rc = r;
		goto out;
	}
	/* backwards: the first failure's message is the one left */
	batch_init(&rb, 0);
	for (i = n; i-- > 0;) {
		for (k = first[i]; frc[i] == 0 && k < first[i] + cnt[i]; k++)
			frc[i] = rep_check(c, &b.rep[k], 0, b.what[k],
			    f[i].path);
		if (frc[i] != 0)
			rc = frc[i];
	}
	/* all or nothing: every file made here goes if one failed */
	for (i = 0; rc != 0 && i < n; i++)
		if (cnt[i] > 0)
			req_path(c, &rb, FXP_REMOVE, f[i].path);
	if (rb.n > 0) {
		/* what failed stays the message */
		char keep[sizeof(c->err)];

		memcpy(keep, c->err, sizeof(keep));
		batch_run(c, &rb);
		memcpy(c->err, keep, sizeof(keep));
	}
	batch_clear(&rb);
 out:
	batch_clear(&b);
	batch_clear(&ob);
	free(first);
	free(cnt);
	free(frc);
	return rc;
}

int
sshconn_write_new(struct sshconn *c, const char *path, const void *buf,
    size_t len, unsigned long mode, long uid, long gid)
{
	struct sshconn_newfile f = { path, buf, len, mode, uid, gid, 0 };

	return sshconn_write_new_many(c, &f, 1);
}

int
sshconn_try_create(struct sshconn *c, const char *path)
{
	struct batch b;
	int r;

	if ((r = sftp_begin(c)) != 0)
		return r;
	batch_init(&b, 0);
	req_open(c, &b, path, FXF_WRITE | FXF_CREAT | FXF_EXCL, 0600);
	if ((r = batch_run(c, &b)) == 0 &&
	    (r = rep_check(c, &b.rep[0], FXP_HANDLE, "create", path)) == 0) {
		struct batch cb;

		batch_init(&cb, 0);
		req_handle(c, &cb, FXP_CLOSE, &b.rep[0]);
		req_path(c, &cb, FXP_REMOVE, path);
		if ((r = batch_run(c, &cb)) == 0 &&
		    (r = rep_check(c, &cb.rep[0], 0, "close", path)) == 0)
			r = rep_check(c, &cb.rep[1], 0, "remove", path);
		batch_clear(&cb);
	}
	batch_clear(&b);
	return r;
}

int
sshconn_read_head(struct sshconn *c, const char *path, char *buf, size_t len,
    size_t *got)
{
	const unsigned char *d;
	struct batch ob, b;
	size_t start, dl = 0;
	int r;

	*got = 0;
	if (len > SFTP_CHUNK)
		return ERR_INVAL;
	if ((r = sftp_begin(c)) != 0)
		return r;
	batch_init(&ob, 0);
	req_open(c, &ob, path, FXF_READ, 0);
	if ((r = batch_run(c, &ob)) == 0)
		r = rep_check(c, &ob.rep[0], FXP_HANDLE, "open", path);
	if (r != 0) {
		batch_clear(&ob);
		return r;
	}
	batch_init(&b, 1);
	start = b.out.len;
	req_begin(c, &b, FXP_READ);
	put_str(&b.out, ob.rep[0].data + 8, ob.rep[0].len - 8);
	put_u64(&b.out, 0);
	put_u32(&b.out, (uint32_t)len);
	req_end(&b, start);
	req_handle(c, &b, FXP_CLOSE, &ob.rep[0]);
	if ((r = batch_run(c, &b)) == 0) {
		if (b.rep[0].type == FXP_STATUS &&
		    rep_status(&b.rep[0]) == FX_EOF)
			dl = 0;		/* empty */
		else if ((r = rep_check(c, &b.rep[0], FXP_DATA, "read",
		    path)) == 0 && sftpw_data(b.rep[0].type, b.rep[0].data,
		    b.rep[0].len, len, &d, &dl) != 0)
			r = bad_reply(c, "read", path);
		if (r == 0 && dl > 0)
			memcpy(buf, d, dl);
	}
	if (r == 0)
		*got = dl;
	batch_clear(&b);
	batch_clear(&ob);
	return r;
}

int
sshconn_check_readable(struct sshconn *c, const char *path)
{
	struct batch b;
	int r;

	if ((r = sftp_begin(c)) != 0)
		return r;
	batch_init(&b, 0);
	req_open(c, &b, path, FXF_READ, 0);
	if ((r = batch_run(c, &b)) == 0 &&
	    (r = rep_check(c, &b.rep[0], FXP_HANDLE, "open", path)) == 0)
		close_handle(c, &b.rep[0]);
	batch_clear(&b);
	return r;
}

/*
 * Requests naming two paths, from[i] and to[i]: RENAME, or the extension
 * ext ("posix-rename@openssh.com", "hardlink@openssh.com").  Sent
 * together, done by the server in order, each whether or not the one
 * before worked; the first failure's message is kept.
 */
static int
two_paths_many(struct sshconn *c, const char *ext, const char *what,
    const char *const *from, const char *const *to, size_t n, int *rcs)
{
	struct batch b;
	size_t i, start;
	int r;

	if ((r = sftp_begin(c)) != 0)
		return r;
	batch_init(&b, 0);
	for (i = 0; i < n; i++) {
		start = b.out.len;
		req_begin(c, &b, ext != NULL ? FXP_EXTENDED : FXP_RENAME);
		if (ext != NULL)
			put_str(&b.out, ext, strlen(ext));
		put_str(&b.out, from[i], strlen(from[i]));
		put_str(&b.out, to[i], strlen(to[i]));
		req_end(&b, start);
	}
	if ((r = batch_run(c, &b)) == 0)
		for (i = n; i-- > 0;)
			rcs[i] = rep_check(c, &b.rep[i], 0, what, from[i]);
	batch_clear(&b);
	return r;
}

int
sshconn_rename_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs)
{
	/* plain version 3 RENAME, never replacing */
	return two_paths_many(c, NULL, "rename", from, to, n, rcs);
}

int
sshconn_replace_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs)
{
	return two_paths_many(c, "posix-rename@openssh.com", "rename", from,
	    to, n, rcs);
}

int
sshconn_link_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs)
{
	return two_paths_many(c, "hardlink@openssh.com", "link", from, to, n,
	    rcs);
}

int
sshconn_rename(struct sshconn *c, const char *from, const char *to)
{
	int r, rc = 0;

	if ((r = sshconn_rename_many(c, &from, &to, 1, &rc)) != 0)
		return r;
	return rc;
}

int
sshconn_unlink(struct sshconn *c, const char *path)
{
	struct batch b;
	int r;

	if ((r = sftp_begin(c)) != 0)
		return r;
	batch_init(&b, 0);
	req_path(c, &b, FXP_REMOVE, path);
	if ((r = batch_run(c, &b)) == 0)
		r = rep_check(c, &b.rep[0], 0, "remove", path);
	batch_clear(&b);
	return r;
}
