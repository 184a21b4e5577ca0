/*
 * agentcfg.c: a PEM agent's agent.cfg or postgres-reg.ini (see agentcfg.h).
 *
 * The text comes from the agent host and is untrusted.  Only one section
 * is read: [PEM/agent] (case-sensitive, like PEM's own parser), or when
 * the file has none, [PEMAGENT] (any case: postgres-reg.ini is read by
 * case-blind INI readers); other sections are skipped but must still have
 * well-formed headers.  In the section each line is "key = value" with
 * blanks around both trimmed; '#' and ';' start comment lines only.
 * Values are not unquoted.  A key given twice in the section is an error,
 * reported at its second line after the whole file has been read (keys
 * are sorted, not compared pairwise, so a hostile file cannot make this
 * quadratic).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/agentcfg.h"

#define AC_ID_MAX	2147483647L

struct keyref {
	const char *key;	/* points into the parser's copy of the text */
	int line;
};

/* A string field of struct agentcfg and how it is checked. */
struct acfield {
	const char *key;	/* lower case when the shape's keys are */
	const char *shown;	/* its name in messages */
	size_t off;
	int path;		/* must be an absolute path */
};

/* One shape of file: its section, its keys. */
struct acshape {
	enum agentcfg_kind kind;
	const char *section;
	int nocase;		/* section and key names in any case */
	const char *id_key;
	const char *id_shown;
	const struct acfield *fields;
	size_t nfields;
};

struct acparse {
	const struct acshape *shape;
	const char *origin;
	char **msg;		/* the caller's: the last error's text */
	int line;
	int in_section;		/* inside the shape's section */
	int seen;		/* line of the section, 0 if none yet */
	struct keyref *keys;
	size_t nkeys;
	size_t capkeys;
	struct agentcfg cfg;
};

static const struct acfield cfg_fields[] = {
	{ "agent_ssl_key", "agent_ssl_key",
	    offsetof(struct agentcfg, ssl_key), 1 },
	{ "agent_ssl_crt", "agent_ssl_crt",
	    offsetof(struct agentcfg, ssl_crt), 1 },
	{ "pem_host", "pem_host", offsetof(struct agentcfg, pem_host), 0 },
	{ "pem_port", "pem_port", offsetof(struct agentcfg, pem_port), 0 },
	{ "agent_user", "agent_user",
	    offsetof(struct agentcfg, agent_user), 0 },
};

static const struct acfield regini_fields[] = {
	{ "agentkeypath", "AgentKeyPath",
	    offsetof(struct agentcfg, ssl_key), 1 },
	{ "agentcrtpath", "AgentCrtPath",
	    offsetof(struct agentcfg, ssl_crt), 1 },
};

/* In the order they are tried. */
static const struct acshape shapes[] = {
	{ AGENTCFG_CFG, "PEM/agent", 0, "agent_id", "agent_id", cfg_fields,
	    sizeof(cfg_fields) / sizeof(cfg_fields[0]) },
	{ AGENTCFG_REGINI, "PEMAGENT", 1, "agentid", "AgentID",
	    regini_fields, sizeof(regini_fields) / sizeof(regini_fields[0]) },
};

static int aerr(struct acparse *, int, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

static int
aerr(struct acparse *p, int code, int line, const char *fmt, ...)
{
	va_list ap;

	free(*p->msg);
	va_start(ap, fmt);
	*p->msg = str_errat(p->origin, line, fmt, ap);
	va_end(ap);
	return code;
}

/* Strip blanks from both ends of s in place. */
static char *
trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	for (n = strlen(s); n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t');)
		s[--n] = '\0';
	return s;
}

static int
set_agent_id(struct acparse *p, const char *val)
{
	char *shown;
	int r;

	if (str_to_posint(val, AC_ID_MAX, &p->cfg.agent_id))
		return 0;
	shown = str_printable(val, 64);
	r = aerr(p, ERR_INVAL, p->line, "%s \"%s\" is not a positive "
	    "integer <= %ld", p->shape->id_shown, shown, AC_ID_MAX);
	free(shown);
	return r;
}

static int
set_field(struct acparse *p, const struct acfield *f, const char *val)
{
	char **dst = (char **)(void *)((char *)&p->cfg + f->off);
	char *shown = NULL;
	int r = 0;

	if (str_has_ctrl(val)) {
		r = aerr(p, ERR_INVAL, p->line, "%s holds a control character",
		    f->shown);
		goto out;
	}
	if (f->path && val[0] != '/') {
		shown = str_printable(val, 128);
		r = aerr(p, ERR_INVAL, p->line, "%s \"%s\" is not an absolute "
		    "path", f->shown, shown);
		goto out;
	}
	free(*dst);
	*dst = xstrdup(val);
 out:
	free(shown);
	return r;
}

static int
set_key(struct acparse *p, char *key, const char *val)
{
	const struct acshape *sh = p->shape;
	size_t i;

	if (p->nkeys == p->capkeys) {
		p->capkeys = p->capkeys ? p->capkeys * 2 : 32;
		p->keys = xrealloc(p->keys, p->capkeys * sizeof(*p->keys));
	}
	if (sh->nocase)		/* the copy is ours */
		for (i = 0; key[i] != '\0'; i++)
			key[i] = (char)tolower((unsigned char)key[i]);
	p->keys[p->nkeys].key = key;
	p->keys[p->nkeys++].line = p->line;
	if (strcmp(key, sh->id_key) == 0)
		return set_agent_id(p, val);
	for (i = 0; i < sh->nfields; i++) {
		if (strcmp(key, sh->fields[i].key) == 0)
			return set_field(p, &sh->fields[i], val);
	}
	return 0;
}

static int
parse_section(struct acparse *p, char *s)
{
	size_t n;

	s = trim(s);
	n = strlen(s);
	if (n < 3 || s[n - 1] != ']')
		return aerr(p, ERR_PARSE, p->line, "bad section header");
	s[n - 1] = '\0';
	p->in_section = (p->shape->nocase ? strcasecmp(s + 1,
	    p->shape->section) : strcmp(s + 1, p->shape->section)) == 0;
	if (p->in_section && p->seen != 0)
		return aerr(p, ERR_PARSE, p->line, "second [%s] section "
		    "(first on line %d)", p->shape->section, p->seen);
	if (p->in_section)
		p->seen = p->line;
	return 0;
}

static int
parse_keyval(struct acparse *p, char *s)
{
	char *eq, *key;

	if ((eq = strchr(s, '=')) == NULL)
		return aerr(p, ERR_PARSE, p->line, "expected key = value");
	*eq = '\0';
	if (*(key = trim(s)) == '\0')
		return aerr(p, ERR_PARSE, p->line, "empty key");
	return set_key(p, key, trim(eq + 1));
}

static int
parse_line(struct acparse *p, char *s)
{
	s += strspn(s, " \t");
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return parse_section(p, s);
	if (!p->in_section)
		return 0;
	return parse_keyval(p, s);
}

/* Split buf (len bytes, NUL-terminated copy) into lines and parse them. */
static int
parse_lines(struct acparse *p, char *buf, size_t len)
{
	char *s = buf, *nl;
	size_t n;
	int r = 0;

	while (r == 0 && s < buf + len) {
		p->line++;
		if ((nl = memchr(s, '\n', len - (size_t)(s - buf))) != NULL)
			*nl = '\0';
		n = nl != NULL ? (size_t)(nl - s) : len - (size_t)(s - buf);
		if (memchr(s, '\0', n) != NULL)
			return aerr(p, ERR_PARSE, p->line, "NUL byte");
		if (n > 0 && s[n - 1] == '\r')
			s[n - 1] = '\0';
		r = parse_line(p, s);
		s += n + 1;
	}
	return r;
}

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c;

	if ((c = strcmp(x->key, y->key)) != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* The earliest second occurrence of a key in [PEM/agent]. */
static int
check_duplicates(struct acparse *p)
{
	const struct keyref *dup = NULL, *first = NULL;
	char *shown;
	size_t i;
	int r;

	if (p->nkeys < 2)
		return 0;
	qsort(p->keys, p->nkeys, sizeof(*p->keys), keyref_cmp);
	for (i = 1; i < p->nkeys; i++) {
		if (strcmp(p->keys[i].key, p->keys[i - 1].key) != 0 ||
		    (dup != NULL && dup->line <= p->keys[i].line))
			continue;
		/* Sorted by line within a key: i - 1 is its first line. */
		first = &p->keys[i - 1];
		dup = &p->keys[i];
	}
	if (dup == NULL)
		return 0;
	shown = str_printable(dup->key, 64);
	r = aerr(p, ERR_PARSE, dup->line, "duplicate key %s in [%s] (first "
	    "on line %d)", shown, p->shape->section, first->line);
	free(shown);
	return r;
}

/*
 * Parse as one shape: 0 with *seen the line of its section (the settings
 * moved to *out), or 0 with *seen 0 when there is none; or an error.
 * *lines: how many lines the text has.
 */
static int
parse_shape(const struct acshape *sh, const char *text, size_t len,
    const char *origin, struct agentcfg *out, int *seen, int *lines,
    char **msg)
{
	struct acparse p;
	char *buf;
	int r;

	memset(&p, 0, sizeof(p));
	p.shape = sh;
	p.origin = origin;
	p.msg = msg;
	buf = xstrndup(len > 0 ? text : "", len);
	if ((r = parse_lines(&p, buf, len)) != 0)
		goto out;
	*lines = p.line;
	if ((*seen = p.seen) == 0 || (r = check_duplicates(&p)) != 0)
		goto out;
	p.cfg.kind = sh->kind;
	*out = p.cfg;
	memset(&p.cfg, 0, sizeof(p.cfg));
 out:
	agentcfg_clear(&p.cfg);
	free(p.keys);
	free(buf);
	return r;
}

int
agentcfg_parse(const char *text, size_t len, const char *origin,
    struct agentcfg *out, char **msg)
{
	size_t i;
	int r = 0, seen = 0, lines = 0;

	*msg = NULL;
	if (len > AGENTCFG_MAX) {
		*msg = xasprintf("%s: larger than %d bytes", origin,
		    AGENTCFG_MAX);
		return ERR_TOOBIG;
	}
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		r = parse_shape(&shapes[i], text, len, origin, out, &seen,
		    &lines, msg);
		if (r != 0 || seen != 0)
			return r;
	}
	*msg = xasprintf("%s:%d: no [%s] section (nor a [%s] one)", origin,
	    lines > 0 ? lines : 1, shapes[0].section, shapes[1].section);
	return ERR_PARSE;
}

void
agentcfg_clear(struct agentcfg *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->ssl_key);
	free(cfg->ssl_crt);
	free(cfg->pem_host);
	free(cfg->pem_port);
	free(cfg->agent_user);
	memset(cfg, 0, sizeof(*cfg));
}

const char *
agentcfg_kind_name(enum agentcfg_kind kind)
{
	switch (kind) {
	case AGENTCFG_CFG:
		return "agent.cfg";
	case AGENTCFG_REGINI:
		return "postgres-reg.ini";
	case AGENTCFG_NONE:
		break;
	}
	return "inventory";
}
