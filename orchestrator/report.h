/*
 * report.h: what happened to each host: the table and summary on
 * stdout, the JSON file.  Nothing in it is secret.
 */
#ifndef PEMROTATE_REPORT_H
#define PEMROTATE_REPORT_H

#include "runtypes.h"

void report_table(const struct run *r, FILE *f);
void report_summary(const struct run *r, FILE *f);
/* Write the JSON report to path atomically; *msg on failure (caller
 * frees). */
int report_json(const struct run *r, const char *path, char **msg);
char *report_json_text(const struct run *r);
/* The table or summary, the JSON file (--report), the run's last word. */
void report_end(struct run *r);

#endif
