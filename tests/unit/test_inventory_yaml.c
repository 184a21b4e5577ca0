/*
 * test_inventory_yaml.c: YAML inventories, host_vars/ and group_vars/,
 * several sources and directories.  The expected values of the data
 * sets in tests/unit/data/inventory/ are what ansible-inventory 2.14
 * (ansible-core) printed for them with --list (see the comments).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xmem.h"
#include "inventory/inventory.h"

#define asprintf(p, ...) ((*(p) = xasprintf(__VA_ARGS__)) != NULL)

static char *
data(const char *rel)
{
	const char *src = getenv("SOURCE_DIR");
	char *p;

	assert_non_null(src);
	assert_true(asprintf(&p, "%s/tests/unit/data/inventory/%s", src,
	    rel));
	return p;
}

static struct inventory *
load_ok(const char *a, const char *b)
{
	const char *src[2];
	struct inventory *inv = NULL;
	char *pa = data(a), *pb = b ? data(b) : NULL, *msg;
	int r;

	src[0] = pa;
	src[1] = pb;
	r = inventory_load(src, b ? 2 : 1, &inv, &msg);
	if (r != 0)
		print_error("unexpected error %d: %s\n", r, msg);
	assert_int_equal(r, 0);
	assert_null(msg);
	assert_int_equal(inventory_nsources(inv), b ? 2 : 1);
	assert_string_equal(inventory_source(inv, 0), pa);
	free(pa);
	free(pb);
	return inv;
}

static size_t
idx(const struct inventory *inv, const char *name)
{
	size_t i;

	for (i = 0; i < inventory_count(inv); i++) {
		if (strcmp(inventory_host(inv, i)->name, name) == 0)
			return i;
	}
	print_error("no host %s\n", name);
	fail();
	return 0;
}

/* Variable name of host is want (NULL: unset). */
static void
var_is(const struct inventory *inv, const char *host, const char *name,
    const char *want)
{
	const char *v = inventory_var(inv, idx(inv, host), name);

	if (want == NULL && v != NULL)
		print_error("%s %s: want unset, got \"%s\"\n", host, name, v);
	if (want == NULL)
		assert_null(v);
	else {
		if (v == NULL || strcmp(v, want) != 0)
			print_error("%s %s: want \"%s\", got \"%s\"\n", host,
			    name, want, v ? v : "(unset)");
		assert_non_null(v);
		assert_string_equal(v, want);
	}
}

/* The host's file ends in suffix and its line is line. */
static void
from(const struct inventory *inv, const char *host, const char *suffix,
    int line)
{
	const struct inv_host *h = inventory_host(inv, idx(inv, host));
	size_t n = strlen(h->file), m = strlen(suffix);

	assert_true(n >= m);
	assert_string_equal(h->file + n - m, suffix);
	assert_int_equal(h->line, line);
}

/*
 * data/inventory/yaml: ansible-inventory -i inv.yml --list said
 *   agent01 ansible_user=inv_user level=gv-agents-20
 *     pem_agent_cfg=/all/agent.cfg x_all=from-subdir
 *   agent02 ansible_host=10.0.0.2 (the rest as agent01)
 *     list=[1, 'a', {'b': None}]
 *   agent03 level=hv-agent03 (the rest as agent01)
 *   agent09 ansible_port=2222 ansible_user=None level=gv-agents-20
 *   pem1 ansible_host=10.0.0.1 level=gv-all x_all=1
 */
static void
test_yaml_inventory(void **state)
{
	struct inventory *inv = load_ok("yaml/inv.yml", NULL);
	const struct inv_host *s = inventory_server(inv);

	assert_int_equal(inventory_count(inv), 5);
	assert_string_equal(s->name, "pem1.example.com");
	assert_string_equal(s->address, "10.0.0.1");
	assert_true(s->is_server && !s->is_agent);
	from(inv, "pem1.example.com", "yaml/inv.yml", 8);
	from(inv, "agent01.example.com", "yaml/inv.yml", 15);
	from(inv, "agent09.example.com", "yaml/inv.yml", 16);
	var_is(inv, "pem1.example.com", "level", "gv-all");
	var_is(inv, "pem1.example.com", "x_all", "1");
	var_is(inv, "agent01.example.com", "level", "gv-agents-20");
	var_is(inv, "agent01.example.com", "ansible_user", "inv_user");
	var_is(inv, "agent01.example.com", "pem_agent_cfg", "/all/agent.cfg");
	var_is(inv, "agent01.example.com", "x_all", "from-subdir");
	var_is(inv, "agent02.example.com", "ansible_host", "10.0.0.2");
	var_is(inv, "agent02.example.com", "list",
	    "[\"1\", \"a\", {\"b\": null}]");
	var_is(inv, "agent03.example.com", "level", "hv-agent03");
	/* a null hides the group's value: unset */
	var_is(inv, "agent09.example.com", "ansible_user", NULL);
	assert_null(inventory_host(inv, idx(inv, "agent09.example.com"))->user);
	assert_int_equal(inventory_host(inv,
	    idx(inv, "agent09.example.com"))->port, 2222);
	assert_string_equal(inventory_host(inv,
	    idx(inv, "agent02.example.com"))->user, "inv_user");
	inventory_free(inv);
}

/*
 * data/inventory/prec: ansible-inventory -i a/inv -i b/inv.yml --list:
 *   h1 v_all=all-inv v_depth=agents v_grp=zeta v_gva=gv-all
 *      v_gvg=gv-zeta v_host=inv-host v_hv=hv-h1 v_name=zeta
 *      v_null=None v_src=b-alpha
 *   h2 v_all=all-inv v_depth=deep v_grp=zeta v_gva=gv-all v_gvg=gv-zeta
 *      v_host=gv-zeta v_hv=gv-zeta v_name=zeta v_null=set v_src=b-alpha
 *   h3 v_depth=agents v_grp=all-inv v_gvg=gv-all v_hv=gv-all v_null=set
 */
static void
test_precedence(void **state)
{
	struct inventory *inv = load_ok("prec/a/inv", "prec/b/inv.yml");

	assert_int_equal(inventory_count(inv), 4);
	var_is(inv, "h1", "v_all", "all-inv");
	var_is(inv, "h1", "v_depth", "agents");
	var_is(inv, "h2", "v_depth", "deep");	/* deeper group wins */
	var_is(inv, "h1", "v_name", "zeta");	/* then the later name */
	var_is(inv, "h1", "v_grp", "zeta");
	var_is(inv, "h1", "v_gva", "gv-all");	/* group_vars/all > groups */
	var_is(inv, "h1", "v_gvg", "gv-zeta");	/* group_vars/g > ../all */
	var_is(inv, "h1", "v_host", "inv-host"); /* host > group_vars */
	var_is(inv, "h2", "v_host", "gv-zeta");
	var_is(inv, "h1", "v_hv", "hv-h1");	/* host_vars > host */
	var_is(inv, "h2", "v_hv", "gv-zeta");
	var_is(inv, "h1", "v_null", NULL);	/* null in host_vars of b */
	var_is(inv, "h2", "v_null", "set");
	/* b's group_vars/alpha beats a's deeper group_vars/deep */
	var_is(inv, "h1", "v_src", "b-alpha");
	var_is(inv, "h2", "v_src", "b-alpha");
	var_is(inv, "h3", "v_grp", "all-inv");
	var_is(inv, "h3", "v_gvg", "gv-all");
	from(inv, "h3", "prec/b/inv.yml", 3);
	from(inv, "h2", "prec/a/inv", 5);
	assert_non_null(strstr(inventory_path(inv), "prec/a/inv, "));
	inventory_free(inv);
}

/*
 * data/inventory/multi: ansible-inventory -i d -i extra.ini --list: hosts
 * a1 a2 a3 pem1 sub_host (no host of .hid/, 30-ignored.ini, 40.txt);
 *   a1 ansible_user=extra_user level=yml20 x_all=gv-from-dir
 *   a2 ansible_user=extra_user level=extra x_all=gv-from-dir
 *   a3 ansible_user=extra_user x_all=gv-from-dir
 *   pem1 level=file10
 *   sub_host ansible_user=extra_user level=sub x_all=gv-from-dir
 */
static void
test_directory_and_merge(void **state)
{
	struct inventory *inv = load_ok("multi/d", "multi/extra.ini");
	const char *want[] = { "pem1", "a1", "a2", "sub_host", "a3" };
	size_t i;

	assert_int_equal(inventory_count(inv), 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(inventory_host(inv, i)->name, want[i]);
	var_is(inv, "pem1", "level", "file10");
	var_is(inv, "pem1", "x_all", NULL);
	var_is(inv, "a1", "level", "yml20");
	var_is(inv, "a1", "ansible_user", "extra_user");
	var_is(inv, "a1", "x_all", "gv-from-dir");
	var_is(inv, "a2", "level", "extra");
	var_is(inv, "a3", "level", NULL);
	var_is(inv, "sub_host", "level", "sub");
	from(inv, "a1", "multi/d/10-hosts", 4);
	from(inv, "a2", "multi/d/20-more.yml", 3);
	from(inv, "sub_host", "multi/d/sub/50", 2);
	from(inv, "a3", "multi/extra.ini", 3);
	inventory_free(inv);
}

/* Parse text as file fname; expect code and "fname:LINE: ...what...". */
static void
expect_err(const char *fname, const char *text, int line, const char *what)
{
	struct inventory *inv = (struct inventory *)&inv;
	char *msg = NULL, prefix[128];
	int r;

	r = inventory_parse(text, strlen(text), fname, &inv, &msg);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", fname, line);
	if (r == 0 || msg == NULL || strncmp(msg, prefix, strlen(prefix)) ||
	    strstr(msg, what) == NULL)
		print_error("want \"%s...%s\", got %d \"%s\"\n", prefix, what,
		    r, msg ? msg : "(none)");
	assert_int_not_equal(r, 0);
	assert_null(inv);
	assert_non_null(msg);
	assert_memory_equal(msg, prefix, strlen(prefix));
	assert_non_null(strstr(msg, what));
	free(msg);
}

static struct inventory *
parse_ok(const char *fname, const char *text)
{
	struct inventory *inv = NULL;
	char *msg = NULL;
	int r;

	r = inventory_parse(text, strlen(text), fname, &inv, &msg);
	if (r != 0)
		print_error("unexpected error %d: %s\n", r, msg);
	assert_int_equal(r, 0);
	assert_non_null(inv);
	return inv;
}

static void
test_yaml_errors(void **state)
{
	expect_err("i.yml", "pem_server:\n  hosts:\n    a: [\n", 4, "YAML: ");
	/* at the end of a last line without \n: that line, not one after */
	expect_err("i.yml", "pem_server:\n  hosts:\n    a:\nfoo", 4,
	    "YAML: could not find expected ':'");
	expect_err("i.yml", "pem_server:\r  hosts:\r    a:\rfoo", 4,
	    "YAML: could not find expected ':'");
	/* an empty document: its node is on the line after the text */
	expect_err("i.yml", "---", 1, "must be a mapping of groups");
	/* UTF-8 only, as Ansible reads it: a UTF-16 BOM is not taken */
	expect_err("i.yml", "\xff\xfep", 1, "YAML: invalid leading UTF-8");
	expect_err("i.yml", "pem_server:\n  host:\n    a:\n", 2,
	    "unexpected key \"host\" in group pem_server");
	expect_err("i.yml", "pem_server:\n  hosts:\n    - a\n", 3,
	    "\"hosts\" of group pem_server must be a mapping");
	expect_err("i.yml", "pem_server:\n  hosts:\n    web[3:1]:\n", 3,
	    "reversed range [3:1]");
	expect_err("i.yml", "pem_server:\n  hosts:\n    a:\n"
	    "      ansible_port: 99999\n", 4, "not a port number");
	expect_err("i.yml", "pem_server:\n  hosts:\n    a: 1\n", 3,
	    "host a: expected a mapping");
	expect_err("i.yml", "", 1, "empty YAML inventory");
	expect_err("i.yml", "- a\n- b\n", 1, "must be a mapping of groups");
	expect_err("i.yml", "all:\n  x: 1\nplugin: aws_ec2\n", 3,
	    "inventory plugin's configuration");
	expect_err("i.yml", "pem_server:\n  hosts: {a: }\n---\nb:\n", 3,
	    "more than one YAML document");
	expect_err("i.yml", "all:\n  vars: &d {v: 1}\npem_server:\n"
	    "  vars:\n    <<: *d\n", 5, "merge keys");
	expect_err("i.yml", "pem_server: [a]\n", 1, "group pem_server: "
	    "expected a mapping");
	expect_err("i.yml", "pem_server:\n  hosts: {a: }\n"
	    "pem_agents:\n  children:\n    pem_server:\n      hosts:\n"
	    "        b:\n", 7, "second host b in [pem_server]");
	expect_err("i.yml", "pem_server:\n  hosts: {a: }\n  children:\n"
	    "    bad/name:\n", 4, "bad group name");
	expect_err("i.yml", "pem_server:\n  hosts: {a: }\n  children:\n"
	    "    x:\n      children:\n        pem_server:\n", 6,
	    "cycle in children");
	expect_err("i.yml", "pem_agents:\n  hosts: {a: }\n", 2,
	    "no [pem_server] section");
	/* a recursive alias is refused, not walked for ever */
	expect_err("i.yml", "pem_server:\n  hosts: {a: }\n  vars:\n"
	    "    x: &r [*r]\n", 4, "YAML");
}

static void
test_yaml_forms(void **state)
{
	struct inventory *inv;

	/* a section may be a single name; a host twice in a group is fine */
	inv = parse_ok("i.yaml", "pem_server:\n  hosts: pem1\n"
	    "pem_agents:\n  hosts:\n    a1:\n  children:\n    east:\n"
	    "east:\n  hosts:\n    a1:\n      k: v\n"
	    "all:\n  vars:\n    k: all\n    ansible_become: yes\n"
	    "    n: 1.50\n    q: 'x: y'\n");
	assert_int_equal(inventory_count(inv), 2);
	assert_string_equal(inventory_server(inv)->name, "pem1");
	assert_string_equal(inventory_var(inv, 1, "k"), "v");
	assert_string_equal(inventory_var(inv, 0, "k"), "all");
	assert_string_equal(inventory_var(inv, 0, "ansible_become"), "yes");
	assert_string_equal(inventory_var(inv, 0, "n"), "1.50");
	assert_string_equal(inventory_var(inv, 0, "q"), "x: y");
	inventory_free(inv);
	/* no extension: YAML if a mapping, else INI */
	inv = parse_ok("hosts", "pem_server:\n  hosts:\n    s:\n");
	assert_string_equal(inventory_server(inv)->name, "s");
	inventory_free(inv);
	inv = parse_ok("hosts", "[pem_server]\ns ansible_port=2200\n");
	assert_int_equal(inventory_server(inv)->port, 2200);
	inventory_free(inv);
	inv = parse_ok("hosts", "s\n[pem_server]\ns\n");
	inventory_free(inv);
	/* another extension: INI */
	expect_err("inv.prod", "pem_server:\n  hosts:\n", 2,
	    "no [pem_server] section");
}

static void
test_vault_and_templates(void **state)
{
	struct inventory *inv;

	expect_err("i.yml", "pem_server:\n  hosts:\n    a:\n"
	    "      ansible_become_password: !vault |\n"
	    "        $ANSIBLE_VAULT;1.1;AES256\n        6136\n", 4,
	    "ansible_become_password (host a) is encrypted with Ansible "
	    "Vault");
	expect_err("i.yml", "all:\n  vars:\n    pem_agent_cfg: "
	    "\"{{ base }}/agent.cfg\"\npem_server:\n  hosts: {a: }\n", 3,
	    "pem_agent_cfg (host a) is a Jinja2 template");
	expect_err("i.ini", "[pem_server]\na ansible_host={{x}}\n", 2,
	    "ansible_host (host a) is a Jinja2 template");
	/* a variable pemrotate does not use, or one overridden: fine */
	inv = parse_ok("i.yml", "all:\n  vars:\n    app_secret: !vault |\n"
	    "      $ANSIBLE_VAULT;1.1;AES256\n      6136\n"
	    "    motd: \"{{ x }}\"\n    ansible_host: \"{{ y }}\"\n"
	    "pem_server:\n  hosts:\n    a: {ansible_host: 10.1.1.1}\n"
	    "pem_agents:\n  hosts:\n"
	    "    b: {pem_agent_cfg: !unsafe '{{ literal }}', "
	    "ansible_host: b}\n");
	assert_string_equal(inventory_server(inv)->address, "10.1.1.1");
	assert_null(inventory_var(inv, 0, "app_secret"));
	inventory_free(inv);
	expect_err("i.ini", "$ANSIBLE_VAULT;1.1;AES256\n61\n", 2, "");
}

/* Write text to dir/rel (mkdir -p the directories). */
static void
put(const char *dir, const char *rel, const char *text)
{
	char *path, *s;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, rel));
	for (s = path + strlen(dir) + 1; (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		mkdir(path, 0700);
		*s = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	free(path);
}

static void
load_err(const char *dir, const char *rel, const char *want)
{
	struct inventory *inv = NULL;
	char *path, *msg = NULL;
	const char *src[1];
	int r;

	assert_true(asprintf(&path, "%s/%s", dir, rel));
	src[0] = path;
	r = inventory_load(src, 1, &inv, &msg);
	if (r == 0 || msg == NULL || strstr(msg, want) == NULL)
		print_error("want \"%s\", got %d \"%s\"\n", want, r,
		    msg ? msg : "(none)");
	assert_int_not_equal(r, 0);
	assert_null(inv);
	assert_non_null(strstr(msg, want));
	free(msg);
	free(path);
}

static void
test_vars_files_errors(void **state)
{
	char dir[] = "/tmp/test_inventory_yaml.XXXXXX", *want;

	assert_non_null(mkdtemp(dir));
	put(dir, "inv", "[pem_server]\ns\n[pem_agents]\na\n");
	put(dir, "group_vars/pem_agents/vault.yml",
	    "$ANSIBLE_VAULT;1.1;AES256\n6136\n");
	assert_true(asprintf(&want, "%s/group_vars/pem_agents/vault.yml:1: "
	    "encrypted with Ansible Vault", dir));
	load_err(dir, "inv", want);
	free(want);
	put(dir, "group_vars/pem_agents/vault.yml", "ok: 1\n");
	put(dir, "host_vars/s.yml", "x: 1\nansible_port: [1]\n");
	assert_true(asprintf(&want, "%s/host_vars/s.yml:2: ansible_port",
	    dir));
	load_err(dir, "inv", want);
	free(want);
	put(dir, "host_vars/s.yml", "- a list\n");
	load_err(dir, "inv", "host_vars/s.yml:1: expected a mapping of "
	    "variables");
	put(dir, "host_vars/s.yml", "a: [\n");
	load_err(dir, "inv", "host_vars/s.yml:2: YAML: ");
	put(dir, "host_vars/s.yml", "pem_data_dir: !vault |\n  $ANSI\n");
	load_err(dir, "inv", "host_vars/s.yml:1: pem_data_dir (host s) is "
	    "encrypted");
	put(dir, "host_vars/s.yml", "");
	/* an INI [x:vars] for a group only a later source defines */
	put(dir, "b/inv", "[late:vars]\nx=1\n");
	put(dir, "c/inv", "[late]\ns\n");
	load_err(dir, "b/inv", "b/inv:1: [late:vars] names unknown group");
	assert_int_equal(system("rm -rf /tmp/test_inventory_yaml.*"), 0);
}

static void
test_ini_vars_after_earlier_source(void **state)
{
	char dir[] = "/tmp/test_inventory_yaml2.XXXXXX", *a, *b;
	const char *src[2];
	struct inventory *inv = NULL;
	char *msg = NULL;

	assert_non_null(mkdtemp(dir));
	put(dir, "1.yml", "pem_server:\n  hosts: {s: }\nlate:\n");
	put(dir, "2", "[late:vars]\nx=1\n[late:children]\npem_server\n");
	assert_true(asprintf(&a, "%s/1.yml", dir));
	assert_true(asprintf(&b, "%s/2", dir));
	src[0] = a;
	src[1] = b;
	assert_int_equal(inventory_load(src, 2, &inv, &msg), 0);
	assert_string_equal(inventory_var(inv, 0, "x"), "1");
	inventory_free(inv);
	/*
	 * The other way round: 2 names a group nobody defined yet (its
	 * [late:children] defines late, as in Ansible).
	 */
	src[0] = b;
	src[1] = a;
	assert_int_equal(inventory_load(src, 2, &inv, &msg), ERR_PARSE);
	assert_non_null(strstr(msg, "/2:4: [late:children] names unknown "
	    "group pem_server"));
	free(msg);
	free(a);
	free(b);
	assert_int_equal(system("rm -rf /tmp/test_inventory_yaml2.*"), 0);
}

/*
 * ansible_group_priority orders groups of one depth before their names:
 * ansible-inventory --list said v=alpha for both (and failed on "bad").
 */
static void
test_group_priority(void **state)
{
	struct inventory *inv;

	inv = parse_ok("i.yml", "pem_server:\n  hosts: {s: }\n"
	    "alpha:\n  vars: {v: alpha, ansible_group_priority: 5}\n"
	    "  hosts: {s: }\nzeta:\n  vars: {v: zeta}\n  hosts: {s: }\n");
	assert_string_equal(inventory_var(inv, 0, "v"), "alpha");
	inventory_free(inv);
	inv = parse_ok("i.ini", "[pem_server]\ns\n[alpha]\ns\n[zeta]\ns\n"
	    "[alpha:vars]\nv=alpha\nansible_group_priority=7\n"
	    "[zeta:vars]\nv=zeta\n");
	assert_string_equal(inventory_var(inv, 0, "v"), "alpha");
	inventory_free(inv);
	expect_err("i.ini", "[pem_server]\ns\n[alpha]\ns\n[alpha:vars]\n"
	    "ansible_group_priority=bad\n", 6, "ansible_group_priority "
	    "\"bad\" is not an integer");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_inventory),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_directory_and_merge),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_yaml_forms),
		cmocka_unit_test(test_vault_and_templates),
		cmocka_unit_test(test_vars_files_errors),
		cmocka_unit_test(test_ini_vars_after_earlier_source),
		cmocka_unit_test(test_group_priority),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
