/*
 * server.h: rotating the PEM server's six files, restarting PostgreSQL,
 * checking what it serves; rolling all of it back when a step fails.
 * Main thread only.
 */
#ifndef PEMROTATE_SERVER_H
#define PEMROTATE_SERVER_H

#include "runtypes.h"

int server_phase(struct run *r);
/*
 * root.crt and root.crl replaced (either NULL: kept), reloaded, checked:
 * expect served (verifying against ca if not NULL), ca_names client CAs
 * asked for (-1: any).  0, or the code with *msg (caller frees); the
 * originals stay as backups for server_restore.
 */
int server_put_roots(struct run *r, const char *root_crt,
    const char *root_crl, const struct pki_cert *expect,
    const struct pki_cert *ca, int ca_names, char **msg);
/* End the overlap: root.crt and root.crl of the new CA alone. */
int server_finalize(struct run *r);
/*
 * For resume: bring the server back to its original files (restarting
 * it if restart); make sure it serves the new certificate.
 */
int server_restore(struct run *r, int restart);
int server_ensure_serving(struct run *r);

#endif
