/*
 * fuzz_agentcfg.c: libFuzzer target for agentcfg_parse().
 *
 * The input is an agent.cfg as read from an agent host (untrusted).  On
 * success the fields must meet agentcfg.h's guarantees and there is no
 * message; on failure *out must be untouched and the error text
 * well-formed and printable (the parser quotes hostile values with
 * str_printable), and a second parse must fail the same way with the same
 * text.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "inventory/agentcfg.h"
#include "tests/fuzz/fuzz_check.h"

#define ORIGIN	"agent1 (10.0.0.1):/usr/edb/pem/agent/etc/agent.cfg"

/* A value as stored: trimmed, free of control characters. */
static void
check_value(const char *v, int path)
{
	size_t n;

	if (v == NULL)
		return;
	n = strlen(v);
	CHECK(!fuzz_has_ctrl(v));
	CHECK(n == 0 || (v[0] != ' ' && v[n - 1] != ' '));
	if (path)
		CHECK(v[0] == '/');
}

static void
check_ok(const struct agentcfg *c)
{
	CHECK(c->agent_id >= 0 && c->agent_id <= INT_MAX);
	check_value(c->ssl_key, 1);
	check_value(c->ssl_crt, 1);
	check_value(c->pem_host, 0);
	check_value(c->pem_port, 0);
	check_value(c->agent_user, 0);
}

/* Parse again: same code, same text. */
static void
check_again(const uint8_t *data, size_t size, int r, const char *msg)
{
	struct agentcfg out;
	char *again;

	CHECK(agentcfg_parse((const char *)data, size, ORIGIN, &out,
	    &again) == r);
	CHECK(again != NULL && strcmp(again, msg) == 0);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentcfg out, before;
	char *msg = (char *)&out;	/* the parser sets it */
	int r;

	memset(&out, 0x5a, sizeof(out));
	before = out;
	r = agentcfg_parse((const char *)data, size, ORIGIN, &out, &msg);
	if (r == 0) {
		CHECK(msg == NULL);
		check_ok(&out);
		agentcfg_clear(&out);
		CHECK(out.agent_id == 0 && out.ssl_key == NULL &&
		    out.ssl_crt == NULL && out.pem_host == NULL &&
		    out.pem_port == NULL && out.agent_user == NULL);
		return 0;
	}
	CHECK(r == ERR_PARSE || r == ERR_TOOBIG || r == ERR_INVAL);
	CHECK(memcmp(&out, &before, sizeof(out)) == 0);
	fuzz_check_err(msg, ORIGIN, fuzz_nlines(data, size));
	CHECK(!fuzz_has_ctrl(msg));
	check_again(data, size, r, msg);
	free(msg);
	agentcfg_clear(NULL);
	return 0;
}
