#!/bin/sh
#
# manual.sh ID HOST ADDR: PEM's manual procedure for one agent, as an
# operator's shell loop runs it (bench/run.sh runs it under xargs -P J):
# stop the agent, make a new EC P-256 key, a request and a certificate
# signed by the PEM CA with openssl on the controller, copy key and
# certificate to the agent host with one scp, start the agent.
#
# Environment: ESTATE_DIR, ESTATE_KNOWN_HOSTS, ESTATE_SSH_KEY (from the
# estate's env), CA_DIR (a copy of ca_certificate.crt and ca_key.key),
# WORK_DIR (the controller's directory for the new files).  Plain OpenSSH
# client defaults: strict host key checking against the estate's
# known_hosts, the estate's key, user pemrt, no connection sharing.
# MANUAL_SSH_OPTS (optional, split on blanks) adds options to ssh and scp,
# e.g. "-o KexAlgorithms=curve25519-sha256".
set -eu

[ $# -eq 3 ] || { echo "usage: manual.sh ID HOST ADDR" >&2; exit 2; }
id=$1
host=$2
addr=$3
cfg=$ESTATE_DIR/hosts/$host/etc/agent.cfg
pem=$ESTATE_DIR/hosts/$host/root/.pem
agent=$ESTATE_DIR/bin/fake-pemagent
w=$WORK_DIR/agent$id

extra=${MANUAL_SSH_OPTS:-}

ssh_() {
	# shellcheck disable=SC2086 # extra: several options on purpose
	ssh -o UserKnownHostsFile="$ESTATE_KNOWN_HOSTS" \
	    -o StrictHostKeyChecking=yes -o BatchMode=yes $extra \
	    -i "$ESTATE_SSH_KEY" "pemrt@$addr" "$@"
}

fail() {
	echo "manual.sh: agent$id ($host $addr): $*" >&2
	exit 1
}

ssh_ "$agent stop $cfg" || fail "stop failed"
mkdir -p "$w"
(umask 077 && openssl genpkey -algorithm EC \
    -pkeyopt ec_paramgen_curve:P-256 -out "$w/agent$id.key") ||
    fail "genpkey failed"
openssl req -new -key "$w/agent$id.key" -subj "/CN=agent$id" \
    -out "$w/agent$id.csr" || fail "req failed"
openssl x509 -req -in "$w/agent$id.csr" -CA "$CA_DIR/ca_certificate.crt" \
    -CAkey "$CA_DIR/ca_key.key" -days 3650 -sha256 \
    -out "$w/agent$id.crt" 2>/dev/null || fail "x509 failed"
# shellcheck disable=SC2086
scp -q -o UserKnownHostsFile="$ESTATE_KNOWN_HOSTS" \
    -o StrictHostKeyChecking=yes -o BatchMode=yes $extra -i "$ESTATE_SSH_KEY" \
    "$w/agent$id.key" "$w/agent$id.crt" "pemrt@$addr:$pem/" ||
    fail "scp failed"
ssh_ "$agent start $cfg" || fail "start failed"
