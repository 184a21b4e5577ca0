/*
 * test_inventory.c: the Ansible-style inventory parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "inventory/inventory.h"

static int
parse_n(const char *text, size_t len, struct inventory **inv, char **msg)
{
	return inventory_parse(text, len, "inv.ini", inv, msg);
}

static struct inventory *
parse_ok(const char *text)
{
	struct inventory *inv = NULL;
	char *msg;
	int r;

	r = parse_n(text, strlen(text), &inv, &msg);
	if (r != 0)
		print_error("unexpected error %d: %s\n", r, msg);
	assert_int_equal(r, 0);
	assert_null(msg);
	assert_non_null(inv);
	return inv;
}

/* Parse len bytes; expect code and "inv.ini:LINE: ...what...". */
static void
expect_err_n(const char *text, size_t len, int code, int line,
    const char *what)
{
	struct inventory *inv = (struct inventory *)&inv;
	char *msg, prefix[64];
	int r;

	r = parse_n(text, len, &inv, &msg);
	snprintf(prefix, sizeof(prefix), "inv.ini:%d: ", line);
	if (r != code || msg == NULL ||
	    strncmp(msg, prefix, strlen(prefix)) != 0 ||
	    strstr(msg, what) == NULL)
		print_error("want %d \"%s...%s\", got %d \"%s\"\n", code,
		    prefix, what, r, msg ? msg : "(none)");
	assert_int_equal(r, code);
	assert_null(inv);
	assert_non_null(msg);
	assert_memory_equal(msg, prefix, strlen(prefix));
	assert_non_null(strstr(msg, what));
	free(msg);
}

static void
expect_err(const char *text, int code, int line, const char *what)
{
	expect_err_n(text, strlen(text), code, line, what);
}

static void
expect_parse_err(const char *text, int line, const char *what)
{
	expect_err(text, ERR_PARSE, line, what);
}

static const struct inv_host *
find_host(const struct inventory *inv, const char *name, size_t *idx)
{
	size_t i;

	for (i = 0; i < inventory_count(inv); i++) {
		if (strcmp(inventory_host(inv, i)->name, name) == 0) {
			if (idx != NULL)
				*idx = i;
			return inventory_host(inv, i);
		}
	}
	fail_msg("host %s not found", name);
	return NULL;
}

static const char realistic[] =
    "# PEM estate, production\n"				/* 1 */
    "orphan.example.com\n"					/* 2 */
    "[all:vars]\n"						/* 3 */
    "ansible_user=pemadmin\n"					/* 4 */
    "ansible_ssh_private_key_file = /home/ops/.ssh/pem_ed25519\n"	/* 5 */
    "\n"							/* 6 */
    "[pem_server]   # the one server\n"				/* 7 */
    "pem01.example.com ansible_host=10.0.0.5\n"			/* 8 */
    "\n"							/* 9 */
    "[pem_agents]\n"						/* 10 */
    "pem01.example.com\t; the server's own agent\n"		/* 11 */
    "db[01:03].example.com ansible_port=2222\n"			/* 12 */
    "replica-[a:c].example.com ansible_user=root "
    "note=\"primary replica\" ; comment\n"			/* 13 */
    "  ; indented comment\n"					/* 14 */
    "[pem_agents:vars]\n"					/* 15 */
    "description = 'agent host'   # trailing comment\n"	/* 16 */
    "ansible_user=postgres\n"					/* 17 */
    "\n"							/* 18 */
    "[pem_agents:children]\n"					/* 19 */
    "linux_free\n"						/* 20 */
    "\n"							/* 21 */
    "[linux_free]\n"						/* 22 */
    "app[8:10:2].example.com ansible_host=\"10.0.1.8\"\n"	/* 23 */
    "[pem_server:vars]\n"					/* 24 */
    "ansible_user=enterprisedb\n";				/* 25 */

static void
test_realistic(void **state)
{
	static const char *order[] = { "pem01.example.com",
	    "db01.example.com", "db02.example.com", "db03.example.com",
	    "replica-a.example.com", "replica-b.example.com",
	    "replica-c.example.com", "app8.example.com",
	    "app10.example.com" };
	struct inventory *inv = parse_ok(realistic);
	const struct inv_host *h;
	size_t i;

	assert_int_equal(inventory_count(inv), 9);
	for (i = 0; i < 9; i++)
		assert_string_equal(inventory_host(inv, i)->name, order[i]);
	assert_null(inventory_host(inv, 9));
	assert_string_equal(inventory_path(inv), "inv.ini");

	h = inventory_server(inv);
	assert_ptr_equal(h, inventory_host(inv, 0));
	assert_string_equal(h->name, "pem01.example.com");
	assert_string_equal(h->address, "10.0.0.5");
	assert_int_equal(h->port, 22);
	assert_string_equal(h->user, "enterprisedb");
	assert_string_equal(h->ssh_key, "/home/ops/.ssh/pem_ed25519");
	assert_true(h->is_server);
	assert_true(h->is_agent);
	assert_int_equal(h->line, 8);
	assert_string_equal(inventory_var(inv, 0, "description"),
	    "agent host");
	inventory_free(inv);
}

static void
test_realistic_agents(void **state)
{
	struct inventory *inv = parse_ok(realistic);
	const struct inv_host *h;
	size_t i;

	h = find_host(inv, "db02.example.com", NULL);
	assert_false(h->is_server);
	assert_true(h->is_agent);
	assert_string_equal(h->address, "db02.example.com");
	assert_int_equal(h->port, 2222);
	assert_string_equal(h->user, "postgres");
	assert_int_equal(h->line, 12);

	h = find_host(inv, "replica-b.example.com", &i);
	assert_string_equal(h->user, "root");
	assert_string_equal(inventory_var(inv, i, "note"), "primary replica");
	assert_string_equal(inventory_var(inv, i, "description"),
	    "agent host");
	assert_null(inventory_var(inv, i, "nonexistent"));
	assert_null(inventory_var(inv, 99, "note"));

	h = find_host(inv, "app10.example.com", &i);
	assert_true(h->is_agent);
	assert_false(h->is_server);
	assert_string_equal(h->address, "10.0.1.8");
	assert_string_equal(h->user, "postgres");
	assert_string_equal(h->ssh_key, "/home/ops/.ssh/pem_ed25519");
	assert_int_equal(h->line, 23);
	inventory_free(inv);
}

static void
test_precedence(void **state)
{
	struct inventory *inv = parse_ok(
	    "[all:vars]\n"
	    "v_all=all\n"
	    "v=all\n"
	    "[pem_server]\n"
	    "srv v=host\n"
	    "[pem_agents]\n"
	    "srv\n"
	    "ag\n"
	    "[pem_agents:vars]\n"
	    "v=agents\n"
	    "v2=agents\n"
	    "later=1\n"
	    "later=2\n"
	    "[pem_server:vars]\n"
	    "v2=server\n"
	    "[pem_agents:children]\n"
	    "sub\n"
	    "[sub]\n"
	    "subhost ansible_user=hostuser\n"
	    "[sub:vars]\n"
	    "v=sub\n"
	    "ansible_user=subuser\n");
	size_t i;

	assert_int_equal(inventory_count(inv), 3);
	find_host(inv, "srv", &i);
	assert_int_equal(i, 0);
	assert_string_equal(inventory_var(inv, i, "v"), "host");
	assert_string_equal(inventory_var(inv, i, "v2"), "server");
	assert_string_equal(inventory_var(inv, i, "v_all"), "all");
	assert_string_equal(inventory_var(inv, i, "later"), "2");
	find_host(inv, "ag", &i);
	assert_string_equal(inventory_var(inv, i, "v"), "agents");
	assert_string_equal(inventory_var(inv, i, "v2"), "agents");
	assert_null(inventory_host(inv, i)->user);
	/* A child group's vars beat its parent's, as in Ansible. */
	find_host(inv, "subhost", &i);
	assert_string_equal(inventory_var(inv, i, "v"), "sub");
	assert_string_equal(inventory_var(inv, i, "v2"), "agents");
	assert_string_equal(inventory_var(inv, i, "v_all"), "all");
	assert_string_equal(inventory_host(inv, i)->user, "hostuser");
	inventory_free(inv);
}

static void
test_vars_before_group(void **state)
{
	struct inventory *inv = parse_ok(
	    "[g:vars]\n"
	    "x=1\n"
	    "[pem_agents:children]\n"
	    "g\n"
	    "[pem_server]\n"
	    "srv\n"
	    "[g]\n"
	    "h\n");
	size_t i;

	find_host(inv, "h", &i);
	assert_string_equal(inventory_var(inv, i, "x"), "1");
	assert_true(inventory_host(inv, i)->is_agent);
	inventory_free(inv);
}

static void
test_server_through_children(void **state)
{
	struct inventory *inv = parse_ok(
	    "[pem_server:children]\n"
	    "central\n"
	    "[central]\n"
	    "srv ansible_port=5022\n"
	    "[pem_agents]\n"
	    "a1\n");

	assert_int_equal(inventory_count(inv), 2);
	assert_string_equal(inventory_server(inv)->name, "srv");
	assert_int_equal(inventory_server(inv)->port, 5022);
	assert_false(inventory_server(inv)->is_agent);
	inventory_free(inv);
}

static void
test_ranges(void **state)
{
	struct inventory *inv = parse_ok(
	    "[pem_server]\n"
	    "srv\n"
	    "[pem_agents]\n"
	    "web[01:10].example.com\n"
	    "db-[a:f]\n"
	    "s[1:10:2]\n"
	    "r[1:2]-[a:b]\n"
	    "w[08:10]\n"
	    "z[3:3]\n");
	static const char *want[] = { "srv", "web01.example.com",
	    "web02.example.com", "web03.example.com", "web04.example.com",
	    "web05.example.com", "web06.example.com", "web07.example.com",
	    "web08.example.com", "web09.example.com", "web10.example.com",
	    "db-a", "db-b", "db-c", "db-d", "db-e", "db-f",
	    "s1", "s3", "s5", "s7", "s9", "r1-a", "r1-b", "r2-a", "r2-b",
	    "w08", "w09", "w10", "z3" };
	size_t i, n = sizeof(want) / sizeof(want[0]);

	assert_int_equal(inventory_count(inv), n);
	for (i = 0; i < n; i++)
		assert_string_equal(inventory_host(inv, i)->name, want[i]);
	inventory_free(inv);
}

static void
test_quoting(void **state)
{
	struct inventory *inv = parse_ok(
	    "[pem_server]\n"
	    "srv a=\"x y\" b='p q' c=plain\\ esc d=\"say \\\"hi\\\"\" "
	    "e=back\\\\slash f='it\"s' g=h#i j=\"\" k=\"a\\qb\" # comment\n"
	    "[pem_server:vars]\n"
	    "m = \"  spaced  \"  ; comment\n"
	    "n='a # b'\n"
	    "o= # nothing\n"
	    "p=two words  \n");

	assert_string_equal(inventory_var(inv, 0, "a"), "x y");
	assert_string_equal(inventory_var(inv, 0, "b"), "p q");
	assert_string_equal(inventory_var(inv, 0, "c"), "plain esc");
	assert_string_equal(inventory_var(inv, 0, "d"), "say \"hi\"");
	assert_string_equal(inventory_var(inv, 0, "e"), "back\\slash");
	assert_string_equal(inventory_var(inv, 0, "f"), "it\"s");
	assert_string_equal(inventory_var(inv, 0, "g"), "h#i");
	assert_string_equal(inventory_var(inv, 0, "j"), "");
	assert_string_equal(inventory_var(inv, 0, "k"), "a\\qb");
	assert_string_equal(inventory_var(inv, 0, "m"), "  spaced  ");
	assert_string_equal(inventory_var(inv, 0, "n"), "a # b");
	assert_string_equal(inventory_var(inv, 0, "o"), "");
	assert_string_equal(inventory_var(inv, 0, "p"), "two words");
	inventory_free(inv);
}

static void
test_host_port_and_crlf(void **state)
{
	struct inventory *inv = parse_ok(
	    "[pem_server]\r\n"
	    "srv:2200\r\n"
	    "[pem_agents]\r\n"
	    "a[1:2]:2201 ansible_user=x\r\n"
	    "b:2202 ansible_port=2203\r\n"
	    "fe80::1\r\n");

	assert_int_equal(inventory_count(inv), 5);
	assert_string_equal(inventory_host(inv, 0)->name, "srv");
	assert_int_equal(inventory_host(inv, 0)->port, 2200);
	assert_string_equal(inventory_host(inv, 2)->name, "a2");
	assert_int_equal(inventory_host(inv, 2)->port, 2201);
	assert_string_equal(inventory_host(inv, 2)->user, "x");
	assert_int_equal(inventory_host(inv, 3)->port, 2203);
	assert_string_equal(inventory_host(inv, 4)->name, "fe80::1");
	inventory_free(inv);
}

static void
test_host_in_several_groups(void **state)
{
	struct inventory *inv = parse_ok(
	    "[pem_agents]\n"
	    "a x=1\n"
	    "[pem_server]\n"
	    "srv\n"
	    "[other]\n"
	    "a x=2\n"
	    "[pem_agents:children]\n"
	    "other\n");

	/* In pem_agents directly and through "other": listed once. */
	assert_int_equal(inventory_count(inv), 2);
	assert_string_equal(inventory_host(inv, 1)->name, "a");
	assert_int_equal(inventory_host(inv, 1)->line, 2);
	assert_string_equal(inventory_var(inv, 1, "x"), "2");
	inventory_free(inv);
}

static void
test_err_syntax(void **state)
{
	expect_parse_err("[pem_server]\nsrv a='x\n", 2,
	    "unterminated ' quote");
	expect_parse_err("[pem_server]\nsrv a=\"x\n", 2,
	    "unterminated \" quote");
	expect_parse_err("[pem_server]\nsrv a=x\\\n", 2, "backslash");
	expect_parse_err("[pem_server]\n[g:vars]\nk='v\n", 3,
	    "unterminated");
	expect_parse_err("# c\n[pem_server] extra\n", 2, "stray text");
	expect_parse_err("[pem_server]]\n", 1, "stray text");
	expect_parse_err("\n\n[pem server]\n", 3, "bad section header");
	expect_parse_err("[pem_server\n", 1, "bad section header");
	expect_parse_err("[]\n", 1, "bad section header");
	expect_parse_err("[pem_server:foo]\n", 1, "bad section header");
	expect_parse_err("[pem_server]\nsrv\n[pem_server:vars]\njustaword\n",
	    4, "expected key=value");
	expect_parse_err("[pem_server]\nsrv foo\n", 2,
	    "\"foo\" is not key=value");
	expect_parse_err("[pem_server]\nsrv =x\n", 2, "empty variable name");
	expect_parse_err("[all:vars]\n = x\n", 2, "empty variable name");
	expect_parse_err("[pem_server]\nsrv a-b=x\n", 2,
	    "invalid variable name");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents:children]\n"
	    "a b\n", 4, "stray text");
}

static void
test_err_groups(void **state)
{
	expect_parse_err("[pem_server]\nsrv\n[nosuch:vars]\na=1\n", 3,
	    "[nosuch:vars] names unknown group nosuch");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents:children]\n"
	    "nosuch\n", 4, "[pem_agents:children] names unknown group nosuch");
	/* The earlier of the two is reported. */
	expect_parse_err("[pem_server]\nsrv\n[x:children]\nnosuch\n"
	    "[y:vars]\n", 4, "unknown group nosuch");
	expect_parse_err("[pem_server]\nsrv\n[y:vars]\n[x:children]\n"
	    "nosuch\n", 3, "unknown group y");
	expect_parse_err("[pem_server]\nsrv\n[a:children]\nb\n[b:children]\n"
	    "c\n[c:children]\na\n", 8, "cycle in children");
	expect_parse_err("[pem_server]\nsrv\n[a:children]\na\n", 4,
	    "cycle in children");
	/* A cycle below an acyclic part. */
	expect_parse_err("[pem_agents:children]\nb\n[b:children]\nc\n"
	    "[c:children]\nb\n[pem_server]\nsrv\n", 6, "cycle in children");
	expect_parse_err("[pem_server]\nsrv\n[x:children]\nall\n", 4,
	    "all cannot be a child");
}

static void
test_err_hosts(void **state)
{
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\na\nb\na x=1\n", 6,
	    "host a is listed twice in [pem_agents]");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nh[1:3]\nh2\n", 5,
	    "h2 is listed twice");
	expect_parse_err("[pem_server]\nsrv ansible_port=0\n", 2,
	    "ansible_port \"0\"");
	expect_parse_err("[pem_server]\nsrv ansible_port=65536\n", 2,
	    "ansible_port");
	expect_parse_err("[pem_server]\nsrv ansible_port=22x\n", 2,
	    "ansible_port");
	expect_parse_err("[pem_server]\nsrv:0\n", 2, "ansible_port");
	expect_parse_err("[pem_server]\nsrv\n[all:vars]\nansible_port=-1\n",
	    4, "ansible_port");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\n''\n", 4,
	    "empty host name");
}

static void
test_err_ranges(void **state)
{
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nweb[10:01]\n", 4,
	    "reversed range [10:01]");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nweb[f:a]\n", 4,
	    "reversed range");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nweb[1:x]\n", 4,
	    "malformed range");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nweb[01:1]\n", 4,
	    "malformed range");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nweb[1:3\n", 4,
	    "malformed range");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nweb]1\n", 4,
	    "malformed range");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nweb[1]\n", 4,
	    "malformed range");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nweb[1:3:0]\n", 4,
	    "malformed range");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nweb[1:]\n", 4,
	    "malformed range");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nweb[0:100000]\n",
	    4, "more than 100000 hosts");
	expect_parse_err("[pem_server]\nsrv\n[pem_agents]\nw[1:400][1:300]\n",
	    4, "more than 100000 hosts");
}

static void
test_err_server(void **state)
{
	expect_parse_err("[pem_agents]\na\n", 2, "no [pem_server] section");
	expect_parse_err("", 1, "no [pem_server] section");
	expect_parse_err("[pem_server:vars]\nx=1\n", 1,
	    "[pem_server:vars] names unknown group");
	expect_parse_err("[pem_agents]\na\n\n[pem_server]\n[pem_agents]\nb\n",
	    4, "no host in [pem_server]");
	expect_parse_err("[pem_server:children]\nempty\n[empty]\n", 1,
	    "no host in [pem_server]");
	expect_parse_err("[pem_server]\na\nb\n", 3,
	    "second host b in [pem_server] (first: a)");
	expect_parse_err("[pem_server]\na\n[pem_server:children]\nc\n[c]\n"
	    "a\nb\n", 7, "second host b");
}

static void
test_err_bytes(void **state)
{
	static const char nul[] = "[pem_server]\nsr\0v\n";

	expect_parse_err("[pem_server]\nsrv\x01\n", 2,
	    "control character 0x01");
	expect_parse_err("[pem_server]\nsrv a=\x1b[0m\n", 2,
	    "control character 0x1b");
	expect_parse_err("[pem_server]\nsrv a=\x7f\n", 2,
	    "control character 0x7f");
	expect_parse_err("[pem_server]\rsrv\n", 1, "control character 0x0d");
	expect_err_n(nul, sizeof(nul) - 1, ERR_PARSE, 2, "NUL byte");
}

static void
test_err_sizes(void **state)
{
	struct inventory *inv = (struct inventory *)&inv;
	size_t big = 16 * 1024 * 1024 + 1, n;
	char *buf, *msg;

	/* A 64 KiB line is fine, one byte more is not. */
	buf = malloc(big);
	assert_non_null(buf);
	n = (size_t)sprintf(buf, "[pem_server]\nsrv\n#");
	memset(buf + n, 'x', 64 * 1024 - 1);
	n += 64 * 1024 - 1;
	buf[n++] = '\n';
	assert_int_equal(parse_n(buf, n, &inv, &msg), 0);
	assert_null(msg);
	inventory_free(inv);
	buf[n - 1] = 'x';
	buf[n] = '\n';
	expect_err_n(buf, n + 1, ERR_TOOBIG, 3, "line longer than");

	memset(buf, '#', big);
	inv = (struct inventory *)&inv;
	assert_int_equal(parse_n(buf, big, &inv, &msg), ERR_TOOBIG);
	assert_null(inv);
	assert_string_equal(msg, "inv.ini: larger than 16777216 bytes");
	free(msg);
	free(buf);
}

static void
test_big_range(void **state)
{
	struct inventory *inv;
	clock_t t0 = clock();
	size_t i;
	char want[64];

	inv = parse_ok("[pem_server]\nsrv\n[pem_agents]\n"
	    "agent[00001:10000].example.com ansible_user=pem\n");
	assert_int_equal(inventory_count(inv), 10001);
	for (i = 1; i <= 10000; i += 999) {
		snprintf(want, sizeof(want), "agent%05zu.example.com", i);
		assert_string_equal(inventory_host(inv, i)->name, want);
		assert_string_equal(inventory_host(inv, i)->user, "pem");
		assert_int_equal(inventory_host(inv, i)->line, 4);
	}
	inventory_free(inv);
	/* 100000 hosts is the bound and still allowed. */
	inv = parse_ok("[pem_server]\nsrv\n[pem_agents]\na[1:100000]\n");
	assert_int_equal(inventory_count(inv), 100001);
	inventory_free(inv);
	print_message("  10000 + 100000 hosts in %.3f s\n",
	    (double)(clock() - t0) / CLOCKS_PER_SEC);
}

/* 20000 hosts, one a line, in two groups each; then one duplicate. */
static void
test_many_lines(void **state)
{
	size_t cap = 2 * 1024 * 1024, n, i;
	char *buf = malloc(cap);
	struct inventory *inv;
	clock_t t0 = clock();

	assert_non_null(buf);
	n = (size_t)sprintf(buf, "[pem_server]\nsrv\n[pem_agents]\n");
	for (i = 0; i < 20000; i++)
		n += (size_t)sprintf(buf + n, "h%zu.example.com "
		    "ansible_host=10.%zu.%zu.1\n", i, i / 256, i % 256);
	n += (size_t)sprintf(buf + n, "[pem_agents:children]\nsub\n[sub]\n");
	for (i = 0; i < 20000; i++)
		n += (size_t)sprintf(buf + n, "h%zu.example.com\n", i);
	buf[n] = '\0';
	inv = parse_ok(buf);
	assert_int_equal(inventory_count(inv), 20001);
	assert_string_equal(inventory_host(inv, 20000)->address,
	    "10.78.31.1");
	inventory_free(inv);
	n += (size_t)sprintf(buf + n, "h777.example.com\n");
	expect_parse_err(buf, 40007, "h777.example.com is listed twice");
	print_message("  2 x 40000 lines in %.3f s\n",
	    (double)(clock() - t0) / CLOCKS_PER_SEC);
	free(buf);
}

static void
test_load(void **state)
{
	char path[] = "/tmp/test_inventory.XXXXXX", *msg;
	char dir[] = "/tmp/test_inventory_d.XXXXXX";
	const char *src[1] = { path };
	struct inventory *inv = NULL;
	int fd;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, realistic, sizeof(realistic) - 1),
	    (ssize_t)sizeof(realistic) - 1);
	close(fd);
	assert_int_equal(inventory_load(src, 1, &inv, &msg), 0);
	assert_null(msg);
	assert_string_equal(inventory_path(inv), path);
	assert_string_equal(inventory_host(inv, 0)->file, path);
	assert_int_equal(inventory_count(inv), 9);
	inventory_free(inv);
	unlink(path);
	inv = (struct inventory *)&inv;
	assert_int_equal(inventory_load(src, 1, &inv, &msg), ERR_IO);
	assert_null(inv);
	assert_non_null(strstr(msg, "No such file"));
	free(msg);
	/* a directory with no inventory file in it */
	assert_non_null(mkdtemp(dir));
	src[0] = dir;
	assert_int_equal(inventory_load(src, 1, &inv, &msg), ERR_PARSE);
	assert_null(inv);
	assert_non_null(strstr(msg, "no [pem_server] section"));
	free(msg);
	rmdir(dir);
	inventory_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_realistic),
		cmocka_unit_test(test_realistic_agents),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_vars_before_group),
		cmocka_unit_test(test_server_through_children),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_host_port_and_crlf),
		cmocka_unit_test(test_host_in_several_groups),
		cmocka_unit_test(test_err_syntax),
		cmocka_unit_test(test_err_groups),
		cmocka_unit_test(test_err_hosts),
		cmocka_unit_test(test_err_ranges),
		cmocka_unit_test(test_err_server),
		cmocka_unit_test(test_err_bytes),
		cmocka_unit_test(test_err_sizes),
		cmocka_unit_test(test_big_range),
		cmocka_unit_test(test_many_lines),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
