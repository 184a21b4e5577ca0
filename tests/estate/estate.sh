#!/usr/bin/env bash
#
# estate.sh -- build, use and tear down a fake PEM estate for pemrotate's
# integration tests: a real PostgreSQL 15 cluster with PEM's six SSL files and
# pem.agent and pem.job tables, a real sshd, N agent "hosts" (one address each, all
# served by that sshd), an inventory and a known_hosts file.  As root, all
# servers run in a private network namespace.
#
#   estate.sh up DIR N [--key-type rsa|ec] [--agent-key-type ec|rsa]
#                      [--start ssh|local|none] [--locked-down]
#   estate.sh down DIR
#   estate.sh exec DIR CMD...
#   estate.sh ctl DIR CMD...        (--locked-down: in the controller's
#                                    namespace, beyond the bastion)
#   estate.sh logs DIR
#   estate.sh check-agent DIR ID
#
# See tests/estate/README.md for the files made in DIR.

set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin
SSHD=/usr/sbin/sshd
PSQL=$PGBIN/psql
SERVER_ADDR=127.0.10.1
PG_PORT=5432
DECOMMISSIONED_ID=100000
SUBJ_BASE="/C=US/ST=MA/L=Bedford/O=EnterpriseDB Corporation"
SUBJ_BASE+="/OU=Postgres Enterprise Manager"
CA_SUBJ="$SUBJ_BASE/CN=PEM/emailAddress=support@enterprisedb.com"
ESTATE_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF=$ESTATE_HOME/$(basename "${BASH_SOURCE[0]}")
# --locked-down: the bastion's address on the estate's side of a veth pair,
# the controller's on the other (each pair in namespaces of its own)
BASTION_ADDR=10.77.0.1
CTL_ADDR=10.77.0.2
OPS_USER=pemops		# logs in, sudo without a password
NOSUDO_USER=pemnosudo	# logs in, may not sudo
PW_USER=pempw		# logs in, sudo asks for a password
JUMP_USER=pemjump	# the bastion's login: forwarding only

log() {
	printf 'estate: %s\n' "$*" >&2
}

die() {
	log "$*"
	exit 1
}

usage() {
	cat >&2 <<'EOF'
usage: estate.sh up DIR N [--key-type rsa|ec] [--agent-key-type ec|rsa]
                          [--start ssh|local|none] [--locked-down]
       estate.sh down DIR
       estate.sh exec DIR CMD...
       estate.sh ctl DIR CMD...
       estate.sh logs DIR
       estate.sh check-agent DIR ID
EOF
	exit 2
}

is_root() {
	[[ $(id -u) -eq 0 ]]
}

# locate ID: set HOST and ADDR to the inventory name and address of agent
# ID's host (agent 1 runs on the PEM server host).  No fork: loops call it
# for every agent.
locate() {
	local k=$1

	if ((k == 1)); then
		HOST=pemserver
		ADDR=$SERVER_ADDR
	else
		HOST=agent$k
		ADDR=127.0.$((20 + k / 250)).$((k % 250 + 1))
	fi
}

# newkey_args TYPE: openssl req arguments making a new key of TYPE.
newkey_args() {
	case $1 in
	rsa) echo "-newkey rsa:2048" ;;
	ec) echo "-newkey ec -pkeyopt ec_paramgen_curve:P-256" ;;
	*) die "unknown key type: $1" ;;
	esac
}

# load_env DIR: read DIR/env (written first thing by up) into this shell.
load_env() {
	[[ -f $1/env ]] || die "$1/env: no estate here"
	# shellcheck source=/dev/null
	source "$1/env"
}

# inns CMD...: run CMD inside the estate's namespace (if any).
inns() {
	if [[ -n ${ESTATE_NS:-} ]]; then
		ip netns exec "$ESTATE_NS" "$@"
	else
		"$@"
	fi
}

abs_dir() {
	realpath -m -- "$1"
}

# ---- up -------------------------------------------------------------------

make_namespace() {
	local ns i

	for i in 1 2 3 4 5 6 7 8; do
		ns=pemrt-$(openssl rand -hex 4)
		if ip netns add "$ns" 2>/dev/null; then
			ip netns exec "$ns" ip link set lo up
			echo "$ns"
			return 0
		fi
	done
	die "cannot create a network namespace"
}

write_env() {
	local d=$1

	{
		printf 'export ESTATE_DIR=%q\n' "$d"
		printf 'export ESTATE_NS=%q\n' "$NS"
		printf 'export ESTATE_N=%q\n' "$N"
		printf 'export PGPASSFILE=%q\n' "$d/pgpass"
		# no sslmode: pemrotate verifies the server (verify-ca) with
		# the PEM CA it reads over SSH; psql falls back to prefer
		printf "export PEMDB='%s'\n" \
		    "host=$SERVER_ADDR port=$PG_PORT dbname=pem user=pemadmin"
		printf 'export ESTATE_INVENTORY=%q\n' "$d/inventory.ini"
		printf 'export ESTATE_KNOWN_HOSTS=%q\n' "$d/known_hosts"
		printf 'export ESTATE_SSH_KEY=%q\n' "$d/id_ed25519"
		printf 'export ESTATE_PGDATA=%q\n' "$d/pg/data"
		printf 'export ESTATE_PGSOCK=%q\n' "$d/pg/sock"
		printf 'export ESTATE_PGBIN=%q\n' "$PGBIN"
		printf 'export ESTATE_SERVER_ADDR=%q\n' "$SERVER_ADDR"
		printf 'export ESTATE_CTL_NS=%q\n' "${CTL_NS:-}"
		if [[ -n ${CTL_NS:-} ]]; then
			printf 'export ESTATE_BASTION_ADDR=%q\n' "$BASTION_ADDR"
			printf 'export ESTATE_SSH_CONFIG=%q\n' "$d/ssh_config"
			printf 'export ESTATE_LOCKED_INVENTORY=%q\n' \
			    "$d/inventory-locked.ini"
			printf 'export ESTATE_SUDO_PASSWORD_FILE=%q\n' \
			    "$d/sudo-password"
		fi
	} >"$d/env"
}

openssl_cnf() {
	cat <<EOF
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = CA:TRUE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_leaf]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca]
default_ca = ca_default
[ca_default]
database = $1/index.txt
default_md = sha256
default_crl_days = 3650
EOF
}

# make_pki PKI KEYTYPE: the server's six files, made like PEM's installer.
make_pki() {
	local p=$1 kt=$2
	# shellcheck disable=SC2046
	(
		umask 077
		mkdir -p "$p/crl"
		openssl_cnf "$p/crl" >"$p/crl/openssl.cnf"
		: >"$p/crl/index.txt"
		openssl req -config "$p/crl/openssl.cnf" -x509 -new \
		    $(newkey_args "$kt") -nodes -sha256 -days 3650 \
		    -subj "$CA_SUBJ" -extensions v3_ca \
		    -keyout "$p/ca_key.key" -out "$p/ca_certificate.crt" \
		    2>/dev/null
		cp "$p/ca_certificate.crt" "$p/root.crt"
		openssl ca -config "$p/crl/openssl.cnf" -gencrl \
		    -keyfile "$p/ca_key.key" -cert "$p/ca_certificate.crt" \
		    -out "$p/root.crl" 2>/dev/null
		openssl req -config "$p/crl/openssl.cnf" -x509 -new \
		    $(newkey_args "$kt") -nodes -CA "$p/ca_certificate.crt" \
		    -CAkey "$p/ca_key.key" -days 3650 -sha256 \
		    -extensions v3_leaf -subj "$SUBJ_BASE/CN=$SERVER_ADDR" \
		    -keyout "$p/server.key" -out "$p/server.crt" 2>/dev/null
		rm -rf "$p/crl"
	)
}

agent_cfg() {
	local h=$1 id=$2

	cat <<EOF
[PEM/agent]
pem_host=$SERVER_ADDR
pem_port=$PG_PORT
agent_id=$id
agent_ssl_key=$h/root/.pem/agent$id.key
agent_ssl_crt=$h/root/.pem/agent$id.crt
agent_flag_dir=
log_level=warning
log_location=$h/var/log/pem/worker.log
agent_log_location=$h/var/log/pem/agent.log
long_wait=30
short_wait=10
alert_threads=0
enable_smtp=false
enable_snmp=false
enable_webhook=false
max_webhook_retries=3
allow_server_restart=true
max_connections=0
connect_timeout=10
connection_lifetime=0
allow_batch_probes=false
heartbeat_connection=false
enable_nagios=false
batch_script_user=
ca_file=
EOF
}

# _gen-agents DIR ID...: (internal, run by xargs) make each agent's host
# directory, agent.cfg, key and certificate.  Reads ESTATE_PKI and
# ESTATE_AGENT_KT from the environment.
gen_agents() {
	local d=$1 id h cnf=$ESTATE_PKI/openssl.cnf
	shift

	umask 077
	for id in "$@"; do
		locate "$id"
		h=$d/hosts/$HOST
		mkdir -p "$h/etc" "$h/root/.pem" "$h/var/log/pem"
		agent_cfg "$h" "$id" >"$h/etc/agent.cfg"
		# shellcheck disable=SC2046
		openssl req -config "$cnf" -x509 -new \
		    $(newkey_args "$ESTATE_AGENT_KT") -nodes \
		    -CA "$ESTATE_PKI/ca_certificate.crt" \
		    -CAkey "$ESTATE_PKI/ca_key.key" -days 3650 -sha256 \
		    -extensions v3_leaf -subj "$SUBJ_BASE/CN=agent$id" \
		    -keyout "$h/root/.pem/agent$id.key" \
		    -out "$h/root/.pem/agent$id.crt" 2>/dev/null
		chmod 0644 "$h/root/.pem/agent$id.crt" "$h/etc/agent.cfg"
		[[ -s $h/root/.pem/agent$id.crt ]] ||
		    die "agent$id: certificate not made"
	done
}

init_cluster() {
	local d=$1

	mkdir -p "$d/pg/sock"
	chown -R postgres: "$d/pg"
	runuser -u postgres -- "$PGBIN/initdb" -D "$d/pg/data" -N \
	    -A peer -U postgres -E UTF8 --locale=C >"$d/pg/initdb.log" 2>&1
}

configure_cluster() {
	local d=$1 pki=$2 f data=$1/pg/data

	for f in ca_key.key ca_certificate.crt root.crt root.crl \
	    server.key server.crt; do
		install -m 0600 -o postgres -g postgres "$pki/$f" "$data/$f"
	done
	cat >>"$data/postgresql.conf" <<EOF

# pemrotate test estate
listen_addresses = '*'
port = $PG_PORT
unix_socket_directories = '$d/pg/sock'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_ca_file = 'root.crt'
ssl_crl_file = 'root.crl'
fsync = off
max_connections = 300
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
log_connections = on
EOF
	cat >"$data/pg_hba.conf" <<'EOF'
# pemrotate test estate
local   all     postgres                peer
hostssl pem     +pem_agent  0.0.0.0/0   cert
host    all     pemadmin    0.0.0.0/0   scram-sha-256
EOF
	chown postgres: "$data/pg_hba.conf"
}

start_cluster() {
	local d=$1

	inns runuser -u postgres -- "$PGBIN/pg_ctl" -D "$d/pg/data" \
	    -l "$d/pg/log" -w -t 60 start >/dev/null
}

fill_pem_db() {
	local d=$1 pw=$2

	inns runuser -u postgres -- "$PSQL" -X -q -v ON_ERROR_STOP=1 \
	    -h "$d/pg/sock" -p "$PG_PORT" -d postgres \
	    -v n="$N" -v pw="$pw" -v dead="$DECOMMISSIONED_ID" >/dev/null <<'EOF'
CREATE ROLE pemadmin SUPERUSER LOGIN PASSWORD :'pw';
CREATE ROLE pem_agent NOLOGIN;
SELECT format('CREATE ROLE %I LOGIN IN ROLE pem_agent', 'agent' || i)
  FROM generate_series(1, :n) AS i
UNION ALL
SELECT format('CREATE ROLE %I LOGIN IN ROLE pem_agent', 'agent' || :dead)
\gexec
CREATE DATABASE pem;
\c pem
CREATE SCHEMA pem;
CREATE TABLE pem.agent(id int PRIMARY KEY, description text,
    active bool NOT NULL DEFAULT true, version text, platform text,
    heartbeat_interval int);
INSERT INTO pem.agent(id, description, version, platform, heartbeat_interval)
  SELECT i, CASE WHEN i = 1 THEN 'Postgres Enterprise Manager Host'
                 ELSE 'agent' || i END,
         '9.7.0', 'x86_64 Debian 12', 60
    FROM generate_series(1, :n) AS i;
INSERT INTO pem.agent VALUES (:dead, 'decommissioned', false, '8.6.0',
    'x86_64 Debian 11', 60);
CREATE TABLE pem.job(jobid serial PRIMARY KEY, jobname text NOT NULL,
    jobdesc text, jobenabled bool NOT NULL DEFAULT true);
INSERT INTO pem.job(jobname, jobdesc) VALUES
    ('Check CA certificate expiry',
     'Renew the PEM CA certificate when it is about to expire'),
    ('Purge logs', 'Remove old PEM logs');
EOF
}

ensure_login_user() {
	(
		flock 9
		if ! id -u pemrt >/dev/null 2>&1; then
			useradd -o -u 0 -g 0 -M -d /root -s /bin/sh pemrt
		fi
		[[ $(getent shadow pemrt | cut -d: -f2) == '*' ]] ||
		    usermod -p '*' pemrt
	) 9>/run/pemrt-estate.lock
}

setup_sshd() {
	local d=$1 s=$1/sshd

	mkdir -p "$s" /run/sshd
	chmod 0755 /run/sshd
	ssh-keygen -q -t ed25519 -N '' -C "estate host" -f "$s/ssh_host_ed25519_key"
	ssh-keygen -q -t ecdsa -N '' -C "estate host" -f "$s/ssh_host_ecdsa_key"
	ssh-keygen -q -t ed25519 -N '' -C "estate client" -f "$d/id_ed25519"
	cp "$d/id_ed25519.pub" "$s/authorized_keys"
	cat >"$s/sshd_config" <<EOF
# pemrotate test estate
Port 22
ListenAddress 0.0.0.0
HostKey $s/ssh_host_ed25519_key
HostKey $s/ssh_host_ecdsa_key
PidFile $s/sshd.pid
AuthorizedKeysFile $s/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
Subsystem sftp internal-sftp
MaxStartups 1000:30:2000
MaxSessions 200
LogLevel VERBOSE
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
EOF
	"$SSHD" -t -f "$s/sshd_config"
	ensure_login_user
}

# ---- --locked-down: sudo users, no root logins, a bastion -------------------

# login_as: LOGIN and SUDO, how the estate's own helpers run a command on
# a host: root logins, or OPS_USER and sudo on a locked-down estate.
login_as() {
	LOGIN=pemrt SUDO=
	if [[ -n ${ESTATE_CTL_NS:-} ]]; then
		LOGIN=$OPS_USER SUDO="sudo -n "
	fi
}

# ensure_locked_users DIR: the login users of a locked-down estate (kept,
# like pemrt, for the next estate) and their sudo rights; PW_USER's
# password into DIR/sudo-password.  Estates up at the same time (test
# runs side by side) share one password, kept in PW_FILE while the machine
# runs: setting a new one would refuse another estate's sudo.
PW_FILE=/run/pemrt-estate-sudo-password
ensure_locked_users() {
	local d=$1 u t=/etc/sudoers.d/pemrotate-estate
	(
		flock 9
		for u in "$OPS_USER" "$NOSUDO_USER" "$PW_USER" "$JUMP_USER"; do
			id -u "$u" >/dev/null 2>&1 ||
			    useradd -M -d / -s /bin/sh "$u"
		done
		for u in "$OPS_USER" "$NOSUDO_USER" "$JUMP_USER"; do
			[[ $(getent shadow "$u" | cut -d: -f2) == '*' ]] ||
			    usermod -p '*' "$u"
		done
		# PW_USER's password: set once while the machine runs
		if [[ ! -s $PW_FILE ]]; then
			(umask 077 && openssl rand -hex 12 >"$PW_FILE.tmp")
			usermod -p "$(openssl passwd -6 -stdin \
			    <"$PW_FILE.tmp")" "$PW_USER"
			mv "$PW_FILE.tmp" "$PW_FILE"
		fi
		(umask 077 && cp "$PW_FILE" "$d/sudo-password")
		printf '%s\n' \
		    "# pemrotate test estates (estate.sh --locked-down)" \
		    "$OPS_USER ALL=(ALL:ALL) NOPASSWD: ALL" \
		    "$PW_USER ALL=(ALL:ALL) ALL" >"$t.tmp"
		chmod 0440 "$t.tmp"
		visudo -cqf "$t.tmp"
		mv "$t.tmp" "$t"
	) 9>/run/pemrt-estate.lock
}

# lock_down_sshd DIR: no root login anywhere; the bastion's user may only
# forward.
lock_down_sshd() {
	local s=$1/sshd

	sed -i 's/^PermitRootLogin .*/PermitRootLogin no/' "$s/sshd_config"
	printf '%s\n' "Match User $JUMP_USER" \
	    "	ForceCommand /usr/sbin/nologin" "	PermitTTY no" \
	    >>"$s/sshd_config"
	"$SSHD" -t -f "$s/sshd_config"
}

# make_ctl_namespace: the controller's namespace, joined to the estate's by
# a veth pair: from it only BASTION_ADDR is reachable.
make_ctl_namespace() {
	local a=pv${NS#pemrt-}a b=pv${NS#pemrt-}b

	CTL_NS=${NS}c
	ip netns add "$CTL_NS"
	ip netns exec "$CTL_NS" ip link set lo up
	ip link add "$a" type veth peer name "$b"
	ip link set "$a" netns "$NS"
	ip link set "$b" netns "$CTL_NS"
	ip -n "$NS" addr add "$BASTION_ADDR/30" dev "$a"
	ip -n "$CTL_NS" addr add "$CTL_ADDR/30" dev "$b"
	ip -n "$NS" link set "$a" up
	ip -n "$CTL_NS" link set "$b" up
}

# write_locked_files DIR: the bastion in known_hosts, an OpenSSH client
# configuration (patterns, negation, Match, an Include) that reaches every
# host through the bastion as OPS_USER, and an inventory that leaves user,
# key and jump host to that configuration and becomes root with sudo.
write_locked_files() {
	local d=$1 k

	for k in ed25519 ecdsa; do
		echo "$BASTION_ADDR $(cut -d' ' -f1,2 \
		    "$d/sshd/ssh_host_${k}_key.pub")"
	done >>"$d/known_hosts"
	mkdir -p "$d/ssh_config.d"
	cat >"$d/ssh_config" <<EOF
# pemrotate test estate (--locked-down): every host through the bastion
# (an Include after a Host line would belong to that Host's section)
Include $d/ssh_config.d/*.conf

Host bastion
	HostName $BASTION_ADDR
	User $JUMP_USER

Host 127.0.* !127.0.0.1
	ProxyJump bastion

Host *
	IdentityFile $d/id_ed25519
	IdentitiesOnly yes
	UserKnownHostsFile $d/known_hosts
	GlobalKnownHostsFile /dev/null
	StrictHostKeyChecking yes
	ConnectTimeout 10
EOF
	cat >"$d/ssh_config.d/ops.conf" <<EOF
Match host 127.0.*,!127.0.0.1
	User $OPS_USER
EOF
	sed -e '/^ansible_user=/d' -e '/^ansible_ssh_private_key_file=/d' \
	    -e 's/^\[all:vars\]$/[all:vars]\nansible_become=true/' \
	    -e 's/^\[pem_server:vars\]$/[pem_server:vars]\npem_db_tunnel=server/' \
	    "$d/inventory.ini" >"$d/inventory-locked.ini"
}

# check_locked DIR: what OpenSSH says of the locked-down estate: the
# controller reaches an agent only through the bastion, logs in as
# OPS_USER, becomes root; root logins and direct connections fail.
check_locked() {
	local d=$1 out
	local -a opts

	mapfile -t opts < <(ssh_opts "$d")
	locate 2
	out=$(ip netns exec "$CTL_NS" ssh -F "$d/ssh_config" -n \
	    -o BatchMode=yes -o LogLevel=ERROR "$ADDR" sudo -n id -u) ||
	    die "ssh through the bastion to $ADDR failed"
	[[ $out == 0 ]] || die "sudo through the bastion: id -u said $out"
	if ip netns exec "$CTL_NS" ssh "${opts[@]}" -o ConnectTimeout=2 \
	    "$OPS_USER@$ADDR" true 2>/dev/null; then
		die "$ADDR is reachable from the controller without the bastion"
	fi
	if inns ssh "${opts[@]}" "pemrt@$ADDR" true 2>/dev/null; then
		die "a root login to $ADDR was accepted"
	fi
}

start_sshd() {
	local s=$1/sshd

	inns "$SSHD" -f "$s/sshd_config" -E "$s/log"
}

# make_known_hosts DIR: both host keys (ed25519, ecdsa) for each address,
# as ssh-keyscan or OpenSSH's UpdateHostKeys record them; every second
# address hashed.
make_known_hosts() {
	local d=$1 t=$1/kh.tmp ed ec k i=0 f

	ed=$(cut -d' ' -f1,2 "$d/sshd/ssh_host_ed25519_key.pub")
	ec=$(cut -d' ' -f1,2 "$d/sshd/ssh_host_ecdsa_key.pub")
	mkdir -p "$t"
	: >"$t/plain"
	: >"$t/hashed"
	for ((k = 1; k <= N; k++)); do
		locate "$k"
		f=$t/hashed
		((i++ % 2 == 0)) && f=$t/plain
		printf '%s %s\n%s %s\n' "$ADDR" "$ed" "$ADDR" "$ec" >>"$f"
	done
	if [[ -s $t/hashed ]]; then
		ssh-keygen -H -f "$t/hashed" >/dev/null 2>&1
	fi
	paste -d '\n' "$t/plain" "$t/hashed" | sed '/^$/d' >"$d/known_hosts"
	rm -rf "$t"
}

write_inventory() {
	local d=$1 k h cfg fpa=$1/bin/fake-pemagent

	{
		echo "# pemrotate test estate: $N agents"
		echo "[pem_server]"
		echo "pemserver ansible_host=$SERVER_ADDR"
		echo
		echo "[pem_agents]"
		for ((k = 1; k <= N; k++)); do
			locate "$k"
			cfg=$d/hosts/$HOST/etc/agent.cfg
			printf "%s ansible_host=%s pem_agent_cfg=%s" \
			    "$HOST" "$ADDR" "$cfg"
			printf " pem_agent_stop_cmd='%s stop %s'" "$fpa" "$cfg"
			printf " pem_agent_start_cmd='%s start %s'" "$fpa" "$cfg"
			printf " pem_agent_status_cmd='%s status %s'\n" \
			    "$fpa" "$cfg"
		done
		echo
		echo "[pem_server:vars]"
		printf "pem_server_restart_cmd='%s %s -D %s -l %s -w -t 60 restart'\n" \
		    "/usr/sbin/runuser -u postgres --" "$PGBIN/pg_ctl" \
		    "$d/pg/data" "$d/pg/log"
		echo
		echo "[all:vars]"
		# one key=value a line: the rest of the line is the value
		echo "ansible_user=pemrt"
		echo "ansible_ssh_private_key_file=$d/id_ed25519"
	} >"$d/inventory.ini"
}

ssh_opts() {
	local d=$1

	printf '%s\n' -F /dev/null -n -o BatchMode=yes \
	    -o "UserKnownHostsFile=$d/known_hosts" \
	    -o GlobalKnownHostsFile=/dev/null \
	    -o StrictHostKeyChecking=yes -o ConnectTimeout=10 \
	    -o KexAlgorithms=curve25519-sha256 \
	    -o IdentitiesOnly=yes -o LogLevel=ERROR -i "$d/id_ed25519"
}

# _start-agents DIR ID...: (internal, run by xargs in the namespace) start
# each agent over SSH with OpenSSH's client, as a real operator would.
start_agents() {
	local d=$1 id h cfg out fails=0
	local -a opts
	shift

	mapfile -t opts < <(ssh_opts "$d")
	login_as
	for id in "$@"; do
		locate "$id"
		cfg=$d/hosts/$HOST/etc/agent.cfg
		# shellcheck disable=SC2029 # expanded here on purpose
		if ! out=$(ssh "${opts[@]}" "$LOGIN@$ADDR" \
		    "$SUDO$d/bin/fake-pemagent start $cfg" 2>&1); then
			echo "$HOST ($ADDR): start failed: $out" |
			    tr '\n' ' ' >&2
			echo >&2
			fails=$((fails + 1))
		fi
	done
	((fails == 0))
}

# ssh_sample: agents started over SSH by --start local: 1, 2, N and every
# 50th, so both plain and hashed known_hosts lines are used.
ssh_sample() {
	local k

	for ((k = 1; k <= N; k++)); do
		if ((k <= 2 || k == N || k % 50 == 0 || k % 50 == 1)); then
			echo "$k"
		fi
	done
}

# start_all DIR MODE: start the agents and fail if any cannot log in.
#   ssh   every agent over SSH (the full proof; ~60 ms of CPU per agent)
#   local a sample over SSH, the rest by running fake-pemagent directly in
#         the namespace (every certificate still proven)
#   none  nobody started: one SSH round trip and agent 1's login checked
start_all() {
	local d=$1 mode=$2 sample k
	local -a opts

	mapfile -t opts < <(ssh_opts "$d")
	case $mode in
	ssh) sample=$(seq 1 "$N") ;;
	local) sample=$(ssh_sample) ;;
	none) sample= ;;
	esac
	if [[ -n $sample ]] && ! inns xargs -P 16 -n 4 "$BASH" "$SELF" \
	    _start-agents "$d" <<<"$sample"; then
		die "some agents did not start over SSH (see above)"
	fi
	if [[ $mode == local ]]; then
		for ((k = 1; k <= N; k++)); do
			locate "$k"
			[[ -e $d/hosts/$HOST/agent.state ]] ||
			    echo "$d/hosts/$HOST/etc/agent.cfg"
		done | inns xargs -r -P 4 -n 1 "$d/bin/fake-pemagent" start ||
		    die "some agents did not start (see above)"
	elif [[ $mode == none ]]; then
		login_as
		inns ssh "${opts[@]}" "$LOGIN@$SERVER_ADDR" true ||
		    die "ssh to $SERVER_ADDR failed"
		locate 1
		inns "$d/bin/fake-pemagent" check \
		    "$d/hosts/$HOST/etc/agent.cfg" ||
		    die "agent1 cannot log in"
	fi
}

up_abort() {
	local rc=$?

	trap - EXIT INT TERM
	if [[ -n ${INITDB_PID:-} ]]; then
		kill "$INITDB_PID" 2>/dev/null || true
		wait "$INITDB_PID" 2>/dev/null || true
	fi
	log "up failed (exit $rc); log tails follow, then teardown"
	logs_cmd "$UP_DIR" || true
	down_cmd "$UP_DIR" || true
	exit "$rc"
}

up_cmd() {
	local d n kt=rsa akt=ec start=ssh pki pw t0 jobs rc=0 locked=0

	(($# >= 2)) || usage
	d=$(abs_dir "$1")
	n=$2
	shift 2
	while (($#)); do
		case $1 in
		--key-type) kt=${2:-}; shift 2 || usage ;;
		--agent-key-type) akt=${2:-}; shift 2 || usage ;;
		--start) start=${2:-}; shift 2 || usage ;;
		--locked-down) locked=1; shift ;;
		*) usage ;;
		esac
	done
	[[ $kt == rsa || $kt == ec ]] || die "--key-type: rsa or ec"
	[[ $akt == rsa || $akt == ec ]] || die "--agent-key-type: rsa or ec"
	[[ $start =~ ^(ssh|local|none)$ ]] || die "--start: ssh, local or none"
	if ! [[ $n =~ ^[1-9][0-9]*$ ]] || ((n > 5000)); then
		die "N: 1..5000"
	fi
	[[ $d =~ ^/[A-Za-z0-9_./+-]+$ ]] ||
	    die "$d: only letters, digits and _ . / + - please"
	is_root || die "up needs root (namespace, runuser, port 22)"
	if [[ -e $d ]] && [[ -n $(ls -A "$d") ]]; then
		die "$d: exists and is not empty"
	fi
	t0=$SECONDS
	N=$n
	UP_DIR=$d
	mkdir -p "$d"
	chmod 0755 "$d"
	NS=
	trap up_abort EXIT
	trap 'exit 130' INT TERM
	NS=$(make_namespace)
	export ESTATE_NS=$NS
	CTL_NS=
	if ((locked)); then
		make_ctl_namespace
		export ESTATE_CTL_NS=$CTL_NS
	fi
	write_env "$d"
	log "$d: namespace $NS, $N agents"

	init_cluster "$d" &
	INITDB_PID=$!

	pki=$d/pki.tmp
	make_pki "$pki" "$kt"
	openssl_cnf "$pki" >"$pki/openssl.cnf"
	jobs=$(($(nproc) * 2))
	# OPENSSL_CONF: skip the system config, ~20% off each openssl start.
	seq 1 "$N" | ESTATE_PKI=$pki ESTATE_AGENT_KT=$akt \
	    OPENSSL_CONF=$pki/openssl.cnf xargs -P "$jobs" -n 25 "$BASH" "$SELF" _gen-agents "$d"
	log "PKI and $N agent certificates made ($((SECONDS - t0)) s)"

	setup_sshd "$d"
	mkdir -p "$d/bin"
	install -m 0755 "$ESTATE_HOME/fake-pemagent" "$d/bin/fake-pemagent"
	make_known_hosts "$d"
	write_inventory "$d"
	if ((locked)); then
		ensure_locked_users "$d"
		lock_down_sshd "$d"
		write_locked_files "$d"
	fi

	wait "$INITDB_PID" || rc=$?
	INITDB_PID=
	((rc == 0)) || { cat "$d/pg/initdb.log" >&2; die "initdb failed"; }
	configure_cluster "$d" "$pki"
	rm -rf "$pki"
	start_cluster "$d"
	pw=$(openssl rand -hex 16)
	fill_pem_db "$d" "$pw"
	(umask 077 && echo "$SERVER_ADDR:$PG_PORT:*:pemadmin:$pw" >"$d/pgpass")
	start_sshd "$d"
	log "postgres and sshd running ($((SECONDS - t0)) s)"

	start_all "$d" "$start"
	log "agents started (--start $start, $((SECONDS - t0)) s)"
	if ((locked)); then
		check_locked "$d"
		log "locked down: root logins refused, bastion $BASTION_ADDR"
	fi
	trap - EXIT INT TERM
	echo "$d/env"
}

# ---- down, exec, logs, check-agent ------------------------------------------

down_cmd() {
	local d i pids

	(($# == 1)) || usage
	d=$(abs_dir "$1")
	if [[ ! -f $d/env ]]; then
		log "$d: no estate here; nothing to do"
		return 0
	fi
	load_env "$d"
	if [[ -f $d/pg/data/postmaster.pid ]]; then
		inns runuser -u postgres -- "$PGBIN/pg_ctl" -D "$d/pg/data" \
		    -m fast -w -t 30 stop >/dev/null 2>&1 || true
	fi
	if [[ -f $d/sshd/sshd.pid ]]; then
		kill "$(cat "$d/sshd/sshd.pid")" 2>/dev/null || true
		rm -f "$d/sshd/sshd.pid"
	fi
	if [[ -n $ESTATE_NS && -e /run/netns/$ESTATE_NS ]]; then
		for i in 1 2 3 4 5 6 7 8 9 10; do
			pids=$(ip netns pids "$ESTATE_NS")
			[[ -z $pids ]] && break
			if ((i < 10)); then
				# shellcheck disable=SC2086
				kill $pids 2>/dev/null || true
				sleep 0.5
			else
				# shellcheck disable=SC2086
				kill -KILL $pids 2>/dev/null || true
				sleep 0.2
			fi
		done
		ip netns del "$ESTATE_NS"
	fi
	if [[ -n ${ESTATE_CTL_NS:-} && -e /run/netns/$ESTATE_CTL_NS ]]; then
		pids=$(ip netns pids "$ESTATE_CTL_NS")
		# shellcheck disable=SC2086
		[[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
		ip netns del "$ESTATE_CTL_NS"
	fi
	log "$d: down"
}

exec_cmd() {
	local d

	(($# >= 2)) || usage
	d=$(abs_dir "$1")
	shift
	load_env "$d"
	if [[ -n $ESTATE_NS ]]; then
		exec ip netns exec "$ESTATE_NS" "$@"
	fi
	exec "$@"
}

ctl_cmd() {
	local d

	(($# >= 2)) || usage
	d=$(abs_dir "$1")
	shift
	load_env "$d"
	[[ -n ${ESTATE_CTL_NS:-} ]] || die "$d: not a --locked-down estate"
	exec ip netns exec "$ESTATE_CTL_NS" "$@"
}

logs_cmd() {
	local d f

	(($# == 1)) || usage
	d=$(abs_dir "$1")
	for f in "$d/sshd/log" "$d/pg/initdb.log" "$d/pg/log"; do
		[[ -f $f ]] || continue
		echo "==== $f (last 50 lines)"
		tail -n 50 "$f"
	done
}

check_agent_cmd() {
	local d id cfg

	(($# == 2)) || usage
	d=$(abs_dir "$1")
	id=$2
	[[ $id =~ ^[1-9][0-9]*$ ]] || die "ID: a positive integer"
	load_env "$d"
	locate "$id"
	cfg=$d/hosts/$HOST/etc/agent.cfg
	# an agent of an older install: postgres-reg.ini (fake-pemagent)
	[[ -f $cfg || -f ${cfg%agent.cfg}postgres-reg.ini ]] ||
	    die "agent$id: no host in this estate"
	inns "$d/bin/fake-pemagent" check "$cfg"
}

main() {
	(($# >= 1)) || usage
	local cmd=$1
	shift
	case $cmd in
	up) up_cmd "$@" ;;
	down) down_cmd "$@" ;;
	exec) exec_cmd "$@" ;;
	ctl) ctl_cmd "$@" ;;
	logs) logs_cmd "$@" ;;
	check-agent) check_agent_cmd "$@" ;;
	_gen-agents) gen_agents "$@" ;;
	_start-agents) start_agents "$@" ;;
	*) usage ;;
	esac
}

main "$@"
