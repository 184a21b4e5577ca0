/*
 * plan.c: the plan of a run, and asking the operator before the first change.
 */
#include "plan.h"

#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "inventory/inventory.h"
#include "options.h"
#include "serverfiles.h"

static size_t
count_agents(const struct run *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nhosts; i++)
		n += r->hosts[i].inv->is_agent;
	return n;
}

void
plan_print(const struct run *r, FILE *f)
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

/* ---- per host: what rotate would do to it ---- */

/* An operator's command, one line of it a line, printable. */
static void
plan_cmd(FILE *f, const char *what, const char *cmd)
{
	const char *p = cmd, *nl;
	char *line, *safe;

	do {
		nl = strchr(p, '\n');
		line = nl ? xstrndup(p, (size_t)(nl - p)) : xstrdup(p);
		safe = str_printable(line, 300);
		fprintf(f, "    %-9s %s\n", what, safe);
		free(safe);
		free(line);
		what = "";
		p = nl ? nl + 1 : NULL;
	} while (p != NULL);
}

/* A file to be replaced (or created), who acts, where the original goes. */
static void
plan_file(const struct run *r, FILE *f, const char *what,
    const struct rfile *rf)
{
	if (rf->exists)
		fprintf(f, "    replace   %s (%s; uid %ld gid %ld mode %04lo)\n"
		    "              original kept as %s%s\n", rf->path, what,
		    rf->uid, rf->gid, rf->mode & 07777, rf->path, r->suffix);
	else
		fprintf(f, "    create    %s (%s; uid %ld gid %ld mode 0600)\n",
		    rf->path, what, rf->uid, rf->gid);
	if (rf->act_uid != 0)
		fprintf(f, "              written as uid %ld\n", rf->act_uid);
}

static void
plan_server(const struct run *r, FILE *f, const char *ks)
{
	const struct server_files *sf = &r->sf;
	int i;

	fprintf(f, "  %s: the PEM server, data directory %s\n",
	    r->server->label, sf->data_dir);
	for (i = 0; i < SF_COUNT; i++)
		plan_file(r, f, serverfiles_label(i), &sf->f[i]);
	fprintf(f, "    new       CA \"%s\" (%s key, %d days); server "
	    "certificate and CRL signed by it\n", r->ca_subject, ks,
	    r->o->days);
	fprintf(f, "    reload    pg_reload_conf() (the new files load)\n");
	plan_cmd(f, "restart", sf->restart_cmd);
	fprintf(f, "    check     the served certificate, over TLS at %s:%s\n",
	    r->pg_host, r->pg_port);
	if (!r->o->no_overlap)
		fprintf(f, "    finalize  %s and %s: the new CA alone, "
		    "pg_reload_conf()\n", sf->path[SF_ROOT_CRT],
		    sf->path[SF_ROOT_CRL]);
}

static void
plan_agent(const struct run *r, FILE *f, const struct host *h,
    const char *ks)
{
	char what[64];

	if (!h->is_server)
		fprintf(f, "  %s:\n", h->label);
	if (h->unreachable) {
		fprintf(f, "    skip      unreachable, left alone "
		    "(--skip-unreachable)\n");
		return;
	}
	fprintf(f, "    agent     id %ld, settings %s\n", h->agent_id,
	    h->cfg_inventory ? "from the inventory" : h->cfg_path);
	plan_cmd(f, "stop", h->stop_cmd);
	snprintf(what, sizeof(what), "new %s key, made %s", ks,
	    r->o->keygen_remote ? "on the host" : "here");
	plan_file(r, f, what, &h->kf);
	snprintf(what, sizeof(what), "CN=agent%ld, %d days", h->agent_id,
	    r->o->days);
	plan_file(r, f, what, &h->cf);
	plan_cmd(f, "start", h->start_cmd);
	if (strcmp(h->run_cmd, h->start_cmd) != 0)
		plan_cmd(f, "status", h->run_cmd + strlen(h->start_cmd) + 1);
}

/* What rotate would do to each host, in the order it would. */
void
plan_print_hosts(const struct run *r, FILE *f)
{
	char ks[32];
	size_t i;

	pki_keyspec_str(&r->o->keyspec, ks, sizeof(ks));
	fprintf(f, "per host, in order:\n");
	/* its own agent is stopped before the server's files are replaced */
	plan_server(r, f, ks);
	if (r->server->is_agent)
		plan_agent(r, f, r->server, ks);
	for (i = 0; i < r->nhosts; i++)
		if (&r->hosts[i] != r->server && r->hosts[i].is_agent)
			plan_agent(r, f, &r->hosts[i], ks);
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

int
plan_confirm(struct run *r)
{
	char line[32];

	if (r->o->yes || !isatty(STDIN_FILENO))
		return 1;
	plan_print(r, stderr);
	fprintf(stderr, "Proceed? This stops every agent and restarts the "
	    "PEM server's PostgreSQL. [y/N] ");
	if (!read_answer(r, line, sizeof(line)))
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}
