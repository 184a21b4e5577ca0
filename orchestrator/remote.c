#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xmem.h"

char *
remote_tmp_path(const char *dst, const char *run_id)
{
	const char *slash = strrchr(dst, '/');

	if (slash == NULL)
		return xasprintf(".%s.pemrotate-%s", dst, run_id);
	return xasprintf("%.*s/.%s.pemrotate-%s", (int)(slash - dst), dst,
	    slash + 1, run_id);
}

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

static char *
finish(struct strbuf *b, const char *then_cmd, int ok)
{
	if (!ok) {
		strbuf_free(b);
		return NULL;
	}
	if (then_cmd != NULL)
		strbuf_addf(b, "%s\n", then_cmd);
	return strbuf_steal(b);
}

char *
remote_install_script(const char *const *tmp, const char *const *dst,
    size_t n, const char *suffix, const char *then_cmd)
{
	struct strbuf b;
	size_t i;
	int ok = 1;

	strbuf_init(&b);
	strbuf_adds(&b, "set -e\numask 077\n");
	ok &= add_var(&b, "sfx", suffix) == 0;
	for (i = 0; ok && i < n; i++) {
		ok &= add_var(&b, "t", tmp[i]) == 0;
		ok &= add_var(&b, "d", dst[i]) == 0;
		strbuf_adds(&b,
		    "if [ -e \"$d\" ] && [ ! -e \"$d$sfx\" ]; then\n"
		    "  ln -- \"$d\" \"$d$sfx\" 2>/dev/null ||"
		    " cp -p -- \"$d\" \"$d$sfx\"\n"
		    "fi\n"
		    "mv -f -- \"$t\" \"$d\"\n");
	}
	strbuf_adds(&b, "echo pemrotate:installed\n");
	return finish(&b, then_cmd, ok);
}

char *
remote_restore_script(const char *const *dst, const int *created, size_t n,
    const char *suffix, const char *then_cmd)
{
	struct strbuf b;
	size_t i;
	int ok = 1;

	strbuf_init(&b);
	strbuf_adds(&b, "set -e\numask 077\n");
	ok &= add_var(&b, "sfx", suffix) == 0;
	for (i = 0; ok && i < n; i++) {
		ok &= add_var(&b, "d", dst[i]) == 0;
		strbuf_adds(&b,
		    "if [ -e \"$d$sfx\" ]; then\n"
		    "  rm -f -- \"$d.pemrotate-restore\"\n"
		    "  ln -- \"$d$sfx\" \"$d.pemrotate-restore\" 2>/dev/null ||"
		    " cp -p -- \"$d$sfx\" \"$d.pemrotate-restore\"\n"
		    "  mv -f -- \"$d.pemrotate-restore\" \"$d\"\n");
		if (created != NULL && created[i])
			strbuf_adds(&b, "else\n  rm -f -- \"$d\"\n");
		strbuf_adds(&b, "fi\n");
	}
	strbuf_adds(&b, "echo pemrotate:restored\n");
	return finish(&b, then_cmd, ok);
}

char *
remote_rm_script(const char *const *paths, size_t n)
{
	struct strbuf b;
	size_t i;
	char *q;

	strbuf_init(&b);
	strbuf_adds(&b, "rm -f --");
	for (i = 0; i < n; i++) {
		if ((q = shquote(paths[i], 1)) == NULL) {
			strbuf_free(&b);
			return NULL;
		}
		strbuf_addf(&b, " %s", q);
		free(q);
	}
	strbuf_adds(&b, "\n");
	return strbuf_steal(&b);
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
	    "unit=$(sed -n 's|^0::/.*/\\([^/]*\\.service\\)$|\\1|p;"
	    "s|^0::/\\([^/]*\\.service\\)$|\\1|p' /proc/$pid/cgroup "
	    "2>/dev/null | head -n 1)\n"
	    "if [ -n \"$unit\" ] && command -v systemctl >/dev/null &&"
	    " systemctl is-active --quiet \"$unit\"; then\n"
	    "  echo \"systemd $unit\"; exit 0\n"
	    "fi\n"
	    "exe=$(readlink /proc/$pid/exe) || exit 4\n"
	    "echo \"pg_ctl $(stat -c %U \"$d\") ${exe%/*}\"\n");
	return strbuf_steal(&b);
}

static char *
pgctl_restart(const char *user, const char *bindir, const char *data_dir,
    int timeout_s)
{
	char *qu, *qb, *qd, *cmd = NULL;

	qu = shquote(user, 1);
	qb = shquote(bindir, 1);
	qd = shquote(data_dir, 1);
	if (qu != NULL && qb != NULL && qd != NULL)
		cmd = xasprintf("d=%s; b=%s; u=%s; l=\"$d/pemrotate-restart.log\""
		    "\nif [ \"$(id -un)\" = \"$u\" ]; then set --; else set -- "
		    "runuser -u \"$u\" --; fi\n"
		    "\"$@\" \"$b/pg_ctl\" restart -D \"$d\" -m fast -w -t %d "
		    "-l \"$l\" >/dev/null </dev/null\n",
		    qd, qb, qu, timeout_s);
	free(qu);
	free(qb);
	free(qd);
	return cmd;
}

char *
remote_restart_cmd(const char *detected, const char *data_dir,
    int timeout_s)
{
	char unit[256], user[256], bindir[4096];
	char *q, *cmd;

	if (sscanf(detected, "systemd %255s", unit) == 1) {
		if ((q = shquote(unit, 1)) == NULL)
			return NULL;
		cmd = xasprintf("systemctl restart %s", q);
		free(q);
		return cmd;
	}
	if (sscanf(detected, "pg_ctl %255s %4095s", user, bindir) == 2)
		return pgctl_restart(user, bindir, data_dir, timeout_s);
	return NULL;
}
