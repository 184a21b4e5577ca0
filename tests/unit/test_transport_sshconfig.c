/*
 * test_transport_sshconfig.c: the OpenSSH client configuration resolver,
 * one feature at a time: the line syntax, first value wins, Host
 * patterns, Match, Include, tokens, defaults, ProxyJump, errors named by
 * file and line; then OpenSSH's own ssh -G as the reference for all of
 * it together.  Ansible's ssh arguments, their precedence and many
 * threads on one load: test_transport_sshconfig_args.c.
 */
#include "test_sshconfig.h"

/* Keywords in any case, "=", quotes, comments; the first value wins. */
static void
test_syntax(void **state)
{
	struct sshconfig_host *h;

	(void)state;
	h = resolve_text(
	    "# comment\n"
	    "  \n"
	    "HOSTNAME=real.example.com\n"
	    "user = \"op user\"  # trailing\n"
	    "Port\t2222\n"
	    "port 3333\n"
	    "IdentityFile \"/k/with space\"\n"
	    "IdentityFile /k/two\n"
	    "IdentityFile /k/two\n"
	    "IdentitiesOnly TRUE\n"
	    "StrictHostKeyChecking accept-new\n"
	    "ConnectTimeout 1m30s\n"
	    "ServerAliveInterval 15\n"
	    "UserKnownHostsFile /kh/1 '/kh/2'\n"
	    "UserKnownHostsFile /kh/3\n"
	    "GlobalKnownHostsFile=/gkh\n"
	    "SendEnv LANG LC_*\n"
	    "SomeFutureKeyword whatever\n", "alias", NULL);
	assert_string_equal(h->host, "alias");
	assert_string_equal(h->hostname, "real.example.com");
	assert_string_equal(h->user, "op user");
	assert_int_equal(h->port, 2222);
	assert_int_equal(h->n_identity_files, 2);
	assert_string_equal(h->identity_files[0], "/k/with space");
	assert_string_equal(h->identity_files[1], "/k/two");
	assert_int_equal(h->identities_only, 1);
	assert_int_equal(h->strict, SSHCONFIG_STRICT_ACCEPT_NEW);
	assert_string_equal(sshconfig_strict_name(h->strict), "accept-new");
	assert_int_equal(h->connect_timeout, 90);
	assert_int_equal(h->server_alive_interval, 15);
	assert_int_equal(h->n_user_known_hosts, 2);
	assert_string_equal(h->user_known_hosts[1], "/kh/2");
	assert_int_equal(h->n_global_known_hosts, 1);
	assert_string_equal(h->global_known_hosts[0], "/gkh");
	sshconfig_host_free(h);
}

/* What ssh uses when the configuration says nothing. */
static void
test_defaults(void **state)
{
	static const char *const ids[] = {
		"id_rsa", "id_ecdsa", "id_ecdsa_sk", "id_ed25519",
		"id_ed25519_sk", "id_xmss", "id_dsa",
	};
	struct sshconfig_host *h;
	char *want;
	size_t i;

	(void)state;
	h = resolve_text("", "Web1.Example.COM", NULL);
	assert_string_equal(h->hostname, "web1.example.com");
	assert_string_equal(h->user, "op");
	assert_int_equal(h->port, 22);
	assert_int_equal(h->n_identity_files, 7);
	for (i = 0; i < 7; i++) {
		want = xasprintf("/home/op/.ssh/%s", ids[i]);
		assert_string_equal(h->identity_files[i], want);
		free(want);
	}
	assert_int_equal(h->identities_only, 0);
	assert_int_equal(h->n_user_known_hosts, 2);
	assert_string_equal(h->user_known_hosts[0],
	    "/home/op/.ssh/known_hosts");
	assert_string_equal(h->user_known_hosts[1],
	    "/home/op/.ssh/known_hosts2");
	assert_int_equal(h->n_global_known_hosts, 2);
	assert_string_equal(h->global_known_hosts[0],
	    "/etc/ssh/ssh_known_hosts");
	assert_string_equal(h->global_known_hosts[1],
	    "/etc/ssh/ssh_known_hosts2");
	assert_int_equal(h->strict, SSHCONFIG_STRICT_ASK);
	assert_int_equal(h->connect_timeout, -1);
	assert_int_equal(h->server_alive_interval, 0);
	assert_null(h->proxy_jump);
	assert_int_equal(h->n_jump, 0);
	assert_null(h->proxy_command);
	assert_null(h->host_key_alias);
	sshconfig_host_free(h);
}

/* Host: space-separated patterns, '*', '?', '!', case counts. */
static void
test_host_patterns(void **state)
{
	static const struct {
		const char *host;
		int port;
	} want[] = {
		{ "web1.prod", 1 }, { "bad.prod", 3 }, { "db7", 2 },
		{ "db77", 3 }, { "DB7", 3 }, { "a,b", 4 }, { "x", 3 },
		{ "q", 22 },
	};
	struct sshconfig *c;
	struct sshconfig_host *h;
	size_t i;

	(void)state;
	c = load_text(
	    "Host *.prod !bad.prod\n"
	    "  Port 1\n"
	    "Host bad.prod\n"
	    "  User nobody\n"
	    "Host db?\n"
	    "  Port 2\n"
	    "Host \"a,b\"\n"		/* a comma is no separator here */
	    "  Port 4\n"
	    "Host * !q\n"
	    "  Port 3\n", &test_env);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strcmp(want[i].host, "a,b") == 0)
			continue;	/* not a valid destination */
		h = resolve_on(c, want[i].host, NULL);
		if (h->port != want[i].port)
			print_error("%s\n", want[i].host);
		assert_int_equal(h->port, want[i].port);
		sshconfig_host_free(h);
	}
	h = resolve_on(c, "bad.prod", NULL);
	assert_string_equal(h->user, "nobody");
	sshconfig_host_free(h);
	sshconfig_free(c);
}

/* Match all/host/originalhost/user/localuser and '!'. */
static void
test_match(void **state)
{
	struct sshconfig *c;
	struct sshconfig_host *h;

	(void)state;
	c = load_text(
	    "Host web*\n"
	    "  HostName %h.internal\n"
	    "Match host *.internal !originalhost web9\n"
	    "  Port 1001\n"
	    "Match originalhost=WEB2\n"		/* '=' splits, any case */
	    "  ServerAliveInterval 5\n"
	    "Match user deploy host web*\n"
	    "  IdentityFile /k/deploy\n"
	    "Match localuser op !user deploy\n"
	    "  IdentityFile /k/op\n"
	    "Match !all\n"
	    "  Port 1\n"
	    "Match all\n"
	    "  ConnectTimeout 4\n", &test_env);
	h = resolve_on(c, "web2", NULL);
	assert_string_equal(h->hostname, "web2.internal");
	assert_int_equal(h->port, 1001);
	assert_int_equal(h->server_alive_interval, 5);
	assert_int_equal(h->connect_timeout, 4);
	assert_int_equal(h->n_identity_files, 1);
	assert_string_equal(h->identity_files[0], "/k/op");
	sshconfig_host_free(h);
	h = resolve_on(c, "web9", "-l deploy");
	assert_int_equal(h->port, 22);
	assert_int_equal(h->server_alive_interval, 0);
	assert_int_equal(h->n_identity_files, 1);
	assert_string_equal(h->identity_files[0], "/k/deploy");
	sshconfig_host_free(h);
	sshconfig_free(c);
}

/*
 * Match final (and canonical in the second pass): ssh reads the files
 * again with the host name settled; Host then matches that name, and
 * only what is still unset can be set.
 */
static void
test_match_final(void **state)
{
	struct sshconfig_host *h;

	(void)state;
	h = resolve_text(
	    "Host db\n"
	    "  HostName DB.Example.NET\n"
	    "Host db.example.net\n"
	    "  User dba\n"
	    "Match !final\n"
	    "  IdentityFile /k/first\n"
	    "Match canonical\n"
	    "  Port 2200\n"
	    "  HostName ignored.example\n"
	    "  IdentityFile /k/final\n", "db", NULL);
	assert_string_equal(h->hostname, "db.example.net");
	assert_string_equal(h->user, "dba");
	assert_int_equal(h->port, 2200);
	assert_int_equal(h->n_identity_files, 2);
	assert_string_equal(h->identity_files[0], "/k/first");
	assert_string_equal(h->identity_files[1], "/k/final");
	sshconfig_host_free(h);
	/* without a Match final anywhere: one pass, canonical is false */
	h = resolve_text("Match canonical\n  Port 2200\n", "db", NULL);
	assert_int_equal(h->port, 22);
	sshconfig_host_free(h);
}

/* A Match exec is refused only where ssh would run it. */
static void
test_match_exec(void **state)
{
	struct sshconfig_env env = { test_home, "op", "ctl1" };
	struct sshconfig *c;
	struct sshconfig_query q = { "web1", NULL, 0, NULL, NULL };
	struct sshconfig_host *h = NULL;
	char *msg = NULL, *path;

	(void)state;
	c = load_text(
	    "Match host db* exec \"test -f /tmp/x\"\n"	/* 1: host first */
	    "  Port 1\n"
	    "Host nomatch\n"
	    "  Include inc/exec.conf\n"		/* 4: never applies */
	    "Match exec \"test -f /tmp/y\" host web*\n"	/* 5 */
	    "  Port 2\n", &test_env);
	path = xasprintf("%s/cfg", test_home);
	assert_int_equal(sshconfig_resolve(c, &q, &h, &msg), ERR_INVAL);
	assert_null(h);
	expect_msg(msg, path, 5, "Match exec \"test -f /tmp/y\"");
	assert_non_null(strstr(msg, "runs no command"));
	free(msg);
	free(path);
	sshconfig_free(c);
	/* In an Include that never applies: nothing to decide. */
	path = home_file(".ssh/inc/exec.conf", "Match exec true\nPort 9\n");
	free(path);
	c = load_text("Host nomatch\n  Include inc/exec.conf\n", &env);
	h = resolve_on(c, "web1", NULL);
	assert_int_equal(h->port, 22);
	sshconfig_host_free(h);
	sshconfig_free(c);
}

/*
 * Include: globs in name order, relative to ~/.ssh, nested, applying
 * where its line does; a Host or Match inside changes only that file.
 */
static void
test_include(void **state)
{
	struct sshconfig_env env = { test_home, "op", "ctl1" };
	struct sshconfig *c;
	struct sshconfig_host *h;
	char *p[4];

	(void)state;
	p[0] = home_file(".ssh/conf.d/20-b.conf", "User from_b\nPort 20\n");
	p[1] = home_file(".ssh/conf.d/10-a.conf",
	    "Host db*\n  User from_a\nInclude nested/*.conf\n");
	p[2] = home_file(".ssh/nested/n.conf", "ServerAliveInterval 7\n");
	p[3] = home_file("abs.conf", "ConnectTimeout 11\n");
	c = load_text(
	    "Include conf.d/*.conf ~/abs.conf /nonexistent/*.conf\n"
	    "Host web*\n"
	    "  Include conf.d/20-b.conf\n"
	    "Host *\n"
	    "  IdentitiesOnly yes\n", &env);
	h = resolve_on(c, "db1", NULL);
	assert_string_equal(h->user, "from_a");	/* 10-a first */
	assert_int_equal(h->port, 20);
	assert_int_equal(h->server_alive_interval, 7);
	assert_int_equal(h->connect_timeout, 11);
	assert_int_equal(h->identities_only, 1);
	sshconfig_host_free(h);
	h = resolve_on(c, "mail", NULL);
	/* 10-a's "Host db*" ends at its file: 20-b applies to mail */
	assert_string_equal(h->user, "from_b");
	assert_int_equal(h->server_alive_interval, 0);	/* in Host db* */
	sshconfig_host_free(h);
	sshconfig_free(c);
	/* An Include in a block that does not apply reads nothing in. */
	c = load_text("Host other\n  Include conf.d/20-b.conf\n", &env);
	h = resolve_on(c, "web1", NULL);
	assert_string_equal(h->user, "op");
	assert_int_equal(h->port, 22);
	sshconfig_host_free(h);
	sshconfig_free(c);
	free(p[0]);
	free(p[1]);
	free(p[2]);
	free(p[3]);
}

/* Loops and deep nesting stop at 16; others may not write an Include. */
static void
test_include_errors(void **state)
{
	struct sshconfig_env env = { test_home, "op", "ctl1" };
	struct sshconfig *c = NULL;
	char *msg = NULL, *loop, *cfg, *p;

	(void)state;
	loop = home_file(".ssh/loop.conf", "Port 1\nInclude loop.conf\n");
	cfg = home_file("cfg", "Include loop.conf\n");
	assert_int_equal(sshconfig_load(cfg, &env, &c, &msg),
	    ERR_PARSE);
	assert_null(c);
	expect_msg(msg, loop, 2, "too many recursive configuration "
	    "includes");
	free(msg);
	p = home_file(".ssh/open.conf", "Port 1\n");
	assert_int_equal(chmod(p, 0666), 0);
	free(cfg);
	cfg = home_file("cfg", "Include open.conf\n");
	assert_int_equal(sshconfig_load(cfg, &env, &c, &msg),
	    ERR_UNSAFE);
	expect_msg(msg, p, 0, "bad owner or permissions");
	free(msg);
	free(p);
	free(cfg);
	free(loop);
	/* A system file: relative under /etc/ssh, "~" refused. */
	assert_int_equal(sshconfig_parse("Include no-such-file-*.conf\n",
	    28, "sys", SSHCONFIG_SYSTEM, &test_env, &c, &msg), 0);
	sshconfig_free(c);
	assert_int_equal(sshconfig_parse("\nInclude ~/x.conf\n", 18, "sys",
	    SSHCONFIG_SYSTEM, &test_env, &c, &msg), ERR_PARSE);
	expect_msg(msg, "sys", 2, "bad include path ~/x.conf");
	free(msg);
}

/* HostName %h %%; paths: ~, ~user, %-tokens, ${VAR}; %C refused. */
static void
test_tokens(void **state)
{
	struct sshconfig_host *h;
	struct sshconfig *c;
	struct sshconfig_query q = { "x", NULL, 0, NULL, NULL };
	char *msg = NULL, *want;

	(void)state;
	assert_int_equal(setenv("PEMRT_KEYS", "/vault", 1), 0);
	h = resolve_text(
	    "Host gw\n"
	    "  HostName %h.%%.example\n"
	    "  HostKeyAlias GW-Alias\n"
	    "  User admin\n"
	    "  Port 2022\n"
	    "  IdentityFile ~/.ssh/%h_%r_%p\n"
	    "  IdentityFile %d/%u/%l/%L/%n/%k/%%\n"
	    "  IdentityFile ${PEMRT_KEYS}/%i\n"
	    "  IdentityFile ~root/k\n"
	    "  IdentityFile none\n"
	    "  UserKnownHostsFile ~ ~/kh/%k\n"
	    "  GlobalKnownHostsFile ~/g/%h\n", "gw", NULL);
	assert_string_equal(h->hostname, "gw.%.example");
	assert_string_equal(h->host_key_alias, "gw-alias");
	assert_int_equal(h->n_identity_files, 4);
	assert_string_equal(h->identity_files[0],
	    "/home/op/.ssh/gw.%.example_admin_2022");
	assert_string_equal(h->identity_files[1],
	    "/home/op/op/ctl1.example.net/ctl1/gw/gw-alias/%");
	want = xasprintf("/vault/%lu", (unsigned long)getuid());
	assert_string_equal(h->identity_files[2], want);
	free(want);
	assert_int_equal(strncmp(h->identity_files[3], "/", 1), 0);
	assert_non_null(strstr(h->identity_files[3], "/k"));
	assert_int_equal(h->n_user_known_hosts, 2);
	assert_string_equal(h->user_known_hosts[0], "/home/op/");
	assert_string_equal(h->user_known_hosts[1], "/home/op/kh/gw-alias");
	/* GlobalKnownHostsFile: "~" only, no tokens (as ssh) */
	assert_string_equal(h->global_known_hosts[0], "/home/op/g/%h");
	sshconfig_host_free(h);
	c = load_text("IdentityFile /k/%C\n", &test_env);
	assert_int_equal(sshconfig_resolve(c, &q, &h, &msg), ERR_INVAL);
	expect_msg(msg, "/k/%C", 0, "%C is not supported");
	free(msg);
	sshconfig_free(c);
	c = load_text("\n\nHostName a%zb\n", &test_env);
	assert_int_equal(sshconfig_resolve(c, &q, &h, &msg), ERR_INVAL);
	expect_msg(msg, "x", 0, "unknown %-token");
	free(msg);
	sshconfig_free(c);
	c = load_text("UserKnownHostsFile ${PEMRT_NO_SUCH_VAR}\n", &test_env);
	assert_int_equal(sshconfig_resolve(c, &q, &h, &msg), ERR_INVAL);
	expect_msg(msg, "${PEMRT_NO_SUCH_VAR}", 0, "unset");
	free(msg);
	sshconfig_free(c);
}

/* ProxyJump chains, URIs, brackets, none; ProxyCommand reported. */
static void
test_proxy(void **state)
{
	struct sshconfig *c;
	struct sshconfig_host *h;
	struct sshconfig_query q = { "loop", NULL, 0, NULL, NULL };
	char *msg = NULL;

	(void)state;
	c = load_text(
	    "Host chain\n"
	    "  ProxyJump ops@bastion:2222,ssh://u@gw.example:23,10.0.0.9\n"
	    "Host v6\n"
	    "  ProxyJump [fd00::1]:2200\n"
	    "Host off\n"
	    "  ProxyJump none\n"
	    "Host off cmd\n"
	    "  ProxyCommand ssh -W %h:%p relay\n"
	    "Host loop\n"
	    "  ProxyJump loop\n"
	    "Host *\n"
	    "  ProxyJump fallback\n", &test_env);
	h = resolve_on(c, "chain", NULL);
	assert_string_equal(h->proxy_jump,
	    "ops@bastion:2222,ssh://u@gw.example:23,[10.0.0.9]");
	assert_int_equal(h->n_jump, 3);
	assert_string_equal(h->jump[0].user, "ops");
	assert_string_equal(h->jump[0].host, "bastion");
	assert_int_equal(h->jump[0].port, 2222);
	assert_string_equal(h->jump[1].user, "u");
	assert_string_equal(h->jump[1].host, "gw.example");
	assert_int_equal(h->jump[1].port, 23);
	assert_null(h->jump[2].user);
	assert_string_equal(h->jump[2].host, "10.0.0.9");
	assert_int_equal(h->jump[2].port, 0);
	assert_null(h->proxy_command);
	sshconfig_host_free(h);
	h = resolve_on(c, "v6", NULL);
	assert_string_equal(h->proxy_jump, "[fd00::1]:2200");
	assert_string_equal(h->jump[0].host, "fd00::1");
	sshconfig_host_free(h);
	/* none: no jump, and (as Debian's ssh) a later ProxyCommand holds */
	h = resolve_on(c, "off", NULL);
	assert_null(h->proxy_jump);
	assert_int_equal(h->n_jump, 0);
	assert_string_equal(h->proxy_command, "ssh -W %h:%p relay");
	sshconfig_host_free(h);
	h = resolve_on(c, "cmd", NULL);		/* first of the two wins */
	assert_null(h->proxy_jump);
	assert_string_equal(h->proxy_command, "ssh -W %h:%p relay");
	sshconfig_host_free(h);
	assert_int_equal(sshconfig_resolve(c, &q, &h, &msg), ERR_INVAL);
	expect_msg(msg, "loop", 0, "jumphost loop via loop");
	free(msg);
	sshconfig_free(c);
}

/* Malformed lines and values: ERR_PARSE naming file and line. */
static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *what;
	} bad[] = {
		{ "Port 0\n", 1, "bad port '0'" },
		{ "\nPort 99999\n", 2, "bad port" },
		{ "Port 22 23\n", 1, "extra arguments" },
		{ "User\n", 1, "no argument after keyword \"user\"" },
		{ "Unknown\n", 1, "no argument after keyword" },
		{ "HostName \"x\n", 1, "invalid quotes" },
		{ "ConnectTimeout soon\n", 1, "invalid time value" },
		{ "ServerAliveInterval -5\n", 1, "invalid time value" },
		{ "IdentitiesOnly maybe\n", 1, "unsupported option" },
		{ "StrictHostKeyChecking sometimes\n", 1,
		    "unsupported option" },
		{ "UserKnownHostsFile /a none\n", 1, "must appear alone" },
		{ "ProxyJump a,,b\n", 1, "invalid ProxyJump" },
		{ "ProxyJump host:0\n", 1, "invalid ProxyJump" },
		{ "Host \"\"\n", 1, "empty argument" },
		{ "Match\n", 1, "no argument after keyword" },
		{ "Match host\n", 1, "missing Match criteria for host" },
		{ "Match tagged x\n", 1, "unsupported Match attribute" },
		{ "Match all host x\n", 1, "cannot be combined" },
		{ "Match # nothing\n", 1, "one or more attributes" },
		{ "# ok\nHost x\n  Port 1\n\tPort =\n", 4,
		    "no argument after keyword" },
	};
	struct sshconfig *c;
	char *msg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = NULL;
		msg = NULL;
		assert_int_equal(sshconfig_parse(bad[i].text,
		    strlen(bad[i].text), "cfg", 0, &test_env, &c, &msg),
		    ERR_PARSE);
		assert_null(c);
		expect_msg(msg, "cfg", bad[i].line, bad[i].what);
		free(msg);
	}
	/* A missing -F file; "none" reads nothing. */
	assert_int_equal(sshconfig_load("/nonexistent/cfg", &test_env, &c,
	    &msg), ERR_IO);
	expect_msg(msg, "/nonexistent/cfg", 0, "cannot open");
	free(msg);
	assert_int_equal(sshconfig_load("none", &test_env, &c, NULL), 0);
	sshconfig_free(c);
}

#define SSH_BIN	"/usr/bin/ssh"

/* The ssh -G keys compared, in the order both sides print them. */
static const char *const gkeys[] = {
	"hostname", "user", "port", "identitiesonly", "userknownhostsfile",
	"globalknownhostsfile", "stricthostkeychecking", "proxyjump",
	"proxycommand", "connecttimeout", "serveraliveinterval",
	"hostkeyalias",
};
#define NGKEYS	(sizeof(gkeys) / sizeof(gkeys[0]))

/* Standard output of a shell command; the test fails if it fails. */
static char *
run(const char *cmd)
{
	struct strbuf b;
	char buf[4096];
	size_t n;
	FILE *p;

	assert_non_null(p = popen(cmd, "r"));
	strbuf_init(&b);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		strbuf_add(&b, buf, n);
	if (pclose(p) != 0)
		print_error("%s: failed\n", cmd);
	return strbuf_steal(&b);
}

static void
add_line(struct strbuf *b, const char *key, const char *value)
{
	strbuf_addf(b, "%s %s\n", key, value);
}

/*
 * What ssh -G says of host, the gkeys lines in gkeys order, then the
 * identity files.  ssh 9.2 shows IdentityFile unexpanded: it expands
 * the same way (~, then the same tokens) a UserKnownHostsFile, so a
 * second run with those paths as -o UserKnownHostsFile shows them.
 */
static char *
ssh_says(const char *cfg, const char *args, const char *host)
{
	char *val[NGKEYS] = { NULL }, *cmd, *out, *line, *save, *sp, *q[3];
	struct strbuf b, ids;
	size_t i;

	q[0] = shquote(cfg, 1);
	q[1] = shquote(host, 1);
	cmd = xasprintf(SSH_BIN " -F %s %s -G %s 2>&1 </dev/null", q[0],
	    args ? args : "", q[1]);
	out = run(cmd);
	free(cmd);
	strbuf_init(&ids);
	for (line = strtok_r(out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		if (strcmp(line, "identityfile") == 0 &&
		    strcasecmp(sp, "none") != 0)
			strbuf_addf(&ids, "%s%s", ids.len ? " " : "", sp);
		if (strcmp(line, "stricthostkeychecking") == 0)
			sp = strcmp(sp, "true") == 0 ? "yes" :
			    strcmp(sp, "false") == 0 ? "no" : sp;
		for (i = 0; i < NGKEYS; i++)
			if (strcmp(line, gkeys[i]) == 0)
				val[i] = xstrdup(sp);
	}
	free(out);
	strbuf_init(&b);
	for (i = 0; i < NGKEYS; i++) {
		if (val[i] != NULL)
			add_line(&b, gkeys[i], val[i]);
		free(val[i]);
	}
	if (ids.len > 0) {
		sp = xasprintf("UserKnownHostsFile=%s", ids.s);
		q[2] = shquote(sp, 1);
		cmd = xasprintf(SSH_BIN " -F %s -o %s %s -G %s 2>&1 "
		    "</dev/null | sed -n 's/^userknownhostsfile //p' | "
		    "tr ' ' '\\n'", q[0], q[2], args ? args : "", q[1]);
		out = run(cmd);
		for (line = strtok_r(out, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			add_line(&b, "identityfile", line);
		free(out);
		free(cmd);
		free(q[2]);
		free(sp);
	}
	strbuf_free(&ids);
	free(q[0]);
	free(q[1]);
	return strbuf_steal(&b);
}

/* The same lines from our resolution. */
static char *
ours_says(const struct sshconfig_host *h)
{
	struct strbuf b;
	char *s;
	size_t i;

	strbuf_init(&b);
	add_line(&b, "hostname", h->hostname);
	add_line(&b, "user", h->user);
	strbuf_addf(&b, "port %d\n", h->port);
	add_line(&b, "identitiesonly", h->identities_only ? "yes" : "no");
	s = join(h->user_known_hosts, h->n_user_known_hosts);
	add_line(&b, "userknownhostsfile", s);
	free(s);
	s = join(h->global_known_hosts, h->n_global_known_hosts);
	add_line(&b, "globalknownhostsfile", s);
	free(s);
	add_line(&b, "stricthostkeychecking", sshconfig_strict_name(h->strict));
	if (h->proxy_jump != NULL)
		add_line(&b, "proxyjump", h->proxy_jump);
	else if (h->proxy_command != NULL)
		add_line(&b, "proxycommand", h->proxy_command);
	if (h->connect_timeout < 0)
		add_line(&b, "connecttimeout", "none");
	else
		strbuf_addf(&b, "connecttimeout %d\n", h->connect_timeout);
	strbuf_addf(&b, "serveraliveinterval %d\n", h->server_alive_interval);
	if (h->host_key_alias != NULL)
		add_line(&b, "hostkeyalias", h->host_key_alias);
	for (i = 0; i < h->n_identity_files; i++)
		add_line(&b, "identityfile", h->identity_files[i]);
	return strbuf_steal(&b);
}

/* Included through a glob and a relative path, from ~/.ssh. */
static const char web_conf[] =
    "Host web*\n"
    "  User webadmin\n"
    "  IdentityFile ~/.ssh/web_%h_%r\n"
    "Match originalhost db* !user root,dba\n"
    "  Port 5433\n";
static const char db_conf[] =
    "Host db1\n"
    "  HostName=10.1.0.1\n"
    "  ProxyJump jump@bastion:2222,ssh://ops@gw.example:23,gw2\n"
    "Host db2\n"
    "  ProxyJump none\n"
    "  ProxyCommand ssh -W %h:%p gw\n";
static const char rel_conf[] =
    "Match host *.internal\n"
    "  StrictHostKeyChecking accept-new\n"
    "  ServerAliveInterval 1m30s\n"
    "Host *\n"
    "  ConnectTimeout 7\n";
static const char main_conf[] =
    "# the operator's configuration\n"
    "Include conf.d/*.conf\n"
    "Host *.prod !bad.prod\n"
    "  User produser\n"
    "  Port 2201\n"
    "Host qhost \"q2\"\n"
    "  HostName QHost.Example\n"
    "  IdentityFile none\n"
    "Host web2\n"
    "  HostName %h.internal\n"
    "  IdentitiesOnly yes\n"
    "  UserKnownHostsFile ~/.ssh/kh_%h ~/.ssh/kh_%r_%p %d/kh_%u\n"
    "  GlobalKnownHostsFile /etc/ssh/g1 /etc/ssh/g2\n"
    "  IdentityFile ~/.ssh/id_%l_%L_%n_%k_%i\n"
    "  HostKeyAlias Web2Alias\n"
    "Match final host *.internal\n"
    "  User finaluser\n"
    "  IdentityFile ~/.ssh/final_%h\n"
    "Match canonical !host foo\n"
    "  Port 4000\n"
    "Host ip6\n"
    "  HostName FE80::0001\n"
    "Host ip4\n"
    "  HostName 127.1\n"
    "Match user deploy\n"
    "  ProxyJump deploy@[10.9.9.9]:2022\n"
    "Include rel.conf\n"
    "Host *\n"
    "  IdentityFile ~/.ssh/id_all\n"
    "  StrictHostKeyChecking no\n"
    "  UserKnownHostsFile none\n";

/* One host, with ssh options args, as ssh -G and as we resolve it. */
static void
agree(const struct sshconfig *c, const char *cfg, const char *host,
    const char *args)
{
	struct sshconfig_host *h = resolve_on(c, host, args);
	char *theirs = ssh_says(cfg, args, host), *ours = ours_says(h);

	if (strcmp(theirs, ours) != 0)
		print_error("%s [%s]:\n--- ssh -G\n%s--- ours\n%s", host,
		    args ? args : "", theirs, ours);
	assert_string_equal(theirs, ours);
	free(theirs);
	free(ours);
	sshconfig_host_free(h);
}

/* ssh -G is the reference: every host, and -o precedence. */
static void
test_openssh_agrees(void **state)
{
	static const char *const hosts[] = {
		"web1", "web2", "db1", "db2", "dbx", "x.prod", "bad.prod",
		"qhost", "q2", "ip6", "ip4", "foo", "FOO", "other.internal",
		"Mixed.Case",
	};
	static const char *const args[] = {
		"-o User=x", "-oPort=2 -p 99", "-l deploy -o User=y",
		"-o 'StrictHostKeyChecking yes' -o UserKnownHostsFile=/kh",
		"-J j@jump:2,k", "-o ProxyJump=none", "-o IdentityFile=/k/o",
		"-o ConnectTimeout=3 -o ServerAliveInterval=4",
		"-o HostName=h.example", "-o IdentitiesOnly=yes",
	};
	struct sshconfig *c;
	char *p[4], *idfile, *a;
	size_t i;

	(void)state;
	if (access(SSH_BIN, X_OK) != 0)
		skip();
	p[0] = home_file(".ssh/conf.d/10-web.conf", web_conf);
	p[1] = home_file(".ssh/conf.d/20-db.conf", db_conf);
	p[2] = home_file(".ssh/rel.conf", rel_conf);
	p[3] = home_file("cfg", main_conf);
	idfile = home_file("id_cmdline", "");	/* ssh drops missing -i */
	assert_int_equal(sshconfig_load(p[3], NULL, &c, NULL), 0);
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		agree(c, p[3], hosts[i], NULL);
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		agree(c, p[3], "web2", args[i]);
		agree(c, p[3], "db1", args[i]);
	}
	a = xasprintf("-i %s -l dba", idfile);
	agree(c, p[3], "dbx", a);
	free(a);
	sshconfig_free(c);
	for (i = 0; i < 4; i++)
		free(p[i]);
	free(idfile);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syntax, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_defaults, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_host_patterns,
		    home_setup, home_teardown),
		cmocka_unit_test_setup_teardown(test_match, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_match_final, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_match_exec, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_include, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_include_errors,
		    home_setup, home_teardown),
		cmocka_unit_test_setup_teardown(test_tokens, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_proxy, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_errors, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_openssh_agrees,
		    home_setup, home_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
