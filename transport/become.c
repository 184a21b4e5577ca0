/*
 * become.c: privilege escalation with sudo, as Ansible's become does,
 * under every command and SFTP server of a connection.
 *
 * A command line CMD becomes
 *
 *	EXE FLAGS -n -u USER -- /bin/sh -c 'echo M; echo M >&2; exec
 *	    /bin/sh -c CMD'
 *
 * every word quoted, M random for each call (the SFTP server: exec PATH).
 * The first sudo of a connection first prints `id -u` and the target's
 * uid ("id -u; id -u -- USER; echo M; ..."), checked before the command
 * may start; an SFTP server whose path is not known first looks for it
 * ("p=$(FIND); echo "$p"; echo M; ...; exec "$p"").  So neither costs a
 * sudo of its own: each is a round trip, and a fork of sudo, per host.
 * With a password, -S -p P (P random) replaces -n.  Until a line M has
 * come on both stdout and stderr, both are sudo's: its prompt P, answered
 * once with the password (so a sudo that does not ask never gets it, and
 * neither does the command), or its refusal and end of file.  Each stream
 * is the command's from its marker on, whatever order the two arrive in.
 */
#include "transport/become.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/sshconn_int.h"

#define BECOME_MAX	16384	/* what sudo may say before the markers */

struct become {
	char *exe;		/* quoted */
	char *flags;		/* each word quoted and after a blank */
	char *user;		/* as given, for messages */
	char *quser;		/* quoted */
	char *pw;		/* secret_alloc: the password and "\n" */
	size_t pwlen;		/* with the "\n" */
	char *sftp_server;	/* given or found; NULL until then */
	int verified;		/* a sudo printed the target's uid */
};

/* sudo options that keep it from running the command as asked */
static const char *const refused_flags[] = {
	"--", "-b", "--background", "-e", "--edit", "-l", "--list", "-v",
	"--validate", "-K", "--remove-timestamp", "-V", "--version", "-h",
	"--help",
};

/*
 * Where OpenSSH's sftp-server lives (Debian, RHEL, Arch, others), else
 * what sshd's configuration names; run as root through sudo.
 */
#define FIND_SFTP_SERVER \
	"for p in /usr/lib/openssh/sftp-server " \
	"/usr/libexec/openssh/sftp-server /usr/lib/ssh/sftp-server " \
	"/usr/libexec/sftp-server /usr/lib/sftp-server; do " \
	"[ -x \"$p\" ] && { echo \"$p\"; exit 0; }; done; " \
	"p=$(PATH=$PATH:/usr/sbin:/sbin sshd -T 2>/dev/null | " \
	"awk '$1 == \"subsystem\" && $2 == \"sftp\" { print $3; exit }'); " \
	"case $p in /*) [ -x \"$p\" ] && { echo \"$p\"; exit 0; };; esac; " \
	"exit 127"

void
become_free(struct become *b)
{
	if (b == NULL)
		return;
	free(b->exe);
	free(b->flags);
	free(b->user);
	free(b->quser);
	secret_free(b->pw);
	free(b->sftp_server);
	free(b);
}

int
become_on(struct sshconn *c)
{
	return *sshconn_becomep(c) != NULL;
}

/* ---- setting it up ---- */

static int
bad_value(struct sshconn *c, const char *what, const char *v)
{
	char *safe = str_printable(v, 100);

	sshconn_seterr(c, "%s: become: %s '%s' not usable", sshconn_label(c),
	    what, safe);
	free(safe);
	return ERR_INVAL;
}

/* One word of the flags: 1 to pass on, 0 to leave out, or an err_code. */
static int
flag_ok(struct sshconn *c, const char *w, int has_pw)
{
	size_t i;

	for (i = 0; i < sizeof(refused_flags) / sizeof(refused_flags[0]); i++)
		if (strcmp(w, refused_flags[i]) == 0)
			return bad_value(c, "sudo option", w);
	/* sudo -n would refuse to read the password (as Ansible drops it) */
	if (has_pw && (strcmp(w, "-n") == 0 ||
	    strcmp(w, "--non-interactive") == 0))
		return 0;
	return 1;
}

/* The flags, split on blanks, each word quoted, into b->flags. */
static int
set_flags(struct sshconn *c, struct become *b, const char *flags,
    int has_pw)
{
	struct strbuf out;
	char *copy, *w, *save = NULL, *q;
	int r = 0, k;

	strbuf_init(&out);
	copy = xstrdup(flags != NULL ? flags : "");
	for (w = strtok_r(copy, " \t", &save); w != NULL && r == 0;
	    w = strtok_r(NULL, " \t", &save)) {
		if ((k = flag_ok(c, w, has_pw)) < 0 ||
		    (q = shquote(w, 1)) == NULL) {
			r = k < 0 ? k : bad_value(c, "sudo option", w);
			break;
		}
		if (k > 0)
			strbuf_addf(&out, " %s", q);
		free(q);
	}
	free(copy);
	b->flags = strbuf_steal(&out);
	return r;
}

static int
set_password(struct sshconn *c, struct become *b, const char *pw)
{
	size_t len;

	if (pw == NULL)
		return 0;
	if (strchr(pw, '\n') != NULL || strchr(pw, '\r') != NULL) {
		/* the password itself is never shown */
		sshconn_seterr(c, "%s: become: the password holds a line "
		    "break", sshconn_label(c));
		return ERR_INVAL;
	}
	len = strlen(pw);
	b->pw = secret_alloc(len + 2);
	memcpy(b->pw, pw, len);
	b->pw[len] = '\n';
	b->pwlen = len + 1;
	return 0;
}

static int
become_new(struct sshconn *c, const struct sshconn_become *in,
    struct become **out)
{
	struct become *b = xcalloc(1, sizeof(*b));
	const char *exe = in->exe != NULL ? in->exe : "sudo";
	const char *user = in->user != NULL ? in->user : "root";
	const char *sp = in->sftp_server;
	int r;

	*out = b;
	if (*exe == '\0' || (b->exe = shquote(exe, 1)) == NULL ||
	    strpbrk(exe, " \t") != NULL)
		return bad_value(c, "sudo command", exe);
	if (*user == '\0' || *user == '-' ||
	    (b->quser = shquote(user, 1)) == NULL)
		return bad_value(c, "user", user);
	b->user = xstrdup(user);
	if (sp != NULL && (*sp != '/' || str_has_ctrl(sp)))
		return bad_value(c, "sftp-server path", sp);
	b->sftp_server = sp != NULL ? xstrdup(sp) : NULL;
	if ((r = set_flags(c, b, in->flags, in->password != NULL)) != 0)
		return r;
	return set_password(c, b, in->password);
}

int
sshconn_set_become(struct sshconn *c, const struct sshconn_become *in)
{
	struct become *b = NULL;
	int r;

	if (in != NULL && (r = become_new(c, in, &b)) != 0) {
		become_free(b);
		return r;
	}
	/* servers started the old way go; the next SFTP call starts anew */
	sshconn_set_deadline(c, 0);
	sshconn_detach(c);
	become_free(*sshconn_becomep(c));
	*sshconn_becomep(c) = b;
	return 0;
}

/* ---- the command line ---- */

/* "PREFIX" and 32 random hex digits. */
static int
token(struct sshconn *c, char *buf, const char *prefix)
{
	unsigned char rnd[16];
	size_t i, n;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		sshconn_seterr(c, "%s: become: no random bytes",
		    sshconn_label(c));
		return ERR_INTERNAL;
	}
	n = (size_t)snprintf(buf, BECOME_TOKEN, "%s", prefix);
	for (i = 0; i < sizeof(rnd) && n + 2 < BECOME_TOKEN; i++, n += 2)
		snprintf(buf + n, 3, "%02x", rnd[i]);
	return 0;
}

/*
 * What runs once sudo did: the command under sh, or the SFTP server (its
 * path looked for first when not known: br->find).
 */
static char *
inner_cmd(struct become *b, const char *cmd, struct become_run *br)
{
	char *q, *s;

	if (cmd != NULL) {
		q = shquote(cmd, 0);
		s = xasprintf("/bin/sh -c %s", q);
		free(q);
		return s;
	}
	if (b->sftp_server != NULL)
		return shquote(b->sftp_server, 0);
	br->find = 1;
	return xstrdup("\"$p\"");
}

/* What runs before the markers: the uid check, the sftp-server search. */
static char *
preamble(struct become *b, struct become_run *br)
{
	char *id, *q, *s;

	br->verify = !b->verified;
	if (!br->verify)
		id = xstrdup("");
	else if (b->user[0] == '#') {	/* sudo -u '#1000': the uid itself */
		q = shquote(b->user + 1, 1);
		id = xasprintf("id -u; echo %s; ", q);
		free(q);
	} else {
		id = xasprintf("id -u; id -u -- %s; ", b->quser);
	}
	s = xasprintf("%s%s", id, br->find ? "p=$(" FIND_SFTP_SERVER "); "
	    "echo \"$p\"; " : "");
	free(id);
	return s;
}

/* The command line running cmd through sudo, into *line. */
static int
become_cmd(struct sshconn *c, const char *cmd, struct become_run *br,
    char **line)
{
	struct become *b = *sshconn_becomep(c);
	char *inner, *pre, *script, *qs, *auth, *qp;
	int r;

	*line = NULL;
	if ((r = token(c, br->marker, "BECOME-")) != 0 ||
	    (r = token(c, br->prompt, "pemrotate-sudo-")) != 0)
		return r;
	inner = inner_cmd(b, cmd, br);
	pre = preamble(b, br);
	script = xasprintf("%secho %s; echo %s >&2; exec %s", pre,
	    br->marker, br->marker, inner);
	free(pre);
	qs = shquote(script, 0);
	qp = shquote(br->prompt, 1);
	auth = b->pw != NULL ? xasprintf("-S -p %s", qp) : xstrdup("-n");
	*line = xasprintf("%s%s %s -u %s -- /bin/sh -c %s", b->exe,
	    b->flags, auth, b->quser, qs);
	free(auth);
	free(qp);
	free(qs);
	free(script);
	free(inner);
	return 0;
}

void
become_run_clear(struct become_run *br)
{
	strbuf_free(&br->o);
	strbuf_free(&br->e);
	memset(br, 0, sizeof(*br));
}

/* ---- sudo's side of the channel ---- */

/* Where s (n bytes) is in b between off and end, or -1. */
static long
find(const struct strbuf *b, size_t off, size_t end, const char *s,
    size_t n)
{
	const char *p = b->s + off, *q;

	if (end > b->len)
		end = b->len;
	while (off < end && end - off >= n &&
	    (q = memchr(p, s[0], end - off - n + 1)) != NULL) {
		if (memcmp(q, s, n) == 0)
			return q - b->s;
		p = q + 1;
		off = (size_t)(p - b->s);
	}
	return -1;
}

/* Where the marker's line starts in b, or -1 if it has not come. */
static long
marker_at(const struct strbuf *b, const char *marker)
{
	char line[BECOME_TOKEN + 1];
	int n = snprintf(line, sizeof(line), "%s\n", marker);

	return find(b, 0, b->len, line, (size_t)n);
}

static int
send_password(struct sshconn *c, LIBSSH2_CHANNEL *ch, const struct become *b)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->pwlen) {
		SSHCONN_CALL(c, n, libssh2_channel_write(ch, b->pw + off,
		    b->pwlen - off));
		if (n < 0)
			return sshconn_seterr_lib(c, sshconn_lib_err((int)n),
			    "sudo password");
		off += (size_t)n;
	}
	return 0;
}

/*
 * The prompts in sudo's part of stderr (up to end: the command's part
 * never is answered): the first gets the password, a second means sudo
 * refused it.
 */
static int
answer(struct sshconn *c, LIBSSH2_CHANNEL *ch, struct become_run *br,
    size_t end)
{
	const struct become *b = *sshconn_becomep(c);
	size_t n = strlen(br->prompt);
	long at;
	int r;

	while (!br->again &&
	    (at = find(&br->e, br->seen, end, br->prompt, n)) >= 0) {
		br->seen = (size_t)at + n;
		if (br->answered || b->pw == NULL) {
			br->again = 1;
			break;
		}
		if ((r = send_password(c, ch, b)) != 0)
			return r;
		br->answered = 1;
	}
	return 0;
}

/* What sudo said on stderr, without its prompts, escaped; caller frees. */
static char *
sudo_said(const struct become_run *br)
{
	struct strbuf t;
	size_t n = strlen(br->prompt), i = 0;
	long at;
	char *safe;

	strbuf_init(&t);
	while ((at = find(&br->e, i, br->e.len, br->prompt, n)) >= 0) {
		strbuf_add(&t, br->e.s + i, (size_t)at - i);
		i = (size_t)at + n;
	}
	strbuf_add(&t, br->e.s + i, br->e.len - i);
	while (t.len > 0 && (t.s[t.len - 1] == '\n' ||
	    t.s[t.len - 1] == ' '))
		t.s[--t.len] = '\0';
	safe = str_printable(t.s, 240);
	strbuf_free(&t);
	return safe;
}

/*
 * sudo -n says "a password is required" both to a user who needs one and
 * to a user who may not use sudo at all; sudo -n -v tells them apart.
 */
static const char *
diagnose(struct sshconn *c, const struct become *b)
{
	struct sshconn_result res;
	char *cmd = xasprintf("%s -n -v", b->exe);
	const char *why = "sudo needs a password and none was given";

	if (sshconn_run(c, cmd, 0, 4096, &res) != 0)
		why = "sudo needs a password and none was given, or the login "
		    "user may not use sudo";
	else if (strstr(res.err, "may not run sudo") != NULL ||
	    strstr(res.err, "not in the sudoers") != NULL)
		why = "the login user may not use sudo";
	sshconn_result_clear(&res);
	free(cmd);
	return why;
}

static const char *
why_refused(struct sshconn *c, const struct become *b,
    const struct become_run *br, const char *said)
{
	if (br->again || strstr(said, "incorrect password") != NULL)
		return b->pw != NULL ? "the sudo password was refused" :
		    "sudo asked for a password and none was given";
	if (strstr(said, "not in the sudoers") != NULL ||
	    strstr(said, "may not run sudo") != NULL)
		return "the login user may not use sudo";
	if (strstr(said, "is not allowed to execute") != NULL)
		return "the login user may not run commands as the target "
		    "user with sudo";
	if (strstr(said, "password is required") != NULL)
		return diagnose(c, b);
	if (strstr(said, "must have a tty") != NULL)
		return "sudo wants a terminal (requiretty)";
	if (strstr(said, "not found") != NULL)
		return "sudo, or the shell under it, was not found";
	return "sudo did not run the command";
}

/* sudo did not start the command: why, and what it said. */
static int
refused(struct sshconn *c, int code, const struct become_run *br,
    const char *why)
{
	const struct become *b = *sshconn_becomep(c);
	char *said = sudo_said(br);

	if (why == NULL)
		why = why_refused(c, b, br, said);
	sshconn_seterr(c, "%s: become %s with sudo: %s%s%s", sshconn_label(c),
	    b->user, why, *said ? "; sudo said: " : "", said);
	free(said);
	return code;
}

/* Read what came on both streams; *got: whether anything did. */
static int
read_both(struct sshconn *c, LIBSSH2_CHANNEL *ch, struct become_run *br,
    int *got)
{
	char buf[8192];
	ssize_t n, m;

	n = libssh2_channel_read(ch, buf, sizeof(buf));
	if (n > 0)
		strbuf_add(&br->o, buf, (size_t)n);
	m = libssh2_channel_read_stderr(ch, buf, sizeof(buf));
	if (m > 0)
		strbuf_add(&br->e, buf, (size_t)m);
	*got = n > 0 || m > 0;
	if ((n < 0 && n != LIBSSH2_ERROR_EAGAIN) ||
	    (m < 0 && m != LIBSSH2_ERROR_EAGAIN))
		return sshconn_seterr_lib(c, sshconn_lib_err((int)(n < 0 ?
		    n : m)), "sudo");
	return 0;
}

/* Keep what followed the marker line at at. */
static void
cut(struct strbuf *b, long at, const char *marker)
{
	size_t skip = (size_t)at + strlen(marker) + 1;

	memmove(b->s, b->s + skip, b->len - skip);
	b->len -= skip;
	b->s[b->len] = '\0';
}

/* Line k (from 0) of the first end bytes of b, NUL-ended, or NULL. */
static char *
line_of(const struct strbuf *b, size_t end, int k)
{
	const char *p = b->s, *e = b->s + end, *nl;

	for (;;) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			return NULL;
		if (k-- == 0)
			return xstrndup(p, (size_t)(nl - p));
		p = nl + 1;
	}
}

/*
 * What the preamble printed before the marker (end bytes of stdout):
 * `id -u` and the target's uid, which must agree (br->verify), then the
 * sftp-server path, empty if none was found (br->find).
 */
static int
check_preamble(struct sshconn *c, struct become_run *br, size_t end)
{
	struct become *b = *sshconn_becomep(c);
	char *u1 = NULL, *u2 = NULL, *path = NULL, *said;
	int r = 0;

	if (br->verify) {
		u1 = line_of(&br->o, end, 0);
		u2 = line_of(&br->o, end, 1);
		if (u1 == NULL || u2 == NULL || *u1 == '\0' ||
		    strcmp(u1, u2) != 0) {
			said = str_printable(br->o.s, end < 200 ? end : 200);
			sshconn_seterr(c, "%s: become %s with sudo: `id -u` "
			    "through sudo did not print the uid of %s (it "
			    "printed: %s)", sshconn_label(c), b->user, b->user,
			    said);
			free(said);
			r = ERR_BECOME;
			goto out;
		}
		b->verified = 1;
	}
	if (br->find) {
		path = line_of(&br->o, end, br->verify ? 2 : 0);
		if (path == NULL || path[0] != '/' || str_has_ctrl(path)) {
			sshconn_seterr(c, "%s: become: no sftp-server found on "
			    "the host (usual places, sshd -T); name it "
			    "(pem_sftp_server)", sshconn_label(c));
			r = ERR_NOTFOUND;
			goto out;
		}
		free(b->sftp_server);
		b->sftp_server = path;
		path = NULL;
	}
 out:
	free(u1);
	free(u2);
	free(path);
	return r;
}

/* Until sudo ran the command (both markers came), or refused. */
static int
become_start(struct sshconn *c, LIBSSH2_CHANNEL *ch, struct become_run *br)
{
	long ao, ae;
	int r, got;

	for (;;) {
		if ((r = read_both(c, ch, br, &got)) != 0)
			return r;
		ao = marker_at(&br->o, br->marker);
		ae = marker_at(&br->e, br->marker);
		if ((r = answer(c, ch, br, ae >= 0 ? (size_t)ae :
		    br->e.len)) != 0)
			return r;
		if (ao >= 0 && ae >= 0) {
			if ((r = check_preamble(c, br, (size_t)ao)) != 0)
				return r;
			cut(&br->o, ao, br->marker);
			cut(&br->e, ae, br->marker);
			return 0;
		}
		if (br->again)
			return refused(c, ERR_BECOME, br, NULL);
		if ((ao < 0 && br->o.len > BECOME_MAX) ||
		    (ae < 0 && br->e.len > BECOME_MAX))
			return refused(c, ERR_BECOME, br, "sudo said more "
			    "than 16 KiB before the command started");
		if (got)
			continue;
		if (libssh2_channel_eof(ch))
			return refused(c, ERR_BECOME, br, NULL);
		if (sshconn_wait(c) != 0)
			return refused(c, ERR_TIMEOUT, br, "timed out waiting "
			    "for sudo to start the command");
	}
}

int
become_exec(struct sshconn *c, LIBSSH2_CHANNEL *ch, const char *cmd,
    int eof, struct become_run *br)
{
	char *line = NULL;
	int r;

	memset(br, 0, sizeof(*br));
	strbuf_init(&br->o);
	strbuf_init(&br->e);
	if ((r = become_cmd(c, cmd, br, &line)) != 0)
		goto out;
	SSHCONN_CALL(c, r, libssh2_channel_exec(ch, line));
	if (r != 0) {
		r = sshconn_seterr_lib(c, sshconn_lib_err(r), "exec");
		goto out;
	}
	if ((r = become_start(c, ch, br)) != 0 || !eof)
		goto out;
	SSHCONN_CALL(c, r, libssh2_channel_send_eof(ch));
	if (r != 0)
		r = sshconn_seterr_lib(c, sshconn_lib_err(r), "exec");
 out:
	free(line);
	return r;
}
