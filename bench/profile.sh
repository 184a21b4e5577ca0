#!/usr/bin/env bash
#
# bench/profile.sh [N] [PEMROTATE OPTIONS...] -- where the CPU goes during one
# pemrotate rotation of an N-agent test estate (default 200): the whole
# machine is sampled with perf (cpu-clock, 999 Hz, every CPU) while
# pemrotate runs, then the samples are summed by process name, by
# process and shared object, and (for pemrotate alone) by symbol.
#
#   bash bench/profile.sh 200
#   bash bench/profile.sh 1000 -j 32
#
# Everything on the machine is sampled, so a concurrent build shows up
# under its own names (cc1, ld, ...).  The perf data and reports stay in
# a new /tmp/pemrt-profile.XXXXXX.  Needs root and perf (linux-perf).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ESTATE=$ROOT/tests/estate/estate.sh
BUILD=$ROOT/build-bench
N=${1:-200}
shift || true
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/profile.sh [N] [OPTIONS...]" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "run as root" >&2; exit 1; }
command -v perf >/dev/null || { echo "perf is missing (apt-get install linux-perf)" >&2; exit 1; }
J=16
((N <= 20)) && J=8
((N > 200)) && J=32

OUT=$(mktemp -d /tmp/pemrt-profile.XXXXXX)
cmake -S "$ROOT/bench" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$OUT/build.log" 2>&1
cmake --build "$BUILD" -j "$(nproc)" >>"$OUT/build.log" 2>&1
PEMROTATE=${PEMROTATE:-$BUILD/parent/pemrotate}

E=$(mktemp -d /tmp/pemrt-profile-estate.XXXXXX)
cleanup() {
	bash "$ESTATE" down "$E" >/dev/null 2>&1 || true
	rm -rf "$E" "$E.state"
}
trap cleanup EXIT
echo "profile: $N agents, estate $E, output $OUT" >&2
bash "$ESTATE" up "$E" "$N" --key-type ec --start local >"$OUT/estate.log" 2>&1
# shellcheck disable=SC1091
. "$E/env"

perf record -a -e cpu-clock -F 999 -o "$OUT/perf.data" -- \
    bash "$ESTATE" exec "$E" "$PEMROTATE" rotate -i "$ESTATE_INVENTORY" \
    --known-hosts "$ESTATE_KNOWN_HOSTS" --pem-db "$PEMDB" \
    --key-type ec:P-256 -j "$J" -y --state-dir "$E.state" "$@" \
    >"$OUT/pemrotate.log" 2>"$OUT/perf-record.log"
tail -n 1 "$OUT/pemrotate.log" >&2

perf report -i "$OUT/perf.data" --stdio --sort comm --percent-limit 0.5 \
    >"$OUT/by-comm.txt" 2>/dev/null
perf report -i "$OUT/perf.data" --stdio --sort comm,dso --percent-limit 0.7 \
    >"$OUT/by-comm-dso.txt" 2>/dev/null
perf report -i "$OUT/perf.data" --stdio --comms pemrotate --sort dso,sym \
    --percent-limit 0.5 >"$OUT/pemrotate-symbols.txt" 2>/dev/null
for f in by-comm by-comm-dso pemrotate-symbols; do
	echo "==== $f"
	grep -v '^#' "$OUT/$f.txt" | sed '/^$/d' | head -n 40
done
