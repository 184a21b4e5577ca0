#include "options.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strutil.h"
#include "version.h"

enum {
	O_KEYTYPE = 256, O_DAYS, O_KNOWN, O_SSHKEY, O_REPORT, O_NOOVERLAP,
	O_CASUBJ, O_DRYRUN, O_TIMEOUT, O_RESTART_TIMEOUT, O_AGENT_TIMEOUT,
	O_KEYGEN, O_MAXOPEN, O_STATEDIR, O_SKIPUNREACH, O_RETRIES, O_CANARY,
	O_MAXFAIL, O_ACCEPTNEW,
	O_SHAREDDIRS, O_UNVERIFIEDDB, O_SSHCONFIG, O_LIST, O_HOST, O_AGENT,
	O_EXPIRING, O_WARNDAYS, O_JSON, O_FORMAT, O_PRUNE, O_KEEP, O_BACKUP,
	O_AGENTS,
	O_HELP, O_VERSION, O_MAN, O_BASH,
};

struct optdef {
	const char *name;
	int val;		/* short letter or O_* */
	const char *arg;	/* NULL: takes no argument */
	const char *help;	/* one sentence or two, for --help and man */
};

static const struct optdef optdefs[] = {
	{ "inventory", 'i', "SOURCE",
	  "Ansible inventory of the estate: group pem_server (one host) and "
	  "group pem_agents, read as ansible-inventory reads it: an INI or "
	  "YAML file, or a directory of them, with the host_vars/ and "
	  "group_vars/ next to it; JSON as an inventory script or "
	  "\"ansible-inventory --list\" prints it, from a file ending in "
	  ".json or from stdin (\"-\"); or an executable, a dynamic "
	  "inventory run with --list (and --host NAME per host when its "
	  "output has no _meta), killed after "
	  "$PEMROTATE_INVENTORY_TIMEOUT seconds (default 60). Repeatable: "
	  "later sources merge into earlier ones, as with ansible -i A -i B. "
	  "Required." },
	{ "list", O_LIST, NULL,
	  "inventory: print the PEM hosts and the variables pemrotate uses, "
	  "as JSON shaped like \"ansible-inventory --list\" (the "
	  "default)." },
	{ "host", O_HOST, "NAME",
	  "inventory: print the variables pemrotate uses for host NAME, as "
	  "\"ansible-inventory --host NAME\" does." },
	{ "agent", O_AGENT, "ID",
	  "revoke, agents: the agent, by its inventory host name or its "
	  "agent_id in pem.agent. revoke takes exactly one; agents takes "
	  "any number (default: every agent)." },
	{ "expiring-within", O_EXPIRING, "DAYS",
	  "agents: only the agents whose certificate expires within DAYS "
	  "days (or is missing, unreadable or not of the current CA)." },
	{ "warn-days", O_WARNDAYS, "N",
	  "status: a certificate that expires within N days is a finding "
	  "(default 30)." },
	{ "json", O_JSON, NULL,
	  "status: print the certificates as JSON (the same as --format "
	  "json)." },
	{ "format", O_FORMAT, "FMT",
	  "status: text (a table, the default), json, or prometheus: "
	  "node_exporter's textfile format, a gauge of days left per "
	  "certificate labelled by host and role, and a gauge per kind of "
	  "finding." },
	{ "prune", O_PRUNE, NULL,
	  "backups: remove all but the newest --keep sets on each host; "
	  "a backup of a private key is overwritten with zeros (as the "
	  "file's owner, over SFTP) before it is removed." },
	{ "keep", O_KEEP, "N",
	  "backups --prune: the sets kept on each host, newest first; at "
	  "least 1, so the last set is never removed." },
	{ "backup", O_BACKUP, "RUN",
	  "rollback: the backup set to put back, by its run id (as "
	  "\"pemrotate backups\" lists them)." },
	{ "agents", O_AGENTS, NULL,
	  "rollback: also put back each agent's key and certificate of the "
	  "set, stopping and starting the agent." },
	{ "pem-db", 'd', "CONNINFO",
	  "libpq connection string for the PEM database; libpq defaults and "
	  "PG* variables apply. Default: \"host=<pem_server address> "
	  "dbname=pem\". The server's certificate is verified "
	  "(sslmode=verify-ca, or verify-full if asked for) against the PEM "
	  "CA, read over SSH from the data directory of the PostgreSQL "
	  "listening on its port on the PEM server host (or against the "
	  "sslrootcert it names)." },
	{ "allow-unverified-db", O_UNVERIFIEDDB, NULL,
	  "Accept a --pem-db or PGSSLMODE whose sslmode (disable, allow, "
	  "prefer, require) does not verify the server's certificate. "
	  "Without it such a TCP connection is refused, since what the "
	  "database answers chooses the files root overwrites; its answer "
	  "is still checked against the server host." },
	{ "parallel", 'j', "N", "Hosts worked on at once (default 16)." },
	{ "key-type", O_KEYTYPE, "T",
	  "Key type of the new keys: rsa:2048, rsa:3072, rsa:4096, ec:P-256 "
	  "or ec:P-384 (default rsa:4096, as PEM's installers)." },
	{ "keygen", O_KEYGEN, "WHERE",
	  "local (default): every key is made in pemrotate's memory on all "
	  "CPUs. remote: each agent host makes its own key with its openssl "
	  "and sends only a certificate request, so agent keys never cross "
	  "the network." },
	{ "days", O_DAYS, "N",
	  "Validity of the new certificates in days (default 3650)." },
	{ "ca-subject", O_CASUBJ, "DN",
	  "Subject of the new CA, \"/C=US/.../CN=PEM\". Default: PEM's, with a "
	  "serialNumber naming the rotation so old and new CA never share a "
	  "name." },
	{ "known-hosts", O_KNOWN, "FILE",
	  "known_hosts to verify host keys against (default "
	  "~/.ssh/known_hosts, then /etc/ssh/ssh_known_hosts). Hashed names, "
	  "patterns and negations work as in OpenSSH. An unknown or changed "
	  "key stops the run before any change; so does, even with "
	  "--accept-new-host-keys, a key marked @revoked or a host known only "
	  "through @cert-authority (host certificates cannot be checked)." },
	{ "ssh-key", O_SSHKEY, "FILE",
	  "Private key for SSH when neither the inventory nor the SSH "
	  "client configuration names one; ssh-agent (SSH_AUTH_SOCK) is "
	  "tried first." },
	{ "ssh-config", O_SSHCONFIG, "FILE",
	  "OpenSSH client configuration to follow for every host, as ssh "
	  "-F FILE would: HostName, User, Port, IdentityFile, "
	  "IdentitiesOnly, UserKnownHostsFile, GlobalKnownHostsFile, "
	  "StrictHostKeyChecking, ProxyJump, ConnectTimeout, "
	  "ServerAliveInterval, with Host and Match sections and Include. "
	  "Default ~/.ssh/config when it exists (and /etc/ssh/ssh_config); "
	  "\"none\" ignores both. Inventory variables win over it, as with "
	  "Ansible." },
	{ "ask-become-pass", 'K', NULL,
	  "Ask once for the sudo password of the hosts that become root "
	  "(ansible_become). It is held in memory only." },
	{ "report", O_REPORT, "FILE", "Write the per-host report as JSON." },
	{ "no-overlap", O_NOOVERLAP, NULL,
	  "Hard switch as in PEM's manual: root.crt holds only the new CA from "
	  "the start, so an agent that misses its new certificate is locked "
	  "out." },
	{ "max-open", O_MAXOPEN, "N",
	  "SSH sessions kept open from the preflight to the push.  One "
	  "session a host means one login a host for the run, but each "
	  "costs ~57 KB in libssh2 1.10; past N the other hosts log in again "
	  "for the stop and for the push.  Default: 600 + hosts/25, which "
	  "keeps pemrotate within about 50 MB + 10 KB per host (all "
	  "sessions up to 625 hosts)." },
	{ "timeout", O_TIMEOUT, "SECONDS",
	  "Bound on each connection attempt and remote step (default 30)." },
	{ "restart-timeout", O_RESTART_TIMEOUT, "SECONDS",
	  "Bound on the PostgreSQL restart and on waiting for it to accept "
	  "connections again (default 120)." },
	{ "agent-timeout", O_AGENT_TIMEOUT, "SECONDS",
	  "Bound on each agent stop or start command (default 60)." },
	{ "retries", O_RETRIES, "N",
	  "Connection attempts after a failed one, with backoff (default 2). "
	  "A wrong host key or a refused login is never retried." },
	{ "skip-unreachable", O_SKIPUNREACH, NULL,
	  "Leave agent hosts that cannot be reached alone instead of "
	  "stopping: they are reported skipped, the old CA stays trusted, "
	  "exit status 1; \"pemrotate resume\" finishes them later." },
	{ "canary", O_CANARY, "N",
	  "Rotate N agents first and check they run on their new "
	  "certificates before touching the rest; stop if one fails." },
	{ "max-failures", O_MAXFAIL, "N|N%",
	  "Stop pushing to more agents once more than N agents (or N% of "
	  "them) have failed; the rest keep their old certificates." },
	{ "accept-new-host-keys", O_ACCEPTNEW, NULL,
	  "Trust the host key of a host that known_hosts does not list yet, "
	  "and record it there. A changed key is still refused." },
	{ "allow-shared-dirs", O_SHAREDDIRS, NULL,
	  "Rotate a file even when a directory on its way can be changed by "
	  "a user who does not own the file, or by a group or everyone "
	  "(pemrotate refuses by default, naming the directory). Its "
	  "operations then run as the file's owner: when that is root, root "
	  "works in a directory others can change. See docs/security.md." },
	{ "state-dir", O_STATEDIR, "DIR",
	  "Where run journals are kept (default $XDG_STATE_HOME/pemrotate or "
	  "~/.local/state/pemrotate)." },
	{ "dry-run", O_DRYRUN, NULL,
	  "Run the preflight (inventory, database, every host) and show the "
	  "plan; change nothing." },
	{ "yes", 'y', NULL,
	  "Do not ask. On a terminal pemrotate shows the plan and asks before "
	  "changing anything." },
	{ "verbose", 'v', NULL, "Say more (may be repeated)." },
	{ "quiet", 'q', NULL, "Say only errors and the summary." },
	{ "help", O_HELP, NULL, "Show this help and exit." },
	{ "version", O_VERSION, NULL, "Show the version and exit." },
};
#define N_OPTDEFS (sizeof(optdefs) / sizeof(optdefs[0]))

static void
opts_defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->parallel = 16;
	pki_keyspec_parse("rsa:4096", &o->keyspec);
	o->days = 3650;
	o->timeout_s = 30;
	o->restart_timeout_s = 120;
	o->agent_timeout_s = 60;
	o->retries = 2;
	o->max_open = 0;	/* from the number of hosts */
	o->max_failures = -1;
	o->expiring_within = -1;
	o->warn_days = 30;
	o->keep = -1;
}

/* The exit statuses every command shares, for --help and man. */
static const struct {
	int code;
	const char *text;
} exit_status[] = {
	{ 0, "Every host done." },
	{ 1, "The estate is rotated but some agents failed; they keep "
	  "working on their old certificate, and the old CA stays trusted." },
	{ 2, "Usage, configuration or preflight error; nothing was "
	  "changed." },
	{ 3, "The server rotation failed and was rolled back; nothing was "
	  "changed." },
	{ 0, NULL },
};

static void
wrap(FILE *f, const char *text, int indent, int width)
{
	const char *p = text, *sp;
	int col = indent;

	while (*p != '\0') {
		sp = strchr(p, ' ');
		if (sp == NULL)
			sp = p + strlen(p);
		if (col > indent && col + 1 + (sp - p) > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)(sp - p), p);
		col += (int)(sp - p);
		p = *sp ? sp + 1 : sp;
	}
	fputc('\n', f);
}

void
opts_usage(FILE *f, const struct opts_cmd *cmds)
{
	const struct opts_cmd *c;
	char head[64];
	size_t i;

	for (c = cmds; c->name != NULL; c++)
		fprintf(f, "%s pemrotate %s %s [options]\n",
		    c == cmds ? "usage:" : "      ", c->name, c->args);
	fputc('\n', f);
	for (c = cmds; c->name != NULL; c++) {
		snprintf(head, sizeof(head), "%s: ", c->name);
		fputs(head, f);
		wrap(f, c->help, (int)strlen(head), 79);
	}
	fputs("\noptions:\n", f);
	for (i = 0; i < N_OPTDEFS; i++) {
		if (optdefs[i].val < 256)
			snprintf(head, sizeof(head), "  -%c, --%s%s%s",
			    optdefs[i].val, optdefs[i].name,
			    optdefs[i].arg ? " " : "",
			    optdefs[i].arg ? optdefs[i].arg : "");
		else
			snprintf(head, sizeof(head), "      --%s%s%s",
			    optdefs[i].name, optdefs[i].arg ? " " : "",
			    optdefs[i].arg ? optdefs[i].arg : "");
		fprintf(f, "%-30s", head);
		if (strlen(head) >= 30)
			fprintf(f, "\n%30s", "");
		wrap(f, optdefs[i].help, 30, 79);
	}
	fputs("\nexit status:\n", f);
	for (i = 0; exit_status[i].text != NULL; i++) {
		snprintf(head, sizeof(head), "  %d  ", exit_status[i].code);
		fputs(head, f);
		wrap(f, exit_status[i].text, (int)strlen(head), 79);
	}
}

/* troff-escape: backslash and minus; a leading '.' or '\'' is guarded. */
static void
man_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static const char *man_body[] = {
	".SH DESCRIPTION",
	"pemrotate replaces every SSL certificate of an EDB Postgres",
	"Enterprise Manager estate in one run: the PEM CA, the PEM server's",
	"root.crt, root.crl, server key and certificate, and every agent's",
	"key and certificate. It reads the agents from the pem.agent table and the",
	"hosts from an inventory, generates all keys in memory, and works over",
	"SSH in the order PEM requires: preflight (nothing changed), stop the",
	"agents (the PEM server host's first), rotate the server files (each",
	"backed up next to it and replaced atomically), restart PostgreSQL and",
	"check it serves the new certificate, push each agent its new key and",
	"certificate and start it, then finalize and report.",
	".PP",
	"While agents are pushed, root.crt trusts the new and the old CA, so",
	"an agent that fails keeps working on its old certificate. Once every",
	"agent runs on its new certificate, root.crt is reduced to the new CA",
	"and the server reloads it.",
	".SH LOCKED-DOWN ESTATES",
	"Each host is reached as ssh -G resolves its ansible_host (else its",
	"name) in the SSH client configuration (--ssh-config), the inventory's",
	"ansible_user, ansible_port, ansible_ssh_private_key_file and the ssh",
	"options of ansible_ssh_common_args and ansible_ssh_extra_args winning",
	"over it. Jump hosts (ProxyJump) are logged in to once for the run",
	"and shared by every host behind them. With ansible_become every",
	"remote command and SFTP server runs through sudo (ansible_become_user,",
	"ansible_become_password or -K); a sudo that refuses stops the",
	"preflight. pem_db_tunnel=server on the PEM server host reaches the",
	"database through an SSH session to that host.",
	".SH RESUME",
	"Each run keeps a journal in the state directory (no secret is in",
	"it). A run that ends with agents not rotated (failed, skipped,",
	"interrupted, or killed) keeps a lock file pemrotate.lock in the PEM",
	"server's data directory, and",
	".B pemrotate resume",
	"[RUN] finishes it: when the PEM server already runs on the run's new",
	"CA, the CA key is read from the server into memory, the agents not",
	"yet rotated are rotated and the old CA is dropped; otherwise the",
	"server's original files are put back and the rotation is done again.",
	"SIGINT, SIGTERM and SIGHUP start no new host, finish the hosts in",
	"flight and start the stopped agents again.",
	".SH FILES",
	".TP", "/usr/edb/pem/agent/etc/agent.cfg",
	"Each agent's configuration, read over SSH (agent_id, agent_ssl_key,",
	"agent_ssl_crt in section [PEM/agent]).",
	".TP", "/etc/postgres-reg.ini",
	"An older agent's settings (AgentID, AgentKeyPath, AgentCrtPath in",
	"section [PEMAGENT]), read when its agent.cfg is absent.",
	".SH SEE ALSO",
	"The inventory reference and the rotation procedure in the docs/",
	"folder of the source distribution.",
	NULL,
};

/* EXIT STATUS, from the table --help uses too. */
static void
man_exit_status(FILE *f)
{
	size_t i;

	fputs(".SH EXIT STATUS\n", f);
	for (i = 0; exit_status[i].text != NULL; i++) {
		fprintf(f, ".TP\n%d\n", exit_status[i].code);
		man_text(f, exit_status[i].text);
		fputs("\n", f);
	}
}

void
opts_man(FILE *f, const struct opts_cmd *cmds)
{
	const struct opts_cmd *c;
	size_t i;

	fputs(".TH PEMROTATE 1 \"\" \"pemrotate\" \"User Commands\"\n"
	    ".SH NAME\npemrotate \\- rotate every SSL certificate of a PEM "
	    "estate\n.SH SYNOPSIS\n", f);
	for (c = cmds; c->name != NULL; c++) {
		fprintf(f, "%s.B pemrotate %s\n", c == cmds ? "" : ".br\n",
		    c->name);
		man_text(f, c->args);
		fputs(" [options]\n", f);
	}
	fputs(".SH COMMANDS\n", f);
	for (c = cmds; c->name != NULL; c++) {
		fprintf(f, ".TP\n.B %s\n", c->name);
		man_text(f, c->help);
		fputs("\n", f);
	}
	fputs(".SH OPTIONS\n", f);
	for (i = 0; i < N_OPTDEFS; i++) {
		fputs(".TP\n", f);
		if (optdefs[i].val < 256)
			fprintf(f, "\\fB\\-%c\\fR, ", optdefs[i].val);
		fputs("\\fB\\-\\-", f);
		man_text(f, optdefs[i].name);
		fputs("\\fR", f);
		if (optdefs[i].arg != NULL)
			fprintf(f, " \\fI%s\\fR", optdefs[i].arg);
		fputs("\n", f);
		man_text(f, optdefs[i].help);
		fputs("\n", f);
	}
	for (i = 0; man_body[i] != NULL; i++) {
		if (strcmp(man_body[i], ".SH FILES") == 0)
			man_exit_status(f);
		if (man_body[i][0] == '.')
			fputs(man_body[i], f);
		else
			man_text(f, man_body[i]);
		fputs("\n", f);
	}
}

/* ---- bash completion, from the same tables ---- */

/* Arguments completed from a list of words. */
static const struct {
	const char *name;
	const char *words;
} bash_words[] = {
	{ "key-type", "rsa:2048 rsa:3072 rsa:4096 ec:P-256 ec:P-384" },
	{ "keygen", "local remote" },
	{ "format", "text json prometheus" },
};

enum { BA_NONE, BA_FILE, BA_DIR, BA_WORDS, BA_TEXT };

static int
bash_arg(size_t i, const char **words)
{
	size_t k;

	*words = NULL;
	if (optdefs[i].arg == NULL)
		return BA_NONE;
	for (k = 0; k < sizeof(bash_words) / sizeof(bash_words[0]); k++)
		if (strcmp(optdefs[i].name, bash_words[k].name) == 0) {
			*words = bash_words[k].words;
			return BA_WORDS;
		}
	/* a SOURCE (-i) is a file or a directory: both are offered */
	if (strcmp(optdefs[i].arg, "FILE") == 0 ||
	    strcmp(optdefs[i].arg, "SOURCE") == 0)
		return BA_FILE;
	if (strcmp(optdefs[i].arg, "DIR") == 0)
		return BA_DIR;
	return BA_TEXT;
}

/* "-x|--name|..." for the options whose argument is of kind k. */
static int
bash_case(FILE *f, int k)
{
	const char *w;
	size_t i;
	int n = 0;

	for (i = 0; i < N_OPTDEFS; i++) {
		if (bash_arg(i, &w) != k)
			continue;
		if (optdefs[i].val < 256)
			fprintf(f, "%s-%c", n++ ? "|" : "\t", optdefs[i].val);
		fprintf(f, "%s--%s", n++ ? "|" : "\t", optdefs[i].name);
	}
	if (n > 0)
		fputs(")\n", f);
	return n;
}

static const char *const bash_head[] = {
	"# bash completion for pemrotate(1).  Generated by pemrotate "
	"--help-bash",
	"# from its command and option tables: do not edit.",
	"",
	"# _pemrotate_words WORDS: the words that complete $cur (a word with a",
	"# colon is split by readline: only its part after the colon is put).",
	"_pemrotate_words()",
	"{",
	"\tlocal pre=\"\"",
	"",
	"\t[[ $COMP_WORDBREAKS == *:* && $cur == *:* ]] && "
	"pre=${cur%\"${cur##*:}\"}",
	"\tmapfile -t COMPREPLY < <(compgen -W \"$1\" -- \"$cur\")",
	"\tCOMPREPLY=(\"${COMPREPLY[@]#\"$pre\"}\")",
	"}",
	"",
	"_pemrotate_files()",
	"{",
	"\tcompopt -o filenames 2>/dev/null",
	"\tmapfile -t COMPREPLY < <(compgen \"$1\" -- \"$cur\")",
	"}",
	"",
	"_pemrotate()",
	"{",
	"\tlocal line=${COMP_LINE:0:COMP_POINT} cur=\"\" prev=\"\" n",
	"\tlocal -a w",
	"",
	"\tCOMPREPLY=()",
	"\tread -ra w <<<\"$line\"",
	"\tn=${#w[@]}",
	"\tif [[ -z $line || $line == *[[:space:]] ]]; then",
	"\t\tprev=${w[n-1]:-}",
	"\telse",
	"\t\tcur=${w[n-1]}",
	"\t\tprev=${w[n-2]:-}",
	"\t\tn=$((n - 1))",
	"\tfi",
	"\tcase $prev in",
	NULL,
};

/* The script that completes pemrotate's commands, options, arguments. */
void
opts_bash(FILE *f, const struct opts_cmd *cmds)
{
	const struct opts_cmd *c;
	const char *w;
	size_t i;

	for (i = 0; bash_head[i] != NULL; i++)
		fprintf(f, "%s\n", bash_head[i]);
	if (bash_case(f, BA_FILE))
		fputs("\t\t_pemrotate_files -f; return 0 ;;\n", f);
	if (bash_case(f, BA_DIR))
		fputs("\t\t_pemrotate_files -d; return 0 ;;\n", f);
	for (i = 0; i < N_OPTDEFS; i++)
		if (bash_arg(i, &w) == BA_WORDS)
			fprintf(f, "\t--%s)\n\t\t_pemrotate_words \"%s\"; "
			    "return 0 ;;\n", optdefs[i].name, w);
	if (bash_case(f, BA_TEXT))
		fputs("\t\treturn 0 ;;\n", f);
	fputs("\tesac\n\tif ((n == 1)) && [[ $cur != -* ]]; then\n"
	    "\t\t_pemrotate_words \"", f);
	for (c = cmds; c->name != NULL; c++)
		fprintf(f, "%s%s", c == cmds ? "" : " ", c->name);
	fputs("\"\n\telif [[ $cur == -* ]]; then\n\t\t_pemrotate_words \"", f);
	for (i = 0; i < N_OPTDEFS; i++) {
		if (optdefs[i].val < 256)
			fprintf(f, "-%c ", optdefs[i].val);
		fprintf(f, "--%s%s", optdefs[i].name, i + 1 < N_OPTDEFS ?
		    " " : "");
	}
	fputs("\"\n\tfi\n}\ncomplete -F _pemrotate pemrotate\n", f);
}

static void
build_longopts(struct option *lo, char *shortopts)
{
	size_t i, s = 0;

	for (i = 0; i < N_OPTDEFS; i++) {
		lo[i].name = optdefs[i].name;
		lo[i].has_arg = optdefs[i].arg ? required_argument :
		    no_argument;
		lo[i].flag = NULL;
		lo[i].val = optdefs[i].val;
		if (optdefs[i].val < 256) {
			shortopts[s++] = (char)optdefs[i].val;
			if (optdefs[i].arg)
				shortopts[s++] = ':';
		}
	}
	lo[i].name = "help-man";	/* undocumented: writes pemrotate.1 */
	lo[i].has_arg = no_argument;
	lo[i].flag = NULL;
	lo[i].val = O_MAN;
	i++;
	lo[i].name = "help-bash";	/* undocumented: the completion */
	lo[i].has_arg = no_argument;
	lo[i].flag = NULL;
	lo[i].val = O_BASH;
	memset(&lo[i + 1], 0, sizeof(lo[i + 1]));
	shortopts[s] = '\0';
}

static int
int_arg(const char *name, const char *s, long lo, long hi, int *out)
{
	long v;

	if (!str_to_posint(s, hi, &v) || v < lo) {
		fprintf(stderr, "pemrotate: --%s: expected a number from %ld "
		    "to %ld, got \"%s\"\n", name, lo, hi, s);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* "N" or "N%"; 0 is allowed (stop at the first failure). */
static int
max_failures_arg(struct opts *o, const char *a)
{
	char buf[16];
	size_t n = strlen(a);
	long v;

	o->max_failures_pct = n > 0 && a[n - 1] == '%';
	if (o->max_failures_pct)
		n--;
	if (n == 0 || n >= sizeof(buf))
		goto bad;
	memcpy(buf, a, n);
	buf[n] = '\0';
	if (strcmp(buf, "0") == 0) {
		o->max_failures = 0;
		return 0;
	}
	if (!str_to_posint(buf, o->max_failures_pct ? 100 : 1000000, &v))
		goto bad;
	o->max_failures = (int)v;
	return 0;
 bad:
	fprintf(stderr, "pemrotate: --max-failures: expected N or N%% "
	    "(0-100%%), got \"%s\"\n", a);
	return -1;
}

static int
inventory_arg(struct opts *o, const char *a)
{
	if (o->ninventory >= OPTS_MAX_INVENTORY) {
		fprintf(stderr, "pemrotate: -i/--inventory: more than %d "
		    "sources\n", OPTS_MAX_INVENTORY);
		return -1;
	}
	o->inventory[o->ninventory++] = a;
	return 0;
}

static int
agent_arg(struct opts *o, const char *a)
{
	if (*a == '\0' || o->nagents >= OPTS_MAX_AGENTS) {
		fprintf(stderr, "pemrotate: --agent: %s\n", *a == '\0' ?
		    "an empty name" : "given too often");
		return -1;
	}
	o->agents[o->nagents++] = a;
	return 0;
}

static int
format_arg(struct opts *o, const char *a)
{
	static const char *const names[] = { "text", "json", "prometheus" };
	int i;

	o->status_opt = 1;
	for (i = 0; i < 3; i++)
		if (strcmp(a, names[i]) == 0) {
			o->format = i;
			return 0;
		}
	fprintf(stderr, "pemrotate: --format: expected text, json or "
	    "prometheus, got \"%s\"\n", a);
	return -1;
}

static int
set_opt(struct opts *o, int c, const char *a)
{
	switch (c) {
	case 'i': return inventory_arg(o, a);
	case 'd': o->pem_db = a; return 0;
	case 'j': return int_arg("parallel", a, 1, 1024, &o->parallel);
	case 'y': o->yes = 1; return 0;
	case 'v': o->verbose++; return 0;
	case 'q': o->quiet = 1; return 0;
	case O_DAYS: return int_arg("days", a, 1, 36500, &o->days);
	case O_KNOWN: o->known_hosts = a; return 0;
	case O_SSHKEY: o->ssh_key = a; return 0;
	case O_REPORT: o->report = a; return 0;
	case O_CASUBJ: o->ca_subject = a; return 0;
	case O_NOOVERLAP: o->no_overlap = 1; return 0;
	case O_DRYRUN: o->dry_run = 1; return 0;
	case O_TIMEOUT: return int_arg("timeout", a, 1, 3600, &o->timeout_s);
	case O_RESTART_TIMEOUT:
		return int_arg("restart-timeout", a, 1, 3600,
		    &o->restart_timeout_s);
	case O_STATEDIR: o->state_dir = a; return 0;
	case O_MAXOPEN: return int_arg("max-open", a, 1, 1000000, &o->max_open);
	case O_KEYGEN:
		if (strcmp(a, "local") == 0 || strcmp(a, "remote") == 0) {
			o->keygen_remote = strcmp(a, "remote") == 0;
			return 0;
		}
		fprintf(stderr, "pemrotate: --keygen: expected local or "
		    "remote, got \"%s\"\n", a);
		return -1;
	case O_SKIPUNREACH: o->skip_unreachable = 1; return 0;
	case O_ACCEPTNEW: o->accept_new_host_keys = 1; return 0;
	case O_SHAREDDIRS: o->allow_shared_dirs = 1; return 0;
	case O_UNVERIFIEDDB: o->allow_unverified_db = 1; return 0;
	case O_SSHCONFIG: o->ssh_config = a; return 0;
	case O_LIST: o->list = 1; return 0;
	case O_PRUNE: o->prune = 1; return 0;
	case O_KEEP:
		if (strcmp(a, "0") == 0) {
			fprintf(stderr, "pemrotate: --keep 0 would remove the "
			    "last backup set; keep at least 1\n");
			return -1;
		}
		return int_arg("keep", a, 1, 1000000, &o->keep);
	case O_BACKUP: o->backup = a; return 0;
	case O_AGENTS: o->with_agents = 1; return 0;
	case O_HOST: o->host = a; return 0;
	case O_AGENT: return agent_arg(o, a);
	case O_EXPIRING:
		if (strcmp(a, "0") == 0) {
			o->expiring_within = 0;
			return 0;
		}
		return int_arg("expiring-within", a, 1, 36500,
		    &o->expiring_within);
	case O_WARNDAYS:
		o->status_opt = 1;
		if (strcmp(a, "0") == 0) {
			o->warn_days = 0;
			return 0;
		}
		return int_arg("warn-days", a, 1, 36500, &o->warn_days);
	case O_JSON: return format_arg(o, "json");
	case O_FORMAT: return format_arg(o, a);
	case 'K': o->ask_become_pass = 1; return 0;
	case O_RETRIES:
		if (strcmp(a, "0") == 0) {
			o->retries = 0;
			return 0;
		}
		return int_arg("retries", a, 1, 100, &o->retries);
	case O_CANARY: return int_arg("canary", a, 1, 1000000, &o->canary);
	case O_MAXFAIL: return max_failures_arg(o, a);
	case O_AGENT_TIMEOUT:
		return int_arg("agent-timeout", a, 1, 3600,
		    &o->agent_timeout_s);
	case O_KEYTYPE:
		if (pki_keyspec_parse(a, &o->keyspec) == 0)
			return 0;
		fprintf(stderr, "pemrotate: --key-type: expected rsa:2048, "
		    "rsa:3072, rsa:4096, ec:P-256 or ec:P-384, got \"%s\"\n",
		    a);
		return -1;
	}
	return -1;
}

static void
unknown_command(const struct opts_cmd *cmds, const char *name)
{
	const struct opts_cmd *c;

	fprintf(stderr, "pemrotate: unknown command \"%s\"; the commands are ",
	    name);
	for (c = cmds; c->name != NULL; c++)
		fprintf(stderr, "%s\"%s\"", c == cmds ? "" : c[1].name == NULL ?
		    " and " : ", ", c->name);
	fprintf(stderr, "\n");
}

static const struct opts_cmd *
find_command(const struct opts_cmd *cmds, const char *name)
{
	for (; cmds->name != NULL; cmds++)
		if (strcmp(cmds->name, name) == 0)
			return cmds;
	return NULL;
}

static enum opts_result
check_opts(struct opts *o, const struct opts_cmd *cmds, int argc,
    char **argv)
{
	if (optind >= argc) {
		fprintf(stderr, "pemrotate: no command given\n");
		opts_usage(stderr, cmds);
		return OPTS_EXIT_USAGE;
	}
	o->command = argv[optind];
	if ((o->cmd = find_command(cmds, o->command)) == NULL) {
		unknown_command(cmds, o->command);
		return OPTS_EXIT_USAGE;
	}
	if ((o->cmd->flags & OPTS_CMD_RUN_ARG) && optind + 1 < argc)
		o->resume_run = argv[++optind];
	if (optind + 1 < argc) {
		fprintf(stderr, "pemrotate: unexpected argument \"%s\"\n",
		    argv[optind + 1]);
		return OPTS_EXIT_USAGE;
	}
	if (o->ninventory == 0 && (o->cmd->flags & OPTS_CMD_INVENTORY)) {
		fprintf(stderr, "pemrotate: -i/--inventory is required\n");
		return OPTS_EXIT_USAGE;
	}
	if ((o->list || o->host != NULL) && !(o->cmd->flags & OPTS_CMD_QUERY)) {
		fprintf(stderr, "pemrotate: --list and --host are options of "
		    "\"pemrotate inventory\"\n");
		return OPTS_EXIT_USAGE;
	}
	if (o->nagents > 0 && !(o->cmd->flags & (OPTS_CMD_AGENT_ONE |
	    OPTS_CMD_AGENT_ANY))) {
		fprintf(stderr, "pemrotate: --agent is an option of \"pemrotate "
		    "revoke\" and \"pemrotate agents\"\n");
		return OPTS_EXIT_USAGE;
	}
	if (o->expiring_within >= 0 && !(o->cmd->flags & OPTS_CMD_AGENT_ANY)) {
		fprintf(stderr, "pemrotate: --expiring-within is an option of "
		    "\"pemrotate agents\"\n");
		return OPTS_EXIT_USAGE;
	}
	if ((o->cmd->flags & OPTS_CMD_AGENT_ONE) && o->nagents != 1) {
		fprintf(stderr, "pemrotate: %s takes exactly one --agent\n",
		    o->command);
		return OPTS_EXIT_USAGE;
	}
	if (o->status_opt && !(o->cmd->flags & OPTS_CMD_STATUS)) {
		fprintf(stderr, "pemrotate: --warn-days, --json and --format "
		    "are options of \"pemrotate status\"\n");
		return OPTS_EXIT_USAGE;
	}
	if (o->list && o->host != NULL) {
		fprintf(stderr, "pemrotate: --list and --host exclude each "
		    "other\n");
		return OPTS_EXIT_USAGE;
	}
	if (o->quiet && o->verbose) {
		fprintf(stderr, "pemrotate: -q and -v exclude each other\n");
		return OPTS_EXIT_USAGE;
	}
	return OPTS_RUN;
}

enum opts_result
opts_parse(int argc, char **argv, const struct opts_cmd *cmds,
    struct opts *o)
{
	struct option lo[N_OPTDEFS + 3];
	char shortopts[2 * N_OPTDEFS + 1];
	int c;

	opts_defaults(o);
	build_longopts(lo, shortopts);
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if (c == O_HELP) {
			opts_usage(stdout, cmds);
			return OPTS_EXIT_OK;
		}
		if (c == O_VERSION) {
			printf("pemrotate %s\n", pemrotate_version());
			return OPTS_EXIT_OK;
		}
		if (c == O_MAN) {
			opts_man(stdout, cmds);
			return OPTS_EXIT_OK;
		}
		if (c == O_BASH) {
			opts_bash(stdout, cmds);
			return OPTS_EXIT_OK;
		}
		if (c == '?' || set_opt(o, c, optarg) != 0) {
			fprintf(stderr, "Try 'pemrotate --help'.\n");
			return OPTS_EXIT_USAGE;
		}
	}
	return check_opts(o, cmds, argc, argv);
}
