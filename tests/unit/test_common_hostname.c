/*
 * test_common_hostname.c: what may name a host in a certificate -- DNS
 * host names (LDH labels), IP addresses -- and what may not: wildcards,
 * '_', punctuation, over-long labels and names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/strutil.h"

static void
test_hostname_accepts(void **state)
{
	static const char *const good[] = {
		"pem", "pem.example.com", "PEM.Example.COM", "pem.example.com.",
		"a-b.c-d", "x1", "1x", "123.example.com", "a.b.c.d.e.f",
		"xn--bcher-kva.example", "127.0.0.1.example",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		print_message("%s\n", good[i]);
		assert_true(str_is_hostname(good[i]));
	}
}

static void
test_hostname_refuses(void **state)
{
	static const char *const bad[] = {
		"", ".", "*", "*.example.com", "bad_name!", "under_score.com",
		"-pem", "pem-", "pem.-x.com", "pem.x-.com", "a..b", ".pem",
		"pem..", "pem.example.com..", "pem example", "pem/x",
		"pem:5432", "[::1]", "p?m", "1.2.3", "300.1.1.1", "10.0.0.1.",
		"caf\xc3\xa9", "pem\n.com",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("%s\n", bad[i]);
		assert_false(str_is_hostname(bad[i]));
	}
}

static void
test_hostname_lengths(void **state)
{
	char label[70], name[300];
	size_t i;

	(void)state;
	memset(label, 'a', 63);
	label[63] = '\0';
	assert_true(str_is_hostname(label));
	label[63] = 'a';
	label[64] = '\0';
	assert_false(str_is_hostname(label));	/* 64-byte label */
	/* 4 x 63 + 3 dots = 255; cut to 253, then 254 */
	for (i = 0; i < 4; i++) {
		memset(name + 64 * i, 'a', 63);
		name[64 * i + 63] = '.';
	}
	name[253] = '\0';
	assert_true(str_is_hostname(name));
	name[253] = '.';
	name[254] = '\0';
	assert_true(str_is_hostname(name));	/* 253 + trailing dot */
	name[253] = 'a';
	assert_false(str_is_hostname(name));	/* 254 */
}

static void
test_ip_address(void **state)
{
	(void)state;
	assert_true(str_is_ip_address("127.0.0.1"));
	assert_true(str_is_ip_address("::1"));
	assert_true(str_is_ip_address("fe80::1:2"));
	assert_true(str_is_ip_address("::ffff:10.0.0.1"));
	assert_false(str_is_ip_address("1.2.3"));
	assert_false(str_is_ip_address("300.1.1.1"));
	assert_false(str_is_ip_address("fe80::1%eth0"));
	assert_false(str_is_ip_address("*"));
	assert_false(str_is_ip_address(""));
}

static void
test_host_eq(void **state)
{
	(void)state;
	assert_true(str_host_eq("pem.example.com", "PEM.Example.com"));
	assert_true(str_host_eq("pem.example.com.", "pem.example.com"));
	assert_true(str_host_eq("pem", "pem."));
	assert_false(str_host_eq("pem", "pem.."));
	assert_false(str_host_eq("pem", "pem2"));
	assert_false(str_host_eq("pem.example.com", "pem.example.co"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostname_accepts),
		cmocka_unit_test(test_hostname_refuses),
		cmocka_unit_test(test_hostname_lengths),
		cmocka_unit_test(test_ip_address),
		cmocka_unit_test(test_host_eq),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
