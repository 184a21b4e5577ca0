/*
 * sshmatch.c: OpenSSH's host patterns and pattern lists.
 */
#include "transport/sshmatch.h"

#include <ctype.h>
#include <string.h>

int
sshmatch_pattern(const char *s, const char *p, size_t pn)
{
	const char *pe = p + pn, *star = NULL, *retry = NULL;

	while (*s != '\0') {
		if (p < pe && *p == '*') {
			star = ++p;
			retry = s;
		} else if (p < pe && (*p == '?' || *p == *s)) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star;
			s = ++retry;
		} else {
			return 0;
		}
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

int
sshmatch_list(const char *s, const char *list, int dolower)
{
	char sub[1024];
	const char *p = list, *end;
	size_t n, i;
	int neg, hit = 0;

	for (;; p = end + 1) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		if ((neg = *p == '!'))
			p++;
		n = (size_t)(end - p);
		if (n >= sizeof(sub))
			return 0;	/* OpenSSH's bound on one pattern */
		for (i = 0; i < n; i++)
			sub[i] = dolower ? (char)tolower((unsigned char)p[i]) :
			    p[i];
		if (sshmatch_pattern(s, sub, n)) {
			if (neg)
				return -1;
			hit = 1;
		}
		if (*end == '\0')
			return hit;
	}
}
