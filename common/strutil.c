#include "strutil.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmem.h"

char *
shquote(const char *s, int strict)
{
	struct strbuf b;
	const char *p;

	if (strict && str_has_ctrl(s))
		return NULL;
	strbuf_init(&b);
	strbuf_add(&b, "'", 1);
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			strbuf_adds(&b, "'\\''");
		else
			strbuf_add(&b, p, 1);
	}
	strbuf_add(&b, "'", 1);
	return strbuf_steal(&b);
}

char *
str_printable(const char *s, size_t max)
{
	struct strbuf b;
	size_t i;
	unsigned char c;

	strbuf_init(&b);
	for (i = 0; s != NULL && s[i] != '\0' && i < max; i++) {
		c = (unsigned char)s[i];
		if (c == '\n')
			strbuf_adds(&b, "\\n");
		else if (c == '\t')
			strbuf_adds(&b, "\\t");
		else if (c == '\r')
			strbuf_adds(&b, "\\r");
		else if (c == '\\')
			strbuf_adds(&b, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(&b, "\\x%02x", c);
		else
			strbuf_add(&b, &s[i], 1);
	}
	if (s != NULL && i == max && s[i] != '\0')
		strbuf_adds(&b, "...");
	return strbuf_steal(&b);
}

char *
str_errat(const char *where, int line, const char *fmt, va_list ap)
{
	char *what, *msg;

	what = xvasprintf(fmt, ap);
	msg = xasprintf("%s:%d: %s", where, line, what);
	free(what);
	return msg;
}

int
str_to_posint(const char *s, long max, long *out)
{
	const char *p;
	long v = 0;

	if (s == NULL || *s == '\0')
		return 0;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		if (v > (max - (*p - '0')) / 10)
			return 0;
		v = v * 10 + (*p - '0');
	}
	if (v < 1)
		return 0;
	*out = v;
	return 1;
}

int
str_b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int
str_has_ctrl(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	}
	return 0;
}

/* 1 if s[0..n) is a DNS label: letters, digits, '-' not at either end. */
static int
label_ok(const char *s, size_t n)
{
	size_t i;
	char c;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '-')
			return 0;
	}
	return 1;
}

int
str_is_hostname(const char *s)
{
	size_t n = strlen(s), len;
	const char *p, *dot;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (p = s;; p = dot + 1) {
		dot = memchr(p, '.', (size_t)(s + n - p));
		len = dot != NULL ? (size_t)(dot - p) : (size_t)(s + n - p);
		if (!label_ok(p, len))
			return 0;
		if (dot == NULL)
			break;
	}
	/* "1.2.3" or "300.1.1.1" is a bad address, not a name (RFC 3696) */
	return strspn(p, "0123456789") < len;
}

int
str_is_ip_address(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

int
str_host_eq(const char *a, const char *b)
{
	size_t an = strlen(a), bn = strlen(b);

	if (an > 0 && a[an - 1] == '.')
		an--;
	if (bn > 0 && b[bn - 1] == '.')
		bn--;
	return an == bn && strncasecmp(a, b, an) == 0;
}

void
strbuf_init(struct strbuf *b)
{
	b->cap = 64;
	b->len = 0;
	b->s = xmalloc(b->cap);
	b->s[0] = '\0';
}

void
strbuf_add(struct strbuf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap *= 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
strbuf_adds(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void
strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		while (b->len + (size_t)n + 1 > b->cap)
			b->cap *= 2;
		b->s = xrealloc(b->s, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
strbuf_add_json(struct strbuf *b, const char *s)
{
	unsigned char c;

	strbuf_add(b, "\"", 1);
	for (; s != NULL && *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			strbuf_addf(b, "\\%c", c);
		else if (c == '\n')
			strbuf_adds(b, "\\n");
		else if (c == '\t')
			strbuf_adds(b, "\\t");
		else if (c == '\r')
			strbuf_adds(b, "\\r");
		else if (c < 0x20 || c == 0x7f)
			strbuf_addf(b, "\\u%04x", c);
		else
			strbuf_add(b, s, 1);
	}
	strbuf_add(b, "\"", 1);
}

char *
strbuf_steal(struct strbuf *b)
{
	char *s = b->s;

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void
strbuf_free(struct strbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}
