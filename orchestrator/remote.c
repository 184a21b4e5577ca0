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
remote_keygen_script(const char *tmp, const char *genpkey_args, long uid,
    long gid)
{
	struct strbuf b;

	strbuf_init(&b);
	strbuf_adds(&b, "set -e\numask 077\n");
	if (add_var(&b, "t", tmp) != 0) {
		strbuf_free(&b);
		return NULL;
	}
	strbuf_addf(&b, "rm -f -- \"$t\"\n"
	    "openssl genpkey %s -out \"$t\" 2>/dev/null || "
	    "{ echo 'openssl genpkey failed (is openssl installed?)' >&2; "
	    "exit 1; }\n", genpkey_args);
	if (uid >= 0)
		strbuf_addf(&b, "chown %ld:%ld -- \"$t\"\n", uid,
		    gid >= 0 ? gid : 0);
	strbuf_adds(&b, "openssl req -new -key \"$t\" -subj /CN=pemrotate\n");
	return strbuf_steal(&b);
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
