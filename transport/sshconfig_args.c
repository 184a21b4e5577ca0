/*
 * sshconfig_args.c: the ssh options Ansible passes in
 * ansible_ssh_common_args and ansible_ssh_extra_args.  Each string is
 * split into words as Python's shlex.split() splits it (Ansible's own
 * reading: no shell, nothing expanded), then read as ssh(1)'s getopt
 * reads its options.  The options that resolution uses become
 * command-line lines (sshconfig_int.h), applied before the files.  The
 * result is read-only: share it between threads.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/sshconfig_int.h"

/* ssh options accepted and ignored: without, and with an argument. */
#define IGNORED_FLAGS	"46AaCgKkNnqTtvXxYy"
#define IGNORED_ARGS	"cEem"
#define OUR_ARGS	"FoJpli"

struct words {
	char **v;
	size_t n;
};

static void
words_free(struct words *w)
{
	sc_argv_free(w->v, w->n);
	memset(w, 0, sizeof(*w));
}

static void
words_add(struct words *w, struct strbuf *b)
{
	w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
	w->v[w->n++] = strbuf_steal(b);
	strbuf_init(b);
}

/*
 * shlex.split(s) (POSIX mode): blanks separate words; outside quotes a
 * backslash takes the next byte as it is; '...' holds everything as it
 * is; in "..." a backslash escapes only '"' and '\'.  -1 with *why for
 * an unclosed quote or a backslash at the end.
 */
static int
shlex_split(const char *s, struct words *w, const char **why)
{
	struct strbuf b;
	int inword = 0, q = 0, dangling = 0;

	strbuf_init(&b);
	for (; *s != '\0'; s++) {
		if (q == '\'') {
			if (*s == '\'')
				q = 0;
			else
				strbuf_add(&b, s, 1);
		} else if (q == '"') {
			if (*s == '"')
				q = 0;
			else if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
				strbuf_add(&b, ++s, 1);
			else
				strbuf_add(&b, s, 1);
		} else if (strchr(" \t\r\n", *s) != NULL) {
			if (inword)
				words_add(w, &b);
			inword = 0;
		} else {
			inword = 1;
			if (*s == '\'' || *s == '"')
				q = *s;
			else if (*s == '\\' && (dangling = *++s == '\0'))
				break;
			else
				strbuf_add(&b, s, 1);
		}
	}
	if (q != 0 || dangling) {
		*why = q != 0 ? "no closing quotation" : "no escaped character";
		strbuf_free(&b);
		return -1;
	}
	if (inword)
		words_add(w, &b);
	strbuf_free(&b);
	return 0;
}

/* What -J may not follow, as ssh checks it. */
struct jstate {
	int jump;		/* a ProxyJump or -J already */
	int command;		/* a ProxyCommand already */
};

static void
track(struct jstate *js, const struct sc_file *f, size_t from)
{
	for (; from < f->nline; from++) {
		if (f->line[from].op == SC_PROXYJUMP)
			js->jump = 1;
		else if (f->line[from].op == SC_PROXYCMD)
			js->command = 1;
	}
}

/* One option letter c with its argument arg. */
static int
option(struct sshconfig_args *a, struct sc_file *f, struct jstate *js,
    int c, const char *arg, char **msg)
{
	char *line;
	size_t n = f->nline;
	int r = 0;

	switch (c) {
	case 'F':
		free(a->config);
		a->config = xstrdup(arg);
		return 0;
	case 'o':
		line = xstrdup(arg);
		r = sc_parse_line(NULL, f, line, 0, 0, msg);
		free(line);
		break;
	case 'J':
		if (js->jump)
			return sc_fail(msg, ERR_INVAL, f->path, 0, "only a "
			    "single -J option is permitted (use commas to "
			    "separate multiple jump hops)");
		if (js->command)
			return sc_fail(msg, ERR_INVAL, f->path, 0,
			    "cannot specify -J with ProxyCommand");
		r = sc_add_option(f, SC_PROXYJUMP, arg, 0, msg);
		break;
	case 'p':
		r = sc_add_option(f, SC_PORT, arg, 0, msg);
		break;
	case 'l':
		r = sc_add_option(f, SC_USER, arg, 0, msg);
		break;
	case 'i':
		r = sc_add_option(f, SC_IDFILE, arg, SC_L_TILDE, msg);
		break;
	default:
		break;
	}
	if (r == 0)
		track(js, f, n);
	return r;
}

/* The words of one string as ssh's options into f. */
static int
options(struct sshconfig_args *a, struct sc_file *f, struct jstate *js,
    const struct words *w, char **msg)
{
	const char *word, *arg;
	size_t i, k;
	int r;

	for (i = 0; i < w->n; i++) {
		word = w->v[i];
		if (word[0] != '-' || word[1] == '\0' || strcmp(word,
		    "--") == 0)
			return sc_fail(msg, ERR_INVAL, f->path, 0,
			    "unexpected argument \"%s\"", word);
		for (k = 1; word[k] != '\0'; k++) {
			if (strchr(IGNORED_FLAGS, word[k]) != NULL)
				continue;
			if (strchr(IGNORED_ARGS OUR_ARGS, word[k]) == NULL)
				return sc_fail(msg, ERR_INVAL, f->path, 0,
				    "unsupported ssh option -%c", word[k]);
			if (word[k + 1] != '\0')
				arg = word + k + 1;
			else if (i + 1 < w->n)
				arg = w->v[++i];
			else
				return sc_fail(msg, ERR_INVAL, f->path, 0,
				    "option -%c requires an argument",
				    word[k]);
			if ((r = option(a, f, js, word[k], arg, msg)) != 0)
				return r;
			break;
		}
	}
	return 0;
}

int
sshconfig_args_parse(const char *common, const char *extra,
    struct sshconfig_args **out, char **msg)
{
	static const char *const name[2] = {
		"ansible_ssh_common_args", "ansible_ssh_extra_args",
	};
	struct sshconfig_args *a = xcalloc(1, sizeof(*a));
	struct jstate js = { 0, 0 };
	struct words w = { NULL, 0 };
	const char *s[2] = { common, extra }, *why;
	size_t i;
	int r = 0;

	*out = NULL;
	if (msg != NULL)
		*msg = NULL;
	for (i = 0; i < 2 && r == 0; i++) {
		a->cmd[i] = sc_file_new(name[i], SC_F_CMDLINE);
		if (s[i] == NULL)
			continue;
		if (shlex_split(s[i], &w, &why) != 0)
			r = sc_fail(msg, ERR_INVAL, name[i], 0, "%s", why);
		else
			r = options(a, a->cmd[i], &js, &w, msg);
		words_free(&w);
	}
	if (r != 0) {
		sshconfig_args_free(a);
		return ERR_INVAL;
	}
	*out = a;
	return 0;
}

const char *
sshconfig_args_config(const struct sshconfig_args *a)
{
	return a != NULL ? a->config : NULL;
}

void
sshconfig_args_free(struct sshconfig_args *a)
{
	if (a == NULL)
		return;
	free(a->config);
	sc_file_free(a->cmd[0]);
	sc_file_free(a->cmd[1]);
	free(a);
}
