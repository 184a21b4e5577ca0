/*
 * inventory.h: the estate's hosts, from Ansible inventories: INI or YAML
 * files, directories of them, with the host_vars/ and group_vars/ next
 * to each source, read as ansible-inventory reads them (docs/inventory.md
 * has the reference).
 *
 * INI: "[pem_server]" (exactly one host), "[pem_agents]" (agent hosts;
 * the server host may be in both), "[NAME:vars]" and "[all:vars]"
 * (defaults, one key=value a line), "[NAME:children]" (group names), and
 * any other "[NAME]" group (parsed, used only through :children).  A host
 * line is "name key=value key='quoted value' ...", split like a shell
 * (single and double quotes, backslash escapes outside single quotes).
 * Lines whose first non-blank character is '#' or ';' are comments, as is
 * the rest of a line after an unquoted " #" or " ;".  Host names may hold
 * Ansible ranges, "web[01:20].example.com", "db-[a:f]".
 *
 * YAML: groups as keys, each a mapping of hosts:, vars:, children:.
 *
 * JSON (Ansible's inventory script protocol, "ansible-inventory --list"
 * output): from "-" (stdin), a file ending in ".json", or what an
 * executable source prints when run with --list.
 *
 * Variable lookup, highest first: host_vars/HOST, the host's own vars,
 * group_vars/GROUP, group_vars/all, the groups' inventory vars (a deeper
 * group, then a later name, wins), all's inventory vars.  Within one of
 * these, a later source wins.
 */
#ifndef PEMROTATE_INVENTORY_H
#define PEMROTATE_INVENTORY_H

#include <stddef.h>

struct inventory;

struct inv_host {
	const char *name;	/* as written (a range expanded) */
	const char *address;	/* ansible_host, else name */
	int port;		/* ansible_port, else 22 */
	int port_given;		/* ansible_port is set */
	const char *user;	/* ansible_user, else NULL */
	const char *ssh_key;	/* ansible_ssh_private_key_file, else NULL */
	int is_server;		/* in [pem_server] */
	int is_agent;		/* in [pem_agents] */
	const char *file;	/* file of its first appearance */
	int line;		/* line there */
};

/*
 * Read and parse the n sources paths[] (files or directories, as given
 * to -i), a later one merging into the earlier ones, and the vars
 * directories next to them.  On error returns ERR_PARSE / ERR_IO /
 * ERR_TOOBIG with "FILE:LINE: what is wrong" in *msg (caller frees; NULL
 * on success); *out is NULL.  A file may be at most 16 MiB.
 */
int inventory_load(const char *const *paths, size_t n,
    struct inventory **out, char **msg);
/*
 * Same on one buffer, without vars directories; fname (its extension,
 * else its content, decides INI or YAML) is used in messages.
 */
int inventory_parse(const char *text, size_t len, const char *fname,
    struct inventory **out, char **msg);
/*
 * The same on JSON text, an inventory script's --list output or
 * "ansible-inventory --list" output (invjson.c).  inventory_load reads
 * JSON from "-" (stdin), a file ending in ".json" or what an executable
 * prints when run with --list (invexec.c); see docs/inventory.md.
 */
int inventory_parse_json(const char *text, size_t len, const char *fname,
    struct inventory **out, char **msg);

/* Hosts in pem_server or pem_agents, server first, then in file order. */
size_t inventory_count(const struct inventory *inv);
const struct inv_host *inventory_host(const struct inventory *inv, size_t i);
/* The one [pem_server] host. */
const struct inv_host *inventory_server(const struct inventory *inv);
/*
 * Value of variable name for host i after the lookup order above, or
 * NULL if unset.  Owned by inv.
 */
const char *inventory_var(const struct inventory *inv, size_t i,
    const char *name);
/* The sources the inventory was read from, ", " between them. */
const char *inventory_path(const struct inventory *inv);
/* The sources as given, in order (i < inventory_nsources). */
size_t inventory_nsources(const struct inventory *inv);
const char *inventory_source(const struct inventory *inv, size_t i);
void inventory_free(struct inventory *inv);

#endif
