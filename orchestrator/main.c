/*
 * pemrotate: rotate every SSL certificate of a PEM estate.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "crypto/pki.h"
#include "cmd.h"
#include "options.h"
#include "transport/sshconn.h"

int
main(int argc, char **argv)
{
	struct rlimit no_core = { 0, 0 };
	struct opts o;
	int rc;

	/*
	 * First: this process will hold private keys and the CA's key, so
	 * no core dump, and no ptrace or /proc/PID/mem for the same user.
	 */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &no_core);
	switch (opts_parse(argc, argv, cmd_table, &o)) {
	case OPTS_EXIT_OK:
		return 0;
	case OPTS_EXIT_USAGE:
		return 2;
	case OPTS_RUN:
		break;
	}
	log_set_level(o.quiet ? LOG_ERROR : o.verbose ? LOG_DEBUG : LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	if (pki_init() != 0 || sshconn_global_init() != 0) {
		fprintf(stderr, "pemrotate: cannot initialise OpenSSL or "
		    "libssh2\n");
		return 2;
	}
	rc = o.cmd->exec(&o);
	sshconn_global_cleanup();
	return rc;
}
