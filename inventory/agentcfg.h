/*
 * agentcfg.h: a PEM agent's settings, read from the agent host.
 *
 * INI text in one of two shapes:
 *  - agent.cfg: section [PEM/agent], keys agent_id, agent_ssl_key,
 *    agent_ssl_crt (and pem_host, pem_port, agent_user for messages);
 *  - /etc/postgres-reg.ini of older installs: section [PEMAGENT] (its
 *    name matched in any case), keys AgentID, AgentKeyPath, AgentCrtPath
 *    (in any case; the names of the agent's Windows registry values).
 * The text comes from a remote host and is untrusted: it is size-bounded
 * (AGENTCFG_MAX), the id must be a positive integer, paths must be
 * absolute and free of control characters.
 */
#ifndef PEMROTATE_AGENTCFG_H
#define PEMROTATE_AGENTCFG_H

#include <stddef.h>

#define AGENTCFG_MAX	(256 * 1024)

/* Which shape a file had. */
enum agentcfg_kind {
	AGENTCFG_NONE = 0,	/* not read: the inventory says it all */
	AGENTCFG_CFG,		/* agent.cfg, [PEM/agent] */
	AGENTCFG_REGINI		/* postgres-reg.ini, [PEMAGENT] */
};

struct agentcfg {
	enum agentcfg_kind kind;
	long agent_id;		/* 0 if the file has none */
	char *ssl_key;		/* NULL if absent */
	char *ssl_crt;		/* NULL if absent */
	char *pem_host;		/* NULL if absent */
	char *pem_port;		/* NULL if absent */
	char *agent_user;	/* NULL if absent */
};

/*
 * Parse text (len bytes, need not be NUL-terminated).  origin names the
 * file in messages, e.g. "agent7 (10.0.0.17):/usr/edb/pem/agent/etc/
 * agent.cfg".  On error: ERR_PARSE / ERR_TOOBIG / ERR_INVAL with
 * "ORIGIN:LINE: what is wrong" in *msg (caller frees; NULL on success),
 * *out untouched.  On success fills *out (caller calls agentcfg_clear).
 * The shape is the file's: [PEM/agent] when there is one, else
 * [PEMAGENT]; neither is an error.  Missing keys are left NULL/0 for the
 * caller to judge.
 */
int agentcfg_parse(const char *text, size_t len, const char *origin,
    struct agentcfg *out, char **msg);
void agentcfg_clear(struct agentcfg *cfg);
/* "agent.cfg", "postgres-reg.ini" or "inventory": where settings came from. */
const char *agentcfg_kind_name(enum agentcfg_kind kind);

#endif
