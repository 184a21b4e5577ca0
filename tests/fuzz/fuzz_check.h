/*
 * fuzz_check.h: invariant checks shared by the libFuzzer harnesses.
 *
 * A broken invariant prints what failed and calls abort(), which
 * libFuzzer reports as a crash with the input that caused it.
 */
#ifndef PEMROTATE_FUZZ_CHECK_H
#define PEMROTATE_FUZZ_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline int
fuzz_has_ctrl(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	}
	return 0;
}

/* Lines in data, counting an unterminated last line. */
static inline long
fuzz_nlines(const uint8_t *data, size_t size)
{
	long n = 1;
	size_t i;

	for (i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

/*
 * An error message: there, non-empty, and starting with "NAME:" (then
 * "LINE: " with 1 <= LINE <= maxline, or " " for whole-file errors such
 * as the size bound).
 */
static inline void
fuzz_check_err(const char *msg, const char *name, long maxline)
{
	size_t n = strlen(name);
	const char *s;
	char *end;
	long line;

	CHECK(msg != NULL && msg[0] != '\0');
	CHECK(strncmp(msg, name, n) == 0 && msg[n] == ':');
	s = msg + n + 1;
	if (*s == ' ')
		return;
	line = strtol(s, &end, 10);
	CHECK(end != s && *end == ':' && end[1] == ' ');
	CHECK(line >= 1 && line <= maxline);
}

#endif
