/*
 * strutil.h: small string helpers shared by every layer.
 */
#ifndef PEMROTATE_STRUTIL_H
#define PEMROTATE_STRUTIL_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Quote s for a POSIX shell: the result is one word whatever s holds
 * ('...' with each ' written as '\'').  Caller frees.  Returns NULL if s
 * holds a NUL-free but control character that we refuse to send to a shell
 * at all (newline, CR, other C0 controls) when strict is non-zero.
 */
char *shquote(const char *s, int strict);

/*
 * Copy s into a new string with every control character and every byte
 * >= 0x7f escaped as \n, \t, \xHH, so that untrusted text can be shown on a
 * terminal or in a log.  At most max bytes of s are taken ("..." appended
 * when cut).  Caller frees.
 */
char *str_printable(const char *s, size_t max);

/* 1 if s is a non-empty decimal number in [1, max]; its value in *out. */
int str_to_posint(const char *s, long max, long *out);

/* The value of a base64 digit (RFC 4648), or -1 for any other byte. */
int str_b64val(int c);

/* 1 if s contains a byte < 0x20 or 0x7f. */
int str_has_ctrl(const char *s);

/*
 * 1 if s is a DNS host name: dot-separated labels of 1 to 63 letters,
 * digits and '-', none starting or ending with '-', the last not all
 * digits, at most 253 bytes, then one optional trailing dot.  No
 * wildcard, no '_', nothing else.
 */
int str_is_hostname(const char *s);

/* 1 if s is an IPv4 or IPv6 address as inet_pton(3) reads them. */
int str_is_ip_address(const char *s);

/* 1 if host names a and b are equal but for case and one trailing dot. */
int str_host_eq(const char *a, const char *b);

/*
 * "WHERE:LINE: message", the message printf-formatted, as a new string
 * (caller frees).  For parsers that name the place of an error.
 */
char *str_errat(const char *where, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* A growable NUL-terminated byte buffer. */
struct strbuf {
	char *s;
	size_t len;
	size_t cap;
};

void strbuf_init(struct strbuf *b);
void strbuf_add(struct strbuf *b, const void *p, size_t n);
void strbuf_adds(struct strbuf *b, const char *s);
void strbuf_addf(struct strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included. */
void strbuf_add_json(struct strbuf *b, const char *s);
/* Hand the string to the caller (who frees it); b is emptied. */
char *strbuf_steal(struct strbuf *b);
void strbuf_free(struct strbuf *b);

#endif
