#include "journal.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xmem.h"

#define JOURNAL_MAX	(64 * 1024 * 1024)

struct journal {
	int fd;
	char *path;
};

/*
 * Records a resume relies on to skip work: synced as they are written, so
 * a crash of this machine right after an agent's push cannot make the
 * resume push that agent again.  The others wait for journal_sync().
 */
static const char *const durable_keys[] = { JK_PUSHED };

/* fsync a directory: an entry just made in it survives a crash. */
static void
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

/* mkdir p (0700); when it is new, sync the directory that holds it. */
static int
mkdir_synced(char *p)
{
	char *slash;

	if (mkdir(p, 0700) != 0)
		return errno == EEXIST ? 0 : -1;
	if ((slash = strrchr(p, '/')) == NULL) {
		sync_dir(".");
	} else if (slash == p) {
		sync_dir("/");
	} else {
		*slash = '\0';
		sync_dir(p);
		*slash = '/';
	}
	return 0;
}

int
journal_mkdirs(const char *dir)
{
	char *p = xstrdup(dir), *s;
	int rc = 0;

	for (s = p + 1; *s != '\0' && rc == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		rc = mkdir_synced(p);
		*s = '/';
	}
	if (rc == 0)
		rc = mkdir_synced(p);
	free(p);
	return rc;
}

static int
journal_open(const char *path, int flags, struct journal **out, char **msg)
{
	int fd = open(path, flags | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);

	*msg = NULL;
	if (fd < 0) {
		*msg = xasprintf("journal %s: %s", path, strerror(errno));
		return ERR_IO;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->fd = fd;
	(*out)->path = xstrdup(path);
	return 0;
}

int
journal_create(const char *dir, const char *run_id, struct journal **out,
    char **msg)
{
	char *path;
	int rc;

	if (journal_mkdirs(dir) != 0) {
		*msg = xasprintf("state directory %s: %s", dir,
		    strerror(errno));
		return ERR_IO;
	}
	path = xasprintf("%s/%s.journal", dir, run_id);
	rc = journal_open(path, O_CREAT | O_EXCL, out, msg);
	free(path);
	if (rc != 0)
		return rc;
	sync_dir(dir);		/* the journal's name survives a crash */
	journal_add(*out, "pemrotate-journal", "1");
	return 0;
}

int
journal_reopen(const char *path, struct journal **out, char **msg)
{
	return journal_open(path, 0, out, msg);
}

static int
is_durable(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(durable_keys) / sizeof(durable_keys[0]); i++)
		if (strcmp(key, durable_keys[i]) == 0)
			return 1;
	return 0;
}

void
journal_add(struct journal *j, const char *key, const char *value)
{
	char *line;
	size_t n;

	if (j == NULL)
		return;
	n = strcspn(value, "\n\r\t");
	line = xasprintf("%s\t%.*s\n", key, (int)n, value);
	if (write(j->fd, line, strlen(line)) < 0) {
		/* a full disk: the run goes on, resume knows less */
	} else if (is_durable(key)) {
		fdatasync(j->fd);
	}
	free(line);
}

void
journal_addf(struct journal *j, const char *key, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	journal_add(j, key, buf);
}

void
journal_sync(struct journal *j)
{
	if (j != NULL)
		fdatasync(j->fd);
}

const char *
journal_path(const struct journal *j)
{
	return j->path;
}

void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	fdatasync(j->fd);
	close(j->fd);
	free(j->path);
	free(j);
}

/* ---- reading ---- */

static char *
slurp(const char *path, size_t *len, char **msg)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size > JOURNAL_MAX) {
		*msg = xasprintf("journal %s: %s", path,
		    fd < 0 ? strerror(errno) : "unreadable or too large");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	*len = n > 0 ? (size_t)n : 0;
	buf[*len] = '\0';
	return buf;
}

static void
add_record(struct journal_state *st, const char *line, size_t len)
{
	const char *tab = memchr(line, '\t', len);

	if (tab == NULL)
		return;
	st->keys = xrealloc(st->keys, (st->n + 1) * sizeof(*st->keys));
	st->values = xrealloc(st->values, (st->n + 1) * sizeof(*st->values));
	st->keys[st->n] = xstrndup(line, (size_t)(tab - line));
	st->values[st->n] = xstrndup(tab + 1, len - (size_t)(tab - line) - 1);
	st->n++;
}

int
journal_load(const char *path, struct journal_state *st, char **msg)
{
	char *buf, *p, *nl;
	size_t len;

	memset(st, 0, sizeof(*st));
	*msg = NULL;
	if ((buf = slurp(path, &len, msg)) == NULL)
		return ERR_IO;
	/* a last line cut short by a kill is ignored */
	for (p = buf; (nl = memchr(p, '\n', len - (size_t)(p - buf)));
	    p = nl + 1)
		add_record(st, p, (size_t)(nl - p));
	free(buf);
	if (st->n == 0 || strcmp(st->keys[0], "pemrotate-journal") != 0 ||
	    journal_get(st, JK_RUN) == NULL) {
		*msg = xasprintf("%s is not a pemrotate journal", path);
		journal_state_clear(st);
		return ERR_PARSE;
	}
	st->path = xstrdup(path);
	st->run_id = xstrdup(journal_get(st, JK_RUN));
	return 0;
}

const char *
journal_get(const struct journal_state *st, const char *key)
{
	size_t i;

	for (i = st->n; i > 0; i--)
		if (strcmp(st->keys[i - 1], key) == 0)
			return st->values[i - 1];
	return NULL;
}

int
journal_has(const struct journal_state *st, const char *key,
    const char *value)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->keys[i], key) == 0 &&
		    strcmp(st->values[i], value) == 0)
			return 1;
	return 0;
}

void
journal_state_clear(struct journal_state *st)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		free(st->keys[i]);
		free(st->values[i]);
	}
	free(st->keys);
	free(st->values);
	free(st->path);
	free(st->run_id);
	memset(st, 0, sizeof(*st));
}

/*
 * A run is finished when it ended with any exit status but 1 (exit 1: it
 * left agents for resume).  A run that never wrote one was killed.
 */
static int
finished(const char *path)
{
	struct journal_state st;
	char *msg;
	const char *ex;
	int fin;

	if (journal_load(path, &st, &msg) != 0) {
		free(msg);
		return 1;
	}
	ex = journal_get(&st, JK_EXIT);
	fin = ex != NULL && strcmp(ex, "1") != 0;
	journal_state_clear(&st);
	return fin;
}

char *
journal_find(const char *dir, const char *run_id)
{
	struct dirent *de;
	char *best = NULL, *path;
	size_t n;
	DIR *d;

	if (run_id != NULL) {
		path = xasprintf("%s/%s.journal", dir, run_id);
		if (access(path, R_OK) == 0)
			return path;
		free(path);
		return NULL;
	}
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 9 || strcmp(de->d_name + n - 8, ".journal") != 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		/* run ids sort by time: the newest unfinished one wins */
		if (!finished(path) &&
		    (best == NULL || strcmp(path, best) > 0)) {
			free(best);
			best = path;
		} else {
			free(path);
		}
	}
	closedir(d);
	return best;
}

char *
journal_default_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct passwd *pw;

	if (x != NULL && x[0] == '/')
		return xasprintf("%s/pemrotate", x);
	if (home == NULL || home[0] != '/') {
		pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : "/tmp";
	}
	return xasprintf("%s/.local/state/pemrotate", home);
}
