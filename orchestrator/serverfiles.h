/*
 * serverfiles.h: the PEM server's six SSL files: their paths, who acts
 * on them, what they hold now (r->sf).
 */
#ifndef PEMROTATE_SERVERFILES_H
#define PEMROTATE_SERVERFILES_H

#include "runtypes.h"

/* File name of a server file ("root.crt"). */
const char *serverfiles_label(enum sfile f);
/* The six paths, from the database's settings seen from the host. */
void serverfiles_paths(struct run *r);
/*
 * The server host's part of the preflight (a par_for worker owns h); a
 * failure is recorded on h.
 */
int serverfiles_preflight(struct run *r, struct host *h);
/*
 * Read the server's public files again (after a rollback, on resume); 0,
 * or the code with the reason in *msg (caller frees).
 */
int serverfiles_reread(struct run *r, char **msg);
/*
 * The current CA's key (ca_key.key) read from the server into memory
 * only; it must be the key of ca_certificate.crt (r->sf.old_ca).  *key
 * is the caller's (pki_key_free); on failure the reason in *msg.
 */
int serverfiles_ca_key(struct run *r, struct pki_key **key, char **msg);

#endif
