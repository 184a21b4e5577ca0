/*
 * agentcfg.c: a PEM agent's agent.cfg (see agentcfg.h).
 *
 * The text comes from the agent host and is untrusted.  Only section
 * [PEM/agent] is read (case-sensitive, like PEM's own parser); other
 * sections are skipped but must still have well-formed headers.  In the
 * section each line is "key = value" with blanks around both trimmed;
 * '#' and ';' start comment lines only.  Values are not unquoted.  A key
 * given twice in the section is an error, reported at its second line
 * after the whole file has been read (keys are sorted, not compared
 * pairwise, so a hostile file cannot make this quadratic).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/agentcfg.h"

#define AC_SECTION	"PEM/agent"
#define AC_ID_MAX	2147483647L

struct keyref {
	const char *key;	/* points into the parser's copy of the text */
	int line;
};

struct acparse {
	const char *origin;
	char **msg;		/* the caller's: the last error's text */
	int line;
	int in_section;		/* inside [PEM/agent] */
	int seen;		/* line of [PEM/agent], 0 if none yet */
	struct keyref *keys;
	size_t nkeys;
	size_t capkeys;
	struct agentcfg cfg;
};

/* The string fields of struct agentcfg and how each is checked. */
static const struct acfield {
	const char *key;
	size_t off;
	int path;		/* must be an absolute path */
} acfields[] = {
	{ "agent_ssl_key", offsetof(struct agentcfg, ssl_key), 1 },
	{ "agent_ssl_crt", offsetof(struct agentcfg, ssl_crt), 1 },
	{ "pem_host", offsetof(struct agentcfg, pem_host), 0 },
	{ "pem_port", offsetof(struct agentcfg, pem_port), 0 },
	{ "agent_user", offsetof(struct agentcfg, agent_user), 0 },
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
	r = aerr(p, ERR_INVAL, p->line, "agent_id \"%s\" is not a positive "
	    "integer <= %ld", shown, AC_ID_MAX);
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
		    f->key);
		goto out;
	}
	if (f->path && val[0] != '/') {
		shown = str_printable(val, 128);
		r = aerr(p, ERR_INVAL, p->line, "%s \"%s\" is not an absolute "
		    "path", f->key, shown);
		goto out;
	}
	free(*dst);
	*dst = xstrdup(val);
 out:
	free(shown);
	return r;
}

static int
set_key(struct acparse *p, const char *key, const char *val)
{
	size_t i;

	if (p->nkeys == p->capkeys) {
		p->capkeys = p->capkeys ? p->capkeys * 2 : 32;
		p->keys = xrealloc(p->keys, p->capkeys * sizeof(*p->keys));
	}
	p->keys[p->nkeys].key = key;
	p->keys[p->nkeys++].line = p->line;
	if (strcmp(key, "agent_id") == 0)
		return set_agent_id(p, val);
	for (i = 0; i < sizeof(acfields) / sizeof(acfields[0]); i++) {
		if (strcmp(key, acfields[i].key) == 0)
			return set_field(p, &acfields[i], val);
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
	p->in_section = strcmp(s + 1, AC_SECTION) == 0;
	if (p->in_section && p->seen != 0)
		return aerr(p, ERR_PARSE, p->line, "second [%s] section "
		    "(first on line %d)", AC_SECTION, p->seen);
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
	    "on line %d)", shown, AC_SECTION, first->line);
	free(shown);
	return r;
}

int
agentcfg_parse(const char *text, size_t len, const char *origin,
    struct agentcfg *out, char **msg)
{
	struct acparse p;
	char *buf;
	int r;

	*msg = NULL;
	if (len > AGENTCFG_MAX) {
		*msg = xasprintf("%s: larger than %d bytes", origin,
		    AGENTCFG_MAX);
		return ERR_TOOBIG;
	}
	memset(&p, 0, sizeof(p));
	p.origin = origin;
	p.msg = msg;
	buf = xstrndup(len > 0 ? text : "", len);
	if ((r = parse_lines(&p, buf, len)) != 0)
		goto out;
	if (p.seen == 0) {
		r = aerr(&p, ERR_PARSE, p.line > 0 ? p.line : 1,
		    "no [%s] section", AC_SECTION);
		goto out;
	}
	if ((r = check_duplicates(&p)) != 0)
		goto out;
	*out = p.cfg;
	memset(&p.cfg, 0, sizeof(p.cfg));
 out:
	agentcfg_clear(&p.cfg);
	free(p.keys);
	free(buf);
	return r;
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
