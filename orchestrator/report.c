/*
 * report.c: what happened to each host, as a table on stdout and as
 * JSON.  Every text in it is printable (errors were escaped when made)
 * and nothing in it is secret.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/agentcfg.h"
#include "inventory/inventory.h"
#include "options.h"
#include "pool.h"
#include "jsonout.h"

/* Estates larger than this show only failed hosts and the server. */
#define TABLE_ALL_MAX	50

static const char *
status_str(enum host_status st)
{
	switch (st) {
	case HS_OK:
		return "ok";
	case HS_FAILED:
		return "failed";
	case HS_SKIPPED:
	case HS_PENDING:
		break;
	}
	return "skipped";
}

static const char *
role_str(const struct host *h)
{
	return h->inv->is_server ? "server" : "agent";
}

/* Where an agent's settings came from; NULL: not an agent, or not read. */
static const char *
settings_str(const struct host *h)
{
	if (!h->is_agent)
		return NULL;
	if (h->cfg_inventory)
		return agentcfg_kind_name(AGENTCFG_NONE);
	if (h->cfg_kind != AGENTCFG_NONE)
		return agentcfg_kind_name(h->cfg_kind);
	return NULL;
}

void
report_summary(const struct run *r, FILE *f)
{
	size_t i;
	int n[4] = { 0 };

	for (i = 0; i < r->nhosts; i++)
		n[r->hosts[i].status]++;
	fprintf(f, "%s: %zu host(s): %d ok, %d failed, %d skipped in %lds",
	    run_result_info(r->result)->name, r->nhosts, n[HS_OK], n[HS_FAILED],
	    n[HS_SKIPPED] + n[HS_PENDING], (long)(r->finished - r->started));
	if (r->new_ca_fp[0] != '\0' && r->result == RUN_OK)
		fprintf(f, "; new CA sha256 %.16s...", r->new_ca_fp);
	fprintf(f, "\n");
}

void
report_table(const struct run *r, FILE *f)
{
	const struct host *h;
	char id[24];
	size_t i, w = 4, hidden = 0;

	for (i = 0; i < r->nhosts; i++)
		if (strlen(r->hosts[i].label) > w)
			w = strlen(r->hosts[i].label);
	if (w > 40)
		w = 40;
	fprintf(f, "\n%-*s  %-6s  %8s  %-7s  %7s  %-16s  %s\n", (int)w,
	    "HOST", "ROLE", "AGENT ID", "RESULT", "SECONDS", "SETTINGS",
	    "ERROR");
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		/* a large estate: the rows worth reading, the rest counted */
		if (r->nhosts > TABLE_ALL_MAX && h->status != HS_FAILED &&
		    !h->inv->is_server && r->o->verbose == 0) {
			hidden++;
			continue;
		}
		if (h->agent_id > 0)
			snprintf(id, sizeof(id), "%ld", h->agent_id);
		else
			snprintf(id, sizeof(id), "-");
		fprintf(f, "%-*s  %-6s  %8s  %-7s  %7.1f  %-16s  %s%s%s\n",
		    (int)w, h->label, role_str(h), id, status_str(h->status),
		    h->seconds, settings_str(h) ? settings_str(h) : "-",
		    h->phase ? h->phase : "", h->phase ? ": " : "",
		    h->error ? h->error : "");
	}
	if (hidden > 0)
		fprintf(f, "(%zu more host(s) not failed are not shown; -v or "
		    "--report FILE lists every host)\n", hidden);
	fprintf(f, "\n");
	report_summary(r, f);
}

static void
iso_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *
json_host(const struct host *h)
{
	json_t *o = jout_object();

	jout_set(o, "name", jout_str(h->inv->name));
	jout_set(o, "address", jout_str(h->inv->address));
	jout_set(o, "role", jout_str(role_str(h)));
	jout_set(o, "agent_id", h->agent_id > 0 ?
	    json_integer(h->agent_id) : json_null());
	jout_set(o, "status", jout_str(status_str(h->status)));
	jout_set(o, "phase", jout_str(h->phase));
	jout_set(o, "error", jout_str(h->error));
	jout_set(o, "settings", jout_str(settings_str(h)));
	jout_set(o, "settings_file", jout_str(h->is_agent &&
	    !h->cfg_inventory && h->cfg_kind != AGENTCFG_NONE ?
	    h->cfg_path : NULL));
	jout_set(o, "seconds", json_real(h->seconds));
	return o;
}

char *
report_json_text(const struct run *r)
{
	struct keygen_stats ks;
	json_t *o = jout_object(), *ca = jout_object(), *kg, *hosts;
	char t0[32], t1[32], *text;
	size_t i;

	iso_time(r->started, t0, sizeof(t0));
	iso_time(r->finished, t1, sizeof(t1));
	jout_set(o, "command", jout_str(r->o->command));
	jout_set(o, "run_id", jout_str(r->run_id));
	jout_set(o, "started", jout_str(t0));
	jout_set(o, "finished", jout_str(t1));
	jout_set(o, "result", jout_str(run_result_info(r->result)->name));
	jout_set(o, "exit_status", json_integer(r->exit_code));
	jout_set(o, "error", jout_str(r->error));
	jout_set(ca, "old_sha256", jout_str(r->old_ca_fp[0] ? r->old_ca_fp :
	    NULL));
	jout_set(ca, "new_sha256", jout_str(r->new_ca_fp[0] ? r->new_ca_fp :
	    NULL));
	jout_set(o, "ca", ca);
	if (r->kg != NULL) {	/* what making the keys here cost */
		keygen_stats(r->kg, &ks);
		kg = jout_object();
		jout_set(kg, "keys", json_integer((json_int_t)ks.made));
		jout_set(kg, "cpu_seconds", json_real(ks.busy_s));
		jout_set(o, "keygen", kg);
	}
	hosts = jout_array();
	for (i = 0; i < r->nhosts; i++)
		jout_append(hosts, json_host(&r->hosts[i]));
	jout_set(o, "hosts", hosts);
	text = jout_text(o, 2);
	json_decref(o);
	return text;
}

/* Write atomically: a temporary file beside it, renamed over it. */
int
report_json(const struct run *r, const char *path, char **msg)
{
	char *text = report_json_text(r), *tmp;
	size_t len = strlen(text);
	int fd, rc = -1;

	*msg = NULL;

	tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0 && write(fd, text, len) == (ssize_t)len &&
	    fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		rc = rename(tmp, path);
	}
	if (rc != 0) {
		*msg = xasprintf("report %s: %s", path, strerror(errno));
		rc = ERR_IO;
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(text);
	free(tmp);
	return rc;
}

/* The table or summary on stdout, the JSON file, then the last word. */
void
report_end(struct run *r)
{
	char *msg = NULL;

	if (r->nhosts > 0 && !r->o->quiet)
		report_table(r, stdout);
	else if (r->nhosts > 0)
		report_summary(r, stdout);
	fflush(stdout);
	if (r->o->report != NULL && report_json(r, r->o->report,
	    &msg) != 0) {
		log_error("%s", msg);
		free(msg);
		if (r->exit_code == 0)
			r->exit_code = 1;
	}
	/* the last word: what went wrong, and what to do */
	if (r->error != NULL)
		log_error("%s", r->error);
}
