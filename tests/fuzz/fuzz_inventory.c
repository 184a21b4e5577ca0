/*
 * fuzz_inventory.c: libFuzzer targets for the inventory parsers, built
 * once per format (tests/fuzz/CMakeLists.txt): fuzz_inventory (INI,
 * inventory_parse), fuzz_inventory_yaml (FUZZ_YAML: inventory_parse on a
 * ".yml" name, libyaml) and fuzz_inventory_json (FUZZ_JSON:
 * inventory_parse_json, jansson).  Buffers only: no vars directories are
 * read and no inventory script is run.
 *
 * The input is an inventory file.  On success every public accessor is
 * walked and the documented guarantees checked, and there is no message;
 * on failure the error text is checked, and a second parse must fail the
 * same way with the same message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "inventory/inventory.h"
#include "tests/fuzz/fuzz_check.h"

#if defined(FUZZ_YAML)
#define FNAME	"fuzz.yml"
#define PARSE	inventory_parse
#define NLINES	yaml_nlines
#elif defined(FUZZ_JSON)
#define FNAME	"fuzz.json"
#define PARSE	inventory_parse_json
#define NLINES	fuzz_nlines
#else
#define FNAME	"fuzz.ini"
#define PARSE	inventory_parse
#define NLINES	fuzz_nlines
#endif
#define DEEP	32	/* hosts at each end checked in full */

static const char *const varnames[] = {
	"ansible_host", "ansible_port", "ansible_user",
	"ansible_ssh_private_key_file", "v", "k", "a", "b", "note",
	"description", "", "no_such_var",
};

#ifdef FUZZ_YAML
/*
 * Lines as libyaml counts them: it breaks lines at CR LF, CR, LF, and
 * the UTF-8 NEL, LS and PS too.
 */
static long
yaml_nlines(const uint8_t *d, size_t size)
{
	long n = 1;
	size_t i;

	for (i = 0; i < size; i++) {
		if (d[i] == '\r')
			n += i + 1 >= size || d[i + 1] != '\n';
		else if (d[i] == '\n')
			n++;
		else if (d[i] == 0xc2 && i + 1 < size && d[i + 1] == 0x85)
			n++;
		else if (d[i] == 0xe2 && i + 2 < size && d[i + 1] == 0x80 &&
		    (d[i + 2] == 0xa8 || d[i + 2] == 0xa9))
			n++;
	}
	return n;
}
#endif

static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Host names are unique: the parser merges repeated hosts. */
static void
check_unique(const struct inventory *inv, size_t n)
{
	const char **names;
	size_t i;

	if ((names = calloc(n, sizeof(*names))) == NULL)
		abort();
	for (i = 0; i < n; i++)
		names[i] = inventory_host(inv, i)->name;
	qsort(names, n, sizeof(*names), strp_cmp);
	for (i = 1; i < n; i++)
		CHECK(strcmp(names[i - 1], names[i]) != 0);
	free(names);
}

/* Each field agrees with the variable it comes from. */
static void
check_fields(const struct inventory *inv, size_t i, const struct inv_host *h)
{
	const char *v;

	v = inventory_var(inv, i, "ansible_host");
	CHECK(v != NULL ? strcmp(h->address, v) == 0 : h->address == h->name);
	if ((v = inventory_var(inv, i, "ansible_port")) != NULL)
		CHECK(strtol(v, NULL, 10) == h->port);
	else
		CHECK(h->port == 22);
	v = inventory_var(inv, i, "ansible_user");
	CHECK(v == NULL ? h->user == NULL :
	    h->user != NULL && strcmp(v, h->user) == 0);
	v = inventory_var(inv, i, "ansible_ssh_private_key_file");
	CHECK(v == NULL ? h->ssh_key == NULL :
	    h->ssh_key != NULL && strcmp(v, h->ssh_key) == 0);
}

/*
 * The struct's own guarantees; with deep, also each field against its
 * variable and a lookup of every name in varnames.
 */
static void
check_host(const struct inventory *inv, size_t i, long maxline, int deep)
{
	const struct inv_host *h = inventory_host(inv, i);
	const char *v;
	size_t k;

	CHECK(h != NULL);
	CHECK(h->name != NULL && h->name[0] != '\0');
	CHECK(h->address != NULL);
	CHECK(h->port >= 1 && h->port <= 65535);
	CHECK(h->is_server == (i == 0));
	CHECK(h->is_agent == 0 || h->is_agent == 1);
	CHECK(h->is_server || h->is_agent);
#ifdef FUZZ_JSON
	CHECK(h->line == 0);	/* JSON has no lines once read */
#else
	CHECK(h->line >= 1 && h->line <= maxline);
#endif
	if (!deep)
		return;
	check_fields(inv, i, h);
	for (k = 0; k < sizeof(varnames) / sizeof(varnames[0]); k++) {
		if ((v = inventory_var(inv, i, varnames[k])) != NULL)
			(void)strlen(v);
	}
}

static void
check_ok(const struct inventory *inv, long maxline)
{
	size_t n = inventory_count(inv), i;

	CHECK(n >= 1);
	CHECK(inventory_server(inv) == inventory_host(inv, 0));
	CHECK(strcmp(inventory_path(inv), FNAME) == 0);
	/* Lookups are slow: go deep on the first and last hosts only. */
	for (i = 0; i < n; i++)
		check_host(inv, i, maxline, i < DEEP || i >= n - DEEP);
	CHECK(inventory_host(inv, n) == NULL);
	CHECK(inventory_var(inv, n, "ansible_host") == NULL);
	check_unique(inv, n);
}

/* Parse again: same code, same text. */
static void
check_again(const uint8_t *data, size_t size, int r, const char *msg)
{
	struct inventory *inv = (struct inventory *)1;
	char *again;

	CHECK(PARSE((const char *)data, size, FNAME, &inv, &again) == r);
	CHECK(inv == NULL);
	CHECK(again != NULL && strcmp(again, msg) == 0);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inventory *inv = (struct inventory *)1;
	char *msg = (char *)&inv;	/* the parser sets it */
	long maxline = NLINES(data, size);
	int r;

	r = PARSE((const char *)data, size, FNAME, &inv, &msg);
	if (r == 0) {
		CHECK(msg == NULL);
		CHECK(inv != NULL);
		check_ok(inv, maxline);
		inventory_free(inv);
		return 0;
	}
	CHECK(r == ERR_PARSE || r == ERR_IO || r == ERR_TOOBIG);
	CHECK(inv == NULL);
	fuzz_check_err(msg, FNAME, maxline);
	check_again(data, size, r, msg);
	free(msg);
	inventory_free(NULL);
	return 0;
}
