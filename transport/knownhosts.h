/*
 * knownhosts.h: known_hosts files read once, and the entries of one host
 * found without libssh2 hashing every hashed line on every connection.
 *
 * libssh2 checks a host by walking every entry of its collection and
 * computing an HMAC for each hashed one, and pemrotate asks it several
 * questions per connection: with a thousand hosts that is millions of
 * HMACs.  Here the files are parsed once; for each host the lines that
 * name it (plain, or hashed: HMAC-SHA1 of the name under the line's salt,
 * with the salt's pad states computed once per line) are handed to the
 * connection as a few plain lines.  Markers (@cert-authority, @revoked) and wildcard
 * patterns are not supported by libssh2 and are skipped.
 */
#ifndef PEMROTATE_KNOWNHOSTS_H
#define PEMROTATE_KNOWNHOSTS_H

#include <stddef.h>

struct known_hosts;

/*
 * Read path (required) and path2 (optional: skipped if absent).  ERR_IO
 * with the reason in err if path cannot be read.
 */
int known_hosts_load(const char *path, const char *path2,
    struct known_hosts **out, char *err, size_t errlen);

/*
 * The entries for host at port (port 22: "host", else "[host]:port", as
 * OpenSSH writes them), as plain known_hosts lines "NAME TYPE KEY\n";
 * "" if none.  Thread-safe on a loaded store.  Caller frees.
 */
char *known_hosts_for(const struct known_hosts *kh, const char *host,
    int port);

/* Number of entries loaded (for messages and tests). */
size_t known_hosts_count(const struct known_hosts *kh);

void known_hosts_free(struct known_hosts *kh);

#endif
