/*
 * remote.h: the shell text pemrotate sends to hosts.
 *
 * Every value that came from outside (paths from agent.cfg or the
 * database, names from the inventory) is quoted with shquote(); a value
 * holding a control character (newline included) is refused, and the
 * builder returns NULL.  Operator commands from the inventory
 * (pem_agent_start_cmd and the like) are the operator's own shell text and
 * are inserted as they are.  Results are caller-freed.
 */
#ifndef PEMROTATE_REMOTE_H
#define PEMROTATE_REMOTE_H

#include <stddef.h>

/* The temporary name a new file is written under: DIR/.BASE.pemrotate-ID */
char *remote_tmp_path(const char *dst, const char *run_id);

/*
 * Install n new files: for each i, if dst[i] exists keep it as
 * dst[i]+suffix (a hard link, else a copy with owner and mode kept), then
 * rename tmp[i] over dst[i].  Prints "pemrotate:installed" once every file
 * is in place, then runs then_cmd (may be NULL).  The script stops at the
 * first failure.
 */
char *remote_install_script(const char *const *tmp, const char *const *dst,
    size_t n, const char *suffix, const char *then_cmd);

/*
 * Put back what remote_install_script replaced: dst[i]+suffix is renamed
 * back over dst[i] through a hard link (the backup stays).  A dst[i]
 * without a backup is left as it is, unless created[i] says it did not
 * exist before the run: then it is removed (created may be NULL).  Then
 * runs then_cmd (may be NULL).
 */
char *remote_restore_script(const char *const *dst, const int *created,
    size_t n, const char *suffix, const char *then_cmd);

/*
 * --keygen remote: make a key with the host's openssl into tmp (created
 * 0600 under umask 077, owner set to uid:gid when uid >= 0) and print a
 * certificate request for it.  genpkey_args are openssl genpkey options
 * chosen by pemrotate ("-algorithm EC -pkeyopt ec_paramgen_curve:P-256").
 */
char *remote_keygen_script(const char *tmp, const char *genpkey_args,
    long uid, long gid);

/* Remove the temporary files (cleanup after a failed upload). */
char *remote_rm_script(const char *const *paths, size_t n);

#endif
