/*
 * db.h: the PEM database connection the run keeps (main thread only):
 * a login costs a SCRAM exchange (thousands of HMACs).
 */
#ifndef PEMROTATE_DB_H
#define PEMROTATE_DB_H

#include "runtypes.h"

/* Connect, retrying --retries times; *db is the caller's. */
int db_connect(struct run *r, struct pemdb **db);
/*
 * The kept connection, opened again when needed; NULL with the reason in
 * *msg (caller frees).  The run owns it; db_drop closes it (before
 * PostgreSQL restarts).
 */
struct pemdb *db_get(struct run *r, char **msg);
void db_drop(struct run *r);

#endif
