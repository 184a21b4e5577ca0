/*
 * invlex.c: the words of an inventory line, split like a shell (single
 * and double quotes, backslash escapes outside single quotes, comments
 * after an unquoted blank), and the names a word may be.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xmem.h"
#include "inventory/inventory_int.h"

int
invlex_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Group names: letters, digits, '_', '-', '.'. */
int
invlex_group_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && strchr("_-.", *s) == NULL)
			return 0;
	}
	return 1;
}

/* Variable names: identifiers. */
int
invlex_var_name(const char *s)
{
	const char *c;

	if (*s >= '0' && *s <= '9')
		return 0;
	for (c = s; *c != '\0'; c++) {
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && *c != '_')
			return 0;
	}
	return 1;
}

struct lex {
	const char *s;
	size_t i;
	char *o;
	size_t n;		/* bytes in o */
	size_t keep;		/* o[0..keep) ends with a non-blank */
	char q;			/* open quote, or 0 */
};

static void
lex_put(struct lex *l, char c, int solid)
{
	l->o[l->n++] = c;
	if (solid)
		l->keep = l->n;
}

/* A backslash at l->i.  Returns -1 if nothing follows it. */
static int
lex_escape(struct lex *l)
{
	char c = l->s[l->i + 1];

	if (l->q == '"' && c != '"' && c != '\\') {
		lex_put(l, '\\', 1);
		return 0;
	}
	if (c == '\0')
		return -1;
	lex_put(l, c, 1);
	l->i++;
	return 0;
}

/*
 * One step of the lexer.  Returns 1 at the end of the word (value: of the
 * value), 0 to go on, -1 on a backslash at the end of the line.
 */
static int
lex_step(struct lex *l, int value)
{
	char c = l->s[l->i];
	size_t t;

	if (l->q == '\'' && c != '\'')
		lex_put(l, c, 1);
	else if (c == '\\' && l->q != '\'') {
		if (lex_escape(l) != 0)
			return -1;
	} else if (l->q != 0 && c == l->q)
		l->q = 0;
	else if (l->q != 0)
		lex_put(l, c, 1);
	else if (c == '\'' || c == '"') {
		l->q = c;
		l->keep = l->n;
	} else if (invlex_blank(c)) {
		t = l->i + strspn(l->s + l->i, " \t");
		if (!value || l->s[t] == '#' || l->s[t] == ';')
			return 1;
		lex_put(l, c, 0);
	} else
		lex_put(l, c, 1);
	l->i++;
	return 0;
}

/*
 * Read from s at *pos, with quotes and escapes removed, one word (value
 * 0: up to an unquoted blank) or the rest of the line (value 1: inner
 * blanks kept, trailing ones dropped).  Both stop at an unquoted '#' or
 * ';' after a blank.  Returns 1 and a new string in *out, 0 if the line
 * has no more words, or ERR_PARSE.
 */
int
invlex_word(struct inv_parser *p, const char *s, size_t *pos, int value,
    char **out)
{
	struct lex l = { .s = s, .i = *pos };
	int r = 0;

	l.i += strspn(s + l.i, " \t");
	if (s[l.i] == '\0' || ((s[l.i] == '#' || s[l.i] == ';') &&
	    (l.i > *pos || !value)))
		goto out;
	l.o = xmalloc(strlen(s + l.i) + 1);
	while (s[l.i] != '\0' && (r = lex_step(&l, value)) == 0)
		;
	if (r < 0)
		r = inv_perr(p, ERR_PARSE, p->line, "backslash at end of line");
	else if (l.q != 0)
		r = inv_perr(p, ERR_PARSE, p->line, "unterminated %c quote",
		    l.q);
	else {
		l.o[value ? l.keep : l.n] = '\0';
		*out = l.o;
		l.o = NULL;
		r = 1;
	}
 out:
	*pos = l.i;
	free(l.o);
	return r;
}
