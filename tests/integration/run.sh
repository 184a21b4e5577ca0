#!/usr/bin/env bash
# Integration tests: real sshd, real PostgreSQL (ssl, client-certificate
# login), stand-in agents that really log in; the real pemrotate binary.
#   PEMROTATE=build/pemrotate bash tests/integration/run.sh
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "integration tests need root" >&2; exit 1; }
[ -x "$PEMROTATE" ] || { echo "no $PEMROTATE" >&2; exit 1; }
work=$(mktemp -d /tmp/pemrt-it.XXXXXX)
chmod 755 "$work"
estates=()
cleanup() {
	local d
	for d in "${estates[@]:-}"; do
		[ -n "$d" ] && estate_down "$d"
	done
	rm -rf "$work"
}
trap cleanup EXIT

for t in "$here"/tests/integration/${ONLY:-t_}*.sh; do
	# shellcheck disable=SC1090
	. "$t"
done
finish
