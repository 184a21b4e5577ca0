/*
 * test_transport_sftpwire.c: the SFTP reply parser (transport/sftpwire.c)
 * with well-formed replies as OpenSSH's sftp-server sends them and with
 * hostile ones: lengths past the end, a handle over the protocol's
 * bound, more data than asked, attributes cut short, a packet length of
 * 4 GB.  Nothing may be read outside the bytes given (run under ASan in
 * CI) and every bad reply must be refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "transport/sftpwire.h"

/* A reply's bytes after the type in a heap block of exactly len bytes,
 * so ASan catches any read past it. */
static unsigned char *
exact(const void *p, size_t len)
{
	unsigned char *b = malloc(len ? len : 1);

	assert_non_null(b);
	memcpy(b, p, len);
	return b;
}

static void
test_packet(void **state)
{
	static const unsigned char ok[] = { 0, 0, 0, 5, 101, 0, 0, 0, 7 };
	static const unsigned char small[] = { 0, 0, 0, 4, 101, 0, 0, 0 };
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff, 101 };
	static const unsigned char big[] = { 0, 4, 0, 1, 101 };
	size_t plen = 0;

	(void)state;
	assert_int_equal(sftpw_packet(ok, 3, &plen), 0);
	assert_int_equal(sftpw_packet(ok, 8, &plen), 0);	/* not whole */
	assert_int_equal(sftpw_packet(ok, 9, &plen), 1);
	assert_int_equal(plen, 5);
	assert_int_equal(sftpw_packet(small, sizeof(small), &plen), -1);
	assert_int_equal(sftpw_packet(huge, sizeof(huge), &plen), -1);
	assert_int_equal(sftpw_packet(big, sizeof(big), &plen), -1);
}

static void
test_handle(void **state)
{
	unsigned char rep[4 + 4 + 300], *b;
	const unsigned char *h;
	size_t hl;

	(void)state;
	memset(rep, 'h', sizeof(rep));
	memcpy(rep, "\0\0\0\1\0\0\0\1", 8);	/* id 1, handle "h" */
	b = exact(rep, 9);
	assert_int_equal(sftpw_handle(FXP_HANDLE, b, 9, &h, &hl), 0);
	assert_int_equal(hl, 1);
	assert_ptr_equal(h, b + 8);
	assert_int_equal(sftpw_handle(FXP_STATUS, b, 9, &h, &hl), -1);
	assert_int_equal(sftpw_handle(FXP_HANDLE, b, 10 - 2, &h, &hl), -1);
	free(b);
	/* a string longer than the reply */
	memcpy(rep, "\0\0\0\1\0\0\1\0", 8);
	b = exact(rep, 12);
	assert_int_equal(sftpw_handle(FXP_HANDLE, b, 12, &h, &hl), -1);
	free(b);
	/* bytes after the handle */
	memcpy(rep, "\0\0\0\1\0\0\0\2", 8);
	b = exact(rep, 11);
	assert_int_equal(sftpw_handle(FXP_HANDLE, b, 11, &h, &hl), -1);
	free(b);
	/* 300 bytes: over the protocol's 256 */
	memcpy(rep, "\0\0\0\1\0\0\1\x2c", 8);
	b = exact(rep, sizeof(rep));
	assert_int_equal(sftpw_handle(FXP_HANDLE, b, sizeof(rep), &h, &hl),
	    -1);
	free(b);
	b = exact(rep, 3);		/* shorter than the id */
	assert_int_equal(sftpw_handle(FXP_HANDLE, b, 3, &h, &hl), -1);
	free(b);
}

static void
test_data(void **state)
{
	static const unsigned char rep[] = { 0, 0, 0, 9, 0, 0, 0, 4,
	    'a', 'b', 'c', 'd' };
	const unsigned char *d;
	unsigned char *b = exact(rep, sizeof(rep));
	size_t dl;

	(void)state;
	assert_int_equal(sftpw_data(FXP_DATA, b, sizeof(rep), 4, &d, &dl), 0);
	assert_int_equal(dl, 4);
	assert_memory_equal(d, "abcd", 4);
	/* more than asked */
	assert_int_equal(sftpw_data(FXP_DATA, b, sizeof(rep), 3, &d, &dl), -1);
	/* the string runs past the reply */
	assert_int_equal(sftpw_data(FXP_DATA, b, sizeof(rep) - 1, 4, &d, &dl),
	    -1);
	assert_int_equal(sftpw_data(FXP_ATTRS, b, sizeof(rep), 4, &d, &dl),
	    -1);
	free(b);
}

static void
test_status_attrs(void **state)
{
	static const unsigned char st[] = { 0, 0, 0, 3, 0, 0, 0, 2 };
	static const unsigned char at[] = { 0, 0, 0, 3, 0, 0, 0, 7,
	    0, 0, 0, 0, 0, 0, 0x10, 0,		/* size 4096 */
	    0, 0, 0, 0, 0, 0, 0, 26,		/* uid 0, gid 26 */
	    0, 0, 0x81, 0x80 };			/* 0100600 */
	struct sftp_stat s;
	unsigned char *b;
	size_t n;

	(void)state;
	b = exact(st, sizeof(st));
	assert_int_equal(sftpw_status(FXP_STATUS, b, sizeof(st)),
	    FX_NO_SUCH_FILE);
	assert_int_equal(sftpw_status(FXP_STATUS, b, 5), FX_FAILURE);
	assert_int_equal(sftpw_status(FXP_HANDLE, b, sizeof(st)), -1);
	free(b);
	b = exact(at, sizeof(at));
	assert_int_equal(sftpw_attrs(FXP_ATTRS, b, sizeof(at), &s), 0);
	assert_int_equal(s.size, 4096);
	assert_int_equal(s.uid, 0);
	assert_int_equal(s.gid, 26);
	assert_int_equal(s.mode, 0100600);
	assert_true(s.is_reg);
	assert_false(s.is_dir);
	/* every shorter cut of the same reply is refused */
	for (n = 0; n < sizeof(at); n++) {
		unsigned char *c = exact(at, n);

		assert_int_equal(sftpw_attrs(FXP_ATTRS, c, n, &s), -1);
		free(c);
	}
	free(b);
}

static void
test_version(void **state)
{
	static const unsigned char v[] = { FXP_VERSION, 0, 0, 0, 3,
	    0, 0, 0, 17, 'f', 's', 'y', 'n', 'c', '@', 'o', 'p', 'e', 'n', 's',
	    's', 'h', '.', 'c', 'o', 'm', 0, 0, 0, 1, '1' };
	unsigned char *b;
	uint32_t ver = 0;
	unsigned fs = 0;
	size_t n;

	(void)state;
	b = exact(v, sizeof(v));
	assert_int_equal(sftpw_version(b, sizeof(v), &ver, &fs), 0);
	assert_int_equal(ver, 3);
	assert_int_equal(fs, SFTPW_EXT_FSYNC);
	free(b);
	/* cut anywhere inside the extension: no fsync, nothing read past */
	for (n = 5; n < sizeof(v); n++) {
		b = exact(v, n);
		assert_int_equal(sftpw_version(b, n, &ver, &fs), 0);
		assert_int_equal(fs, 0);
		free(b);
	}
	b = exact(v, 4);
	assert_int_equal(sftpw_version(b, 4, &ver, &fs), -1);
	free(b);
}

/* Append a big-endian uint32 / a string to a buffer being built. */
static size_t
put32(unsigned char *b, size_t at, uint32_t v)
{
	b[at] = (unsigned char)(v >> 24);
	b[at + 1] = (unsigned char)(v >> 16);
	b[at + 2] = (unsigned char)(v >> 8);
	b[at + 3] = (unsigned char)v;
	return at + 4;
}

static size_t
putstr(unsigned char *b, size_t at, const char *s)
{
	at = put32(b, at, (uint32_t)strlen(s));
	memcpy(b + at, s, strlen(s));
	return at + strlen(s);
}

/* Attributes with every field, the times and one extended pair. */
static size_t
put_attrs(unsigned char *b, size_t at, uint32_t mtime)
{
	at = put32(b, at, ATTR_SIZE | ATTR_UIDGID | ATTR_PERMISSIONS |
	    ATTR_ACMODTIME | ATTR_EXTENDED);
	at = put32(b, at, 0);
	at = put32(b, at, 1704);		/* size */
	at = put32(b, at, 26);
	at = put32(b, at, 26);
	at = put32(b, at, 0100600);
	at = put32(b, at, 1700000000);		/* atime */
	at = put32(b, at, mtime);
	at = put32(b, at, 1);
	at = putstr(b, at, "x@example.com");
	return putstr(b, at, "v");
}

static void
test_attrs_mtime(void **state)
{
	unsigned char rep[128], *b;
	struct sftp_stat s;
	size_t len, n;

	(void)state;
	len = put_attrs(rep, put32(rep, 0, 9), 1800000000u);
	b = exact(rep, len);
	assert_int_equal(sftpw_attrs(FXP_ATTRS, b, len, &s), 0);
	assert_true(s.mtime_known);
	assert_int_equal(s.mtime, 1800000000u);
	assert_int_equal(s.size, 1704);
	assert_true(s.owner_known);
	free(b);
	for (n = 0; n < len; n++) {
		b = exact(rep, n);
		assert_int_equal(sftpw_attrs(FXP_ATTRS, b, n, &s), -1);
		assert_false(s.mtime_known);
		free(b);
	}
	/* without ACMODTIME the time is not known */
	len = put32(rep, put32(rep, 0, 9), ATTR_SIZE);
	len = put32(rep, put32(rep, len, 0), 5);
	b = exact(rep, len);
	assert_int_equal(sftpw_attrs(FXP_ATTRS, b, len, &s), 0);
	assert_false(s.mtime_known);
	free(b);
}

static void
test_names(void **state)
{
	unsigned char rep[512], *b;
	struct sftpw_cursor cur;
	struct sftpw_name e;
	uint32_t count;
	size_t len, n, i;

	(void)state;
	len = put32(rep, put32(rep, 0, 4), 2);	/* id 4, two names */
	len = putstr(rep, len, "server.key.pemrotate-X-0123456789ab");
	len = putstr(rep, len, "-rw------- 2 postgres postgres 1704 Jan 1 "
	    "00:00 server.key.pemrotate-X-0123456789ab");
	len = put_attrs(rep, len, 1800000001u);
	len = putstr(rep, len, "root.crt");
	len = putstr(rep, len, "-rw-r--r-- 1 postgres postgres 1 x");
	len = put32(rep, len, 0);		/* no attributes */
	b = exact(rep, len);
	assert_int_equal(sftpw_names(FXP_NAME, b, len, &count, &cur), 0);
	assert_int_equal(count, 2);
	assert_int_equal(sftpw_name_next(&cur, &e), 0);
	assert_int_equal(e.nl, 35);
	assert_memory_equal(e.name, "server.key.pemrotate-X-0123456789ab", 35);
	assert_int_equal(e.st.mtime, 1800000001u);
	assert_int_equal(sftpw_longname_nlink(e.longname, e.ll), 2);
	assert_int_equal(sftpw_name_next(&cur, &e), 0);
	assert_memory_equal(e.name, "root.crt", 8);
	assert_false(e.st.mtime_known);
	assert_int_equal(sftpw_longname_nlink(e.longname, e.ll), 1);
	assert_int_equal(cur.n, 0);
	assert_int_equal(sftpw_name_next(&cur, &e), -1);
	free(b);
	/* cut anywhere: the header or some name is refused, never read past */
	for (n = 0; n < len; n++) {
		b = exact(rep, n);
		if (sftpw_names(FXP_NAME, b, n, &count, &cur) == 0) {
			for (i = 0; i < count; i++)
				if (sftpw_name_next(&cur, &e) != 0)
					break;
			assert_true(i < count);
		}
		free(b);
	}
	/* a count the bytes cannot hold, and the wrong type */
	put32(rep, 4, 0x7fffffff);
	b = exact(rep, len);
	assert_int_equal(sftpw_names(FXP_NAME, b, len, &count, &cur), -1);
	assert_int_equal(sftpw_names(FXP_ATTRS, b, len, &count, &cur), -1);
	free(b);
}

static void
test_longname_nlink(void **state)
{
	static const char *bad[] = { "", "-rw-------", "-rw------- ",
	    "-rw------- x 1", "-rw------- 12", "-rw------- 99999999999 u" };
	size_t i;

	(void)state;
	assert_int_equal(sftpw_longname_nlink((const unsigned char *)
	    "-rw-------    3 u g 0 x", 23), 3);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sftpw_longname_nlink((const unsigned char *)
		    bad[i], strlen(bad[i])), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packet),
		cmocka_unit_test(test_handle),
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_status_attrs),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_attrs_mtime),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_longname_nlink),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
