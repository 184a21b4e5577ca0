/*
 * jsonout.h: JSON output built with jansson -- the --report file, and
 * what "pemrotate inventory" and "pemrotate status" print.  Out of memory
 * aborts, as everywhere in the orchestrator.
 */
#ifndef PEMROTATE_JSONOUT_H
#define PEMROTATE_JSONOUT_H

#include <jansson.h>

/* New empty object or array. */
json_t *jout_object(void);
json_t *jout_array(void);
/* o[key] = v, taking v over. */
void jout_set(json_t *o, const char *key, json_t *v);
/* Append v to array a, taking v over. */
void jout_append(json_t *a, json_t *v);
/* s as a JSON string (bytes that are not UTF-8 escaped as \xHH); NULL: null. */
json_t *jout_str(const char *s);
/*
 * v as text, indented by indent (0: compact), keys in the order they were
 * set, reals with 9 significant digits, a newline at the end; caller
 * frees.  v is left alone.
 */
char *jout_text(const json_t *v, int indent);

#endif
