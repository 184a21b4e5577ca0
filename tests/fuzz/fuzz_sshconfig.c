/*
 * fuzz_sshconfig.c: libFuzzer target for the OpenSSH client
 * configuration resolver (transport/sshconfig*.c).
 *
 * The input is an ssh_config file (the operator's, but pemrotate reads
 * it unattended on every host): parsed with its Include lines checked
 * but never read, so nothing outside the input is touched.  A parse that
 * fails must say "fuzz.cfg:LINE: ..." for a line of the input; one that
 * succeeds is resolved for a few hosts, bare and with ssh options, and
 * every result must hold what sshconfig.h promises.  The same bytes are
 * also read as Ansible's ansible_ssh_common_args.  Messages must be
 * printable; ASan and UBSan watch the rest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "tests/fuzz/fuzz_check.h"
#include "transport/sshconfig.h"

#define NAME	"fuzz.cfg"

static const struct sshconfig_env env = {
	"/home/fuzz", "fuzz", "ctl.example.net",
};

static const char *const hosts[] = {
	"web1", "db.example.com", "10.0.0.1", "fe80::1", "x.prod",
};

static void
check_list(char *const *v, size_t n, size_t max)
{
	size_t i;

	CHECK(n <= max);
	CHECK(n == 0 || v != NULL);
	for (i = 0; i < n; i++)
		CHECK(v[i] != NULL);
}

static void
check_host(const struct sshconfig_host *h, const char *host)
{
	size_t i;

	CHECK(strcmp(h->host, host) == 0);
	CHECK(h->hostname != NULL && h->user != NULL);
	CHECK(h->port >= 1 && h->port <= 65535);
	CHECK(h->identities_only == 0 || h->identities_only == 1);
	CHECK(h->strict >= SSHCONFIG_STRICT_ASK &&
	    h->strict <= SSHCONFIG_STRICT_NO);
	CHECK(h->connect_timeout >= -1 && h->server_alive_interval >= 0);
	check_list(h->identity_files, h->n_identity_files, 100);
	check_list(h->user_known_hosts, h->n_user_known_hosts, 32);
	check_list(h->global_known_hosts, h->n_global_known_hosts, 32);
	CHECK((h->proxy_jump == NULL) == (h->n_jump == 0));
	for (i = 0; i < h->n_jump; i++) {
		CHECK(h->jump[i].host != NULL);
		CHECK(h->jump[i].port >= 0 && h->jump[i].port <= 65535);
	}
}

/* A message: non-empty, printable, "NAME:LINE: " within the input. */
static void
check_msg(const char *msg, const char *name, long maxline)
{
	size_t n;
	char *end;
	long line;

	CHECK(msg != NULL && msg[0] != '\0');
	CHECK(!fuzz_has_ctrl(msg));
	if (name == NULL)
		return;
	n = strlen(name);
	CHECK(strncmp(msg, name, n) == 0 && msg[n] == ':');
	if (msg[n + 1] == ' ')
		return;
	line = strtol(msg + n + 1, &end, 10);
	CHECK(end != msg + n + 1 && *end == ':' && end[1] == ' ');
	CHECK(line >= 1 && line <= maxline);
}

static void
resolve_all(const struct sshconfig *c, const struct sshconfig_args *a)
{
	struct sshconfig_query q = { NULL, NULL, 0, NULL, a };
	struct sshconfig_host *h;
	char *msg;
	size_t i;
	int r;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		q.host = hosts[i];
		h = NULL;
		msg = NULL;
		r = sshconfig_resolve(c, &q, &h, &msg);
		if (r == 0) {
			CHECK(msg == NULL);
			check_host(h, hosts[i]);
		} else {
			CHECK(r == ERR_INVAL && h == NULL);
			check_msg(msg, NULL, 0);
		}
		sshconfig_host_free(h);
		free(msg);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshconfig *c = NULL;
	struct sshconfig_args *a = NULL, *extra = NULL;
	char *msg = NULL, *text;
	int r;

	r = sshconfig_parse((const char *)data, size, NAME,
	    SSHCONFIG_NOINCLUDE | (size % 2 ? SSHCONFIG_SYSTEM : 0), &env,
	    &c, &msg);
	if (r == 0) {
		CHECK(c != NULL && msg == NULL);
		(void)sshconfig_args_parse("-o User=u -p 2200 -J j1,j2:23",
		    "-i ~/k -o IdentitiesOnly=yes", &extra, NULL);
		CHECK(extra != NULL);
		resolve_all(c, NULL);
		resolve_all(c, extra);
		sshconfig_args_free(extra);
	} else {
		CHECK(c == NULL);
		CHECK(r == ERR_PARSE || r == ERR_TOOBIG);
		check_msg(msg, NAME, fuzz_nlines(data, size));
	}
	sshconfig_free(c);
	free(msg);
	msg = NULL;

	text = malloc(size + 1);
	CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	r = sshconfig_args_parse(text, NULL, &a, &msg);
	if (r == 0) {
		CHECK(a != NULL && msg == NULL);
		if (sshconfig_load("none", &env, &c, NULL) == 0)
			resolve_all(c, a);
		sshconfig_free(c);
	} else {
		CHECK(r == ERR_INVAL && a == NULL);
		check_msg(msg, "ansible_ssh_common_args", 1);
	}
	sshconfig_args_free(a);
	free(msg);
	free(text);
	return 0;
}
