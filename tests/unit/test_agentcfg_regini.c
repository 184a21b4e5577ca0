/*
 * test_agentcfg_regini.c: the agent's settings in an older install's
 * /etc/postgres-reg.ini, section [PEMAGENT] (agentcfg.c's second shape).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "inventory/agentcfg.h"

#define ORIGIN	"agent7 (10.0.0.17):/etc/postgres-reg.ini"

/* The shared registry file: other products' sections around the agent's. */
static const char real_ini[] =
    "[PostgreSQL/15]\n"						/* 1 */
    "Branding=PostgreSQL 15\n"					/* 2 */
    "DataDirectory=/opt/PostgreSQL/15/data\n"			/* 3 */
    "Port=5432\n"						/* 4 */
    "\n"							/* 5 */
    "[PEMAGENT]\n"						/* 6 */
    "AgentID=7\n"						/* 7 */
    "AgentKeyPath=/root/.pem/agent7.key\n"			/* 8 */
    "AgentCrtPath=/root/.pem/agent7.crt\n"			/* 9 */
    "InstallationDirectory=/opt/PEM/agent\n"			/* 10 */
    "\n"							/* 11 */
    "[PEMHTTPD]\n"						/* 12 */
    "AgentID=99\n"						/* 13 */
    "Port=8080\n";						/* 14 */

static void
expect_err(const char *text, int code, int line, const char *what)
{
	struct agentcfg cfg, before;
	char *msg, prefix[128];
	int r;

	memset(&before, 0xa5, sizeof(before));
	cfg = before;
	r = agentcfg_parse(text, strlen(text), ORIGIN, &cfg, &msg);
	snprintf(prefix, sizeof(prefix), ORIGIN ":%d: ", line);
	if (r != code || msg == NULL || strstr(msg, what) == NULL ||
	    strncmp(msg, prefix, strlen(prefix)) != 0)
		print_error("want %d \"%s...%s\", got %d \"%s\"\n", code,
		    prefix, what, r, msg ? msg : "(none)");
	assert_int_equal(r, code);
	assert_non_null(msg);
	assert_memory_equal(msg, prefix, strlen(prefix));
	assert_non_null(strstr(msg, what));
	free(msg);
	assert_memory_equal(&cfg, &before, sizeof(cfg));	/* untouched */
}

static void
test_real(void **state)
{
	struct agentcfg cfg;
	char *msg;

	assert_int_equal(agentcfg_parse(real_ini, sizeof(real_ini) - 1,
	    ORIGIN, &cfg, &msg), 0);
	assert_null(msg);
	assert_int_equal(cfg.kind, AGENTCFG_REGINI);
	assert_int_equal(cfg.agent_id, 7);
	assert_string_equal(cfg.ssl_key, "/root/.pem/agent7.key");
	assert_string_equal(cfg.ssl_crt, "/root/.pem/agent7.crt");
	assert_null(cfg.pem_host);
	assert_null(cfg.agent_user);
	agentcfg_clear(&cfg);
	assert_string_equal(agentcfg_kind_name(AGENTCFG_REGINI),
	    "postgres-reg.ini");
	assert_string_equal(agentcfg_kind_name(AGENTCFG_CFG), "agent.cfg");
	assert_string_equal(agentcfg_kind_name(AGENTCFG_NONE), "inventory");
}

/* INI readers of postgres-reg.ini ignore case: names in any case. */
static void
test_any_case(void **state)
{
	static const char text[] =
	    "[pemAgent]\r\n"
	    "  agentid = 12\r\n"
	    "AGENTKEYPATH= /opt/pem/agent 12.key \r\n"
	    "agentCrtPath =/opt/pem/agent12.crt";
	struct agentcfg cfg;
	char *msg;

	assert_int_equal(agentcfg_parse(text, sizeof(text) - 1, ORIGIN,
	    &cfg, &msg), 0);
	assert_int_equal(cfg.kind, AGENTCFG_REGINI);
	assert_int_equal(cfg.agent_id, 12);
	assert_string_equal(cfg.ssl_key, "/opt/pem/agent 12.key");
	assert_string_equal(cfg.ssl_crt, "/opt/pem/agent12.crt");
	agentcfg_clear(&cfg);
}

/* agent.cfg's keys mean nothing in [PEMAGENT], and the reverse. */
static void
test_keys_of_the_shape(void **state)
{
	static const char ini[] =
	    "[PEMAGENT]\nagent_id=3\nagent_ssl_key=/k\nAgentID=4\n";
	static const char cfg_text[] =
	    "[PEMAGENT]\nAgentID=4\n[PEM/agent]\nagent_id=5\nAgentID=6\n";
	struct agentcfg cfg;
	char *msg;

	assert_int_equal(agentcfg_parse(ini, sizeof(ini) - 1, ORIGIN, &cfg,
	    &msg), 0);
	assert_int_equal(cfg.agent_id, 4);
	assert_null(cfg.ssl_key);
	agentcfg_clear(&cfg);
	/* [PEM/agent] wins when a file has both */
	assert_int_equal(agentcfg_parse(cfg_text, sizeof(cfg_text) - 1,
	    ORIGIN, &cfg, &msg), 0);
	assert_int_equal(cfg.kind, AGENTCFG_CFG);
	assert_int_equal(cfg.agent_id, 5);
	agentcfg_clear(&cfg);
}

static void
test_errors(void **state)
{
	expect_err("[PostgreSQL/15]\nPort=1\n[PEMAGENT]\nAgentID=0\n",
	    ERR_INVAL, 4, "AgentID \"0\" is not a positive integer");
	expect_err("[PEMAGENT]\nagentid=7b\n", ERR_INVAL, 2,
	    "AgentID \"7b\"");
	expect_err("[PEMAGENT]\nAgentKeyPath=root/.pem/a.key\n", ERR_INVAL,
	    2, "AgentKeyPath \"root/.pem/a.key\" is not an absolute path");
	expect_err("[PEMAGENT]\nAgentCrtPath=/root/a\x1b[2J.crt\n",
	    ERR_INVAL, 2, "AgentCrtPath holds a control character");
	expect_err("[PEMAGENT]\nAgentID=7\nAGENTID=8\n", ERR_PARSE, 3,
	    "duplicate key agentid in [PEMAGENT] (first on line 2)");
	expect_err("[PEMAGENT]\nAgentID=7\n[pemagent]\n", ERR_PARSE, 3,
	    "second [PEMAGENT] section (first on line 1)");
	expect_err("[PEMAGENT]\nAgentID\n", ERR_PARSE, 2,
	    "expected key = value");
	expect_err("[PostgreSQL/15]\nPort=1\n[PEMAGENT\n", ERR_PARSE, 3,
	    "bad section header");
	expect_err("[PostgreSQL/15]\nPort=5432\n", ERR_PARSE, 2,
	    "no [PEM/agent] section (nor a [PEMAGENT] one)");
}

/* The size bound holds whatever the shape. */
static void
test_size_bound(void **state)
{
	struct agentcfg cfg;
	char *buf, *msg;
	size_t n;

	buf = malloc(AGENTCFG_MAX + 1);
	assert_non_null(buf);
	memset(buf, ';', AGENTCFG_MAX + 1);
	n = (size_t)sprintf(buf, "[PEMAGENT]\nAgentID=3\n");
	buf[n] = ';';
	assert_int_equal(agentcfg_parse(buf, AGENTCFG_MAX, ORIGIN, &cfg,
	    &msg), 0);
	assert_int_equal(cfg.agent_id, 3);
	agentcfg_clear(&cfg);
	assert_int_equal(agentcfg_parse(buf, AGENTCFG_MAX + 1, ORIGIN, &cfg,
	    &msg), ERR_TOOBIG);
	assert_string_equal(msg, ORIGIN ": larger than 262144 bytes");
	free(msg);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_any_case),
		cmocka_unit_test(test_keys_of_the_shape),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_size_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
