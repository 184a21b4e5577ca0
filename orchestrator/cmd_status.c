/*
 * cmd_status.c: "pemrotate status -i INVENTORY [--warn-days N] [--json |
 * --format prometheus]": every certificate of the estate, with what is
 * wrong with it, for an operator (a table), a program (JSON) or
 * node_exporter's textfile collector (Prometheus).  The preflight runs
 * read-only (no probe file, no key made, no lock, no journal, no agent
 * stopped, PEM's jobs untouched).  Exit 0 all well, 1 a finding, 2 an
 * error (a certificate that could not be read included).
 */
#include "cmd.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "journal.h"
#include "preflight.h"
#include "runtypes.h"
#include "setup.h"
#include "status.h"
#include "jsonout.h"

static const char *
yes_no(int v)
{
	return v == ST_YES ? "yes" : v == ST_NO ? "no" : "-";
}

static void
iso_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "expiring,revoked" or "-" into buf. */
static void
problem_list(unsigned problems, char *buf, size_t len)
{
	size_t n = 0;
	int p;

	buf[0] = '\0';
	for (p = 0; p < SP_COUNT; p++)
		if (problems & (1u << p))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
			    "%s%s", n ? "," : "", status_problem_name(p));
	if (n == 0)
		snprintf(buf, len, "-");
}

/* Certificates with any finding. */
static size_t
problem_count(const struct status *st)
{
	size_t i, n = 0;

	for (i = 0; i < st->n; i++)
		n += st->c[i].problems != 0;
	return n;
}

/* ---- text ---- */

static void
print_text(const struct status *st, FILE *f)
{
	const struct status_cert *c;
	char date[32], probs[128];
	size_t i;

	fprintf(f, "%-16s %-11s %-10s %5s %-5s %-7s %-4s %-6s %-24s %s\n",
	    "HOST", "ROLE", "NOT AFTER", "DAYS", "CHAIN", "REVOKED", "KEY",
	    "ACTIVE", "PROBLEMS", "SUBJECT / SERIAL");
	for (i = 0; i < st->n; i++) {
		c = &st->c[i];
		problem_list(c->problems, probs, sizeof(probs));
		if (!c->have) {
			fprintf(f, "%-16s %-11s %-10s %5s %-5s %-7s %-4s "
			    "%-6s %-24s %s: %s\n", c->host,
			    status_role_name(c->role), "?", "?", "-", "-",
			    "-", yes_no(c->active), probs, c->source,
			    c->error ? c->error : "not read");
			continue;
		}
		iso_date(c->not_after, date, sizeof(date));
		date[10] = '\0';
		fprintf(f, "%-16s %-11s %-10s %5ld %-5s %-7s %-4s %-6s %-24s "
		    "%s serial %s\n", c->host, status_role_name(c->role),
		    date, c->days_left, yes_no(c->chains),
		    yes_no(c->revoked), yes_no(c->key_matches),
		    yes_no(c->active), probs, c->subject, c->serial);
		if (c->error != NULL)
			fprintf(f, "%-16s   %s: %s\n", "", c->source, c->error);
	}
	fprintf(f, "\n%zu certificate(s); warn within %d days;", st->n,
	    st->warn_days);
	for (i = 0; i < SP_COUNT; i++)
		if (st->count[i] > 0)
			fprintf(f, " %s %zu", status_problem_name((int)i),
			    st->count[i]);
	fprintf(f, "%s\n", problem_count(st) ? "" : " all well");
}

/* ---- JSON ---- */

static json_t *
jcheck(int v)
{
	return v == ST_NA ? json_null() : json_boolean(v == ST_YES);
}

static json_t *
json_cert(const struct status_cert *c)
{
	json_t *o = jout_object(), *probs = jout_array();
	char date[32];
	int p;

	jout_set(o, "host", jout_str(c->host));
	jout_set(o, "role", json_string(status_role_name(c->role)));
	jout_set(o, "source", jout_str(c->source));
	if (c->role == SR_AGENT)
		jout_set(o, "agent_id", json_integer(c->agent_id));
	if (c->have) {
		iso_date(c->not_after, date, sizeof(date));
		jout_set(o, "subject", jout_str(c->subject));
		jout_set(o, "serial", json_string(c->serial));
		jout_set(o, "not_after", json_string(date));
		jout_set(o, "days_left", json_integer(c->days_left));
	}
	jout_set(o, "chains", jcheck(c->chains));
	jout_set(o, "revoked", jcheck(c->revoked));
	jout_set(o, "key_matches", jcheck(c->key_matches));
	if (c->role == SR_AGENT)
		jout_set(o, "active", jcheck(c->active));
	for (p = 0; p < SP_COUNT; p++)
		if (c->problems & (1u << p))
			jout_append(probs, json_string(
			    status_problem_name(p)));
	jout_set(o, "problems", probs);
	if (c->error != NULL)
		jout_set(o, "error", jout_str(c->error));
	return o;
}

static void
print_json(const struct status *st, int status, FILE *f)
{
	json_t *o = jout_object(), *a = jout_array(), *cnt = jout_object();
	char date[32];
	size_t i;
	char *s;

	iso_date(st->now, date, sizeof(date));
	jout_set(o, "time", json_string(date));
	jout_set(o, "warn_days", json_integer(st->warn_days));
	jout_set(o, "exit_status", json_integer(status));
	for (i = 0; i < st->n; i++)
		jout_append(a, json_cert(&st->c[i]));
	for (i = 0; i < SP_COUNT; i++)
		jout_set(cnt, status_problem_name((int)i),
		    json_integer((json_int_t)st->count[i]));
	jout_set(o, "problems", cnt);
	jout_set(o, "certificates", a);
	s = jout_text(o, 2);
	fputs(s, f);
	free(s);
	json_decref(o);
}

/* ---- Prometheus (node_exporter textfile) ---- */

/* A label value: backslash, double quote and newline escaped. */
static void
prom_value(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
prom_labels(FILE *f, const struct status_cert *c)
{
	fputs("{host=\"", f);
	prom_value(f, c->host);
	fprintf(f, "\",role=\"%s\",serial=\"%s\",source=\"",
	    status_role_name(c->role), c->have ? c->serial : "");
	prom_value(f, c->source);
	fputs("\"", f);
}

static void
prom_head(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void
print_prometheus(const struct status *st, int status, FILE *f)
{
	const struct status_cert *c;
	size_t i;
	int p;

	prom_head(f, "pemrotate_cert_days_left", "Whole days until the "
	    "certificate expires; negative once expired.");
	for (i = 0; i < st->n; i++) {
		if (!st->c[i].have)
			continue;
		fputs("pemrotate_cert_days_left", f);
		prom_labels(f, &st->c[i]);
		fprintf(f, "} %ld\n", st->c[i].days_left);
	}
	prom_head(f, "pemrotate_cert_problem", "1 when the certificate has "
	    "this kind of finding.");
	for (i = 0; i < st->n; i++) {
		c = &st->c[i];
		for (p = 0; p < SP_COUNT; p++) {
			if (!(c->problems & (1u << p)))
				continue;
			fputs("pemrotate_cert_problem", f);
			prom_labels(f, c);
			fprintf(f, ",problem=\"%s\"} 1\n",
			    status_problem_name(p));
		}
	}
	prom_head(f, "pemrotate_problems", "Certificates with each kind of "
	    "finding.");
	for (p = 0; p < SP_COUNT; p++)
		fprintf(f, "pemrotate_problems{problem=\"%s\"} %zu\n",
		    status_problem_name(p), st->count[p]);
	prom_head(f, "pemrotate_warn_days", "Days within which an expiry "
	    "is a finding (--warn-days).");
	fprintf(f, "pemrotate_warn_days %d\n", st->warn_days);
	prom_head(f, "pemrotate_status_exit_code", "Exit status of pemrotate "
	    "status: 0 all well, 1 a finding, 2 an error.");
	fprintf(f, "pemrotate_status_exit_code %d\n", status);
	prom_head(f, "pemrotate_status_timestamp_seconds", "When the "
	    "certificates were looked at, Unix time.");
	fprintf(f, "pemrotate_status_timestamp_seconds %lld\n",
	    (long long)st->now);
}

/* ---- the command ---- */

static int
exit_status(const struct status *st)
{
	if (st->count[SP_ERROR] > 0)
		return 2;
	return problem_count(st) > 0 ? 1 : 0;
}

int
cmd_status(const struct opts *o)
{
	struct opts ro = *o;
	struct status st;
	struct run r;
	int status = 2;

	memset(&r, 0, sizeof(r));
	memset(&st, 0, sizeof(st));
	r.o = &ro;
	r.read_only = 1;
	r.started = time(NULL);
	pthread_mutex_init(&r.mu, NULL);
	/* no journal: only the PEM CA libpq verifies against, removed */
	r.state_dir = o->state_dir ? xstrdup(o->state_dir) :
	    journal_default_dir();
	if (setup_run(&r) != 0 || (preflight_run(&r) != 0 &&
	    r.error != NULL)) {
		log_error("%s", r.error ? r.error : "set-up failed");
		goto out;
	}
	status_collect(&r, &st);
	status = exit_status(&st);
	if (o->format == OPTS_FMT_JSON)
		print_json(&st, status, stdout);
	else if (o->format == OPTS_FMT_PROMETHEUS)
		print_prometheus(&st, status, stdout);
	else
		print_text(&st, stdout);
	fflush(stdout);
 out:
	status_free(&st);
	setup_free(&r);
	return status;
}
