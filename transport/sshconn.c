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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>
#include <libssh2_sftp.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"

#define SSHCONN_DEFAULT_TIMEOUT	30000
#define SSHCONN_DEFAULT_MAX	(64 * 1024)

struct sshconn {
	int sock;
	LIBSSH2_SESSION *s;
	LIBSSH2_SFTP *sftp;
	char *label;		/* "user@host:port" */
	int timeout_ms;
	long long deadline;	/* ms, monotonic */
	char fp[64];
	char err[512];
	int recorded;		/* accept_new: the key was added */
	int rd_dry;		/* recv said EAGAIN; poll has not said POLLIN */
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
 * third of pemrotate's syscalls).  After one such answer the next tries
 * are answered here, without a syscall, until poll() (wait_socket) says
 * the socket is readable; nothing is ever read late, at worst polled once
 * more.
 */
static ssize_t
recv_cb(libssh2_socket_t fd, void *buf, size_t len, int flags,
    void **abstract)
{
	struct sshconn *c = *abstract;
	ssize_t n;

	if (c->rd_dry)
		return -EAGAIN;
	if ((n = recv(fd, buf, len, flags)) >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		c->rd_dry = 1;
		return -EAGAIN;
	}
	return -errno;
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

void
sshconn_close(struct sshconn *c)
{
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
	if (c->sftp != NULL)
		CALL(c, r, libssh2_sftp_shutdown(c->sftp));
	if (c->s != NULL)
		CALL(c, r, libssh2_session_free(c->s));
	if (c->sock >= 0)
		close(c->sock);
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

/* ---- files ---- */

static int
sftp_ready(struct sshconn *c)
{
	if (c->sftp != NULL)
		return 0;
	CALLP(c, c->sftp, libssh2_sftp_init(c->s));
	if (c->sftp == NULL)
		return seterr_lib(c, ERR_SFTP, "start SFTP");
	return 0;
}

/* Map the SFTP status of the last failed request to an err_code. */
static int
sftp_err(struct sshconn *c, int rc, const char *what, const char *path)
{
	unsigned long st = 0;
	int code = lib_to_err(rc);
	char *safe;

	if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL && c->sftp != NULL)
		st = libssh2_sftp_last_error(c->sftp);
	if (st == LIBSSH2_FX_NO_SUCH_FILE || st == LIBSSH2_FX_NO_SUCH_PATH)
		code = ERR_NOTFOUND;
	else if (st == LIBSSH2_FX_PERMISSION_DENIED ||
	    st == LIBSSH2_FX_WRITE_PROTECT)
		code = ERR_PERM;
	else if (st == LIBSSH2_FX_FILE_ALREADY_EXISTS)
		code = ERR_EXISTS;
	else if (st == LIBSSH2_FX_FAILURE)
		code = ERR_IO;
	safe = str_printable(path, 300);
	if (st != 0)
		seterr(c, "%s %s: %s (SFTP status %lu)", what, safe,
		    err_str(code), st);
	else
		seterr_lib(c, code, what);
	free(safe);
	return code;
}

int
sshconn_stat(struct sshconn *c, const char *path, struct sshconn_stat *st)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	int r;

	set_deadline(c, 0);
	if ((r = sftp_ready(c)) != 0)
		return r;
	CALL(c, r, libssh2_sftp_stat_ex(c->sftp, path,
	    (unsigned int)strlen(path), LIBSSH2_SFTP_STAT, &a));
	if (r != 0)
		return sftp_err(c, r, "stat", path);
	memset(st, 0, sizeof(*st));
	st->uid = a.uid;
	st->gid = a.gid;
	st->mode = a.permissions;
	st->size = a.filesize;
	st->is_dir = LIBSSH2_SFTP_S_ISDIR(a.permissions);
	st->is_reg = LIBSSH2_SFTP_S_ISREG(a.permissions);
	return 0;
}

static int
read_all(struct sshconn *c, LIBSSH2_SFTP_HANDLE *h, size_t max,
    struct strbuf *b)
{
	char buf[16384];
	ssize_t n;
	int r = 0;

	for (;;) {
		CALL(c, n, libssh2_sftp_read(h, buf, sizeof(buf)));
		if (n == 0)
			break;
		if (n < 0) {
			r = sftp_err(c, (int)n, "read", "file");
			break;
		}
		if (b->len + (size_t)n > max) {
			r = ERR_TOOBIG;
			break;
		}
		strbuf_add(b, buf, (size_t)n);
	}
	wipe(buf, sizeof(buf));
	return r;
}

int
sshconn_read_file(struct sshconn *c, const char *path, size_t max,
    int secret, char **buf, size_t *len)
{
	LIBSSH2_SFTP_HANDLE *h;
	struct strbuf b;
	int r, r2;

	set_deadline(c, 0);
	if ((r = sftp_ready(c)) != 0)
		return r;
	CALLP(c, h, libssh2_sftp_open_ex(c->sftp, path,
	    (unsigned int)strlen(path), LIBSSH2_FXF_READ, 0,
	    LIBSSH2_SFTP_OPENFILE));
	if (h == NULL)
		return sftp_err(c, LIBSSH2_ERROR_SFTP_PROTOCOL, "open", path);
	strbuf_init(&b);
	/* a secret is read into one buffer sized for it: no copies left */
	if (secret && max < 1024 * 1024) {
		b.s = xrealloc(b.s, max + 1);
		b.cap = max + 1;
	}
	r = read_all(c, h, max, &b);
	CALL(c, r2, libssh2_sftp_close_handle(h));
	if (r == ERR_TOOBIG)
		seterr(c, "%s: larger than %zu bytes", path, max);
	if (r != 0) {
		freezero(b.s, b.cap);
		return r;
	}
	*len = b.len;
	*buf = strbuf_steal(&b);
	return 0;
}

static int
write_all(struct sshconn *c, LIBSSH2_SFTP_HANDLE *h, const char *p,
    size_t len)
{
	ssize_t n;

	while (len > 0) {
		CALL(c, n, libssh2_sftp_write(h, p, len));
		if (n < 0)
			return (int)n;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fill_new(struct sshconn *c, LIBSSH2_SFTP_HANDLE *h, const char *path,
    const void *buf, size_t len, long uid, long gid)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	int r;

	if (uid >= 0) {
		memset(&a, 0, sizeof(a));
		a.flags = LIBSSH2_SFTP_ATTR_UIDGID;
		a.uid = (unsigned long)uid;
		a.gid = (unsigned long)(gid >= 0 ? gid : 0);
		CALL(c, r, libssh2_sftp_fsetstat(h, &a));
		if (r != 0)
			return sftp_err(c, r, "chown", path);
	}
	if (len == 0)
		return 0;	/* nothing to make durable */
	if ((r = write_all(c, h, buf, len)) != 0)
		return sftp_err(c, r, "write", path);
	/* fsync@openssh.com; servers without it just keep the data cached */
	CALL(c, r, libssh2_sftp_fsync(h));
	return 0;
}

int
sshconn_write_new(struct sshconn *c, const char *path, const void *buf,
    size_t len, unsigned long mode, long uid, long gid)
{
	LIBSSH2_SFTP_HANDLE *h;
	int r, r2;

	set_deadline(c, 0);
	if ((r = sftp_ready(c)) != 0)
		return r;
	CALLP(c, h, libssh2_sftp_open_ex(c->sftp, path,
	    (unsigned int)strlen(path), LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT |
	    LIBSSH2_FXF_EXCL, (long)mode, LIBSSH2_SFTP_OPENFILE));
	if (h == NULL)
		return sftp_err(c, LIBSSH2_ERROR_SFTP_PROTOCOL, "create", path);
	r = fill_new(c, h, path, buf, len, uid, gid);
	CALL(c, r2, libssh2_sftp_close_handle(h));
	if (r == 0 && r2 != 0)
		r = sftp_err(c, r2, "close", path);
	if (r != 0) {
		CALL(c, r2, libssh2_sftp_unlink_ex(c->sftp, path,
		    (unsigned int)strlen(path)));
	}
	return r;
}

int
sshconn_check_readable(struct sshconn *c, const char *path)
{
	LIBSSH2_SFTP_HANDLE *h;
	int r;

	set_deadline(c, 0);
	if ((r = sftp_ready(c)) != 0)
		return r;
	CALLP(c, h, libssh2_sftp_open_ex(c->sftp, path,
	    (unsigned int)strlen(path), LIBSSH2_FXF_READ, 0,
	    LIBSSH2_SFTP_OPENFILE));
	if (h == NULL)
		return sftp_err(c, LIBSSH2_ERROR_SFTP_PROTOCOL, "open", path);
	CALL(c, r, libssh2_sftp_close_handle(h));
	return 0;
}

int
sshconn_rename(struct sshconn *c, const char *from, const char *to)
{
	int r;

	set_deadline(c, 0);
	if ((r = sftp_ready(c)) != 0)
		return r;
	/* no OVERWRITE: servers past version 3 keep the same meaning */
	CALL(c, r, libssh2_sftp_rename_ex(c->sftp, from,
	    (unsigned int)strlen(from), to, (unsigned int)strlen(to),
	    LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE));
	if (r != 0)
		return sftp_err(c, r, "rename", from);
	return 0;
}

int
sshconn_unlink(struct sshconn *c, const char *path)
{
	int r;

	set_deadline(c, 0);
	if ((r = sftp_ready(c)) != 0)
		return r;
	CALL(c, r, libssh2_sftp_unlink_ex(c->sftp, path,
	    (unsigned int)strlen(path)));
	if (r != 0)
		return sftp_err(c, r, "remove", path);
	return 0;
}
