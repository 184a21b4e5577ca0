/*
 * postmaster.c: the PostgreSQL server of a host, from that host's kernel
 * (see postmaster.h).
 *
 * Reads go over SFTP (/proc files and links, byte-exact), plus one find(1)
 * over /proc/PID/fd and, for a systemd unit, one systemctl.  The process
 * table belongs to the host's users: every line is checked against what
 * the kernel writes and anything else is refused, never guessed at.
 */
#include "postmaster.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "transport/sftp.h"
#include "transport/sshconn.h"

#define PROC_TEXT_MAX	(16 * 1024 * 1024)	/* tcp of a busy host */
#define PROC_SMALL_MAX	(64 * 1024)
#define MAX_HOLDERS	16
#define MAX_INODES	16
#define MAX_DEPTH	32
#define LINE_MAX_LEN	512

/* ---- parsers ---- */

static int
all_in(const char *s, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return n > 0;
}

#define HEX	"0123456789ABCDEFabcdef"
#define DIGITS	"0123456789"

/*
 * One line of /proc/net/tcp(6): "sl: local remote st tx:rx tr:when
 * retrnsmt uid timeout inode ...".  Its local port, state and inode.
 */
static int
tcp_line(char *line, int *port, int *state, unsigned long *inode)
{
	char *f[10], *save = NULL, *p;
	size_t i, alen;

	for (i = 0, p = line; i < 10; i++, p = NULL)
		if ((f[i] = strtok_r(p, " \t", &save)) == NULL)
			return ERR_PARSE;
	alen = strcspn(f[1], ":");
	if (strlen(f[0]) < 2 || f[0][strlen(f[0]) - 1] != ':' ||
	    !all_in(f[0], strlen(f[0]) - 1, DIGITS) ||
	    (alen != 8 && alen != 32) || !all_in(f[1], alen, HEX) ||
	    f[1][alen] != ':' || strlen(f[1] + alen + 1) != 4 ||
	    !all_in(f[1] + alen + 1, 4, HEX) || strlen(f[3]) != 2 ||
	    !all_in(f[3], 2, HEX) || strlen(f[9]) > 20 ||
	    !all_in(f[9], strlen(f[9]), DIGITS))
		return ERR_PARSE;
	*port = (int)strtol(f[1] + alen + 1, NULL, 16);
	*state = (int)strtol(f[3], NULL, 16);
	*inode = strtoul(f[9], NULL, 10);
	return 0;
}

/* Each line of text in turn into buf (NUL-terminated); 0 at the end. */
static int
next_line(const char **text, char *buf, size_t len, int *toolong)
{
	const char *s = *text;
	size_t n;

	if (*s == '\0')
		return 0;
	n = strcspn(s, "\n");
	*toolong = n >= len;
	if (!*toolong) {
		memcpy(buf, s, n);
		buf[n] = '\0';
	}
	*text = s + n + (s[n] == '\n');
	return 1;
}

int
postmaster_listen_inodes(const char *text, int port, unsigned long *ino,
    size_t max, size_t *n)
{
	char line[LINE_MAX_LEN];
	unsigned long inode;
	int lineno = 0, toolong, lport, state;

	while (next_line(&text, line, sizeof(line), &toolong)) {
		if (++lineno == 1)
			continue;	/* the header */
		if (toolong || tcp_line(line, &lport, &state, &inode) != 0)
			return ERR_PARSE;
		if (lport != port || state != 0x0A || inode == 0)
			continue;	/* 0x0A: TCP_LISTEN */
		if (*n >= max)
			return ERR_TOOBIG;
		ino[(*n)++] = inode;
	}
	return lineno > 0 ? 0 : ERR_PARSE;
}

int
postmaster_fd_pids(const char *text, long *pids, size_t max, size_t *n)
{
	char line[LINE_MAX_LEN], *p;
	size_t i, d;
	long pid;
	int toolong;

	*n = 0;
	while (next_line(&text, line, sizeof(line), &toolong)) {
		if (toolong || strncmp(line, "/proc/", 6) != 0)
			return ERR_PARSE;
		p = line + 6;
		d = strspn(p, DIGITS);
		if (d == 0 || d > 9 || strncmp(p + d, "/fd/", 4) != 0 ||
		    p[d + 4] == '\0' || !all_in(p + d + 4, strlen(p + d + 4),
		    DIGITS))
			return ERR_PARSE;
		p[d] = '\0';
		if (!str_to_posint(p, 999999999L, &pid))
			return ERR_PARSE;
		for (i = 0; i < *n && pids[i] != pid; i++)
			;
		if (i < *n)
			continue;
		if (*n >= max)
			return ERR_TOOBIG;
		pids[(*n)++] = pid;
	}
	return 0;
}

/* "Key:<blanks>digits..." of a status line: the first number. */
static int
status_num(const char *line, const char *key, long *out, int *seen)
{
	size_t k = strlen(key);
	char num[24];
	size_t d;

	if (strncmp(line, key, k) != 0)
		return 0;
	if (*seen)
		return ERR_PARSE;	/* the kernel writes each once */
	*seen = 1;
	line += k;
	line += strspn(line, " \t");
	d = strspn(line, DIGITS);
	if (d == 0 || d >= sizeof(num))
		return ERR_PARSE;
	memcpy(num, line, d);
	num[d] = '\0';
	*out = strtol(num, NULL, 10);
	return 0;
}

int
postmaster_status_ids(const char *text, long *ppid, long *uid, long *gid)
{
	char line[LINE_MAX_LEN];
	int toolong, s_ppid = 0, s_uid = 0, s_gid = 0;

	while (next_line(&text, line, sizeof(line), &toolong)) {
		if (toolong)
			continue;	/* not one of ours */
		if (status_num(line, "PPid:", ppid, &s_ppid) != 0 ||
		    status_num(line, "Uid:", uid, &s_uid) != 0 ||
		    status_num(line, "Gid:", gid, &s_gid) != 0)
			return ERR_PARSE;
	}
	return s_ppid && s_uid && s_gid ? 0 : ERR_PARSE;
}

/* The characters systemd allows in a unit name ("\x2d" escapes too). */
#define UNIT_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	DIGITS ":-_.\\@"

static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && memcmp(s + n - k, suffix, k) == 0;
}

/*
 * The service of a cgroup path: "/system.slice/[X.slice/...]NAME.service
 * [/...]".  0 with *unit NULL when the path is not in one.
 */
static int
path_unit(const char *path, char **unit)
{
	const char *p;
	size_t n;

	*unit = NULL;
	if (strncmp(path, "/system.slice/", 14) != 0)
		return 0;
	for (p = path + 14;; p += n + 1) {
		n = strcspn(p, "/");
		if (n == 0 || !ends_with(p, n, ".slice"))
			break;
		if (p[n] == '\0')
			return 0;
	}
	if (!ends_with(p, n, ".service"))
		return 0;
	if (n > 256 || !all_in(p, n, UNIT_CHARS))
		return ERR_PARSE;
	*unit = xstrndup(p, n);
	return 0;
}

int
postmaster_cgroup_unit(const char *text, char **unit)
{
	char line[4096], *ctl, *path, *v1 = NULL, *v2 = NULL;
	int toolong, r;

	*unit = NULL;
	while (next_line(&text, line, sizeof(line), &toolong)) {
		if (toolong || (ctl = strchr(line, ':')) == NULL ||
		    (path = strchr(ctl + 1, ':')) == NULL ||
		    !all_in(line, (size_t)(ctl - line), DIGITS) ||
		    path[1] != '/')
			return ERR_PARSE;
		*ctl++ = '\0';
		*path++ = '\0';
		if (strcmp(line, "0") == 0 && *ctl == '\0' && v2 == NULL)
			v2 = xstrdup(path);
		else if (strcmp(ctl, "name=systemd") == 0 && v1 == NULL)
			v1 = xstrdup(path);
	}
	r = v1 != NULL || v2 != NULL ? path_unit(v1 ? v1 : v2, unit) : 0;
	if (r == 0 && *unit == NULL && v1 != NULL && v2 != NULL)
		r = path_unit(v2, unit);
	free(v1);
	free(v2);
	return r;
}

int
postmaster_unit_is_pg(const char *unit)
{
	static const char *const contains[] = { "postgres", "edb-as", "pem" };
	char *low = xstrdup(unit), *p;
	size_t i;
	int yes;

	for (p = low; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	yes = strncmp(low, "pg", 2) == 0;
	for (i = 0; !yes && i < sizeof(contains) / sizeof(contains[0]); i++)
		yes = strstr(low, contains[i]) != NULL;
	free(low);
	return yes;
}

char *
postmaster_pgctl_cmd(const struct postmaster *pm, int timeout_s)
{
	const char *slash = strrchr(pm->exe, '/');
	char *pgctl, *log, *qp, *qd, *ql, *cmd = NULL;

	if (slash == NULL)
		return NULL;
	pgctl = xasprintf("%.*s/pg_ctl", (int)(slash - pm->exe), pm->exe);
	log = pm->log != NULL ? xstrdup(pm->log) :
	    xasprintf("%s/pemrotate-restart.log", pm->data_dir);
	qp = shquote(pgctl, 1);
	qd = shquote(pm->data_dir, 1);
	ql = shquote(log, 1);
	/* pg_ctl -l: else the postmaster holds the SSH channel open */
	if (qp != NULL && qd != NULL && ql != NULL)
		cmd = xasprintf("cd / && setpriv --reuid=%ld --regid=%ld "
		    "--init-groups -- %s restart -D %s -m fast -w -t %d -l %s "
		    ">/dev/null </dev/null", pm->uid, pm->gid, qp, qd,
		    timeout_s, ql);
	free(qp);
	free(qd);
	free(ql);
	free(pgctl);
	free(log);
	return cmd;
}

/* ---- reading the host's /proc ---- */

static int
fail(char **msg, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Leave the message in *msg (the last one wins); return rc. */
static int
fail(char **msg, int rc, const char *fmt, ...)
{
	va_list ap;

	free(*msg);
	va_start(ap, fmt);
	*msg = xvasprintf(fmt, ap);
	va_end(ap);
	return rc;
}

/* A /proc file as text (no NUL inside). */
static int
proc_text(struct sshconn *c, const char *path, size_t max, char **text,
    char **msg)
{
	size_t len;
	int rc;

	*text = NULL;
	if ((rc = sftp_read_file(c, path, max, 0, text, &len)) != 0)
		return fail(msg, rc, "read %s: %s", path, sshconn_errmsg(c));
	if (strlen(*text) != len) {
		free(*text);
		*text = NULL;
		return fail(msg, ERR_PARSE, "%s holds a NUL byte", path);
	}
	return 0;
}

/* The target of /proc/PID/NAME, " (deleted)" cut off (and *deleted set). */
static int
proc_link(struct sshconn *c, long pid, const char *name, char **out,
    int *deleted)
{
	char *path = xasprintf("/proc/%ld/%s", pid, name);
	size_t n;
	int rc;

	rc = sftp_readlink(c, path, out);
	free(path);
	*deleted = 0;
	if (rc != 0)
		return rc;
	n = strlen(*out);
	if (n > 10 && strcmp(*out + n - 10, " (deleted)") == 0) {
		(*out)[n - 10] = '\0';
		*deleted = 1;
	}
	return 0;
}

static int
proc_status(struct sshconn *c, long pid, long *ppid, long *uid, long *gid,
    char **msg)
{
	char *path = xasprintf("/proc/%ld/status", pid), *text;
	int rc;

	if ((rc = proc_text(c, path, PROC_SMALL_MAX, &text, msg)) == 0
	    && (rc = postmaster_status_ids(text, ppid, uid, gid)) != 0)
		fail(msg, rc, "%s: no PPid, Uid and Gid lines as the kernel "
		    "writes them", path);
	free(text);
	free(path);
	return rc;
}

/* The LISTEN sockets on port, from tcp and tcp6 (which may be absent). */
static int
listen_inodes(struct sshconn *c, int port, unsigned long *ino, size_t *n,
    char **msg)
{
	static const char *const files[2] = { "/proc/net/tcp",
	    "/proc/net/tcp6" };
	char *text;
	int i, rc;

	*n = 0;
	for (i = 0; i < 2; i++) {
		rc = proc_text(c, files[i], PROC_TEXT_MAX, &text, msg);
		if (rc == ERR_NOTFOUND && i == 1) {
			free(*msg);	/* no IPv6 */
			*msg = NULL;
			return 0;
		}
		if (rc != 0)
			return rc;
		rc = postmaster_listen_inodes(text, port, ino, MAX_INODES, n);
		free(text);
		if (rc != 0)
			return fail(msg, rc, "%s: %s", files[i],
			    rc == ERR_TOOBIG ? "too many sockets listen on "
			    "the port" : "a line is not what the kernel "
			    "writes");
	}
	return 0;
}

/* The processes holding one of the sockets: find over /proc/PID/fd. */
static int
socket_holders(struct sshconn *c, const unsigned long *ino, size_t nino,
    long *pids, size_t *n, char **msg)
{
	struct sshconn_result res;
	struct strbuf b;
	size_t i;
	int rc;

	strbuf_init(&b);
	strbuf_adds(&b, "find /proc/[0-9]*/fd -maxdepth 1 -type l \\(");
	for (i = 0; i < nino; i++)
		strbuf_addf(&b, "%s -lname 'socket:\\[%lu\\]'", i ? " -o" : "",
		    ino[i]);
	strbuf_adds(&b, " \\) -print 2>/dev/null; exit 0\n");
	rc = sshconn_exec(c, b.s, 0, 0, &res);
	strbuf_free(&b);
	if (rc != 0)
		return fail(msg, rc, "look for the listening "
		    "process: %s", sshconn_errmsg(c));
	if (res.truncated ||
	    (rc = postmaster_fd_pids(res.out ? res.out : "", pids,
	    MAX_HOLDERS, n)) != 0)
		rc = fail(msg, ERR_PARSE, "look for the listening "
		    "process: find printed what is not a /proc/PID/fd/N line");
	sshconn_result_clear(&res);
	return rc;
}

/*
 * The postmaster of a process holding the socket: the oldest ancestor
 * running the same binary (a backend forked just now holds it too).
 */
static int
climb(struct sshconn *c, long pid, const char *exe, long *top, char **msg)
{
	long ppid, uid, gid;
	char *pexe;
	int depth, rc, del;

	*top = pid;
	for (depth = 0; depth < MAX_DEPTH; depth++) {
		if ((rc = proc_status(c, *top, &ppid, &uid, &gid, msg)) != 0)
			return rc;
		if (ppid <= 1 || proc_link(c, ppid, "exe", &pexe, &del) != 0)
			return 0;
		rc = strcmp(pexe, exe);
		free(pexe);
		if (rc != 0)
			return 0;
		*top = ppid;
	}
	return 0;
}

/* The one postmaster behind every holder of the sockets. */
static int
pick_postmaster(struct sshconn *c, int port, const long *pids, size_t n,
    struct postmaster *pm, char **msg)
{
	char *exe = NULL;
	size_t i;
	long top;
	int rc, del;

	for (i = 0; i < n; i++) {
		if ((rc = proc_link(c, pids[i], "exe", &exe, &del)) != 0)
			return fail(msg, rc, "the binary of pid %ld, "
			    "listening on port %d: %s", pids[i], port,
			    sshconn_errmsg(c));
		rc = climb(c, pids[i], exe, &top, msg);
		if (rc == 0 && pm->pid != 0 && pm->pid != top)
			rc = fail(msg, ERR_MISMATCH, "two processes "
			    "listen on port %d (pids %ld and %ld)", port,
			    pm->pid, top);
		if (rc != 0) {
			free(exe);
			return rc;
		}
		free(pm->exe);
		pm->exe = exe;
		pm->pid = top;
	}
	return 0;
}

/* Its binary, ids, working directory, stderr and cgroup. */
static int
postmaster_facts(struct sshconn *c, int port, struct postmaster *pm,
    char **msg)
{
	const char *base;
	char *path, *text = NULL;
	long ppid;
	int rc, del;

	free(pm->exe);
	if ((rc = proc_link(c, pm->pid, "exe", &pm->exe, &del)) != 0)
		return fail(msg, rc, "the binary of pid %ld: %s",
		    pm->pid, sshconn_errmsg(c));
	base = strrchr(pm->exe, '/');
	if (pm->exe[0] != '/' || str_has_ctrl(pm->exe) || base == NULL ||
	    (strstr(base, "postgres") == NULL &&
	    strstr(base, "postmaster") == NULL)) {
		text = str_printable(pm->exe, 200);
		rc = fail(msg, ERR_MISMATCH, "the process listening "
		    "on port %d (pid %ld) runs %s, not PostgreSQL", port,
		    pm->pid, text);
		free(text);
		return rc;
	}
	if ((rc = proc_status(c, pm->pid, &ppid, &pm->uid, &pm->gid, msg)) != 0)
		return rc;
	if ((rc = proc_link(c, pm->pid, "cwd", &pm->data_dir, &del)) != 0)
		return fail(msg, rc, "the working directory of the "
		    "postmaster (pid %ld): %s", pm->pid, sshconn_errmsg(c));
	if (del || pm->data_dir[0] != '/' || str_has_ctrl(pm->data_dir))
		return fail(msg, ERR_PARSE, "the postmaster (pid %ld) "
		    "runs in no usable directory", pm->pid);
	if (proc_link(c, pm->pid, "fd/2", &pm->log, &del) != 0 || del ||
	    pm->log[0] != '/' || strncmp(pm->log, "/dev/", 5) == 0 ||
	    str_has_ctrl(pm->log)) {
		free(pm->log);
		pm->log = NULL;
	}
	path = xasprintf("/proc/%ld/cgroup", pm->pid);
	if ((rc = proc_text(c, path, PROC_SMALL_MAX, &text, msg)) == 0 &&
	    (rc = postmaster_cgroup_unit(text, &pm->unit)) != 0)
		fail(msg, rc, "%s: a line is not what the kernel writes",
		    path);
	free(text);
	free(path);
	return rc;
}

/* What PostgreSQL itself insists on: it runs as its directory's owner. */
static int
check_owner(struct sshconn *c, const struct postmaster *pm, char **msg)
{
	struct sftp_stat st;
	int rc;

	if (pm->uid == 0)
		return fail(msg, ERR_UNSAFE, "the postmaster (pid %ld) "
		    "runs as root", pm->pid);
	if ((rc = sftp_stat(c, pm->data_dir, &st)) != 0)
		return fail(msg, rc, "the postmaster's directory: %s",
		    sshconn_errmsg(c));
	if (!st.is_dir || !st.owner_known || (long)st.uid != pm->uid)
		return fail(msg, ERR_MISMATCH, "the postmaster (pid "
		    "%ld, uid %ld) runs in %s, which is not a directory it "
		    "owns", pm->pid, pm->uid, pm->data_dir);
	return 0;
}

int
postmaster_find(struct sshconn *c, int port, struct postmaster *pm,
    char **msg)
{
	unsigned long ino[MAX_INODES];
	long pids[MAX_HOLDERS];
	size_t nino, n;
	int rc;

	memset(pm, 0, sizeof(*pm));
	*msg = NULL;
	if ((rc = listen_inodes(c, port, ino, &nino, msg)) != 0)
		goto out;
	if (nino == 0) {
		rc = fail(msg, ERR_NOTFOUND, "nothing listens on TCP "
		    "port %d", port);
		goto out;
	}
	if ((rc = socket_holders(c, ino, nino, pids, &n, msg)) != 0)
		goto out;
	if (n == 0) {
		rc = fail(msg, ERR_NOTFOUND, "no process holds the "
		    "socket listening on TCP port %d", port);
		goto out;
	}
	if ((rc = pick_postmaster(c, port, pids, n, pm, msg)) != 0 ||
	    (rc = postmaster_facts(c, port, pm, msg)) != 0)
		goto out;
	rc = check_owner(c, pm, msg);
 out:
	if (rc != 0)
		postmaster_clear(pm);
	return rc;
}

/* systemd's MainPID of unit, asked over c. */
static int
unit_main_pid(struct sshconn *c, const char *unit, long *pid, char **msg)
{
	struct sshconn_result res;
	char *q = shquote(unit, 1), *cmd, *shown;
	int rc;

	cmd = xasprintf("systemctl show -p MainPID --value %s", q);
	free(q);
	rc = sshconn_exec(c, cmd, 4096, 0, &res);
	free(cmd);
	if (rc != 0)
		return fail(msg, rc, "%s", sshconn_errmsg(c));
	if (res.out != NULL)
		res.out[strcspn(res.out, "\n")] = '\0';
	if (res.exit_status == 0 && res.out != NULL &&
	    str_to_posint(res.out, 999999999L, pid)) {
		sshconn_result_clear(&res);
		return 0;
	}
	shown = str_printable(res.err_len ? res.err : res.out ? res.out : "",
	    200);
	rc = fail(msg, ERR_UNSAFE, "systemctl show -p MainPID %s: "
	    "exit status %d%s%s", unit, res.exit_status, *shown ? ": " : "",
	    shown);
	free(shown);
	sshconn_result_clear(&res);
	return rc;
}

int
postmaster_restart_cmd(struct sshconn *c, const struct postmaster *pm,
    int timeout_s, char **cmd, char **msg)
{
	char *q;
	long main_pid = 0;
	int rc;

	*cmd = NULL;
	*msg = NULL;
	if (pm->unit == NULL) {
		if ((*cmd = postmaster_pgctl_cmd(pm, timeout_s)) == NULL)
			return fail(msg, ERR_INVAL, "a path of the "
			    "postmaster holds a control character");
		return 0;
	}
	if (!postmaster_unit_is_pg(pm->unit))
		return fail(msg, ERR_UNSAFE, "the postmaster (pid %ld) "
		    "runs in systemd unit %s, which is not a PostgreSQL "
		    "service: refusing to restart it", pm->pid, pm->unit);
	if ((rc = unit_main_pid(c, pm->unit, &main_pid, msg)) != 0)
		return rc;
	if (main_pid != pm->pid)
		return fail(msg, ERR_UNSAFE, "the postmaster (pid %ld) "
		    "runs in systemd unit %s, whose MainPID is %ld: refusing "
		    "to restart it", pm->pid, pm->unit, main_pid);
	q = shquote(pm->unit, 1);
	*cmd = xasprintf("systemctl restart %s", q);
	free(q);
	return 0;
}

void
postmaster_clear(struct postmaster *pm)
{
	if (pm == NULL)
		return;
	free(pm->exe);
	free(pm->data_dir);
	free(pm->log);
	free(pm->unit);
	memset(pm, 0, sizeof(*pm));
}
