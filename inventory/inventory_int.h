/*
 * inventory_int.h: what the files of inventory/ share behind inventory.h.
 * Internal to inventory/.
 *
 * inventory_parse reads an inventory in two passes.  The first,
 * invini.c, walks the text a line at a time and records, in file
 * order, groups, hosts, memberships (group, host, line) and children
 * entries (parent, child name, line); it splits words with invlex.c and
 * expands host ranges with hostpat.c.  Group names used only by [x:vars]
 * or children entries are resolved in the second pass, invresolve.c,
 * since Ansible allows them before the group's own section.  That pass
 * reports unknown groups and cycles, orders the groups (Kahn), finds the
 * hosts of pem_server and pem_agents (directly or through children) and
 * gives each of those hosts its ordered list of groups.  inventory.c
 * holds the model (groups, hosts, their variables and the lookup) and
 * the public API; strmap.c the hash tables that find hosts, groups and
 * (group, host) pairs, so large estates parse in linear time.
 *
 * Variable precedence is Ansible's: the host line wins; then the vars of
 * every group the host is in, directly or as a descendant, ordered by
 * (depth, ansible_group_priority, name) with the later one winning.  A top-level group has depth
 * 1, a child group one more than its deepest parent, "all" depth 0, so
 * [all:vars] loses to everything, a child group's vars beat its parent's
 * (more specific wins, as in Ansible), and between pem_agents and
 * pem_server (both depth 1) pem_server wins, by name.  Within one group or
 * one host, a later definition of a variable wins.
 *
 * Several sources (inventory.c: -i FILE or DIRECTORY, in order) feed one
 * parser: each file's first pass (invini.c or invyaml.c) adds to the same
 * groups and hosts, so a later source's definition of a variable wins,
 * as in Ansible; an INI file's unknown group names are reported at its
 * end (invresolve_names), as Ansible does per file.  After the second
 * pass invvars.c reads host_vars/ and group_vars/ next to each source
 * into the hosts' and groups' fvars, and invresolve_finish fills the
 * public hosts and refuses the values pemrotate cannot use (Vault,
 * Jinja2).  The full precedence, lowest first: "all"'s inventory vars,
 * the other groups' (by depth, name), group_vars/all, group_vars of the
 * other groups (per source in order, then by depth, name), the host's
 * inventory vars, host_vars (per source).  A null value (YAML) is a
 * definition: it hides the lower ones and reads as unset.
 *
 * Every function here returns 0 or a negative err_code, having left
 * "FILE:LINE: what is wrong" in the parser's message (*p->msg), unless
 * said otherwise; out of memory aborts.
 */
#ifndef PEMROTATE_INVENTORY_INT_H
#define PEMROTATE_INVENTORY_INT_H

#include <stddef.h>

#include "inventory/inventory.h"
#include "inventory/strmap.h"

#define G_ALL		0		/* group index of "all" */
#define G_UNGROUPED	1		/* hosts before any section */

#define PEM_SERVER	1
#define PEM_AGENT	2

#define KV_VAULT	0x1		/* an inline !vault value: val NULL */
#define KV_UNSAFE	0x2		/* !unsafe: never templated */

struct inv_kv {
	char *key;
	char *val;		/* NULL: null, which reads as unset */
	const char *file;	/* borrowed from inventory's files; or NULL */
	int line;
	int flags;		/* KV_* */
};

struct inv_kvlist {
	struct inv_kv *v;
	size_t n;
	size_t cap;
};

struct inv_group {
	char *name;
	int defined;		/* [name], [name:children] line; -1 built in */
	int vars_line;		/* line of the first [name:vars], 0 if none */
	const char *file;	/* of defined, or else of vars_line */
	struct inv_kvlist vars;
	struct inv_kvlist *fvars; /* group_vars/ files, one list a source */
	size_t *parents;	/* children entries (inv_edge) naming it */
	size_t nparents;
	size_t capparents;
	int depth;
	long priority;		/* ansible_group_priority, default 1 */
	int pem;		/* PEM_SERVER, PEM_AGENT: reached from those */
};

struct inv_entry {
	char *name;
	const char *file;	/* of its first appearance */
	int line;
	int pem;
	struct inv_kvlist vars;
	struct inv_kvlist fvars;	/* host_vars/ files, sources in order */
	size_t *groups;		/* direct groups; then all, by (depth, name) */
	size_t ngroups;
	size_t capgroups;
};

struct inv_edge {
	size_t parent;
	size_t child;		/* resolved in the second pass */
	char *childname;
	const char *file;
	int line;
};

struct inv_member {
	size_t group;
	size_t host;
	const char *file;
	int line;
};

struct inventory {
	char *path;		/* the sources, ", " between them */
	char **srcs;		/* the sources as given (-i), in order */
	size_t nsrc;
	char **files;		/* every file read; kvs, hosts point here */
	size_t nfiles;
	size_t capfiles;
	struct inv_group *groups;
	size_t ngroups;
	size_t capgroups;
	struct inv_entry *hosts;
	size_t nhosts;
	size_t caphosts;
	struct strmap groupmap;
	struct strmap hostmap;
	struct inv_host *pub;	/* server first, then file order */
	size_t *pubhost;	/* index into hosts of each pub entry */
	size_t npub;
};

enum inv_section { SEC_HOSTS, SEC_VARS, SEC_CHILDREN };

struct inv_parser {
	struct inventory *inv;
	const char *fname;	/* the file being read (inv->files) */
	char **msg;		/* the caller's: the last error's text */
	int yaml;		/* the file is YAML: host twice is no error */
	int line;
	enum inv_section sec;
	size_t cur;		/* group of the current section */
	struct inv_member *mem;
	size_t nmem;
	size_t capmem;
	struct inv_edge *edges;
	size_t nedges;
	size_t capedges;
	struct pairset seen;
	size_t *cstart;		/* children of group g: cadj[cstart[g]..] */
	size_t *cadj;
};

/* One range of a host pattern: "[01:20]", "[a:f]", "[1:10:2]". */
struct hostpat_range {
	int alpha;
	long beg;
	long step;
	long count;
	int width;		/* zero-padded width, 0 if none */
};

/* A host pattern: literal text, each piece followed by a range. */
struct hostpat {
	const char **lit;
	size_t *litlen;
	struct hostpat_range *r;
	size_t n;		/* ranges; lit has n + 1 pieces */
	size_t total;		/* names it expands to */
	size_t maxlen;		/* longest name */
};

/* --- inventory.c: the model --- */

int inv_perr(struct inv_parser *p, int code, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Same, naming file (NULL: the sources) rather than p->fname. */
int inv_perr_at(struct inv_parser *p, int code, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Start reading file path (copied into inv->files): p->fname, line 0. */
void inv_file_begin(struct inv_parser *p, const char *path);
/* Make room for element n of array a of *cap elements of size bytes. */
void *inv_grow(void *a, size_t *cap, size_t n, size_t size);

/* Append key=val (copies; val NULL is null: unset) to l. */
void inv_kv_add(struct inv_kvlist *l, const char *key, const char *val);
/* Same, at p's file and line; returns the entry (to set flags). */
struct inv_kv *inv_kv_add_at(struct inv_parser *p, struct inv_kvlist *l,
    const char *key, const char *val, int line);
/*
 * 1 and the last entry of key in l in *kv, or 0.  A found entry whose val
 * is NULL is a null: it ends the lookup as unset.
 */
int inv_kv_find(const struct inv_kvlist *l, const char *key,
    const struct inv_kv **kv);
/* ansible_port must be a port number; others are not checked. */
int inv_kv_check(struct inv_parser *p, const char *key, const char *val,
    int line);
void inv_kv_free(struct inv_kvlist *l);

/* Index of group name, added (depth 1, undefined) if new. */
size_t inv_group_get(struct inventory *inv, const char *name);
/* Index of host name, added (first seen at line) if new. */
size_t inv_entry_get(struct inventory *inv, const char *name, int line);
/* Append group gi to h's groups. */
void inv_entry_add_group(struct inv_entry *h, size_t gi);
/* Value of name for host h after the precedence above, or NULL. */
const char *inv_entry_lookup(const struct inventory *inv,
    const struct inv_entry *h, const char *name);
/* The entry that gives h its value of name, or NULL if none does. */
const struct inv_kv *inv_entry_find(const struct inventory *inv,
    const struct inv_entry *h, const char *name);

/* --- invlex.c: words, names --- */

int invlex_blank(char c);
/* 1 if s is a group name: letters, digits, '_', '-', '.'. */
int invlex_group_name(const char *s);
/* 1 if s is a variable name: an identifier (or empty: check it first). */
int invlex_var_name(const char *s);
/*
 * Read from s at *pos, with quotes and escapes removed, one word (value
 * 0: up to an unquoted blank) or the rest of the line (value 1: inner
 * blanks kept, trailing ones dropped).  Both stop at an unquoted '#' or
 * ';' after a blank.  Returns 1 and a new string in *out, 0 if the line
 * has no more words, or ERR_PARSE.
 */
int invlex_word(struct inv_parser *p, const char *s, size_t *pos, int value,
    char **out);

/* --- hostpat.c: host ranges --- */

/*
 * Parse pattern s (which pt borrows) into pt.  The caller frees pt with
 * hostpat_free, after an error too.
 */
int hostpat_parse(struct inv_parser *p, const char *s, struct hostpat *pt);
/* The k-th name of pt (k < pt->total) into buf (pt->maxlen + 1 bytes). */
void hostpat_name(const struct hostpat *pt, size_t k, char *buf);
void hostpat_free(struct hostpat *pt);

/* --- invini.c, invyaml.c, invresolve.c: the two passes --- */

/* First pass of an INI file: the lines of text (len bytes). */
int invini_parse(struct inv_parser *p, const char *text, size_t len);
/*
 * Ansible's "host:port": one ':' outside the ranges, digits after it.
 * Cuts the port off pat and adds it to vars as ansible_port.
 */
int invini_split_port(struct inv_parser *p, char *pat,
    struct inv_kvlist *vars);
/*
 * Add the hosts of pt to group p->cur, at p->line, each with a copy of
 * vars.  A host twice in a group is an error in INI, not in YAML.
 */
int invini_add_hosts(struct inv_parser *p, const struct hostpat *pt,
    const struct inv_kvlist *vars);
/*
 * 1 if text (a file without extension) is a YAML mapping, as Ansible's
 * yaml plugin, tried before its ini plugin, would take it; else 0.
 */
int invyaml_sniff(const char *text, size_t len);
/* First pass of a YAML inventory file. */
int invyaml_parse(struct inv_parser *p, const char *text, size_t len);
/*
 * A host_vars/ or group_vars/ file: a YAML (or JSON) mapping of
 * variables, or empty, appended to l.
 */
int invyaml_vars(struct inv_parser *p, const char *text, size_t len,
    struct inv_kvlist *l);
/* After an INI file: its [x:vars] and children name known groups. */
int invresolve_names(struct inv_parser *p);
/* Second pass: groups resolved and ordered, p->inv's PEM hosts found. */
int invresolve(struct inv_parser *p);
/* Last: public hosts filled in; Vault and Jinja2 values refused. */
int invresolve_finish(struct inv_parser *p);

/* --- invvars.c: host_vars/, group_vars/ --- */

/* Read the vars files of every source for the PEM hosts and groups. */
int invvars_load(struct inv_parser *p);
/*
 * Read all of path (at most INV_MAX_FILE bytes) into a new *buf (NUL
 * added); refuses an Ansible Vault file.  Messages name path.
 */
int inv_read_file(struct inv_parser *p, const char *path, char **buf,
    size_t *len);

#define INV_MAX_FILE	(16 * 1024 * 1024)

/* --- inventory.c: a whole inventory from one first pass --- */

/* A first pass over some source, recording into p like invini_parse. */
typedef int inv_pass_fn(struct inv_parser *p, void *ctx);
/*
 * inventory_parse with pass as the first pass (ctx handed to it), then
 * invresolve.  Errors as inventory_parse's.
 */
int inv_parse_with(const char *fname, inv_pass_fn *pass, void *ctx,
    struct inventory **out, char **msg);

/* --- invjson.c: JSON, Ansible's inventory script protocol --- */

/*
 * The variables of host as "SCRIPT --host NAME" prints them: JSON text
 * in *text (*len bytes, caller frees; empty means none), or a negative
 * err_code with a whole message in *msg (caller frees).
 */
typedef int invjson_hostvars_fn(void *ctx, const char *host, char **text,
    size_t *len, char **msg);

/*
 * Parse text (len bytes) as an inventory script's --list output or
 * "ansible-inventory --list" output.  With no "_meta" in it and hv not
 * NULL, each host's variables come from hv(ctx, host, ...).  Errors as
 * inventory_parse's, naming fname and the JSON path ("FILE: .g.hosts[1]:
 * what"), or for bad JSON its line ("FILE:LINE: ...").
 */
int invjson_parse(const char *text, size_t len, const char *fname,
    invjson_hostvars_fn *hv, void *ctx, struct inventory **out, char **msg);
/* The same as a first pass into p (inv_file_begin done by the caller). */
int invjson_pass(struct inv_parser *p, const char *text, size_t len,
    invjson_hostvars_fn *hv, void *ctx);

/* --- invexec.c: executables, "-" and *.json --- */

/* 1 if path is "-", ends in ".json" or is an executable regular file. */
int invexec_source(const char *path);
/*
 * First pass over such a source (one of the sources inventory_load
 * merges): stdin, the file, or what "PATH --list" prints (then "PATH
 * --host NAME" per host when it has no "_meta").  A failing program's
 * stderr is in the message.
 */
int invexec_pass(struct inv_parser *p, const char *path);
/*
 * Run path with args (argv[1..], NULL-ended), no shell, stdin
 * /dev/null.  Its stdout (at most max bytes) in *out (*len bytes, NUL
 * added; caller frees).  On failure (cannot run, exit status not 0,
 * killed, more than max bytes, no exit within timeout_ms: then the
 * process group is killed) a negative err_code and "PATH ARGS: what
 * (stderr: ...)" in *msg.  On success any stderr is in *err (caller
 * frees; NULL if none).
 */
int invexec_run(const char *path, const char *const *args, int timeout_ms,
    size_t max, char **out, size_t *len, char **err, char **msg);

#endif
