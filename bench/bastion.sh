#!/usr/bin/env bash
#
# bench/bastion.sh -- what a bastion and sudo cost a rotation: the same
# pemrotate rotating N agents three ways, turn about, each way on an estate
# of its own (tests/estate/estate.sh, EC P-256 PKI, --start local):
#
#   root    an ordinary estate: root logins, straight from the estate's
#           namespace (what bench/run.sh's pemrotate rows measure)
#   sudo    a --locked-down estate, straight from the estate's namespace:
#           logins as pemops, everything through sudo, no ProxyJump
#   bastion the same --locked-down estate from the controller's namespace:
#           every host and the database through the bastion, with sudo
#           (what bench/run.sh's bastion rows measure)
#
#   bash bench/bastion.sh [--sizes "200"] [--rounds 3] [--logs DIR]
#                         [--pemrotate BIN]
#
# Rounds run root, sudo, bastion, root, sudo, bastion, ... so that a
# change in the machine's speed falls on all three alike.  Every run must
# end "ok" for all N hosts.  Prints each run's wall time and its phases
# (preflight: until PEM's job is disabled; push includes each agent's
# start), then per size the median of each way and the ratios bastion /
# root and bastion / sudo.  -j is bench/run.sh's: 8 up to 20 agents, 16 up
# to 200, 32 above.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
ESTATE=$here/tests/estate/estate.sh
SIZES=200
ROUNDS=3
LOGDIR=
PEMROTATE=$here/build/pemrotate

while [[ $# -gt 0 ]]; do
	case $1 in
	--sizes) SIZES=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	--logs) LOGDIR=$2; shift 2 ;;
	--pemrotate) PEMROTATE=$2; shift 2 ;;
	*) echo "usage: bench/bastion.sh [--sizes S] [--rounds R]" \
	    "[--logs DIR] [--pemrotate BIN]" >&2; exit 2 ;;
	esac
done
[[ $(id -u) -eq 0 ]] || { echo "bench/bastion.sh: needs root" >&2; exit 2; }
[[ -x $PEMROTATE ]] || { echo "no $PEMROTATE: build first" >&2; exit 2; }
[[ -n $LOGDIR ]] || LOGDIR=$(mktemp -d /tmp/pemrt-bastion-logs.XXXXXX)
mkdir -p "$LOGDIR"
D=$(mktemp -d /tmp/pemrt-bastion.XXXXXX)
chmod 0755 "$D"	# the estates' postgres and agent users go through it
trap 'bash "$ESTATE" down "$D/root" >/dev/null 2>&1 || true
      bash "$ESTATE" down "$D/lock" >/dev/null 2>&1 || true
      rm -rf "$D"' EXIT

say() { printf 'bastion: %s\n' "$*" >&2; }

# The phases of one run's log (lines "SECONDS text").
phases() {
	awk 'function d(a, b) { return (a == "" || b == "") ? "-" : \
	        sprintf("%.2f", b - a) }
	/is disabled for the run/ { pre = $1 }
	/stopping the PEM server host/ { st = $1 }
	/rotating the PEM server.s files/ { sv = $1 }
	/restarting PostgreSQL/ { rs = $1 }
	/pushing new keys/ { pu = $1 }
	/finalizing:/ { fi = $1 }
	{ last = $1 }
	END { printf "preflight %s stop %s server %s restart %s push %s " \
	    "total %s", d(0, pre), d(st, sv), d(sv, rs), d(rs, pu), \
	    d(pu, fi), d(0, last) }' "$1"
}

# run WAY ROUND: one rotation; its wall time on stdout
run() {
	local way=$1 log=$LOGDIR/$N-$1-$2.log dir where inv cfg
	case $way in
	root) dir=$D/root where=exec inv=inventory.ini cfg=() ;;
	sudo) dir=$D/lock where=exec inv=inventory-direct.ini
	      cfg=(--ssh-config "$D/lock/ssh_config.direct") ;;
	bastion) dir=$D/lock where=ctl inv=inventory-locked.ini
	      cfg=(--ssh-config "$D/lock/ssh_config") ;;
	esac
	# shellcheck disable=SC1091
	. "$dir/env"
	[[ $way == root ]] && cfg=(--known-hosts "$ESTATE_KNOWN_HOSTS")
	bash "$ESTATE" "$where" "$dir" "$PEMROTATE" rotate -i "$dir/$inv" \
	    "${cfg[@]}" --pem-db "$PEMDB" --key-type ec:P-256 -j "$J" -y \
	    --state-dir "$dir.state" 2>&1 | perl -MTime::HiRes=time -e \
	    '$t = time; $| = 1; while (<STDIN>) { printf "%.3f %s", time - $t, $_ }' \
	    >"$log" || true
	grep -q "ok: $N host(s): $N ok, 0 failed" "$log" ||
	    { tail -5 "$log" >&2; say "$way round $2 did not end ok"; exit 1; }
	say "N=$N $way round $2: $(phases "$log")"
	awk 'END { print $1 }' "$log"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for N in $SIZES; do
	J=8
	((N > 20)) && J=16
	((N > 200)) && J=32
	say "N=$N: building the estates in $D (logs in $LOGDIR)"
	bash "$ESTATE" up "$D/root" "$N" --key-type ec --start local \
	    >"$LOGDIR/estate-root-$N.log" 2>&1 ||
	    { tail "$LOGDIR/estate-root-$N.log" >&2; exit 1; }
	bash "$ESTATE" up "$D/lock" "$N" --key-type ec --start local \
	    --locked-down >"$LOGDIR/estate-lock-$N.log" 2>&1 ||
	    { tail "$LOGDIR/estate-lock-$N.log" >&2; exit 1; }
	# the same estate straight: no ProxyJump, no database tunnel
	sed -e '/ProxyJump/d' "$D/lock/ssh_config" >"$D/lock/ssh_config.direct"
	grep -v '^pem_db_tunnel=' "$D/lock/inventory-locked.ini" \
	    >"$D/lock/inventory-direct.ini"
	: >"$LOGDIR/$N.walls"
	for r in $(seq "$ROUNDS"); do
		for way in root sudo bastion; do
			echo "$way $(run "$way" "$r")" >>"$LOGDIR/$N.walls"
		done
	done
	for way in root sudo bastion; do
		printf '%s %s\n' "$way" "$(awk -v w="$way" '$1 == w { print $2 }' \
		    "$LOGDIR/$N.walls" | median)"
	done >"$LOGDIR/$N.medians"
	echo "N=$N, -j $J, $ROUNDS rounds (walls in s):"
	for way in root sudo bastion; do
		printf '  %-8s %s  -> median %s\n' "$way" \
		    "$(awk -v w="$way" '$1 == w { printf "%s ", $2 }' \
		    "$LOGDIR/$N.walls")" \
		    "$(awk -v w="$way" '$1 == w { print $2 }' "$LOGDIR/$N.medians")"
	done
	awk '{ m[$1] = $2 } END { printf "  bastion / root %.2f, bastion / sudo %.2f, sudo / root %.2f\n",
	    m["bastion"] / m["root"], m["bastion"] / m["sudo"], m["sudo"] / m["root"] }' \
	    "$LOGDIR/$N.medians"
	bash "$ESTATE" down "$D/root" >/dev/null 2>&1 || true
	bash "$ESTATE" down "$D/lock" >/dev/null 2>&1 || true
	rm -rf "$D/root" "$D/lock" "$D"/*.state
done
