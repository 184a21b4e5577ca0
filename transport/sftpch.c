/*
 * sftpch.c: SFTP servers on channels of a connection, and batches of
 * requests on them.  The protocol is draft-ietf-secsh-filexfer-02, what
 * OpenSSH's sftp-server implements; what comes back is parsed by
 * transport/sftpwire.c.
 */
#include "transport/sftpch.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/become.h"
#include "transport/sftpwire.h"
#include "transport/sshconn_int.h"

/*
 * One SFTP server on a channel of the session: the "sftp" subsystem (as
 * the login user), or a command that starts one as another user; with a
 * become set, either runs through sudo (transport/become.h).
 */
struct sftpch {
	LIBSSH2_CHANNEL *ch;	/* NULL until started */
	char *cmd;		/* exec'd to start it; NULL: the subsystem */
	uint32_t id;		/* the next request id */
	unsigned ext;		/* SFTPW_EXT_*: what the server offers */
	int dead;		/* a batch broke off: replies may be due */
	int start_r;		/* dead: it failed to start, so */
	char *start_msg;	/* ... and said this */
	struct strbuf in;	/* reply bytes read, not yet parsed */
};

/* What a connection carries (sshconn_attach). */
struct sftpch_set {
	struct sftpch slot[SFTPCH_SLOTS];
	struct sftpch *cur;	/* the one requests go to */
	char *want;		/* the command sftpch_use chose */
};

/* Free one server's state (the session may be disconnected already). */
static void
sftpch_free(struct sshconn *c, struct sftpch *f)
{
	int r;

	if (f->ch != NULL)
		SSHCONN_CALL(c, r, libssh2_channel_free(f->ch));
	freezero(f->in.s, f->in.cap);
	free(f->cmd);
	free(f->start_msg);
	memset(f, 0, sizeof(*f));
}

static void
set_free(struct sshconn *c, void *p)
{
	struct sftpch_set *set = p;
	size_t i;

	for (i = 0; i < SFTPCH_SLOTS; i++)
		sftpch_free(c, &set->slot[i]);
	free(set->want);
	free(set);
}

static struct sftpch_set *
set_of(struct sshconn *c)
{
	struct sftpch_set *set = sshconn_attached(c);

	if (set == NULL) {
		set = xcalloc(1, sizeof(*set));
		set->cur = &set->slot[0];
		sshconn_attach(c, set, set_free);
	}
	return set;
}

/* The server requests go to. */
static struct sftpch *
cur(struct sshconn *c)
{
	return set_of(c)->cur;
}

void
sftpch_put_u32(struct sftpch_batch *b, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)(v >> 24),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 8),
	    (unsigned char)v };

	strbuf_add(&b->out, p, 4);
}

void
sftpch_put_u64(struct sftpch_batch *b, uint64_t v)
{
	sftpch_put_u32(b, (uint32_t)(v >> 32));
	sftpch_put_u32(b, (uint32_t)v);
}

void
sftpch_put_str(struct sftpch_batch *b, const void *p, size_t n)
{
	sftpch_put_u32(b, (uint32_t)n);
	strbuf_add(&b->out, p, n);
}

void
sftpch_put_handle(struct sftpch_batch *b, const struct sftpch_reply *h)
{
	sftpch_put_str(b, h->data + 8, h->len - 8);
}

void
sftpch_batch_init(struct sftpch_batch *b, int secret)
{
	memset(b, 0, sizeof(*b));
	strbuf_init(&b->out);
	b->secret = secret;
}

void
sftpch_batch_reserve(struct sftpch_batch *b, size_t bytes)
{
	if (b->out.len == 0 && bytes + 1 > b->out.cap) {
		free(b->out.s);
		b->out.s = xmalloc(bytes + 1);
		b->out.cap = bytes + 1;
		b->out.s[0] = '\0';
	}
}

void
sftpch_batch_clear(struct sftpch_batch *b)
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

size_t
sftpch_req_begin(struct sshconn *c, struct sftpch_batch *b, int type)
{
	size_t i = b->n++;

	if (b->n > b->cap) {
		b->cap = b->cap ? 2 * b->cap : 8;
		b->id = xrealloc(b->id, b->cap * sizeof(*b->id));
		b->what = xrealloc(b->what, b->cap * sizeof(*b->what));
		b->rep = xrealloc(b->rep, b->cap * sizeof(*b->rep));
	}
	b->id[i] = cur(c)->id++;
	b->what[i] = "";
	memset(&b->rep[i], 0, sizeof(b->rep[i]));
	b->rep[i].type = -1;
	sftpch_put_u32(b, 0);
	strbuf_add(&b->out, &(unsigned char){ (unsigned char)type }, 1);
	sftpch_put_u32(b, b->id[i]);
	return i;
}

void
sftpch_req_end(struct sftpch_batch *b, size_t start)
{
	uint32_t l = (uint32_t)(b->out.len - start - 4);
	unsigned char *p = (unsigned char *)b->out.s + start;

	p[0] = (unsigned char)(l >> 24);
	p[1] = (unsigned char)(l >> 16);
	p[2] = (unsigned char)(l >> 8);
	p[3] = (unsigned char)l;
}

size_t
sftpch_req_path(struct sshconn *c, struct sftpch_batch *b, int type,
    const char *path)
{
	size_t start = b->out.len, i = sftpch_req_begin(c, b, type);

	sftpch_put_str(b, path, strlen(path));
	sftpch_req_end(b, start);
	return i;
}

size_t
sftpch_req_handle(struct sshconn *c, struct sftpch_batch *b, int type,
    const struct sftpch_reply *h)
{
	size_t start = b->out.len, i = sftpch_req_begin(c, b, type);

	sftpch_put_handle(b, h);
	sftpch_req_end(b, start);
	return i;
}

size_t
sftpch_req_open(struct sshconn *c, struct sftpch_batch *b, const char *path,
    uint32_t pflags, unsigned long mode)
{
	size_t start = b->out.len, i = sftpch_req_begin(c, b, FXP_OPEN);

	sftpch_put_str(b, path, strlen(path));
	sftpch_put_u32(b, pflags);
	if (pflags & FXF_CREAT) {
		sftpch_put_u32(b, ATTR_PERMISSIONS);
		sftpch_put_u32(b, (uint32_t)(mode & 07777));
	} else {
		sftpch_put_u32(b, 0);
	}
	sftpch_req_end(b, start);
	return i;
}

/* Write all of buf to f's channel. */
static int
chan_write(struct sshconn *c, struct sftpch *f, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		SSHCONN_CALL(c, n, libssh2_channel_write(f->ch, buf, len));
		if (n < 0)
			return sshconn_seterr_lib(c,
			    sshconn_lib_err((int)n), "SFTP");
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Room for one more read in f's input, never by realloc(). */
static void
in_grow(struct sftpch *f)
{
	char *nb;

	if (f->in.cap - f->in.len >= SFTPCH_CHUNK + 64)
		return;
	/* moved by hand: the old block is wiped, not freed with a secret
	 * in it */
	nb = xmalloc(f->in.cap + SFTPCH_CHUNK + 64);
	if (f->in.len > 0)
		memcpy(nb, f->in.s, f->in.len);
	freezero(f->in.s, f->in.cap);
	f->in.s = nb;
	f->in.cap += SFTPCH_CHUNK + 64;
}

/* Read from f's channel until its input holds one whole packet. */
static int
chan_packet(struct sshconn *c, struct sftpch *f, size_t *plen)
{
	ssize_t n;
	int k;

	for (;;) {
		k = sftpw_packet((unsigned char *)f->in.s, f->in.len, plen);
		if (k > 0)
			return 0;
		if (k < 0) {
			sshconn_seterr(c, "%s: SFTP: malformed reply (%lu "
			    "bytes)", sshconn_label(c), (unsigned long)
			    sftpw_u32((unsigned char *)f->in.s));
			return ERR_SFTP;
		}
		in_grow(f);
		SSHCONN_CALL(c, n, libssh2_channel_read(f->ch, f->in.s +
		    f->in.len, f->in.cap - f->in.len - 1));
		if (n == 0 && libssh2_channel_eof(f->ch)) {
			sshconn_seterr(c, "%s: SFTP: the server closed the "
			    "channel", sshconn_label(c));
			return ERR_SFTP;
		}
		if (n < 0)
			return sshconn_seterr_lib(c,
			    sshconn_lib_err((int)n), "SFTP");
		f->in.len += (size_t)n;
	}
}

/* Drop the packet of plen bytes at the start of f's input. */
static void
in_consume(struct sftpch *f, size_t plen, int secret)
{
	if (secret)
		wipe(f->in.s, 4 + plen);
	memmove(f->in.s, f->in.s + 4 + plen, f->in.len - 4 - plen);
	f->in.len -= 4 + plen;
}

/*
 * Nothing left over (the server answers only what was asked): the input
 * buffer goes, so a session kept between phases holds none (the memory
 * this saves at scale is in docs/performance.md).
 */
static void
in_release(struct sftpch *f, int secret)
{
	if (f->in.len > 0 || f->in.s == NULL)
		return;
	if (secret)
		wipe(f->in.s, f->in.cap);
	free(f->in.s);
	f->in.s = NULL;
	f->in.cap = 0;
}

/* The request of b the packet at the start of f's input answers. */
static int
match_reply(struct sshconn *c, struct sftpch *f, struct sftpch_batch *b,
    size_t plen)
{
	uint32_t id;
	size_t i;

	if (plen < 5) {
		sshconn_seterr(c, "%s: SFTP: malformed reply",
		    sshconn_label(c));
		return ERR_SFTP;
	}
	id = sftpw_u32((unsigned char *)f->in.s + 5);
	for (i = 0; i < b->n; i++)
		if (b->id[i] == id && b->rep[i].type < 0)
			break;
	if (i == b->n) {
		sshconn_seterr(c, "%s: SFTP: reply to no request (id %lu)",
		    sshconn_label(c), (unsigned long)id);
		return ERR_SFTP;
	}
	b->rep[i].type = (unsigned char)f->in.s[4];
	b->rep[i].len = plen - 1;	/* id and what follows */
	b->rep[i].data = xmalloc(plen);
	memcpy(b->rep[i].data, f->in.s + 5, plen - 1);
	b->got++;
	return 0;
}

int
sftpch_run(struct sshconn *c, struct sftpch_batch *b)
{
	struct sftpch *f = cur(c);
	size_t plen;
	int r;

	if ((r = chan_write(c, f, b->out.s, b->out.len)) != 0)
		goto dead;
	while (b->got < b->n) {
		if ((r = chan_packet(c, f, &plen)) != 0 ||
		    (r = match_reply(c, f, b, plen)) != 0)
			goto dead;
		in_consume(f, plen, b->secret);
	}
	in_release(f, b->secret);
	return 0;
 dead:
	f->dead = 1;
	return r;
}

long
sftpch_status(const struct sftpch_reply *rp)
{
	return sftpw_status(rp->type, rp->data, rp->len);
}

int
sftpch_check(struct sshconn *c, const struct sftpch_reply *rp, int want,
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
	st = sftpch_status(rp);
	if (want == 0 && st == FX_OK)
		return 0;
	safe = str_printable(path, 300);
	if (st < 0) {
		sshconn_seterr(c, "%s %s: SFTP: unexpected reply (type %d)",
		    what, safe, rp->type);
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
	sshconn_seterr(c, "%s %s: %s (SFTP status %ld)", what, safe,
	    err_str(code), st);
	free(safe);
	return code;
}

int
sftpch_bad_reply(struct sshconn *c, const char *what, const char *path)
{
	char *safe = str_printable(path, 300);

	sshconn_seterr(c, "%s %s: SFTP: malformed reply", what, safe);
	free(safe);
	return ERR_SFTP;
}

/* INIT and the server's VERSION, on f's channel just opened. */
static int
handshake(struct sshconn *c, struct sftpch *f)
{
	struct sftpch_batch b;
	uint32_t version;
	size_t plen;
	int r;

	sftpch_batch_init(&b, 0);
	sftpch_put_u32(&b, 5);
	strbuf_add(&b.out, &(unsigned char){ FXP_INIT }, 1);
	sftpch_put_u32(&b, 3);
	r = chan_write(c, f, b.out.s, b.out.len);
	sftpch_batch_clear(&b);
	if (r != 0 || (r = chan_packet(c, f, &plen)) != 0) {
		if (f->cmd != NULL)
			sshconn_seterr(c, "%s: SFTP: no SFTP server started "
			    "as the file's owner (needs setpriv and OpenSSH's "
			    "sftp-server on the host)", sshconn_label(c));
		else if (become_on(c))
			sshconn_seterr(c, "%s: SFTP: no SFTP server started "
			    "through sudo (is the become's sftp-server path "
			    "right?)", sshconn_label(c));
		return r != 0 ? r : ERR_SFTP;
	}
	if (sftpw_version((unsigned char *)f->in.s + 4, plen, &version,
	    &f->ext) != 0 || version < 3) {
		sshconn_seterr(c, "%s: SFTP: the server does not speak "
		    "version 3", sshconn_label(c));
		return ERR_SFTP;
	}
	in_consume(f, plen, 0);
	in_release(f, 0);
	return 0;
}

/*
 * Start f's SFTP server through sudo: exec'd on a channel, sudo's prompt
 * and markers gone by before INIT; its stderr ignored from then on.
 */
static int
start_become(struct sshconn *c, struct sftpch *f)
{
	struct become_run br;
	int r;

	if ((f->ch = sshconn_channel_open(c, "start SFTP")) == NULL)
		return sshconn_seterr_lib(c, ERR_SFTP, "start SFTP");
	if ((r = become_exec(c, f->ch, f->cmd, 0, &br)) != 0)
		goto out;
	libssh2_channel_handle_extended_data2(f->ch,
	    LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE);
	if (br.o.len > 0) {	/* a server speaks only after INIT */
		sshconn_seterr(c, "%s: SFTP: output before INIT",
		    sshconn_label(c));
		r = ERR_SFTP;
		goto out;
	}
	r = handshake(c, f);
 out:
	become_run_clear(&br);
	return r;
}

/* Start f's SFTP server: a channel, the subsystem or f->cmd, INIT. */
static int
sftpch_start(struct sshconn *c, struct sftpch *f)
{
	int r;

	if (become_on(c))
		return start_become(c, f);
	if ((f->ch = sshconn_channel_open(c, "start SFTP")) == NULL)
		return sshconn_seterr_lib(c, ERR_SFTP, "start SFTP");
	libssh2_channel_handle_extended_data2(f->ch,
	    LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE);
	if (f->cmd != NULL)
		SSHCONN_CALL(c, r, libssh2_channel_exec(f->ch, f->cmd));
	else
		SSHCONN_CALL(c, r, libssh2_channel_subsystem(f->ch, "sftp"));
	if (r != 0)
		return sshconn_seterr_lib(c, ERR_SFTP, "start SFTP");
	return handshake(c, f);
}

static int
same_cmd(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/*
 * The slot for the server set->want: the one running it (or that failed
 * to), else a free one, else the oldest's, which is stopped.
 */
static struct sftpch *
slot_for(struct sshconn *c, struct sftpch_set *set)
{
	struct sftpch *f = NULL;
	size_t i;

	for (i = 0; i < SFTPCH_SLOTS && f == NULL; i++)
		if ((set->slot[i].ch != NULL || set->slot[i].dead) &&
		    same_cmd(set->slot[i].cmd, set->want))
			f = &set->slot[i];
	for (i = 0; i < SFTPCH_SLOTS && f == NULL; i++)
		if (set->slot[i].ch == NULL && !set->slot[i].dead)
			f = &set->slot[i];
	if (f == NULL) {
		sftpch_free(c, &set->slot[0]);
		memmove(&set->slot[0], &set->slot[1], (SFTPCH_SLOTS - 1) *
		    sizeof(set->slot[0]));
		f = &set->slot[SFTPCH_SLOTS - 1];
		memset(f, 0, sizeof(*f));
	}
	return f;
}

void
sftpch_use(struct sshconn *c, const char *cmd)
{
	struct sftpch_set *set = set_of(c);

	free(set->want);
	set->want = cmd != NULL ? xstrdup(cmd) : NULL;
}

int
sftpch_begin(struct sshconn *c)
{
	struct sftpch_set *set = set_of(c);
	struct sftpch *f;
	int r;

	sshconn_set_deadline(c, 0);
	f = set->cur = slot_for(c, set);
	if (f->dead && f->start_r != 0) {	/* sudo refused, say */
		sshconn_seterr(c, "%s", f->start_msg);
		return f->start_r;
	}
	if (f->dead) {
		sshconn_seterr(c, "%s: SFTP: the channel broke off earlier",
		    sshconn_label(c));
		return ERR_SFTP;
	}
	if (f->ch != NULL)
		return 0;
	f->cmd = set->want != NULL ? xstrdup(set->want) : NULL;
	if ((r = sftpch_start(c, f)) != 0) {
		sftpch_free(c, f);
		/* not tried again on this connection: the same answer */
		f->dead = 1;
		f->start_r = r;
		f->start_msg = xstrdup(sshconn_errmsg(c));
		f->cmd = set->want != NULL ? xstrdup(set->want) : NULL;
	}
	return r;
}

unsigned
sftpch_ext(struct sshconn *c)
{
	return cur(c)->ext;
}
