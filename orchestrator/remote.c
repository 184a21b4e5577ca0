#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xmem.h"

/* Append "NAME=<quoted value>\n"; 0, or -1 if value is refused. */
static int
add_var(struct strbuf *b, const char *name, const char *value)
{
	char *q = shquote(value, 1);

	if (q == NULL)
		return -1;
	strbuf_addf(b, "%s=%s\n", name, q);
	free(q);
	return 0;
}

char *
remote_detect_restart_script(const char *data_dir)
{
	struct strbuf b;

	strbuf_init(&b);
	if (add_var(&b, "d", data_dir) != 0) {
		strbuf_free(&b);
		return NULL;
	}
	strbuf_adds(&b,
	    "pid=$(head -n 1 \"$d/postmaster.pid\" 2>/dev/null) || exit 3\n"
	    "case $pid in ''|*[!0-9]*) exit 3;; esac\n"
	    /* cgroup v2 "0::/x/y.service", v1 "N:name=systemd:/x/y.service" */
	    "unit=$(sed -n 's|^0::.*/\\([^/]*\\.service\\)$|\\1|p;"
	    "s|^[0-9]*:name=systemd:.*/\\([^/]*\\.service\\)$|\\1|p' "
	    "/proc/$pid/cgroup 2>/dev/null | head -n 1)\n"
	    "if [ -n \"$unit\" ] && command -v systemctl >/dev/null &&"
	    " systemctl is-active --quiet \"$unit\"; then\n"
	    "  printf 'systemd\\n%s\\n' \"$unit\"; exit 0\n"
	    "fi\n"
	    "exe=$(readlink /proc/$pid/exe) || exit 4\n"
	    /* keep the postmaster's stderr where it was */
	    "l=$(readlink /proc/$pid/fd/2 2>/dev/null)\n"
	    "case $l in /dev/*|'') l=- ;; /*) ;; *) l=- ;; esac\n"
	    "printf 'pg_ctl\\n%s\\n%s\\n%s\\n' \"$(stat -c %U \"$d\")\" "
	    "\"${exe%/*}\" \"$l\"\n");
	return strbuf_steal(&b);
}

static char *
pgctl_restart(char *const *f, const char *data_dir, int timeout_s)
{
	char *qu, *qb, *qd, *ql, *cmd = NULL, *log;

	log = strcmp(f[3], "-") == 0 ? xasprintf("%s/pemrotate-restart.log",
	    data_dir) : xstrdup(f[3]);
	qu = shquote(f[1], 1);
	qb = shquote(f[2], 1);
	qd = shquote(data_dir, 1);
	ql = shquote(log, 1);
	if (qu != NULL && qb != NULL && qd != NULL && ql != NULL)
		cmd = xasprintf("d=%s; b=%s; u=%s; l=%s\n"
		    "if [ \"$(id -un)\" = \"$u\" ]; then set --; else set -- "
		    "runuser -u \"$u\" --; fi\n"
		    "\"$@\" \"$b/pg_ctl\" restart -D \"$d\" -m fast -w -t %d "
		    "-l \"$l\" >/dev/null </dev/null\n",
		    qd, qb, qu, ql, timeout_s);
	free(qu);
	free(qb);
	free(qd);
	free(ql);
	free(log);
	return cmd;
}

/* Split the detection's output into at most max lines (in place). */
static size_t
split_lines(char *s, char **f, size_t max)
{
	size_t n = 0;
	char *nl;

	while (n < max && *s != '\0') {
		f[n++] = s;
		if ((nl = strchr(s, '\n')) == NULL)
			break;
		*nl = '\0';
		s = nl + 1;
	}
	return n;
}

char *
remote_restart_cmd(const char *detected, const char *data_dir,
    int timeout_s)
{
	char *copy = xstrdup(detected), *f[4], *q, *cmd = NULL;
	size_t n = split_lines(copy, f, 4);

	if (n == 2 && strcmp(f[0], "systemd") == 0 &&
	    (q = shquote(f[1], 1)) != NULL) {
		cmd = xasprintf("systemctl restart %s", q);
		free(q);
	} else if (n == 4 && strcmp(f[0], "pg_ctl") == 0 && *f[1] && *f[2]) {
		cmd = pgctl_restart(f, data_dir, timeout_s);
	}
	free(copy);
	return cmd;
}
