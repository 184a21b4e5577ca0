#!/usr/bin/env bash
# The main job on a built-in demo estate: a real sshd and PostgreSQL (ssl,
# client-certificate login) in a private network namespace, N stand-in
# agents that log in with their certificates; pemrotate rotates it all and
# the report is shown.  Everything is torn down at the end.
#   scripts/demo.sh [N_AGENTS]       (default 36)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-36}
"$here/scripts/setup.sh"
dir=$(mktemp -d /tmp/pemrotate-demo.XXXXXX)
chmod 755 "$dir"
trap 'bash "$here/tests/estate/estate.sh" down "$dir/estate" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

echo "demo: building an estate of $n agents in $dir/estate"
bash "$here/tests/estate/estate.sh" up "$dir/estate" "$n" >/dev/null
# shellcheck disable=SC1091
. "$dir/estate/env"

echo "demo: pemrotate rotate -i $ESTATE_INVENTORY -j 16 --key-type ec:P-256 ..."
set +e
bash "$here/tests/estate/estate.sh" exec "$dir/estate" \
    "$here/build/pemrotate" rotate -i "$ESTATE_INVENTORY" -j 16 \
    --key-type ec:P-256 --known-hosts "$ESTATE_KNOWN_HOSTS" \
    --pem-db "$PEMDB" --report "$dir/report.json" --state-dir "$dir/state" -y
rc=$?
set -e
echo "demo: exit status $rc; JSON report ($dir/report.json), first lines:"
head -c 1200 "$dir/report.json"
echo "..."
ok=0
for id in $(seq 1 "$n"); do
	if bash "$here/tests/estate/estate.sh" check-agent "$dir/estate" "$id" \
	    >/dev/null 2>&1; then
		ok=$((ok + 1))
	fi
done
echo "demo: $ok of $n agents log in with their new certificates"
exit "$rc"
