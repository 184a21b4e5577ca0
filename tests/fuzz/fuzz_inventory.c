/*
 * fuzz_inventory.c: libFuzzer target for inventory_parse().
 *
 * The input is an inventory file.  On success every public accessor is
 * walked and the documented guarantees checked; on failure the error
 * text is checked, and a second parse into a small buffer must fail the
 * same way with a truncated copy of the same message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "inventory/inventory.h"
#include "tests/fuzz/fuzz_check.h"

#define FNAME	"fuzz.ini"
#define DEEP	32	/* hosts at each end checked in full */

static const char *const varnames[] = {
	"ansible_host", "ansible_port", "ansible_user",
	"ansible_ssh_private_key_file", "v", "k", "a", "b", "note",
	"description", "", "no_such_var",
};

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
	CHECK(h->line >= 1 && h->line <= maxline);
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

/* Parse again into a small buffer: same code, truncated same text. */
static void
check_small_err(const uint8_t *data, size_t size, int r, const char *full)
{
	char err[32 + 16];
	struct inventory *inv = (struct inventory *)1;
	size_t errlen = 1 + size % 32, n = strlen(full), i;

	fuzz_err_init(err, errlen);
	CHECK(inventory_parse((const char *)data, size, FNAME, &inv, err,
	    errlen) == r);
	CHECK(inv == NULL);
	CHECK(memchr(err, '\0', errlen) != NULL);
	for (i = errlen; i < errlen + 16; i++)
		CHECK((unsigned char)err[i] == FUZZ_CANARY);
	CHECK(strlen(err) == (n < errlen - 1 ? n : errlen - 1));
	CHECK(strncmp(err, full, strlen(err)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FUZZ_ERRLEN + 16];
	struct inventory *inv = (struct inventory *)1;
	long maxline = fuzz_nlines(data, size);
	int r;

	fuzz_err_init(err, FUZZ_ERRLEN);
	r = inventory_parse((const char *)data, size, FNAME, &inv, err,
	    FUZZ_ERRLEN);
	if (r == 0) {
		CHECK(inv != NULL);
		check_ok(inv, maxline);
		inventory_free(inv);
		return 0;
	}
	CHECK(r == ERR_PARSE || r == ERR_IO || r == ERR_TOOBIG);
	CHECK(inv == NULL);
	fuzz_check_err(err, FUZZ_ERRLEN, FNAME, maxline);
	check_small_err(data, size, r, err);
	inventory_free(NULL);
	return 0;
}
