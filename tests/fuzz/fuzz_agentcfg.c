/*
 * fuzz_agentcfg.c: libFuzzer target for agentcfg_parse().
 *
 * The input is an agent.cfg as read from an agent host (untrusted).  On
 * success the fields must meet agentcfg.h's guarantees; on failure *out
 * must be untouched and the error text well-formed and printable (the
 * parser quotes hostile values with str_printable), and a second parse
 * into a small buffer must fail the same way with a truncated copy.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
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

/* Parse again into a small buffer: same code, truncated same text. */
static void
check_small_err(const uint8_t *data, size_t size, int r, const char *full)
{
	char err[32 + 16];
	struct agentcfg out;
	size_t errlen = 1 + size % 32, n = strlen(full), i;

	fuzz_err_init(err, errlen);
	CHECK(agentcfg_parse((const char *)data, size, ORIGIN, &out, err,
	    errlen) == r);
	CHECK(memchr(err, '\0', errlen) != NULL);
	for (i = errlen; i < errlen + 16; i++)
		CHECK((unsigned char)err[i] == FUZZ_CANARY);
	CHECK(strlen(err) == (n < errlen - 1 ? n : errlen - 1));
	CHECK(strncmp(err, full, strlen(err)) == 0);
	/* And with no buffer at all. */
	CHECK(agentcfg_parse((const char *)data, size, ORIGIN, &out, NULL,
	    0) == r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FUZZ_ERRLEN + 16];
	struct agentcfg out, before;
	int r;

	fuzz_err_init(err, FUZZ_ERRLEN);
	memset(&out, 0x5a, sizeof(out));
	before = out;
	r = agentcfg_parse((const char *)data, size, ORIGIN, &out, err,
	    FUZZ_ERRLEN);
	if (r == 0) {
		check_ok(&out);
		agentcfg_clear(&out);
		CHECK(out.agent_id == 0 && out.ssl_key == NULL &&
		    out.ssl_crt == NULL && out.pem_host == NULL &&
		    out.pem_port == NULL && out.agent_user == NULL);
		return 0;
	}
	CHECK(r == ERR_PARSE || r == ERR_TOOBIG || r == ERR_INVAL);
	CHECK(memcmp(&out, &before, sizeof(out)) == 0);
	fuzz_check_err(err, FUZZ_ERRLEN, ORIGIN, fuzz_nlines(data, size));
	CHECK(!fuzz_has_ctrl(err));
	check_small_err(data, size, r, err);
	agentcfg_clear(NULL);
	return 0;
}
