/*
 * run.c: the "rotate" command from start to end: set-up, the phases in
 * their required order, the exit status and the report.
 */
#include "run.h"

#include <sys/resource.h>

#include <poll.h>
#include <pwd.h>
#include <signal.h>
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
#include "inventory/inventory.h"
#include "inventory/pemdb.h"
#include "journal.h"
#include "options.h"
#include "pool.h"
#include "transport/knownhosts.h"

static char *
home_file(const char *rel)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home == NULL || *home == '\0') {
		pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : "/";
	}
	return xasprintf("%s/%s", home, rel);
}

static void
setup_identity(struct run *r)
{
	static const char *keys[] = {
		".ssh/id_ed25519", ".ssh/id_ecdsa", ".ssh/id_rsa",
	};
	struct passwd *pw = getpwuid(getuid());
	size_t i;
	char *p;

	r->user = xstrdup(pw != NULL ? pw->pw_name : "root");
	if (r->o->known_hosts != NULL) {
		r->known_hosts = xstrdup(r->o->known_hosts);
	} else {
		r->known_hosts = home_file(".ssh/known_hosts");
		r->known_hosts2 = xstrdup("/etc/ssh/ssh_known_hosts");
		if (access(r->known_hosts, F_OK) != 0) {
			free(r->known_hosts);
			r->known_hosts = r->known_hosts2;
			r->known_hosts2 = NULL;
		}
	}
	if (r->o->ssh_key != NULL) {
		r->default_key = xstrdup(r->o->ssh_key);
		return;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		p = home_file(keys[i]);
		if (access(p, R_OK) == 0) {
			r->default_key = p;
			return;
		}
		free(p);
	}
}

/*
 * The run id: UTC time and 16 random bits (two runs in one second differ),
 * or the id of the run being resumed.  The new CA's subject: PEM's, with a
 * serialNumber naming this run.
 */
static void
setup_subject(struct run *r)
{
	unsigned char rnd[2] = { 0, 0 };
	char t[24];
	struct tm tm;

	gmtime_r(&r->started, &tm);
	strftime(t, sizeof(t), "%Y%m%dT%H%M%SZ", &tm);
	if (getentropy(rnd, sizeof(rnd)) != 0)
		rnd[0] = (unsigned char)getpid();
	if (r->resume != NULL)
		snprintf(r->run_id, sizeof(r->run_id), "%s", r->resume->run_id);
	else
		snprintf(r->run_id, sizeof(r->run_id), "%s-%02x%02x", t,
		    rnd[0], rnd[1]);
	r->suffix = xasprintf(".pemrotate-%s-*", r->run_id);
	r->rx.run_id = r->run_id;
	r->rx.allow_shared = r->o->allow_shared_dirs;
	if (r->o->ca_subject != NULL)
		r->ca_subject = xstrdup(r->o->ca_subject);
	else
		r->ca_subject = xasprintf("%s/serialNumber=pemrotate-%s",
		    pki_default_ca_subject(), r->run_id);
}

static char *
host_label(const struct inv_host *ih)
{
	char *raw, *safe;

	if (strcmp(ih->name, ih->address) == 0)
		raw = xstrdup(ih->name);
	else
		raw = xasprintf("%s (%s)", ih->name, ih->address);
	safe = str_printable(raw, 200);
	free(raw);
	return safe;
}

/* Whether the host's agent needs a new key in this run. */
static int
wants_key(const struct run *r, const struct host *h)
{
	return h->inv->is_agent && !r->o->keygen_remote && (r->resume == NULL ||
	    !journal_has(r->resume, "pushed", h->inv->name));
}

/*
 * One struct host per inventory host, and the order keys are made in: the
 * CA's and the server's (unless a resumed run finished the server), then
 * the agents', the server host's own agent first.
 */
static size_t
setup_hosts(struct run *r)
{
	size_t i, slot = 0, rank = 0;
	struct host *h;

	r->ca_slot = r->server_slot = -1;
	if (r->resume == NULL || !journal_has(r->resume, "server", "done")) {
		r->ca_slot = (long)slot++;
		r->server_slot = (long)slot++;
	}
	r->nhosts = inventory_count(r->inv);
	r->hosts = xcalloc(r->nhosts, sizeof(*r->hosts));
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		h->inv_idx = i;
		h->inv = inventory_host(r->inv, i);
		h->label = host_label(h->inv);
		if (h->inv->is_server)
			r->server = h;
		if (h->inv->is_server && wants_key(r, h))
			h->key_slot = slot++;
	}
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		if (!h->inv->is_server)
			h->rank = rank++;
		if (!h->inv->is_server && wants_key(r, h))
			h->key_slot = slot++;
	}
	return slot;
}

static size_t
count_agents(const struct run *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nhosts; i++)
		n += r->hosts[i].inv->is_agent;
	return n;
}

/* Many hosts keep a connection open: allow the descriptors. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * OpenSSL's secure heap for the private keys, sized for what can be alive
 * at once: for each host worked on at once and each key thread, a key
 * being made (at its peak RSA-4096 takes ~16 KB, EC ~2 KB), the key a push
 * holds with its PEM, an SSH key exchange; 128 KB besides (CA, server
 * key, TLS).  Locked memory counts in the resident size from the start,
 * hence a size that follows -j and the key type.
 */
static void
secure_heap(const struct opts *o)
{
	size_t per = o->keyspec.alg == PKI_ALG_RSA ? 32 * 1024 : 8 * 1024;
	size_t want = 128 * 1024 + per * ((size_t)o->parallel +
	    (size_t)cpu_count()), size = 1;

	while (size < want)
		size *= 2;
	switch (pki_secure_heap(size)) {
	case 0:
		log_debug("secure heap for keys: %zu KB, locked in memory",
		    size / 1024);
		break;
	case ERR_PERM:
		log_debug("secure heap for keys: %zu KB, not locked in memory "
		    "(RLIMIT_MEMLOCK)", size / 1024);
		break;
	default:
		log_debug("no secure heap for keys (%zu KB refused): they are "
		    "on the ordinary heap, wiped when freed", size / 1024);
		break;
	}
}

/* "host='ADDR' dbname=pem", the value escaped as libpq wants. */
static char *
conninfo_for(const char *addr)
{
	struct strbuf b;

	strbuf_init(&b);
	strbuf_adds(&b, "host='");
	for (; *addr != '\0'; addr++) {
		if (*addr == '\'' || *addr == '\\')
			strbuf_adds(&b, "\\");
		strbuf_add(&b, addr, 1);
	}
	strbuf_adds(&b, "' dbname=pem");
	return strbuf_steal(&b);
}

/*
 * The secret the names of the run's files on the hosts derive from (see
 * rfile.h): new, or the resumed run's, from its journal.
 */
static int
setup_names(struct run *r)
{
	static const char hex[] = "0123456789abcdef";
	const char *v;
	unsigned char *s = r->rx.secret;
	size_t i, n = sizeof(r->rx.secret);
	unsigned hi, lo;

	if (r->resume == NULL) {
		if (getentropy(s, n) != 0) {
			r->error = xstrdup("no randomness from the kernel");
			return ERR_IO;
		}
		for (i = 0; i < n; i++) {
			r->names_hex[2 * i] = hex[s[i] >> 4];
			r->names_hex[2 * i + 1] = hex[s[i] & 15];
		}
		r->names_hex[2 * n] = '\0';
		return 0;
	}
	v = journal_get(r->resume, "names");
	if (v == NULL || strlen(v) != 2 * n) {
		r->error = xasprintf("%s: no \"names\" record (a run of an "
		    "older pemrotate: finish it with that version)",
		    r->resume->path);
		return ERR_PARSE;
	}
	for (i = 0; i < n; i++) {
		if (sscanf(v + 2 * i, "%1x%1x", &hi, &lo) != 2) {
			r->error = xasprintf("%s: bad \"names\" record",
			    r->resume->path);
			return ERR_PARSE;
		}
		s[i] = (unsigned char)(hi << 4 | lo);
	}
	snprintf(r->names_hex, sizeof(r->names_hex), "%s", v);
	return 0;
}

static int
setup(struct run *r)
{
	char err[1024];
	const struct inv_host *s;
	size_t nkeys;
	int rc;

	secure_heap(r->o);	/* the key type is known; no key exists yet */
	progress_init(r);
	setup_subject(r);
	if ((rc = setup_names(r)) != 0)
		return rc;
	if (inventory_load(r->o->inventory, &r->inv, err, sizeof(err)) != 0) {
		r->error = xstrdup(err);
		return ERR_PARSE;
	}
	setup_identity(r);
	if (known_hosts_load(r->known_hosts, r->known_hosts2, &r->kh, err,
	    sizeof(err)) != 0) {
		if (!r->o->accept_new_host_keys) {
			r->error = xstrdup(err);
			return ERR_IO;
		}
		known_hosts_load("/dev/null", NULL, &r->kh, err, sizeof(err));
	}
	nkeys = setup_hosts(r);
	r->nlocal_keys = nkeys;
	/*
	 * Sessions kept between phases: every host's up to a memory budget
	 * of ~50 MB + 10 KB a host (a libssh2 1.10 session is ~57 KB).
	 */
	r->max_open = r->o->max_open > 0 ? (size_t)r->o->max_open :
	    600 + r->nhosts / 25;
	s = inventory_server(r->inv);
	if (r->o->pem_db != NULL)
		r->conninfo = xstrdup(r->o->pem_db);
	else
		r->conninfo = conninfo_for(s->address);
	raise_fd_limit();
	/*
	 * Keys are made just ahead of their use, at most two per CPU made
	 * and not yet taken: private keys do not pile up in memory, and the
	 * threads stay busy as long as the pushes take keys.
	 */
	r->kg = keygen_start(&r->o->keyspec, nkeys, cpu_count(),
	    2 * (size_t)cpu_count());
	return 0;
}

/* ---- the plan, and asking ---- */

static void
print_plan(const struct run *r, FILE *f)
{
	char ks[32];
	size_t n = count_agents(r);

	pki_keyspec_str(&r->o->keyspec, ks, sizeof(ks));
	fprintf(f, "pemrotate will rotate the PEM estate of %s:\n"
	    "  PEM server   %s, data directory %s\n"
	    "  restart with %s\n"
	    "  agents       %zu (%d at a time)\n"
	    "  new keys     %s (agents' made %s), certificates valid %d days\n"
	    "  new CA       %s\n"
	    "  old CA       sha256 %s\n"
	    "  trust        %s\n"
	    "  backups      each replaced file kept as <file>%s\n",
	    inventory_path(r->inv), r->server->label, r->sf.data_dir,
	    r->sf.restart_cmd, n, r->o->parallel, ks, r->o->keygen_remote ?
	    "on each agent host" : "here, in memory", r->o->days,
	    r->ca_subject, r->old_ca_fp[0] ? r->old_ca_fp : "(none)",
	    r->o->no_overlap ? "new CA only from the start (--no-overlap)" :
	    "old and new CA until every agent runs on its new certificate",
	    r->suffix);
}

/* Wait for a line on stdin; Ctrl-C (the signal thread) answers no. */
static int
read_answer(struct run *r, char *line, size_t len)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
	ssize_t n;

	while (atomic_load(&r->stop) == STOP_NONE) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = read(STDIN_FILENO, line, len - 1);
		if (n <= 0)
			return 0;
		line[n] = '\0';
		return 1;
	}
	return 0;
}

static int
confirm(struct run *r)
{
	char line[32];

	if (r->o->yes || !isatty(STDIN_FILENO))
		return 1;
	print_plan(r, stderr);
	fprintf(stderr, "Proceed? This stops every agent and restarts the "
	    "PEM server's PostgreSQL. [y/N] ");
	if (!read_answer(r, line, sizeof(line)))
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}

/* ---- the phases in order ---- */

/* Give every host still pending the status st. */
static void
mark_all(struct run *r, enum host_status st)
{
	size_t i;

	for (i = 0; i < r->nhosts; i++)
		if (r->hosts[i].status == HS_PENDING)
			r->hosts[i].status = st;
}

static int
count_status(const struct run *r, enum host_status st)
{
	size_t i;
	int n = 0;

	for (i = 0; i < r->nhosts; i++)
		n += r->hosts[i].status == st;
	return n;
}

/* "resume RUN" when the run left work to do. */
static void
say_resume(struct run *r, const char *what)
{
	free(r->error);
	r->error = xasprintf("%s; the old CA stays trusted, so every agent "
	    "still logs in. Finish with: pemrotate resume %s%s%s", what,
	    r->run_id, r->o->state_dir ? " --state-dir " : "",
	    r->o->state_dir ? r->o->state_dir : "");
}

static int
after_push(struct run *r)
{
	int failed = count_status(r, HS_FAILED);
	int skipped = count_status(r, HS_SKIPPED);
	char what[160];

	if (atomic_load(&r->stop) == STOP_SIGNAL) {
		r->result = "interrupted";
		say_resume(r, "interrupted before every agent was rotated");
		return 1;
	}
	if (failed > 0 || skipped > 0) {
		r->result = "partial";
		if (skipped == 0)
			snprintf(what, sizeof(what), "%d host(s) failed and "
			    "run on their old certificates", failed);
		else if (failed == 0)
			snprintf(what, sizeof(what), "%d host(s) were left "
			    "alone and run on their old certificates", skipped);
		else
			snprintf(what, sizeof(what), "%d host(s) failed and %d "
			    "were left alone; they run on their old "
			    "certificates", failed, skipped);
		say_resume(r, what);
		return 1;
	}
	if (!r->o->no_overlap && phase_finalize(r) != 0) {
		r->result = "partial";
		return 1;
	}
	journal_add(r->journal, "finalized", "yes");
	r->result = "ok";
	return 0;
}

/* Record what the run is before its first change. */
static int
journal_begin(struct run *r)
{
	const struct opts *o = r->o;
	char err[512], ks[32], *redacted, *inv;

	if (r->resume != NULL) {
		if (journal_reopen(r->resume->path, &r->journal, err,
		    sizeof(err)) != 0)
			goto fail;
		journal_addf(r->journal, "resumed", "%ld", (long)r->started);
		return 0;
	}
	if (journal_create(r->state_dir, r->run_id, &r->journal, err,
	    sizeof(err)) != 0)
		goto fail;
	inv = realpath(o->inventory, NULL);
	redacted = pemdb_conninfo_redact(r->conninfo);
	pki_keyspec_str(&o->keyspec, ks, sizeof(ks));
	journal_add(r->journal, "run", r->run_id);
	journal_add(r->journal, "names", r->names_hex);
	journal_add(r->journal, "inventory", inv ? inv : o->inventory);
	journal_add(r->journal, "pem_db", redacted ? redacted : "");
	journal_add(r->journal, "known_hosts", r->known_hosts);
	journal_add(r->journal, "ssh_key", o->ssh_key ? o->ssh_key : "");
	journal_add(r->journal, "key_type", ks);
	journal_addf(r->journal, "days", "%d", o->days);
	journal_addf(r->journal, "no_overlap", "%d", o->no_overlap);
	journal_addf(r->journal, "keygen_remote", "%d", o->keygen_remote);
	journal_add(r->journal, "ca_subject", r->ca_subject);
	journal_add(r->journal, "old_ca", r->old_ca_fp);
	journal_sync(r->journal);
	free(inv);
	free(redacted);
	return 0;
 fail:
	r->error = xasprintf("%s; nothing was changed", err);
	return ERR_IO;
}

static double
tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + tv->tv_usec / 1e6;
}

/* With -v: the process's CPU so far, where each phase ends (profiling). */
void
run_cpu_mark(const char *phase)
{
	struct rusage ru;

	if (log_get_level() >= LOG_DEBUG && getrusage(RUSAGE_SELF, &ru) == 0)
		log_debug("CPU after %s: %.1f ms (%.1f user, %.1f system)",
		    phase, 1e3 * (tv_s(&ru.ru_utime) + tv_s(&ru.ru_stime)),
		    1e3 * tv_s(&ru.ru_utime), 1e3 * tv_s(&ru.ru_stime));
}

static int
interrupted(const struct run *r)
{
	return atomic_load(&r->stop) == STOP_SIGNAL;
}

/* Everything that must hold before the first change. */
static int
prepare(struct run *r)
{
	run_cpu_mark("set-up");
	if (preflight(r) != 0) {
		r->result = "preflight_failed";
		return 2;
	}
	run_cpu_mark("preflight");
	if (r->o->dry_run) {
		print_plan(r, stdout);
		mark_all(r, HS_OK);	/* each host passed the preflight */
		r->result = "dry_run";
		return 0;
	}
	if (interrupted(r) || !confirm(r)) {
		r->error = xstrdup(interrupted(r) ? "interrupted; nothing "
		    "was changed" : "not confirmed; nothing was changed");
		r->result = "cancelled";
		return 2;
	}
	if (lock_acquire(r) != 0 || journal_begin(r) != 0) {
		r->result = "preflight_failed";
		return 2;
	}
	return -1;
}

static int
rotate(struct run *r)
{
	int rc;

	if ((rc = prepare(r)) >= 0)
		return rc;
	jobs_disable(r);
	if (r->resume != NULL && (rc = resume_prepare(r)) != 0) {
		if (r->result == NULL || strcmp(r->result, "failed") == 0)
			r->result = "preflight_failed";
		return strcmp(r->result, "rollback_failed") == 0 ? 3 : 2;
	}
	run_cpu_mark("lock and journal");
	if (phase_stop_agents(r) != 0) {
		r->error = xstrdup("the PEM server host's agent could not be "
		    "stopped; nothing was changed");
		r->result = "preflight_failed";
		return 2;
	}
	if (interrupted(r) && !r->forward) {
		r->error = xstrdup("interrupted; nothing was changed and the "
		    "agents are started again");
		r->result = "interrupted";
		return 2;
	}
	run_cpu_mark("stop");
	if (!r->forward) {
		if (phase_server(r) != 0)
			return 3;
		run_cpu_mark("server");
		if (!r->server->is_agent)
			r->server->status = HS_OK;
	} else if (!r->server->is_agent || r->server->done_before) {
		r->server->status = HS_OK;
	}
	phase_push_agents(r);
	run_cpu_mark("push");
	rc = after_push(r);
	run_cpu_mark("finalize");
	return rc;
}

static void
free_host(struct host *h)
{
	sshconn_close(h->conn);
	free(h->label);
	free(h->conn_err);
	free(h->known_lines);
	free(h->cfg_path);
	free(h->key_path);
	rfile_clear(&h->kf);
	rfile_clear(&h->cf);
	free(h->crt_path);
	free(h->stop_cmd);
	free(h->start_cmd);
	free(h->run_cmd);
	free(h->pem_host);
	free(h->error);
}

static void
free_run(struct run *r)
{
	size_t i;

	keygen_free(r->kg);
	for (i = 0; i < r->nhosts; i++)
		free_host(&r->hosts[i]);
	free(r->hosts);
	for (i = 0; i < SF_COUNT; i++) {
		free(r->sf.path[i]);
		rfile_clear(&r->sf.f[i]);
	}
	free(r->sf.data_dir);
	free(r->sf.old_root_crt);
	free(r->sf.old_root_crl);
	free(r->sf.restart_cmd);
	pki_cert_free(r->sf.old_ca);
	pki_cert_free(r->sf.old_server_cert);
	pki_key_free(r->ca_key);
	pki_leafmaker_free(r->leafmaker);
	pki_key_free(r->server_key);
	pki_cert_free(r->ca_cert);
	pki_cert_free(r->server_cert);
	free(r->ca_pem);
	free(r->crl_pem);
	free(r->ca_subject);
	free(r->suffix);
	free(r->conninfo);
	free(r->known_hosts);
	free(r->known_hosts2);
	known_hosts_free(r->kh);
	free(r->default_key);
	run_keys_free(r);
	free(r->user);
	free(r->pg_host);
	free(r->pg_port);
	free(r->error);
	pemdb_free(r->db);
	pemdb_ssl_clear(&r->ssl);
	dbtrust_free(r);
	inventory_free(r->inv);
	free(r->state_dir);
	free(r->jobs);
	log_set_hook(NULL, NULL, NULL);
	pthread_mutex_destroy(&r->mu);
}

/* The end, whatever happened: agents running, PEM's job back, the lock. */
static void
wind_down(struct run *r)
{
	const char *res = r->result ? r->result : "failed";

	restart_stopped_agents(r);
	jobs_restore(r);
	/* a run left for "resume" keeps the estate locked; any other ends */
	if (r->exit_code != 1)
		lock_release(r);
	if (r->journal != NULL) {
		journal_add(r->journal, "result", res);
		journal_addf(r->journal, "exit", "%d", r->exit_code);
		journal_close(r->journal);
		r->journal = NULL;
	}
}

static void
finish(struct run *r)
{
	struct keygen_stats ks;
	struct rusage ru;
	char err[512];

	r->finished = time(NULL);
	if (r->result == NULL)
		r->result = "failed";
	mark_all(r, HS_SKIPPED);
	if (r->kg != NULL && r->nlocal_keys > 0) {
		keygen_stats(r->kg, &ks);
		log_info("key generation: %zu key(s) of %zu made, %.2f s of CPU "
		    "(%.2f s on %d CPUs)", ks.made, r->nlocal_keys, ks.busy_s,
		    ks.busy_s / cpu_count(), cpu_count());
	}
	/*
	 * What the run cost this machine (getrusage: microseconds, KB), before
	 * the table and the last word, which stay the last lines.
	 */
	if (r->nhosts > 0 && getrusage(RUSAGE_SELF, &ru) == 0)
		log_info("resources: %.3f s of CPU (%.3f user, %.3f system), "
		    "peak memory %.1f MB", tv_s(&ru.ru_utime) +
		    tv_s(&ru.ru_stime), tv_s(&ru.ru_utime), tv_s(&ru.ru_stime),
		    ru.ru_maxrss / 1024.0);
	if (r->nhosts > 0 && !r->o->quiet)
		report_table(r, stdout);
	else if (r->nhosts > 0)
		report_summary(r, stdout);
	fflush(stdout);
	if (r->o->report != NULL && report_json(r, r->o->report, err,
	    sizeof(err)) != 0) {
		log_error("%s", err);
		if (r->exit_code == 0)
			r->exit_code = 1;
	}
	/* the last word: what went wrong, and what to do */
	if (r->error != NULL)
		log_error("%s", r->error);
}

/* ---- signals: a thread turns SIGINT, SIGTERM, SIGHUP into r->stop ---- */

static void *
signal_thread(void *arg)
{
	struct run *r = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		if (sigwait(&set, &sig) != 0 || sig == SIGUSR2)
			return NULL;
		if (atomic_exchange(&r->stop, STOP_SIGNAL) == STOP_SIGNAL)
			log_error("already stopping: the hosts in flight are "
			    "being finished and stopped agents started again");
		else
			log_error("%s: starting no new host; finishing those in "
			    "flight", sig == SIGINT ? "interrupted" :
			    sig == SIGHUP ? "hung up" : "terminated");
	}
}

/*
 * Block the signals in every thread; one thread waits for them.  A hang-up
 * (the operator's SSH session to this machine dropped) is an interruption
 * too: the run winds down cleanly instead of dying half-way.
 */
static int
signals_start(struct run *r, pthread_t *t)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return pthread_create(t, NULL, signal_thread, r) == 0;
}

static void
signals_stop(pthread_t t, int started)
{
	if (!started)
		return;
	pthread_kill(t, SIGUSR2);
	pthread_join(t, NULL);
}

/* ---- resume: the options of the run being finished ---- */

static const char *
jget(const struct journal_state *st, const char *key)
{
	const char *v = journal_get(st, key);

	return v != NULL && *v != '\0' ? v : NULL;
}

/*
 * What the earlier run was: its inventory, database, keys and validity;
 * the command line may name another inventory path, database or SSH
 * settings (the same estate seen from here), and sets how to work.
 */
static int
resume_opts(struct run *r, struct opts *ro, struct journal_state *st)
{
	char err[512], *path, *dir;
	const char *v;

	dir = r->state_dir;
	if ((path = journal_find(dir, ro->resume_run)) == NULL ||
	    journal_load(path, st, err, sizeof(err)) != 0) {
		r->error = path == NULL ? xasprintf("no %s run to resume in "
		    "%s", ro->resume_run ? ro->resume_run : "unfinished", dir) :
		    xstrdup(err);
		free(path);
		return ERR_NOTFOUND;
	}
	free(path);
	if ((v = jget(st, "exit")) != NULL && strcmp(v, "1") != 0) {
		log_info("run %s ended with \"%s\" (exit %s): nothing to "
		    "resume", st->run_id, jget(st, "result") ?
		    jget(st, "result") : "?", v);
		return 1;
	}
	if (ro->inventory == NULL)
		ro->inventory = jget(st, "inventory");
	if (ro->pem_db == NULL)
		ro->pem_db = jget(st, "pem_db");
	if (ro->known_hosts == NULL)
		ro->known_hosts = jget(st, "known_hosts");
	if (ro->ssh_key == NULL)
		ro->ssh_key = jget(st, "ssh_key");
	if ((v = jget(st, "key_type")) != NULL)
		pki_keyspec_parse(v, &ro->keyspec);
	if ((v = jget(st, "days")) != NULL)
		ro->days = atoi(v);
	ro->no_overlap = (v = jget(st, "no_overlap")) && strcmp(v, "1") == 0;
	ro->keygen_remote = (v = jget(st, "keygen_remote")) &&
	    strcmp(v, "1") == 0;
	ro->ca_subject = jget(st, "ca_subject");
	r->resume = st;
	log_info("resuming run %s (%s)", st->run_id, st->path);
	return ro->inventory != NULL ? 0 : ERR_PARSE;
}

int
run_main(const struct opts *o)
{
	struct journal_state st;
	struct opts ro = *o;
	struct run r;
	pthread_t sigt;
	int sig_ok, rc;

	memset(&r, 0, sizeof(r));
	memset(&st, 0, sizeof(st));
	r.o = &ro;
	r.started = time(NULL);
	pthread_mutex_init(&r.mu, NULL);
	r.state_dir = o->state_dir ? xstrdup(o->state_dir) :
	    journal_default_dir();
	sig_ok = signals_start(&r, &sigt);
	if (strcmp(o->command, "resume") == 0 &&
	    (rc = resume_opts(&r, &ro, &st)) != 0) {
		r.exit_code = rc > 0 ? 0 : 2;
		r.result = rc > 0 ? "ok" : "preflight_failed";
	} else if (setup(&r) != 0) {
		r.exit_code = 2;
		r.result = "preflight_failed";
	} else {
		r.exit_code = rotate(&r);
	}
	wind_down(&r);
	finish(&r);
	signals_stop(sigt, sig_ok);
	free_run(&r);
	journal_state_clear(&st);
	return r.exit_code;
}
