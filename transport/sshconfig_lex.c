/*
 * sshconfig_lex.c: the words and values of ssh_config(5) lines as
 * OpenSSH 9.2 reads them (its strdelim, argv_split, a2port, convtime,
 * parse_jump and the multistate tables), and the messages that name a
 * file and line.  No state: safe from any thread.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/sshconfig_int.h"

#define WS	" \t\r\n"

/*
 * The next word of *s, as OpenSSH's strdelim: split at blanks or one
 * '=', a word opening with '"' runs to the next '"'.  NULL at the end,
 * or for an unclosed quote.  *s is modified in place.
 */
char *
sc_strdelim(char **s)
{
	char *old, *p;
	int eq = 0;

	if (*s == NULL)
		return NULL;
	old = *s;
	if ((p = strpbrk(*s, WS "\"=")) == NULL) {
		*s = NULL;
		return old;
	}
	if (*p == '"') {
		memmove(p, p + 1, strlen(p));
		if ((p = strchr(p, '"')) == NULL) {
			*s = NULL;
			return NULL;
		}
		*p = '\0';
		*s = p + 1 + strspn(p + 1, WS);
		return old;
	}
	if (*p == '=')
		eq = 1;
	*p = '\0';
	p += 1 + strspn(p + 1, WS);
	if (*p == '=' && !eq)
		p += 1 + strspn(p + 1, WS);
	*s = p;
	return old;
}

void
sc_argv_free(char **av, size_t ac)
{
	size_t i;

	for (i = 0; i < ac; i++)
		free(av[i]);
	free(av);
}

/*
 * Split s into words as OpenSSH's argv_split (comments on): blanks
 * separate, '...' and "..." quote, backslash escapes a quote, a
 * backslash and (unquoted) a blank; a word opening with '#' ends the
 * line.  -1 for an unclosed quote.
 */
int
sc_argv_split(const char *s, char ***av, size_t *ac)
{
	char **v = NULL, *w;
	size_t n = 0, i = 0, j;
	int q;

	while (s[i] != '\0') {
		if (s[i] == ' ' || s[i] == '\t') {
			i++;
			continue;
		}
		if (s[i] == '#')
			break;
		v = xrealloc(v, (n + 2) * sizeof(*v));
		w = v[n++] = xmalloc(strlen(s + i) + 1);
		for (j = 0, q = 0; s[i] != '\0'; i++) {
			if (s[i] == '\\' && (s[i + 1] == '\'' ||
			    s[i + 1] == '"' || s[i + 1] == '\\' ||
			    (q == 0 && s[i + 1] == ' ')))
				w[j++] = s[++i];
			else if (q == 0 && (s[i] == ' ' || s[i] == '\t'))
				break;
			else if (q == 0 && (s[i] == '"' || s[i] == '\''))
				q = s[i];
			else if (q != 0 && s[i] == q)
				q = 0;
			else
				w[j++] = s[i];
		}
		w[j] = '\0';
		if (q != 0) {
			sc_argv_free(v, n);
			return -1;
		}
	}
	*av = v;
	*ac = n;
	return 0;
}

/* A port number or a service name, as a2port; -1 if neither. */
int
sc_a2port(const char *s)
{
	struct servent se, *res = NULL;
	char buf[1024], *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end != s && *end == '\0')
		return errno == 0 && v >= 0 && v <= 65535 ? (int)v : -1;
	if (getservbyname_r(s, "tcp", &se, buf, sizeof(buf), &res) == 0 &&
	    res != NULL)
		return ntohs((unsigned short)res->s_port);
	return -1;
}

/* "1h30m" and the like in seconds, as convtime; -1 if malformed. */
int
sc_convtime(const char *s)
{
	long total = 0, secs, mul;
	char *end;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		errno = 0;
		secs = strtol(s, &end, 10);
		if (end == s || errno == ERANGE || secs < 0)
			return -1;
		switch (*end) {
		case '\0':	mul = 1;		break;
		case 's': case 'S':	mul = 1;	break;
		case 'm': case 'M':	mul = 60;	break;
		case 'h': case 'H':	mul = 3600;	break;
		case 'd': case 'D':	mul = 86400;	break;
		case 'w': case 'W':	mul = 604800;	break;
		default:
			return -1;
		}
		if (*end != '\0')
			end++;
		if (secs > INT_MAX / mul || total > INT_MAX - secs * mul)
			return -1;
		total += secs * mul;
		s = end;
	}
	return (int)total;
}

static const struct {
	enum sc_op op;
	const char *word;
	int value;
} states[] = {
	{ SC_IDONLY, "yes", 1 }, { SC_IDONLY, "true", 1 },
	{ SC_IDONLY, "no", 0 }, { SC_IDONLY, "false", 0 },
	{ SC_STRICT, "yes", SSHCONFIG_STRICT_YES },
	{ SC_STRICT, "true", SSHCONFIG_STRICT_YES },
	{ SC_STRICT, "no", SSHCONFIG_STRICT_NO },
	{ SC_STRICT, "false", SSHCONFIG_STRICT_NO },
	{ SC_STRICT, "off", SSHCONFIG_STRICT_NO },
	{ SC_STRICT, "ask", SSHCONFIG_STRICT_ASK },
	{ SC_STRICT, "accept-new", SSHCONFIG_STRICT_ACCEPT_NEW },
	{ SC_CANON, "yes", 1 }, { SC_CANON, "true", 1 },
	{ SC_CANON, "no", 0 }, { SC_CANON, "false", 0 },
	{ SC_CANON, "always", 2 },
};

/* The value of word s for the multistate keyword op; -1 if none. */
int
sc_state(const char *s, enum sc_op op)
{
	size_t i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if (states[i].op == op && strcasecmp(s, states[i].word) == 0)
			return states[i].value;
	}
	return -1;
}

void
sc_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* OpenSSH's valid_hostname (with ',', as Debian's 9.2 has it). */
int
sc_valid_hostname(const char *s)
{
	if (*s == '-')
		return 0;
	for (; *s != '\0'; s++) {
		if (strchr("'`\"$\\;&<>|(){},", *s) != NULL ||
		    isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return 0;
	}
	return 1;
}

/* OpenSSH's valid_ruser. */
int
sc_valid_ruser(const char *s)
{
	if (*s == '-')
		return 0;
	for (; *s != '\0'; s++) {
		if (iscntrl((unsigned char)*s) ||
		    strchr("'`\";&<>|(){}", *s) != NULL)
			return 0;
		if (isspace((unsigned char)*s) && s[1] == '-')
			return 0;
		if (*s == '\\' && s[1] == '\0')
			return 0;
	}
	return 1;
}

/* "[host]" without its brackets, in place (cleanhostname). */
static char *
clean_host(char *h)
{
	size_t n = strlen(h);

	if (n > 1 && h[0] == '[' && h[n - 1] == ']') {
		h[n - 1] = '\0';
		return h + 1;
	}
	return h;
}

/*
 * "host[:port]" or "[host]:port" of s into *host and *port (hpdelim):
 * 0, or -1 if malformed.  s is modified.
 */
static int
host_port(char *s, char **host, int *port)
{
	char *p = s;

	*port = 0;
	if (*p == '[') {
		if ((p = strchr(p, ']')) == NULL)
			return -1;
		p++;
	} else if ((p = strpbrk(p, ":/")) == NULL) {
		p = s + strlen(s);
	}
	if (*p == '/')
		return -1;
	if (*p == ':') {
		*p++ = '\0';
		if (*p != '\0' && (*port = sc_a2port(p)) <= 0)
			return -1;
	} else if (*p != '\0') {
		return -1;
	}
	if (*s == '\0')
		return -1;
	*host = xstrdup(clean_host(s));
	return 0;
}

/* valid_domain(): a DNS-like name; a trailing '.' is dropped. */
static int
valid_domain(char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || !isalnum((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '.' && s[i] != '_')
			return 0;
		if (s[i] == '.' && s[i + 1] == '.')
			return 0;
	}
	if (s[n - 1] == '.')
		s[n - 1] = '\0';
	return 1;
}

/* "ssh://[user[;params]@]host[:port][/]" (parse_uri, no path). */
static int
parse_uri(char *p, struct sshconfig_hop *h)
{
	char *at, *e, *rest = NULL, ch;

	if ((at = strchr(p, '@')) != NULL) {
		*at = '\0';
		p[strcspn(p, ";")] = '\0';
		if (*p == '\0')
			return -1;
		h->user = xstrdup(p);
		p = at + 1;
	}
	if (*p == '[') {
		if ((e = strchr(p, ']')) == NULL)
			return -1;
		e++;
	} else if ((e = strpbrk(p, ":/")) == NULL) {
		e = p + strlen(p);
	}
	if ((ch = *e) != '\0' && ch != ':' && ch != '/')
		return -1;
	*e = '\0';
	if (ch != '\0')
		rest = e + 1;
	if (*p == '\0')
		return -1;
	h->host = xstrdup(clean_host(p));
	if (!valid_domain(h->host))
		return -1;
	if (rest != NULL && *rest != '\0' && ch == ':') {
		if ((e = strchr(rest, '/')) != NULL)
			*e++ = '\0';
		if ((h->port = sc_a2port(rest)) <= 0)
			return -1;
		rest = e;
	}
	return rest != NULL && *rest != '\0' ? -1 : 0;
}

/* "[user@]host[:port]" (parse_user_host_port). */
static int
parse_user_host(char *p, struct sshconfig_hop *h)
{
	char *at;

	if ((at = strrchr(p, '@')) != NULL) {
		*at = '\0';
		if (*p == '\0')
			return -1;
		h->user = xstrdup(p);
		p = at + 1;
	}
	return host_port(p, &h->host, &h->port);
}

/* One hop: "[user@]host[:port]" or "ssh://[user@]host[:port]". */
static int
parse_hop(const char *item, int strict, struct sshconfig_hop *h)
{
	char *s = xstrdup(item);
	int r;

	memset(h, 0, sizeof(*h));
	if (strncmp(s, "ssh://", 6) == 0)
		r = parse_uri(s + 6, h);
	else
		r = parse_user_host(s, h);
	if (r == 0 && strict && (!sc_valid_hostname(h->host) ||
	    (h->user != NULL && !sc_valid_ruser(h->user))))
		r = -1;
	if (r != 0) {
		free(h->user);
		free(h->host);
		memset(h, 0, sizeof(*h));
	}
	free(s);
	return r;
}

void
sc_jump_free(struct sc_jump *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->nhop; i++) {
		free(j->hop[i].user);
		free(j->hop[i].host);
	}
	free(j->hop);
	free(j->extra);
	free(j);
}

/*
 * A ProxyJump value: "none", or hops separated by ',' (a '#' starts a
 * comment).  strict: user and host names also as on ssh's command line.
 */
int
sc_parse_jump(const char *s, int strict, struct sc_jump **out)
{
	struct sc_jump *j = xcalloc(1, sizeof(*j));
	char *t, *item, *comma;
	size_t n;

	*out = NULL;
	if (strcasecmp(s, "none") == 0) {
		j->none = 1;
		*out = j;
		return 0;
	}
	t = xstrdup(s);
	t[strcspn(t, "#")] = '\0';
	for (n = strlen(t); n > 0 && strchr(WS, t[n - 1]) != NULL; n--)
		t[n - 1] = '\0';
	if ((comma = strrchr(t, ',')) != NULL)
		j->extra = xstrndup(t, (size_t)(comma - t));
	for (item = t;; item = comma + 1) {
		comma = strchr(item, ',');
		if (comma != NULL)
			*comma = '\0';
		j->hop = xrealloc(j->hop, (j->nhop + 1) * sizeof(*j->hop));
		if (parse_hop(item, strict, &j->hop[j->nhop]) != 0) {
			free(t);
			sc_jump_free(j);
			return -1;
		}
		j->nhop++;
		if (comma == NULL)
			break;
	}
	free(t);
	*out = j;
	return 0;
}

char *
sc_verr(const char *where, int line, const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	if (line > 0)
		n = snprintf(buf, sizeof(buf), "%s:%d: ", where, line);
	else
		n = snprintf(buf, sizeof(buf), "%s: ", where);
	if (n > 0 && (size_t)n < sizeof(buf))
		vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	return str_printable(buf, sizeof(buf));
}

char *
sc_err(const char *where, int line, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = sc_verr(where, line, fmt, ap);
	va_end(ap);
	return s;
}

int
sc_fail(char **msg, int code, const char *where, int line,
    const char *fmt, ...)
{
	va_list ap;

	if (msg != NULL) {
		free(*msg);
		va_start(ap, fmt);
		*msg = sc_verr(where, line, fmt, ap);
		va_end(ap);
	}
	return code;
}
