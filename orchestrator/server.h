/*
 * server.h: rotating the PEM server's six files, restarting PostgreSQL,
 * checking what it serves; rolling all of it back when a step fails.
 * Main thread only.
 */
#ifndef PEMROTATE_SERVER_H
#define PEMROTATE_SERVER_H

#include "runtypes.h"

int server_phase(struct run *r);
/* End the overlap: root.crt and root.crl of the new CA alone. */
int server_finalize(struct run *r);
/*
 * For resume: bring the server back to its original files (restarting
 * it if restart); make sure it serves the new certificate.
 */
int server_restore(struct run *r, int restart);
int server_ensure_serving(struct run *r);

#endif
