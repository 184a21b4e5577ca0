#!/usr/bin/env bash
# jump.sh BIN: the jump host tests (transport/jump.c) against real sshds.
#
#   bastion sshd  127.0.50.1:2022  AllowTcpForwarding yes
#                 127.0.50.2:2022  AllowTcpForwarding no (Match LocalAddress)
#                 127.0.50.3:2022  ClientAliveInterval 1 (keepalives)
#   target sshd   127.0.60.1:2022  the hosts behind the bastion; .3 is also
#                 127.0.60.2:2022  the second hop of a chain; .2 is in
#                 127.0.60.3:2022  known_hosts with a wrong key
#
# Each sshd has its own config, host key and log (LogLevel VERBOSE: the
# bastion's "Accepted publickey" lines are counted).  As root, in a
# private network namespace when one can be made, else on the host's
# loopback.  BIN (the cmocka program test_transport_jump) runs in it with
# JT_DIR (keys, known_hosts, logs, a data file) in its environment.
# Exit 77 (skipped) when not root or without sshd.  On failure the tails
# of the sshd logs are printed.
set -euo pipefail

bin=$1
SSHD=/usr/sbin/sshd
if [ "$(id -u)" -ne 0 ]; then
	echo "jump.sh: needs root for sshd; skipped"
	exit 77
fi
[ -x "$SSHD" ] || { echo "jump.sh: no $SSHD; skipped"; exit 77; }

d=$(mktemp -d /tmp/pemrt-jump.XXXXXX)
chmod 755 "$d"
ns=""
# shellcheck disable=SC2317	# called by the trap
cleanup() {
	local f pids
	for f in "$d"/*.pid; do
		if [ -f "$f" ]; then
			kill "$(cat "$f")" 2>/dev/null || true
		fi
	done
	if [ -n "$ns" ]; then
		# what is left in it is ours: sshd's session processes
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			pids=$(ip netns pids "$ns")
			[ -z "$pids" ] && break
			# shellcheck disable=SC2086
			kill $pids 2>/dev/null || true
			sleep 0.2
		done
		ip netns del "$ns" || true
	fi
	rm -rf "$d"
}
trap cleanup EXIT

inns() {
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$@"
	else
		"$@"
	fi
}

for _ in 1 2 3 4; do
	n=pemrt-jump-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	if ip netns add "$n" 2>/dev/null; then
		ns=$n
		ip netns exec "$ns" ip link set lo up
		break
	fi
done
[ -n "$ns" ] || echo "jump.sh: no network namespace; on the host's loopback"

# The login user of the estate (tests/estate/estate.sh): uid 0, /bin/sh
# (root's login shell here is slow), password field '*' for UsePAM no.
(
	flock 9
	if ! id -u pemrt >/dev/null 2>&1; then
		useradd -o -u 0 -g 0 -M -d /root -s /bin/sh pemrt
	fi
	[ "$(getent shadow pemrt | cut -d: -f2)" = '*' ] || usermod -p '*' pemrt
) 9>/run/pemrt-estate.lock

mkdir -p /run/sshd
chmod 0755 /run/sshd
ssh-keygen -q -t ed25519 -N '' -C jump-client -f "$d/id_ed25519"
cp "$d/id_ed25519.pub" "$d/authorized_keys"
for k in bastion target wrong; do
	ssh-keygen -q -t ed25519 -N '' -C "jump $k" -f "$d/${k}_key"
done
key() { cut -d' ' -f1,2 "$d/$1_key.pub"; }
{
	echo "[127.0.50.1]:2022 $(key bastion)"
	echo "[127.0.50.2]:2022 $(key bastion)"
	echo "[127.0.50.3]:2022 $(key bastion)"
	echo "[127.0.60.1]:2022 $(key target)"
	echo "[127.0.60.2]:2022 $(key wrong)"
	echo "[127.0.60.3]:2022 $(key target)"
} >"$d/known_hosts"
head -c 2097152 /dev/urandom >"$d/blob"

sshd_config() {	# sshd_config NAME ADDRESS...
	local name=$1 a
	shift
	echo "Port 2022"
	for a in "$@"; do
		echo "ListenAddress $a"
	done
	cat <<EOF
HostKey $d/${name}_key
PidFile $d/$name.pid
AuthorizedKeysFile $d/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AllowTcpForwarding yes
Subsystem sftp internal-sftp
MaxStartups 300:30:600
MaxSessions 20
LogLevel VERBOSE
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
EOF
}
sshd_config bastion 127.0.50.1 127.0.50.2 127.0.50.3 >"$d/bastion.conf"
cat >>"$d/bastion.conf" <<EOF
Match LocalAddress 127.0.50.2
	AllowTcpForwarding no
Match LocalAddress 127.0.50.3
	ClientAliveInterval 1
	ClientAliveCountMax 10
EOF
sshd_config target 127.0.60.1 127.0.60.2 127.0.60.3 >"$d/target.conf"
for s in bastion target; do
	"$SSHD" -t -f "$d/$s.conf"
	inns "$SSHD" -f "$d/$s.conf" -E "$d/$s.log"
done

set +e
JT_DIR=$d inns "$bin"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
	for s in bastion target; do
		echo "==== $s sshd log (last 30 lines)"
		tail -n 30 "$d/$s.log"
	done
fi
exit "$rc"
