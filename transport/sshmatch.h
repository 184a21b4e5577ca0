/*
 * sshmatch.h: OpenSSH's host patterns, as known_hosts (knownhosts.c) and
 * ssh_config (sshconfig_match.c) both use them: '*' matches any run of
 * bytes, '?' any one byte, a list is comma-separated and "!pattern"
 * negates.  Case counts: callers lower what must be lowered.
 *
 * No state: safe from any thread.
 */
#ifndef PEMROTATE_SSHMATCH_H
#define PEMROTATE_SSHMATCH_H

#include <stddef.h>

/* OpenSSH's match_pattern: 1 if s matches the pattern p[0..pn), else 0. */
int sshmatch_pattern(const char *s, const char *p, size_t pn);

/*
 * OpenSSH's match_pattern_list: 1 if a pattern of the list matches s,
 * -1 if a negated one does (whatever the others say), else 0; with
 * dolower the patterns are compared in lower case.
 */
int sshmatch_list(const char *s, const char *list, int dolower);

#endif
