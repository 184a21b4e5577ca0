/*
 * knownhosts.h: known_hosts files read once, and the entries of one host
 * found without libssh2 hashing every hashed line on every connection.
 *
 * libssh2 checks a host by walking every entry of its collection and
 * computing an HMAC for each hashed one, and pemrotate asks it several
 * questions per connection: with a thousand hosts that is millions of
 * HMACs.  Here the files are parsed once; for each host the lines that
 * apply to it are handed to the connection as a few lines of text.
 *
 * A line applies to a host as in OpenSSH: its host field is a hashed name
 * ("|1|salt|hash", HMAC-SHA1 through OpenSSL) or a comma-separated list of
 * patterns ('*', '?', a leading '!' negates: a negated match means the
 * line does not apply), compared without regard to case with the name
 * OpenSSH looks up ("host" for port 22, "[host]:port" for another port).
 * libssh2 knows no markers, so they travel as lines of their own that
 * sshconn reads with the functions below:
 *   "@revoked NAME TYPE KEY FILE line N": every @revoked line of the
 *	files, whatever its host field (a revoked key is refused for any
 *	host, as OpenSSH does);
 *   "@cert-authority NAME TYPE KEY FILE line N": a @cert-authority line
 *	that applies to the host.  pemrotate cannot verify host
 *	certificates: such a host must have its own key line.
 */
#ifndef PEMROTATE_KNOWNHOSTS_H
#define PEMROTATE_KNOWNHOSTS_H

#include <stddef.h>

struct known_hosts;

/*
 * Read path (required) and path2 (optional: skipped if absent).  ERR_IO
 * if path cannot be read, ERR_CRYPTO if a file has hashed lines and
 * OpenSSL offers no HMAC; the reason in *msg (caller frees; NULL on
 * success).
 */
int known_hosts_load(const char *path, const char *path2,
    struct known_hosts **out, char **msg);

/*
 * The entries for host at port (port 22: "host", else "[host]:port", as
 * OpenSSH writes them): plain known_hosts lines "NAME TYPE KEY\n" in file
 * order, then the marker lines described above; "" if none.  NAME is host
 * as given (or "[host]:port").  Thread-safe on a loaded store.  Caller
 * frees.
 */
char *known_hosts_for(const struct known_hosts *kh, const char *host,
    int port);

/*
 * 1 if a "@revoked" line of lines (known_hosts_for's text) holds the key
 * blob (the host key as the SSH protocol sends it, len bytes); where gets
 * that line's "FILE line N".  0 if none.
 */
int known_hosts_revoked(const char *lines, const unsigned char *blob,
    size_t len, char *where, size_t wherelen);

/*
 * 1 if lines holds a "@cert-authority" line; where gets the first one's
 * "FILE line N".  0 if none.
 */
int known_hosts_cert_authority(const char *lines, char *where,
    size_t wherelen);

/* Number of entries loaded, markers included (for messages and tests). */
size_t known_hosts_count(const struct known_hosts *kh);

void known_hosts_free(struct known_hosts *kh);

#endif
