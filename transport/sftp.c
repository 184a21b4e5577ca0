/*
 * sftp.c: files over SFTP version 3, the requests of each operation
 * pipelined (transport/sftpch.c sends them).
 *
 * libssh2's SFTP functions wait for each reply before the next request:
 * a file written with them took five round trips (open, chown, write,
 * fsync, close).  Here the requests that do not depend on an answer go
 * together: a file is written in two round trips (open; chown, write,
 * fsync and close), any number of files in two, a file read in two,
 * stats in one.
 */
#include "transport/sftp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/become.h"
#include "transport/sftpch.h"
#include "transport/sftpwire.h"
#include "transport/sshconn_int.h"

#define SFTP_BATCH	32		/* READ requests in flight at once */
#define SFTP_EXCL	(FXF_WRITE | FXF_CREAT | FXF_EXCL) /* O_CREAT|O_EXCL */

int
sftp_as(struct sshconn *c, const char *cmd)
{
	sftpch_use(c, cmd);
	return 0;
}

/*
 * The replies to b's stat requests for paths[0..b->n), backwards: the
 * first failure's message is the one left.
 */
static void
attrs_replies(struct sshconn *c, const struct sftpch_batch *b,
    const char *what, const char *const *paths, struct sftp_stat *st,
    int *rcs)
{
	const struct sftpch_reply *rp;
	size_t i;

	for (i = b->n; i-- > 0;) {
		rp = &b->rep[i];
		rcs[i] = sftpch_check(c, rp, FXP_ATTRS, what, paths[i]);
		if (rcs[i] == 0 && sftpw_attrs(rp->type, rp->data, rp->len,
		    &st[i]) != 0)
			rcs[i] = sftpch_bad_reply(c, what, paths[i]);
	}
}

static int
attrs_many(struct sshconn *c, int type, const char *const *paths, size_t n,
    struct sftp_stat *st, int *rcs)
{
	const char *what = type == FXP_LSTAT ? "lstat" : "stat";
	struct sftpch_batch b;
	size_t i, k, m;
	int r = 0;

	if ((r = sftpch_begin(c)) != 0)
		return r;
	for (k = 0; k < n && r == 0; k += m) {
		m = n - k < SFTP_BATCH ? n - k : SFTP_BATCH;
		sftpch_batch_init(&b, 0);
		for (i = 0; i < m; i++)
			sftpch_req_path(c, &b, type, paths[k + i]);
		if ((r = sftpch_run(c, &b)) == 0)
			attrs_replies(c, &b, what, paths + k, st + k, rcs + k);
		sftpch_batch_clear(&b);
	}
	return r;
}

int
sftp_become_check(struct sshconn *c, char **msg)
{
	int r;

	*msg = NULL;
	if (!become_on(c)) {
		sshconn_seterr(c, "%s: no become set", sshconn_label(c));
		r = ERR_INVAL;
	} else {
		r = sftpch_begin(c);
	}
	if (r != 0)
		*msg = xstrdup(sshconn_errmsg(c));
	return r;
}

int
sftp_stat_many(struct sshconn *c, const char *const *paths, size_t n,
    struct sftp_stat *st, int *rcs)
{
	return attrs_many(c, FXP_STAT, paths, n, st, rcs);
}

int
sftp_lstat_many(struct sshconn *c, const char *const *paths, size_t n,
    struct sftp_stat *st, int *rcs)
{
	return attrs_many(c, FXP_LSTAT, paths, n, st, rcs);
}

int
sftp_stat(struct sshconn *c, const char *path, struct sftp_stat *st)
{
	int r, rc = 0;

	if ((r = sftp_stat_many(c, &path, 1, st, &rc)) != 0)
		return r;
	return rc;
}

int
sftp_lstat(struct sshconn *c, const char *path, struct sftp_stat *st)
{
	int r, rc = 0;

	if ((r = sftp_lstat_many(c, &path, 1, st, &rc)) != 0)
		return r;
	return rc;
}

int
sftp_ext(struct sshconn *c, unsigned *ext)
{
	int r;

	if ((r = sftpch_begin(c)) != 0)
		return r;
	*ext = sftpch_ext(c);
	return 0;
}

int
sftp_readlink(struct sshconn *c, const char *path, char **target)
{
	const unsigned char *name;
	struct sftpch_batch b;
	size_t nl;
	int r;

	*target = NULL;
	if ((r = sftpch_begin(c)) != 0)
		return r;
	sftpch_batch_init(&b, 0);
	sftpch_req_path(c, &b, FXP_READLINK, path);
	if ((r = sftpch_run(c, &b)) == 0 &&
	    (r = sftpch_check(c, &b.rep[0], FXP_NAME, "readlink", path)) == 0) {
		if (sftpw_name1(b.rep[0].type, b.rep[0].data, b.rep[0].len,
		    &name, &nl) != 0 || nl == 0 || memchr(name, 0, nl))
			r = sftpch_bad_reply(c, "readlink", path);
		else
			*target = xstrndup((const char *)name, nl);
	}
	sftpch_batch_clear(&b);
	return r;
}

int
sftp_mkdir(struct sshconn *c, const char *path, unsigned long mode)
{
	struct sftpch_batch b;
	size_t start;
	int r;

	if ((r = sftpch_begin(c)) != 0)
		return r;
	sftpch_batch_init(&b, 0);
	start = b.out.len;
	sftpch_req_begin(c, &b, FXP_MKDIR);
	sftpch_put_str(&b, path, strlen(path));
	sftpch_put_u32(&b, ATTR_PERMISSIONS);
	sftpch_put_u32(&b, (uint32_t)(mode & 07777));
	sftpch_req_end(&b, start);
	if ((r = sftpch_run(c, &b)) == 0)
		r = sftpch_check(c, &b.rep[0], 0, "mkdir", path);
	sftpch_batch_clear(&b);
	return r;
}

/* One request of type naming path, answered by a STATUS. */
static int
path_op(struct sshconn *c, int type, const char *what, const char *path)
{
	struct sftpch_batch b;
	int r;

	if ((r = sftpch_begin(c)) != 0)
		return r;
	sftpch_batch_init(&b, 0);
	sftpch_req_path(c, &b, type, path);
	if ((r = sftpch_run(c, &b)) == 0)
		r = sftpch_check(c, &b.rep[0], 0, what, path);
	sftpch_batch_clear(&b);
	return r;
}

int
sftp_rmdir(struct sshconn *c, const char *path)
{
	return path_op(c, FXP_RMDIR, "rmdir", path);
}

/*
 * OPEN path for reading, in ob: 0 with the HANDLE in ob->rep[0] (the
 * caller clears ob), else the message set and ob cleared.
 */
static int
open_read(struct sshconn *c, struct sftpch_batch *ob, const char *path)
{
	int r;

	sftpch_batch_init(ob, 0);
	sftpch_req_open(c, ob, path, FXF_READ, 0);
	if ((r = sftpch_run(c, ob)) == 0)
		r = sftpch_check(c, &ob->rep[0], FXP_HANDLE, "open", path);
	if (r != 0)
		sftpch_batch_clear(ob);
	return r;
}

/* OPEN an existing file (read only), FSETSTAT owner, CLOSE. */
int
sftp_chown_handle(struct sshconn *c, const char *path, long uid, long gid)
{
	struct sftpch_batch ob, b;
	size_t start;
	int r;

	if ((r = sftpch_begin(c)) != 0)
		return r;
	if ((r = open_read(c, &ob, path)) != 0)
		return r;
	sftpch_batch_init(&b, 0);
	start = b.out.len;
	sftpch_req_begin(c, &b, FXP_FSETSTAT);
	sftpch_put_handle(&b, &ob.rep[0]);
	sftpch_put_u32(&b, ATTR_UIDGID);
	sftpch_put_u32(&b, (uint32_t)uid);
	sftpch_put_u32(&b, (uint32_t)gid);
	sftpch_req_end(&b, start);
	sftpch_req_handle(c, &b, FXP_CLOSE, &ob.rep[0]);
	if ((r = sftpch_run(c, &b)) == 0 &&
	    (r = sftpch_check(c, &b.rep[1], 0, "close", path)) == 0)
		r = sftpch_check(c, &b.rep[0], 0, "chown", path);
	sftpch_batch_clear(&b);
	sftpch_batch_clear(&ob);
	return r;
}

/* Close a handle from an OPEN reply (its own round trip). */
static void
close_handle(struct sshconn *c, const struct sftpch_reply *h)
{
	struct sftpch_batch b;

	sftpch_batch_init(&b, 0);
	sftpch_req_handle(c, &b, FXP_CLOSE, h);
	sftpch_run(c, &b);
	sftpch_batch_clear(&b);
}

int
sftp_read_file(struct sshconn *c, const char *path, size_t max,
    int secret, char **buf, size_t *len)
{
	struct sftpch_batch ob, b;
	struct strbuf out;
	const unsigned char *d;
	size_t i, dl, nreq, off = 0, ask;
	int r, done = 0, gap = 0, closed = 0;
	uint64_t at;

	if ((r = sftpch_begin(c)) != 0)
		return r;
	if ((r = open_read(c, &ob, path)) != 0)
		return r;
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
		sftpch_batch_init(&b, secret);
		for (nreq = 0, at = off; nreq < SFTP_BATCH - 1 &&
		    at < (uint64_t)max + 1; nreq++, at += ask) {
			size_t start = b.out.len;

			ask = (size_t)((uint64_t)max + 1 - at < SFTPCH_CHUNK ?
			    (uint64_t)max + 1 - at : SFTPCH_CHUNK);
			sftpch_req_begin(c, &b, FXP_READ);
			sftpch_put_handle(&b, &ob.rep[0]);
			sftpch_put_u64(&b, at);
			sftpch_put_u32(&b, (uint32_t)ask);
			sftpch_req_end(&b, start);
		}
		if (at >= (uint64_t)max + 1) {
			sftpch_req_handle(c, &b, FXP_CLOSE, &ob.rep[0]);
			closed = 1;
		}
		if ((r = sftpch_run(c, &b)) != 0) {
			sftpch_batch_clear(&b);
			break;
		}
		for (i = 0; i < nreq && r == 0; i++) {
			ask = (size_t)((uint64_t)max + 1 - off < SFTPCH_CHUNK ?
			    (uint64_t)max + 1 - off : SFTPCH_CHUNK);
			if (done || gap) {
				/*
				 * After a short read, ends confirm the end;
				 * data means a file that reads short (/proc):
				 * what follows is read again from off.
				 */
				if (b.rep[i].type != FXP_STATUS ||
				    sftpch_status(&b.rep[i]) != FX_EOF)
					gap = 1, done = 0;
				continue;
			}
			if (b.rep[i].type == FXP_STATUS &&
			    sftpch_status(&b.rep[i]) == FX_EOF) {
				done = 1;
				continue;
			}
			if ((r = sftpch_check(c, &b.rep[i], FXP_DATA, "read",
			    path)) != 0)
				break;
			if (sftpw_data(b.rep[i].type, b.rep[i].data,
			    b.rep[i].len, ask, &d, &dl) != 0) {
				r = sftpch_bad_reply(c, "read", path);
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
		sftpch_batch_clear(&b);
		if (r == 0 && gap && closed) {
			/* the batch closed the handle: open it again */
			sftpch_batch_clear(&ob);
			r = open_read(c, &ob, path);
			closed = r != 0;
		} else if (r == 0 && !done && closed) {
			r = ERR_TOOBIG;
		}
		gap = 0;
	}
	if (!closed)
		close_handle(c, &ob.rep[0]);
	sftpch_batch_clear(&ob);
	if (r == ERR_TOOBIG)
		sshconn_seterr(c, "%s: larger than %zu bytes", path, max);
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
 * OPEN files[0..n) O_CREAT|O_EXCL with their mode, in one round trip:
 * each HANDLE reply in ob->rep[i], each result in frc[i].  A file with
 * replace set whose creation fails is removed and created once more (a
 * leftover of an earlier, killed try).
 */
static int
create_all(struct sshconn *c, const struct sftp_newfile *f, size_t n,
    struct sftpch_batch *ob, int *frc)
{
	struct sftpch_batch rb;
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		sftpch_req_open(c, ob, f[i].path, SFTP_EXCL, f[i].mode);
	if ((r = sftpch_run(c, ob)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((frc[i] = sftpch_check(c, &ob->rep[i], FXP_HANDLE,
		    "create", f[i].path)) == 0 || !f[i].replace)
			continue;
		sftpch_batch_init(&rb, 0);
		sftpch_req_path(c, &rb, FXP_REMOVE, f[i].path);
		sftpch_req_open(c, &rb, f[i].path, SFTP_EXCL, f[i].mode);
		if (sftpch_run(c, &rb) == 0 && sftpch_check(c, &rb.rep[1],
		    FXP_HANDLE, "create", f[i].path) == 0) {
			free(ob->rep[i].data);
			ob->rep[i] = rb.rep[1];
			rb.rep[1].data = NULL;
			frc[i] = 0;
		} else {
			/* the first answer is the one to tell */
			sftpch_check(c, &ob->rep[i], FXP_HANDLE, "create",
			    f[i].path);
		}
		sftpch_batch_clear(&rb);
	}
	return 0;
}

/* Queue in b, for the file f open as h: its owner, its bytes, fsync,
 * close.  b is reserved for it all (write_new_many). */
static void
queue_file(struct sshconn *c, struct sftpch_batch *b,
    const struct sftp_newfile *f, const struct sftpch_reply *h)
{
	size_t k, off, m, start;

	if (f->uid >= 0) {
		start = b->out.len;
		k = sftpch_req_begin(c, b, FXP_FSETSTAT);
		b->what[k] = "chown";
		sftpch_put_handle(b, h);
		sftpch_put_u32(b, ATTR_UIDGID);
		sftpch_put_u32(b, (uint32_t)f->uid);
		sftpch_put_u32(b, (uint32_t)(f->gid >= 0 ? f->gid : 0));
		sftpch_req_end(b, start);
	}
	for (off = 0; off < f->len; off += m) {
		start = b->out.len;
		m = f->len - off < SFTPCH_CHUNK ? f->len - off : SFTPCH_CHUNK;
		k = sftpch_req_begin(c, b, FXP_WRITE);
		b->what[k] = "write";
		sftpch_put_handle(b, h);
		sftpch_put_u64(b, off);
		sftpch_put_str(b, (const char *)f->buf + off, m);
		sftpch_req_end(b, start);
	}
	/* fsync@openssh.com; servers without it keep data cached */
	if (f->len > 0 && (sftpch_ext(c) & SFTPW_EXT_FSYNC)) {
		start = b->out.len;
		k = sftpch_req_begin(c, b, FXP_EXTENDED);
		b->what[k] = "fsync";
		sftpch_put_str(b, "fsync@openssh.com", 17);
		sftpch_put_handle(b, h);
		sftpch_req_end(b, start);
	}
	k = sftpch_req_handle(c, b, FXP_CLOSE, h);
	b->what[k] = "close";
}

/* Remove the files made (made[i]); the message stays what failed. */
static void
remove_made(struct sshconn *c, const struct sftp_newfile *f, size_t n,
    const size_t *made)
{
	struct sftpch_batch rb;
	char keep[SSHCONN_ERRLEN];
	size_t i;

	sftpch_batch_init(&rb, 0);
	for (i = 0; i < n; i++)
		if (made[i] > 0)
			sftpch_req_path(c, &rb, FXP_REMOVE, f[i].path);
	if (rb.n > 0) {
		snprintf(keep, sizeof(keep), "%s", sshconn_errmsg(c));
		sftpch_run(c, &rb);
		sshconn_seterr(c, "%s", keep);
	}
	sftpch_batch_clear(&rb);
}

/*
 * Create files[0..n) (create_all), then for each: its owner, its bytes,
 * fsync, close.  Two round trips for all.  If any file fails, every file
 * created here is removed again.  Returns the first failure.
 */
int
sftp_write_new_many(struct sshconn *c, const struct sftp_newfile *f,
    size_t n)
{
	struct sftpch_batch ob, b;
	size_t i, k, room, *first, *cnt;
	int r, rc = 0, *frc;

	if ((r = sftpch_begin(c)) != 0)
		return r;
	sftpch_batch_init(&ob, 0);
	sftpch_batch_init(&b, 1);
	first = xcalloc(n + 1, sizeof(*first));
	cnt = xcalloc(n + 1, sizeof(*cnt));
	frc = xcalloc(n + 1, sizeof(*frc));
	if ((rc = create_all(c, f, n, &ob, frc)) != 0)
		goto out;
	for (i = 0, room = 0; i < n; i++)
		room += f[i].len + 192 + 4 * ob.rep[i].len +
		    (f[i].len / SFTPCH_CHUNK + 1) * (ob.rep[i].len + 32);
	sftpch_batch_reserve(&b, room);
	for (i = 0; i < n; i++) {
		first[i] = b.n;
		if (frc[i] == 0)
			queue_file(c, &b, &f[i], &ob.rep[i]);
		cnt[i] = b.n - first[i];
	}
	if ((rc = sftpch_run(c, &b)) != 0)
		goto out;
	/* backwards: the first failure's message is the one left */
	for (i = n; i-- > 0;) {
		for (k = first[i]; frc[i] == 0 && k < first[i] + cnt[i]; k++)
			frc[i] = sftpch_check(c, &b.rep[k], 0, b.what[k],
			    f[i].path);
		if (frc[i] != 0)
			rc = frc[i];
	}
	/* all or nothing: every file made here goes if one failed */
	if (rc != 0)
		remove_made(c, f, n, cnt);
 out:
	sftpch_batch_clear(&b);
	sftpch_batch_clear(&ob);
	free(first);
	free(cnt);
	free(frc);
	return rc;
}

int
sftp_write_new(struct sshconn *c, const char *path, const void *buf,
    size_t len, unsigned long mode, long uid, long gid)
{
	struct sftp_newfile f = { path, buf, len, mode, uid, gid, 0 };

	return sftp_write_new_many(c, &f, 1);
}

int
sftp_try_create(struct sshconn *c, const char *path)
{
	struct sftpch_batch b;
	int r;

	if ((r = sftpch_begin(c)) != 0)
		return r;
	sftpch_batch_init(&b, 0);
	sftpch_req_open(c, &b, path, SFTP_EXCL, 0600);
	if ((r = sftpch_run(c, &b)) == 0 &&
	    (r = sftpch_check(c, &b.rep[0], FXP_HANDLE, "create", path)) == 0) {
		struct sftpch_batch cb;

		sftpch_batch_init(&cb, 0);
		sftpch_req_handle(c, &cb, FXP_CLOSE, &b.rep[0]);
		sftpch_req_path(c, &cb, FXP_REMOVE, path);
		if ((r = sftpch_run(c, &cb)) == 0 &&
		    (r = sftpch_check(c, &cb.rep[0], 0, "close", path)) == 0)
			r = sftpch_check(c, &cb.rep[1], 0, "remove", path);
		sftpch_batch_clear(&cb);
	}
	sftpch_batch_clear(&b);
	return r;
}

int
sftp_read_head(struct sshconn *c, const char *path, char *buf, size_t len,
    size_t *got)
{
	const unsigned char *d;
	struct sftpch_batch ob, b;
	size_t start, dl = 0;
	int r;

	*got = 0;
	if (len > SFTPCH_CHUNK)
		return ERR_INVAL;
	if ((r = sftpch_begin(c)) != 0)
		return r;
	if ((r = open_read(c, &ob, path)) != 0)
		return r;
	sftpch_batch_init(&b, 1);
	start = b.out.len;
	sftpch_req_begin(c, &b, FXP_READ);
	sftpch_put_handle(&b, &ob.rep[0]);
	sftpch_put_u64(&b, 0);
	sftpch_put_u32(&b, (uint32_t)len);
	sftpch_req_end(&b, start);
	sftpch_req_handle(c, &b, FXP_CLOSE, &ob.rep[0]);
	if ((r = sftpch_run(c, &b)) == 0) {
		if (b.rep[0].type == FXP_STATUS &&
		    sftpch_status(&b.rep[0]) == FX_EOF)
			dl = 0;		/* empty */
		else if ((r = sftpch_check(c, &b.rep[0], FXP_DATA, "read",
		    path)) == 0 && sftpw_data(b.rep[0].type, b.rep[0].data,
		    b.rep[0].len, len, &d, &dl) != 0)
			r = sftpch_bad_reply(c, "read", path);
		if (r == 0 && dl > 0)
			memcpy(buf, d, dl);
	}
	if (r == 0)
		*got = dl;
	sftpch_batch_clear(&b);
	sftpch_batch_clear(&ob);
	return r;
}

int
sftp_check_readable(struct sshconn *c, const char *path)
{
	struct sftpch_batch b;
	int r;

	if ((r = sftpch_begin(c)) != 0)
		return r;
	if ((r = open_read(c, &b, path)) != 0)
		return r;
	close_handle(c, &b.rep[0]);
	sftpch_batch_clear(&b);
	return 0;
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
	struct sftpch_batch b;
	size_t i, start;
	int r;

	if ((r = sftpch_begin(c)) != 0)
		return r;
	sftpch_batch_init(&b, 0);
	for (i = 0; i < n; i++) {
		start = b.out.len;
		sftpch_req_begin(c, &b, ext != NULL ? FXP_EXTENDED :
		    FXP_RENAME);
		if (ext != NULL)
			sftpch_put_str(&b, ext, strlen(ext));
		sftpch_put_str(&b, from[i], strlen(from[i]));
		sftpch_put_str(&b, to[i], strlen(to[i]));
		sftpch_req_end(&b, start);
	}
	if ((r = sftpch_run(c, &b)) == 0)
		for (i = n; i-- > 0;)
			rcs[i] = sftpch_check(c, &b.rep[i], 0, what, from[i]);
	sftpch_batch_clear(&b);
	return r;
}

int
sftp_rename_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs)
{
	/* plain version 3 RENAME, never replacing */
	return two_paths_many(c, NULL, "rename", from, to, n, rcs);
}

int
sftp_replace_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs)
{
	return two_paths_many(c, "posix-rename@openssh.com", "rename", from,
	    to, n, rcs);
}

int
sftp_link_many(struct sshconn *c, const char *const *from,
    const char *const *to, size_t n, int *rcs)
{
	return two_paths_many(c, "hardlink@openssh.com", "link", from, to, n,
	    rcs);
}

int
sftp_rename(struct sshconn *c, const char *from, const char *to)
{
	int r, rc = 0;

	if ((r = sftp_rename_many(c, &from, &to, 1, &rc)) != 0)
		return r;
	return rc;
}

int
sftp_unlink(struct sshconn *c, const char *path)
{
	return path_op(c, FXP_REMOVE, "remove", path);
}

/* ---- directories ---- */

/* The names of one READDIR reply added to *ents. */
static int
add_names(struct sshconn *c, const struct sftpch_reply *rp, const char *path,
    size_t max, struct sftp_dirent **ents, size_t *n, size_t *cap)
{
	struct sftpw_cursor cur;
	struct sftpw_name e;
	struct sftp_dirent *d;
	uint32_t count, i;

	if (sftpw_names(rp->type, rp->data, rp->len, &count, &cur) != 0)
		return sftpch_bad_reply(c, "readdir", path);
	for (i = 0; i < count; i++) {
		if (sftpw_name_next(&cur, &e) != 0 || e.nl == 0 ||
		    memchr(e.name, 0, e.nl) || memchr(e.name, '/', e.nl))
			return sftpch_bad_reply(c, "readdir", path);
		if ((e.nl == 1 && e.name[0] == '.') ||
		    (e.nl == 2 && memcmp(e.name, "..", 2) == 0))
			continue;
		if (*n >= max) {
			sshconn_seterr(c, "%s: more than %zu entries", path,
			    max);
			return ERR_TOOBIG;
		}
		if (*n == *cap) {
			*cap = *cap ? 2 * *cap : 64;
			*ents = xrealloc(*ents, *cap * sizeof(**ents));
		}
		d = &(*ents)[(*n)++];
		d->name = xstrndup((const char *)e.name, e.nl);
		d->st = e.st;
		d->nlink = sftpw_longname_nlink(e.longname, e.ll);
	}
	return 0;
}

/* READDIR on the open handle h until the end. */
static int
read_dir(struct sshconn *c, const struct sftpch_reply *h, const char *path,
    size_t max, struct sftp_dirent **ents, size_t *n)
{
	struct sftpch_batch b;
	size_t cap = 0;
	int r = 0, done = 0;

	while (r == 0 && !done) {
		sftpch_batch_init(&b, 0);
		sftpch_req_handle(c, &b, FXP_READDIR, h);
		if ((r = sftpch_run(c, &b)) == 0) {
			if (b.rep[0].type == FXP_STATUS &&
			    sftpch_status(&b.rep[0]) == FX_EOF)
				done = 1;
			else if ((r = sftpch_check(c, &b.rep[0], FXP_NAME,
			    "readdir", path)) == 0)
				r = add_names(c, &b.rep[0], path, max, ents,
				    n, &cap);
		}
		sftpch_batch_clear(&b);
	}
	return r;
}

int
sftp_readdir(struct sshconn *c, const char *path, size_t max,
    struct sftp_dirent **ents, size_t *n)
{
	struct sftpch_batch ob;
	int r;

	*ents = NULL;
	*n = 0;
	if ((r = sftpch_begin(c)) != 0)
		return r;
	sftpch_batch_init(&ob, 0);
	sftpch_req_path(c, &ob, FXP_OPENDIR, path);
	if ((r = sftpch_run(c, &ob)) == 0 &&
	    (r = sftpch_check(c, &ob.rep[0], FXP_HANDLE, "opendir",
	    path)) == 0) {
		r = read_dir(c, &ob.rep[0], path, max, ents, n);
		close_handle(c, &ob.rep[0]);
	}
	sftpch_batch_clear(&ob);
	if (r != 0) {
		sftp_dirents_free(*ents, *n);
		*ents = NULL;
		*n = 0;
	}
	return r;
}

void
sftp_dirents_free(struct sftp_dirent *ents, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ents[i].name);
	free(ents);
}

/* ---- overwriting ---- */

/* FSTAT of the open handle h: a regular file's size. */
static int
handle_size(struct sshconn *c, const struct sftpch_reply *h,
    const char *path, unsigned long long *size)
{
	struct sftpch_batch b;
	struct sftp_stat st;
	int r;

	sftpch_batch_init(&b, 0);
	sftpch_req_handle(c, &b, FXP_FSTAT, h);
	if ((r = sftpch_run(c, &b)) == 0 &&
	    (r = sftpch_check(c, &b.rep[0], FXP_ATTRS, "fstat", path)) == 0) {
		if (sftpw_attrs(b.rep[0].type, b.rep[0].data, b.rep[0].len,
		    &st) != 0)
			r = sftpch_bad_reply(c, "fstat", path);
		else if (!st.is_reg) {
			sshconn_seterr(c, "%s: not a regular file", path);
			r = ERR_INVAL;
		} else {
			*size = st.size;
		}
	}
	sftpch_batch_clear(&b);
	return r;
}

/* WRITE zeros over [0, size) on h, then fsync; each reply checked. */
static int
write_zeros(struct sshconn *c, const struct sftpch_reply *h,
    const char *path, unsigned long long size)
{
	static const unsigned char zero[SFTPCH_CHUNK];
	struct sftpch_batch b;
	unsigned long long off = 0;
	size_t i, m, start;
	int r = 0, last;

	do {
		sftpch_batch_init(&b, 0);
		for (i = 0; i < SFTP_BATCH && off < size; i++, off += m) {
			m = size - off < SFTPCH_CHUNK ? (size_t)(size - off) :
			    SFTPCH_CHUNK;
			start = b.out.len;
			sftpch_req_begin(c, &b, FXP_WRITE);
			sftpch_put_handle(&b, h);
			sftpch_put_u64(&b, off);
			sftpch_put_str(&b, zero, m);
			sftpch_req_end(&b, start);
		}
		last = off >= size;
		if (last && (sftpch_ext(c) & SFTPW_EXT_FSYNC)) {
			start = b.out.len;
			sftpch_req_begin(c, &b, FXP_EXTENDED);
			sftpch_put_str(&b, "fsync@openssh.com", 17);
			sftpch_put_handle(&b, h);
			sftpch_req_end(&b, start);
		}
		if (b.n > 0 && (r = sftpch_run(c, &b)) == 0)
			for (i = 0; i < b.n && r == 0; i++)
				r = sftpch_check(c, &b.rep[i], 0, "write",
				    path);
		sftpch_batch_clear(&b);
	} while (r == 0 && !last);
	return r;
}

int
sftp_zero_file(struct sshconn *c, const char *path, size_t max)
{
	struct sftpch_batch ob;
	unsigned long long size = 0;
	int r;

	if ((r = sftpch_begin(c)) != 0)
		return r;
	sftpch_batch_init(&ob, 0);
	sftpch_req_open(c, &ob, path, FXF_WRITE, 0);
	if ((r = sftpch_run(c, &ob)) != 0 ||
	    (r = sftpch_check(c, &ob.rep[0], FXP_HANDLE, "open", path)) != 0) {
		sftpch_batch_clear(&ob);
		return r;
	}
	if ((r = handle_size(c, &ob.rep[0], path, &size)) == 0 &&
	    size > max) {
		sshconn_seterr(c, "%s: larger than %zu bytes", path, max);
		r = ERR_INVAL;
	}
	if (r == 0)
		r = write_zeros(c, &ob.rep[0], path, size);
	close_handle(c, &ob.rep[0]);
	sftpch_batch_clear(&ob);
	return r;
}
