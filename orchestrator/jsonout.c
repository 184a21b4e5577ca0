/*
 * jsonout.c: JSON output with jansson (see jsonout.h).
 */
#include "jsonout.h"

#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xmem.h"

json_t *
jout_object(void)
{
	json_t *o = json_object();

	if (o == NULL)
		fatal_nomem();
	return o;
}

json_t *
jout_array(void)
{
	json_t *a = json_array();

	if (a == NULL)
		fatal_nomem();
	return a;
}

void
jout_set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		fatal_nomem();
}

void
jout_append(json_t *a, json_t *v)
{
	if (v == NULL || json_array_append_new(a, v) != 0)
		fatal_nomem();
}

json_t *
jout_str(const char *s)
{
	json_t *j;
	char *esc;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	esc = str_printable(s, strlen(s));
	j = json_string(esc);
	free(esc);
	if (j == NULL)
		fatal_nomem();
	return j;
}

char *
jout_text(const json_t *v, int indent)
{
	/* reals (seconds) as %.9g: 0.1 stays 0.1 */
	size_t flags = JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9) |
	    (indent > 0 ? JSON_INDENT(indent) : JSON_COMPACT);
	char *s = json_dumps(v, flags), *t;

	if (s == NULL)
		fatal_nomem();
	t = xasprintf("%s\n", s);
	free(s);
	return t;
}
