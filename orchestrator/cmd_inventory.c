/*
 * cmd_inventory.c: "pemrotate inventory -i INVENTORY [--list | --host
 * NAME]": what pemrotate reads from an inventory, as JSON shaped like
 * "ansible-inventory --list" (and --host), so the two compare directly:
 *
 *   { "_meta": { "hostvars": { HOST: { VAR: "value", ... }, ... },
 *                "pemrotate": { "hosts": [ { "name": HOST,
 *                    "server": bool, "agent": bool, "source": FILE } ] } },
 *     "pem_server": { "hosts": [ HOST ] },
 *     "pem_agents": { "hosts": [ HOST, ... ] } }
 *
 * The hosts are pemrotate's, in its order (the server first); the groups
 * list every member, whether directly or through children.  Values are
 * the text pemrotate uses; an unset variable is left out, and
 * ansible_become_password is shown as "(set, not shown)".  Connects to
 * nothing.
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/strutil.h"
#include "common/xmem.h"
#include "inventory/inventory.h"
#include "jsonout.h"

#define SECRET_SHOWN	"(set, not shown)"

/*
 * Every variable pemrotate reads from the inventory; ctest
 * inventory_vars_listed checks that the orchestrator reads no other.
 */
static const char *const used_vars[] = {
	"ansible_host", "ansible_port", "ansible_user",
	"ansible_ssh_private_key_file", "ansible_ssh_common_args",
	"ansible_ssh_extra_args", "ansible_become", "ansible_become_method",
	"ansible_become_exe", "ansible_become_flags", "ansible_become_user",
	"ansible_become_password",
	"pem_agent_id", "pem_agent_cfg", "pem_agent_ssl_key",
	"pem_agent_ssl_crt", "pem_agent_start_cmd", "pem_agent_stop_cmd",
	"pem_agent_status_cmd", "pem_agent_check_cmd", "pem_sftp_server",
	"pem_data_dir",
	"pem_server_restart_cmd", "pem_db_tunnel", "pem_ssl_cert_file",
	"pem_ssl_key_file", "pem_ssl_ca_file", "pem_ssl_crl_file",
	NULL,
};

/* The variables pemrotate uses for host i. */
static json_t *
host_vars(const struct inventory *inv, size_t i)
{
	json_t *o = jout_object();
	const char *v;
	size_t k;

	for (k = 0; used_vars[k] != NULL; k++) {
		if ((v = inventory_var(inv, i, used_vars[k])) == NULL)
			continue;
		if (strcmp(used_vars[k], "ansible_become_password") == 0)
			v = SECRET_SHOWN;
		jout_set(o, used_vars[k], jout_str(v));
	}
	return o;
}

static json_t *
host_entry(const struct inventory *inv, const struct inv_host *h)
{
	json_t *o = jout_object();

	jout_set(o, "name", jout_str(h->name));
	jout_set(o, "server", json_boolean(h->is_server));
	jout_set(o, "agent", json_boolean(h->is_agent));
	jout_set(o, "source", jout_str(h->file != NULL ? h->file :
	    inventory_path(inv)));
	return o;
}

static json_t *
group_of(json_t *root, const char *name)
{
	json_t *g = jout_object(), *hosts = jout_array();

	jout_set(g, "hosts", hosts);
	jout_set(root, name, g);
	return hosts;
}

static json_t *
list_json(const struct inventory *inv)
{
	json_t *root = jout_object(), *meta = jout_object();
	json_t *hv = jout_object(), *pr = jout_object(), *order = jout_array();
	json_t *server, *agents;
	const struct inv_host *h;
	size_t i;

	jout_set(root, "_meta", meta);
	jout_set(meta, "hostvars", hv);
	jout_set(meta, "pemrotate", pr);
	jout_set(pr, "hosts", order);
	server = group_of(root, "pem_server");
	agents = group_of(root, "pem_agents");
	for (i = 0; i < inventory_count(inv); i++) {
		h = inventory_host(inv, i);
		jout_set(hv, h->name, host_vars(inv, i));
		jout_append(order, host_entry(inv, h));
		if (h->is_server)
			jout_append(server, jout_str(h->name));
		if (h->is_agent)
			jout_append(agents, jout_str(h->name));
	}
	return root;
}

/* The variables of host name, or NULL if it is not a PEM host. */
static json_t *
host_json(const struct inventory *inv, const char *name)
{
	size_t i;

	for (i = 0; i < inventory_count(inv); i++) {
		if (strcmp(inventory_host(inv, i)->name, name) == 0)
			return host_vars(inv, i);
	}
	return NULL;
}

static int
print_json(json_t *j)
{
	char *s = jout_text(j, 4);
	int r;

	r = fputs(s, stdout) != EOF && fflush(stdout) == 0;
	free(s);
	json_decref(j);
	if (!r)
		fprintf(stderr, "pemrotate: cannot write to stdout\n");
	return r ? 0 : 2;
}

int
cmd_inventory(const struct opts *o)
{
	struct inventory *inv = NULL;
	json_t *j;
	char *msg = NULL;
	int rc = 2;

	if (inventory_load(o->inventory, o->ninventory, &inv, &msg) != 0) {
		fprintf(stderr, "pemrotate: %s\n", msg);
		goto out;
	}
	if (o->host == NULL)
		j = list_json(inv);
	else if ((j = host_json(inv, o->host)) == NULL) {
		fprintf(stderr, "pemrotate: %s: no host %s in pem_server or "
		    "pem_agents\n", inventory_path(inv), o->host);
		goto out;
	}
	rc = print_json(j);
 out:
	free(msg);
	inventory_free(inv);
	return rc;
}
