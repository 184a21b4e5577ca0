/*
 * setup.c: a run made from the options: identity, run id, names, hosts,
 * key generation, the journal's first records; and freeing it all.
 */
#include "setup.h"

#include <sys/resource.h>

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/xmem.h"
#include "crypto/pki.h"
#include "access.h"
#include "dbtrust.h"
#include "inventory/inventory.h"
#include "inventory/pemdb.h"
#include "journal.h"
#include "keys.h"
#include "options.h"
#include "pool.h"
#include "progress.h"
#include "transport/knownhosts.h"

/* Who runs pemrotate: the default login name, as ssh's. */
static void
setup_identity(struct run *r)
{
	struct passwd *pw = getpwuid(getuid());

	r->user = xstrdup(pw != NULL ? pw->pw_name : "root");
}

/*
 * The run id: UTC time and 16 random bits (two runs in one second differ),
 * or the id of the run being resumed.  The new CA's subject: PEM's, with a
 * serialNumber naming this run.
 */
static void
setup_subject(struct run *r)
{
	unsigned char rnd[2] = { 0, 0 };
	char t[24];
	struct tm tm;

	gmtime_r(&r->started, &tm);
	strftime(t, sizeof(t), "%Y%m%dT%H%M%SZ", &tm);
	if (getentropy(rnd, sizeof(rnd)) != 0)
		rnd[0] = (unsigned char)getpid();
	if (r->resume != NULL)
		snprintf(r->run_id, sizeof(r->run_id), "%s", r->resume->run_id);
	else
		snprintf(r->run_id, sizeof(r->run_id), "%s-%02x%02x", t,
		    rnd[0], rnd[1]);
	r->suffix = xasprintf(".pemrotate-%s-*", r->run_id);
	r->rx.run_id = r->run_id;
	r->rx.allow_shared = r->o->allow_shared_dirs;
	if (r->o->ca_subject != NULL)
		r->ca_subject = xstrdup(r->o->ca_subject);
	else
		r->ca_subject = xasprintf("%s/serialNumber=pemrotate-%s",
		    pki_default_ca_subject(), r->run_id);
}

static char *
host_label(const struct inv_host *ih)
{
	char *raw, *safe;

	if (strcmp(ih->name, ih->address) == 0)
		raw = xstrdup(ih->name);
	else
		raw = xasprintf("%s (%s)", ih->name, ih->address);
	safe = str_printable(raw, 200);
	free(raw);
	return safe;
}

/* Whether the host's agent needs a new key in this run. */
static int
wants_key(const struct run *r, const struct host *h)
{
	if (r->day_two && (r->agent_wanted == NULL ||
	    !r->agent_wanted(r, h->inv)))
		return 0;
	return h->inv->is_agent && !r->o->keygen_remote && (r->resume == NULL ||
	    !journal_has(r->resume, JK_PUSHED, h->inv->name));
}

/*
 * One struct host per inventory host, and the order keys are made in: the
 * CA's and the server's (unless a resumed run finished the server), then
 * the agents', the server host's own agent first.
 */
static size_t
setup_hosts(struct run *r)
{
	size_t i, slot = 0, rank = 0;
	struct host *h;

	r->ca_slot = r->server_slot = -1;
	if (!r->day_two && (r->resume == NULL ||
	    !journal_has(r->resume, JK_SERVER, JV_SERVER_DONE))) {
		r->ca_slot = (long)slot++;
		r->server_slot = (long)slot++;
	}
	r->nhosts = inventory_count(r->inv);
	r->hosts = xcalloc(r->nhosts, sizeof(*r->hosts));
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		h->inv_idx = i;
		h->inv = inventory_host(r->inv, i);
		h->label = host_label(h->inv);
		if (h->inv->is_server)
			r->server = h;
		if (h->inv->is_server && wants_key(r, h))
			h->key_slot = slot++;
	}
	for (i = 0; i < r->nhosts; i++) {
		h = &r->hosts[i];
		if (!h->inv->is_server)
			h->rank = rank++;
		if (!h->inv->is_server && wants_key(r, h))
			h->key_slot = slot++;
	}
	return slot;
}

/* Many hosts keep a connection open: allow the descriptors. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * OpenSSL's secure heap for the private keys, sized for what can be alive
 * at once: for each host worked on at once and each key thread, a key
 * being made (at its peak RSA-4096 takes ~16 KB, EC ~2 KB), the key a push
 * holds with its PEM, an SSH key exchange; 128 KB besides (CA, server
 * key, TLS).  Locked memory counts in the resident size from the start,
 * hence a size that follows -j and the key type.
 */
static void
secure_heap(const struct opts *o)
{
	size_t per = o->keyspec.alg == PKI_ALG_RSA ? 32 * 1024 : 8 * 1024;
	size_t want = 128 * 1024 + per * ((size_t)o->parallel +
	    (size_t)cpu_count()), size = 1;

	while (size < want)
		size *= 2;
	switch (pki_secure_heap(size)) {
	case 0:
		log_debug("secure heap for keys: %zu KB, locked in memory",
		    size / 1024);
		break;
	case ERR_PERM:
		log_debug("secure heap for keys: %zu KB, not locked in memory "
		    "(RLIMIT_MEMLOCK)", size / 1024);
		break;
	default:
		log_debug("no secure heap for keys (%zu KB refused): they are "
		    "on the ordinary heap, wiped when freed", size / 1024);
		break;
	}
}

/* "host='ADDR' dbname=pem", the value escaped as libpq wants. */
static char *
conninfo_for(const char *addr)
{
	struct strbuf b;

	strbuf_init(&b);
	strbuf_adds(&b, "host='");
	for (; *addr != '\0'; addr++) {
		if (*addr == '\'' || *addr == '\\')
			strbuf_adds(&b, "\\");
		strbuf_add(&b, addr, 1);
	}
	strbuf_adds(&b, "' dbname=pem");
	return strbuf_steal(&b);
}

/*
 * The secret the names of the run's files on the hosts derive from (see
 * rfile.h): new, or the resumed run's, from its journal.
 */
static int
setup_names(struct run *r)
{
	static const char hex[] = "0123456789abcdef";
	const char *v;
	unsigned char *s = r->rx.secret;
	size_t i, n = sizeof(r->rx.secret);
	unsigned hi, lo;

	if (r->resume == NULL) {
		if (getentropy(s, n) != 0) {
			r->error = xstrdup("no randomness from the kernel");
			return ERR_IO;
		}
		for (i = 0; i < n; i++) {
			r->names_hex[2 * i] = hex[s[i] >> 4];
			r->names_hex[2 * i + 1] = hex[s[i] & 15];
		}
		r->names_hex[2 * n] = '\0';
		return 0;
	}
	v = journal_get(r->resume, JK_NAMES);
	if (v == NULL || strlen(v) != 2 * n) {
		r->error = xasprintf("%s: no \"names\" record (a run of an "
		    "older pemrotate: finish it with that version)",
		    r->resume->path);
		return ERR_PARSE;
	}
	for (i = 0; i < n; i++) {
		if (sscanf(v + 2 * i, "%1x%1x", &hi, &lo) != 2) {
			r->error = xasprintf("%s: bad \"names\" record",
			    r->resume->path);
			return ERR_PARSE;
		}
		s[i] = (unsigned char)(hi << 4 | lo);
	}
	snprintf(r->names_hex, sizeof(r->names_hex), "%s", v);
	return 0;
}

int
setup_run(struct run *r)
{
	const struct inv_host *s;
	char *msg;
	size_t nkeys;
	int rc;

	secure_heap(r->o);	/* the key type is known; no key exists yet */
	progress_init(r);
	setup_subject(r);
	if ((rc = setup_names(r)) != 0)
		return rc;
	if (inventory_load(r->o->inventory, r->o->ninventory, &r->inv,
	    &msg) != 0) {
		r->error = msg;
		return ERR_PARSE;
	}
	setup_identity(r);
	if ((rc = access_setup(r, &msg)) != 0) {
		r->error = msg;
		return rc;
	}
	nkeys = setup_hosts(r);
	r->nlocal_keys = nkeys;
	/*
	 * Sessions kept between phases: every host's up to a memory budget
	 * of ~50 MB + 10 KB a host (a libssh2 1.10 session is ~57 KB).
	 */
	r->max_open = r->o->max_open > 0 ? (size_t)r->o->max_open :
	    600 + r->nhosts / 25;
	s = inventory_server(r->inv);
	if (r->o->pem_db != NULL)
		r->conninfo = xstrdup(r->o->pem_db);
	else
		r->conninfo = conninfo_for(s->address);
	raise_fd_limit();
	/*
	 * Keys are made just ahead of their use, at most two per CPU made
	 * and not yet taken: private keys do not pile up in memory, and the
	 * threads stay busy as long as the pushes take keys.
	 */
	if (r->read_only)
		nkeys = 0;
	r->kg = keygen_start(&r->o->keyspec, nkeys, cpu_count(),
	    2 * (size_t)cpu_count());
	return 0;
}

/* Record what the run is before its first change. */
int
setup_journal(struct run *r)
{
	const struct opts *o = r->o;
	char ks[32], *msg, *redacted, *inv;
	size_t i;

	if (r->resume != NULL) {
		if (journal_reopen(r->resume->path, &r->journal, &msg) != 0)
			goto fail;
		journal_addf(r->journal, JK_RESUMED, "%ld", (long)r->started);
		return 0;
	}
	if (journal_create(r->state_dir, r->run_id, &r->journal, &msg) != 0)
		goto fail;
	redacted = pemdb_conninfo_redact(r->conninfo);
	pki_keyspec_str(&o->keyspec, ks, sizeof(ks));
	journal_add(r->journal, JK_RUN, r->run_id);
	journal_add(r->journal, JK_NAMES, r->names_hex);
	for (i = 0; i < o->ninventory; i++) {
		inv = realpath(o->inventory[i], NULL);
		journal_add(r->journal, JK_INVENTORY, inv ? inv :
		    o->inventory[i]);
		free(inv);
	}
	journal_add(r->journal, JK_PEM_DB, redacted ? redacted : "");
	journal_add(r->journal, JK_KNOWN_HOSTS,
	    o->known_hosts ? o->known_hosts : "");
	journal_add(r->journal, JK_SSH_KEY, o->ssh_key ? o->ssh_key : "");
	journal_add(r->journal, JK_SSH_CONFIG,
	    o->ssh_config ? o->ssh_config : "");
	journal_add(r->journal, JK_KEY_TYPE, ks);
	journal_addf(r->journal, JK_DAYS, "%d", o->days);
	journal_addf(r->journal, JK_NO_OVERLAP, "%d", o->no_overlap);
	journal_addf(r->journal, JK_KEYGEN_REMOTE, "%d", o->keygen_remote);
	journal_add(r->journal, JK_CA_SUBJECT, r->ca_subject);
	journal_add(r->journal, JK_OLD_CA, r->old_ca_fp);
	journal_sync(r->journal);
	free(redacted);
	return 0;
 fail:
	r->error = xasprintf("%s; nothing was changed", msg);
	free(msg);
	return ERR_IO;
}

static void
free_host(struct host *h)
{
	sshconn_close(h->conn);
	access_host_free(h);
	free(h->label);
	free(h->known_lines);
	free(h->cfg_path);
	free(h->key_path);
	rfile_clear(&h->kf);
	rfile_clear(&h->cf);
	free(h->crt_path);
	free(h->stop_cmd);
	free(h->start_cmd);
	free(h->run_cmd);
	free(h->pem_host);
	free(h->error);
}

void
setup_free(struct run *r)
{
	size_t i;

	keygen_free(r->kg);
	for (i = 0; i < r->nhosts; i++)
		free_host(&r->hosts[i]);
	free(r->hosts);
	for (i = 0; i < SF_COUNT; i++) {
		free(r->sf.path[i]);
		rfile_clear(&r->sf.f[i]);
	}
	free(r->sf.data_dir);
	free(r->sf.old_root_crt);
	free(r->sf.old_root_crl);
	free(r->sf.restart_cmd);
	pki_cert_free(r->sf.old_ca);
	pki_cert_free(r->sf.old_server_cert);
	pki_key_free(r->ca_key);
	pki_leafmaker_free(r->leafmaker);
	pki_key_free(r->server_key);
	pki_cert_free(r->ca_cert);
	pki_cert_free(r->server_cert);
	free(r->ca_pem);
	free(r->crl_pem);
	free(r->ca_subject);
	free(r->suffix);
	free(r->conninfo);
	free(r->user);
	free(r->pg_host);
	free(r->pg_port);
	free(r->probe_host);
	free(r->probe_port);
	free(r->error);
	pemdb_free(r->db);
	/* after the hosts' sessions and the database: they ride on it */
	access_free(r);
	keys_free(r);
	pemdb_ssl_clear(&r->ssl);
	dbtrust_free(r);
	inventory_free(r->inv);
	free(r->state_dir);
	if (r->resume != NULL)
		journal_state_clear(r->resume);
	free(r->resume);
	free(r->jobs);
	free(r->active_ids);
	log_set_hook(NULL, NULL, NULL);
	pthread_mutex_destroy(&r->mu);
}
