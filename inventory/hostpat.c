/*
 * hostpat.c: Ansible host ranges, "web[01:20].example.com", "db-[a:f]",
 * "node[1:9:2]": a pattern is literal pieces, each followed by a range,
 * and names its k-th host without listing the others.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmem.h"
#include "inventory/inventory_int.h"

#define INV_MAX_RANGE	100000		/* hosts from one host line */
#define INV_MAX_NAMES	(16 * 1024 * 1024) /* bytes of names, one line */

static const char letters[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

static int
parse_num(const char *s, size_t n, long *v)
{
	size_t i;

	*v = 0;
	if (n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int
parse_bound(const char *s, size_t n, int alpha, long *v)
{
	const char *c;

	if (!alpha)
		return parse_num(s, n, v);
	if (n != 1 || s[0] == '\0' || (c = strchr(letters, s[0])) == NULL)
		return -1;
	*v = c - letters;
	return 0;
}

/*
 * Parse "beg:end" or "beg:end:step" (n bytes at s).  Returns 0, -1 if
 * malformed, -2 if end < beg.
 */
static int
parse_range(const char *s, size_t n, struct hostpat_range *r)
{
	const char *c1, *c2, *end = s + n;
	long e;

	memset(r, 0, sizeof(*r));
	r->step = 1;
	if ((c1 = memchr(s, ':', n)) == NULL)
		return -1;
	if ((c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1))) != NULL) {
		if (parse_num(c2 + 1, (size_t)(end - c2 - 1), &r->step) != 0 ||
		    r->step < 1 || c2 + 1 == end)
			return -1;
		end = c2;
	}
	r->alpha = n > 0 && s[0] != '\0' && strchr(letters, s[0]) != NULL;
	if (c1 + 1 == end || parse_bound(s, (size_t)(c1 - s), r->alpha,
	    &r->beg) != 0 || parse_bound(c1 + 1, (size_t)(end - c1 - 1),
	    r->alpha, &e) != 0)
		return -1;
	if (!r->alpha && c1 - s > 1 && s[0] == '0') {
		r->width = (int)(c1 - s);
		if (end - c1 - 1 != r->width)
			return -1;
	}
	if (e < r->beg)
		return -2;
	r->count = (e - r->beg) / r->step + 1;
	return 0;
}

void
hostpat_free(struct hostpat *pt)
{
	free(pt->lit);
	free(pt->litlen);
	free(pt->r);
	memset(pt, 0, sizeof(*pt));
}

/* Add the literal piece s[0..n) (which may not hold ']'). */
static int
hostpat_lit(struct inv_parser *p, struct hostpat *pt, const char *s, size_t n)
{
	size_t cap = pt->n + 1;

	if (memchr(s, ']', n) != NULL)
		return inv_perr(p, ERR_PARSE, p->line,
		    "malformed range: stray ']'");
	pt->lit = xrealloc(pt->lit, cap * sizeof(*pt->lit));
	pt->litlen = xrealloc(pt->litlen, cap * sizeof(*pt->litlen));
	pt->lit[pt->n] = s;
	pt->litlen[pt->n] = n;
	pt->maxlen += n;
	return 0;
}

static int
hostpat_add_range(struct inv_parser *p, struct hostpat *pt, const char *s,
    size_t n)
{
	struct hostpat_range r;
	int e;

	if ((e = parse_range(s, n, &r)) != 0)
		return inv_perr(p, ERR_PARSE, p->line, "%s range [%.*s]",
		    e == -2 ? "reversed" : "malformed", (int)n, s);
	if ((size_t)r.count > INV_MAX_RANGE / pt->total)
		return inv_perr(p, ERR_PARSE, p->line, "range expands to more "
		    "than %d hosts", INV_MAX_RANGE);
	pt->total *= (size_t)r.count;
	pt->maxlen += r.alpha ? 1 : 10;
	pt->r = xrealloc(pt->r, (pt->n + 1) * sizeof(*pt->r));
	pt->r[pt->n++] = r;
	return 0;
}

int
hostpat_parse(struct inv_parser *p, const char *s, struct hostpat *pt)
{
	const char *open, *close;
	int r = 0;

	memset(pt, 0, sizeof(*pt));
	pt->total = 1;
	while (r == 0 && (open = strchr(s, '[')) != NULL) {
		if ((close = strchr(open, ']')) == NULL)
			return inv_perr(p, ERR_PARSE, p->line,
			    "malformed range: missing ']'");
		if ((r = hostpat_lit(p, pt, s, (size_t)(open - s))) == 0)
			r = hostpat_add_range(p, pt, open + 1,
			    (size_t)(close - open - 1));
		s = close + 1;
	}
	if (r == 0)
		r = hostpat_lit(p, pt, s, strlen(s));
	if (r == 0 && pt->total * (pt->maxlen + 1) > INV_MAX_NAMES)
		r = inv_perr(p, ERR_TOOBIG, p->line, "host pattern expands to "
		    "more than %d bytes", INV_MAX_NAMES);
	return r;
}

/* The k-th name of pt into buf (pt->maxlen + 1 bytes). */
void
hostpat_name(const struct hostpat *pt, size_t k, char *buf)
{
	size_t i, rem, idx, off = 0;
	size_t div = pt->total;
	const struct hostpat_range *r;
	long v;

	for (i = 0; i < pt->n; i++) {
		memcpy(buf + off, pt->lit[i], pt->litlen[i]);
		off += pt->litlen[i];
		r = &pt->r[i];
		div /= (size_t)r->count;
		idx = k / div;
		rem = k % div;
		k = rem;
		v = r->beg + (long)idx * r->step;
		if (r->alpha)
			buf[off++] = letters[v];
		else
			off += (size_t)sprintf(buf + off, "%0*ld", r->width, v);
	}
	memcpy(buf + off, pt->lit[pt->n], pt->litlen[pt->n]);
	buf[off + pt->litlen[pt->n]] = '\0';
}
