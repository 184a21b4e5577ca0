/*
 * test_common.c: shell quoting (checked by a real /bin/sh), escaping of
 * untrusted text, numbers, JSON strings, memory for secrets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strutil.h"
#include "common/xmem.h"

#include "test_smaps.h"

/* Run printf %s WORD through sh and return what it printed. */
static char *
sh_echo(const char *quoted)
{
	char *cmd = xasprintf("printf %%s %s", quoted);
	char buf[4096];
	size_t n;
	FILE *p;

	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	assert_int_equal(pclose(p), 0);
	free(cmd);
	return xstrdup(buf);
}

static void
test_shquote_roundtrip(void **state)
{
	static const char *hostile[] = {
		"plain", "with space", "it's", "'", "''", "$(touch /tmp/x)",
		"`id`", "a;b && c | d", "\"dq\"", "back\\slash", "*", "~root",
		"-n", "", "$HOME", "!bang", "tab\there",
	};
	size_t i;
	char *q, *out;

	(void)state;
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		q = shquote(hostile[i], 0);
		assert_non_null(q);
		out = sh_echo(q);
		assert_string_equal(out, hostile[i]);
		free(out);
		free(q);
	}
}

static void
test_shquote_strict_refuses_ctrl(void **state)
{
	(void)state;
	assert_null(shquote("a\nb", 1));
	assert_null(shquote("a\rb", 1));
	assert_null(shquote("\x1b[2J", 1));
	char *q = shquote("a\nb", 0);
	assert_string_equal(q, "'a\nb'");
	free(q);
}

static void
test_printable(void **state)
{
	char *s;

	(void)state;
	s = str_printable("ok\n\x1b[31mred\\", 100);
	assert_string_equal(s, "ok\\n\\x1b[31mred\\\\");
	free(s);
	s = str_printable("abcdef", 3);
	assert_string_equal(s, "abc...");
	free(s);
	s = str_printable(NULL, 3);
	assert_string_equal(s, "");
	free(s);
}

static void
test_posint(void **state)
{
	long v = 0;

	(void)state;
	assert_true(str_to_posint("7", 100, &v));
	assert_int_equal(v, 7);
	assert_true(str_to_posint("2147483647", 2147483647L, &v));
	assert_false(str_to_posint("2147483648", 2147483647L, &v));
	assert_false(str_to_posint("0", 100, &v));
	assert_false(str_to_posint("-1", 100, &v));
	assert_false(str_to_posint("1x", 100, &v));
	assert_false(str_to_posint("", 100, &v));
	assert_false(str_to_posint(" 1", 100, &v));
	assert_false(str_to_posint("99999999999999999999999", 100, &v));
}

static void
test_json_string(void **state)
{
	struct strbuf b;

	(void)state;
	strbuf_init(&b);
	strbuf_add_json(&b, "a\"b\\c\nd\x01");
	assert_string_equal(b.s, "\"a\\\"b\\\\c\\nd\\u0001\"");
	strbuf_free(&b);
}

static void
test_strbuf_grows(void **state)
{
	struct strbuf b;
	int i;

	(void)state;
	strbuf_init(&b);
	for (i = 0; i < 1000; i++)
		strbuf_addf(&b, "%04d", i);
	assert_int_equal(b.len, 4000);
	assert_memory_equal(b.s + 3996, "0999", 4);
	strbuf_free(&b);
}

/*
 * secret_alloc: zero-filled, on pages of its own left out of core dumps
 * ("dd" in smaps) and locked where the limit allows; secret_free gives
 * them back.  A buffer of several pages holds all its bytes.
 */
static void
test_secret_alloc(void **state)
{
	static const size_t sizes[] = { 1, 100, 4096 - 16, 4096, 70000 };
	unsigned char *p;
	char *flags;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		p = secret_alloc(sizes[i]);
		for (j = 0; j < sizes[i]; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xa5, sizes[i]);
		flags = vmflags_of(p);
		assert_non_null(strstr(flags, " dd"));
		free(flags);
		flags = vmflags_of(p + sizes[i] - 1);
		assert_non_null(strstr(flags, " dd"));
		free(flags);
		secret_free(p);
	}
	secret_free(NULL);
}

static void
test_err_str(void **state)
{
	(void)state;
	assert_string_equal(err_str(ERR_HOSTKEY_CHANGED), "host key changed");
	assert_string_equal(err_str(ERR_HOSTKEY_REVOKED), "host key revoked");
	assert_string_equal(err_str(ERR_BECOME),
	    "privilege escalation refused");
	assert_string_equal(err_str(12345), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shquote_roundtrip),
		cmocka_unit_test(test_shquote_strict_refuses_ctrl),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_posint),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_strbuf_grows),
		cmocka_unit_test(test_secret_alloc),
		cmocka_unit_test(test_err_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
