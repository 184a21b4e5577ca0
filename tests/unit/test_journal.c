/*
 * test_journal.c: the journal's records, and when they reach the disk.
 * fsync and fdatasync are counted through the linker's --wrap (see
 * CMakeLists.txt).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xmem.h"
#include "orchestrator/journal.h"

int __wrap_fsync(int fd);
int __wrap_fdatasync(int fd);
int __real_fsync(int fd);
int __real_fdatasync(int fd);

static int nfsync, nfdatasync;

int
__wrap_fsync(int fd)
{
	nfsync++;
	return __real_fsync(fd);
}

int
__wrap_fdatasync(int fd)
{
	nfdatasync++;
	return __real_fdatasync(fd);
}

/*
 * A journal made in a state directory that does not exist yet: each new
 * directory and the journal's name are synced (three directories here);
 * a "pushed" record is on disk when journal_add returns, other records
 * wait for journal_sync or the close.  What was written reads back.
 */
static void
test_journal_durable(void **state)
{
	char tmpl[] = "/tmp/pemrt-journal.XXXXXX", *msg, *dir, *path, *want;
	struct journal_state st;
	struct journal *j = NULL;
	struct stat sb;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	dir = xasprintf("%s/state/pemrotate", tmpl);
	nfsync = nfdatasync = 0;
	assert_int_equal(journal_create(dir, "r1", &j, &msg), 0);
	assert_null(msg);
	assert_int_equal(nfsync, 3);	/* tmpl, state, pemrotate */
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	journal_add(j, "run", "r1");
	journal_add(j, "stopped", "agent1");
	assert_int_equal(nfdatasync, 0);
	journal_add(j, "pushed", "agent1");
	assert_int_equal(nfdatasync, 1);
	journal_addf(j, "pushed", "agent%d", 2);
	assert_int_equal(nfdatasync, 2);
	journal_sync(j);
	assert_int_equal(nfdatasync, 3);
	path = xstrdup(journal_path(j));
	journal_close(j);
	assert_int_equal(nfsync, 3);
	memset(&st, 0, sizeof(st));
	assert_int_equal(journal_load(path, &st, &msg), 0);
	assert_null(msg);
	assert_string_equal(st.run_id, "r1");
	assert_true(journal_has(&st, "pushed", "agent1"));
	assert_true(journal_has(&st, "pushed", "agent2"));
	assert_true(journal_has(&st, "stopped", "agent1"));
	journal_state_clear(&st);
	/* an existing directory: only the journal's name is synced */
	nfsync = 0;
	assert_int_equal(journal_create(dir, "r2", &j, &msg), 0);
	assert_int_equal(nfsync, 1);
	journal_close(j);
	/* the same run id twice: refused, nothing replaced */
	assert_int_equal(journal_create(dir, "r1", &j, &msg), ERR_IO);
	want = xasprintf("journal %s: File exists", path);
	assert_string_equal(msg, want);
	free(want);
	free(msg);
	/* what is not a journal is refused by name */
	assert_int_equal(journal_load(dir, &st, &msg), ERR_PARSE);
	want = xasprintf("%s is not a pemrotate journal", dir);
	assert_string_equal(msg, want);
	free(want);
	free(msg);
	unlink(path);
	free(path);
	path = xasprintf("%s/r2.journal", dir);
	unlink(path);
	free(path);
	rmdir(dir);
	free(dir);
	dir = xasprintf("%s/state", tmpl);
	rmdir(dir);
	free(dir);
	rmdir(tmpl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_durable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
