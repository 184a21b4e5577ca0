#!/usr/bin/env bash
#
# bench/run.sh -- benchmark pemrotate against the ways an operator would
# otherwise rotate a PEM estate's agent certificates, on real test estates
# (tests/estate/estate.sh: sshd + PostgreSQL 15 in a network namespace,
# stand-in agents that log in with their certificates).
#
#   bash bench/run.sh [--sizes "20 200 1000"] [--quick] [--logs DIR]
#                     [--tools "ansible manual manual-x25519 pemrotate max-open rsa"]
#   bash bench/run.sh --report-only --logs DIR
#   bash bench/run.sh ... --baseline REV
#
# For each size N a fresh estate is built (EC P-256 PKI, --start local) and,
# in this order (the first two sign with the estate's current CA, which
# pemrotate then replaces):
#
#   ansible    bench/ansible/rotate.yml, forks = J   (N <= 20; N < 1000
#              unless --quick)
#   manual     PEM's manual procedure as a shell loop, bench/manual.sh
#              under xargs -P J                      (N < 1000)
#   manual-x25519  the same loop with ssh/scp -o KexAlgorithms=
#              curve25519-sha256 instead of OpenSSH 9.2's default
#              sntrup761x25519 (which costs the client ~0.1 s of CPU per
#              connection here); for information      (N < 1000)
#   pemrotate  rotate --key-type ec:P-256 -j J       (always)
#              (three times: the CPU and memory targets take the median)
#   max-open   pemrotate rotate --key-type ec:P-256 -j J --max-open N+1:
#              every SSH session kept between phases (the default keeps
#              600 + N/25); time against memory            (N >= 1000)
#   bastion    pemrotate rotate --key-type ec:P-256 -j J on an estate built
#              with --locked-down (tests/estate/README.md): from the
#              controller's namespace, through the bastion (one jump
#              session), as a sudo user, the database through the PEM
#              server host; three times, against the pemrotate rows
#   rsa        pemrotate rotate --key-type rsa:4096 -j J, then the same
#              with --keygen remote (and --agent-timeout 600: every "host"
#              shares this machine's CPUs, so J concurrent RSA key
#              generations each take ~J/ncpu times as long), then
#              keygen_floor N+2 rsa:4096               (like ansible)
#
# --tools limits the run to the tools named (default: all of them).
#
# --baseline REV (a commit, built in Release from an exported copy of it)
# runs that pemrotate too, turn about with this one on the same estate
# (pemrotate, baseline, pemrotate-again2, baseline-again2, ...), each with
# its own state directory: the fair comparison of two versions on a
# machine whose load changes from minute to minute.
#
# J = 8 up to 20 agents, 16 up to 200, 32 above.  After each tool every
# agent must have a new certificate (sha256 changed), its last start must
# have been on it (agent.log), and `estate.sh check-agent` must succeed;
# a run counts only if every agent passed.  A table and PASS/FAIL per
# target of the issue end the output; logs stay in --logs DIR (default a
# new /tmp/pemrt-bench-logs.XXXXXX).
#
# CPU is also split by cpuacct cgroups (cgroup v1, when available):
#   tool      the tool's whole process tree on the controller (pemrotate;
#             ansible-playbook, its forks, ssh clients and mux masters;
#             the shell loop with its ssh, scp, openssl)
#   hosts     sshd and everything it runs on the "hosts": sessions, shells,
#             fake-pemagent, the agents' psql logins, remote openssl
#   pg        PostgreSQL (postmaster and backends; a postmaster restarted
#             by pemrotate through SSH is moved here when it appears)
#   other     the machine's CPU time (/proc/stat) less the three above:
#             work nothing here started (e.g. a concurrent build)
# Before each measurement the script waits (at most 60 s) for the machine
# to be nearly idle.
#
# Needs root, cmake, ansible-playbook (community.crypto), perl, GNU time
# (installed with apt-get if missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=$ROOT/bench
ESTATE=$ROOT/tests/estate/estate.sh
BUILD=$ROOT/build-bench
SIZES="20 200 1000"
QUICK=0
LOGDIR=
TOOLS="ansible manual manual-x25519 pemrotate max-open bastion rsa"
REPORT_ONLY=0
BASELINE=
QUIESCE_MAX=${QUIESCE_MAX:-60}
TIME=/usr/bin/time

usage() {
	echo "usage: bench/run.sh [--sizes \"20 200 1000\"] [--quick] [--logs DIR]" >&2
	echo "                    [--tools \"ansible manual manual-x25519 pemrotate max-open bastion rsa\"]" >&2
	echo "       bench/run.sh --report-only --logs DIR" >&2
	echo "       (either with --baseline REV: that commit too, turn about)" >&2
	exit "${1:-2}"
}

while (($#)); do
	case $1 in
	--sizes) SIZES=${2:-}; shift 2 || usage ;;
	--quick) QUICK=1; shift ;;
	--logs) LOGDIR=${2:-}; shift 2 || usage ;;
	--tools) TOOLS=${2:-}; shift 2 || usage ;;
	--report-only) REPORT_ONLY=1; shift ;;
	--baseline) BASELINE=${2:-}; shift 2 || usage ;;
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
done
for t in $TOOLS; do
	[[ " ansible manual manual-x25519 pemrotate max-open bastion rsa " == *" $t "* ]] ||
	    { echo "--tools: ansible manual manual-x25519 pemrotate max-open bastion rsa" >&2; exit 2; }
done
want() {
	[[ " $TOOLS " == *" $1 "* ]]
}
for n in $SIZES; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "--sizes: positive integers" >&2; exit 2; }
done

say() {
	printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

die() {
	say "error: $*"
	exit 1
}

# ---- report -------------------------------------------------------------------

# report: the table, pemrotate's phases, the calibration and PASS/FAIL per
# target, from $LOGDIR (results.tsv: one row per measurement, appended;
# for each size and tool the last row counts for the targets).  "other s"
# gets a "!" when it is over 1 s and 10% of the machine's CPU time: something
# outside the benchmark disturbed that measurement.
report() {

echo
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "pemrotate measured: $(cut -f15 "$RESULTS" | sort -u | tr '\n' ' '); logs: $LOGDIR"
echo
awk -F'\t' '
function mb(kb) { return kb == "-" ? "-" : sprintf("%.1f", kb / 1024) }
{
	row[NR] = $0
	if ($2 == "pemrotate") ec[$1] = $4
	if ($2 == "floor-rsa4096") floor[$1] = $4
}
END {
	printf "%5s  %-25s %3s %8s %8s %8s %8s %8s %8s %8s %-11s %7s %7s %7s %8s %7s %5s\n",
	    "N", "tool", "-j", "wall s", "pr CPU s", "ms/agent", "RSS MB",
	    "mem tgt", "x pr-ec", "x floor", "all ok", "tool s", "hosts s",
	    "pg s", "other s ", "mach s", "load"
	for (i = 1; i <= NR; i++) {
		split(row[i], f, "\t")
		n = f[1]; tool = f[2]
		cpu = "-"; per = "-"; tgt = "-"
		if (f[5] != "-") {
			cpu = sprintf("%.2f", f[5] + f[6])
			per = sprintf("%.2f", (f[5] + f[6]) * 1000 / n)
			tgt = sprintf("%.1f", 50 + 10 * n / 1024)
		}
		x = (tool != "pemrotate" && tool != "floor-rsa4096" && ec[n] > 0) ? \
		    sprintf("%.2f", f[4] / ec[n]) : (tool == "pemrotate" ? "1.00" : "-")
		xf = (tool ~ /^pemrotate-rsa/ && floor[n] > 0) ? \
		    sprintf("%.2f", f[4] / floor[n]) : "-"
		ok = tool == "floor-rsa4096" ? "-" : \
		    ((f[8] == 0 && f[9] == 0) ? "yes" : sprintf("NO(%d,rc%d)", f[9], f[8]))
		other = sprintf("%.2f%s", f[13] - f[10] - f[11] - f[12],
		    (f[13] - f[10] - f[11] - f[12] > 0.1 * f[13] &&
		    f[13] - f[10] - f[11] - f[12] > 1) ? "!" : " ")
		printf "%5s  %-25s %3s %8s %8s %8s %8s %8s %8s %8s %-11s %7s %7s %7s %8s %7s %5s\n",
		    n, tool, f[3], f[4], cpu, per, mb(f[7]), tgt, x, xf, ok,
		    f[10], f[11], f[12], other, f[13], f[14]
	}
}' "$RESULTS" | tee "$LOGDIR/table.txt"
echo
# Where pemrotate's wall time went, from the times its log lines appeared.
echo "pemrotate phases (s): preflight = until PEM's job is disabled; push includes each agent's start"
printf '%5s  %-25s %9s %6s %7s %8s %6s %9s %7s\n' N tool preflight stop server restart push finalize total
awk -F'\t' '$2 ~ /^pemrotate/ { print $1 "-" $2 }' "$RESULTS" | while read -r b; do
	f=$LOGDIR/$b.log
	[[ -e $f ]] || continue
	awk -v n="${b%%-*}" -v tool="${b#*-}" '
	function d(a, b) { return (a == "" || b == "") ? "-" : sprintf("%.2f", b - a) }
	/is disabled for the run/ { pre = $1 }
	/stopping the PEM server host/ { st = $1 }
	/rotating the PEM server.s files/ { sv = $1 }
	/restarting PostgreSQL/ { rs = $1 }
	/pushing new keys/ { pu = $1 }
	/finalizing:/ { fi = $1 }
	/is enabled again/ { en = $1 }
	{ last = $1 }
	END { printf "%5s  %-25s %9s %6s %7s %8s %6s %9s %7s\n",
	    n, tool, d(0, pre), d(st, sv), d(sv, rs), d(rs, pu), d(pu, fi),
	    d(fi, en), d(0, last) }' "$f"
done | tee "$LOGDIR/phases.txt"
echo
# rsa:4096 against the key-generation floor of the very keys it made:
# pemrotate logs the thread CPU time its key generation took (the keygen
# pool and any key made by a waiting push); that over the CPUs is the
# least time this machine needs for those keys, free of the variance of
# RSA prime search that separate keygen_floor runs have.
echo "rsa:4096 against its own keys: wall / (key-generation CPU / CPUs)"
printf '%5s  %-25s %8s %8s %11s %9s %8s\n' N tool "wall s" keys "keygen s" "floor s" x
awk -F'\t' '$2 ~ /^pemrotate-rsa/ { print $1 "\t" $2 "\t" $4 }' "$RESULTS" |
while IFS=$'\t' read -r n tool wall; do
	f=$LOGDIR/$n-$tool.log
	[[ -e $f ]] || continue
	sed -n 's/.*key generation: \([0-9]*\) key(s) of [0-9]* made, \([0-9.]*\) s of CPU (\([0-9.]*\) s on.*/\1 \2 \3/p' "$f" |
	    tail -n 1 | while read -r keys cpu fl; do
		awk -v n="$n" -v t="$tool" -v w="$wall" -v k="$keys" -v c="$cpu" -v f="$fl" \
		    'BEGIN { printf "%5s  %-25s %8.2f %8d %11.2f %9.2f %8s\n", n, t, w, k, c, f, (f > 0 ? sprintf("%.2f", w / f) : "-") }'
	done
done | tee "$LOGDIR/ownfloor.txt"
echo
if [[ -s $LOGDIR/calibration.tsv ]]; then
	cut -f2- "$LOGDIR/calibration.tsv" | sed 's/^/calibration: /'
	echo
fi

# PASS/FAIL per target of the issue.
awk -F'\t' -v sizes="$SIZES" '
{
	k = $1 SUBSEP $2
	wall[k] = $4; okk[k] = ($8 == 0 && $9 == 0)
	if ($5 != "-") { cpu[k] = $5 + $6; rss[k] = $7 }
}
function have(n, t) { return ((n SUBSEP t) in wall) }
# the median of the runs of pemrotate (ec) at n: 1 to 3 of them
function med3(a, n,    v, k, c, t) {
	c = 0
	if ((n SUBSEP "pemrotate") in a) v[++c] = a[n SUBSEP "pemrotate"]
	if ((n SUBSEP "pemrotate-again2") in a) v[++c] = a[n SUBSEP "pemrotate-again2"]
	if ((n SUBSEP "pemrotate-again3") in a) v[++c] = a[n SUBSEP "pemrotate-again3"]
	for (k = 1; k < c; k++) for (t = k + 1; t <= c; t++)
		if (v[t] < v[k]) { x = v[k]; v[k] = v[t]; v[t] = x }
	return c == 3 ? v[2] : (c == 2 ? (v[1] + v[2]) / 2 : v[1])
}
function runs3(a, n, scale, fmt,    s, t, k) {
	s = ""
	split("pemrotate pemrotate-again2 pemrotate-again3", t, " ")
	for (k = 1; k <= 3; k++)
		if ((n SUBSEP t[k]) in a)
			s = s (s == "" ? "" : ", ") sprintf(fmt, a[n SUBSEP t[k]] * scale)
	return s
}
function verdict(c) { return c ? "PASS" : "FAIL" }
function ratio_target(name, n, other, want,    a, p) {
	a = n SUBSEP other; p = n SUBSEP "pemrotate"
	if (!have(n, other) || !have(n, "pemrotate")) {
		printf "SKIP  %s (not measured at %d agents)\n", name, n
		return
	}
	if (!okk[a] || !okk[p]) {
		printf "FAIL  %s: a run did not rotate every agent\n", name
		return
	}
	printf "%s  %s: %.1fx (%s %.2f s / pemrotate %.2f s)\n",
	    verdict(wall[a] / wall[p] >= want), name, wall[a] / wall[p],
	    other, wall[a], wall[p]
}
END {
	ns = split(sizes, size, " ")
	ratio_target(">= 25x faster than Ansible at 20 agents, -j 8", 20, "ansible", 25)
	ratio_target(">= 5x faster than the manual shell loop at 200 agents, -j 16", 200, "manual", 5)
	k = 1000 SUBSEP "pemrotate"
	if (k in wall)
		printf "%s  1000 agents in <= 60 s: %.2f s%s\n",
		    verdict(wall[k] <= 60 && okk[k]), wall[k], okk[k] ? "" : " (not every agent rotated)"
	else
		print "SKIP  1000 agents in <= 60 s (not measured)"
	for (i = 1; i <= ns; i++) {
		n = size[i]
		k = n SUBSEP "pemrotate"
		if (!(k in cpu)) continue
		c = med3(cpu, n); m = med3(rss, n)
		printf "%s  pemrotate CPU <= 5 ms/agent at %d agents: %.2f ms/agent (median of %s)\n",
		    verdict(c * 1000 / n <= 5), n, c * 1000 / n, runs3(cpu, n, 1000 / n, "%.2f")
		printf "%s  peak memory <= 50 MB + 10 KB x %d = %.1f MB: %.1f MB (median of %s)\n",
		    verdict(m <= 50 * 1024 + 10 * n), n,
		    50 + 10 * n / 1024, m / 1024, runs3(rss, n, 1 / 1024, "%.1f")
	}
	while ((getline line < ownfile) > 0) {
		split(line, o, " ")
		if (o[2] == "pemrotate-rsa4096" && o[6] > 0) ownf[o[1] SUBSEP "own"] = o[6]
	}
	for (i = 1; i <= ns; i++) {
		n = size[i]
		f = n SUBSEP "floor-rsa4096"
		if (!(f in wall)) continue
		k = n SUBSEP "pemrotate-rsa4096"
		if (k in wall)
			printf "%s  rsa:4096 wall <= 1.2x key-generation floor at %d agents: %.2fx (%.2f s / %.2f s)%s\n",
			    verdict(wall[k] <= 1.2 * wall[f] && okk[k]), n,
			    wall[k] / wall[f], wall[k], wall[f], okk[k] ? "" : " (not every agent rotated)"
		if (k in wall && (n SUBSEP "own") in ownf)
			printf "%s  rsa:4096 wall <= 1.2x the floor of its own keys at %d agents: %.2fx (%.2f s / %.2f s)\n",
			    verdict(wall[k] <= 1.2 * ownf[n SUBSEP "own"] && okk[k]), n,
			    wall[k] / ownf[n SUBSEP "own"], wall[k], ownf[n SUBSEP "own"]
		k = n SUBSEP "pemrotate-rsa4096-remote"
		if (k in wall)
			printf "info  rsa:4096 --keygen remote at %d agents: %.2fx the floor (%.2f s)%s\n",
			    n, wall[k] / wall[f], wall[k], okk[k] ? "" : " (not every agent rotated)"
	}
}' ownfile="$LOGDIR/ownfloor.txt" "$RESULTS" | tee "$LOGDIR/targets.txt"
}

[[ $(id -u) -eq 0 ]] || die "run as root (network namespaces, sshd, PostgreSQL)"
if [[ ! -x $TIME ]]; then
	say "installing GNU time"
	apt-get install -y time >/dev/null 2>&1 ||
	    { apt-get update >/dev/null && apt-get install -y time >/dev/null; }
fi
for c in cmake perl openssl ssh scp; do
	command -v "$c" >/dev/null || die "$c is missing"
done
if want ansible; then
	command -v ansible-playbook >/dev/null ||
	    die "ansible-playbook is missing"
fi

if [[ -z $LOGDIR ]]; then
	LOGDIR=$(mktemp -d /tmp/pemrt-bench-logs.XXXXXX)
else
	mkdir -p "$LOGDIR"
	LOGDIR=$(cd "$LOGDIR" && pwd)
fi
RESULTS=$LOGDIR/results.tsv
cd "$LOGDIR"	# no ansible.cfg from the caller's directory
if ((REPORT_ONLY)); then
	[[ -s $RESULTS ]] || die "$RESULTS: no results"
	report
	exit 0
fi

# ---- build ------------------------------------------------------------------

# What is measured: the commit, and whether the C sources differ from it.
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
if [[ -n $(git -C "$ROOT" status --porcelain -- . ':!bench' ':!docs' 2>/dev/null) ]]; then
	COMMIT+="+uncommitted"
fi
say "building pemrotate $COMMIT and keygen_floor (Release) in $BUILD"
cmake -S "$BENCH" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
    >"$LOGDIR/build.log" 2>&1 &&
    cmake --build "$BUILD" -j "$(nproc)" >>"$LOGDIR/build.log" 2>&1 ||
    { tail -n 30 "$LOGDIR/build.log" >&2; die "build failed"; }
PEMROTATE=${PEMROTATE:-$BUILD/parent/pemrotate}
FLOOR=$BUILD/keygen_floor
[[ -x $PEMROTATE && -x $FLOOR ]] || die "build produced no binaries"
if [[ -n $BASELINE ]]; then
	BASE_COMMIT=$(git -C "$ROOT" rev-parse --short "$BASELINE^{commit}") ||
	    die "--baseline: no commit $BASELINE"
	BASE_SRC=$BUILD-base-src
	rm -rf "$BASE_SRC" "$BUILD-base"
	mkdir -p "$BASE_SRC"
	git -C "$ROOT" archive "$BASE_COMMIT" | tar -x -C "$BASE_SRC"
	say "building the baseline pemrotate $BASE_COMMIT (Release) in $BUILD-base"
	cmake -S "$BASE_SRC" -B "$BUILD-base" -DCMAKE_BUILD_TYPE=Release \
	    -DPEMROTATE_TESTS=OFF >>"$LOGDIR/build.log" 2>&1 &&
	    cmake --build "$BUILD-base" -j "$(nproc)" --target pemrotate \
	    >>"$LOGDIR/build.log" 2>&1 ||
	    { tail -n 30 "$LOGDIR/build.log" >&2; die "baseline build failed"; }
	BASE_BIN=$BUILD-base/pemrotate
	[[ -x $BASE_BIN ]] || die "the baseline build produced no pemrotate"
fi

# ---- CPU accounting (cpuacct cgroups) ---------------------------------------

CG=/sys/fs/cgroup/cpuacct/pemrt-bench-$$
if mkdir "$CG" 2>/dev/null; then
	mkdir "$CG/tool" "$CG/hosts" "$CG/pg"
else
	CG=
	say "no cgroup v1 cpuacct: tool/hosts/pg CPU columns will be empty"
fi

cg_usage() {	# cg_usage NAME: CPU nanoseconds of the group so far
	if [[ -n $CG ]]; then cat "$CG/$1/cpuacct.usage"; else echo 0; fi
}

cg_put() {	# cg_put NAME PID...
	local p
	[[ -n $CG ]] || return 0
	for p in "$@"; do
		echo "$p" >"$CG/$1/cgroup.procs" 2>/dev/null || true
	done
}

cg_remove() {
	local g p
	[[ -n $CG && -d $CG ]] || return 0
	for g in tool hosts pg; do
		[[ -d $CG/$g ]] || continue
		while read -r p; do
			echo "$p" >/sys/fs/cgroup/cpuacct/cgroup.procs 2>/dev/null || true
		done <"$CG/$g/cgroup.procs"
		rmdir "$CG/$g" 2>/dev/null || true
	done
	rmdir "$CG" 2>/dev/null || true
}

# in_tool CMD...: run CMD (and everything it starts) in the tool group.
in_tool() {
	if [[ -n $CG ]]; then
		bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/tool" "$@"
	else
		"$@"
	fi
}

machine_busy() {	# CPU seconds of the whole machine since boot, in ns
	awk '/^cpu / { printf "%.0f\n", ($2 + $3 + $4 + $7 + $8 + $9) * 1e7 }' /proc/stat
}

# quiesce: wait (at most QUIESCE_MAX, 60 s) until the machine is nearly idle (under 10%
# of its CPUs busy over one second), so that work nothing here started (a
# build, a test run) disturbs the measurement as little as possible.  What
# still runs shows in the "other s" column.
quiesce() {
	local i a b lim
	lim=$(($(nproc) * 100000000))
	for ((i = 0; i < QUIESCE_MAX; i++)); do
		a=$(machine_busy)
		sleep 1
		b=$(machine_busy)
		((b - a < lim)) && return 0
	done
	say "the machine stayed busy for $QUIESCE_MAX s; measuring anyway"
}

# ---- estates ----------------------------------------------------------------

E=
WATCH_PID=

teardown() {
	if [[ -n $WATCH_PID ]]; then
		kill "$WATCH_PID" 2>/dev/null || true
		wait "$WATCH_PID" 2>/dev/null || true
		WATCH_PID=
	fi
	if [[ -n $E ]]; then
		bash "$ESTATE" down "$E" >/dev/null 2>&1 || true
		rm -rf "$E" "$E".*
		E=
	fi
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	teardown
	cg_remove
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The estate's processes: PostgreSQL to pg, sshd (and anything else) to hosts.
adopt_estate() {
	local p
	[[ -n $CG ]] || return 0
	for p in $(ip netns pids "$ESTATE_NS"); do
		if [[ $(cat "/proc/$p/comm" 2>/dev/null) == postgres ]]; then
			cg_put pg "$p"
		else
			cg_put hosts "$p"
		fi
	done
}

# watch_postmaster: while a tool runs, move a postmaster restarted through
# SSH (hence born in the hosts group) and its first children to pg.
watch_postmaster() {
	local pid last=
	[[ -n $CG ]] || return 0
	(
		while :; do
			pid=$(head -n 1 "$ESTATE_PGDATA/postmaster.pid" 2>/dev/null) || pid=
			if [[ -n $pid && $pid != "$last" ]]; then
				cg_put pg "$pid" $(pgrep -P "$pid" 2>/dev/null)
				last=$pid
			fi
			sleep 0.1
		done
	) &
	WATCH_PID=$!
}

estate_up() {	# estate_up N [--locked-down]
	local t0=$SECONDS
	E=$(mktemp -d /tmp/pemrt-bench.XXXXXX)
	say "N=$1: building the estate in $E ${2:-}"
	bash "$ESTATE" up "$E" "$1" --key-type ec --start local ${2:+"$2"} \
	    >"$LOGDIR/estate-$1.log" 2>&1 ||
	    { cat "$LOGDIR/estate-$1.log" >&2; die "estate up failed"; }
	# shellcheck disable=SC1091
	. "$E/env"
	adopt_estate
	# ID HOST ADDR, one agent a line, from the inventory's [pem_agents]
	awk '/^\[/ { s = ($0 == "[pem_agents]"); next }
	    s && NF { a = ""; for (i = 2; i <= NF; i++)
	            if ($i ~ /^ansible_host=/) a = substr($i, 14)
	        id = ($1 == "pemserver") ? 1 : substr($1, 6)
	        print id, $1, a }' "$ESTATE_INVENTORY" >"$E.agents"
	[[ $(wc -l <"$E.agents") -eq $1 ]] || die "inventory: expected $1 agents"
	while read -r id host _; do
		echo "$E/hosts/$host/root/.pem/agent$id.crt"
	done <"$E.agents" >"$E.crts"
	while read -r _ host _; do
		echo "$E/hosts/$host/agent.log"
	done <"$E.agents" >"$E.logs"
	say "N=$1: estate up in $((SECONDS - t0)) s"
}

crt_shas() {
	xargs sha256sum <"$E.crts" | cut -d' ' -f1
}

# verify TAG BEFORE: print one line per failed agent; every agent must have
# a new certificate, have been started last on it, and log in with it.
verify() {
	local tag=$1 before=$2
	local after=$LOGDIR/$tag.after
	crt_shas >"$after"
	xargs tail -q -n 1 <"$E.logs" >"$LOGDIR/$tag.lastlog"
	paste -d' ' "$E.agents" "$before" "$after" "$LOGDIR/$tag.lastlog" |
	    awk '{ id = $1; b = $4; a = $5
	        if (a == b) print "agent" id ": certificate unchanged"
	        else if (!($7 == "start" && $8 == "ok" && $9 == a))
	            print "agent" id ": last start not on the new certificate:",
	                $6, $7, $8, $9 }'
	cut -d' ' -f1 "$E.agents" | xargs -P 8 -I{} sh -c \
	    'bash "$0" check-agent "$1" {} >/dev/null 2>&1 ||
	     echo "agent{}: check-agent failed (cannot log in)"' "$ESTATE" "$E"
}

# ---- one measured run ---------------------------------------------------------

N=0
J=0

# measure TOOL CMD...: time CMD, split its CPU, verify the estate, record.
# A file $LOGDIR/$N-TOOL.time written by /usr/bin/time inside CMD (if any)
# gives pemrotate's own user+sys CPU and peak RSS.
measure() {
	local tool=$1 tag=$N-$1 t0 t1 rc c0 c1 h0 h1 p0 p1 m0 m1 load nfail
	local tf=$LOGDIR/$N-$1.time us=- sy=- rss=-
	shift
	crt_shas >"$LOGDIR/$tag.before"
	rm -f "$tf"
	quiesce
	load=$(cut -d' ' -f1 /proc/loadavg)
	say "N=$N: $tool -j $J (load $load)"
	watch_postmaster
	c0=$(cg_usage tool) h0=$(cg_usage hosts) p0=$(cg_usage pg)
	m0=$(machine_busy)
	t0=$(date +%s.%N)
	set +e
	"$@" 2>&1 | perl -MTime::HiRes=time -e \
	    '$t = time; $| = 1; while (<STDIN>) { printf "%8.3f %s", time - $t, $_ }' \
	    >"$LOGDIR/$tag.log"
	rc=${PIPESTATUS[0]}
	set -e
	t1=$(date +%s.%N)
	c1=$(cg_usage tool) h1=$(cg_usage hosts) p1=$(cg_usage pg)
	m1=$(machine_busy)
	kill "$WATCH_PID" 2>/dev/null || true
	wait "$WATCH_PID" 2>/dev/null || true
	WATCH_PID=
	if [[ -s $tf ]]; then
		read -r _ us sy rss < <(tail -n 1 "$tf")
	fi
	# pemrotate's own getrusage at its end: the same CPU times to the
	# millisecond (GNU time prints them rounded to 10 ms each, which at 20
	# agents is +-1 ms per agent)
	local ru
	ru=$(sed -n 's/.*resources: [0-9.]* s of CPU (\([0-9.]*\) user, \([0-9.]*\) system).*/\1 \2/p' \
	    "$LOGDIR/$tag.log" | tail -n 1)
	if [[ -n $ru ]]; then
		read -r us sy <<<"$ru"
	fi
	verify "$tag" "$LOGDIR/$tag.before" >"$LOGDIR/$tag.failures"
	nfail=$(cut -d: -f1 "$LOGDIR/$tag.failures" | sort -u | wc -l)
	if ((nfail > 0 || rc != 0)); then
		say "N=$N: $tool: exit $rc, $nfail agent(s) failed:"
		head -n 20 "$LOGDIR/$tag.failures" >&2
		tail -n 5 "$LOGDIR/$tag.log" >&2
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
	    "$N" "$tool" "$J" \
	    "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" \
	    "$us" "$sy" "$rss" "$rc" "$nfail" \
	    "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" \
	    "$(awk -v a="$h0" -v b="$h1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" \
	    "$(awk -v a="$p0" -v b="$p1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" \
	    "$(awk -v a="$m0" -v b="$m1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" \
	    "$load" "$COMMIT" >>"$RESULTS"
	say "N=$N: $tool: $(tail -n 1 "$RESULTS" | cut -f4) s, exit $rc, $nfail failed"
}

copy_ca() {	# copy_ca DIR: the estate's current CA to a controller dir
	rm -rf "$1"
	mkdir -m 0700 "$1"
	cp "$ESTATE_PGDATA/ca_certificate.crt" "$ESTATE_PGDATA/ca_key.key" "$1/"
}

run_ansible() {
	copy_ca "$E.ca"
	rm -rf "$E.work" "$E.cp"
	mkdir -m 0700 "$E.work" "$E.cp"
	measure ansible in_tool env ANSIBLE_HOST_KEY_CHECKING=True \
	    ANSIBLE_SSH_ARGS="-o UserKnownHostsFile=$ESTATE_KNOWN_HOSTS -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPersist=60s" \
	    ANSIBLE_SSH_CONTROL_PATH_DIR="$E.cp" \
	    bash "$ESTATE" exec "$E" ansible-playbook -i "$ESTATE_INVENTORY" \
	    -f "$J" "$BENCH/ansible/rotate.yml" -e "estate_dir=$E" \
	    -e "ca_dir=$E.ca" -e "work_dir=$E.work"
}

run_manual() {	# run_manual TOOLNAME [SSH OPTIONS]
	copy_ca "$E.ca"
	rm -rf "$E.work"
	mkdir -m 0700 "$E.work"
	measure "$1" in_tool env CA_DIR="$E.ca" WORK_DIR="$E.work" \
	    MANUAL_SSH_OPTS="${2:-}" \
	    bash "$ESTATE" exec "$E" xargs -P "$J" -n 3 sh "$BENCH/manual.sh" \
	    <"$E.agents"
}

run_pemrotate() {	# run_pemrotate TOOLNAME KEYTYPE [ARGS...]
	local tool=$1 kt=$2
	shift 2
	measure "$tool" in_tool bash "$ESTATE" exec "$E" \
	    "$TIME" -f '%e %U %S %M' -o "$LOGDIR/$N-$tool.time" \
	    "$PEMROTATE" rotate -i "$ESTATE_INVENTORY" \
	    --known-hosts "$ESTATE_KNOWN_HOSTS" --pem-db "$PEMDB" \
	    --key-type "$kt" -j "$J" -y --state-dir "$E.state" "$@"
}

run_bastion() {	# run_bastion TOOLNAME: through the bastion, with sudo
	measure "$1" in_tool bash "$ESTATE" ctl "$E" \
	    "$TIME" -f '%e %U %S %M' -o "$LOGDIR/$N-$1.time" \
	    "$PEMROTATE" rotate -i "$ESTATE_LOCKED_INVENTORY" \
	    --ssh-config "$ESTATE_SSH_CONFIG" --pem-db "$PEMDB" \
	    --key-type ec:P-256 -j "$J" -y --state-dir "$E.state"
}

run_baseline() {	# run_baseline TOOLNAME: the --baseline binary
	[[ -n $BASELINE ]] || return 0
	PEMROTATE=$BASE_BIN COMMIT=$BASE_COMMIT run_pemrotate "$1" ec:P-256 \
	    --state-dir "$E.state-base"
}

run_floor() {	# keygen_floor N+2 rsa:4096, recorded like a tool
	local t0 t1 out c0 c1 m0 m1 load
	quiesce
	load=$(cut -d' ' -f1 /proc/loadavg)
	say "N=$N: keygen_floor $((N + 2)) rsa:4096 (load $load)"
	c0=$(cg_usage tool) m0=$(machine_busy)
	t0=$(date +%s.%N)
	out=$(in_tool "$FLOOR" $((N + 2)) rsa:4096)
	t1=$(date +%s.%N)
	c1=$(cg_usage tool) m1=$(machine_busy)
	echo "$out" >"$LOGDIR/$N-floor.log"
	printf '%s\tfloor-rsa4096\t%s\t%s\t-\t-\t-\t0\t0\t%s\t0.00\t0.00\t%s\t%s\t%s\n' \
	    "$N" "$(cut -d' ' -f4 <<<"$out")" "$(cut -d' ' -f1 <<<"$out")" \
	    "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" \
	    "$(awk -v a="$m0" -v b="$m1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" \
	    "$load" "$COMMIT" >>"$RESULTS"
	say "N=$N: floor $(cut -d' ' -f1 <<<"$out") s"
}

# calibrate: what one agent login (fake-pemagent check: sh + psql with a
# client certificate, and the PostgreSQL backend serving it) and one plain
# OpenSSH command (ssh HOST true) cost, over min(N, 200) agents.
calibrate() {
	local m=$((N < 200 ? N : 200)) c0 c1 h0 h1 p0 p1 t0 t1
	head -n "$m" "$E.agents" >"$E.cal"
	c0=$(cg_usage tool) p0=$(cg_usage pg) t0=$(date +%s.%N)
	while read -r _ host _; do
		echo "$E/hosts/$host/etc/agent.cfg"
	done <"$E.cal" | in_tool bash "$ESTATE" exec "$E" xargs -P 8 -n 1 \
	    "$E/bin/fake-pemagent" check >/dev/null 2>&1 || true
	c1=$(cg_usage tool) p1=$(cg_usage pg) t1=$(date +%s.%N)
	awk -v n="$m" -v c="$((c1 - c0))" -v p="$((p1 - p0))" -v a="$t0" \
	    -v b="$t1" 'BEGIN { printf "calibration\t%d\tlogin\t%.2f ms client (sh+psql)\t%.2f ms postgres\t%.2f s wall\n",
	        n, c / n / 1e6, p / n / 1e6, b - a }' >>"$LOGDIR/calibration.tsv"
	for kex in default curve25519-sha256; do
		c0=$(cg_usage tool) h0=$(cg_usage hosts) t0=$(date +%s.%N)
		# shellcheck disable=SC2046 # no option, or one as two words
		cut -d' ' -f3 "$E.cal" | in_tool bash "$ESTATE" exec "$E" \
		    xargs -P 8 -I{} ssh -n -o UserKnownHostsFile="$ESTATE_KNOWN_HOSTS" \
		    -o StrictHostKeyChecking=yes -o BatchMode=yes \
		    $([[ $kex == default ]] || echo "-o KexAlgorithms=$kex") \
		    -i "$ESTATE_SSH_KEY" pemrt@{} true >/dev/null 2>&1 || true
		c1=$(cg_usage tool) h1=$(cg_usage hosts) t1=$(date +%s.%N)
		awk -v n="$m" -v c="$((c1 - c0))" -v h="$((h1 - h0))" -v a="$t0" \
		    -v b="$t1" -v N="$N" -v k="$kex" 'BEGIN { printf "calibration\t%d\tssh true (kex %s)\t%.2f ms client (OpenSSH)\t%.2f ms sshd\t%.2f s wall (N=%d)\n",
		        n, k, c / n / 1e6, h / n / 1e6, b - a, N }' >>"$LOGDIR/calibration.tsv"
	done
}

# ---- the benchmark ------------------------------------------------------------

jobs_for() {
	if (($1 <= 20)); then echo 8; elif (($1 <= 200)); then echo 16; else echo 32; fi
}

slow_tools() {	# ansible and the rsa:4096 runs: always at <= 20, never at 1000
	(($1 <= 20)) || { (($1 < 1000)) && ((QUICK == 0)); }
}

say "logs in $LOGDIR; pemrotate $COMMIT ($PEMROTATE)"
touch "$LOGDIR/calibration.tsv"
for N in $SIZES; do
	J=$(jobs_for "$N")
	estate_up "$N"
	if slow_tools "$N" && want ansible; then
		run_ansible
	fi
	if ((N < 1000)) && want manual; then
		run_manual manual
	fi
	if ((N < 1000)) && want manual-x25519; then
		run_manual manual-x25519 "-o KexAlgorithms=curve25519-sha256"
	fi
	if want pemrotate; then
		run_pemrotate pemrotate ec:P-256
		run_baseline baseline
		# twice more: CPU time on this VM varies by 10-20 % from one
		# run to the next; the CPU and memory targets take the median
		run_pemrotate pemrotate-again2 ec:P-256
		run_baseline baseline-again2
		run_pemrotate pemrotate-again3 ec:P-256
		run_baseline baseline-again3
		calibrate
	fi
	if ((N >= 1000)) && want max-open; then
		run_pemrotate "pemrotate-all-sessions" ec:P-256 \
		    --max-open $((N + 1))
	fi
	if slow_tools "$N" && want rsa; then
		run_pemrotate pemrotate-rsa4096 rsa:4096
		run_pemrotate pemrotate-rsa4096-remote rsa:4096 --keygen remote \
		    --agent-timeout 600
		run_floor
	fi
	if want bastion; then
		teardown
		estate_up "$N" --locked-down
		run_bastion bastion
		run_bastion bastion-again2
		run_bastion bastion-again3
	fi
	teardown
done

report
