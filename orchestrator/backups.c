/*
 * backups.c: the backup sets on the hosts: found, shown, pruned, put
 * back (see backups.h).
 */
#define _GNU_SOURCE		/* timegm */
#include "backups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "dbtrust.h"
#include "host.h"
#include "lock.h"
#include "server.h"
#include "stop.h"
#include "transport/sftp.h"

#define TARGETS_MAX	(SF_COUNT + 2)
#define CA_MAX		(64 * 1024)

/* What each host's listing found (r->act_data while scanning). */
struct scan {
	struct bk_file **f;
	size_t *n;
};

/* h's target files: the server's six, an agent's key and certificate. */
static size_t
targets(struct run *r, struct host *h, struct rfile **f, int *is_key)
{
	size_t n = 0;
	int i;

	if (h->is_server)
		for (i = 0; i < SF_COUNT; i++) {
			is_key[n] = i == SF_CA_KEY || i == SF_SERVER_KEY;
			f[n++] = &r->sf.f[i];
		}
	if (h->is_agent && h->kf.path != NULL && h->cf.path != NULL) {
		is_key[n] = 1;
		f[n++] = &h->kf;
		is_key[n] = 0;
		f[n++] = &h->cf;
	}
	return n;
}

/*
 * The run id in name when it is base.pemrotate-RUN-TOKEN (TOKEN 12
 * lowercase hex digits, RUN letters, digits and '-'), else NULL.
 */
static char *
run_of(const char *name, const char *base)
{
	size_t bl = strlen(base), pl = strlen(".pemrotate-"), i;
	const char *rest, *dash;

	if (strncmp(name, base, bl) != 0 ||
	    strncmp(name + bl, ".pemrotate-", pl) != 0)
		return NULL;
	rest = name + bl + pl;
	if ((dash = strrchr(rest, '-')) == NULL || dash == rest ||
	    strlen(dash + 1) != 12)
		return NULL;
	for (i = 1; i <= 12; i++)
		if (!strchr("0123456789abcdef", dash[i]))
			return NULL;
	for (i = 0; rest + i < dash; i++)
		if (!strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz-", rest[i]))
			return NULL;
	return xstrndup(rest, (size_t)(dash - rest));
}

/* The backups of target f found in its directory's listing. */
static void
match(struct host *h, struct rfile *f, int is_key,
    const struct sftp_dirent *e, size_t ne, struct bk_file **out,
    size_t *n)
{
	const char *base = strrchr(f->path, '/') + 1;
	size_t dl = (size_t)(base - f->path);
	struct bk_file *b;
	char *run;
	size_t i;

	for (i = 0; i < ne; i++) {
		if (!e[i].st.is_reg || (run = run_of(e[i].name, base)) == NULL)
			continue;
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		b = &(*out)[(*n)++];
		b->h = h;
		b->f = f;
		b->is_key = is_key;
		b->path = xasprintf("%.*s%s", (int)dl, f->path, e[i].name);
		b->mtime = e[i].st.mtime;
		b->nlink = e[i].nlink;
		/* the run id travels in path; recovered when merging */
		free(run);
	}
}

static void
scan_host(void *ctx, size_t i)
{
	struct run *r = ctx;
	struct scan *sc = r->act_data;
	struct host *h = &r->hosts[i];
	struct rfile *f[TARGETS_MAX];
	struct sftp_dirent *e;
	int is_key[TARGETS_MAX], rc;
	size_t k, nt, ne;
	char *msg = NULL;

	if (h->status == HS_FAILED || h->unreachable)
		return;
	nt = targets(r, h, f, is_key);
	if ((rc = host_connect(r, h, &msg)) != 0) {
		host_fail(h, "list", "%s", msg);
		free(msg);
		return;
	}
	for (k = 0; k < nt; k++) {
		if (rfile_list_dir(h->conn, f[k], &e, &ne) != 0) {
			host_fail(h, "list", "%s", sshconn_errmsg(h->conn));
			break;
		}
		match(h, f[k], is_key[k], e, ne, &sc->f[i], &sc->n[i]);
		sftp_dirents_free(e, ne);
	}
	host_release(r, h);
}

/* The run id of a backup file, from its name. */
static char *
file_run(const struct bk_file *b)
{
	const char *base = strrchr(b->f->path, '/') + 1;

	return run_of(strrchr(b->path, '/') + 1, base);
}

static struct bk_set *
set_for(struct bk_list *l, const char *run)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->sets[i].run_id, run) == 0)
			return &l->sets[i];
	l->sets = xrealloc(l->sets, (l->n + 1) * sizeof(*l->sets));
	memset(&l->sets[l->n], 0, sizeof(l->sets[l->n]));
	l->sets[l->n].run_id = xstrdup(run);
	return &l->sets[l->n++];
}

static int
cmp_set(const void *a, const void *b)
{
	return strcmp(((const struct bk_set *)a)->run_id,
	    ((const struct bk_set *)b)->run_id);
}

/* When set s was made: its journal's run id, else its newest file. */
static void
set_when(const struct run *r, struct bk_set *s)
{
	char *path = xasprintf("%s/%s.journal", r->state_dir, s->run_id);
	struct tm tm;
	const char *end;
	size_t i;

	memset(&tm, 0, sizeof(tm));
	if (access(path, F_OK) == 0 &&
	    (end = strptime(s->run_id, "%Y%m%dT%H%M%SZ", &tm)) != NULL) {
		s->when = timegm(&tm);
		s->from_journal = 1;
	} else {
		for (i = 0; i < s->nfiles; i++)
			if ((time_t)s->files[i].mtime > s->when)
				s->when = (time_t)s->files[i].mtime;
	}
	free(path);
}

/* The CA the server's ca_certificate.crt backup of s holds. */
static void
set_ca(struct run *r, struct bk_set *s)
{
	struct pki_cert *ca = NULL;
	char *buf = NULL, *msg = NULL;
	size_t i, len;

	for (i = 0; i < s->nfiles; i++)
		if (s->files[i].f == &r->sf.f[SF_CA_CRT])
			break;
	if (i == s->nfiles || host_connect(r, r->server, &msg) != 0) {
		free(msg);
		return;
	}
	if (rfile_read_at(r->server->conn, s->files[i].f, s->files[i].path,
	    CA_MAX, 0, &buf, &len) == 0 &&
	    pki_cert_from_pem(buf, len, &ca) == 0) {
		pki_cert_subject(ca, s->ca_subject, sizeof(s->ca_subject));
		pki_cert_serial(ca, s->ca_serial, sizeof(s->ca_serial));
		pki_cert_fingerprint(ca, s->ca_fp);
		s->ca_known = 1;
	}
	pki_cert_free(ca);
	free(buf);
}

int
backups_scan(struct run *r, struct bk_list *l)
{
	struct scan sc;
	struct bk_set *s;
	char *run;
	size_t i, k;

	memset(l, 0, sizeof(*l));
	sc.f = xcalloc(r->nhosts, sizeof(*sc.f));
	sc.n = xcalloc(r->nhosts, sizeof(*sc.n));
	r->act_data = &sc;
	host_par_for(r, scan_host);
	r->act_data = NULL;
	for (i = 0; i < r->nhosts; i++) {
		for (k = 0; k < sc.n[i]; k++) {
			run = file_run(&sc.f[i][k]);
			s = set_for(l, run);
			free(run);
			s->files = xrealloc(s->files, (s->nfiles + 1) *
			    sizeof(*s->files));
			s->files[s->nfiles++] = sc.f[i][k];
		}
		free(sc.f[i]);
	}
	free(sc.f);
	free(sc.n);
	qsort(l->sets, l->n, sizeof(*l->sets), cmp_set);
	for (i = 0; i < l->n; i++) {
		set_when(r, &l->sets[i]);
		set_ca(r, &l->sets[i]);
	}
	return host_count(r, HS_FAILED) > 0 ? -1 : 0;
}

void
backups_print(const struct bk_list *l, FILE *f)
{
	const struct bk_set *s;
	const struct host *last;
	char when[32];
	struct tm tm;
	size_t i, k;

	if (l->n == 0)
		fprintf(f, "no backup sets\n");
	for (i = 0; i < l->n; i++) {
		s = &l->sets[i];
		gmtime_r(&s->when, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
		fprintf(f, "backup set %s  %s (%s)\n", s->run_id, when,
		    s->from_journal ? "run journal" : "file times");
		if (s->ca_known)
			fprintf(f, "  CA  %s  serial %s  sha256 %s\n",
			    s->ca_subject, s->ca_serial, s->ca_fp);
		for (k = 0, last = NULL; k < s->nfiles; k++) {
			if (s->files[k].h != last)
				fprintf(f, "  host %s\n", s->files[k].h->label);
			last = s->files[k].h;
			fprintf(f, "    %s\n", s->files[k].path);
		}
	}
}

const struct bk_set *
backups_find(const struct bk_list *l, const char *run_id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->sets[i].run_id, run_id) == 0)
			return &l->sets[i];
	return NULL;
}

/* Remove s's files on h; 0, or the first failure (recorded on h). */
static int
prune_set(struct host *h, const struct bk_set *s)
{
	const struct bk_file *b;
	char *why;
	size_t k;
	int rc = 0, zero;

	for (k = 0; k < s->nfiles; k++) {
		b = &s->files[k];
		if (b->h != h)
			continue;
		/* a key linked elsewhere too: zeros would reach that file */
		zero = b->is_key && b->nlink == 1;
		if (b->is_key && !zero)
			log_info("%s: %s has %ld links: removed, not "
			    "overwritten", h->label, b->path, b->nlink);
		if (rfile_wipe(h->conn, b->f, b->path, zero, &why) != 0) {
			host_fail(h, "prune", "%s", why);
			rc = -1;
		}
		free(why);
	}
	return rc;
}

/* How many of h's files s backs up. */
static size_t
files_on(const struct bk_set *s, const struct host *h)
{
	size_t k, n = 0;

	for (k = 0; k < s->nfiles; k++)
		if (s->files[k].h == h)
			n++;
	return n;
}

/*
 * Newest first, h keeps sets until keep whole ones are kept: a whole set
 * backs up as many of h's files as the fullest set on h does.  A partial
 * set (a revoke's root.crl alone, an agents run's files of one agent on
 * the PEM server host) newer than the last whole set kept stays too, but
 * does not count: pruning never leaves a host without a set to roll back
 * to.  The older ones go.
 */
static void
prune_host(struct run *r, struct host *h, const struct bk_list *l, int keep)
{
	size_t i, n, full = 0, whole = 0, left = 0, removed = 0;
	char *msg = NULL;

	if (h->status == HS_FAILED || host_connect(r, h, &msg) != 0) {
		if (msg != NULL)
			host_fail(h, "prune", "%s", msg);
		free(msg);
		return;
	}
	for (i = 0; i < l->n; i++)
		if ((n = files_on(&l->sets[i], h)) > full)
			full = n;
	for (i = l->n; i-- > 0;) {
		if ((n = files_on(&l->sets[i], h)) == 0)
			continue;
		if ((int)whole < keep) {
			whole += n == full;
			left++;
			continue;
		}
		if (prune_set(h, &l->sets[i]) == 0) {
			log_info("%s: removed backup set %s", h->label,
			    l->sets[i].run_id);
			removed++;
		} else {
			left++;
		}
	}
	printf("%s: %zu backup set(s) removed, %zu left\n", h->label,
	    removed, left);
	host_release(r, h);
}

void
backups_prune(struct run *r, const struct bk_list *l, int keep)
{
	size_t i;

	if (lock_acquire(r) != 0) {
		r->result = RUN_PREFLIGHT_FAILED;
		return;
	}
	for (i = 0; i < r->nhosts; i++)
		prune_host(r, &r->hosts[i], l, keep);
	lock_release(r);
	r->result = host_count(r, HS_FAILED) > 0 ? RUN_PARTIAL : RUN_OK;
}

/* s's backup of target f, or NULL. */
static const struct bk_file *
backup_of(const struct bk_set *s, const struct rfile *f)
{
	size_t k;

	for (k = 0; k < s->nfiles; k++)
		if (s->files[k].f == f)
			return &s->files[k];
	return NULL;
}

/* Point each target's backup name at s's file; 0 if s has them all. */
static int
aim(const struct bk_set *s, struct rfile *const *f, size_t n,
    const char **missing)
{
	const struct bk_file *b;
	size_t i;

	for (i = 0; i < n; i++)
		if (backup_of(s, f[i]) == NULL) {
			*missing = f[i]->path;
			return -1;
		}
	for (i = 0; i < n; i++) {
		b = backup_of(s, f[i]);
		free(f[i]->bak);
		f[i]->bak = xstrdup(b->path);
	}
	return 0;
}

static void
rollback_agent(void *ctx, size_t i)
{
	struct run *r = ctx;
	const struct bk_set *s = r->act_data;
	struct host *h = &r->hosts[i];
	struct rfile *f[2] = { &h->kf, &h->cf };
	const char *missing;
	char *msg = NULL;

	if (!h->is_agent || h->status == HS_FAILED)
		return;
	if (aim(s, f, 2, &missing) != 0) {
		h->status = HS_SKIPPED;
		h->phase = "rollback";
		h->error = xasprintf("no backup of %s in set %s: left alone",
		    missing, s->run_id);
		return;
	}
	if (stop_agent(r, h) != 0)
		return;
	if (rfile_restore(h->conn, f, 2, &msg) != 0)
		host_fail(h, "rollback", "%s", msg);
	free(msg);
	/* started on whatever it has now; stop_undo retries a failure */
	stop_start(r, h);
	host_release(r, h);
}

/*
 * The database is checked against the CA of set s too: the restored
 * server certificate is signed by it.  0, or r->error.
 */
static int
trust_set_ca(struct run *r, const struct bk_set *s)
{
	const struct bk_file *b = backup_of(s, &r->sf.f[SF_CA_CRT]);
	char *pem = NULL, *msg = NULL;
	size_t len;
	int rc;

	if ((rc = host_connect(r, r->server, &msg)) == 0 &&
	    (rc = rfile_read_at(r->server->conn, b->f, b->path, CA_MAX, 0,
	    &pem, &len)) != 0)
		msg = xasprintf("read %s: %s", b->path,
		    sshconn_errmsg(r->server->conn));
	if (rc == 0)
		rc = dbtrust_follow_ca(r, pem, &msg);
	if (rc != 0)
		r->error = xasprintf("backup set %s: %s; nothing was changed",
		    s->run_id, msg ? msg : err_str(rc));
	free(msg);
	free(pem);
	return rc;
}

void
backups_rollback(struct run *r, const struct bk_set *s, int agents)
{
	struct rfile *f[SF_COUNT];
	const char *missing;
	int i;

	for (i = 0; i < SF_COUNT; i++)
		f[i] = &r->sf.f[i];
	if (aim(s, f, SF_COUNT, &missing) != 0) {
		r->error = xasprintf("backup set %s has no backup of %s on "
		    "%s; nothing was changed", s->run_id, missing,
		    r->server->label);
		r->result = RUN_PREFLIGHT_FAILED;
		return;
	}
	if (trust_set_ca(r, s) != 0 || lock_acquire(r) != 0) {
		r->result = RUN_PREFLIGHT_FAILED;
		return;
	}
	log_info("putting back the server files of backup set %s",
	    s->run_id);
	if (server_restore(r, 1) != 0) {
		host_fail(r->server, "rollback", "the server files of set %s "
		    "could not be applied (see above)", s->run_id);
		r->result = RUN_ROLLBACK_FAILED;
		lock_release(r);
		return;
	}
	if (!r->server->is_agent)
		r->server->status = HS_OK;
	if (agents) {
		r->act_data = (void *)s;
		host_par_for(r, rollback_agent);
		r->act_data = NULL;
	}
	lock_release(r);
	r->result = host_count(r, HS_FAILED) > 0 ? RUN_PARTIAL : RUN_OK;
}

void
backups_free(struct bk_list *l)
{
	size_t i, k;

	for (i = 0; i < l->n; i++) {
		for (k = 0; k < l->sets[i].nfiles; k++)
			free(l->sets[i].files[k].path);
		free(l->sets[i].files);
		free(l->sets[i].run_id);
	}
	free(l->sets);
	memset(l, 0, sizeof(*l));
}
