/*
 * sshconfig_int.h: the parsed form of an OpenSSH client configuration,
 * shared by sshconfig*.c only.
 *
 * A file is a list of lines already checked and converted (ports, times,
 * states, ProxyJump hops, Match criteria); an Include line holds the
 * files it read.  Nothing here changes after load: a resolution walks
 * the lines with its own state (sshconfig_match.c) and builds the
 * result (sshconfig_resolve.c).
 */
#ifndef PEMROTATE_SSHCONFIG_INT_H
#define PEMROTATE_SSHCONFIG_INT_H

#include <stdarg.h>
#include <stddef.h>

#include "transport/sshconfig.h"

#define SC_MAX_DEPTH	16		/* READCONF_MAX_DEPTH */
#define SC_MAX_IDFILES	100		/* SSH_MAX_IDENTITY_FILES */
#define SC_MAX_KHFILES	32		/* SSH_MAX_HOSTS_FILES */
#define SC_FILE_MAX	(1024 * 1024)
#define SC_TOTAL_MAX	(16 * 1024 * 1024)
#define SC_FILES_MAX	1024
#define SC_USER_DIR	"~/.ssh"
#define SC_SYSTEM_DIR	"/etc/ssh"
#define SC_CMDLINE	"command-line"

#define SC_F_CMDLINE	0x100		/* sc_file: options, not a file */

enum sc_op {
	SC_HOST = 1,
	SC_MATCH,
	SC_INCLUDE,
	SC_HOSTNAME,
	SC_USER,
	SC_PORT,
	SC_IDFILE,
	SC_IDONLY,
	SC_USERKH,
	SC_GLOBALKH,
	SC_STRICT,
	SC_PROXYJUMP,
	SC_PROXYCMD,
	SC_CONNTIMEOUT,
	SC_ALIVE,
	SC_HOSTKEYALIAS,
	SC_CANON,
	SC_CANONDOMAINS,
};

/* Line flags. */
#define SC_L_USERPROV	0x01	/* IdentityFile from the user, not system */
#define SC_L_TILDE	0x02	/* -i: "~" expanded before it is listed */

enum sc_crit_type {
	SC_C_ALL,
	SC_C_CANONICAL,
	SC_C_FINAL,
	SC_C_EXEC,
	SC_C_HOST,
	SC_C_ORIGHOST,
	SC_C_USER,
	SC_C_LOCALUSER,
};

/* One Match criterion: "[!]attribute [argument]". */
struct sc_crit {
	enum sc_crit_type type;
	int negate;
	char *arg;		/* NULL for all, canonical, final */
};

struct sc_jump {
	int none;		/* "ProxyJump none" */
	struct sshconfig_hop *hop;	/* in list order; port 0: unset */
	size_t nhop;
	char *extra;		/* text before the last ',', or NULL */
};

struct sc_file;

struct sc_line {
	enum sc_op op;
	int lineno;
	int flags;		/* SC_L_* */
	int ival;		/* port, flag, seconds, state */
	char **av;		/* Host patterns, paths, the string */
	size_t ac;
	struct sc_crit *crit;	/* Match */
	size_t ncrit;
	struct sc_jump *jump;	/* ProxyJump */
	struct sc_file **inc;	/* Include: the files read, in order */
	size_t ninc;
};

struct sc_file {
	char *path;		/* as named in messages */
	int flags;		/* SSHCONFIG_SYSTEM, SC_F_CMDLINE */
	struct sc_line *line;
	size_t nline, cap;
};

struct sshconfig {
	struct sc_file **file;	/* read in this order */
	size_t nfile;
	int has_final;		/* a "Match final" somewhere */
	int home_given;		/* env->home set: also Include's "~" */
	char *home;		/* "~", %d */
	char *locuser;		/* %u */
	char *thishost;		/* %l */
	char *shorthost;	/* %L */
	char *uidstr;		/* %i */
	size_t nread;		/* files read, for the bounds */
	size_t bytes;
};

struct sshconfig_args {
	char *config;		/* -F */
	struct sc_file *cmd[2];	/* -o -p -l -i -J of each string */
};

/* sshconfig_lex.c: OpenSSH's tokens and values. */
char *sc_strdelim(char **s);
int sc_argv_split(const char *s, char ***av, size_t *ac);
void sc_argv_free(char **av, size_t ac);
int sc_a2port(const char *s);
int sc_convtime(const char *s);
int sc_state(const char *s, enum sc_op op);
int sc_parse_jump(const char *s, int strict, struct sc_jump **out);
void sc_jump_free(struct sc_jump *j);
int sc_valid_hostname(const char *s);
int sc_valid_ruser(const char *s);
void sc_lower(char *s);
char *sc_verr(const char *where, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
char *sc_err(const char *where, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* *msg = sc_err(...) when msg is not NULL; returns code. */
int sc_fail(char **msg, int code, const char *where, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* sshconfig.c: one line into f (Include reads through c). */
int sc_parse_line(struct sshconfig *c, struct sc_file *f, char *line,
    int lineno, int depth, char **msg);
void sc_file_free(struct sc_file *f);
struct sc_file *sc_file_new(const char *path, int flags);
/* A command-line option (-p, -l, -i, -J) as a line of op with value. */
int sc_add_option(struct sc_file *f, enum sc_op op, const char *value,
    int flags, char **msg);

/* sshconfig_match.c: patterns, and the walk over the files. */

/* What a walk has obtained so far; pointers into the configuration. */
struct sc_opts {
	const char *hostname, *user, *host_key_alias, *proxy_command;
	const struct sc_jump *jump;
	int port, idonly, strict, conn_timeout, alive, canon, domains;
	const char *id[SC_MAX_IDFILES];
	int id_userprov[SC_MAX_IDFILES];
	size_t nid;
	const char *ukh[SC_MAX_KHFILES], *gkh[SC_MAX_KHFILES];
	size_t nukh, ngkh;
	char *owned[SC_MAX_IDFILES + 1];	/* -i paths, "~" expanded */
	size_t nowned;
};

struct sc_walk {
	const struct sshconfig *c;
	const char *host_arg;	/* the destination asked for */
	const char *host;	/* Host patterns match this */
	int final;		/* second pass */
	struct sc_opts o;
	char *match_host;	/* HostName %h-expanded, for Match host */
};

void sc_opts_init(struct sc_opts *o);
int sc_add_identity(struct sc_opts *o, const char *path, int userprov);
void sc_opts_clear(struct sc_opts *o);
int sc_walk_file(struct sc_walk *w, const struct sc_file *f, int active,
    int nevermatch, char **msg);

/* sshconfig_resolve.c */
char *sc_tilde(const struct sshconfig *c, const char *path, char **msg);
int sc_expand_hostname(const char *hostname, const char *host_arg,
    char **out);

#endif
