/*
 * keys.h: the SSH user keys, each loaded once into memory when it can be
 * signed with here (main thread only: the preflight's set-up).
 */
#ifndef PEMROTATE_KEYS_H
#define PEMROTATE_KEYS_H

#include "runtypes.h"

/*
 * The in-memory signer for SSH key file path (loaded at the first call),
 * or NULL when libssh2 must read the file itself (not an unencrypted
 * Ed25519 key in OpenSSH's format).  The run owns it until keys_free.
 */
const struct sshconn_signer *keys_signer(struct run *r, const char *path);
void keys_free(struct run *r);

#endif
