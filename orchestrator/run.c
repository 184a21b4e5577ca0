/*
 * run.c: the "rotate" command from start to end: set-up, the phases in
 * their required order, the exit status and the report.
 */
#include "run.h"

#include <sys/resource.h>

#include <pwd.h>
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
#include "inventory/inventory.h"
#include "options.h"
#include "pool.h"

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

/* The new CA's subject: PEM's, with a serialNumber naming this run. */
static void
setup_subject(struct run *r)
{
	struct tm tm;

	gmtime_r(&r->started, &tm);
	strftime(r->run_id, sizeof(r->run_id), "%Y%m%dT%H%M%SZ", &tm);
	r->suffix = xasprintf(".pemrotate-%s", r->run_id);
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

/* One struct host per inventory host; key slots: server's agent first. */
static void
setup_hosts(struct run *r)
{
	size_t i, slot = 2;
	struct host *h;

	r->nhosts = inventory_count(r->inv);
	r->hosts = xcalloc(r->nhosts, sizeof(*r->hosts));
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		h->inv_idx = i;
		h->inv = inventory_host(r->inv, i);
		h->label = host_label(h->inv);
		if (h->inv->is_server)
			r->server = h;
		if (h->inv->is_agent && h->inv->is_server)
			h->key_slot = slot++;
	}
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		if (h->inv->is_agent && !h->inv->is_server)
			h->key_slot = slot++;
	}
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

static int
setup(struct run *r)
{
	char err[1024];
	const struct inv_host *s;

	r->started = time(NULL);
	pthread_mutex_init(&r->mu, NULL);
	progress_init(r);
	setup_subject(r);
	if (inventory_load(r->o->inventory, &r->inv, err, sizeof(err)) != 0) {
		r->error = xstrdup(err);
		return ERR_PARSE;
	}
	setup_identity(r);
	setup_hosts(r);
	s = inventory_server(r->inv);
	if (r->o->pem_db != NULL)
		r->conninfo = xstrdup(r->o->pem_db);
	else
		r->conninfo = conninfo_for(s->address);
	raise_fd_limit();
	r->kg = keygen_start(&r->o->keyspec, 2 + count_agents(r),
	    cpu_count());
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
	    "  new keys     %s, certificates valid %d days\n"
	    "  new CA       %s\n"
	    "  old CA       sha256 %s\n"
	    "  trust        %s\n"
	    "  backups      each replaced file kept as <file>%s\n",
	    inventory_path(r->inv), r->server->label, r->sf.data_dir,
	    r->sf.restart_cmd, n, r->o->parallel, ks, r->o->days,
	    r->ca_subject, r->old_ca_fp[0] ? r->old_ca_fp : "(none)",
	    r->o->no_overlap ? "new CA only from the start (--no-overlap)" :
	    "old and new CA until every agent runs on its new certificate",
	    r->suffix);
}

static int
confirm(const struct run *r)
{
	char line[32];

	if (r->o->yes || !isatty(STDIN_FILENO))
		return 1;
	print_plan(r, stderr);
	fprintf(stderr, "Proceed? This stops every agent and restarts the "
	    "PEM server's PostgreSQL. [y/N] ");
	if (fgets(line, sizeof(line), stdin) == NULL)
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

static int
after_push(struct run *r)
{
	int failed = count_status(r, HS_FAILED);

	if (failed > 0) {
		r->result = "partial";
		free(r->error);
		r->error = xasprintf("%d host(s) failed and run on their old "
		    "certificates; the old CA stays trusted. Fix them, then "
		    "run the same pemrotate command again to rotate the rest.",
		    failed);
		return 1;
	}
	if (!r->o->no_overlap && phase_finalize(r) != 0) {
		r->result = "partial";
		return 1;
	}
	r->result = "ok";
	return 0;
}

static int
rotate(struct run *r)
{
	if (preflight(r) != 0) {
		r->result = "preflight_failed";
		return 2;
	}
	if (r->o->dry_run) {
		print_plan(r, stdout);
		mark_all(r, HS_OK);	/* each host passed the preflight */
		r->result = "dry_run";
		return 0;
	}
	if (!confirm(r)) {
		r->error = xstrdup("not confirmed; nothing was changed");
		r->result = "cancelled";
		return 2;
	}
	if (phase_stop_agents(r) != 0) {
		r->error = xstrdup("the PEM server host's agent could not be "
		    "stopped; nothing was changed");
		r->result = "preflight_failed";
		return 2;
	}
	if (phase_server(r) != 0) {
		restart_stopped_agents(r);
		return 3;
	}
	if (!r->server->is_agent)
		r->server->status = HS_OK;
	phase_push_agents(r);
	return after_push(r);
}

static void
free_host(struct host *h)
{
	sshconn_close(h->conn);
	free(h->label);
	free(h->conn_err);
	free(h->cfg_path);
	free(h->key_path);
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
	for (i = 0; i < SF_COUNT; i++)
		free(r->sf.path[i]);
	free(r->sf.data_dir);
	free(r->sf.old_root_crt);
	free(r->sf.old_root_crl);
	free(r->sf.restart_cmd);
	pki_cert_free(r->sf.old_ca);
	pki_cert_free(r->sf.old_server_cert);
	pki_key_free(r->ca_key);
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
	free(r->default_key);
	free(r->user);
	free(r->pg_host);
	free(r->pg_port);
	free(r->error);
	pemdb_ssl_clear(&r->ssl);
	inventory_free(r->inv);
	log_set_hook(NULL, NULL, NULL);
	pthread_mutex_destroy(&r->mu);
}

static void
finish(struct run *r)
{
	char err[512];

	r->finished = time(NULL);
	mark_all(r, HS_SKIPPED);
	if (r->nhosts > 0 && !r->o->quiet)
		report_table(r, stdout);
	else if (r->nhosts > 0)
		report_summary(r, stdout);
	fflush(stdout);
	/* the last word: what went wrong, and what to do */
	if (r->error != NULL)
		log_error("%s", r->error);
	if (r->o->report != NULL && report_json(r, r->o->report, err,
	    sizeof(err)) != 0) {
		log_error("%s", err);
		if (r->exit_code == 0)
			r->exit_code = 1;
	}
}

int
run_rotate(const struct opts *o)
{
	struct run r;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.result = "failed";
	if (setup(&r) != 0) {
		r.exit_code = 2;
		r.result = "preflight_failed";
	} else {
		r.exit_code = rotate(&r);
	}
	restart_stopped_agents(&r);
	finish(&r);
	free_run(&r);
	return r.exit_code;
}
