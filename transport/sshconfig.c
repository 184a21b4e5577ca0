/*
 * sshconfig.c: reading an OpenSSH client configuration into the form of
 * sshconfig_int.h: files, their lines checked as ssh(1) checks them, and
 * every Include read once at load (see sshconfig.h).  Loading is
 * single-threaded; the result is read-only.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/sshconfig_int.h"

#define WS	" \t\r\n"

static int read_text(struct sshconfig *c, struct sc_file *f,
    const char *text, size_t len, int depth, char **msg);

static const struct {
	const char *word;
	enum sc_op op;
} keywords[] = {
	{ "host", SC_HOST },
	{ "match", SC_MATCH },
	{ "include", SC_INCLUDE },
	{ "hostname", SC_HOSTNAME },
	{ "user", SC_USER },
	{ "port", SC_PORT },
	{ "identityfile", SC_IDFILE },
	{ "identitiesonly", SC_IDONLY },
	{ "userknownhostsfile", SC_USERKH },
	{ "globalknownhostsfile", SC_GLOBALKH },
	{ "stricthostkeychecking", SC_STRICT },
	{ "proxyjump", SC_PROXYJUMP },
	{ "proxycommand", SC_PROXYCMD },
	{ "connecttimeout", SC_CONNTIMEOUT },
	{ "serveraliveinterval", SC_ALIVE },
	{ "hostkeyalias", SC_HOSTKEYALIAS },
	{ "canonicalizehostname", SC_CANON },
	{ "canonicaldomains", SC_CANONDOMAINS },
};

static const struct {
	const char *word;
	enum sc_crit_type type;
} criteria[] = {
	{ "all", SC_C_ALL },
	{ "canonical", SC_C_CANONICAL },
	{ "final", SC_C_FINAL },
	{ "exec", SC_C_EXEC },
	{ "host", SC_C_HOST },
	{ "originalhost", SC_C_ORIGHOST },
	{ "user", SC_C_USER },
	{ "localuser", SC_C_LOCALUSER },
};

struct sc_file *
sc_file_new(const char *path, int flags)
{
	struct sc_file *f = xcalloc(1, sizeof(*f));

	f->path = xstrdup(path);
	f->flags = flags;
	return f;
}

static void
line_clear(struct sc_line *l)
{
	size_t i;

	sc_argv_free(l->av, l->ac);
	for (i = 0; i < l->ncrit; i++)
		free(l->crit[i].arg);
	free(l->crit);
	sc_jump_free(l->jump);
	for (i = 0; i < l->ninc; i++)
		sc_file_free(l->inc[i]);
	free(l->inc);
}

void
sc_file_free(struct sc_file *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nline; i++)
		line_clear(&f->line[i]);
	free(f->line);
	free(f->path);
	free(f);
}

static struct sc_line *
add_line(struct sc_file *f, enum sc_op op, int lineno)
{
	struct sc_line *l;

	if (f->nline == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->line = xrealloc(f->line, f->cap * sizeof(*f->line));
	}
	l = &f->line[f->nline++];
	memset(l, 0, sizeof(*l));
	l->op = op;
	l->lineno = lineno;
	return l;
}

static int
lookup_op(const char *kw)
{
	size_t i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strcmp(kw, keywords[i].word) == 0)
			return (int)keywords[i].op;
	}
	return 0;
}

static const char *
lookup_name(enum sc_op op)
{
	size_t i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (op == keywords[i].op)
			return keywords[i].word;
	}
	return "?";
}

/*
 * The criteria of "Match" (the raw text after the keyword) into l, as
 * match_cfg_line reads them; syntax only, evaluated per host.
 */
static int
parse_match(struct sc_file *f, struct sc_line *l, char *cp, int lineno,
    char **msg)
{
	char *attr, *arg, *o;
	size_t i, nattr = 0;
	int neg;

	while ((o = attr = sc_strdelim(&cp)) != NULL && *attr != '\0') {
		if (*attr == '#')
			break;
		if ((neg = *attr == '!'))
			attr++;
		for (i = 0; i < sizeof(criteria) / sizeof(criteria[0]); i++)
			if (strcasecmp(attr, criteria[i].word) == 0)
				break;
		if (i == sizeof(criteria) / sizeof(criteria[0]))
			return sc_fail(msg, ERR_PARSE, f->path, lineno,
			    "unsupported Match attribute %s", attr);
		l->crit = xrealloc(l->crit, (l->ncrit + 1) *
		    sizeof(*l->crit));
		l->crit[l->ncrit].type = criteria[i].type;
		l->crit[l->ncrit].negate = neg;
		l->crit[l->ncrit++].arg = NULL;
		if (criteria[i].type == SC_C_ALL) {
			if (nattr > 1 || ((arg = sc_strdelim(&cp)) != NULL &&
			    *arg != '\0' && *arg != '#'))
				return sc_fail(msg, ERR_PARSE, f->path,
				    lineno, "'%s' cannot be combined with "
				    "other Match attributes", o);
			return 0;
		}
		nattr++;
		if (criteria[i].type == SC_C_CANONICAL ||
		    criteria[i].type == SC_C_FINAL)
			continue;
		if ((arg = sc_strdelim(&cp)) == NULL || *arg == '\0' ||
		    *arg == '#')
			return sc_fail(msg, ERR_PARSE, f->path, lineno,
			    "missing Match criteria for %s", attr);
		l->crit[l->ncrit - 1].arg = xstrdup(arg);
	}
	if (nattr == 0)
		return sc_fail(msg, ERR_PARSE, f->path, lineno,
		    "one or more attributes required for Match");
	return 0;
}

/* 1 if some lines of f, or of what it includes, say "Match final". */
static int
has_final(const struct sc_file *f)
{
	size_t i, k;

	for (i = 0; i < f->nline; i++) {
		for (k = 0; k < f->line[i].ncrit; k++)
			if (f->line[i].crit[k].type == SC_C_FINAL)
				return 1;
		for (k = 0; k < f->line[i].ninc; k++)
			if (has_final(f->line[i].inc[k]))
				return 1;
	}
	return 0;
}

/*
 * Read one file, a user file unless flags has SSHCONFIG_SYSTEM.  Returns
 * 0 with *out NULL if it does not exist.  check: refuse a file that
 * others than root and us may write (SSHCONF_CHECKPERM).
 */
static int
read_file(struct sshconfig *c, const char *path, int flags, int check,
    int depth, struct sc_file **out, char **msg)
{
	struct sc_file *f = NULL;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, r = ERR_IO;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : sc_fail(msg, ERR_IO, path, 0,
		    "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = sc_fail(msg, ERR_IO, path, 0, "%s", strerror(errno));
		goto out;
	}
	if (check && ((st.st_uid != 0 && st.st_uid != getuid()) ||
	    (st.st_mode & 022) != 0)) {
		r = sc_fail(msg, ERR_UNSAFE, path, 0,
		    "bad owner or permissions");
		goto out;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		r = sc_fail(msg, ERR_IO, path, 0, "not a regular file");
		goto out;
	}
	if (++c->nread > SC_FILES_MAX) {
		r = sc_fail(msg, ERR_TOOBIG, path, 0,
		    "over %d configuration files", SC_FILES_MAX);
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		if (st.st_size > SC_FILE_MAX) {
			r = sc_fail(msg, ERR_TOOBIG, path, 0,
			    "over %d bytes", SC_FILE_MAX);
			goto out;
		}
		buf = xmalloc(SC_FILE_MAX + 1);
		while (len <= SC_FILE_MAX && (n = read(fd, buf + len,
		    SC_FILE_MAX + 1 - len)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				r = sc_fail(msg, ERR_IO, path, 0, "%s",
				    strerror(errno));
				goto out;
			}
			len += (size_t)n;
		}
		if (len > SC_FILE_MAX || (c->bytes += len) > SC_TOTAL_MAX) {
			r = sc_fail(msg, ERR_TOOBIG, path, 0,
			    "over %d bytes", len > SC_FILE_MAX ?
			    SC_FILE_MAX : SC_TOTAL_MAX);
			goto out;
		}
	}
	f = sc_file_new(path, flags);
	if ((r = read_text(c, f, buf, len, depth, msg)) != 0)
		goto out;
	*out = f;
	f = NULL;
 out:
	sc_file_free(f);
	free(buf);
	close(fd);
	return r;
}

/*
 * The paths an Include argument names: "~" and relative paths as ssh
 * makes them, then glob(3) (sorted).  0 with *n 0 if none matches.
 */
static int
include_glob(struct sshconfig *c, struct sc_file *f, const char *arg,
    int lineno, glob_t *gl, char **msg)
{
	char *pat;
	int r;

	if (*arg != '/' && *arg != '~')
		pat = xasprintf("%s/%s", (f->flags & SSHCONFIG_SYSTEM) ?
		    SC_SYSTEM_DIR : SC_USER_DIR, arg);
	else
		pat = xstrdup(arg);
	if (c->home_given && pat[0] == '~' && (pat[1] == '/' ||
	    pat[1] == '\0')) {
		char *t = xasprintf("%s%s", c->home, pat + 1);

		free(pat);
		pat = t;
	}
	memset(gl, 0, sizeof(*gl));
	r = glob(pat, GLOB_TILDE, NULL, gl);
	free(pat);
	if (r == GLOB_NOMATCH)
		return 0;
	if (r != 0)
		return sc_fail(msg, ERR_IO, f->path, lineno,
		    "glob failed for %s", arg);
	return 0;
}

static int
parse_include(struct sshconfig *c, struct sc_file *f, struct sc_line *l,
    int depth, char **msg)
{
	struct sc_file *inc;
	glob_t gl;
	size_t i, k;
	int r;

	if (f->flags & SC_F_CMDLINE)
		return sc_fail(msg, ERR_INVAL, f->path, 0,
		    "Include is not supported as a command-line option");
	for (k = 0; k < l->ac; k++) {
		if (l->av[k][0] == '\0')
			return sc_fail(msg, ERR_PARSE, f->path, l->lineno,
			    "Include: empty argument");
		if (*l->av[k] == '~' && (f->flags & SSHCONFIG_SYSTEM))
			return sc_fail(msg, ERR_PARSE, f->path, l->lineno,
			    "bad include path %s", l->av[k]);
		if (f->flags & SSHCONFIG_NOINCLUDE)
			continue;
		if ((r = include_glob(c, f, l->av[k], l->lineno, &gl,
		    msg)) != 0)
			return r;
		for (i = 0; i < gl.gl_pathc; i++) {
			if (depth + 1 > SC_MAX_DEPTH) {
				globfree(&gl);
				return sc_fail(msg, ERR_PARSE, f->path,
				    l->lineno, "too many recursive "
				    "configuration includes");
			}
			r = read_file(c, gl.gl_pathv[i], f->flags &
			    SSHCONFIG_SYSTEM, 1, depth + 1, &inc, msg);
			if (r != 0) {
				globfree(&gl);
				return r;
			}
			if (inc == NULL)
				continue;
			l->inc = xrealloc(l->inc, (l->ninc + 1) *
			    sizeof(*l->inc));
			l->inc[l->ninc++] = inc;
		}
		globfree(&gl);
	}
	return 0;
}

/* Host: every pattern non-empty. */
static int
parse_host(struct sc_file *f, struct sc_line *l, char **msg)
{
	size_t i;

	if (f->flags & SC_F_CMDLINE)
		return sc_fail(msg, ERR_INVAL, f->path, 0,
		    "Host is not supported as a command-line option");
	for (i = 0; i < l->ac; i++)
		if (l->av[i][0] == '\0')
			return sc_fail(msg, ERR_PARSE, f->path, l->lineno,
			    "Host: empty argument");
	return 0;
}

/* A list of known hosts files: "none" only alone. */
static int
parse_files(struct sc_file *f, struct sc_line *l, const char *kw,
    char **msg)
{
	size_t i;

	for (i = 0; i < l->ac; i++) {
		if (l->av[i][0] == '\0')
			return sc_fail(msg, ERR_PARSE, f->path, l->lineno,
			    "%s: empty argument", kw);
		if (strcasecmp(l->av[i], "none") == 0 && l->ac > 1)
			return sc_fail(msg, ERR_PARSE, f->path, l->lineno,
			    "%s: \"none\" must appear alone", kw);
	}
	return 0;
}

/* A keyword of one argument: its value into l->ival or l->av[0]. */
static int
parse_one(struct sc_file *f, struct sc_line *l, const char *kw,
    char **msg)
{
	const char *arg = l->ac > 0 ? l->av[0] : NULL;
	int v = 0;

	if (arg == NULL || *arg == '\0')
		return sc_fail(msg, ERR_PARSE, f->path, l->lineno,
		    "%s: missing argument", kw);
	if (l->ac > 1)
		return sc_fail(msg, ERR_PARSE, f->path, l->lineno,
		    "%s: extra arguments at end of line", kw);
	switch (l->op) {
	case SC_PORT:
		if ((v = sc_a2port(arg)) <= 0)
			return sc_fail(msg, ERR_PARSE, f->path, l->lineno,
			    "%s: bad port '%s'", kw, arg);
		break;
	case SC_IDONLY:
	case SC_STRICT:
	case SC_CANON:
		if ((v = sc_state(arg, l->op)) < 0)
			return sc_fail(msg, ERR_PARSE, f->path, l->lineno,
			    "%s: unsupported option \"%s\"", kw, arg);
		break;
	case SC_CONNTIMEOUT:
	case SC_ALIVE:
		if (strcmp(arg, "none") == 0)
			v = -1;
		else if ((v = sc_convtime(arg)) < 0)
			return sc_fail(msg, ERR_PARSE, f->path, l->lineno,
			    "%s: invalid time value \"%s\"", kw, arg);
		break;
	default:
		break;
	}
	l->ival = v;
	return 0;
}

/* ProxyJump and ProxyCommand take the raw rest of the line. */
static int
parse_proxy(struct sc_file *f, struct sc_line *l, const char *str,
    char **msg)
{
	str += strspn(str, WS "=");
	sc_argv_free(l->av, l->ac);
	l->av = xcalloc(2, sizeof(*l->av));
	l->av[0] = xstrdup(str);
	l->ac = 1;
	if (l->op == SC_PROXYJUMP && sc_parse_jump(str,
	    (f->flags & SC_F_CMDLINE) != 0, &l->jump) != 0)
		return sc_fail(msg, ERR_PARSE, f->path, l->lineno,
		    "invalid ProxyJump \"%s\"", str);
	return 0;
}

static int
parse_args(struct sshconfig *c, struct sc_file *f, struct sc_line *l,
    const char *kw, char *str, int depth, char **msg)
{
	switch (l->op) {
	case SC_HOST:
		return parse_host(f, l, msg);
	case SC_MATCH:
		if (f->flags & SC_F_CMDLINE)
			return sc_fail(msg, ERR_INVAL, f->path, 0,
			    "Match is not supported as a command-line "
			    "option");
		return parse_match(f, l, str, l->lineno, msg);
	case SC_INCLUDE:
		return parse_include(c, f, l, depth, msg);
	case SC_USERKH:
	case SC_GLOBALKH:
		return parse_files(f, l, kw, msg);
	case SC_CANONDOMAINS:
		return 0;
	case SC_PROXYJUMP:
	case SC_PROXYCMD:
		return parse_proxy(f, l, str, msg);
	case SC_IDFILE:
		if (!(f->flags & SSHCONFIG_SYSTEM))
			l->flags |= SC_L_USERPROV;
		return parse_one(f, l, kw, msg);
	default:
		return parse_one(f, l, kw, msg);
	}
}

/*
 * One line, as process_config_line: the keyword (any case, "=" may
 * follow it), then its arguments.  A keyword we do not use is skipped
 * once its line is well formed.  line is modified.
 */
int
sc_parse_line(struct sshconfig *c, struct sc_file *f, char *line,
    int lineno, int depth, char **msg)
{
	struct sc_line *l;
	char *str = line, *kw, **av;
	size_t len = strlen(line), ac;
	int op, r;

	while (len > 0 && strchr(WS "\f", line[len - 1]) != NULL)
		line[--len] = '\0';
	if ((kw = sc_strdelim(&str)) == NULL)
		return 0;
	if (*kw == '\0')
		kw = sc_strdelim(&str);
	if (kw == NULL || *kw == '\0' || *kw == '#')
		return 0;
	sc_lower(kw);
	if (str != NULL)
		str += strspn(str, WS);
	if (str == NULL || *str == '\0')
		return sc_fail(msg, ERR_PARSE, f->path, lineno,
		    "no argument after keyword \"%s\"", kw);
	if (sc_argv_split(str, &av, &ac) != 0)
		return sc_fail(msg, ERR_PARSE, f->path, lineno,
		    "invalid quotes");
	if ((op = lookup_op(kw)) == 0) {
		sc_argv_free(av, ac);
		return 0;
	}
	l = add_line(f, (enum sc_op)op, lineno);
	l->av = av;
	l->ac = ac;
	if ((r = parse_args(c, f, l, kw, str, depth, msg)) != 0) {
		line_clear(l);
		f->nline--;
	}
	return r;
}

int
sc_add_option(struct sc_file *f, enum sc_op op, const char *value,
    int flags, char **msg)
{
	struct sc_line *l = add_line(f, op, 0);
	char *str = xstrdup(value);
	int r;

	l->flags = flags;
	l->av = xcalloc(2, sizeof(*l->av));
	l->av[0] = xstrdup(value);
	l->ac = 1;
	if ((r = parse_args(NULL, f, l, lookup_name(op), str, 0, msg)) != 0) {
		line_clear(l);
		f->nline--;
	}
	free(str);
	return r;
}

/* Every line of text (len bytes) into f; a NUL ends a line's text. */
static int
read_text(struct sshconfig *c, struct sc_file *f, const char *text,
    size_t len, int depth, char **msg)
{
	const char *p = text, *end = text + len, *nl;
	char *line;
	int lineno = 0, r;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		line = xstrndup(p, (size_t)(nl - p));
		r = sc_parse_line(c, f, line, ++lineno, depth, msg);
		free(line);
		if (r != 0)
			return r;
		p = nl + 1;
	}
	return 0;
}

/* Who runs ssh: env's members, or the passwd entry and gethostname. */
static int
set_env(struct sshconfig *c, const struct sshconfig_env *env, char **msg)
{
	struct passwd pw, *res = NULL;
	char buf[4096], host[HOST_NAME_MAX + 1];

	memset(&pw, 0, sizeof(pw));
	if (env != NULL && env->home != NULL) {
		c->home = xstrdup(env->home);
		c->home_given = 1;
	}
	if (env == NULL || env->home == NULL || env->user == NULL) {
		if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) != 0 ||
		    res == NULL)
			return sc_fail(msg, ERR_NOTFOUND, "sshconfig", 0,
			    "no passwd entry for uid %lu",
			    (unsigned long)getuid());
		if (c->home == NULL)
			c->home = xstrdup(pw.pw_dir);
	}
	c->locuser = xstrdup(env != NULL && env->user != NULL ? env->user :
	    pw.pw_name);
	if (env != NULL && env->hostname != NULL) {
		c->thishost = xstrdup(env->hostname);
	} else {
		if (gethostname(host, sizeof(host)) != 0)
			return sc_fail(msg, ERR_IO, "sshconfig", 0,
			    "gethostname: %s", strerror(errno));
		host[sizeof(host) - 1] = '\0';
		c->thishost = xstrdup(host);
	}
	c->shorthost = xstrndup(c->thishost, strcspn(c->thishost, "."));
	c->uidstr = xasprintf("%lu", (unsigned long)getuid());
	return 0;
}

static void
add_file(struct sshconfig *c, struct sc_file *f)
{
	c->file = xrealloc(c->file, (c->nfile + 1) * sizeof(*c->file));
	c->file[c->nfile++] = f;
	c->has_final |= has_final(f);
}

int
sshconfig_parse(const char *text, size_t len, const char *name,
    int flags, const struct sshconfig_env *env, struct sshconfig **out,
    char **msg)
{
	struct sshconfig *c = xcalloc(1, sizeof(*c));
	struct sc_file *f;
	int r;

	*out = NULL;
	if (msg != NULL)
		*msg = NULL;
	if ((r = set_env(c, env, msg)) != 0)
		goto fail;
	if (len > SC_FILE_MAX) {
		r = sc_fail(msg, ERR_TOOBIG, name, 0, "over %d bytes",
		    SC_FILE_MAX);
		goto fail;
	}
	f = sc_file_new(name, flags & (SSHCONFIG_SYSTEM |
	    SSHCONFIG_NOINCLUDE));
	if ((r = read_text(c, f, text, len, 0, msg)) != 0) {
		sc_file_free(f);
		goto fail;
	}
	add_file(c, f);
	*out = c;
	return 0;
 fail:
	sshconfig_free(c);
	return r;
}

int
sshconfig_load(const char *path, const struct sshconfig_env *env,
    struct sshconfig **out, char **msg)
{
	struct sshconfig *c = xcalloc(1, sizeof(*c));
	struct sc_file *f;
	char *user = NULL;
	int r;

	*out = NULL;
	if (msg != NULL)
		*msg = NULL;
	if ((r = set_env(c, env, msg)) != 0)
		goto fail;
	if (path != NULL && strcasecmp(path, "none") == 0) {
		*out = c;
		return 0;
	}
	if (path != NULL) {
		if ((r = read_file(c, path, 0, 0, 0, &f, msg)) != 0)
			goto fail;
		if (f == NULL) {
			r = sc_fail(msg, ERR_IO, path, 0, "cannot open: %s",
			    strerror(ENOENT));
			goto fail;
		}
		add_file(c, f);
		*out = c;
		return 0;
	}
	user = xasprintf("%s/.ssh/config", c->home);
	if ((r = read_file(c, user, 0, 1, 0, &f, msg)) != 0)
		goto fail;
	if (f != NULL)
		add_file(c, f);
	if ((r = read_file(c, SC_SYSTEM_DIR "/ssh_config", SSHCONFIG_SYSTEM,
	    0, 0, &f, msg)) != 0)
		goto fail;
	if (f != NULL)
		add_file(c, f);
	free(user);
	*out = c;
	return 0;
 fail:
	free(user);
	sshconfig_free(c);
	return r;
}

void
sshconfig_free(struct sshconfig *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nfile; i++)
		sc_file_free(c->file[i]);
	free(c->file);
	free(c->home);
	free(c->locuser);
	free(c->thishost);
	free(c->shorthost);
	free(c->uidstr);
	free(c);
}
