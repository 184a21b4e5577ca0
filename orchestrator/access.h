/*
 * access.h: how each host is reached, the way the operator's ssh and
 * Ansible reach it: the OpenSSH client configuration and the inventory's
 * ansible_* variables resolved into the host's connection settings (the
 * inventory wins, as with Ansible); jump hosts (ProxyJump), one session
 * each, shared by every host behind it; sudo (Ansible's become); and the
 * PEM database through an SSH tunnel when the inventory asks for one.
 *
 * access_setup and access_host run on the main thread before the hosts
 * are worked on; access_open from the worker that owns the host (jump
 * hosts are opened once, under the run's access lock, by the first worker
 * that needs one; the others wait for it).
 */
#ifndef PEMROTATE_ACCESS_H
#define PEMROTATE_ACCESS_H

#include "runtypes.h"

/*
 * Read the SSH client configuration (--ssh-config, else ~/.ssh/config
 * and /etc/ssh/ssh_config) and, with -K, ask for the sudo password.
 * 0, or a negative code with the message in *msg.
 */
int access_setup(struct run *r, char **msg);

/*
 * Resolve h's settings (no network): where to connect, as whom, with
 * which keys, against which known_hosts, through which jump hosts, and
 * its become.  A bad value is an error naming the host's variable or the
 * configuration's file and line.
 */
int access_host(struct run *r, struct host *h, char **msg);

/*
 * Open h's connection (h->so) through its jump hosts, and set its
 * become.  0 with *out set; else the code, *out the failed connection
 * when there is one (its message read by the caller) or NULL with the
 * message in *msg.
 */
int access_open(struct run *r, struct host *h, struct sshconn **out,
    char **msg);

/*
 * With pem_db_tunnel set on the PEM server host (server: through an SSH
 * session to that host; jump: through its last jump host), forward the
 * PEM database's address (the conninfo's host and port, as seen from
 * there) to a local port and point r->conninfo and the TLS probe at it.
 * 0 when done or not asked for.
 */
int access_db_tunnel(struct run *r, char **msg);

/* 1 if h logs in as a user who becomes another with sudo. */
int access_becomes(const struct host *h);

/* Free h's settings; close the jump hosts and the tunnel; free. */
void access_host_free(struct host *h);
void access_free(struct run *r);

#endif
