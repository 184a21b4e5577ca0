/*
 * test_report.c: the per-host table and the JSON report, including
 * hostile text in errors and names; the JSON is checked by a real parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xmem.h"
#include "inventory/agentcfg.h"
#include "inventory/inventory.h"
#include "orchestrator/options.h"
#include "orchestrator/report.h"

static const char inv_text[] =
    "[pem_server]\n"
    "pem ansible_host=10.0.0.1\n"
    "[pem_agents]\n"
    "pem\n"
    "db1 ansible_host=10.0.0.2\n"
    "\"db\\\"2\" ansible_host=10.0.0.3\n"
    "[pem_server:vars]\n"
    "x=1\n";

struct fixture {
	struct opts o;
	struct run r;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *msg;
	size_t i;

	f->o.command = "rotate";
	f->r.o = &f->o;
	assert_int_equal(inventory_parse(inv_text, strlen(inv_text),
	    "t.ini", &f->r.inv, &msg), 0);
	f->r.nhosts = inventory_count(f->r.inv);
	assert_int_equal(f->r.nhosts, 3);
	f->r.hosts = xcalloc(f->r.nhosts, sizeof(*f->r.hosts));
	for (i = 0; i < f->r.nhosts; i++) {
		f->r.hosts[i].inv = inventory_host(f->r.inv, i);
		f->r.hosts[i].label = xstrdup(f->r.hosts[i].inv->name);
		f->r.hosts[i].agent_id = (long)i + 1;
		f->r.hosts[i].status = HS_OK;
		f->r.hosts[i].seconds = 1.25;
	}
	f->r.hosts[2].status = HS_FAILED;
	f->r.hosts[2].phase = "push";
	f->r.hosts[2].error = xstrdup("upload: \"quoted\" \\ and\nnewline\x01");
	f->r.started = 1800000000;
	f->r.finished = 1800000042;
	f->r.result = RUN_PARTIAL;
	f->r.exit_code = 1;
	snprintf(f->r.run_id, sizeof(f->r.run_id), "20270115T080000Z");
	memset(f->r.new_ca_fp, 'a', 64);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < f->r.nhosts; i++) {
		free(f->r.hosts[i].label);
		free(f->r.hosts[i].error);
		free(f->r.hosts[i].cfg_path);
	}
	free(f->r.hosts);
	inventory_free(f->r.inv);
	free(f);
	return 0;
}

/* Feed text to python3's json parser; returns what the check printed. */
static char *
py_check(const char *json, const char *expr)
{
	char path[] = "/tmp/pemrt-report-XXXXXX", *cmd, buf[512];
	FILE *fp, *p;
	int fd;
	size_t n;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	fputs(json, fp);
	fclose(fp);
	cmd = xasprintf("python3 -c 'import json,sys; r=json.load(open(sys."
	    "argv[1])); print(%s)' %s", expr, path);
	p = popen(cmd, "r");
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	assert_int_equal(pclose(p), 0);
	unlink(path);
	free(cmd);
	buf[strcspn(buf, "\n")] = '\0';
	return xstrdup(buf);
}

static void
expect(const char *json, const char *expr, const char *want)
{
	char *got = py_check(json, expr);

	assert_string_equal(got, want);
	free(got);
}

static void
test_json_fields(void **state)
{
	struct fixture *f = *state;
	char *j = report_json_text(&f->r);

	expect(j, "r[\"command\"], r[\"result\"], r[\"exit_status\"]",
	    "rotate partial 1");
	expect(j, "r[\"started\"], r[\"finished\"]",
	    "2027-01-15T08:00:00Z 2027-01-15T08:00:42Z");
	expect(j, "r[\"ca\"][\"old_sha256\"], len(r[\"ca\"][\"new_sha256\"])",
	    "None 64");
	expect(j, "len(r[\"hosts\"]), [h[\"role\"] for h in r[\"hosts\"]]",
	    "3 ['server', 'agent', 'agent']");
	expect(j, "[h[\"status\"] for h in r[\"hosts\"]]",
	    "['ok', 'ok', 'failed']");
	expect(j, "r[\"hosts\"][2][\"name\"], r[\"hosts\"][2][\"phase\"]",
	    "db\"2 push");
	expect(j, "repr(r[\"hosts\"][2][\"error\"])",
	    "'upload: \"quoted\" \\\\ and\\nnewline\\x01'");
	expect(j, "r[\"hosts\"][0][\"error\"], r[\"hosts\"][0][\"seconds\"]",
	    "None 1.25");
	free(j);
}

static void
test_json_file_written_atomically(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/pemrt-report-out-XXXXXX", *msg = NULL;
	int fd = mkstemp(path);
	char *buf = xcalloc(1, 65536);
	FILE *fp;

	close(fd);
	assert_int_equal(report_json(&f->r, path, &msg), 0);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_true(fread(buf, 1, 65535, fp) > 100);
	fclose(fp);
	assert_non_null(strstr(buf, "\"run_id\": \"20270115T080000Z\""));
	unlink(path);
	free(buf);
	assert_int_not_equal(report_json(&f->r, "/nonexistent/dir/r.json",
	    &msg), 0);
	assert_non_null(strstr(msg, "/nonexistent/dir/r.json"));
	free(msg);
}

static void
test_table(void **state)
{
	struct fixture *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	report_table(&f->r, m);
	fclose(m);
	assert_non_null(strstr(buf, "HOST"));
	assert_non_null(strstr(buf, "AGENT ID"));
	assert_non_null(strstr(buf, "pem   "));
	assert_non_null(strstr(buf, "failed"));
	assert_non_null(strstr(buf, "push: upload"));
	assert_non_null(strstr(buf,
	    "partial: 3 host(s): 2 ok, 1 failed, 0 skipped in 42s"));
	free(buf);
}

/* Which file each agent's settings came from, in the table and JSON. */
static void
test_settings(void **state)
{
	struct fixture *f = *state;
	struct host *h = f->r.hosts;
	char *buf = NULL, *j;
	size_t len = 0;
	FILE *m;

	h[0].is_agent = h[1].is_agent = h[2].is_agent = 1;
	h[0].cfg_kind = AGENTCFG_CFG;
	h[0].cfg_path = xstrdup("/usr/edb/pem/agent/etc/agent.cfg");
	h[1].cfg_kind = AGENTCFG_REGINI;
	h[1].cfg_path = xstrdup("/etc/postgres-reg.ini");
	h[2].cfg_inventory = 1;
	h[2].cfg_path = xstrdup("/usr/edb/pem/agent/etc/agent.cfg");
	j = report_json_text(&f->r);
	expect(j, "[h[\"settings\"] for h in r[\"hosts\"]]",
	    "['agent.cfg', 'postgres-reg.ini', 'inventory']");
	expect(j, "[h[\"settings_file\"] for h in r[\"hosts\"]]",
	    "['/usr/edb/pem/agent/etc/agent.cfg', '/etc/postgres-reg.ini', "
	    "None]");
	free(j);
	m = open_memstream(&buf, &len);
	report_table(&f->r, m);
	fclose(m);
	assert_non_null(strstr(buf, "SETTINGS"));
	assert_non_null(strstr(buf, " agent.cfg "));
	assert_non_null(strstr(buf, " postgres-reg.ini "));
	assert_non_null(strstr(buf, " inventory "));
	free(buf);
	/* not an agent, or its settings not read: none */
	h[0].is_agent = 0;
	h[1].cfg_kind = AGENTCFG_NONE;
	j = report_json_text(&f->r);
	expect(j, "[h[\"settings\"] for h in r[\"hosts\"]][:2], "
	    "r[\"hosts\"][1][\"settings_file\"]", "[None, None] None");
	free(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_json_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_json_file_written_atomically, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
