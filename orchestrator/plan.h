/*
 * plan.h: what a run will do, shown, and the operator asked (main
 * thread; Ctrl-C answers no).
 */
#ifndef PEMROTATE_PLAN_H
#define PEMROTATE_PLAN_H

#include "runtypes.h"

void plan_print(const struct run *r, FILE *f);
/* What rotate would do to each host: files, commands, keys (plan). */
void plan_print_hosts(const struct run *r, FILE *f);
/* 1 to go on: -y, no terminal, or the operator said yes. */
int plan_confirm(struct run *r);

#endif
