/*
 * test_inventory_json.c: JSON inventories (invjson.c) and the sources
 * invexec.c reads: "-", *.json and a dynamic inventory script, run for
 * real (tests/unit/data/inv_script.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/inventory.h"
#include "inventory/inventory_int.h"

static struct inventory *
parse_ok(const char *text)
{
	struct inventory *inv = NULL;
	char *msg;
	int r;

	r = inventory_parse_json(text, strlen(text), "inv.json", &inv, &msg);
	if (r != 0)
		print_error("unexpected error %d: %s\n", r, msg);
	assert_int_equal(r, 0);
	assert_null(msg);
	assert_non_null(inv);
	return inv;
}

/* text fails with code and exactly message want. */
static void
parse_err(const char *text, int code, const char *want)
{
	struct inventory *inv = (struct inventory *)&inv;
	char *msg = NULL;
	int r;

	r = inventory_parse_json(text, strlen(text), "inv.json", &inv, &msg);
	assert_null(inv);
	assert_non_null(msg);
	if (r != code || strcmp(msg, want) != 0)
		print_error("got %d \"%s\", want %d \"%s\"\n", r, msg, code,
		    want);
	assert_int_equal(r, code);
	assert_string_equal(msg, want);
	free(msg);
}

static size_t
find(const struct inventory *inv, const char *name)
{
	size_t i;

	for (i = 0; i < inventory_count(inv); i++) {
		if (strcmp(inventory_host(inv, i)->name, name) == 0)
			return i;
	}
	fail_msg("no host %s", name);
	return 0;
}

static const char *
var(const struct inventory *inv, const char *host, const char *name)
{
	return inventory_var(inv, find(inv, host), name);
}

/* An inventory script's own output: groups as objects and lists. */
static void
test_script_format(void **state)
{
	struct inventory *inv;
	const struct inv_host *h;

	inv = parse_ok("{\"web\": [\"w1\", \"w2\"],"
	    "\"pem_agents\": {\"hosts\": [\"a1\"], \"children\": [\"web\"],"
	    "  \"vars\": {\"pem_agent_cfg\": \"/etc/a.cfg\"}},"
	    "\"pem_server\": {\"hosts\": [\"srv\"]},"
	    "\"_meta\": {\"hostvars\": {"
	    "  \"srv\": {\"ansible_host\": \"10.0.0.1\","
	    "    \"ansible_port\": 2222},"
	    "  \"w2\": {\"ansible_user\": \"ops\"},"
	    "  \"nowhere\": {\"ansible_user\": \"ignored\"}}}}");
	assert_int_equal(inventory_count(inv), 4);
	h = inventory_server(inv);
	assert_string_equal(h->name, "srv");
	assert_string_equal(h->address, "10.0.0.1");
	assert_int_equal(h->port, 2222);
	assert_true(h->port_given);
	assert_true(h->is_server && !h->is_agent);
	/* the server first, then the order hosts were first seen */
	assert_string_equal(inventory_host(inv, 1)->name, "w1");
	assert_string_equal(inventory_host(inv, 2)->name, "w2");
	assert_string_equal(inventory_host(inv, 3)->name, "a1");
	assert_true(inventory_host(inv, 1)->is_agent);
	assert_int_equal(inventory_host(inv, 1)->port, 22);
	assert_string_equal(inventory_host(inv, 1)->address, "w1");
	assert_string_equal(var(inv, "w1", "pem_agent_cfg"), "/etc/a.cfg");
	assert_string_equal(inventory_host(inv, 2)->user, "ops");
	assert_null(var(inv, "srv", "pem_agent_cfg"));
	assert_string_equal(inventory_path(inv), "inv.json");
	inventory_free(inv);
}

/* What "ansible-inventory -i inv.ini --list" prints, and --export. */
static void
test_ansible_inventory_list(void **state)
{
	struct inventory *inv;

	inv = parse_ok("{\n"
	    "    \"_meta\": {\"hostvars\": {\n"
	    "        \"a1\": {\"ansible_user\": \"pemrt\","
	    " \"pem_agent_id\": 3},\n"
	    "        \"srv\": {\"ansible_user\": \"pemrt\"}}},\n"
	    "    \"all\": {\"children\": [\"ungrouped\", \"pem_server\","
	    " \"pem_agents\"]},\n"
	    "    \"pem_agents\": {\"hosts\": [\"a1\", \"srv\"]},\n"
	    "    \"pem_server\": {\"hosts\": [\"srv\"]}\n}\n");
	assert_int_equal(inventory_count(inv), 2);
	assert_true(inventory_server(inv)->is_agent);
	assert_string_equal(var(inv, "a1", "pem_agent_id"), "3");
	assert_string_equal(inventory_host(inv, 1)->user, "pemrt");
	inventory_free(inv);

	/* --export: group vars stay in the groups; Ansible's precedence */
	inv = parse_ok("{\"_meta\": {\"hostvars\": {\"a1\": "
	    "{\"x\": \"host\"}}},"
	    "\"all\": {\"children\": [\"pem_server\", \"pem_agents\"],"
	    "  \"vars\": {\"x\": \"all\", \"y\": \"all\", \"z\": \"all\","
	    "   \"w\": \"all\"}},"
	    "\"dc\": {\"hosts\": [\"a1\", \"a2\"], \"vars\": {\"y\": \"dc\"}},"
	    "\"pem_agents\": {\"children\": [\"dc\"], \"vars\": {\"y\": \"pa\","
	    "  \"z\": \"pa\"}},"
	    "\"pem_server\": {\"hosts\": [\"srv\"],"
	    " \"vars\": {\"w\": \"ps\"}}}");
	assert_string_equal(var(inv, "a1", "x"), "host");
	assert_string_equal(var(inv, "a2", "x"), "all");
	assert_string_equal(var(inv, "a2", "y"), "dc");	/* child wins */
	assert_string_equal(var(inv, "a2", "z"), "pa");
	assert_string_equal(var(inv, "a2", "w"), "all");
	assert_string_equal(var(inv, "srv", "w"), "ps");
	inventory_free(inv);
}

/* Scalars as text; arrays and objects as compact JSON; null unsets. */
static void
test_values(void **state)
{
	struct inventory *inv;

	inv = parse_ok("{\"pem_server\": {\"hosts\": [\"srv\"],"
	    "\"vars\": {\"u\": \"g\", \"n\": \"set\"}},"
	    "\"_meta\": {\"hostvars\": {\"srv\": {"
	    "\"t\": true, \"f\": false, \"i\": -42, \"big\": 9007199254740993,"
	    "\"r\": 0.1, \"r2\": 1.5e300, \"r3\": 2.0, \"s\": \"caf\\u00e9\","
	    "\"a\": [1, \"x\", {\"k\": null}], \"o\": {\"a\": {\"b\": []}},"
	    "\"n\": null, \"e\": \"\"}}}}");
	assert_string_equal(var(inv, "srv", "t"), "true");
	assert_string_equal(var(inv, "srv", "f"), "false");
	assert_string_equal(var(inv, "srv", "i"), "-42");
	assert_string_equal(var(inv, "srv", "big"), "9007199254740993");
	assert_string_equal(var(inv, "srv", "r"), "0.1");
	assert_string_equal(var(inv, "srv", "r2"), "1.5e+300");
	assert_string_equal(var(inv, "srv", "r3"), "2.0");
	assert_string_equal(var(inv, "srv", "s"), "caf\xc3\xa9");
	assert_string_equal(var(inv, "srv", "a"), "[1,\"x\",{\"k\":null}]");
	assert_string_equal(var(inv, "srv", "o"), "{\"a\":{\"b\":[]}}");
	assert_string_equal(var(inv, "srv", "e"), "");
	assert_string_equal(var(inv, "srv", "u"), "g");
	/* null on the host hides the group's value */
	assert_null(var(inv, "srv", "n"));
	inventory_free(inv);
}

/* Ansible's shorthands: a list is the hosts; vars alone name a host. */
static void
test_shorthands(void **state)
{
	struct inventory *inv;

	inv = parse_ok("{\"pem_server\": {\"ansible_host\": \"10.1.1.1\"},"
	    "\"pem_agents\": [\"a1\", \"a1\", \"pem_server\"],"
	    "\"other\": {\"hosts\": [], \"foo\": 1}}");
	assert_int_equal(inventory_count(inv), 2);
	assert_string_equal(inventory_server(inv)->name, "pem_server");
	assert_string_equal(inventory_server(inv)->address, "10.1.1.1");
	assert_true(inventory_server(inv)->is_agent);
	inventory_free(inv);
}

static void
test_err_syntax(void **state)
{
	parse_err("{\"pem_server\": [\"srv\"],\n\"pem_agents\": [\"a\",]}",
	    ERR_PARSE, "inv.json:2: bad JSON: unexpected token near ']' "
	    "(column 20)");
	parse_err("{\"pem_server\": [\"srv\"],\n\n \"pem_server\": []}",
	    ERR_PARSE, "inv.json:3: bad JSON: duplicate object key near "
	    "'\"pem_server\"' (column 13)");
	parse_err("", ERR_PARSE, "inv.json:1: bad JSON: '[' or '{' expected "
	    "near end of file (column 0)");
	parse_err("[\"srv\"]", ERR_PARSE, "inv.json: expected a JSON object "
	    "of groups (Ansible's inventory script format), got an array");
	parse_err("{\"pem_server\": \"srv\"}", ERR_PARSE, "inv.json: "
	    ".pem_server: expected a group (an object) or a list of hosts, "
	    "got a string");
	parse_err("{\"pem_server\": {\"hosts\": \"srv\"}}", ERR_PARSE,
	    "inv.json: .pem_server.hosts: expected a list of host names, got "
	    "a string");
	parse_err("{\"pem_server\": {\"hosts\": [\"srv\", 7]}}", ERR_PARSE,
	    "inv.json: .pem_server.hosts[1]: expected a host name (a string), "
	    "got a number");
	parse_err("{\"pem_server\": {\"hosts\": [\"s\"], \"vars\": [1]}}",
	    ERR_PARSE, "inv.json: .pem_server.vars: expected an object of "
	    "variables, got an array");
	parse_err("{\"a b\": {\"children\": [\"c\", null]}}", ERR_PARSE,
	    "inv.json: [\"a b\"].children[1]: expected a group name (a "
	    "string), got null");
	parse_err("{\"pem_server\": [\"s\"], \"_meta\": []}", ERR_PARSE,
	    "inv.json: ._meta: expected an object, got an array");
	parse_err("{\"pem_server\": [\"s\"], \"_meta\": {\"hostvars\": 1}}",
	    ERR_PARSE, "inv.json: ._meta.hostvars: expected an object, got "
	    "a number");
	parse_err("{\"pem_server\": [\"s\"], \"_meta\": {\"hostvars\": "
	    "{\"s\": \"x\"}}}", ERR_PARSE, "inv.json: ._meta.hostvars.s: "
	    "expected an object of variables, got a string");
	parse_err("{\"pem_server\": [\"s\\u0000\"]}", ERR_PARSE,
	    "inv.json:1: bad JSON: \\\\u0000 is not allowed without "
	    "JSON_ALLOW_NUL near '\"s\\\\u0000\"' (column 25)");
	parse_err("{\"pem_server\": [\"s\033[2J\"]}", ERR_PARSE,
	    "inv.json:1: bad JSON: control character 0x1b near '\"s' "
	    "(column 18)");
	parse_err("{\"pem_server\": [\"s\\n1\"]}", ERR_PARSE, "inv.json: "
	    ".pem_server[0]: control character in host name \"s\\n1\"");
	parse_err("{\"pem_server\": [\"\"]}", ERR_PARSE, "inv.json: "
	    ".pem_server[0]: empty host name");
}

static void
test_err_model(void **state)
{
	parse_err("{\"pem_server\": [\"s\"], \"_meta\": {\"hostvars\": "
	    "{\"s\": {\"ansible_port\": 70000}}}}", ERR_PARSE, "inv.json: "
	    "._meta.hostvars.s.ansible_port: \"70000\" is not a port number "
	    "(1-65535)");
	parse_err("{\"pem_server\": {\"hosts\": [\"s\"], \"vars\": "
	    "{\"ansible_port\": \"ssh\"}}}", ERR_PARSE, "inv.json: "
	    ".pem_server.vars.ansible_port: \"ssh\" is not a port number "
	    "(1-65535)");
	parse_err("{\"pem_agents\": [\"a\"]}", ERR_PARSE,
	    "inv.json: no group pem_server");
	parse_err("{\"pem_server\": {\"children\": [\"x\"]}}", ERR_PARSE,
	    "inv.json: no host in [pem_server]");
	parse_err("{\"pem_server\": [\"s1\", \"s2\"]}", ERR_PARSE,
	    "inv.json: second host s2 in [pem_server] (first: s1)");
	parse_err("{\"pem_server\": {\"children\": [\"all\"]}}", ERR_PARSE,
	    "inv.json: .pem_server.children[0]: group all cannot be a child");
	parse_err("{\"pem_server\": {\"hosts\": [\"s\"], \"children\": "
	    "[\"b\"]}, \"b\": {\"children\": [\"pem_server\"]}}", ERR_PARSE,
	    "inv.json: cycle in children: pem_server is a child of itself");
}

/* --- the sources --- */

static char *
script_path(void)
{
	const char *src = getenv("SOURCE_DIR");

	assert_non_null(src);
	return xasprintf("%s/tests/unit/data/inv_script.sh", src);
}

static int
load(const char *path, const char *mode, struct inventory **inv,
    char **msg)
{
	setenv("INV_MODE", mode, 1);
	return inventory_load(&path, 1, inv, msg);
}

static void
test_exec_meta(void **state)
{
	struct inventory *inv = NULL;
	char *path = script_path(), *msg;

	assert_true(invexec_source(path));
	assert_int_equal(load(path, "meta", &inv, &msg), 0);
	assert_null(msg);
	assert_int_equal(inventory_count(inv), 3);
	assert_string_equal(inventory_server(inv)->address, "10.0.0.1");
	assert_string_equal(var(inv, "srv", "pem_data_dir"), "/pg");
	assert_int_equal(inventory_host(inv, 1)->port, 2201);
	assert_string_equal(inventory_path(inv), path);
	inventory_free(inv);
	free(path);
}

/* No _meta: "SCRIPT --host NAME" for each host, as Ansible does. */
static void
test_exec_host(void **state)
{
	struct inventory *inv = NULL;
	char *path = script_path(), *msg;

	assert_int_equal(load(path, "nometa", &inv, &msg), 0);
	assert_string_equal(inventory_server(inv)->address, "10.0.0.1");
	assert_string_equal(var(inv, "a1", "pem_agent_id"), "4");
	assert_int_equal(inventory_host(inv, 1)->port, 2201);
	assert_null(var(inv, "a2", "pem_agent_id"));
	inventory_free(inv);
	assert_int_equal(load(path, "hostfail", &inv, &msg), ERR_IO);
	assert_null(inv);
	assert_non_null(strstr(msg, "inv_script.sh --host srv: exited with "
	    "status 3 (stderr: no such host srv)"));
	free(msg);
	free(path);
}

static void
test_exec_errors(void **state)
{
	struct inventory *inv = NULL;
	char *path = script_path(), *msg, *want;
	time_t t0;

	assert_int_equal(load(path, "fail", &inv, &msg), ERR_IO);
	want = xasprintf("%s --list: exited with status 1 (stderr: cannot "
	    "reach the CMDB: connection refused)", path);
	assert_string_equal(msg, want);
	free(want);
	free(msg);

	setenv("PEMROTATE_INVENTORY_TIMEOUT", "1", 1);
	t0 = time(NULL);
	assert_int_equal(load(path, "hang", &inv, &msg), ERR_TIMEOUT);
	assert_true(time(NULL) - t0 <= 3);
	want = xasprintf("%s --list: no answer within 1 s; killed (stderr: "
	    "thinking...)", path);
	assert_string_equal(msg, want);
	free(want);
	free(msg);
	unsetenv("PEMROTATE_INVENTORY_TIMEOUT");

	assert_int_equal(load(path, "badjson", &inv, &msg), ERR_PARSE);
	want = xasprintf("%s:2: bad JSON: unexpected token near ']' (column "
	    "22) (stderr of %s --list: partial output)", path, path);
	assert_string_equal(msg, want);
	free(want);
	free(msg);
	assert_null(inv);
	free(path);
}

static void
test_exec_run(void **state)
{
	const char *args[] = { "-c", "echo 0123456789; echo oops >&2", NULL };
	const char *bad[] = { NULL };
	char *out, *err, *msg;
	size_t len;

	assert_int_equal(invexec_run("/bin/sh", args, 5000, 100, &out, &len,
	    &err, &msg), 0);
	assert_int_equal(len, 11);
	assert_string_equal(out, "0123456789\n");
	assert_string_equal(err, "oops");
	assert_null(msg);
	free(out);
	free(err);
	assert_int_equal(invexec_run("/bin/sh", args, 5000, 5, &out, &len,
	    &err, &msg), ERR_TOOBIG);
	assert_null(out);
	assert_non_null(strstr(msg, "printed more than 5 bytes; killed"));
	free(msg);
	assert_int_equal(invexec_run("/nonexistent/inv", bad, 5000, 5, &out,
	    &len, &err, &msg), ERR_IO);
	assert_string_equal(msg, "/nonexistent/inv: exited with status 127 "
	    "(stderr: cannot execute: No such file or directory)");
	free(msg);
}

static const char listed[] = "{\"pem_server\": [\"srv\"], "
    "\"pem_agents\": [\"a1\"], \"_meta\": {\"hostvars\": "
    "{\"a1\": {\"ansible_host\": \"10.0.0.2\"}}}}";

/* A *.json file, and "-": stdin. */
static void
test_json_file_and_stdin(void **state)
{
	char path[] = "/tmp/test_inventory_json.XXXXXX.json", *msg;
	const char *src = path, *in = "-";
	struct inventory *inv = NULL;
	int fd, saved;

	assert_true((fd = mkstemps(path, 5)) >= 0);
	assert_int_equal(write(fd, listed, sizeof(listed) - 1),
	    (ssize_t)sizeof(listed) - 1);
	assert_true(invexec_source(path));
	assert_int_equal(inventory_load(&src, 1, &inv, &msg), 0);
	assert_string_equal(inventory_host(inv, 1)->address, "10.0.0.2");
	inventory_free(inv);

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	saved = dup(0);
	assert_int_equal(dup2(fd, 0), 0);
	assert_int_equal(inventory_load(&in, 1, &inv, &msg), 0);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	assert_string_equal(inventory_path(inv), "-");
	assert_string_equal(inventory_host(inv, 1)->address, "10.0.0.2");
	inventory_free(inv);
	close(fd);
	unlink(path);

	assert_int_equal(inventory_load(&src, 1, &inv, &msg), ERR_IO);
	assert_non_null(strstr(msg, "No such file"));
	free(msg);
	assert_false(invexec_source("/"));
	assert_false(invexec_source("/etc/passwd"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_format),
		cmocka_unit_test(test_ansible_inventory_list),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_shorthands),
		cmocka_unit_test(test_err_syntax),
		cmocka_unit_test(test_err_model),
		cmocka_unit_test(test_exec_meta),
		cmocka_unit_test(test_exec_host),
		cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_exec_run),
		cmocka_unit_test(test_json_file_and_stdin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
