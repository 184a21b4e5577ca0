/*
 * access.c: how each host is reached -- the SSH client configuration and
 * the inventory resolved per host, jump hosts shared by the hosts behind
 * them, sudo, the database tunnel.
 */
#include "access.h"

#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/inventory.h"
#include "inventory/pemdb.h"
#include "keys.h"
#include "options.h"
#include "transport/jump.h"
#include "transport/knownhosts.h"
#include "transport/sshconfig.h"

#define BECOME_PASS_MAX	1024

/*
 * A jump host: one session, wrapped in a jump, for every host behind it;
 * resolved on the main thread (access_host), opened by the first worker
 * that needs it.
 */
struct jump_entry {
	char *key;		/* "user@host:port" of every hop so far */
	struct jump_entry *before;	/* the hop before, or NULL */
	struct sshconfig_host *sh;	/* the hop as the config says */
	struct sshconn_opts so;
	struct sshconn_key *keys;
	char *label;
	char *known_lines;	/* its known_hosts entries */
	int state;		/* JS_* */
	int rc;			/* JS_FAILED: why */
	char *msg;
	struct jump *j;
	struct jump_entry *next;
};
enum { JS_NEW = 0, JS_OPENING, JS_OPEN, JS_FAILED };

/* A set of known_hosts files, loaded once. */
struct kh_entry {
	char *key;		/* the paths, '\n' between */
	struct known_hosts *kh;
	struct kh_entry *next;
};

struct access {
	struct sshconfig *cfg;		/* the files read, maybe none */
	char *become_pass;		/* -K, secret_alloc, or NULL */
	pthread_mutex_t mu;		/* guards jumps */
	pthread_cond_t cv;		/* a jump was opened or failed */
	struct jump_entry *jumps;	/* opened in this order */
	struct kh_entry *khs;
	struct jump *db_jump;		/* pem_db_tunnel=server's session */
	char *db_lhost;			/* the tunnel's local end */
	int db_lport;
};

/* Per host: what access_host resolved. */
struct host_access {
	struct sshconfig_host *sh;
	struct sshconfig_args *args;
	int become;
	struct sshconn_become b;
	char *become_flags;
	struct sshconn_key *keys;
	size_t nkeys;
	struct jump_entry *jump;	/* the last hop, or NULL */
};

static int resolve_jumps(struct run *r, const struct sshconfig_host *sh,
    struct jump_entry **last, char **msg);

/* ---- set-up ---- */

/*
 * The sudo password: from the terminal with echo off, or, when standard
 * input is not a terminal, its first line (as sudo -S reads it).
 */
static char *
ask_password(const char *prompt)
{
	struct termios t, saved;
	char *buf = secret_alloc(BECOME_PASS_MAX);
	int fd = STDIN_FILENO, echo_off = 0;
	size_t n = 0;
	char c;

	if (isatty(STDIN_FILENO) &&
	    (fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1)
		fd = STDIN_FILENO;
	if (tcgetattr(fd, &saved) == 0) {
		t = saved;
		t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		echo_off = tcsetattr(fd, TCSAFLUSH, &t) == 0;
	}
	/* nowhere to say it: read anyway */
	(void)!write(fd == STDIN_FILENO ? STDERR_FILENO : fd, prompt,
	    strlen(prompt));
	while (read(fd, &c, 1) == 1 && c != '\n' && c != '\r') {
		if (n + 1 < BECOME_PASS_MAX)
			buf[n++] = c;
	}
	c = 0;
	buf[n] = '\0';
	if (echo_off) {
		tcsetattr(fd, TCSAFLUSH, &saved);
		(void)!write(fd, "\n", 1);
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return buf;
}

int
access_setup(struct run *r, char **msg)
{
	struct access *ax = xcalloc(1, sizeof(*ax));
	const char *path = r->o->ssh_config;
	int rc;

	*msg = NULL;
	pthread_mutex_init(&ax->mu, NULL);
	pthread_cond_init(&ax->cv, NULL);
	r->ax = ax;
	/* "none" reads no file, but knows ~ and the local user */
	if ((rc = sshconfig_load(path, NULL, &ax->cfg, msg)) != 0)
		return rc;
	if (r->o->ask_become_pass)
		ax->become_pass = ask_password("BECOME password: ");
	return 0;
}

/* ---- one host ---- */

/* Ansible's boolean: 1, 0, or -1 when it is neither. */
static int
ansible_bool(const char *v)
{
	static const char *const yes[] = { "y", "yes", "on", "1", "true",
	    "t" };
	static const char *const no[] = { "n", "no", "off", "0", "false",
	    "f" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	return -1;
}

static const char *
var(const struct run *r, const struct host *h, const char *name)
{
	return inventory_var(r->inv, h->inv_idx, name);
}

static int
host_become(struct run *r, struct host *h, struct host_access *ha,
    char **msg)
{
	const char *v, *method;
	int on = 0;

	if ((v = var(r, h, "ansible_become")) != NULL &&
	    (on = ansible_bool(v)) < 0) {
		*msg = xasprintf("ansible_become=%s: expected true or false",
		    v);
		return ERR_INVAL;
	}
	if (!on)
		return 0;
	method = var(r, h, "ansible_become_method");
	if (method != NULL && strcmp(method, "sudo") != 0) {
		*msg = xasprintf("ansible_become_method=%s: only sudo is "
		    "supported", method);
		return ERR_INVAL;
	}
	ha->become = 1;
	ha->b.exe = var(r, h, "ansible_become_exe");
	ha->b.flags = var(r, h, "ansible_become_flags");
	ha->b.user = var(r, h, "ansible_become_user");
	ha->b.password = var(r, h, "ansible_become_password");
	if (ha->b.password == NULL)
		ha->b.password = r->ax->become_pass;
	ha->b.sftp_server = var(r, h, "pem_sftp_server");
	return 0;
}

/*
 * The known_hosts files of sh into so (--known-hosts wins), loaded once
 * for every host that names them.
 */
static int
known_hosts_of(struct run *r, const struct sshconfig_host *sh,
    struct sshconn_opts *so, const struct known_hosts **out, char **msg)
{
	struct access *ax = r->ax;
	const char *user = r->o->known_hosts;
	const char *global = NULL;
	struct kh_entry *e;
	char *key;
	size_t i;
	int rc;

	if (user == NULL && sh->n_user_known_hosts > 0)
		user = sh->user_known_hosts[0];
	if (r->o->known_hosts == NULL)
		for (i = 0; i < sh->n_global_known_hosts && global == NULL;
		    i++)
			if (access(sh->global_known_hosts[i], F_OK) == 0)
				global = sh->global_known_hosts[i];
	if (user == NULL) {
		user = global != NULL ? global : "/dev/null";
		global = NULL;
	}
	key = xasprintf("%s\n%s", user, global ? global : "");
	for (e = ax->khs; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			break;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		rc = known_hosts_load(user, global, &e->kh, msg);
		if (rc != 0 && access(user, F_OK) != 0 && so->accept_new) {
			free(*msg);
			*msg = NULL;
			rc = known_hosts_load("/dev/null", NULL, &e->kh, msg);
		}
		if (rc != 0) {
			free(e);
			free(key);
			return rc;
		}
		e->key = key;
		e->next = ax->khs;
		ax->khs = e;
	} else {
		free(key);
	}
	*out = e->kh;
	so->known_hosts = user;
	so->known_hosts2 = global;
	return 0;
}

/*
 * The connection settings sh resolves to, but for the stream: user, port,
 * keys (the IdentityFiles that exist; *keys the caller's), ssh-agent,
 * host keys, timeouts.
 */
static int
settings_of(struct run *r, const struct sshconfig_host *sh, const char *label,
    const char *given, struct sshconn_opts *so, struct sshconn_key **keys,
    const struct known_hosts **kh, char **msg)
{
	size_t i, n = 0;
	const char *v;

	memset(so, 0, sizeof(*so));
	so->host = sh->hostname;
	so->port = sh->port;
	so->user = sh->user;
	so->use_agent = !sh->identities_only;
	so->accept_new = r->o->accept_new_host_keys ||
	    sh->strict == SSHCONFIG_STRICT_ACCEPT_NEW ||
	    sh->strict == SSHCONFIG_STRICT_NO;
	if (sh->strict == SSHCONFIG_STRICT_NO)
		log_warn("%s: StrictHostKeyChecking no: an unknown host key "
		    "is accepted and recorded; a changed one is still refused",
		    label);
	so->timeout_ms = r->o->timeout_s * 1000;
	if (sh->connect_timeout > 0)
		so->connect_timeout_ms = sh->connect_timeout * 1000;
	so->alive_interval_s = sh->server_alive_interval;
	*keys = xcalloc(sh->n_identity_files + 1, sizeof(**keys));
	/*
	 * ssh skips a key file that is missing; so do we, but for the one
	 * the inventory or --ssh-key gives (given): its failure is named
	 */
	for (i = 0; i < sh->n_identity_files; i++) {
		v = sh->identity_files[i];
		if (access(v, R_OK) != 0 && (given == NULL ||
		    strcmp(v, given) != 0))
			continue;
		(*keys)[n].file = v;
		(*keys)[n++].signer = keys_signer(r, v);
	}
	so->keys = *keys;
	so->nkeys = n;
	return known_hosts_of(r, sh, so, kh, msg);
}

int
access_host(struct run *r, struct host *h, char **msg)
{
	const struct inv_host *ih = h->inv;
	struct host_access *ha = xcalloc(1, sizeof(*ha));
	struct sshconfig_query q;
	int rc;

	*msg = NULL;
	h->ax = ha;
	rc = sshconfig_args_parse(var(r, h, "ansible_ssh_common_args"),
	    var(r, h, "ansible_ssh_extra_args"), &ha->args, msg);
	if (rc != 0)
		return rc;
	memset(&q, 0, sizeof(q));
	q.host = ih->address;
	q.user = ih->user;
	q.port = ih->port_given ? ih->port : 0;
	/* --ssh-key: as the inventory's key, when it names none */
	q.identity = ih->ssh_key != NULL ? ih->ssh_key : r->o->ssh_key;
	q.args = ha->args;
	if (sshconfig_args_config(ha->args) != NULL) {
		/* -F in the host's args: that file instead, as ssh does */
		struct sshconfig *own = NULL;

		rc = sshconfig_load(sshconfig_args_config(ha->args), NULL,
		    &own, msg);
		if (rc == 0)
			rc = sshconfig_resolve(own, &q, &ha->sh, msg);
		sshconfig_free(own);
	} else {
		rc = sshconfig_resolve(r->ax->cfg, &q, &ha->sh, msg);
	}
	if (rc != 0)
		return rc;
	if (ha->sh->proxy_command != NULL) {
		*msg = xasprintf("ProxyCommand %s: pemrotate runs no command "
		    "to connect; use ProxyJump", ha->sh->proxy_command);
		return ERR_INVAL;
	}
	rc = settings_of(r, ha->sh, h->label, q.identity, &h->so, &ha->keys,
	    &h->kh, msg);
	if (rc == 0 && ha->sh->n_jump > 0)
		rc = resolve_jumps(r, ha->sh, &ha->jump, msg);
	if (rc != 0)
		return rc;
	return host_become(r, h, ha, msg);
}

/* ---- jump hosts ---- */

/* "user@host:port,..." of the first n hops of sh's chain. */
static char *
chain_key(const struct sshconfig_host *sh, size_t n)
{
	struct strbuf b;
	size_t i;

	strbuf_init(&b);
	for (i = 0; i < n; i++)
		strbuf_addf(&b, "%s%s@%s:%d", i ? "," : "",
		    sh->jump[i].user ? sh->jump[i].user : "",
		    sh->jump[i].host, sh->jump[i].port);
	return strbuf_steal(&b);
}

/*
 * The entries of sh's hops, made once for every host behind them (main
 * thread): each hop resolved by the configuration as ssh resolves a
 * ProxyJump host (its own ProxyJump not followed); *last the last hop.
 */
static int
resolve_jumps(struct run *r, const struct sshconfig_host *sh,
    struct jump_entry **last, char **msg)
{
	struct access *ax = r->ax;
	struct jump_entry *e, *before = NULL;
	struct sshconfig_query q;
	size_t n;
	char *key;
	int rc;

	for (n = 1; n <= sh->n_jump; n++) {
		key = chain_key(sh, n);
		for (e = ax->jumps; e != NULL; e = e->next)
			if (strcmp(e->key, key) == 0)
				break;
		if (e != NULL) {
			free(key);
			before = e;
			continue;
		}
		e = xcalloc(1, sizeof(*e));
		e->key = key;
		e->before = before;
		e->label = xasprintf("jump host %s", sh->jump[n - 1].host);
		e->next = ax->jumps;
		ax->jumps = e;
		memset(&q, 0, sizeof(q));
		q.host = sh->jump[n - 1].host;
		q.user = sh->jump[n - 1].user;
		q.port = sh->jump[n - 1].port;
		q.identity = r->o->ssh_key;
		rc = sshconfig_resolve(ax->cfg, &q, &e->sh, msg);
		if (rc == 0) {
			const struct known_hosts *kh;

			rc = settings_of(r, e->sh, e->label, q.identity,
			    &e->so, &e->keys, &kh, msg);
			if (rc == 0)
				e->known_lines = known_hosts_for(kh,
				    e->so.host, e->so.port);
			e->so.known_lines = e->known_lines;
		}
		if (rc != 0)
			return rc;
		before = e;
	}
	*last = before;
	return 0;
}

/* e's jump, opened by the first worker to ask; the others wait for it. */
static int
open_jump(struct run *r, struct jump_entry *e, struct jump **out,
    char **msg)
{
	struct access *ax = r->ax;
	struct sshconn *c = NULL;
	struct jump *before = NULL;
	int rc;

	pthread_mutex_lock(&ax->mu);
	if (e->state == JS_NEW) {
		e->state = JS_OPENING;
		pthread_mutex_unlock(&ax->mu);
		rc = e->before != NULL ? open_jump(r, e->before, &before,
		    &e->msg) : 0;
		if (rc == 0) {
			e->so.stream = before != NULL ? jump_connect : NULL;
			e->so.stream_arg = before;
			if ((rc = sshconn_open(&e->so, &c)) != 0)
				e->msg = xasprintf("%s: %s", e->label,
				    sshconn_errmsg(c));
			else
				rc = jump_start(c, &e->j, &e->msg);
			if (rc != 0)
				sshconn_close(c);
		}
		pthread_mutex_lock(&ax->mu);
		e->state = rc == 0 ? JS_OPEN : JS_FAILED;
		e->rc = rc;
		if (rc == 0)
			log_debug("%s: open (%s)", e->label, e->key);
		pthread_cond_broadcast(&ax->cv);
	}
	while (e->state == JS_OPENING)
		pthread_cond_wait(&ax->cv, &ax->mu);
	rc = e->state == JS_OPEN ? 0 : e->rc;
	if (rc != 0)
		*msg = xstrdup(e->msg != NULL ? e->msg : err_str(rc));
	*out = e->j;
	pthread_mutex_unlock(&ax->mu);
	return rc;
}

int
access_open(struct run *r, struct host *h, struct sshconn **out,
    char **msg)
{
	struct host_access *ha = h->ax;
	struct jump *j = NULL;
	int rc;

	*out = NULL;
	*msg = NULL;
	if (ha->jump != NULL) {
		if ((rc = open_jump(r, ha->jump, &j, msg)) != 0)
			return rc;
		h->so.stream = jump_connect;
		h->so.stream_arg = j;
	}
	if ((rc = sshconn_open(&h->so, out)) != 0)
		return rc;
	if (ha->become && (rc = sshconn_set_become(*out, &ha->b)) != 0)
		return rc;
	return 0;
}

/* ---- the database tunnel ---- */

int
access_db_tunnel(struct run *r, char **msg)
{
	struct access *ax = r->ax;
	struct host *s = r->server;
	const char *how = var(r, s, "pem_db_tunnel");
	struct pemdb_target t;
	struct sshconn *c = NULL;
	struct jump *j;
	char *ci;
	int rc, port;

	*msg = NULL;
	if (how == NULL || strcmp(how, "none") == 0)
		return 0;
	if ((rc = pemdb_target(r->conninfo, &t, msg)) != 0)
		return rc;
	if (t.host == NULL || t.socket) {
		*msg = xstrdup("pem_db_tunnel: the PEM database's conninfo "
		    "names no TCP host to forward to");
		pemdb_target_clear(&t);
		return ERR_INVAL;
	}
	port = atoi(t.port);
	if (strcmp(how, "server") == 0) {
		/* a session of its own to the server host, made a jump */
		rc = access_open(r, s, &c, msg);
		if (rc != 0 && *msg == NULL)
			*msg = xstrdup(sshconn_errmsg(c));
		if (rc == 0)
			rc = jump_start(c, &ax->db_jump, msg);
		if (rc != 0)
			sshconn_close(c);
		j = ax->db_jump;
	} else if (strcmp(how, "jump") == 0) {
		if (s->ax->jump == NULL) {
			*msg = xasprintf("pem_db_tunnel=jump: %s has no jump "
			    "host", s->label);
			rc = ERR_INVAL;
		} else {
			rc = open_jump(r, s->ax->jump, &j, msg);
		}
	} else {
		*msg = xasprintf("pem_db_tunnel=%s: expected server, jump or "
		    "none", how);
		rc = ERR_INVAL;
	}
	if (rc == 0)
		rc = jump_listen(j, t.host, port, JUMP_LISTEN_TCP_PORT,
		    &ax->db_lhost, &ax->db_lport, msg);
	if (rc == 0) {
		/* the host stays, for verify-full; libpq connects here */
		ci = xasprintf("%s hostaddr=%s port=%d", r->conninfo,
		    ax->db_lhost, ax->db_lport);
		free(r->conninfo);
		r->conninfo = ci;
		r->probe_host = xstrdup(ax->db_lhost);
		r->probe_port = xasprintf("%d", ax->db_lport);
		log_info("PEM database %s:%d through %s (%s)", t.host, port,
		    strcmp(how, "server") == 0 ? "the PEM server host" :
		    "its jump host", how);
	}
	pemdb_target_clear(&t);
	return rc;
}

int
access_becomes(const struct host *h)
{
	return h->ax != NULL && h->ax->become;
}

/* ---- the end ---- */

void
access_host_free(struct host *h)
{
	struct host_access *ha = h->ax;

	if (ha == NULL)
		return;
	sshconfig_host_free(ha->sh);
	sshconfig_args_free(ha->args);
	free(ha->keys);
	free(ha);
	h->ax = NULL;
}

void
access_free(struct run *r)
{
	struct access *ax = r->ax;
	struct jump_entry *e, *next;
	struct kh_entry *k, *knext;

	if (ax == NULL)
		return;
	jump_stop(ax->db_jump);
	/* the later jumps ride on the earlier ones: stop them first */
	for (e = ax->jumps; e != NULL; e = next) {
		next = e->next;
		jump_stop(e->j);
		sshconfig_host_free(e->sh);
		free(e->keys);
		free(e->known_lines);
		free(e->label);
		free(e->key);
		free(e->msg);
		free(e);
	}
	for (k = ax->khs; k != NULL; k = knext) {
		knext = k->next;
		known_hosts_free(k->kh);
		free(k->key);
		free(k);
	}
	free(ax->db_lhost);
	sshconfig_free(ax->cfg);
	secret_free(ax->become_pass);
	pthread_mutex_destroy(&ax->mu);
	pthread_cond_destroy(&ax->cv);
	free(ax);
	r->ax = NULL;
}
