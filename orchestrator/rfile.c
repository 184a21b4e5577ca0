/*
 * rfile.c: the one way pemrotate touches a file on a host (see rfile.h).
 */
#include "rfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "transport/sftpwire.h"
#include "transport/sftp.h"
#include "transport/sshconn.h"

#define MAX_HOPS	32	/* symbolic links followed (the kernel: 40) */
#define MAX_DEPTH	128	/* directories on the way */
#define MAX_WRITERS	8

/* ---- names nobody can predict ---- */

/* 12 hex digits of SHA-256(secret, purpose, 0, path). */
static void
token(const struct rfile_ctx *x, const char *purpose, const char *path,
    char out[13])
{
	static const char hex[] = "0123456789abcdef";
	const void *p[4] = { x->secret, purpose, "", path };
	size_t len[4] = { sizeof(x->secret), strlen(purpose), 1,
	    strlen(path) };
	unsigned char md[32];
	int i;

	if (pki_digest_sha256(p, len, 4, md) != 0)
		abort();	/* SHA-256 is always there */
	for (i = 0; i < 6; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[12] = '\0';
}

static char *
dir_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s == path ? xstrdup("/") : xstrndup(path, (size_t)(s - path));
}

char *
rfile_dir_name(const struct rfile_ctx *x, const char *dir, const char *what)
{
	char t[13];

	token(x, what, dir, t);
	return xasprintf("%s/.pemrotate-%s-%s", strcmp(dir, "/") ? dir : "",
	    what, t);
}

char *
rfile_bak_name(const struct rfile_ctx *x, const char *path)
{
	char t[13];

	token(x, "bak", path, t);
	return xasprintf("%s.pemrotate-%s-%s", path, x->run_id, t);
}

static void
make_names(const struct rfile_ctx *x, struct rfile *f)
{
	const char *base = strrchr(f->path, '/') + 1;
	char *dir = dir_of(f->path), t[13];
	const char *d = strcmp(dir, "/") ? dir : "";

	token(x, "tmp", f->path, t);
	f->tmp = xasprintf("%s/.%s.pemrotate-%s", d, base, t);
	f->bak = rfile_bak_name(x, f->path);
	token(x, "restore", f->path, t);
	f->rtmp = xasprintf("%s/.%s.pemrotate-%s", d, base, t);
	token(x, "keygen", f->path, t);
	f->keydir = xasprintf("%s/.pemrotate-keygen-%s", d, t);
	free(dir);
}

/* ---- walking the path ---- */

struct walk {
	struct sshconn *c;
	char *name[MAX_DEPTH];		/* the directories so far */
	struct sftp_stat st[MAX_DEPTH + 1];	/* st[0]: "/" */
	size_t depth;
	char **queue;			/* what is left, in order */
	size_t nq, qcap;
	long writer[MAX_WRITERS];
	size_t nwriters;
	char *unsafe;			/* the first reason it is unsafe */
	char *why;			/* a failure */
};

static char *
walk_path(const struct walk *w, size_t depth, const char *more)
{
	struct strbuf b;
	size_t i;

	strbuf_init(&b);
	for (i = 0; i < depth; i++)
		strbuf_addf(&b, "/%s", w->name[i]);
	if (more != NULL)
		strbuf_addf(&b, "/%s", more);
	if (b.len == 0)
		strbuf_adds(&b, "/");
	return strbuf_steal(&b);
}

/* Put the components of path in front of the queue. */
static int
queue_front(struct walk *w, const char *path)
{
	char *copy = xstrdup(path), *s, *save = NULL, *parts[MAX_DEPTH];
	size_t n = 0, i;

	for (s = strtok_r(copy, "/", &save); s != NULL;
	    s = strtok_r(NULL, "/", &save)) {
		if (n == MAX_DEPTH || w->nq + n >= MAX_DEPTH * 4) {
			free(copy);
			return ERR_INVAL;
		}
		parts[n++] = s;
	}
	if (w->nq + n > w->qcap) {
		w->qcap = w->nq + n + 8;
		w->queue = xrealloc(w->queue, w->qcap * sizeof(*w->queue));
	}
	memmove(w->queue + n, w->queue, w->nq * sizeof(*w->queue));
	for (i = 0; i < n; i++)
		w->queue[i] = xstrdup(parts[i]);
	w->nq += n;
	free(copy);
	return 0;
}

static void
queue_pop(struct walk *w)
{
	free(w->queue[0]);
	memmove(w->queue, w->queue + 1, --w->nq * sizeof(*w->queue));
}

static void
add_writer(struct walk *w, unsigned long uid)
{
	size_t i;

	if (uid == 0)
		return;
	for (i = 0; i < w->nwriters; i++)
		if (w->writer[i] == (long)uid)
			return;
	if (w->nwriters < MAX_WRITERS)
		w->writer[w->nwriters++] = (long)uid;
	else if (w->unsafe == NULL)
		w->unsafe = xstrdup("too many users can write on the way");
}

/*
 * Who can change what the name `ent` in directory `dir` (path dpath)
 * refers to: the directory's owner; with the sticky bit, besides, the
 * entry's owner; anyone else who can write the directory makes it unsafe.
 * final: the directory pemrotate creates its files in, where the sticky
 * bit does not help (anyone could take a name first).
 */
static void
lookup(struct walk *w, const struct sftp_stat *dir, const char *dpath,
    const struct sftp_stat *ent, int final)
{
	if (!dir->owner_known) {
		if (w->unsafe == NULL)
			w->unsafe = xasprintf("the SFTP server does not tell "
			    "who owns %s", dpath);
		return;
	}
	add_writer(w, dir->uid);
	if ((dir->mode & (S_IWGRP | S_IWOTH)) == 0)
		return;
	if ((dir->mode & S_ISVTX) && !final && ent != NULL) {
		add_writer(w, ent->uid);
		return;
	}
	if (w->unsafe == NULL)
		w->unsafe = xasprintf("%s is writable by %s (mode %04lo)",
		    dpath, dir->mode & S_IWOTH ? "everyone" : "its group",
		    dir->mode & 07777);
}

/* Follow the symbolic link at path: its target in front of the queue. */
static int
follow(struct walk *w, const char *path, int *hops)
{
	char *target = NULL;
	int rc;

	if (++*hops > MAX_HOPS) {
		w->why = xasprintf("%s: too many symbolic links", path);
		return ERR_INVAL;
	}
	if ((rc = sftp_readlink(w->c, path, &target)) != 0) {
		w->why = xstrdup(sshconn_errmsg(w->c));
		return rc;
	}
	if (target[0] == '\0' || str_has_ctrl(target)) {
		w->why = xasprintf("%s: unusable symbolic link", path);
		free(target);
		return ERR_INVAL;
	}
	queue_pop(w);
	if (target[0] == '/')
		while (w->depth > 0)
			free(w->name[--w->depth]);
	rc = queue_front(w, target);
	if (rc != 0)
		w->why = xasprintf("%s: path too deep", path);
	free(target);
	return rc;
}

/*
 * One step: the queue's front looked at (stat st, result rc).  Returns 1
 * when the walk is over (the file found, or found absent), 0 to go on,
 * 2 to look again (a link was followed), or an ERR_*.
 */
static int
step(struct walk *w, const char *path, const struct sftp_stat *st,
    int rc, int *hops, int *exists)
{
	const struct sftp_stat *dir = &w->st[w->depth];
	char *dpath = walk_path(w, w->depth, NULL);
	int last = w->nq == 1, ret = 0;

	if (rc != 0 && rc != ERR_NOTFOUND) {
		w->why = xstrdup(sshconn_errmsg(w->c));
		ret = rc;
	} else if (rc == ERR_NOTFOUND && !last) {
		w->why = xasprintf("%s: no such directory", path);
		ret = ERR_NOTFOUND;
	} else if (rc == ERR_NOTFOUND) {
		lookup(w, dir, dpath, NULL, 1);
		*exists = 0;
		ret = 1;
	} else {
		lookup(w, dir, dpath, st, last && !st->is_lnk);
		if (st->is_lnk && last) {
			w->why = xasprintf("%s is a symbolic link: name the "
			    "file itself", path);
			ret = ERR_INVAL;
		} else if (st->is_lnk) {
			ret = follow(w, path, hops);
			ret = ret == 0 ? 2 : ret;
		} else if (last && !st->is_reg) {
			w->why = xasprintf("%s is not a regular file", path);
			ret = ERR_INVAL;
		} else if (!last && !st->is_dir) {
			w->why = xasprintf("%s is not a directory", path);
			ret = ERR_INVAL;
		} else if (w->depth + 1 >= MAX_DEPTH) {
			w->why = xasprintf("%s: path too deep", path);
			ret = ERR_INVAL;
		} else {
			w->name[w->depth++] = w->queue[0];
			w->queue[0] = NULL;
			w->st[w->depth] = *st;
			queue_pop(w);
			*exists = 1;
			ret = last;
		}
	}
	free(dpath);
	return ret;
}

/*
 * Walk the queue: the names up to the next ".." looked at in one round
 * trip, each step then taken in order.
 */
static int
walk(struct walk *w, int *exists)
{
	char *paths[MAX_DEPTH];
	struct sftp_stat st[MAX_DEPTH];
	int rcs[MAX_DEPTH], rc = 0, hops = 0;
	size_t i, k;

	while (w->nq > 0 && rc == 0) {
		if (strcmp(w->queue[0], ".") == 0) {
			queue_pop(w);
			continue;
		}
		if (strcmp(w->queue[0], "..") == 0) {
			queue_pop(w);
			if (w->depth > 0)
				free(w->name[--w->depth]);
			continue;
		}
		for (k = 0; k < w->nq && k + w->depth < MAX_DEPTH &&
		    strcmp(w->queue[k], ".") != 0 &&
		    strcmp(w->queue[k], "..") != 0; k++) {
			char *prev = k ? paths[k - 1] : walk_path(w, w->depth,
			    NULL);

			paths[k] = xasprintf("%s/%s", strcmp(prev, "/") ?
			    prev : "", w->queue[k]);
			if (k == 0)
				free(prev);
		}
		if ((rc = sftp_lstat_many(w->c, (const char *const *)paths,
		    k, st, rcs)) != 0)
			w->why = xstrdup(sshconn_errmsg(w->c));
		for (i = 0; i < k && rc == 0; i++) {
			rc = step(w, paths[i], &st[i], rcs[i], &hops, exists);
			if (rc == 2)
				rc = 0;
			else if (rc == 0)
				continue;
			break;
		}
		for (i = 0; i < k; i++)
			free(paths[i]);
		if (rc == 1)
			return 0;
	}
	if (rc == 0 && w->why == NULL)
		w->why = xstrdup("the path names no file");
	return rc ? rc : ERR_INVAL;
}

static void
walk_clear(struct walk *w)
{
	while (w->depth > 0)
		free(w->name[--w->depth]);
	while (w->nq > 0)
		queue_pop(w);
	free(w->queue);
	free(w->unsafe);
}

/* ---- deciding who acts ---- */

/* The command starting OpenSSH's sftp-server as uid (quoted for sh). */
static char *
via_cmd(long uid, const char *sftp_server)
{
	char *q, *cmd;

	if (sftp_server != NULL) {
		q = shquote(sftp_server, 1);
		cmd = xasprintf("g=$(id -g %ld) && exec setpriv --reuid=%ld "
		    "--regid=\"$g\" --init-groups -- %s -u 077", uid, uid,
		    q);
		free(q);
		return cmd;
	}
	return xasprintf("g=$(id -g %ld) || exit 127; for p in "
	    "/usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server "
	    "/usr/lib/ssh/sftp-server /usr/libexec/sftp-server; do "
	    "[ -x \"$p\" ] && exec setpriv --reuid=%ld --regid=\"$g\" "
	    "--init-groups -- \"$p\" -u 077; done; echo 'no sftp-server' >&2; "
	    "exit 127", uid, uid);
}

static char *
writers_text(const struct walk *w)
{
	struct strbuf b;
	size_t i;

	strbuf_init(&b);
	for (i = 0; i < w->nwriters; i++)
		strbuf_addf(&b, "%suid %ld", i ? " and " : "", w->writer[i]);
	return strbuf_steal(&b);
}

/* What the walk found, into who acts; or why not. */
static int
decide(const struct walk *w, const struct rfile_ctx *x, struct rfile *f,
    const char *sftp_server, char **why)
{
	char *who, *reason = NULL;

	if (w->unsafe != NULL)
		reason = xstrdup(w->unsafe);
	else if (w->nwriters > 1 || (w->nwriters == 1 &&
	    w->writer[0] != f->uid)) {
		who = writers_text(w);
		reason = xasprintf("a directory on the way to %s can be "
		    "changed by %s, who %s not own it (uid %ld)", f->path,
		    who, w->nwriters > 1 ? "do" : "does", f->uid);
		free(who);
	}
	if (reason != NULL && !x->allow_shared) {
		*why = xasprintf("%s: unsafe to write as root: %s (fix the "
		    "owner or mode, or pass --allow-shared-dirs)", f->path,
		    reason);
		free(reason);
		return ERR_UNSAFE;
	}
	f->shared = reason;
	/* shared: act as the file's owner, who can harm only itself */
	f->act_uid = w->nwriters == 0 && reason == NULL ? 0 : f->uid;
	if (f->act_uid != 0)
		f->via = via_cmd(f->act_uid, sftp_server);
	return 0;
}

/* The acting user reaches the file's directory (setpriv, sftp-server). */
static int
check_via(struct sshconn *c, struct rfile *f, char **why)
{
	struct sftp_stat st;
	char *dir = dir_of(f->path);
	int rc;

	rfile_use(c, f);
	rc = sftp_lstat(c, dir, &st);
	if (rc != 0)
		*why = xasprintf("%s: acting as its owner (uid %ld): %s",
		    f->path, f->act_uid, sshconn_errmsg(c));
	sftp_as(c, NULL);
	free(dir);
	return rc;
}

int
rfile_resolve(struct sshconn *c, const struct rfile_ctx *x, const char *path,
    long def_uid, long def_gid, const char *sftp_server, struct rfile *f,
    char **why)
{
	struct walk w;
	const struct sftp_stat *fst;
	int rc, exists = 0;

	memset(f, 0, sizeof(*f));
	memset(&w, 0, sizeof(w));
	*why = NULL;
	if (path[0] != '/' || str_has_ctrl(path)) {
		*why = xasprintf("%s: not an absolute path", path);
		return ERR_INVAL;
	}
	w.c = c;
	sftp_as(c, NULL);
	if ((rc = sftp_lstat(c, "/", &w.st[0])) != 0) {
		*why = xstrdup(sshconn_errmsg(c));
		return rc;
	}
	if ((rc = queue_front(&w, path)) != 0)
		w.why = xasprintf("%s: path too deep", path);
	if (rc == 0)
		rc = walk(&w, &exists);
	if (rc != 0) {
		*why = w.why;
		walk_clear(&w);
		return rc;
	}
	free(w.why);
	/* the file, or (absent) its name in the directory walked to */
	f->path = walk_path(&w, w.depth, exists ? NULL : w.queue[0]);
	f->exists = exists;
	fst = &w.st[w.depth];
	f->uid = exists || def_uid < 0 ? (long)fst->uid : def_uid;
	f->gid = exists || def_gid < 0 ? (long)fst->gid : def_gid;
	f->mode = exists ? fst->mode : 0;
	make_names(x, f);
	rc = decide(&w, x, f, sftp_server, why);
	walk_clear(&w);
	if (rc == 0 && f->act_uid != 0)
		rc = check_via(c, f, why);
	if (rc != 0)
		rfile_clear(f);
	return rc;
}

void
rfile_clear(struct rfile *f)
{
	free(f->path);
	free(f->tmp);
	free(f->bak);
	free(f->rtmp);
	free(f->keydir);
	free(f->via);
	free(f->shared);
	memset(f, 0, sizeof(*f));
}

void
rfile_use(struct sshconn *c, const struct rfile *f)
{
	sftp_as(c, f->via);
}

char *
rfile_sh(const struct rfile *f, const char *script)
{
	char *q, *cmd;

	if (f->act_uid == 0)
		return xstrdup(script);
	q = shquote(script, 0);
	cmd = xasprintf("g=$(id -g %ld) && exec setpriv --reuid=%ld "
	    "--regid=\"$g\" --init-groups -- /bin/sh -c %s", f->act_uid,
	    f->act_uid, q);
	free(q);
	return cmd;
}

int
rfile_probe(struct sshconn *c, const struct rfile_ctx *x,
    const struct rfile *f, char **why)
{
	char *dir = dir_of(f->path), *probe, *fail = NULL;
	int rc;

	probe = rfile_dir_name(x, dir, "probe");
	rfile_use(c, f);
	if ((rc = sftp_try_create(c, probe)) != 0) {
		fail = xstrdup(sshconn_errmsg(c));
		/* a probe left by an earlier try: removed, tried again */
		if (sftp_unlink(c, probe) == 0 &&
		    (rc = sftp_try_create(c, probe)) != 0) {
			free(fail);
			fail = xstrdup(sshconn_errmsg(c));
		}
	}
	if (rc != 0)
		*why = xasprintf("cannot write in %s: %s", dir, fail);
	free(fail);
	free(probe);
	free(dir);
	return rc;
}

/*
 * The same question answered from metadata only, for a run that changes
 * nothing (--dry-run, plan): f's directory as f's user sees it.  Root
 * writes anywhere; another user writes where it owns a writable directory
 * or everyone may write.  A read-only mount shows only when writing.
 */
int
rfile_check_dir(struct sshconn *c, const struct rfile *f, char **why)
{
	char *dir = dir_of(f->path);
	struct sftp_stat st;
	int rc;

	rfile_use(c, f);
	if ((rc = sftp_stat(c, dir, &st)) != 0)
		*why = xasprintf("cannot look at %s: %s", dir,
		    sshconn_errmsg(c));
	else if (!st.is_dir)
		rc = ERR_INVAL;
	else if (f->act_uid != 0 && (st.mode & 0002) == 0 &&
	    ((long)st.uid != f->act_uid || (st.mode & 0200) == 0))
		rc = ERR_PERM;
	if (rc == ERR_INVAL)
		*why = xasprintf("%s is not a directory", dir);
	else if (rc == ERR_PERM)
		*why = xasprintf("cannot write in %s: uid %ld may not "
		    "(owner uid %lu, mode %04lo)", dir, f->act_uid, st.uid,
		    st.mode & 07777);
	free(dir);
	return rc;
}

/* ---- putting files in place ---- */

static int
same_actor(const struct rfile *a, const struct rfile *b)
{
	return a->act_uid == b->act_uid;
}

/* The new files of nf[0..n) acting as nf[0]'s user: written to tmp. */
static int
write_tmps(struct sshconn *c, const struct rfile_new *nf, size_t n,
    char **why)
{
	struct sftp_newfile *w = xcalloc(n + 1, sizeof(*w));
	size_t i, k = 0;
	int rc = 0;

	for (i = 0; i < n; i++) {
		const struct rfile *f = nf[i].f;

		if (nf[i].from != NULL)
			continue;
		/* root acting sets the owner, on the handle */
		w[k++] = (struct sftp_newfile){ f->tmp, nf[i].buf,
		    nf[i].len, 0600, f->act_uid == 0 && f->uid != 0 ?
		    f->uid : -1, f->gid, 1 };
	}
	if (k > 0 && (rc = sftp_write_new_many(c, w, k)) != 0)
		*why = xasprintf("upload: %s", sshconn_errmsg(c));
	free(w);
	return rc;
}

/*
 * Keep each original as its backup: link(2).  A backup already there is
 * an earlier try's of this run (its name is this run's secret) and holds
 * the original.
 */
static int
keep_originals(struct sshconn *c, const struct rfile_new *nf, size_t n,
    unsigned ext, char **why)
{
	const char **from = xcalloc(n + 1, sizeof(*from));
	const char **to = xcalloc(n + 1, sizeof(*to));
	int *rcs = xcalloc(n + 1, sizeof(*rcs)), rc = 0;
	struct sftp_stat st;
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (nf[i].f->exists) {
			from[k] = nf[i].f->path;
			to[k++] = nf[i].f->bak;
		}
	if (k > 0 && (ext & SFTPW_EXT_HARDLINK))
		rc = sftp_link_many(c, from, to, k, rcs);
	else if (k > 0)		/* no link: the original renamed away */
		rc = sftp_rename_many(c, from, to, k, rcs);
	for (i = 0; i < k && rc == 0; i++) {
		if (rcs[i] == 0)
			continue;
		if (sftp_lstat(c, to[i], &st) != 0 || !st.is_reg) {
			*why = xasprintf("back up %s: %s", from[i],
			    sshconn_errmsg(c));
			rc = ERR_SFTP;
		}
	}
	if (rc != 0 && *why == NULL)
		*why = xasprintf("back up: %s", sshconn_errmsg(c));
	free(from);
	free(to);
	free(rcs);
	return rc;
}

/* tmp (or from) over path: rename(2), or without it, a v3 rename. */
static int
replace_all(struct sshconn *c, const struct rfile_new *nf, size_t n,
    unsigned ext, char **why)
{
	const char **from = xcalloc(n + 1, sizeof(*from));
	const char **to = xcalloc(n + 1, sizeof(*to));
	int *rcs = xcalloc(n + 1, sizeof(*rcs)), rc = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		from[i] = nf[i].from != NULL ? nf[i].from : nf[i].f->tmp;
		to[i] = nf[i].f->path;
	}
	if (ext & SFTPW_EXT_POSIX_RENAME) {
		rc = sftp_replace_many(c, from, to, n, rcs);
	} else {
		/* the original is safe as its backup; then the name is free */
		for (i = 0; i < n; i++)
			if (ext & SFTPW_EXT_HARDLINK)
				sftp_unlink(c, to[i]);
		rc = sftp_rename_many(c, from, to, n, rcs);
	}
	for (i = 0; i < n && rc == 0; i++)
		if (rcs[i] != 0)
			rc = rcs[i];
	if (rc != 0)
		*why = xasprintf("put in place: %s", sshconn_errmsg(c));
	free(from);
	free(to);
	free(rcs);
	return rc;
}

static void
drop_new_tmps(struct sshconn *c, const struct rfile_new *nf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sftp_unlink(c, nf[i].from != NULL ? nf[i].from :
		    nf[i].f->tmp);
}

/* nf[0..n), one user acting on all. */
static int
put_group(struct sshconn *c, const struct rfile_new *nf, size_t n,
    char **why)
{
	unsigned ext = 0;
	int rc;

	rfile_use(c, nf[0].f);
	if ((rc = sftp_ext(c, &ext)) != 0) {
		*why = xasprintf("start SFTP: %s", sshconn_errmsg(c));
		return rc;
	}
	if ((rc = write_tmps(c, nf, n, why)) != 0)
		return rc;
	if ((rc = keep_originals(c, nf, n, ext, why)) == 0)
		rc = replace_all(c, nf, n, ext, why);
	if (rc != 0)
		drop_new_tmps(c, nf, n);
	return rc;
}

int
rfile_put(struct sshconn *c, const struct rfile_new *nf, size_t n,
    char **why)
{
	struct rfile_new *g = xcalloc(n + 1, sizeof(*g));
	char *done = xcalloc(n + 1, 1);
	size_t i, j, k;
	int rc = 0;

	*why = NULL;
	for (i = 0; i < n && rc == 0; i++) {
		if (done[i])
			continue;
		for (j = i, k = 0; j < n; j++)
			if (!done[j] && same_actor(nf[i].f, nf[j].f)) {
				g[k++] = nf[j];
				done[j] = 1;
			}
		rc = put_group(c, g, k, why);
	}
	sftp_as(c, NULL);
	free(g);
	free(done);
	return rc;
}

/* One file back: its backup linked to rtmp, renamed over path. */
static int
restore_one(struct sshconn *c, struct rfile *f, unsigned ext, char **why)
{
	struct sftp_stat st;
	const char *from[1] = { f->rtmp }, *to[1] = { f->path };
	int rc, rcs[1];

	if (!f->exists) {
		rc = sftp_unlink(c, f->path);
		return rc == ERR_NOTFOUND ? 0 : rc;
	}
	if (sftp_lstat(c, f->bak, &st) != 0)
		return 0;	/* never replaced */
	sftp_unlink(c, f->rtmp);
	if (!(ext & SFTPW_EXT_HARDLINK) || !(ext & SFTPW_EXT_POSIX_RENAME)) {
		/* the old way: the backup itself goes back */
		sftp_unlink(c, f->path);
		rc = sftp_rename(c, f->bak, f->path);
	} else {
		const char *bak[1] = { f->bak };

		rc = sftp_link_many(c, bak, from, 1, rcs);
		if (rc == 0 && (rc = rcs[0]) == 0 &&
		    (rc = sftp_replace_many(c, from, to, 1, rcs)) == 0)
			rc = rcs[0];
	}
	if (rc != 0)
		*why = xasprintf("put back %s: %s", f->path,
		    sshconn_errmsg(c));
	return rc;
}

int
rfile_restore(struct sshconn *c, struct rfile *const *f, size_t n,
    char **why)
{
	unsigned ext = 0;
	size_t i;
	int rc = 0, r;

	*why = NULL;
	for (i = 0; i < n; i++) {
		rfile_use(c, f[i]);
		if ((r = sftp_ext(c, &ext)) == 0)
			r = restore_one(c, f[i], ext, why);
		else if (*why == NULL)
			*why = xasprintf("start SFTP: %s", sshconn_errmsg(c));
		if (r != 0 && rc == 0)
			rc = r;
	}
	rfile_drop_tmps(c, f, n);
	return rc;
}

void
rfile_drop_tmps(struct sshconn *c, struct rfile *const *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		rfile_use(c, f[i]);
		sftp_unlink(c, f[i]->tmp);
		sftp_unlink(c, f[i]->rtmp);
	}
	sftp_as(c, NULL);
}

int
rfile_read_head(struct sshconn *c, const struct rfile *f, char *buf,
    size_t len, size_t *got)
{
	int rc;

	rfile_use(c, f);
	rc = sftp_read_head(c, f->path, buf, len, got);
	sftp_as(c, NULL);
	return rc;
}

int
rfile_read(struct sshconn *c, const struct rfile *f, size_t max, int secret,
    char **buf, size_t *len)
{
	int rc;

	rfile_use(c, f);
	rc = sftp_read_file(c, f->path, max, secret, buf, len);
	sftp_as(c, NULL);
	return rc;
}

int
rfile_list_dir(struct sshconn *c, const struct rfile *f,
    struct sftp_dirent **ents, size_t *n)
{
	char *dir = dir_of(f->path);
	int rc;

	rfile_use(c, f);
	rc = sftp_readdir(c, dir, 1000000, ents, n);
	sftp_as(c, NULL);
	free(dir);
	return rc;
}

#define WIPE_MAX	(16 * 1024 * 1024)	/* a key file is a few KB */

int
rfile_wipe(struct sshconn *c, const struct rfile *f, const char *path,
    int zero, char **why)
{
	struct sftp_stat st;
	int rc, notreg = 0;

	*why = NULL;
	rfile_use(c, f);
	/* a backup is a regular file; a link in its place is not followed */
	if ((rc = sftp_lstat(c, path, &st)) == 0 && !st.is_reg)
		rc = ERR_INVAL, notreg = 1;
	if (rc == 0 && zero)
		rc = sftp_zero_file(c, path, WIPE_MAX);
	if (rc == 0)
		rc = sftp_unlink(c, path);
	if (notreg)
		*why = xasprintf("%s: not a regular file, left alone", path);
	else if (rc != 0)
		*why = xasprintf("%s", sshconn_errmsg(c));
	sftp_as(c, NULL);
	return rc;
}

int
rfile_read_at(struct sshconn *c, const struct rfile *f, const char *path,
    size_t max, int secret, char **buf, size_t *len)
{
	int rc;

	rfile_use(c, f);
	rc = sftp_read_file(c, path, max, secret, buf, len);
	sftp_as(c, NULL);
	return rc;
}
