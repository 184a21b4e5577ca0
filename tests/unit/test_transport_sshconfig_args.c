/*
 * test_transport_sshconfig_args.c: the ssh options of Ansible's
 * ansible_ssh_common_args / ansible_ssh_extra_args (split as shlex
 * splits them, read as ssh reads its options), who wins between the
 * caller, those options and the files, the names ssh refuses, and one
 * load resolved by many threads at once.
 */
#include "test_sshconfig.h"

#include <pthread.h>

#define NTHREADS	4
#define NHOSTS		1000

/* Parse common and extra; fails the test on error. */
static struct sshconfig_args *
args(const char *common, const char *extra)
{
	struct sshconfig_args *a = NULL;
	char *msg = NULL;
	int r = sshconfig_args_parse(common, extra, &a, &msg);

	if (r != 0)
		print_error("args: %d %s\n", r, msg);
	assert_int_equal(r, 0);
	assert_null(msg);
	return a;
}

static struct sshconfig_host *
resolve_q(const struct sshconfig *c, struct sshconfig_query *q)
{
	struct sshconfig_host *h = NULL;
	char *msg = NULL;
	int r = sshconfig_resolve(c, q, &h, &msg);

	if (r != 0)
		print_error("resolve: %d %s\n", r, msg);
	assert_int_equal(r, 0);
	return h;
}

/* shlex words, -oKey=Value, -o 'Key Value', grouped flags, -F. */
static void
test_args_words(void **state)
{
	struct sshconfig *c = load_text("", &test_env);
	struct sshconfig_query q = { "h1", NULL, 0, NULL, NULL };
	struct sshconfig_host *h;
	struct sshconfig_args *a;

	(void)state;
	a = args("-Cq -o ControlMaster=auto -o ControlPersist=60s "
	    "-o 'ProxyCommand=ssh -W %h:%p -q bastion' "
	    "-o\"User \"'op' -p2222 -F/etc/a.cfg -c aes128-ctr -e none "
	    "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
	    "-i ~/.ssh/k\\ 1 -F /etc/b.cfg",
	    "-o ServerAliveInterval=30 -o ConnectTimeout=9 -o User=late");
	assert_string_equal(sshconfig_args_config(a), "/etc/b.cfg");
	q.args = a;
	h = resolve_q(c, &q);
	assert_string_equal(h->proxy_command, "ssh -W %h:%p -q bastion");
	assert_string_equal(h->user, "op");
	assert_int_equal(h->port, 2222);
	assert_int_equal(h->strict, SSHCONFIG_STRICT_NO);
	assert_int_equal(h->n_user_known_hosts, 1);
	assert_string_equal(h->user_known_hosts[0], "/dev/null");
	assert_int_equal(h->n_identity_files, 1);
	assert_string_equal(h->identity_files[0], "/home/op/.ssh/k 1");
	assert_int_equal(h->server_alive_interval, 30);
	assert_int_equal(h->connect_timeout, 9);
	sshconfig_host_free(h);
	sshconfig_args_free(a);
	/* Nothing given: nothing to do. */
	a = args(NULL, "  ");
	assert_null(sshconfig_args_config(a));
	sshconfig_args_free(a);
	sshconfig_free(c);
}

/* Each bad argument is refused with its name. */
static void
test_args_errors(void **state)
{
	static const struct {
		const char *common, *extra, *where, *what;
	} bad[] = {
		{ "-L 8080:db:5432", NULL, "ansible_ssh_common_args",
		    "unsupported ssh option -L" },
		{ NULL, "-C -D1080", "ansible_ssh_extra_args",
		    "unsupported ssh option -D" },
		{ "-o", NULL, "ansible_ssh_common_args",
		    "option -o requires an argument" },
		{ "-p 22 web1", NULL, "ansible_ssh_common_args",
		    "unexpected argument \"web1\"" },
		{ "-o 'User=x", NULL, "ansible_ssh_common_args",
		    "no closing quotation" },
		{ "-o User=x\\", NULL, "ansible_ssh_common_args",
		    "no escaped character" },
		{ "-o Port=ssh2", NULL, "ansible_ssh_common_args",
		    "bad port" },
		{ "-p 0", NULL, "ansible_ssh_common_args", "bad port '0'" },
		{ "-o Host=x", NULL, "ansible_ssh_common_args",
		    "Host is not supported" },
		{ "-o 'Include /etc/x'", NULL, "ansible_ssh_common_args",
		    "Include is not supported" },
		{ "-o Match=all", NULL, "ansible_ssh_common_args",
		    "Match is not supported" },
		{ "-J a", "-J b", "ansible_ssh_extra_args",
		    "only a single -J" },
		{ "-o ProxyCommand=nc -J b", NULL, "ansible_ssh_common_args",
		    "cannot specify -J with ProxyCommand" },
		{ "-J 'bastion;id'", NULL, "ansible_ssh_common_args",
		    "invalid ProxyJump" },
		{ "-o 'ProxyJump u`id`@b'", NULL, "ansible_ssh_common_args",
		    "invalid ProxyJump" },
		{ "-o IdentitiesOnly=perhaps", NULL,
		    "ansible_ssh_common_args", "unsupported option" },
	};
	struct sshconfig_args *a;
	char *msg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = NULL;
		msg = NULL;
		assert_int_equal(sshconfig_args_parse(bad[i].common,
		    bad[i].extra, &a, &msg), ERR_INVAL);
		assert_null(a);
		expect_msg(msg, bad[i].where, 0, bad[i].what);
		free(msg);
	}
}

/*
 * The caller's user, port and key win (Ansible puts its own -o User=,
 * -o Port=, -o IdentityFile= first), then the options in order, then
 * the files; IdentityFile accumulates in that order.
 */
static void
test_precedence(void **state)
{
	struct sshconfig *c;
	struct sshconfig_query q = { "db1", NULL, 0, NULL, NULL };
	struct sshconfig_host *h;
	struct sshconfig_args *a;

	(void)state;
	c = load_text(
	    "Host db1\n"
	    "  User cfg\n"
	    "  Port 1\n"
	    "  IdentityFile /k/cfg\n"
	    "  ProxyJump cfgjump\n"
	    "Match user inv\n"
	    "  ServerAliveInterval 11\n", &test_env);
	a = args("-l common -p 2 -i /k/i -o IdentityFile=/k/o",
	    "-l extra -o User=extra -J j1");
	q.args = a;
	h = resolve_q(c, &q);
	assert_string_equal(h->user, "common");
	assert_int_equal(h->port, 2);
	assert_string_equal(h->proxy_jump, "j1");
	assert_int_equal(h->n_identity_files, 3);
	assert_string_equal(h->identity_files[0], "/k/i");
	assert_string_equal(h->identity_files[1], "/k/o");
	assert_string_equal(h->identity_files[2], "/k/cfg");
	assert_int_equal(h->server_alive_interval, 0);
	sshconfig_host_free(h);
	q.user = "inv";
	q.port = 2200;
	q.identity = "/k/inv";
	h = resolve_q(c, &q);
	assert_string_equal(h->user, "inv");
	assert_int_equal(h->port, 2200);
	assert_int_equal(h->n_identity_files, 4);
	assert_string_equal(h->identity_files[0], "/k/inv");
	assert_int_equal(h->server_alive_interval, 11);	/* Match user */
	sshconfig_host_free(h);
	q.args = NULL;
	q.user = NULL;
	q.port = 0;
	q.identity = NULL;
	h = resolve_q(c, &q);
	assert_string_equal(h->user, "cfg");
	assert_int_equal(h->port, 1);
	assert_string_equal(h->proxy_jump, "cfgjump");
	sshconfig_host_free(h);
	sshconfig_args_free(a);
	sshconfig_free(c);
}

/* Destinations and users ssh refuses on its command line. */
static void
test_bad_names(void **state)
{
	static const char *const hosts[] = {
		"-oProxyCommand=x", "a;b", "a b", "$(id)", "a,b", "a\nb", "",
	};
	struct sshconfig *c = load_text("", &test_env);
	struct sshconfig_query q = { NULL, NULL, 0, NULL, NULL };
	struct sshconfig_host *h = NULL;
	char *msg = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		q.host = hosts[i];
		assert_int_equal(sshconfig_resolve(c, &q, &h, &msg),
		    ERR_INVAL);
		assert_null(h);
		assert_non_null(strstr(msg, "invalid characters"));
		assert_int_equal(str_has_ctrl(msg), 0);
		free(msg);
	}
	q.host = "ok";
	q.port = 65536;
	assert_int_equal(sshconfig_resolve(c, &q, &h, &msg), ERR_INVAL);
	expect_msg(msg, "ok", 0, "bad port 65536");
	free(msg);
	q.port = 0;
	q.user = "-oops";
	assert_int_equal(sshconfig_resolve(c, &q, &h, &msg), ERR_INVAL);
	assert_non_null(strstr(msg, "username contains invalid"));
	free(msg);
	sshconfig_free(c);
}

struct worker {
	const struct sshconfig *c;
	const struct sshconfig_args *a;
	char **want;		/* NHOSTS results made by one thread */
	int bad;
};

static char *
summary(const struct sshconfig_host *h)
{
	return xasprintf("%s %s %s %d %s %s %s", h->host, h->hostname,
	    h->user, h->port, h->identity_files[0],
	    h->n_identity_files > 1 ? h->identity_files[1] : "-",
	    h->proxy_jump ? h->proxy_jump : "-");
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct sshconfig_query q = { NULL, NULL, 0, NULL, w->a };
	struct sshconfig_host *h;
	char name[64], *s;
	size_t i;

	for (i = 0; i < NHOSTS; i++) {
		snprintf(name, sizeof(name), "agent%zu.dc%zu", i, i % 7);
		q.host = name;
		h = NULL;
		if (sshconfig_resolve(w->c, &q, &h, NULL) != 0) {
			w->bad++;
			continue;
		}
		s = summary(h);
		w->bad += strcmp(s, w->want[i]) != 0;
		free(s);
		sshconfig_host_free(h);
	}
	return NULL;
}

/* One load, a thousand hosts, resolved by several threads at once. */
static void
test_threads(void **state)
{
	struct sshconfig_env env = { test_home, "op", "ctl1" };
	struct worker w[NTHREADS];
	pthread_t t[NTHREADS];
	struct sshconfig_host *h;
	struct sshconfig *c;
	struct sshconfig_args *a;
	char name[64], *want[NHOSTS], *inc;
	size_t i;

	(void)state;
	inc = home_file(".ssh/dc.conf",
	    "Host *.dc3\n  ProxyJump jump3\nHost *.dc5\n  User five\n");
	c = load_text(
	    "Include dc.conf\n"
	    "Host agent1*\n"
	    "  HostName %h.example\n"
	    "  IdentityFile ~/.ssh/%h\n"
	    "Match host *.example originalhost *.dc?\n"
	    "  Port 2022\n"
	    "Host *\n"
	    "  IdentityFile ~/.ssh/id_%r\n", &env);
	a = args("-o ServerAliveInterval=5", NULL);
	for (i = 0; i < NHOSTS; i++) {
		snprintf(name, sizeof(name), "agent%zu.dc%zu", i, i % 7);
		h = resolve_on(c, name, "-o ServerAliveInterval=5");
		want[i] = summary(h);
		sshconfig_host_free(h);
	}
	for (i = 0; i < NTHREADS; i++) {
		w[i].c = c;
		w[i].a = a;
		w[i].want = want;
		w[i].bad = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
	assert_non_null(strstr(want[13], "agent13.dc6.example"));
	assert_non_null(strstr(want[3], "jump3"));
	for (i = 0; i < NHOSTS; i++)
		free(want[i]);
	free(inc);
	sshconfig_args_free(a);
	sshconfig_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_args_words, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_args_errors, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_precedence, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, home_setup,
		    home_teardown),
		cmocka_unit_test_setup_teardown(test_threads, home_setup,
		    home_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
