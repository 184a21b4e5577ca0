/*
 * test_smaps.h: what the kernel says about this process's memory, for
 * the tests of secret buffers (test_common.c, test_pki.c).
 */
#ifndef PEMROTATE_TEST_SMAPS_H
#define PEMROTATE_TEST_SMAPS_H

#include <stdio.h>
#include <string.h>

#include "common/xmem.h"

/* The VmFlags of the mapping holding p (/proc/self/smaps); caller frees. */
static inline char *
vmflags_of(const void *p)
{
	unsigned long lo, hi, a = (unsigned long)p;
	char line[512], *flags = NULL;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	while (flags == NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = a >= lo && a < hi;
		else if (in && strncmp(line, "VmFlags:", 8) == 0)
			flags = xstrdup(line + 8);
	}
	fclose(f);
	assert_non_null(flags);
	return flags;
}

#endif
