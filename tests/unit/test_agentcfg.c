/*
 * test_agentcfg.c: the agent.cfg parser.
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

#define ORIGIN	"agent7 (10.0.0.17):/usr/edb/pem/agent/etc/agent.cfg"

/* The shape PEM 9 writes on Linux. */
static const char real_cfg[] =
    "[PEM/agent]\n"						/* 1 */
    "pem_host=10.0.0.5\n"					/* 2 */
    "pem_port=5432\n"						/* 3 */
    "agent_id=7\n"						/* 4 */
    "agent_ssl_key=/root/.pem/agent7.key\n"			/* 5 */
    "agent_ssl_crt=/root/.pem/agent7.crt\n"			/* 6 */
    "agent_flag_dir=\n"						/* 7 */
    "log_level=warning\n"					/* 8 */
    "log_location=/var/log/pem/worker.log\n"			/* 9 */
    "agent_log_location=/var/log/pem/agent.log\n"		/* 10 */
    "long_wait=30\n"						/* 11 */
    "short_wait=10\n"						/* 12 */
    "alert_threads=0\n"						/* 13 */
    "enable_smtp=false\n"					/* 14 */
    "enable_snmp=false\n"					/* 15 */
    "enable_webhook=false\n"					/* 16 */
    "max_webhook_retries=3\n"					/* 17 */
    "allow_server_restart=true\n"				/* 18 */
    "max_connections=0\n"					/* 19 */
    "connect_timeout=10\n"					/* 20 */
    "connection_lifetime=0\n"					/* 21 */
    "allow_batch_probes=false\n"				/* 22 */
    "heartbeat_connection=false\n"				/* 23 */
    "enable_nagios=false\n"					/* 24 */
    "batch_script_user=\n"					/* 25 */
    "ca_file=/usr/libexec/libcurl-pem/share/certs/ca-bundle.crt\n"; /* 26 */

static void
expect_err_n(const char *text, size_t len, int code, int line,
    const char *what)
{
	struct agentcfg cfg, before;
	char *msg, prefix[128];
	int r;

	memset(&before, 0xa5, sizeof(before));
	cfg = before;
	r = agentcfg_parse(text, len, ORIGIN, &cfg, &msg);
	snprintf(prefix, sizeof(prefix), ORIGIN ":%d: ", line);
	if (r != code || msg == NULL ||
	    strncmp(msg, prefix, strlen(prefix)) != 0 ||
	    strstr(msg, what) == NULL)
		print_error("want %d \"%s...%s\", got %d \"%s\"\n", code,
		    prefix, what, r, msg ? msg : "(none)");
	assert_int_equal(r, code);
	assert_non_null(msg);
	assert_memory_equal(msg, prefix, strlen(prefix));
	assert_non_null(strstr(msg, what));
	free(msg);
	/* *out untouched on error. */
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

static void
expect_err(const char *text, int code, int line, const char *what)
{
	expect_err_n(text, strlen(text), code, line, what);
}

static void
test_real(void **state)
{
	struct agentcfg cfg;
	char *msg;

	assert_int_equal(agentcfg_parse(real_cfg, sizeof(real_cfg) - 1,
	    ORIGIN, &cfg, &msg), 0);
	assert_null(msg);
	assert_int_equal(cfg.kind, AGENTCFG_CFG);
	assert_int_equal(cfg.agent_id, 7);
	assert_string_equal(cfg.ssl_key, "/root/.pem/agent7.key");
	assert_string_equal(cfg.ssl_crt, "/root/.pem/agent7.crt");
	assert_string_equal(cfg.pem_host, "10.0.0.5");
	assert_string_equal(cfg.pem_port, "5432");
	assert_null(cfg.agent_user);
	agentcfg_clear(&cfg);
	assert_null(cfg.ssl_key);
	assert_int_equal(cfg.agent_id, 0);
	assert_int_equal(cfg.kind, AGENTCFG_NONE);
	agentcfg_clear(NULL);
}

static void
test_spaces_comments_sections(void **state)
{
	static const char text[] =
	    "; written by the installer\n"
	    "[Other]\n"
	    "agent_id = 99\n"
	    "this line is ignored outside [PEM/agent]\n"
	    "[pem/agent]\n"
	    "agent_id = 98\n"
	    "  [PEM/agent]  \n"
	    "# a comment\n"
	    "\tagent_id  =   12\t\n"
	    "agent_ssl_key =  /opt/pem/agent 12.key  \n"
	    "agent_user= pem\n"
	    "   ; indented comment\n"
	    "some_key_with_empty_value =\n"
	    "[Trailer]\n"
	    "agent_id=1\n";
	struct agentcfg cfg;
	char *msg;

	assert_int_equal(agentcfg_parse(text, sizeof(text) - 1, ORIGIN,
	    &cfg, &msg), 0);
	assert_int_equal(cfg.agent_id, 12);
	assert_string_equal(cfg.ssl_key, "/opt/pem/agent 12.key");
	assert_null(cfg.ssl_crt);
	assert_null(cfg.pem_host);
	assert_string_equal(cfg.agent_user, "pem");
	agentcfg_clear(&cfg);
}

static void
test_crlf(void **state)
{
	static const char text[] =
	    "[PEM/agent]\r\n"
	    "pem_host=pem.example.com\r\n"
	    "agent_id=2147483647\r\n"
	    "agent_ssl_key=/root/.pem/agent1.key\r\n"
	    "agent_ssl_crt=/root/.pem/agent1.crt";	/* no final newline */
	struct agentcfg cfg;
	char *msg;

	assert_int_equal(agentcfg_parse(text, sizeof(text) - 1, ORIGIN, &cfg,
	    &msg), 0);
	assert_int_equal(cfg.agent_id, 2147483647L);
	assert_string_equal(cfg.pem_host, "pem.example.com");
	assert_string_equal(cfg.ssl_key, "/root/.pem/agent1.key");
	assert_string_equal(cfg.ssl_crt, "/root/.pem/agent1.crt");
	agentcfg_clear(&cfg);
	/* A CR anywhere but at the end of a line is a control character. */
	expect_err("[PEM/agent]\r\nagent_ssl_crt=/a\r.crt\r\n", ERR_INVAL, 2,
	    "agent_ssl_crt holds a control character");
}

static void
test_missing_keys(void **state)
{
	struct agentcfg cfg;
	char *msg;

	assert_int_equal(agentcfg_parse("[PEM/agent]\n", 12, ORIGIN, &cfg,
	    &msg), 0);
	assert_int_equal(cfg.agent_id, 0);
	assert_null(cfg.ssl_key);
	assert_null(cfg.ssl_crt);
	agentcfg_clear(&cfg);
}

static void
test_err_agent_id(void **state)
{
	expect_err("[PEM/agent]\npem_host=h\nagent_id=0\n", ERR_INVAL, 3,
	    "agent_id \"0\" is not a positive integer");
	expect_err("[PEM/agent]\nagent_id=-1\n", ERR_INVAL, 2, "\"-1\"");
	expect_err("[PEM/agent]\nagent_id=7a\n", ERR_INVAL, 2, "\"7a\"");
	expect_err("[PEM/agent]\nagent_id=\n", ERR_INVAL, 2, "\"\"");
	expect_err("[PEM/agent]\nagent_id=2147483648\n", ERR_INVAL, 2,
	    "\"2147483648\"");
	expect_err("[PEM/agent]\nagent_id=99999999999999999999999\n",
	    ERR_INVAL, 2, "not a positive integer");
	expect_err("[PEM/agent]\nagent_id=1\x1b[2J\n", ERR_INVAL, 2,
	    "\"1\\x1b[2J\"");
}

static void
test_err_paths(void **state)
{
	expect_err("[PEM/agent]\nagent_ssl_key=root/.pem/agent7.key\n",
	    ERR_INVAL, 2, "agent_ssl_key \"root/.pem/agent7.key\" is not an "
	    "absolute path");
	expect_err("[PEM/agent]\n\nagent_ssl_crt=\n", ERR_INVAL, 3,
	    "agent_ssl_crt \"\" is not an absolute path");
	expect_err("[PEM/agent]\nagent_ssl_key=/root/a\x01.key\n", ERR_INVAL,
	    2, "agent_ssl_key holds a control character");
	expect_err("[PEM/agent]\nagent_ssl_crt=/root/a\rb.crt\n", ERR_INVAL,
	    2, "agent_ssl_crt holds a control character");
	expect_err("[PEM/agent]\nagent_ssl_crt=/root/a\tb.crt\n", ERR_INVAL,
	    2, "control character");
	expect_err("[PEM/agent]\npem_host=evil\x1b]0;x\x07\n", ERR_INVAL, 2,
	    "pem_host holds a control character");
}

static void
test_err_syntax(void **state)
{
	static const char nul[] = "[PEM/agent]\nagent_id=7\nagent_\0id=8\n";

	expect_err("[PEM/agent]\nagent_id=7\nlog_level=debug\nagent_id=7\n",
	    ERR_PARSE, 4, "duplicate key agent_id in [PEM/agent] (first on "
	    "line 2)");
	expect_err("[PEM/agent]\nb=1\na=1\na = 2\nb=3\n", ERR_PARSE, 4,
	    "duplicate key a");
	expect_err("[PEM/agent]\nagent_id=7\n[PEM/agent]\n", ERR_PARSE, 3,
	    "second [PEM/agent] section (first on line 1)");
	expect_err("[PEM/agent]\nagent_id\n", ERR_PARSE, 2,
	    "expected key = value");
	expect_err("[PEM/agent]\n = 7\n", ERR_PARSE, 2, "empty key");
	expect_err("[PEM/agent]\n[PEM/agent\n", ERR_PARSE, 2,
	    "bad section header");
	expect_err("[Other]\n[]\n", ERR_PARSE, 2, "bad section header");
	expect_err_n(nul, sizeof(nul) - 1, ERR_PARSE, 3, "NUL byte");
	expect_err("[PEMAGENTS]\nagent_id=7\n", ERR_PARSE, 2,
	    "no [PEM/agent] section (nor a [PEMAGENT] one)");
	expect_err("", ERR_PARSE, 1, "no [PEM/agent] section");
}

static void
test_size_bound(void **state)
{
	struct agentcfg cfg;
	char *buf, *msg;
	size_t n;

	buf = malloc(AGENTCFG_MAX + 1);
	assert_non_null(buf);
	memset(buf, '#', AGENTCFG_MAX + 1);
	n = (size_t)sprintf(buf, "[PEM/agent]\nagent_id=3\n");
	buf[n] = '#';
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

/* Many keys: the duplicate check must not be quadratic. */
static void
test_many_keys(void **state)
{
	size_t cap = AGENTCFG_MAX, n, i;
	char *buf = malloc(cap), *msg;
	struct agentcfg cfg;

	assert_non_null(buf);
	n = (size_t)sprintf(buf, "[PEM/agent]\n");
	for (i = 0; n < cap - 64; i++)
		n += (size_t)sprintf(buf + n, "k%zu=v\n", i);
	assert_int_equal(agentcfg_parse(buf, n, ORIGIN, &cfg, &msg), 0);
	agentcfg_clear(&cfg);
	n += (size_t)sprintf(buf + n, "k17=again\n");
	expect_err_n(buf, n, ERR_PARSE, (int)i + 2, "duplicate key k17");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_spaces_comments_sections),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_err_agent_id),
		cmocka_unit_test(test_err_paths),
		cmocka_unit_test(test_err_syntax),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_many_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
