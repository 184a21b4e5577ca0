/*
 * test_pemdb.c: what a conninfo string asks of TLS, as libpq will see it
 * (the string first, then PGSSLMODE and friends), without a server.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "inventory/pemdb.h"

static int
clear_env(void **state)
{
	(void)state;
	unsetenv("PGSSLMODE");
	unsetenv("PGSSLROOTCERT");
	unsetenv("PGHOST");
	unsetenv("PGHOSTADDR");
	unsetenv("PGPORT");
	return 0;
}

static void
test_target_string(void **state)
{
	struct pemdb_target t;
	char *msg;

	(void)state;
	assert_int_equal(pemdb_target("host=pem.example.com dbname=pem", &t,
	    &msg), 0);
	assert_string_equal(t.port, "5432");
	assert_false(t.socket);
	assert_null(t.sslmode);
	assert_null(t.sslrootcert);
	pemdb_target_clear(&t);
	assert_int_equal(pemdb_target("host=a,b port=5444,5445 "
	    "sslmode=require sslrootcert=/r.pem", &t, &msg), 0);
	assert_string_equal(t.port, "5444");
	assert_string_equal(t.sslmode, "require");
	assert_string_equal(t.sslrootcert, "/r.pem");
	assert_false(pemdb_sslmode_verifies(t.sslmode));
	pemdb_target_clear(&t);
	/* a URI */
	assert_int_equal(pemdb_target("postgresql://u@h:6000/pem?sslmode="
	    "verify-full", &t, &msg), 0);
	assert_string_equal(t.port, "6000");
	assert_string_equal(t.sslmode, "verify-full");
	assert_true(pemdb_sslmode_verifies(t.sslmode));
	pemdb_target_clear(&t);
}

static void
test_target_socket(void **state)
{
	struct pemdb_target t;
	char *msg;

	(void)state;
	assert_int_equal(pemdb_target("dbname=pem sslmode=disable", &t,
	    &msg), 0);
	assert_true(t.socket);		/* libpq's default socket */
	pemdb_target_clear(&t);
	assert_int_equal(pemdb_target("host=/run/postgresql,/tmp", &t,
	    &msg), 0);
	assert_true(t.socket);
	pemdb_target_clear(&t);
	/* one TCP host among them, or a hostaddr: TCP */
	assert_int_equal(pemdb_target("host=/tmp,db1", &t, &msg), 0);
	assert_false(t.socket);
	pemdb_target_clear(&t);
	assert_int_equal(pemdb_target("hostaddr=10.0.0.1", &t, &msg), 0);
	assert_false(t.socket);
	pemdb_target_clear(&t);
}

static void
test_target_env(void **state)
{
	struct pemdb_target t;
	char *msg;

	(void)state;
	setenv("PGSSLMODE", "prefer", 1);
	setenv("PGPORT", "5499", 1);
	setenv("PGHOST", "db.example.com", 1);
	assert_int_equal(pemdb_target("dbname=pem", &t, &msg), 0);
	assert_string_equal(t.sslmode, "prefer");
	assert_string_equal(t.port, "5499");
	assert_false(t.socket);
	pemdb_target_clear(&t);
	/* the string wins over the environment */
	assert_int_equal(pemdb_target("sslmode=verify-ca port=1", &t, &msg), 0);
	assert_string_equal(t.sslmode, "verify-ca");
	assert_string_equal(t.port, "1");
	pemdb_target_clear(&t);
	setenv("PGSSLROOTCERT", "/env/root.crt", 1);
	assert_int_equal(pemdb_target("", &t, &msg), 0);
	assert_string_equal(t.sslrootcert, "/env/root.crt");
	pemdb_target_clear(&t);
	clear_env(NULL);
}

static void
test_target_bad(void **state)
{
	struct pemdb_target t;
	char *msg;

	(void)state;
	assert_int_equal(pemdb_target("host=x frobnicate=1", &t, &msg),
	    ERR_PARSE);
	assert_non_null(strstr(msg, "frobnicate"));
	assert_null(strchr(msg, '\n'));
	free(msg);
	assert_int_equal(pemdb_target("port=54x2", &t, &msg), ERR_PARSE);
	assert_string_equal(msg, "port \"54x2\" is not a port number");
	free(msg);
	assert_int_equal(pemdb_target("port=70000", &t, &msg), ERR_PARSE);
	free(msg);
	assert_false(pemdb_sslmode_verifies(NULL));
	assert_false(pemdb_sslmode_verifies("allow"));
	assert_true(pemdb_sslmode_verifies("verify-ca"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_target_string, clear_env),
		cmocka_unit_test_setup(test_target_socket, clear_env),
		cmocka_unit_test_setup(test_target_env, clear_env),
		cmocka_unit_test_setup(test_target_bad, clear_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
