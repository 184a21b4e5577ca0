/*
 * pemrotate: rotate every SSL certificate of a PEM estate.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "crypto/pki.h"
#include "options.h"
#include "run.h"
#include "transport/sshconn.h"

int
main(int argc, char **argv)
{
	struct opts o;
	int rc;

	switch (opts_parse(argc, argv, &o)) {
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
	rc = run_main(&o);
	sshconn_global_cleanup();
	return rc;
}
