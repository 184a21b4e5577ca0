/*
 * plan.c: the plan of a run, and asking the operator before the first change.
 */
#include "plan.h"

#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "crypto/pki.h"
#include "inventory/inventory.h"
#include "options.h"

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
