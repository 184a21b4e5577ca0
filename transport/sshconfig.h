/*
 * sshconfig.h: the OpenSSH client configuration (ssh_config(5)), read
 * once and resolved per host as ssh(1) of OpenSSH 9.2 resolves it, so
 * that pemrotate reaches a host the way the operator's ssh does.
 *
 * Owns: the parsed configuration (a file, its Includes, or ~/.ssh/config
 * then /etc/ssh/ssh_config), the ssh options taken from Ansible's
 * ansible_ssh_common_args / ansible_ssh_extra_args, and the resolved
 * settings of one host.  libc only: no libssh2, no command is ever run.
 *
 * Thread safety: a struct sshconfig and a struct sshconfig_args are
 * read-only once made; sshconfig_resolve() may run on them from many
 * threads at once (it reads the environment for "${VAR}" and the passwd
 * database for "~user": nothing in the process may setenv() meanwhile).
 *
 * What is honoured, as OpenSSH does it:
 *   - "Keyword value", "Keyword=value", keywords in any case, "..." and
 *     '...' quoting, '#' comments; the first value obtained wins, but
 *     IdentityFile accumulates;
 *   - Host (space-separated patterns, '*', '?', '!'), Match with all,
 *     canonical, final, host, originalhost, user, localuser and '!'
 *     (a "Match final" forces the second pass OpenSSH makes; hostnames
 *     are never canonicalised through the DNS);
 *   - Include with globs, relative to ~/.ssh (user file) or /etc/ssh
 *     (system file), nested up to 16 deep, read once at load; an Include
 *     in a Host or Match block applies only where that block does;
 *   - HostName (%h %%), User, Port, IdentityFile and UserKnownHostsFile
 *     (~ then %d %h %i %k %l %L %n %p %r %u %% and ${VAR}),
 *     GlobalKnownHostsFile (~), IdentitiesOnly, StrictHostKeyChecking,
 *     ProxyJump, ProxyCommand (reported, never run), HostKeyAlias,
 *     ConnectTimeout, ServerAliveInterval, and ssh's defaults for them.
 * Other keywords are ignored.  "Match exec" is refused when ssh would
 * run its command: pemrotate runs no command from a configuration.
 *
 * Not as ssh does it: a keyword ssh does not know is ignored, not an
 * error; an Include that its group may write is refused (Debian's ssh
 * allows it when the group holds only the owner); no name goes to the
 * DNS (CanonicalizeHostname with CanonicalDomains is refused,
 * CanonicalizePermittedCNAMEs ignored); %C is refused (SHA-1 of the
 * connection); "ssh://" ProxyJump users are not %-decoded; an -i file
 * that does not exist is kept (ssh drops it with a warning); globs are
 * expanded once, at load.
 *
 * Errors: functions return 0 or a negative ERR_* code (common/err.h) and
 * put a message in *msg ("FILE:LINE: what is wrong"; heap, the caller
 * frees; NULL on success).  msg may be NULL.
 */
#ifndef PEMROTATE_SSHCONFIG_H
#define PEMROTATE_SSHCONFIG_H

#include <stddef.h>

struct sshconfig;
struct sshconfig_args;

/* Flags of sshconfig_parse(). */
#define SSHCONFIG_SYSTEM	0x01	/* a system file: relative Include
					   under /etc/ssh, "~" refused */
#define SSHCONFIG_NOINCLUDE	0x02	/* Include lines checked, nothing
					   read (untrusted text, fuzzing) */

/*
 * Who runs ssh.  NULL members are found as ssh finds them: home is the
 * passwd entry's directory of getuid() (ssh's "~" and %d; an Include
 * of "~/..." then follows $HOME, as glob(3) does for ssh), user its
 * name (%u, "Match localuser", the default User), hostname that of
 * gethostname() (%l, %L).  Copied at load.
 */
struct sshconfig_env {
	const char *home;
	const char *user;
	const char *hostname;
};

/*
 * Read what ssh(1) reads: path as "ssh -F path" does (must exist;
 * "none": no file at all), or with path NULL ~/.ssh/config (if present;
 * ERR_UNSAFE if others may write it) then /etc/ssh/ssh_config (if
 * present).  Every Include is read now, whichever host it applies to.
 * ERR_IO, ERR_PARSE, ERR_INVAL, ERR_UNSAFE (an included file writable
 * by others), ERR_TOOBIG (a file over 1 MiB, or over 1024 files or
 * 16 MiB in all).  env may be NULL.
 */
int sshconfig_load(const char *path, const struct sshconfig_env *env,
    struct sshconfig **out, char **msg);

/*
 * The same on text (len bytes, name in messages), a user file unless
 * flags has SSHCONFIG_SYSTEM.
 */
int sshconfig_parse(const char *text, size_t len, const char *name,
    int flags, const struct sshconfig_env *env, struct sshconfig **out,
    char **msg);

void sshconfig_free(struct sshconfig *c);

/*
 * The ssh options in Ansible's ansible_ssh_common_args and
 * ansible_ssh_extra_args (either may be NULL), in that order: each is
 * split into words as Python's shlex.split() does (quotes, backslashes,
 * no shell, no expansion), then read as ssh(1) reads its options:
 * -F FILE, -o OPTION ("-oKey=Value", "-o 'Key Value'"), -J JUMP,
 * -p PORT, -l USER, -i FILE.  Options that change nothing here
 * (-4 -6 -A -a -C -g -K -k -N -n -q -T -t -v -X -x -Y -y, -c -E -e -m
 * with their argument) are accepted and ignored; any other is
 * ERR_INVAL naming it, as is a bad value.
 */
int sshconfig_args_parse(const char *common, const char *extra,
    struct sshconfig_args **out, char **msg);

/* The -F file, or NULL: pass it to sshconfig_load(). */
const char *sshconfig_args_config(const struct sshconfig_args *a);

void sshconfig_args_free(struct sshconfig_args *a);

/*
 * One host to resolve.  host is the destination as given to ssh (an
 * Ansible host's ansible_host).  user, port and identity, when set, win
 * over everything (Ansible's own -o User=, -o Port=, -o IdentityFile=,
 * put before the *_args); then args (-o, -J, -p, -l, -i; first wins);
 * then the configuration files.
 */
struct sshconfig_query {
	const char *host;
	const char *user;			/* or NULL */
	int port;				/* or 0 */
	const char *identity;			/* or NULL */
	const struct sshconfig_args *args;	/* or NULL */
};

enum sshconfig_strict {
	SSHCONFIG_STRICT_ASK,			/* the default */
	SSHCONFIG_STRICT_YES,
	SSHCONFIG_STRICT_ACCEPT_NEW,
	SSHCONFIG_STRICT_NO,
};

/* One ProxyJump hop: user NULL and port 0 when not given. */
struct sshconfig_hop {
	char *user;
	char *host;
	int port;
};

/* A resolved host; every string is owned by it. */
struct sshconfig_host {
	char *host;			/* the destination asked for */
	char *hostname;			/* where to connect */
	char *user;
	int port;
	char **identity_files;		/* expanded, in order; "none"s gone */
	size_t n_identity_files;
	int identities_only;
	char **user_known_hosts;	/* expanded; none: n is 0 */
	size_t n_user_known_hosts;
	char **global_known_hosts;	/* ~ expanded; none: n is 0 */
	size_t n_global_known_hosts;
	enum sshconfig_strict strict;
	char *proxy_jump;		/* as "ssh -G" shows it, or NULL */
	struct sshconfig_hop *jump;	/* its hops, the first contacted
					   first; n_jump 0 without */
	size_t n_jump;
	char *proxy_command;		/* unexpanded, or NULL */
	char *host_key_alias;		/* lower case, or NULL */
	int connect_timeout;		/* seconds; -1: none (the default) */
	int server_alive_interval;	/* seconds; 0: off (the default) */
};

/*
 * Resolve q against c (sshconfig_load("none", ...) for no file).  *out is
 * the caller's, freed with sshconfig_host_free().  ERR_INVAL for a
 * value OpenSSH would refuse (a bad token, a host name with shell
 * characters, a Match exec to run, a jump host loop), named by file and
 * line.  Thread-safe (see above).
 */
int sshconfig_resolve(const struct sshconfig *c,
    const struct sshconfig_query *q, struct sshconfig_host **out,
    char **msg);

void sshconfig_host_free(struct sshconfig_host *h);

/* "ask", "yes", "accept-new", "no". */
const char *sshconfig_strict_name(enum sshconfig_strict s);

#endif
